/** Evaluation helpers. */
import { ArgumentError, assertTensor, fmtShape, noGrad, ShapeError, Tensor } from "@gradgraph/core";
import type { Labels } from "@gradgraph/nodes";

/** Class indices from labels given as indices or one-hot rows (arg-max per row). */
export function labelIndices(fn: string, t: Labels, rows: number): Int32Array {
  if (t instanceof Tensor) {
    if (t.rank === 2) {
      if (t.shape[0] !== rows) throw new ShapeError(fn, `${fn}: ${t.shape[0]} label rows for ${rows} predictions`);
      return argmaxRows(t);
    }
    if (t.rank !== 1)
      throw new ShapeError(fn, `${fn}: labels of shape ${fmtShape(t.shape)} must be N class indices or N×C one-hot`);
    t = Array.from(t.data);
  }
  if (!(Array.isArray(t) || t instanceof Int32Array)) {
    throw new ArgumentError(fn, `${fn}: labels must be a Tensor, an array or an Int32Array`);
  }
  if (t.length !== rows) throw new ShapeError(fn, `${fn}: ${t.length} labels for ${rows} predictions`);
  return Int32Array.from(t);
}

/** Row-wise arg-max of a 2-D score tensor. */
export function argmaxRows(scores: Tensor): Int32Array {
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
 * @throws ShapeError when the labels do not match the rows.
 */
export function accuracy(model: { predict(x: Tensor): Tensor }, x: Tensor, t: Labels): number {
  assertTensor("accuracy", "x", x);
  const scores = noGrad(() => model.predict(x));
  if (scores.rank !== 2)
    throw new ShapeError("accuracy", `accuracy: predictions must be N×C, got ${fmtShape(scores.shape)}`);
  const pred = argmaxRows(scores);
  const truth = labelIndices("accuracy", t, pred.length);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) hit++;
  return pred.length === 0 ? 0 : hit / pred.length;
}
