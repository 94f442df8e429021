/**
 * The seed's SoftmaxWithLoss layer: softmax and cross-entropy in one, backward `(y − t)/N`; with
 * options, PyTorch's CrossEntropyLoss (class weights, sum, label smoothing, an ignored index).
 */
import {
  ArgumentError,
  assertTensor,
  describeValue,
  fmtShape,
  GraphError,
  isTensor,
  ShapeError,
  shapesEqual,
  type Tensor,
} from "@gradgraph/core";
import { type Labels, type SoftmaxCrossEntropyOptions, softmax, softmaxCrossEntropy } from "@gradgraph/nodes";
import { checkLabelsFor, frozenError, isArray, MAX_ELEMENTS, notAnInstance, optionsIn } from "../checks.js";
import { autodiffBackward } from "./layer.js";

/** The brand check of SoftmaxWithLoss (its private field). */
let isLossLayer: (value: object) => boolean;

/** Checks that `self` is a SoftmaxWithLoss. @throws ArgumentError naming `member`. */
function checkLossThis(member: string, self: unknown): void {
  if (typeof self !== "object" || self === null || !isLossLayer(self)) {
    throw notAnInstance(member, "SoftmaxWithLoss", self);
  }
}

/** A loss layer: `forward(x, t)` returns a 0-d loss; `backward(dout = 1)` returns dx. */
export interface LossLayer {
  /** The layer's class name, for messages and graph clusters. */
  readonly name: string;
  /** Trainable tensors (leaves that require grad); empty for `SoftmaxWithLoss`. */
  readonly params: readonly Tensor[];
  /** Gradient buffers, one per param, same shapes; written in place by `backward`. */
  readonly grads: readonly Tensor[];
  /**
   * The loss of scores `x` (N×C) against labels `t` (one-hot N×C, or N class indices), as a 0-d
   * tensor; records the graph for `backward`.
   */
  forward(x: Tensor, t: Labels): Tensor;
  /**
   * Differentiates the last forward's loss: writes the parameters' gradients into `grads` and
   * returns the gradient with respect to the scores `x` (N×C), or `null` when `x` does not
   * require grad. `dout` (the loss's upstream gradient) defaults to 1.
   */
  backward(dout?: Tensor): Tensor | null;
}

/**
 * The options of {@link SoftmaxWithLoss}: PyTorch's `CrossEntropyLoss(weight, ignore_index,
 * reduction, label_smoothing)` for a layer's one-number loss, computed by `softmaxCrossEntropy`
 * of `@gradgraph/nodes` (see its options for the formulas).
 */
export interface SoftmaxWithLossOptions {
  /**
   * Per-class weights (PyTorch's `weight`): a 1-D Tensor or an array of finite numbers, one per
   * class (their number is checked against x's classes by `forward`). Copied when the layer is
   * made, and constants: they get no gradient. With class indices, the mean divides by the sum of
   * the weights of the rows' labels.
   */
  readonly weights?: Tensor | readonly number[];
  /** `"mean"` (default) or `"sum"`. A loss layer returns one number, so `"none"` is not offered. */
  readonly reduction?: "mean" | "sum";
  /** ε in [0, 1] (default 0): the targets become `(1 − ε)·t + ε/C`. */
  readonly labelSmoothing?: number;
  /**
   * A class index whose rows contribute nothing and leave the mean's denominator (class indices
   * only; default none). `Trainer.fit` takes non-negative labels only: train with a non-negative
   * one (such as 255) there.
   */
  readonly ignoreIndex?: number;
}

/** The keys of {@link SoftmaxWithLossOptions}. */
const LOSS_OPTIONS = ["weights", "reduction", "labelSmoothing", "ignoreIndex"] as const;

/** Checked options with the weights copied, or undefined for none (the seed's loss, its fast path). */
function lossOptions(options: unknown): SoftmaxCrossEntropyOptions | undefined {
  const fn = "SoftmaxWithLoss";
  if (options === undefined) return undefined;
  const o = optionsIn<Record<string, unknown>>(fn, options, LOSS_OPTIONS);
  const { weights, reduction, labelSmoothing, ignoreIndex } = o;
  const out: { -readonly [K in keyof SoftmaxCrossEntropyOptions]: SoftmaxCrossEntropyOptions[K] } = {};
  if (reduction !== undefined) {
    if (reduction !== "mean" && reduction !== "sum") {
      throw new ArgumentError(
        fn,
        `${fn}: reduction must be "mean" or "sum" (a loss layer returns one number), got ${describeValue(reduction)}`,
      );
    }
    out.reduction = reduction;
  }
  if (labelSmoothing !== undefined) {
    if (typeof labelSmoothing !== "number" || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
      throw new ArgumentError(
        fn,
        `${fn}: labelSmoothing must be a number in [0, 1], got ${describeValue(labelSmoothing)}`,
      );
    }
    out.labelSmoothing = labelSmoothing;
  }
  if (ignoreIndex !== undefined) {
    if (!Number.isSafeInteger(ignoreIndex)) {
      throw new ArgumentError(fn, `${fn}: ignoreIndex must be an integer, got ${describeValue(ignoreIndex)}`);
    }
    out.ignoreIndex = ignoreIndex as number;
  }
  if (weights !== undefined) out.weights = weightsIn(fn, weights);
  // no option given: the seed's loss, through softmaxCrossEntropy's path without options
  return Object.keys(out).length === 0 ? undefined : Object.freeze(out);
}

/** The weights option as a copy of its numbers. @throws ArgumentError/ShapeError naming `fn`. */
function weightsIn(fn: string, weights: unknown): number[] {
  let values: ArrayLike<unknown>;
  if (isTensor(weights)) {
    if (weights.rank !== 1) {
      throw new ShapeError(fn, `${fn}: weights of shape ${fmtShape(weights.shape)} must be 1-D, one per class`);
    }
    values = weights.data;
  } else if (isArray(weights)) {
    values = weights;
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: weights must be a 1-D Tensor or an array of finite numbers, one per class, got ${describeValue(weights)}`,
    );
  }
  if (values.length > MAX_ELEMENTS) {
    throw new ShapeError(fn, `${fn}: ${values.length} weights are more than a tensor holds`);
  }
  const out: number[] = [];
  for (let c = 0; c < values.length; c++) {
    const w = values[c];
    if (typeof w !== "number" || !Number.isFinite(w)) {
      throw new ArgumentError(fn, `${fn}: weights[${c}] is ${describeValue(w)}; weights must be finite numbers`);
    }
    out.push(w);
  }
  return out;
}

/**
 * `SoftmaxWithLoss`: the cross-entropy of softmax(x) against labels (one-hot, probabilities or
 * class indices), the mean over rows by default; with options, PyTorch's `CrossEntropyLoss`.
 */
export class SoftmaxWithLoss implements LossLayer {
  readonly name = "SoftmaxWithLoss";
  readonly params: readonly Tensor[] = [];
  readonly grads: readonly Tensor[] = [];
  /** The probabilities of the last forward (not recorded), as the book keeps `self.y`. */
  y: Tensor | null = null;
  #input: Tensor | null = null;
  #loss: Tensor | null = null;
  readonly #options: SoftmaxCrossEntropyOptions | undefined;

  static {
    isLossLayer = (v) => #loss in v;
  }

  /**
   * A softmax cross-entropy loss layer.
   * @param options - `{ weights, reduction, labelSmoothing, ignoreIndex }`, PyTorch's
   *   `CrossEntropyLoss` options ({@link SoftmaxWithLossOptions}); none: the seed's mean loss.
   * @throws ArgumentError naming `SoftmaxWithLoss` for an options argument that is not an object,
   *   an unknown key, a reduction other than `"mean"` and `"sum"`, a labelSmoothing outside [0, 1],
   *   an ignoreIndex that is not an integer, or weights that are not finite numbers; ShapeError for
   *   weights that are not 1-D.
   */
  constructor(options?: SoftmaxWithLossOptions) {
    this.#options = lossOptions(options);
  }

  /**
   * The softmax cross-entropy of the scores against the labels (the mean over rows, or as the
   * options say); records the graph for `backward` and forgets the previous forward's
   * probabilities.
   * @param x - scores, N×C.
   * @param t - one-hot (or probability) targets N×C, or N class indices.
   * @returns the 0-d loss.
   * @throws ShapeError/ArgumentError naming `SoftmaxWithLoss.forward` for an x without a class
   *   axis, labels that fit neither form (class indices must be integers in [0, C) or the
   *   ignoreIndex), weights that are not one per class, or an ignoreIndex ≥ 0 with targets of x's
   *   shape (PyTorch's rule).
   */
  forward(x: Tensor, t: Labels): Tensor {
    const fn = "SoftmaxWithLoss.forward";
    checkLossThis(fn, this);
    assertTensor(fn, "x", x);
    const options = this.#options;
    checkLabelsFor(fn, "t", x, t, options?.ignoreIndex ?? null);
    if (options !== undefined) checkOptionsFor(fn, options, x, t);
    const loss = softmaxCrossEntropy(x, t, options);
    try {
      this.y = null;
    } catch {
      throw frozenError("SoftmaxWithLoss.forward", "the layer");
    }
    this.#input = x;
    this.#loss = loss;
    return loss;
  }

  /**
   * Probabilities of the last forward's scores, computed on demand.
   * @throws GraphError naming `SoftmaxWithLoss.probabilities` before the first forward.
   */
  probabilities(): Tensor {
    checkLossThis("SoftmaxWithLoss.probabilities", this);
    if (this.#input === null) {
      throw new GraphError("SoftmaxWithLoss.probabilities", "SoftmaxWithLoss.probabilities: call forward first");
    }
    if (this.y === null) {
      const y = softmax(this.#input.detach());
      try {
        this.y = y;
      } catch {
        throw frozenError("SoftmaxWithLoss.probabilities", "the layer");
      }
    }
    return this.y;
  }

  /**
   * The gradient of the last forward's loss with respect to the scores: `dout·(softmax(x) − t)/N`
   * without options (`dout` defaults to 1), by autodiff through the recorded loss.
   * @returns dx (N×C), or `null` when `x` does not require grad.
   * @throws GraphError naming `SoftmaxWithLoss.backward` before a forward, or when the last
   *   forward was already differentiated; ArgumentError/ShapeError for a `dout` that is not a
   *   0-d (or one-element) Tensor.
   */
  backward(dout?: Tensor): Tensor | null {
    checkLossThis("SoftmaxWithLoss.backward", this);
    return autodiffBackward(this.name, this.#input, this.#loss, this.params, this.grads, dout);
  }
}

/**
 * The options against this forward's scores and labels: one weight per class, and no
 * ignoreIndex ≥ 0 with targets of x's shape. @throws ShapeError/ArgumentError naming `fn`.
 */
function checkOptionsFor(fn: string, options: SoftmaxCrossEntropyOptions, x: Tensor, t: Labels): void {
  const C = x.shape[x.rank - 1]!;
  const w = options.weights as readonly number[] | undefined;
  if (w !== undefined && w.length !== C) {
    throw new ShapeError(
      fn,
      `${fn}: the layer's ${w.length} weights do not fit the ${C} classes of x of shape ${fmtShape(x.shape)}`,
    );
  }
  const ignoreIndex = options.ignoreIndex;
  if (
    ignoreIndex !== undefined &&
    ignoreIndex !== null &&
    ignoreIndex >= 0 &&
    isTensor(t) &&
    shapesEqual(t.shape, x.shape)
  ) {
    throw new ArgumentError(
      fn,
      `${fn}: the layer's ignoreIndex ${ignoreIndex} applies to class indices only, not to targets of x's shape ${fmtShape(x.shape)}`,
    );
  }
}
