/**
 * Models in the seed's convention: `params`/`grads` gathered from the layers, `predict`,
 * `forward(x, t)` returning the loss, and `backward()`, which runs one reverse-mode pass from
 * the loss and accumulates every gradient into the layers' existing `grads` tensors.
 */
import {
  ArgumentError,
  assertTensor,
  type DType,
  describeValue,
  GraphError,
  Rng,
  randn,
  type Tensor,
  Tensor as TensorCtor,
  zeros,
} from "@gradgraph/core";
import type { Labels } from "@gradgraph/nodes";
import { Affine, type Layer, type LossLayer, Sigmoid, SoftmaxWithLoss } from "./layers/index.js";

/** What a Trainer needs from a model. */
export interface Model {
  readonly params: readonly Tensor[];
  readonly grads: readonly Tensor[];
  /** Scores for a batch (no loss). */
  predict(x: Tensor): Tensor;
  /** The loss for a batch and its labels (records the graph). */
  forward(x: Tensor, t: Labels): Tensor;
  /** Fills `grads` with the gradients of the last forward's loss. */
  backward(dout?: number): void;
}

/** A stack of layers followed by a loss layer. */
export class Sequential implements Model {
  readonly layers: readonly Layer[];
  readonly lossLayer: LossLayer;
  readonly params: readonly Tensor[];
  readonly grads: readonly Tensor[];
  #loss: Tensor | null = null;

  /**
   * @param layers - applied in order by `predict`.
   * @param lossLayer - applied by `forward` (default `SoftmaxWithLoss`).
   */
  constructor(layers: readonly Layer[], lossLayer: LossLayer = new SoftmaxWithLoss()) {
    this.layers = layers;
    this.lossLayer = lossLayer;
    this.params = [...layers.flatMap((l) => l.params), ...lossLayer.params];
    this.grads = [...layers.flatMap((l) => l.grads), ...lossLayer.grads];
  }

  predict(x: Tensor): Tensor {
    let h = assertTensor("predict", "x", x);
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  forward(x: Tensor, t: Labels): Tensor {
    const loss = this.lossLayer.forward(this.predict(x), t);
    this.#loss = loss;
    return loss;
  }

  /**
   * One reverse-mode pass from the last loss: the gradients are accumulated into the zeroed
   * `grads` (which are the params' `.grad`), so no buffer is re-assigned.
   * @throws GraphError when there was no forward since the last backward.
   */
  backward(dout = 1): void {
    const loss = this.#loss;
    if (loss === null) {
      throw new GraphError("backward", "backward: call forward(x, t) first; there is no loss to differentiate");
    }
    this.#loss = null;
    for (let i = 0; i < this.params.length; i++) {
      const g = this.grads[i]!;
      g.fill_(0);
      this.params[i]!.grad = g;
    }
    loss.backward(dout);
  }
}

/** Options of `TwoLayerNet`. */
export interface TwoLayerNetOptions {
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Start from these parameters (W1, b1, W2, b2) instead of a random draw, e.g. the book's. */
  init?: { W1: Tensor; b1?: Tensor; W2: Tensor; b2?: Tensor };
}

/**
 * The seed's two-layer net: Affine → Sigmoid → Affine, with SoftmaxWithLoss. Parameters are
 * `[W1, b1, W2, b2]`, weights initialised as `0.01 · randn` from the seed and biases as zeros,
 * exactly as in the book.
 */
export class TwoLayerNet extends Sequential {
  /**
   * @throws ArgumentError for sizes that are not positive integers; ShapeError for `init`
   *   tensors of the wrong shapes.
   */
  constructor(inputSize: number, hiddenSize: number, outputSize: number, options: TwoLayerNetOptions = {}) {
    for (const [k, v] of Object.entries({ inputSize, hiddenSize, outputSize })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ArgumentError("TwoLayerNet", `TwoLayerNet: ${k} must be a positive integer, got ${describeValue(v)}`);
      }
    }
    const dtype = options.dtype ?? "float32";
    const rng = new Rng(options.seed ?? 0);
    const weight = (shape: number[], given: Tensor | undefined): Tensor => {
      if (given !== undefined) return copyAs(given, shape, dtype);
      const w = randn(shape, { rng, dtype });
      for (let i = 0; i < w.size; i++) w.data[i] = 0.01 * w.data[i]!;
      return w;
    };
    const bias = (n: number, given: Tensor | undefined) =>
      given !== undefined ? copyAs(given, [n], dtype) : zeros([n], { dtype });
    const W1 = weight([inputSize, hiddenSize], options.init?.W1);
    const b1 = bias(hiddenSize, options.init?.b1);
    const W2 = weight([hiddenSize, outputSize], options.init?.W2);
    const b2 = bias(outputSize, options.init?.b2);
    super([new Affine(W1, b1), new Sigmoid(), new Affine(W2, b2)], new SoftmaxWithLoss());
  }
}

/** A fresh `dtype` copy of `t` in `shape` (a same-size `t` of another shape, like 1×H for H, is accepted). */
function copyAs(t: Tensor, shape: number[], dtype: DType): Tensor {
  assertTensor("TwoLayerNet", "init", t);
  const out = zeros(shape, { dtype });
  return out.copy_(t.size === out.size ? new TensorCtor(t.data, shape) : t);
}
