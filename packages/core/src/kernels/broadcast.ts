/**
 * Broadcasting kernels over row-major typed arrays: the index arithmetic that `broadcastTo`,
 * `sumTo` and every broadcasting binary op share.
 */
import type { FloatArray } from "../dtype.js";
import type { Shape } from "../shape.js";
import { wasmSumTo } from "./runtime/wasm-ops.js";

/**
 * Strides (in elements) with which an array of shape `from` is read while iterating over shape
 * `to`: 0 on the broadcast dimensions. `from` must be broadcastable to `to`.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const rank = to.length;
  const off = rank - from.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    const d = from[i]!;
    strides[off + i] = d === 1 && to[off + i] !== 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

/**
 * Calls `inner(outOffset, aOffset, bOffset, n, aStride, bStride)` once per contiguous run of the
 * last dimension of `shape`, with the read offsets of two broadcast operands. This is the one
 * odometer every broadcasting kernel uses.
 */
export function forEachRow(
  shape: Shape,
  aStrides: readonly number[],
  bStrides: readonly number[],
  inner: (o: number, a: number, b: number, n: number, as: number, bs: number) => void,
): void {
  const rank = shape.length;
  if (rank === 0) {
    inner(0, 0, 0, 1, 0, 0);
    return;
  }
  const n = shape[rank - 1]!;
  let rows = 1;
  for (let i = 0; i < rank - 1; i++) rows *= shape[i]!;
  if (n === 0 || rows === 0) return;
  const as = aStrides[rank - 1]!;
  const bs = bStrides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let ao = 0;
  let bo = 0;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    inner(o, ao, bo, n, as, bs);
    // advance the odometer over dimensions 0 .. rank-2
    for (let d = rank - 2; d >= 0; d--) {
      const i = idx[d]! + 1;
      if (i < shape[d]!) {
        idx[d] = i;
        ao += aStrides[d]!;
        bo += bStrides[d]!;
        break;
      }
      idx[d] = 0;
      ao -= aStrides[d]! * (shape[d]! - 1);
      bo -= bStrides[d]! * (shape[d]! - 1);
    }
  }
}

/**
 * True when `part`, left-padded with ones, equals `full` except on leading dimensions where it is
 * 1: its elements repeat as whole trailing blocks of `full` (a bias row against a batch).
 */
export function isTrailingPart(part: Shape, full: Shape): boolean {
  const off = full.length - part.length;
  if (off < 0) return false;
  let i = 0;
  while (i < part.length && part[i] === 1 && full[off + i] !== 1) i++;
  for (let k = i; k < part.length; k++) if (part[k] !== full[off + k]) return false;
  return true;
}

/** Copies `x` (shape `from`) into `out` (shape `to`), repeating along broadcast dimensions. */
export function broadcastInto(x: FloatArray, from: Shape, out: FloatArray, to: Shape): void {
  if (x.length === out.length) {
    out.set(x);
    return;
  }
  if (x.length === 1) {
    out.fill(x[0]!);
    return;
  }
  const xs = broadcastStrides(from, to);
  forEachRow(to, xs, xs, (o, a, _b, n, as) => {
    if (as === 1) out.set(x.subarray(a, a + n), o);
    else for (let j = 0; j < n; j++) out[o + j] = x[a + j * as]!;
  });
}

/**
 * Sums `g` (shape `from`) into `out` (shape `to`, zero-filled by the caller): the reduction that
 * undoes broadcasting `to` → `from`. Large sums over one contiguous group of axes run in the WASM
 * SIMD kernel (see `wasmSumTo` for how its rounding compares).
 */
export function sumToInto(g: FloatArray, from: Shape, out: FloatArray, to: Shape): void {
  if (g.length === out.length) {
    out.set(g);
    return;
  }
  if (wasmSumTo(g, from, out, to)) return;
  if (out.length === 1) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]!;
    out[0] = s;
    return;
  }
  // the gradient of a bias: only leading dimensions were broadcast, so sum whole rows, a column
  // at a time in a register: the same additions in the same order, each rounded to out's dtype
  // as the store into out did, without a store and a reload per element (float64, 30 rows of 3:
  // 0.24 → 0.15 µs; of 10, 0.66 → 0.35)
  if (isTrailingPart(to, from)) {
    const inner = out.length;
    // (an empty out with a non-empty g is not a valid call; without this it loops forever)
    if (inner === 0) return;
    if (out instanceof Float32Array) {
      for (let j = 0; j < inner; j++) {
        let s = out[j]!;
        for (let r = j; r < g.length; r += inner) s = Math.fround(s + g[r]!);
        out[j] = s;
      }
      return;
    }
    for (let j = 0; j < inner; j++) {
      let s = out[j]!;
      for (let r = j; r < g.length; r += inner) s += g[r]!;
      out[j] = s;
    }
    return;
  }
  const os = broadcastStrides(to, from);
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    if (ostride === 0) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i + j]!;
      out[o] = out[o]! + s;
    } else {
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + g[i + j]!;
    }
  });
}
