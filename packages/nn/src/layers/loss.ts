/** The seed's SoftmaxWithLoss layer: softmax and cross-entropy in one, backward `(y − t)/N`. */
import { assertTensor, GraphError, type Tensor } from "@gradgraph/core";
import { type Labels, softmax, softmaxCrossEntropy } from "@gradgraph/nodes";
import { checkLabelsFor, frozenError, notAnInstance } from "../checks.js";
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

/** `SoftmaxWithLoss`: mean cross-entropy of softmax(x) against labels (one-hot or class indices). */
export class SoftmaxWithLoss implements LossLayer {
  readonly name = "SoftmaxWithLoss";
  readonly params: readonly Tensor[] = [];
  readonly grads: readonly Tensor[] = [];
  /** The probabilities of the last forward (not recorded), as the book keeps `self.y`. */
  y: Tensor | null = null;
  #input: Tensor | null = null;
  #loss: Tensor | null = null;

  static {
    isLossLayer = (v) => #loss in v;
  }

  /**
   * The mean softmax cross-entropy of the scores against the labels; records the graph for
   * `backward` and forgets the previous forward's probabilities.
   * @param x - scores, N×C.
   * @param t - one-hot N×C, or N class indices.
   * @returns the 0-d mean loss.
   * @throws ShapeError/ArgumentError naming `SoftmaxWithLoss.forward` for an x without a class
   *   axis, or labels that fit neither form (class indices must be integers in [0, C)).
   */
  forward(x: Tensor, t: Labels): Tensor {
    checkLossThis("SoftmaxWithLoss.forward", this);
    assertTensor("SoftmaxWithLoss.forward", "x", x);
    checkLabelsFor("SoftmaxWithLoss.forward", "t", x, t);
    const loss = softmaxCrossEntropy(x, t);
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
   * (`dout` defaults to 1), by autodiff through the recorded loss.
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
