/**
 * Losses: softmax cross-entropy (the seed's SoftmaxWithLoss, backward `(y − t)/N`) and mean
 * squared error.
 */
import {
  ArgumentError,
  allocArray,
  assertTensor,
  type BackwardContext,
  defineOp,
  describeValue,
  type FloatArray,
  fmtShape,
  isTensor,
  type Op,
  ShapeError,
  shapesEqual,
  Tensor,
} from "@gradgraph/core";
import { softmaxProbsInto } from "@gradgraph/core/kernels";
import { mul, sub } from "./arithmetic.js";
import { fmtValue, isArray, isInt32Array } from "./format.js";
import { mean, sum } from "./reduce.js";
import { logSoftmax, softmax } from "./softmax.js";

/** Class labels: one-hot (or probability) targets of the scores' shape, or class indices. */
export type Labels = Tensor | readonly number[] | Int32Array;

/**
 * `softmaxCrossEntropy` over the last axis of `scores` with target distributions `t` (same
 * shape), averaged over the N rows: `−Σ t·log softmax(scores) / N`.
 */
export const softmaxCrossEntropyOp: Op = defineOp({
  name: "softmaxCrossEntropy",
  inputs: ["scores", "targets"],
  check([s, t]) {
    if (s.rank < 1) {
      throw new ShapeError(
        "softmaxCrossEntropy",
        `softmaxCrossEntropy: scores must have a class axis, got shape ${fmtShape(s.shape)}`,
      );
    }
    if (!shapesEqual(s.shape, t.shape)) {
      throw new ShapeError(
        "softmaxCrossEntropy",
        `softmaxCrossEntropy: targets of shape ${fmtShape(t.shape)} do not match scores of shape ${fmtShape(s.shape)}`,
      );
    }
  },
  forward([s, t], _attrs, ctx) {
    // −Σ t·(s − logSumExp(s)) row by row, stably; the probabilities are kept for backward, as
    // the seed's layer keeps `self.y`
    const C = s.shape[s.rank - 1]!;
    const sd = s.data;
    const td = t.data;
    const probs = allocArray("float64", s.size) as Float64Array;
    let total = 0;
    // the probabilities and each row's log-sum-exp from the softmax kernel (WASM SIMD when large)
    const rowLse = C > 0 ? softmaxProbsInto(sd, C, probs) : new Float64Array(0);
    for (let r = 0, i = 0; r < sd.length; r += C, i++) {
      const l = rowLse[i]!;
      for (let j = 0; j < C; j++) {
        const tv = td[r + j]!;
        if (tv !== 0) total -= tv * (sd[r + j]! - l);
      }
    }
    const out = ctx.alloc([]);
    out.data[0] = total / rows(s.shape);
    ctx.saveInputs(0, 1);
    ctx.stash({ normalized: rowsSumToOne(td, C), probs } satisfies SceStash);
    return out;
  },
  backward(gy, ctx) {
    const s = ctx.input(0);
    const t = ctx.input(1);
    const [ds, dt] = ctx.needsInputGrad;
    const stash = ctx.stashed as SceStash;
    const g = mul(gy, 1 / rows(s.shape));
    // d/ds = (softmax(s)·Σt − t)/N; for targets whose rows sum to 1 (one-hot, probabilities) and
    // that are constants, that is the seed's (y − t)/N, one product cheaper
    const ys = dt || !stash.normalized ? mul(softmax(s), sum(t, { axis: -1, keepdims: true })) : softmax(s);
    return [ds ? mul(sub(ys, t), g) : null, dt ? mul(logSoftmax(s), mul(g, -1)) : null];
  },
  // a second route, for a pass that records nothing: the seed's (y − t)/N in one loop over the
  // probabilities forward kept (checkOp compares it with backward)
  fusedBackward(grads, ctx) {
    const gy = grads as Tensor;
    if (ctx.needsInputGrad[1]) return softmaxCrossEntropyOp.spec.backward(gy, ctx as BackwardContext<undefined>);
    const s = ctx.input(0);
    return [fusedGrad(s, ctx.input(1), gy.data[0]! / rows(s.shape), ctx.stashed as SceStash), null];
  },
  test: {
    cases: (pick) => {
      const s = [pick.int(1, 4), pick.int(1, 4)];
      return { shapes: [s, s], attrs: undefined };
    },
    domain: [0.05, 1],
  },
});

/** `(softmax(s)·Σt − t)·g` (or `(softmax(s) − t)·g` when the rows of t sum to 1), as a plain tensor. */
function fusedGrad(s: Tensor, t: Tensor, g: number, { normalized, probs }: SceStash): Tensor {
  const C = s.shape[s.rank - 1]!;
  const out = allocArray(s.dtype, s.size);
  const td = t.data;
  for (let r = 0; r < out.length; r += C) {
    let mass = 1;
    if (!normalized) {
      mass = 0;
      for (let j = 0; j < C; j++) mass += td[r + j]!;
    }
    for (let j = 0; j < C; j++) out[r + j] = (probs[r + j]! * mass - td[r + j]!) * g;
  }
  return new Tensor(out, s.shape);
}

/** What the forward keeps for backward: whether the target rows sum to 1, and the probabilities. */
interface SceStash {
  readonly normalized: boolean;
  readonly probs: FloatArray;
}

/** True when every row of `t` (rows of length C) sums to 1 within float32 rounding. */
function rowsSumToOne(t: ArrayLike<number>, C: number): boolean {
  for (let r = 0; r < t.length; r += C) {
    let s = 0;
    for (let j = 0; j < C; j++) s += t[r + j]!;
    if (Math.abs(s - 1) > 1e-6) return false;
  }
  return true;
}

function rows(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i]!;
  return n;
}

/**
 * Softmax followed by cross-entropy, averaged over the rows: the loss of the seed's
 * SoftmaxWithLoss layer, whose gradient is `(softmax(scores) − t) / N`. Computed from
 * log-softmax, so large scores do not overflow.
 * @param scores - shape `[..., C]`: unnormalised class scores, one row per example.
 * @param labels - one-hot (or probability) targets of the same shape, or class indices: an
 *   array, `Int32Array` or tensor of shape `[...]` (the scores' shape without the class axis).
 * @returns a 0-d tensor.
 * @throws ShapeError for labels whose shape fits neither form; ArgumentError for class indices
 *   that are not integers in `[0, C)`.
 */
export function softmaxCrossEntropy(scores: Tensor, labels: Labels): Tensor {
  const s = assertTensor("softmaxCrossEntropy", "scores", scores);
  if (s.rank < 1) {
    throw new ShapeError(
      "softmaxCrossEntropy",
      `softmaxCrossEntropy: scores must have a class axis, got shape ${fmtShape(s.shape)}`,
    );
  }
  if (isTensor(labels) && shapesEqual(labels.shape, s.shape)) return softmaxCrossEntropyOp([s, labels]);
  return softmaxCrossEntropyOp([s, oneHot("softmaxCrossEntropy", labels, s)]);
}

/** One-hot targets of `scores`' shape and dtype from class indices (shape: scores without the class axis). */
function oneHot(fn: string, labels: Labels, scores: Tensor): Tensor {
  const batch = scores.shape.slice(0, -1);
  const C = scores.shape[scores.rank - 1]!;
  let idx: ArrayLike<number>;
  if (isTensor(labels)) {
    if (!shapesEqual(labels.shape, batch)) {
      throw new ShapeError(
        fn,
        `${fn}: labels of shape ${fmtShape(labels.shape)} fit neither scores ${fmtShape(scores.shape)} (one-hot) nor ${fmtShape(batch)} (class indices)`,
      );
    }
    idx = labels.data;
  } else if (isArray(labels) || isInt32Array(labels)) {
    idx = labels as ArrayLike<number>;
    const n = batch.reduce((a, b) => a * b, 1);
    if (idx.length !== n) {
      throw new ShapeError(
        fn,
        `${fn}: ${idx.length} class indices for ${n} rows of scores of shape ${fmtShape(scores.shape)}`,
      );
    }
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: labels must be a Tensor, an array or an Int32Array of class indices, got ${describeValue(labels)}`,
    );
  }
  const t = allocArray(scores.dtype, scores.size);
  for (let r = 0; r < idx.length; r++) {
    const k = idx[r];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= C) {
      throw new ArgumentError(fn, `${fn}: label ${r} is ${fmtValue(k)}; class indices must be integers in [0, ${C})`);
    }
    t[r * C + k] = 1;
  }
  return new Tensor(t, scores.shape);
}

/**
 * Mean squared error `mean((prediction − target)²)` over all elements, like PyTorch's
 * `MSELoss()`. The shapes must be equal (no silent broadcasting).
 * @throws ShapeError naming both shapes when they differ.
 */
export function meanSquaredError(prediction: Tensor, target: Tensor): Tensor {
  const p = assertTensor("meanSquaredError", "prediction", prediction);
  const t = assertTensor("meanSquaredError", "target", target);
  if (!shapesEqual(p.shape, t.shape)) {
    throw new ShapeError(
      "meanSquaredError",
      `meanSquaredError: prediction of shape ${fmtShape(p.shape)} and target of shape ${fmtShape(t.shape)} differ`,
    );
  }
  const d = sub(p, t);
  return mean(mul(d, d));
}
