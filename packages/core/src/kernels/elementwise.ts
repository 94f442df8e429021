/** Elementwise kernels with numpy broadcasting over row-major typed arrays. */
import type { FloatArray } from "../dtype.js";
import { ArgumentError, describeValue, ShapeError } from "../errors.js";
import type { Shape } from "../shape.js";
import { broadcastStrides, forEachRow, isTrailingPart } from "./broadcast.js";
import { apartFrom } from "./runtime/wasm-memory.js";
import { wasmAxpy, wasmBinary } from "./runtime/wasm-ops.js";

/**
 * The binary operations with a hand-written kernel: `pow` is C's `pow` (numpy's and PyTorch's):
 * `a ** b` except where JavaScript's differs (see {@link powC}); `max` and `min` are
 * `Math.max`/`Math.min` (NaN in either operand gives NaN, as numpy's `maximum`/`minimum`).
 */
export type BinaryKind = "add" | "sub" | "mul" | "div" | "pow" | "max" | "min";

/**
 * `a ** b` with the special cases of C's `pow` (IEEE 754, numpy's `power`, PyTorch's `pow`) where
 * JavaScript's differ: 1 to any power (NaN and ±∞ included) and −1 to ±∞ are 1, where JavaScript
 * gives NaN. Everything else is `a ** b`.
 */
export function powC(a: number, b: number): number {
  const r = a ** b;
  // the two differ only where JavaScript gives NaN
  if (
    Number.isNaN(r) &&
    (a === 1 || (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)))
  ) {
    return 1;
  }
  return r;
}

/**
 * `out = a ⊕ b` with broadcasting; `out` has the broadcast shape `outShape` and is written fully.
 * Large arrays of one dtype go to the WASM SIMD kernel (bit-identical results; not `pow`); in
 * TypeScript, fast paths: equal shapes, and a single-element operand.
 */
export function binaryInto(
  kind: BinaryKind,
  a: FloatArray,
  aShape: Shape,
  b: FloatArray,
  bShape: Shape,
  out: FloatArray,
  outShape: Shape,
): void {
  const n = out.length;
  if (wasmBinary(kind, a, aShape, b, bShape, out, outShape)) return;
  if (a.length === n && b.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 1, 1);
    return;
  }
  if (b.length === 1 && a.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 1, 0);
    return;
  }
  if (a.length === 1 && b.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 0, 1);
    return;
  }
  // a row (such as a bias) against a batch: one loop over the rows, no odometer
  if (a.length === n && b.length > 0 && isTrailingPart(bShape, outShape)) {
    if (!rowsInto(kind, a, b, out, n, b.length))
      for (let o = 0; o < n; o += b.length) flat(kind, a, b, out, o, o, 0, b.length, 1, 1);
    return;
  }
  if (b.length === n && a.length > 0 && isTrailingPart(aShape, outShape)) {
    for (let o = 0; o < n; o += a.length) flat(kind, a, b, out, o, 0, o, a.length, 1, 1);
    return;
  }
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  forEachRow(outShape, as, bs, (o, ao, bo, len, ast, bst) => flat(kind, a, b, out, o, ao, bo, len, ast, bst));
}

/**
 * `out = a ⊕ b` for `b` a row of `m` elements repeated over the `n / m` rows of `a` and `out` (a
 * bias against a batch), for add, sub, mul and div; false (nothing done) for the other kinds.
 * The row loop inside one function: a call of {@link flat} per row made a bias of 3 over 30 rows
 * about twice as slow (~500 ns against ~250 ns, float32 and float64 mixed in one process).
 */
function rowsInto(kind: BinaryKind, a: FloatArray, b: FloatArray, out: FloatArray, n: number, m: number): boolean {
  switch (kind) {
    case "add":
      for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) out[o + j] = a[o + j]! + b[j]!;
      return true;
    case "sub":
      for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) out[o + j] = a[o + j]! - b[j]!;
      return true;
    case "mul":
      for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) out[o + j] = a[o + j]! * b[j]!;
      return true;
    case "div":
      for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) out[o + j] = a[o + j]! / b[j]!;
      return true;
  }
  return false;
}

function flat(
  kind: BinaryKind,
  a: FloatArray,
  b: FloatArray,
  out: FloatArray,
  o: number,
  ao: number,
  bo: number,
  n: number,
  as: number,
  bs: number,
): void {
  switch (kind) {
    case "add":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! + b[bo + j * bs]!;
      return;
    case "sub":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! - b[bo + j * bs]!;
      return;
    case "mul":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! * b[bo + j * bs]!;
      return;
    case "div":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! / b[bo + j * bs]!;
      return;
    case "pow":
      for (let j = 0; j < n; j++) out[o + j] = powC(a[ao + j * as]!, b[bo + j * bs]!);
      return;
    case "max":
      for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ao + j * as]!, b[bo + j * bs]!);
      return;
    case "min":
      for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ao + j * as]!, b[bo + j * bs]!);
      return;
  }
}

/** `acc += x` elementwise for equal-length arrays (through {@link axpy}). */
export function addInPlace(acc: FloatArray, x: FloatArray): void {
  axpy(1, x, acc);
}

function isFloatArray(v: unknown): v is FloatArray {
  try {
    return v instanceof Float32Array || v instanceof Float64Array;
  } catch {
    // a revoked Proxy
    return false;
  }
}

/**
 * `y[i] += alpha · x[i]` for every `i`, in place on `y`: the update of plain SGD
 * (`axpy(-lr, grad, param)`). Large arrays of one dtype run in the WebAssembly SIMD kernel, others
 * in a TypeScript loop; both compute `y[i] + alpha·x[i]` in double precision and round once to
 * `y`'s dtype, so the result does not depend on the backend.
 * @param alpha - the scale of `x` (any number, NaN and infinities included).
 * @param x - the array added, a Float32Array or Float64Array; it is not modified. It may share
 *   memory with `y` (y itself, or any overlapping view): its values as they were at the call are added.
 * @param y - the array updated in place, a Float32Array or Float64Array of `x`'s length (the
 *   dtypes may differ).
 * @throws ArgumentError naming `axpy` when `alpha` is not a number or `x` or `y` is not a
 *   Float32Array/Float64Array.
 * @throws ShapeError naming `axpy` when `x` and `y` differ in length.
 */
export function axpy(alpha: number, x: FloatArray, y: FloatArray): void {
  if (typeof alpha !== "number") {
    throw new ArgumentError("axpy", `axpy: alpha must be a number, got ${describeValue(alpha)}`);
  }
  if (!isFloatArray(x)) {
    throw new ArgumentError("axpy", `axpy: x must be a Float32Array or Float64Array, got ${describeValue(x)}`);
  }
  if (!isFloatArray(y)) {
    throw new ArgumentError("axpy", `axpy: y must be a Float32Array or Float64Array, got ${describeValue(y)}`);
  }
  if (x.length !== y.length) {
    throw new ShapeError("axpy", `axpy: x has length ${x.length} but y has length ${y.length}; they must be equal`);
  }
  // x may share memory with y. The WASM kernel copies both in before computing (whole up to 64
  // KiB), and the loop below runs away from the overlap when they have one element type; else (a
  // large update, which goes in chunks, or two element types) an overlapping x is read from a copy.
  // (Offsets cost a few ns to compare; a view's buffer ~30 ns to read: too much for SGD's small
  // updates, where the buffer is read only in those rarer cases.)
  const n = y.length;
  if (x.constructor !== y.constructor || n * y.BYTES_PER_ELEMENT > AXPY_WHOLE_BYTES) {
    // (the same elements in step, y itself or another view of them, need no copy)
    const inStep = x.byteOffset === y.byteOffset && x.constructor === y.constructor;
    if (!inStep) x = apartFrom(x, n, y, n);
  }
  if (wasmAxpy(alpha, x, y)) return;
  if (x.byteOffset < y.byteOffset) {
    // (x behind y, perhaps in one buffer: y's high end is written first, before x reads it)
    for (let i = n - 1; i >= 0; i--) y[i] = y[i]! + alpha * x[i]!;
  } else for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
}

/** Up to this size `wasmAxpy` copies x and y in whole before computing (its chunk size). */
const AXPY_WHOLE_BYTES = 64 * 1024;
