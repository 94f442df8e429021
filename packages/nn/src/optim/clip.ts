/** Gradient clipping by global norm, as the book's `clip_grads` and PyTorch's `clip_grad_norm_`. */
import { ArgumentError, assertTensor, describeValue, type Tensor } from "@gradgraph/core";
import { isArray, markAllModified } from "../checks.js";

/**
 * Clips gradients by their global L2 norm: with `norm = √(Σ over all grads of Σ g²)`, when
 * `norm > maxNorm` every gradient is scaled in place by `maxNorm / (norm + 1e-6)` (so the clipped
 * global norm is just under `maxNorm`) and marked modified; otherwise nothing changes.
 *
 * A non-finite norm (a NaN or infinite gradient) is returned without scaling anything, so the
 * caller can detect it and skip the step. `maxNorm = Infinity` only measures the norm.
 *
 * @param grads - the gradients (a model's `grads`); a tensor listed twice is scaled twice.
 * @param maxNorm - the largest allowed global norm, a number > 0.
 * @returns the global norm before clipping.
 * @throws ArgumentError when `grads` is not an array of Tensors or `maxNorm` is not a number > 0.
 */
export function clipGradNorm(grads: readonly Tensor[], maxNorm: number): number {
  if (!isArray(grads)) {
    throw new ArgumentError(
      "clipGradNorm",
      `clipGradNorm: grads must be an array of Tensors, got ${describeValue(grads)}`,
    );
  }
  if (typeof maxNorm !== "number" || !(maxNorm > 0)) {
    throw new ArgumentError(
      "clipGradNorm",
      `clipGradNorm: maxNorm must be a number > 0, got ${describeValue(maxNorm)}`,
    );
  }
  for (let i = 0; i < grads.length; i++) {
    const g: unknown = grads[i];
    assertTensor("clipGradNorm", `grads[${i}]`, g);
  }
  let sumSq = 0;
  for (const g of grads) {
    const d = g.data;
    for (let j = 0; j < d.length; j++) sumSq += d[j]! * d[j]!;
  }
  let norm = Math.sqrt(sumSq);
  if (norm === Number.POSITIVE_INFINITY) norm = rescaledNorm(grads);
  if (!Number.isFinite(norm) || !(norm > maxNorm)) return norm;
  const rate = maxNorm / (norm + 1e-6);
  // every gradient is marked modified before any is rescaled: a frozen one throws here
  markAllModified("clipGradNorm", "grads", grads);
  for (const g of grads) {
    const d = g.data;
    for (let j = 0; j < d.length; j++) d[j] = d[j]! * rate;
  }
  return norm;
}

/** The global norm when the plain sum of squares overflows: scaled by the largest magnitude. */
function rescaledNorm(grads: readonly Tensor[]): number {
  let big = 0;
  for (const g of grads) {
    const d = g.data;
    for (let j = 0; j < d.length; j++) big = Math.max(big, Math.abs(d[j]!));
  }
  if (!Number.isFinite(big)) return big;
  let sumSq = 0;
  for (const g of grads) {
    const d = g.data;
    for (let j = 0; j < d.length; j++) {
      const x = d[j]! / big;
      sumSq += x * x;
    }
  }
  return big * Math.sqrt(sumSq);
}
