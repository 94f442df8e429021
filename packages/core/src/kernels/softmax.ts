/**
 * The softmax family along rows (the last axis, rows of length `n`): log-softmax, softmax, and
 * softmax cross-entropy's probabilities with each row's log-sum-exp. The WebAssembly SIMD kernel
 * for large arrays, a TypeScript loop otherwise; per row m = max, lse = m + log Σ exp(x − m), with
 * a non-finite m replaced by 0. A row holding +Infinity (and no NaN) has lse +Infinity, and its
 * softmax, log-softmax and probabilities are NaN throughout, as in PyTorch, JAX and SciPy (x − m
 * is NaN there, so the sum is); a NaN anywhere in a row makes the whole row NaN too.
 */
import type { FloatArray } from "../dtype.js";
import { scratchF64 } from "../memory.js";
import { wasmSoftmaxProbs, wasmSoftmaxRows } from "./runtime/wasm-ops.js";

/**
 * `out = x − lse` per row of length `n` (log-softmax along the last axis). Trusted input: `out`
 * of `x`'s length and dtype, `n` > 0 dividing it.
 */
export function logSoftmaxRowsInto(x: FloatArray, n: number, out: FloatArray): void {
  if (wasmSoftmaxRows(1, x, n, out, null)) return;
  logSoftmaxRowsTs(x, n, out);
}

/**
 * `out = exp(x − lse)` per row of length `n` (softmax along the last axis). Trusted input as
 * {@link logSoftmaxRowsInto}.
 */
export function softmaxRowsInto(x: FloatArray, n: number, out: FloatArray): void {
  if (wasmSoftmaxRows(0, x, n, out, null)) return;
  logSoftmaxRowsTs(x, n, out);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]!);
}

/**
 * The softmax of rows of length `n` of `x` into the Float64Array `probs`, whatever `x`'s dtype
 * (softmax cross-entropy's forward); returns each row's log-sum-exp. Trusted input: `probs` of
 * `x`'s length, `n` > 0 dividing it.
 */
export function softmaxProbsInto(x: FloatArray, n: number, probs: Float64Array): Float64Array {
  const fast = wasmSoftmaxProbs(x, n, probs);
  if (fast !== null) return fast;
  const lse = scratchF64(x.length / n);
  for (let r = 0, i = 0; r < x.length; r += n, i++) {
    const end = r + n;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = r; j < end; j++) {
      const v = x[j]!;
      if (v > m) m = v;
    }
    // a non-finite max (NaN, ±Infinity: m − m is NaN) is replaced by 0
    if (m - m !== 0) m = 0;
    let z = 0;
    for (let j = r; j < end; j++) {
      const e = Math.exp(x[j]! - m);
      probs[j] = e;
      z += e;
    }
    const l = m + Math.log(z);
    lse[i] = l;
    // (+Infinity in the row: NaN throughout, see the file comment)
    if (l === Number.POSITIVE_INFINITY) for (let j = r; j < end; j++) probs[j] = Number.NaN;
    else for (let j = r; j < end; j++) probs[j] = probs[j]! / z;
  }
  return lse;
}

function logSoftmaxRowsTs(x: FloatArray, n: number, out: FloatArray): void {
  for (let r = 0; r < x.length; r += n) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) if (x[r + j]! > m) m = x[r + j]!;
    if (!Number.isFinite(m)) m = 0;
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x[r + j]! - m);
    const lse = m + Math.log(s);
    // (+Infinity in the row: NaN throughout, see the file comment)
    const shift = lse === Number.POSITIVE_INFINITY ? Number.NaN : lse;
    for (let j = 0; j < n; j++) out[r + j] = x[r + j]! - shift;
  }
}
