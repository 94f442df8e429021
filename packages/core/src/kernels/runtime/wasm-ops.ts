/**
 * WebAssembly SIMD paths of the elementwise, reduction and softmax kernels (the AssemblyScript in
 * packages/core/assembly/elementwise.ts, reduce.ts, softmax.ts). Every function here either does
 * the whole job and returns true, or does nothing and returns false so that the caller runs its
 * TypeScript loop: when WASM kernels are off (`setKernelBackend("js")`, `GRADGRAPH_KERNELS=js`,
 * no usable build), when the operands' dtypes differ, or when the work is below the family's size
 * threshold under `"auto"` (under `"wasm"` every size goes to WASM, which is how the tests cover
 * small and odd sizes).
 *
 * Calling convention: copy-in/copy-out through the module's scratch arena (`arenaStart`), as
 * `wasmGemm` does. TypedArray.set of 784k floats costs ~0.075 ms where a JS loop over them costs
 * ~1–1.6 ms, so the copies are cheap next to the loops they replace for large arrays; for small
 * arrays the fixed cost (the call, a few typed-array views, the copies) loses, hence the
 * thresholds.
 *
 * Thresholds: crossover sizes measured with scripts/bench-kernels.ts (Node 20, 2-core Zen 3,
 * float32 and float64, medians of rotated runs); each is set at or above the size where WASM
 * became faster than the TypeScript loop in both dtypes. See the figures beside each constant.
 */
import type { FloatArray } from "../../dtype.js";
import { scratchF64 } from "../../memory.js";
import type { Shape } from "../../shape.js";
import { broadcastStrides, isTrailingPart } from "../broadcast.js";
import { heapAxpy, heapInUse } from "./heap.js";
import { arenaStart, ensureMemory, type Loaded, wasmForced, wasmKernels } from "./wasm.js";
import { align64, copyIn, copyOut } from "./wasm-memory.js";

// Crossovers measured by scripts/bench-kernels.ts on this machine (2-core Zen 3, Node 20), as
// µs per call JS → WASM (medians, float32 | float64); each threshold is the first measured size
// at which WASM won by ≥ 1.5× in both dtypes (or near the crossover where it was clear-cut).

/**
 * Binary elementwise ops (add … min, with broadcasting): output elements. Crossover ~110–130:
 * add at n = 128: 0.38 → 0.25 | 0.39 → 0.31; n = 256: 0.70 → 0.28 | 0.75 → 0.37; n = 100k:
 * 260 → 36 | 282 → 81; bias-add [1000, 100] + [100]: 270 → 28 | 279 → 58.
 */
export const BINARY_MIN = 256;
/**
 * axpy `y += αx`: elements. Crossover ~64: n = 64: 0.147 → 0.148 | 0.19 → 0.15; n = 128: 0.29 →
 * 0.17 | 0.34 → 0.19; n = 784k: 1664 → 494 | 2051 → 962.
 */
export const AXPY_MIN = 128;
/**
 * neg, abs, relu, sqrt and the fused gradients: elements. Crossover ~50–64: relu n = 64: 0.14 →
 * 0.11 | 0.17 → 0.15; n = 128: 0.26 → 0.13 | 0.31 → 0.20; relu backward (mask + product in TS)
 * n = 128: 0.64 → 0.17 | 0.63 → 0.19; sigmoid backward n = 128: 0.40 → 0.18 | 0.50 → 0.19.
 */
export const UNARY_MIN = 128;
/**
 * exp, sigmoid, tanh (a SIMD polynomial exp against Math.exp): elements. Crossover ~16–20: exp
 * n = 16: 0.17 → 0.13 | 0.16 → 0.18; n = 64: 0.66 → 0.18 | 0.63 → 0.32; n = 100k: 1038 → 118 |
 * 1040 → 342; tanh n = 100k: 1473 → 151 | 1481 → 379; sigmoid: 1165 → 165 | 1131 → 428.
 */
export const TRANSCENDENTAL_MIN = 32;
/**
 * log (a SIMD atanh series, one division): elements. Crossover ~20 (f32) / ~40 (f64): n = 64:
 * 0.56 → 0.21 | 0.57 → 0.45; n = 100k: 866 → 195 | 909 → 542.
 */
export const LOG_MIN = 64;
/**
 * sum and max over an axis: input elements. Crossover ~100–128: sum of all n = 128: 0.20 → 0.17 |
 * 0.25 → 0.19; n = 256: 0.36 → 0.19 | 0.45 → 0.20; sum over axis 0 of [1000, 100]: 241 → 18 |
 * 320 → 35; max over rows of 100: n = 256: 0.44 → 0.16 | 0.42 → 0.16, n = 100k: 167 → 15 | 166 → 29.
 */
export const REDUCE_MIN = 256;
/**
 * softmax / log-softmax / logSumExp along the last axis: input elements. Crossover ~16–24:
 * softmax of rows of 10, n = 16: 0.26 → 0.22 | 0.27 → 0.35; n = 64: 1.66 → 0.80 | 1.70 → 0.74;
 * n = 100k: 2780 → 1210 | 2689 → 1039; rows of 1000, n = 100k: 2372 → 871 | 2290 → 736.
 */
export const SOFTMAX_MIN = 32;

type Kernel = (...args: number[]) => void;

/** The kernel exports used here, looked up once per loaded module. */
interface Fns {
  binary_f32: Kernel;
  binary_f64: Kernel;
  axpy_f32: Kernel;
  axpy_f64: Kernel;
  unary_f32: Kernel;
  unary_f64: Kernel;
  unary_grad_f32: Kernel;
  unary_grad_f64: Kernel;
  sum_f32: Kernel;
  sum_f64: Kernel;
  max_f32: Kernel;
  max_f64: Kernel;
  softmax_f32: Kernel;
  softmax_f64: Kernel;
}

const NAMES: readonly (keyof Fns)[] = [
  "binary_f32",
  "binary_f64",
  "axpy_f32",
  "axpy_f64",
  "unary_f32",
  "unary_f64",
  "unary_grad_f32",
  "unary_grad_f64",
  "sum_f32",
  "sum_f64",
  "max_f32",
  "max_f64",
  "softmax_f32",
  "softmax_f64",
];

let fnsFor: Loaded | null = null;
let fns: Fns | null = null;

/** The module's kernel functions, or null when the build lacks them (an older build). */
function kernels(m: Loaded): Fns | null {
  if (fnsFor !== m) {
    fnsFor = m;
    const e = m.exports;
    fns = NAMES.every((k) => typeof e[k] === "function") ? (e as unknown as Fns) : null;
  }
  return fns;
}

/** The module of the last successful {@link use}. */
let mod: Loaded | null = null;

/**
 * The kernels when `size` elements of work should go to WASM (and their module in `mod`), else
 * null. The size test comes first: small ops pay one comparison.
 */
function use(size: number, min: number): Fns | null {
  if (size < min && !wasmForced()) return null;
  const m = wasmKernels();
  if (m === null) return null;
  mod = m;
  return kernels(m);
}

const BINARY_CODE = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 } as const;

/** The binary ops with a WASM kernel. */
export type WasmBinaryKind = keyof typeof BINARY_CODE;

/**
 * `out = a ⊕ b` with numpy broadcasting (`out` has the broadcast shape) in WASM. The shapes are
 * coalesced into at most [outer…, rows, n] with each operand's column stride 0 or 1; one kernel
 * call covers rows × n, TypeScript loops over the outer dimensions. Results are bit-identical to
 * the TypeScript kernel (each element is one IEEE operation in the array's dtype).
 * @returns false, having done nothing, when the TypeScript kernel should run.
 */
export function wasmBinary(
  kind: string,
  a: FloatArray,
  aShape: Shape,
  b: FloatArray,
  bShape: Shape,
  out: FloatArray,
  outShape: Shape,
): boolean {
  const code = BINARY_CODE[kind as WasmBinaryKind];
  if (code === undefined) return false;
  const total = out.length;
  const k = use(total, BINARY_MIN);
  if (k === null) return false;
  const f64 = out instanceof Float64Array;
  if (a instanceof Float64Array !== f64 || b instanceof Float64Array !== f64) return false;
  if (total === 0) return true;
  // the common patterns take one call without any shape arithmetic
  if (a.length === total || b.length === total) {
    const la = a.length;
    const lb = b.length;
    if (la === total && lb === total) return binaryCall(k, code, f64, 1, total, a, total, 1, b, total, 1, out);
    if (lb === 1 && la === total) return binaryCall(k, code, f64, 1, total, a, total, 1, b, 0, 0, out);
    if (la === 1 && lb === total) return binaryCall(k, code, f64, 1, total, a, 0, 0, b, total, 1, out);
    if (la === total && lb > 0 && isTrailingPart(bShape, outShape))
      return binaryCall(k, code, f64, total / lb, lb, a, lb, 1, b, 0, 1, out);
    if (lb === total && la > 0 && isTrailingPart(aShape, outShape))
      return binaryCall(k, code, f64, total / la, la, a, 0, 1, b, la, 1, out);
  }
  // coalesce dimensions, innermost first: a dimension joins the group inside it when both
  // operands step through them as one (contiguous, or both broadcast)
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = outShape.length - 1; d >= 0; d--) {
    const size = outShape[d]!;
    if (size === 1) continue;
    const g = dims.length - 1;
    if (g >= 0 && as[d] === sa[g]! * dims[g]! && bs[d] === sb[g]! * dims[g]!) {
      dims[g] = dims[g]! * size;
      continue;
    }
    dims.push(size);
    sa.push(as[d]!);
    sb.push(bs[d]!);
  }
  const n = dims[0] ?? 1;
  const aCol = sa[0] ?? 0;
  const bCol = sb[0] ?? 0;
  if (aCol > 1 || bCol > 1) return false; // not expected for row-major broadcasting
  const rows = dims[1] ?? 1;
  const aRow = sa[1] ?? 0;
  const bRow = sb[1] ?? 0;
  const m = mod!;
  const S = f64 ? 8 : 4;
  const aPtr = arenaStart(m);
  const bPtr = align64(aPtr + a.length * S);
  const oPtr = align64(bPtr + b.length * S);
  const buf = ensureMemory(m, oPtr + total * S);
  copyIn(buf, aPtr, a);
  copyIn(buf, bPtr, b);
  const fn = f64 ? k.binary_f64 : k.binary_f32;
  const block = rows * n;
  if (dims.length <= 2) {
    fn(code, rows, n, aPtr, aRow, aCol, bPtr, bRow, bCol, oPtr);
  } else {
    // odometer over the outer groups (dims[2..])
    const outer = dims.length - 2;
    const idx = new Array<number>(outer).fill(0);
    let ao = 0;
    let bo = 0;
    for (let o = 0; o < total; o += block) {
      fn(code, rows, n, aPtr + ao * S, aRow, aCol, bPtr + bo * S, bRow, bCol, oPtr + o * S);
      for (let g = 0; g < outer; g++) {
        const i = idx[g]! + 1;
        if (i < dims[g + 2]!) {
          idx[g] = i;
          ao += sa[g + 2]!;
          bo += sb[g + 2]!;
          break;
        }
        idx[g] = 0;
        ao -= sa[g + 2]! * (dims[g + 2]! - 1);
        bo -= sb[g + 2]! * (dims[g + 2]! - 1);
      }
    }
  }
  copyOut(buf, oPtr, out);
  return true;
}

/** One binary kernel call over rows × n (copy in, call, copy out); returns true. */
function binaryCall(
  k: Fns,
  code: number,
  f64: boolean,
  rows: number,
  n: number,
  a: FloatArray,
  aRow: number,
  aCol: number,
  b: FloatArray,
  bRow: number,
  bCol: number,
  out: FloatArray,
): boolean {
  const m = mod!;
  const S = f64 ? 8 : 4;
  const aPtr = arenaStart(m);
  const bPtr = align64(aPtr + a.length * S);
  const oPtr = align64(bPtr + b.length * S);
  const buf = ensureMemory(m, oPtr + out.length * S);
  copyIn(buf, aPtr, a);
  copyIn(buf, bPtr, b);
  (f64 ? k.binary_f64 : k.binary_f32)(code, rows, n, aPtr, aRow, aCol, bPtr, bRow, bCol, oPtr);
  copyOut(buf, oPtr, out);
  return true;
}

/**
 * `y[i] += alpha·x[i]` in WASM for equal-length arrays of one dtype (computed in f64 and rounded
 * once, bit-identical to the TypeScript loop).
 * @returns false, having done nothing, when the TypeScript loop should run.
 */
export function wasmAxpy(alpha: number, x: FloatArray, y: FloatArray): boolean {
  const n = y.length;
  const k = use(n, AXPY_MIN);
  if (k === null) return false;
  const f64 = y instanceof Float64Array;
  if (x instanceof Float64Array !== f64 || x.length !== n) return false;
  if (n === 0) return true;
  const m = mod!;
  // a resident y (`storage: "wasm"`) is updated where it is
  if (heapInUse() && heapAxpy(m.backend, alpha, x, y)) return true;
  const S = f64 ? 8 : 4;
  // in chunks that stay in cache between copy-in, kernel and copy-out: a large update then moves
  // each element through memory once instead of several times
  const chunk = Math.min(n, CHUNK_BYTES / S);
  const xPtr = arenaStart(m);
  const yPtr = align64(xPtr + chunk * S);
  const buf = ensureMemory(m, yPtr + chunk * S);
  const kernel = f64 ? k.axpy_f64 : k.axpy_f32;
  for (let o = 0; o < n; o += chunk) {
    const c = Math.min(chunk, n - o);
    const xs = c === n ? x : x.subarray(o, o + c);
    const ys = c === n ? y : y.subarray(o, o + c);
    copyIn(buf, xPtr, xs);
    copyIn(buf, yPtr, ys);
    kernel(c, alpha, xPtr, yPtr);
    copyOut(buf, yPtr, ys);
  }
  return true;
}

/** Elementwise kernels over large arrays run in pieces of this many bytes per operand (L2-sized). */
const CHUNK_BYTES = 64 * 1024;

const UNARY_CODE = { neg: 0, abs: 1, relu: 2, exp: 3, sigmoid: 4, tanh: 5, sqrt: 6, log: 7 } as const;

/** The elementwise functions with a WASM kernel. */
export type WasmUnaryKind = keyof typeof UNARY_CODE;

/**
 * `out = f(x)` elementwise in WASM for equal-length arrays of one dtype. neg, abs, relu and sqrt
 * are bit-identical to `-x`, `Math.abs`, `x <= 0 ? 0 : x` and `Math.sqrt`; exp, sigmoid and tanh
 * use a SIMD polynomial exp, log a SIMD atanh series (measured against `Math.*`: exp 1 ulp,
 * sigmoid 2, tanh 2 (f32) / 4 (f64), log 1 (f32) / 2 (f64)), with the same special values
 * (overflow to Infinity, underflow to 0, NaN, ±Infinity, −0 for tanh; log: −Infinity at ±0, NaN
 * below 0).
 * @returns false, having done nothing, when the TypeScript loop should run.
 */
export function wasmUnary(kind: WasmUnaryKind, x: FloatArray, out: FloatArray): boolean {
  const code = UNARY_CODE[kind];
  const n = out.length;
  const k = use(n, code === 7 ? LOG_MIN : code >= 3 && code <= 5 ? TRANSCENDENTAL_MIN : UNARY_MIN);
  if (k === null) return false;
  const f64 = out instanceof Float64Array;
  if (x instanceof Float64Array !== f64 || x.length !== n) return false;
  if (n === 0) return true;
  const m = mod!;
  const S = f64 ? 8 : 4;
  const p = arenaStart(m);
  const buf = ensureMemory(m, p + n * S);
  copyIn(buf, p, x);
  (f64 ? k.unary_f64 : k.unary_f32)(code, n, p, p);
  copyOut(buf, p, out);
  return true;
}

const GRAD_CODE = { relu: 0, sigmoid: 1, tanh: 2 } as const;

/** The fused first-order gradients with a WASM kernel. */
export type WasmGradKind = keyof typeof GRAD_CODE;

/**
 * A fused backward in WASM: `relu`: `out = g·[x > 0]` from the input x; `sigmoid`:
 * `out = g·y·(1 − y)` and `tanh`: `out = g·(1 − y²)` from the output y. Bit-identical to the
 * TypeScript loops (f32 is computed in f64 and rounded once, as JavaScript does).
 * @returns false, having done nothing, when the TypeScript loop should run.
 */
export function wasmUnaryGrad(kind: WasmGradKind, xy: FloatArray, g: FloatArray, out: FloatArray): boolean {
  const n = out.length;
  const k = use(n, UNARY_MIN);
  if (k === null) return false;
  const f64 = out instanceof Float64Array;
  if (xy instanceof Float64Array !== f64 || g instanceof Float64Array !== f64) return false;
  if (xy.length !== n || g.length !== n) return false;
  if (n === 0) return true;
  const m = mod!;
  const S = f64 ? 8 : 4;
  const xPtr = arenaStart(m);
  const gPtr = align64(xPtr + n * S);
  const buf = ensureMemory(m, gPtr + n * S);
  copyIn(buf, xPtr, xy);
  copyIn(buf, gPtr, g);
  (f64 ? k.unary_grad_f64 : k.unary_grad_f32)(GRAD_CODE[kind], n, xPtr, gPtr, gPtr);
  copyOut(buf, gPtr, out);
  return true;
}

/**
 * The reduction of shape `from` to `to` (`to` right-aligned against `from`, size 1 on reduced
 * axes) as one middle axis of an [outer, n, inner] view, or null when the reduced axes (ignoring
 * size-1 axes) are not one contiguous group.
 */
export function middleAxis(from: Shape, to: Shape): [number, number, number] | null {
  const off = from.length - to.length;
  if (off < 0) return null;
  let first = -1;
  let last = -1;
  for (let i = 0; i < from.length; i++) {
    const d = from[i]!;
    if (d === 1) continue;
    const reduced = i < off || to[i - off] === 1;
    if (reduced) {
      if (first < 0) first = i;
      else if (last < i - 1) {
        // a kept axis (of size > 1) between reduced ones?
        for (let j = last + 1; j < i; j++) if (from[j] !== 1) return null;
      }
      last = i;
    } else if (!reduced && to[i - off] !== d) return null;
  }
  if (first < 0) return null;
  let outer = 1;
  let n = 1;
  let inner = 1;
  for (let i = 0; i < from.length; i++) {
    if (i < first) outer *= from[i]!;
    else if (i <= last) n *= from[i]!;
    else inner *= from[i]!;
  }
  return [outer, n, inner];
}

/**
 * `out += Σ g` over the axes on which `to` is 1 (or missing), in WASM, when they form one
 * contiguous group. Identical to the TypeScript kernel when the reduced group is not the last
 * (elements accumulate in the same order and dtype); when it is, each row is summed in f64 with
 * four SIMD accumulators, a different association (relative difference ≲ n·2⁻⁵³ of Σ|g|).
 * @returns false, having done nothing, when the TypeScript kernel should run.
 */
export function wasmSumTo(g: FloatArray, from: Shape, out: FloatArray, to: Shape): boolean {
  return reduceMiddle(0, g, from, out, to);
}

/**
 * `out = max of x` over the axes on which `to` is 1, in WASM, when they form one contiguous group
 * (−Infinity over zero elements, NaN propagates). Equal to the TypeScript kernel, except that a
 * maximum of −0 and +0 may be either here and is the first of them in TypeScript (they compare equal).
 * @returns false, having done nothing, when the TypeScript kernel should run.
 */
export function wasmMaxTo(x: FloatArray, from: Shape, out: FloatArray, to: Shape): boolean {
  return reduceMiddle(1, x, from, out, to);
}

function reduceMiddle(op: 0 | 1, x: FloatArray, from: Shape, out: FloatArray, to: Shape): boolean {
  const k = use(x.length, REDUCE_MIN);
  if (k === null) return false;
  const f64 = out instanceof Float64Array;
  if (x instanceof Float64Array !== f64) return false;
  const view = middleAxis(from, to);
  if (view === null) return false;
  const [outer, n, inner] = view;
  if (outer * inner !== out.length || outer * n * inner !== x.length) return false;
  if (out.length === 0) return true;
  const m = mod!;
  const S = f64 ? 8 : 4;
  const xPtr = arenaStart(m);
  const oPtr = align64(xPtr + x.length * S);
  const buf = ensureMemory(m, oPtr + out.length * S);
  copyIn(buf, xPtr, x);
  if (op === 0) {
    copyIn(buf, oPtr, out);
    (f64 ? k.sum_f64 : k.sum_f32)(outer, n, inner, xPtr, oPtr);
  } else {
    (f64 ? k.max_f64 : k.max_f32)(outer, n, inner, xPtr, oPtr);
  }
  copyOut(buf, oPtr, out);
  return true;
}

/** What {@link wasmSoftmaxRows} writes to `y`: 0 softmax, 1 log-softmax, 2 nothing (lse only), 3 softmax as f64. */
export type SoftmaxMode = 0 | 1 | 2 | 3;

/**
 * Softmax-family kernel along rows of length `n` of `x` (`x.length / n` rows), in WASM with all
 * arithmetic in f64: per row m = max, lse = m + log Σ exp(x − m) (a non-finite m is replaced by 0,
 * as the TypeScript kernels do). Mode 0: `y = exp(x − lse)` (x − lse rounded to x's dtype first);
 * 1: `y = x − lse`; 2: `y` unused; 3: `y = exp(x − lse)` into a Float64Array whatever x's dtype.
 * `lse` (optional, one f64 per row) receives the log-sum-exps. Results agree with the TypeScript
 * kernels within a few ulp (the exp polynomial and the summation order differ).
 * @returns false, having done nothing, when the TypeScript kernel should run.
 */
export function wasmSoftmaxRows(
  mode: SoftmaxMode,
  x: FloatArray,
  n: number,
  y: FloatArray | null,
  lse: Float64Array | null,
): boolean {
  const k = use(x.length, SOFTMAX_MIN);
  if (k === null || n <= 0) return false;
  const f64 = x instanceof Float64Array;
  const rows = x.length / n;
  if (!Number.isInteger(rows)) return false;
  if (mode !== 2 && (y === null || y.length !== x.length || y instanceof Float64Array !== (f64 || mode === 3))) {
    return false;
  }
  if (lse !== null && lse.length !== rows) return false;
  if (rows === 0) return true;
  const m = mod!;
  const S = f64 ? 8 : 4;
  const xPtr = arenaStart(m);
  const lPtr = align64(xPtr + x.length * S);
  const yPtr = align64(lPtr + rows * 8);
  const buf = ensureMemory(m, yPtr + (mode === 2 ? 0 : x.length * (mode === 3 ? 8 : S)));
  copyIn(buf, xPtr, x);
  (f64 ? k.softmax_f64 : k.softmax_f32)(rows, n, xPtr, yPtr, lPtr, mode);
  if (mode !== 2 && y !== null) copyOut(buf, yPtr, y);
  if (lse !== null) copyOut(buf, lPtr, lse);
  return true;
}

/**
 * `out = log Σ exp(x)` over the axes on which `to` is 1, in WASM, when they are the trailing axes
 * (rows × n): the softmax kernel's log-sum-exp, within a few ulp of the TypeScript kernel.
 * @returns false, having done nothing, when the TypeScript kernel should run.
 */
export function wasmLogSumExpTo(x: FloatArray, from: Shape, out: FloatArray, to: Shape): boolean {
  if (x.length < SOFTMAX_MIN && !wasmForced()) return false;
  if (out.length === 0 || x instanceof Float64Array !== out instanceof Float64Array) return false;
  const view = middleAxis(from, to);
  if (view === null || view[2] !== 1 || view[1] === 0 || view[0] !== out.length) return false;
  const lse = out instanceof Float64Array ? out : scratchF64(out.length);
  if (!wasmSoftmaxRows(2, x, view[1], null, lse)) return false;
  if (lse !== out) out.set(lse);
  return true;
}

/**
 * Softmax cross-entropy's forward kernel in WASM: the softmax of rows of length `n` of `x` into
 * `probs`, which must be a Float64Array (mode 3 of {@link wasmSoftmaxRows}).
 * @returns each row's log-sum-exp, or null, having done nothing, when the TypeScript loop should run.
 */
export function wasmSoftmaxProbs(x: FloatArray, n: number, probs: FloatArray): Float64Array | null {
  // (rows of any length: the kernel's mode 3 fills every SIMD lane, however short the rows)
  if (x.length < SOFTMAX_MIN && !wasmForced()) return null;
  if (n <= 0 || x.length % n !== 0) return null;
  const lse = scratchF64(x.length / n);
  return wasmSoftmaxRows(3, x, n, probs, lse) ? lse : null;
}
