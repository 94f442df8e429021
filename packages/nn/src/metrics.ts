/** Evaluation helpers. */
import {
  type AnyTensor,
  ArgumentError,
  assertTensor,
  describeValue,
  fmtShape,
  isTensor,
  noGrad,
  ShapeError,
  type Tensor,
} from "@gradgraph/core";
import type { Labels } from "@gradgraph/nodes";
import { checkClassIndices, isArray, isArrayOrRevoked, isCallable, isInt32Array } from "./checks.js";

/**
 * Class indices from labels given as indices or one-hot rows (arg-max per row).
 * @param fn - the caller's name, for messages.
 * @param t - one-hot N×C rows, or N class indices (a rank-1 tensor, an array or an Int32Array).
 * @param rows - N, the number of predictions the labels are for.
 * @throws ArgumentError naming `labelIndices` when `fn` is not a non-empty string or `rows` not a
 *   non-negative integer; naming `fn` when the labels are not a Tensor, an array or an Int32Array,
 *   or an index is not a non-negative integer; ShapeError naming `fn` when they do not match `rows`.
 */
export function labelIndices(fn: string, t: Labels, rows: number): Int32Array {
  if (typeof fn !== "string" || fn.length === 0) {
    throw new ArgumentError(
      "labelIndices",
      `labelIndices: fn must be the caller's name (a non-empty string), got ${describeValue(fn)}`,
    );
  }
  if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 0) {
    throw new ArgumentError(
      "labelIndices",
      `labelIndices: rows must be a non-negative integer, got ${describeValue(rows)}`,
    );
  }
  if (isTensor(t)) {
    if (t.rank === 2) {
      if (t.shape[0] !== rows) throw new ShapeError(fn, `${fn}: ${t.shape[0]} label rows for ${rows} predictions`);
      return argmaxRows(t);
    }
    if (t.rank !== 1)
      throw new ShapeError(fn, `${fn}: labels of shape ${fmtShape(t.shape)} must be N class indices or N×C one-hot`);
    t = Array.from(t.data);
  }
  if (!(isArray(t) || isInt32Array(t))) {
    throw new ArgumentError(fn, `${fn}: labels must be a Tensor, an array or an Int32Array, got ${describeValue(t)}`);
  }
  if (t.length !== rows) throw new ShapeError(fn, `${fn}: ${t.length} labels for ${rows} predictions`);
  // Int32Array.from would turn "1", 1.5, NaN or a hole into an index silently
  checkClassIndices(fn, "labels", t, 2 ** 31);
  return Int32Array.from(t);
}

/**
 * Row-wise arg-max of a 2-D score tensor (the first maximum on ties).
 * @throws ArgumentError/ShapeError naming `argmaxRows` when `scores` is not a 2-D Tensor.
 */
export function argmaxRows(scores: AnyTensor): Int32Array {
  assertTensor("argmaxRows", "scores", scores);
  if (scores.rank !== 2) {
    throw new ShapeError("argmaxRows", `argmaxRows: scores must be N×C, got shape ${fmtShape(scores.shape)}`);
  }
  const [n, c] = scores.shape as [number, number];
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (scores.data[r * c + k]! > scores.data[r * c + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/**
 * Fraction of rows of `x` whose predicted class (arg-max of `model.predict`) equals the label.
 * Runs without recording a graph.
 * @returns a fraction in [0, 1] (0 for no rows).
 * @throws ArgumentError naming `accuracy` when `model` has no `predict` method, `predict` does not
 *   return a Tensor, `x` is not a Tensor, or a class index is not an integer in [0, C); ShapeError
 *   when the predictions are not N×C or the labels do not match the rows; and what `predict`
 *   throws for an x it rejects.
 */
export function accuracy(model: { predict(x: Tensor): Tensor }, x: Tensor, t: Labels): number {
  if (model === null || typeof model !== "object" || isArrayOrRevoked(model) || !isCallable(model.predict)) {
    throw new ArgumentError("accuracy", `accuracy: model must have a predict(x) method, got ${describeValue(model)}`);
  }
  assertTensor("accuracy", "x", x);
  const scores: unknown = noGrad(() => model.predict(x));
  if (!isTensor(scores)) {
    throw new ArgumentError("accuracy", `accuracy: model.predict must return a Tensor, got ${describeValue(scores)}`);
  }
  if (scores.rank !== 2)
    throw new ShapeError("accuracy", `accuracy: predictions must be N×C, got ${fmtShape(scores.shape)}`);
  const pred = argmaxRows(scores);
  const truth = labelIndices("accuracy", t, pred.length);
  checkClassIndices("accuracy", "t", truth, scores.shape[1]!);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) hit++;
  return pred.length === 0 ? 0 : hit / pred.length;
}
