/**
 * Reductions over broadcast axes: every element of `x` (shape `from`) meets the element of `out`
 * (shape `to`, the kept shape: size 1 on the reduced axes) that it reduces into.
 */
import type { FloatArray } from "../dtype.js";
import { scratchF64 } from "../memory.js";
import type { Shape } from "../shape.js";
import { broadcastStrides, forEachRow } from "./broadcast.js";
import { wasmLogSumExpTo, wasmMaxTo } from "./runtime/wasm-ops.js";

/** `out[o] = max over the elements reducing into o` (−∞ for empty reductions). */
export function maxToInto(x: FloatArray, from: Shape, out: FloatArray, to: Shape): void {
  if (wasmMaxTo(x, from, out, to)) return;
  out.fill(Number.NEGATIVE_INFINITY);
  const os = broadcastStrides(to, from);
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    if (ostride === 0) {
      let m = out[o]!;
      for (let j = 0; j < n; j++) {
        const v = x[i + j]!;
        if (v > m || Number.isNaN(v)) m = v;
      }
      out[o] = m;
    } else {
      for (let j = 0; j < n; j++) {
        const v = x[i + j]!;
        if (v > out[o + j]! || Number.isNaN(v)) out[o + j] = v;
      }
    }
  });
}

/**
 * A 0/1 mask of `x`'s shape marking, for each reduction, the first element (in row-major order)
 * equal to its maximum `m` (shape `to`): where the gradient of a max goes.
 */
export function argmaxMaskInto(x: FloatArray, from: Shape, m: FloatArray, to: Shape, mask: FloatArray): void {
  const claimed = new Uint8Array(m.length);
  const os = broadcastStrides(to, from);
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    for (let j = 0; j < n; j++) {
      const k = o + j * ostride;
      if (claimed[k] === 0 && (x[i + j] === m[k] || (Number.isNaN(m[k]!) && Number.isNaN(x[i + j]!)))) {
        mask[i + j] = 1;
        claimed[k] = 1;
      }
    }
  });
}

/**
 * The gradient mask of a max: for each reduction, `1/k` at each of the `k` elements equal to its
 * maximum `m` (shape `to`; the NaN elements where `m` is NaN), 0 elsewhere. The gradient of a max
 * is split evenly among tied maxima, as PyTorch's `amax` and full `max` do.
 */
export function maxMaskInto(x: FloatArray, from: Shape, m: FloatArray, to: Shape, mask: FloatArray): void {
  const count = scratchF64(m.length);
  const os = broadcastStrides(to, from);
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    for (let j = 0; j < n; j++) {
      const k = o + j * ostride;
      if (x[i + j] === m[k] || (Number.isNaN(m[k]!) && Number.isNaN(x[i + j]!))) {
        mask[i + j] = 1;
        count[k] = count[k]! + 1;
      }
    }
  });
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    for (let j = 0; j < n; j++) {
      const k = o + j * ostride;
      if (mask[i + j] !== 0 && count[k]! > 1) mask[i + j] = 1 / count[k]!;
    }
  });
}

/**
 * `out[o] = log Σ exp(x)` over each reduction, shifted by its maximum for stability. Large
 * reductions over trailing axes run in the WASM softmax kernel.
 */
export function logSumExpToInto(x: FloatArray, from: Shape, out: FloatArray, to: Shape): void {
  if (wasmLogSumExpTo(x, from, out, to)) return;
  const m = scratchF64(out.length);
  maxToInto(x, from, m, to);
  const s = scratchF64(out.length);
  const os = broadcastStrides(to, from);
  forEachRow(from, os, os, (i, o, _b, n, ostride) => {
    for (let j = 0; j < n; j++) {
      const k = o + j * ostride;
      const mk = m[k]!;
      s[k] = s[k]! + Math.exp(x[i + j]! - (Number.isFinite(mk) ? mk : 0));
    }
  });
  for (let k = 0; k < out.length; k++) {
    const mk = m[k]!;
    out[k] = (Number.isFinite(mk) ? mk : 0) + Math.log(s[k]!);
  }
}
