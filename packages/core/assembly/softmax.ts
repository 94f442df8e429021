// gradgraph WebAssembly SIMD softmax family (AssemblyScript): along the last axis of a row-major
// [rows, n] array, for f32 or f64 input, all arithmetic in f64 (f64x2 lanes; f32 input is
// promoted), the way the TypeScript kernels compute in JavaScript doubles.
//
// Per row: m = max (a non-finite m is replaced by 0, as the TypeScript kernels do), s = Σ exp(x − m), lse = m + log s. `lse` (f64, one per row) is always written. A row holding +Infinity (and no
// NaN) has lse +Infinity and NaN outputs throughout, as in the TypeScript kernels (PyTorch's rule). `mode`:
//   0  y = exp(x − lse) (softmax; the difference is rounded to the input dtype first, as the
//      TypeScript op stores log-softmax before exponentiating)
//   1  y = x − lse (log-softmax)
//   2  lse only
//   3  y = exp(x − m) / s, which is exp(x − lse), as f64 whatever the input dtype (softmax
//      cross-entropy's probabilities, computed as the TypeScript kernel does: see probsRows)
// `y` has the input dtype except in mode 3.

import { exp64 } from "./vmath";

// @ts-ignore: decorator
@inline function load2(f32in: bool, p: usize, k: i32): v128 {
  if (f32in) return f64x2.promote_low_f32x4(v128.load64_zero(p + ((<usize>k) << 2)));
  return v128.load(p + ((<usize>k) << 3));
}

// @ts-ignore: decorator
@inline function load1(f32in: bool, p: usize, k: i32): v128 {
  if (f32in) return f64x2.splat(<f64>load<f32>(p + ((<usize>k) << 2)));
  return v128.load64_splat(p + ((<usize>k) << 3));
}

/** Element `k` of the f32 or f64 array at `p`, as f64. */
// @ts-ignore: decorator
@inline function load0(f32in: bool, p: usize, k: i32): f64 {
  if (f32in) return <f64>load<f32>(p + ((<usize>k) << 2));
  return load<f64>(p + ((<usize>k) << 3));
}

/**
 * Mode 3 (softmax cross-entropy's probabilities): each element shifted by its row's max, the
 * exponentials of the whole array two at a time (no SIMD lane left empty, however short the
 * rows), then per row s = Σ e, lse = m + log s and y = e / s: the TypeScript kernel's arithmetic
 * with the SIMD exp, one exp per element (the row loops below take two: one for the sum, one for
 * the output). `lse` holds the maxima until it is written. Against those loops, float64: 30 rows
 * of 10 1.85 against 3.13 µs, 100 rows of 1000 629 against 737 µs; 30 rows of 3 0.83 µs, where the
 * TypeScript loop (1.54 µs) used to run.
 */
// @ts-ignore: decorator
@inline function probsRows(f32in: bool, nrows: i32, n: i32, x: usize, y: usize, lse: usize): void {
  const total = nrows * n;
  for (let r = 0; r < nrows; r++) {
    const o = r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) {
      const v = load0(f32in, x, o + j);
      // (as the TypeScript kernel: a NaN never becomes the max)
      if (v > m) m = v;
    }
    // a non-finite max (NaN, ±Infinity) is replaced by 0
    if (!isFinite(m)) m = 0;
    store<f64>(lse + ((<usize>r) << 3), m);
    for (let j = 0; j < n; j++) {
      const v = load0(f32in, x, o + j);
      store<f64>(y + ((<usize>(o + j)) << 3), v - m);
    }
  }
  let i = 0;
  for (; i + 4 <= total; i += 4) {
    const p = y + ((<usize>i) << 3);
    v128.store(p, exp64(v128.load(p)));
    v128.store(p + 16, exp64(v128.load(p + 16)));
  }
  for (; i < total; i++) {
    const p = y + ((<usize>i) << 3);
    store<f64>(p, f64x2.extract_lane(exp64(v128.load64_splat(p)), 0));
  }
  for (let r = 0; r < nrows; r++) {
    const py = y + ((<usize>(r * n)) << 3);
    let s: f64 = 0;
    for (let j = 0; j < n; j++) s += load<f64>(py + ((<usize>j) << 3));
    const pl = lse + ((<usize>r) << 3);
    const l = load<f64>(pl) + Math.log(s);
    store<f64>(pl, l);
    if (l == Infinity) {
      // a row holding +Infinity (its max taken as 0): NaN throughout
      for (let j = 0; j < n; j++) store<f64>(py + ((<usize>j) << 3), NaN);
      continue;
    }
    for (let j = 0; j < n; j++) {
      const q = py + ((<usize>j) << 3);
      store<f64>(q, load<f64>(q) / s);
    }
  }
}

// @ts-ignore: decorator
@inline function rows(f32in: bool, nrows: i32, n: i32, x: usize, y: usize, lse: usize, mode: i32): void {
  if (mode == 3) {
    probsRows(f32in, nrows, n, x, y, lse);
    return;
  }
  const n2 = n & ~1;
  const sh: usize = f32in ? 2 : 3;
  for (let r = 0; r < nrows; r++) {
    const px = x + ((<usize>(r * n)) << sh);
    // pmax skips NaN (one instruction against several for max): a NaN in the row still makes s,
    // lse and the outputs NaN, as in TypeScript
    let mv = f64x2.splat(-Infinity);
    for (let k = 0; k < n2; k += 2) mv = f64x2.pmax(mv, load2(f32in, px, k));
    if (n2 < n) mv = f64x2.pmax(mv, load1(f32in, px, n2));
    let m = Math.max(f64x2.extract_lane(mv, 0), f64x2.extract_lane(mv, 1));
    if (!isFinite(m)) m = 0;
    const vm = f64x2.splat(m);
    let s0 = f64x2.splat(0);
    let s1 = s0;
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      s0 = f64x2.add(s0, exp64(f64x2.sub(load2(f32in, px, k), vm)));
      s1 = f64x2.add(s1, exp64(f64x2.sub(load2(f32in, px, k + 2), vm)));
    }
    if (k + 2 <= n) {
      s0 = f64x2.add(s0, exp64(f64x2.sub(load2(f32in, px, k), vm)));
      k += 2;
    }
    let s = f64x2.extract_lane(f64x2.add(s0, s1), 0) + f64x2.extract_lane(f64x2.add(s0, s1), 1);
    if (k < n) s += f64x2.extract_lane(exp64(f64x2.sub(load1(f32in, px, k), vm)), 0);
    const l = m + Math.log(s);
    store<f64>(lse + ((<usize>r) << 3), l);
    if (mode == 2) continue;
    // a row holding +Infinity: x − NaN, NaN throughout (mode 0 and 1 alike)
    const vl = f64x2.splat(l == Infinity ? NaN : l);
    const py = y + ((<usize>(r * n)) << sh);
    for (let j = 0; j < n; j += 2) {
      // the last pair may run one past the row for odd n: compute both lanes, store what fits
      const z = j + 1 < n ? f64x2.sub(load2(f32in, px, j), vl) : f64x2.sub(load1(f32in, px, j), vl);
      let v: v128;
      if (f32in) {
        // round x − lse to f32 first, as the TypeScript op stores log-softmax in the input dtype
        const zr = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(z));
        v = f32x4.demote_f64x2_zero(mode == 0 ? exp64(zr) : zr);
        if (j + 1 < n) v128.store64_lane(py + ((<usize>j) << 2), v, 0);
        else store<f32>(py + ((<usize>j) << 2), f32x4.extract_lane(v, 0));
      } else {
        v = mode == 0 ? exp64(z) : z;
        if (j + 1 < n) v128.store(py + ((<usize>j) << 3), v);
        else store<f64>(py + ((<usize>j) << 3), f64x2.extract_lane(v, 0));
      }
    }
  }
}

/** Softmax family along rows of f32 `x` (see the file comment for `mode`). */
export function softmax_f32(nrows: i32, n: i32, x: usize, y: usize, lse: usize, mode: i32): void {
  rows(true, nrows, n, x, y, lse, mode);
}

/** Softmax family along rows of f64 `x` (see the file comment for `mode`). */
export function softmax_f64(nrows: i32, n: i32, x: usize, y: usize, lse: usize, mode: i32): void {
  rows(false, nrows, n, x, y, lse, mode);
}
