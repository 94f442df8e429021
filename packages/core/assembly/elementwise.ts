// gradgraph WebAssembly SIMD elementwise kernels (AssemblyScript), f32 (f32x4) and f64 (f64x2).
//
// Calling convention (see packages/core/src/kernels/runtime/wasm-ops.ts): the caller copies operands into
// linear memory, passes byte pointers and element counts/strides, and copies results back. No
// kernel keeps state between calls or touches memory outside the pointers it is given, so the
// module also works with shared, imported memory.
//
// Binary ops are one strided 2-D kernel: out[r·n + j] = a[r·aRow + j·aCol] ⊕ b[r·bRow + j·bCol]
// with aCol, bCol ∈ {0, 1}, so a bias add [rows, n] + [n] is one call. Op codes:
//   0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum (NaN-propagating; −0 < +0, as Math.max/min).
// Unary op codes: 0 neg, 1 abs, 2 relu, 3 exp, 4 sigmoid, 5 tanh, 6 sqrt, 7 log.
// Gradient op codes (out from x or y and the upstream gradient g):
//   0 relu backward  g·[x > 0] (a product with a 0/1 mask, as the TypeScript op: NaN·0 stays NaN)
//   1 sigmoid backward  g·y·(1 − y)   2 tanh backward  g·(1 − y²)
// The f32 sigmoid/tanh gradients and axpy compute in f64 and round once, exactly as the
// TypeScript kernels (JavaScript arithmetic is double) do, so both give identical results.
// Scalar tails run the same SIMD code on a splat and take lane 0.

import { exp32, exp64, log32, log64, sigmoid32, sigmoid64, tanh32, tanh64 } from "./vmath";

// @ts-ignore: decorator
@inline function bin32(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  if (op == 3) return f32x4.div(a, b);
  if (op == 4) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

// @ts-ignore: decorator
@inline function bin64(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f64x2.add(a, b);
  if (op == 1) return f64x2.sub(a, b);
  if (op == 2) return f64x2.mul(a, b);
  if (op == 3) return f64x2.div(a, b);
  if (op == 4) return f64x2.max(a, b);
  return f64x2.min(a, b);
}

// @ts-ignore: decorator
@inline function binRows32(
  op: i32,
  rows: i32,
  n: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  out: usize,
): void {
  const n4 = n & ~3;
  for (let r = 0; r < rows; r++) {
    const pa = a + ((<usize>(r * aRow)) << 2);
    const pb = b + ((<usize>(r * bRow)) << 2);
    const po = out + ((<usize>(r * n)) << 2);
    if (aCol != 0 && bCol != 0) {
      for (let j = 0; j < n4; j += 4) {
        const o = (<usize>j) << 2;
        v128.store(po + o, bin32(op, v128.load(pa + o), v128.load(pb + o)));
      }
      for (let j = n4; j < n; j++) {
        const o = (<usize>j) << 2;
        store<f32>(po + o, f32x4.extract_lane(bin32(op, v128.load32_splat(pa + o), v128.load32_splat(pb + o)), 0));
      }
    } else if (aCol != 0) {
      const vb = v128.load32_splat(pb);
      for (let j = 0; j < n4; j += 4) {
        const o = (<usize>j) << 2;
        v128.store(po + o, bin32(op, v128.load(pa + o), vb));
      }
      for (let j = n4; j < n; j++) {
        const o = (<usize>j) << 2;
        store<f32>(po + o, f32x4.extract_lane(bin32(op, v128.load32_splat(pa + o), vb), 0));
      }
    } else if (bCol != 0) {
      const va = v128.load32_splat(pa);
      for (let j = 0; j < n4; j += 4) {
        const o = (<usize>j) << 2;
        v128.store(po + o, bin32(op, va, v128.load(pb + o)));
      }
      for (let j = n4; j < n; j++) {
        const o = (<usize>j) << 2;
        store<f32>(po + o, f32x4.extract_lane(bin32(op, va, v128.load32_splat(pb + o)), 0));
      }
    } else {
      const v = bin32(op, v128.load32_splat(pa), v128.load32_splat(pb));
      for (let j = 0; j < n4; j += 4) v128.store(po + ((<usize>j) << 2), v);
      for (let j = n4; j < n; j++) store<f32>(po + ((<usize>j) << 2), f32x4.extract_lane(v, 0));
    }
  }
}

// @ts-ignore: decorator
@inline function binRows64(
  op: i32,
  rows: i32,
  n: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  out: usize,
): void {
  const n2 = n & ~1;
  for (let r = 0; r < rows; r++) {
    const pa = a + ((<usize>(r * aRow)) << 3);
    const pb = b + ((<usize>(r * bRow)) << 3);
    const po = out + ((<usize>(r * n)) << 3);
    if (aCol != 0 && bCol != 0) {
      for (let j = 0; j < n2; j += 2) {
        const o = (<usize>j) << 3;
        v128.store(po + o, bin64(op, v128.load(pa + o), v128.load(pb + o)));
      }
      if (n2 < n) {
        const o = (<usize>n2) << 3;
        store<f64>(po + o, f64x2.extract_lane(bin64(op, v128.load64_splat(pa + o), v128.load64_splat(pb + o)), 0));
      }
    } else if (aCol != 0) {
      const vb = v128.load64_splat(pb);
      for (let j = 0; j < n2; j += 2) {
        const o = (<usize>j) << 3;
        v128.store(po + o, bin64(op, v128.load(pa + o), vb));
      }
      if (n2 < n) {
        const o = (<usize>n2) << 3;
        store<f64>(po + o, f64x2.extract_lane(bin64(op, v128.load64_splat(pa + o), vb), 0));
      }
    } else if (bCol != 0) {
      const va = v128.load64_splat(pa);
      for (let j = 0; j < n2; j += 2) {
        const o = (<usize>j) << 3;
        v128.store(po + o, bin64(op, va, v128.load(pb + o)));
      }
      if (n2 < n) {
        const o = (<usize>n2) << 3;
        store<f64>(po + o, f64x2.extract_lane(bin64(op, va, v128.load64_splat(pb + o)), 0));
      }
    } else {
      const v = bin64(op, v128.load64_splat(pa), v128.load64_splat(pb));
      for (let j = 0; j < n2; j += 2) v128.store(po + ((<usize>j) << 3), v);
      if (n2 < n) store<f64>(po + ((<usize>n2) << 3), f64x2.extract_lane(v, 0));
    }
  }
}

/** f32 `out = a ⊕ b` over `rows × n` with per-operand row strides and column strides 0 or 1. */
export function binary_f32(
  op: i32,
  rows: i32,
  n: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  out: usize,
): void {
  switch (op) {
    case 0:
      binRows32(0, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 1:
      binRows32(1, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 2:
      binRows32(2, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 3:
      binRows32(3, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 4:
      binRows32(4, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    default:
      binRows32(5, rows, n, a, aRow, aCol, b, bRow, bCol, out);
  }
}

/** f64 `out = a ⊕ b` (as {@link binary_f32}). */
export function binary_f64(
  op: i32,
  rows: i32,
  n: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  out: usize,
): void {
  switch (op) {
    case 0:
      binRows64(0, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 1:
      binRows64(1, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 2:
      binRows64(2, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 3:
      binRows64(3, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    case 4:
      binRows64(4, rows, n, a, aRow, aCol, b, bRow, bCol, out);
      break;
    default:
      binRows64(5, rows, n, a, aRow, aCol, b, bRow, bCol, out);
  }
}

/** f32 `y[i] += alpha·x[i]`, computed in f64 and rounded once (as the TypeScript kernel). */
export function axpy_f32(n: i32, alpha: f64, x: usize, y: usize): void {
  const va = f64x2.splat(alpha);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const xv = v128.load(x + o);
    const yv = v128.load(y + o);
    const lo = f64x2.add(f64x2.promote_low_f32x4(yv), f64x2.mul(va, f64x2.promote_low_f32x4(xv)));
    const xh = i32x4.shuffle(xv, xv, 2, 3, 0, 1);
    const yh = i32x4.shuffle(yv, yv, 2, 3, 0, 1);
    const hi = f64x2.add(f64x2.promote_low_f32x4(yh), f64x2.mul(va, f64x2.promote_low_f32x4(xh)));
    v128.store(y + o, i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + alpha * <f64>load<f32>(x + o)));
  }
}

/** f64 `y[i] += alpha·x[i]`. */
export function axpy_f64(n: i32, alpha: f64, x: usize, y: usize): void {
  const va = f64x2.splat(alpha);
  const n2 = n & ~1;
  for (let i = 0; i < n2; i += 2) {
    const o = (<usize>i) << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(va, v128.load(x + o))));
  }
  if (n2 < n) {
    const o = (<usize>n2) << 3;
    store<f64>(y + o, load<f64>(y + o) + alpha * load<f64>(x + o));
  }
}

/**
 * f32 `y[i] = value` (rounded to f32 once) for n elements. For tensors in shared memory, where
 * `TypedArray.prototype.fill` takes V8's element-by-element path (~8× slower than on an
 * ArrayBuffer).
 */
export function fill_f32(n: i32, value: f64, y: usize): void {
  const v = <f32>value;
  const vv = f32x4.splat(v);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(y + ((<usize>i) << 2), vv);
  for (let i = n4; i < n; i++) store<f32>(y + ((<usize>i) << 2), v);
}

/** f64 `y[i] = value` for n elements (see {@link fill_f32}). */
export function fill_f64(n: i32, value: f64, y: usize): void {
  const vv = f64x2.splat(value);
  const n2 = n & ~1;
  for (let i = 0; i < n2; i += 2) v128.store(y + ((<usize>i) << 3), vv);
  if (n2 < n) store<f64>(y + ((<usize>n2) << 3), value);
}

// @ts-ignore: decorator
@inline function un32(op: i32, x: v128): v128 {
  if (op == 0) return f32x4.neg(x);
  if (op == 1) return f32x4.abs(x);
  // relu: 0 where x ≤ 0 (−0 too), x elsewhere (NaN stays NaN)
  if (op == 2) return v128.andnot(x, f32x4.le(x, f32x4.splat(0)));
  if (op == 3) return exp32(x);
  if (op == 4) return sigmoid32(x);
  if (op == 5) return tanh32(x);
  if (op == 7) return log32(x);
  return f32x4.sqrt(x);
}

// @ts-ignore: decorator
@inline function un64(op: i32, x: v128): v128 {
  if (op == 0) return f64x2.neg(x);
  if (op == 1) return f64x2.abs(x);
  if (op == 2) return v128.andnot(x, f64x2.le(x, f64x2.splat(0)));
  if (op == 3) return exp64(x);
  if (op == 4) return sigmoid64(x);
  if (op == 5) return tanh64(x);
  if (op == 7) return log64(x);
  return f64x2.sqrt(x);
}

/**
 * Every unary op over whole 64-byte blocks of f32 or f64 lanes: four independent SIMD chains per
 * iteration, so that one vector's polynomial and division overlap the others' (sigmoid of 300
 * elements: f64 1.33 → 1.12 µs, f32 0.61 → 0.47 µs). The cheap ops (neg, abs, relu) run here too:
 * Binaryen's -O3 folds the identical one-vector loops of the switch's cases into one loop that
 * tests the op code per vector, so a cheap op left to that loop ran ~4× slower than a product
 * (f64 neg of 300 elements 351 ns against 77 ns for binary mul); it now runs only the tail.
 * Returns the number of elements done.
 */
// @ts-ignore: decorator
@inline function unBlocks<T>(op: i32, n: i32, x: usize, y: usize): i32 {
  const per = 64 / sizeof<T>();
  const whole = n - (n % per);
  for (let i = 0; i < whole; i += per) {
    const o = (<usize>i) * sizeof<T>();
    const a = unT<T>(op, v128.load(x + o));
    const b = unT<T>(op, v128.load(x + o + 16));
    const c = unT<T>(op, v128.load(x + o + 32));
    const d = unT<T>(op, v128.load(x + o + 48));
    v128.store(y + o, a);
    v128.store(y + o + 16, b);
    v128.store(y + o + 32, c);
    v128.store(y + o + 48, d);
  }
  return whole;
}

// @ts-ignore: decorator
@inline function unT<T>(op: i32, x: v128): v128 {
  if (sizeof<T>() == 4) return un32(op, x);
  return un64(op, x);
}

// @ts-ignore: decorator
@inline function unLoop32(op: i32, n: i32, x: usize, y: usize): void {
  const n4 = n & ~3;
  for (let i = unBlocks<f32>(op, n, x, y); i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, un32(op, v128.load(x + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, f32x4.extract_lane(un32(op, v128.load32_splat(x + o)), 0));
  }
}

// @ts-ignore: decorator
@inline function unLoop64(op: i32, n: i32, x: usize, y: usize): void {
  const n2 = n & ~1;
  for (let i = unBlocks<f64>(op, n, x, y); i < n2; i += 2) {
    const o = (<usize>i) << 3;
    v128.store(y + o, un64(op, v128.load(x + o)));
  }
  if (n2 < n) {
    const o = (<usize>n2) << 3;
    store<f64>(y + o, f64x2.extract_lane(un64(op, v128.load64_splat(x + o)), 0));
  }
}

/** f32 `y = f(x)` for the unary op code `op` (see the file comment); y may equal x. */
export function unary_f32(op: i32, n: i32, x: usize, y: usize): void {
  switch (op) {
    case 0:
      unLoop32(0, n, x, y);
      break;
    case 1:
      unLoop32(1, n, x, y);
      break;
    case 2:
      unLoop32(2, n, x, y);
      break;
    case 3:
      unLoop32(3, n, x, y);
      break;
    case 4:
      unLoop32(4, n, x, y);
      break;
    case 5:
      unLoop32(5, n, x, y);
      break;
    case 7:
      unLoop32(7, n, x, y);
      break;
    default:
      unLoop32(6, n, x, y);
  }
}

/** f64 `y = f(x)` (as {@link unary_f32}). */
export function unary_f64(op: i32, n: i32, x: usize, y: usize): void {
  switch (op) {
    case 0:
      unLoop64(0, n, x, y);
      break;
    case 1:
      unLoop64(1, n, x, y);
      break;
    case 2:
      unLoop64(2, n, x, y);
      break;
    case 3:
      unLoop64(3, n, x, y);
      break;
    case 4:
      unLoop64(4, n, x, y);
      break;
    case 5:
      unLoop64(5, n, x, y);
      break;
    case 7:
      unLoop64(7, n, x, y);
      break;
    default:
      unLoop64(6, n, x, y);
  }
}

/** One f64x2 gradient step: op 0 relu (x, g), 1 sigmoid (y, g), 2 tanh (y, g). */
// @ts-ignore: decorator
@inline function grad64(op: i32, x: v128, g: v128): v128 {
  if (op == 0) return f64x2.mul(g, v128.and(f64x2.gt(x, f64x2.splat(0)), f64x2.splat(1.0)));
  if (op == 1) return f64x2.mul(f64x2.mul(g, x), f64x2.sub(f64x2.splat(1.0), x));
  return f64x2.mul(g, f64x2.sub(f64x2.splat(1.0), f64x2.mul(x, x)));
}

// @ts-ignore: decorator
@inline function gradLoop32(op: i32, n: i32, x: usize, g: usize, out: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const xv = v128.load(x + o);
    const gv = v128.load(g + o);
    let r: v128;
    if (op == 0) {
      r = f32x4.mul(gv, v128.and(f32x4.gt(xv, f32x4.splat(0)), f32x4.splat(1.0)));
    } else {
      const lo = grad64(op, f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(gv));
      const xh = i32x4.shuffle(xv, xv, 2, 3, 0, 1);
      const gh = i32x4.shuffle(gv, gv, 2, 3, 0, 1);
      const hi = grad64(op, f64x2.promote_low_f32x4(xh), f64x2.promote_low_f32x4(gh));
      r = i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    }
    v128.store(out + o, r);
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = grad64(op, f64x2.splat(<f64>load<f32>(x + o)), f64x2.splat(<f64>load<f32>(g + o)));
    store<f32>(out + o, <f32>f64x2.extract_lane(v, 0));
  }
}

// @ts-ignore: decorator
@inline function gradLoop64(op: i32, n: i32, x: usize, g: usize, out: usize): void {
  const n2 = n & ~1;
  for (let i = 0; i < n2; i += 2) {
    const o = (<usize>i) << 3;
    v128.store(out + o, grad64(op, v128.load(x + o), v128.load(g + o)));
  }
  if (n2 < n) {
    const o = (<usize>n2) << 3;
    store<f64>(out + o, f64x2.extract_lane(grad64(op, v128.load64_splat(x + o), v128.load64_splat(g + o)), 0));
  }
}

/** f32 gradient kernel `out = grad(x or y, g)` for the gradient op code `op`. */
export function unary_grad_f32(op: i32, n: i32, x: usize, g: usize, out: usize): void {
  if (op == 0) gradLoop32(0, n, x, g, out);
  else if (op == 1) gradLoop32(1, n, x, g, out);
  else gradLoop32(2, n, x, g, out);
}

/** f64 gradient kernel (as {@link unary_grad_f32}). */
export function unary_grad_f64(op: i32, n: i32, x: usize, g: usize, out: usize): void {
  if (op == 0) gradLoop64(0, n, x, g, out);
  else if (op == 1) gradLoop64(1, n, x, g, out);
  else gradLoop64(2, n, x, g, out);
}
