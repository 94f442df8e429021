/**
 * Models in the seed's convention: `params`/`grads` gathered from the layers, `predict`,
 * `forward(x, t)` returning the loss, and `backward()`, which runs one reverse-mode pass from
 * the loss and accumulates every gradient into the layers' existing `grads` tensors.
 */
import {
  ArgumentError,
  assertFloatTensor,
  assertTensor,
  describeValue,
  type FloatDType,
  fmtShape,
  GraphError,
  isTensor,
  Rng,
  randn,
  type Seed,
  ShapeError,
  type Storage,
  type Tensor,
  Tensor as TensorCtor,
  tensorLabel,
  zeros,
} from "@gradgraph/core";
import type { Labels } from "@gradgraph/nodes";
import {
  checkLayerLike,
  dtypeIn,
  isArray,
  isArrayOrRevoked,
  MAX_ELEMENTS,
  notAnInstance,
  optionsIn,
  seedIn,
} from "./checks.js";
import { Affine, type Layer, type LossLayer, Sigmoid, SoftmaxWithLoss } from "./layers/index.js";

/** What a Trainer needs from a model. */
export interface Model {
  /** Every trainable tensor, in a fixed order; an optimizer updates them in place. */
  readonly params: readonly Tensor[];
  /** The gradient of each of `params`, same order and shapes; filled by `backward`. */
  readonly grads: readonly Tensor[];
  /** Scores for a batch (no loss). */
  predict(x: Tensor): Tensor;
  /** The loss for a batch and its labels (records the graph). */
  forward(x: Tensor, t: Labels): Tensor;
  /** Fills `grads` with the gradients of the last forward's loss. */
  backward(dout?: number): void;
}

/** The brand check of Sequential (its private field). */
let isModel: (value: object) => boolean;

/** Checks that `self` is a Sequential (or TwoLayerNet). @throws ArgumentError naming `member`. */
function checkModelThis(member: string, self: unknown): void {
  if (typeof self !== "object" || self === null || !isModel(self)) throw notAnInstance(member, "Sequential", self);
}

/** A stack of layers followed by a loss layer. */
export class Sequential implements Model {
  /** The layers, applied in order by `predict`. */
  readonly layers: readonly Layer[];
  /** The loss layer, applied by `forward` to the last layer's output. */
  readonly lossLayer: LossLayer;
  /** Every layer's params in layer order, then the loss layer's. */
  readonly params: readonly Tensor[];
  /** The gradient buffers of `params`, same order (each is the param's `.grad`). */
  readonly grads: readonly Tensor[];
  #loss: Tensor | null = null;

  static {
    isModel = (v) => #loss in v;
  }

  /**
   * A model of `layers` followed by `lossLayer`, with their params and grads gathered in order.
   * @param layers - applied in order by `predict`.
   * @param lossLayer - applied by `forward` (default `SoftmaxWithLoss`).
   * @throws ArgumentError naming `Sequential` when `layers` is not an array of layers or
   *   `lossLayer` is not a loss layer (each needs `params`/`grads` arrays of equal length and
   *   `forward`/`backward` methods).
   */
  constructor(layers: readonly Layer[], lossLayer: LossLayer = new SoftmaxWithLoss()) {
    checkSequentialArgs(layers, lossLayer);
    this.layers = layers;
    this.lossLayer = lossLayer;
    this.params = [...layers.flatMap((l) => l.params), ...lossLayer.params];
    this.grads = [...layers.flatMap((l) => l.grads), ...lossLayer.grads];
  }

  /**
   * The scores for a batch: `x` through every layer in order (recording the graph).
   * @throws ArgumentError naming `predict` when `x` is not a Tensor, or the method is called on
   *   something that is not a model; whatever a layer throws.
   */
  predict(x: Tensor): Tensor {
    checkModelThis("Sequential.predict", this);
    let h = assertFloatTensor("predict", "x", x);
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  /**
   * The loss of a batch against its labels: `lossLayer.forward(predict(x), t)`, kept for `backward`.
   * @throws ArgumentError when the method is called on something that is not a model; whatever
   *   `predict` and the loss layer throw.
   */
  forward(x: Tensor, t: Labels): Tensor {
    checkModelThis("Sequential.forward", this);
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
    checkModelThis("Sequential.backward", this);
    const loss = this.#loss;
    if (loss === null) {
      throw new GraphError("backward", "backward: call forward(x, t) first; there is no loss to differentiate");
    }
    if (typeof dout !== "number" && !isTensor(dout)) {
      throw new ArgumentError(
        "backward",
        `backward: dout must be a number or a one-element Tensor, got ${describeValue(dout)}`,
      );
    }
    // every parameter's .grad is re-pointed at its zeroed buffer below: each write is tried
    // first (writing .grad to itself, marking the buffer modified), so a frozen one throws before
    // anything changes
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      try {
        // biome-ignore lint/correctness/noSelfAssign: the write is the test
        p.grad = p.grad;
        this.grads[i]!.markModified();
      } catch {
        throw new ArgumentError(
          "backward",
          `backward: params[${i}] ${tensorLabel(p)} or its gradient buffer is frozen (Object.freeze); parameters must be writable`,
        );
      }
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
  /** Seed of the weight initialisation (default 0): a safe integer or a BigInt, as `Rng` takes. */
  seed?: Seed;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
  /**
   * Where the parameters and their gradients live (default `'js'`): `'wasm'` keeps them in
   * WebAssembly memory, where the kernels and the SGD update use them in place (see
   * `Tensor.storage` in @gradgraph/core).
   */
  storage?: Storage;
  /**
   * Start from these parameters (W1, b1, W2, b2) instead of a random draw, e.g. the book's. They
   * are copied into new tensors of the net's dtype and storage.
   */
  init?: {
    /** The first weight, inputSize×hiddenSize (or any tensor of that many elements, read row-major). */
    W1: Tensor;
    /** The first bias, hiddenSize elements (e.g. shape [H] or [1, H]); default zeros. */
    b1?: Tensor;
    /** The second weight, hiddenSize×outputSize (or any tensor of that many elements). */
    W2: Tensor;
    /** The second bias, outputSize elements; default zeros. */
    b2?: Tensor;
  };
}

/**
 * The seed's two-layer net: Affine → Sigmoid → Affine, with SoftmaxWithLoss. Parameters are
 * `[W1, b1, W2, b2]`, weights initialised as `0.01 · randn` from the seed and biases as zeros,
 * exactly as in the book.
 */
export class TwoLayerNet extends Sequential {
  /**
   * A net mapping `inputSize` features through `hiddenSize` sigmoid units to `outputSize` scores:
   * W1 is inputSize×hiddenSize, b1 hiddenSize, W2 hiddenSize×outputSize, b2 outputSize.
   * @throws ArgumentError naming `TwoLayerNet` for sizes that are not positive integers (or whose
   *   weights would exceed 2^31 − 1 elements), a `seed` that `Rng` refuses, `init` entries that are not
   *   Tensors, a `storage` other than `'js'` or `'wasm'`, or an unknown option; DTypeError for a
   *   bad `dtype`; ShapeError for `init` tensors of the wrong sizes.
   */
  constructor(inputSize: number, hiddenSize: number, outputSize: number, options: TwoLayerNetOptions = {}) {
    options = checkTwoLayerNetArgs(inputSize, hiddenSize, outputSize, options);
    const dtype = options.dtype ?? "float32";
    const storage = options.storage ?? "js";
    const rng = new Rng(options.seed ?? 0);
    const weight = (shape: number[], given: Tensor | undefined): Tensor => {
      if (given !== undefined) return copyAs(given, shape, dtype, storage);
      const w = randn(shape, { rng, dtype, storage });
      for (let i = 0; i < w.size; i++) w.data[i] = 0.01 * w.data[i]!;
      return w;
    };
    const bias = (n: number, given: Tensor | undefined) =>
      given !== undefined ? copyAs(given, [n], dtype, storage) : zeros([n], { dtype, storage });
    const W1 = weight([inputSize, hiddenSize], options.init?.W1);
    const b1 = bias(hiddenSize, options.init?.b1);
    const W2 = weight([hiddenSize, outputSize], options.init?.W2);
    const b2 = bias(outputSize, options.init?.b2);
    super([new Affine(W1, b1), new Sigmoid(), new Affine(W2, b2)], new SoftmaxWithLoss());
  }
}

/** Checks `Sequential`'s arguments (see its constructor). */
function checkSequentialArgs(layers: unknown, lossLayer: unknown): void {
  if (!isArray(layers)) {
    throw new ArgumentError(
      "Sequential",
      `Sequential: layers must be an array of layers, got ${describeValue(layers)}`,
    );
  }
  for (let i = 0; i < layers.length; i++) checkLayerLike("Sequential", `layers[${i}]`, layers[i], false);
  checkLayerLike("Sequential", "lossLayer", lossLayer, true);
}

/** Checks `TwoLayerNet`'s arguments and returns the options as an object (see its constructor). */
function checkTwoLayerNetArgs(
  inputSize: unknown,
  hiddenSize: unknown,
  outputSize: unknown,
  options: unknown,
): TwoLayerNetOptions {
  const fn = "TwoLayerNet";
  const sizes = { inputSize, hiddenSize, outputSize };
  for (const [k, v] of Object.entries(sizes)) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw new ArgumentError(fn, `${fn}: ${k} must be a positive integer, got ${describeValue(v)}`);
    }
  }
  const [i, h, o] = [inputSize, hiddenSize, outputSize] as number[];
  for (const [w, a, b] of [
    ["W1", i!, h!],
    ["W2", h!, o!],
  ] as const) {
    if (a * b > MAX_ELEMENTS) {
      throw new ArgumentError(
        fn,
        `${fn}: ${w} would be ${a}×${b} = ${a * b} elements, more than the maximum ${MAX_ELEMENTS} (inputSize ${i}, hiddenSize ${h}, outputSize ${o})`,
      );
    }
  }
  const opts = optionsIn<TwoLayerNetOptions>(fn, options, ["seed", "dtype", "storage", "init"]);
  seedIn(fn, opts.seed, 0);
  dtypeIn(fn, opts.dtype);
  const storage: unknown = opts.storage;
  if (storage !== undefined && storage !== "js" && storage !== "wasm") {
    throw new ArgumentError(fn, `${fn}: storage must be 'js' or 'wasm', got ${describeValue(storage)}`);
  }
  const init: unknown = opts.init;
  if (init !== undefined && init !== null) {
    if (typeof init !== "object" || isArrayOrRevoked(init)) {
      throw new ArgumentError(fn, `${fn}: init must be an object { W1, b1?, W2, b2? }, got ${describeValue(init)}`);
    }
    const given = init as Record<string, unknown>;
    for (const key of Object.keys(given)) {
      if (!["W1", "b1", "W2", "b2"].includes(key)) {
        throw new ArgumentError(fn, `${fn}: unknown init entry ${JSON.stringify(key)} (valid: W1, b1, W2, b2)`);
      }
    }
    const want: Record<string, number> = { W1: i! * h!, b1: h!, W2: h! * o!, b2: o! };
    for (const key of ["W1", "W2"]) {
      if (given[key] === undefined) throw new ArgumentError(fn, `${fn}: init.${key} is required when init is given`);
    }
    for (const [key, t] of Object.entries(given)) {
      if (t === undefined) continue;
      if (!isTensor(t)) {
        throw new ArgumentError(fn, `${fn}: init.${key} must be a Tensor, got ${describeValue(t)}`);
      }
      if (t.size !== want[key]) {
        throw new ShapeError(
          fn,
          `${fn}: init.${key} of shape ${fmtShape(t.shape)} has ${t.size} elements, but ${key} needs ${want[key]} (inputSize ${i}, hiddenSize ${h}, outputSize ${o})`,
        );
      }
    }
  }
  return opts;
}

/** A fresh `dtype` copy of `t` in `shape` (a same-size `t` of another shape, like 1×H for H, is accepted). */
function copyAs(t: Tensor, shape: number[], dtype: FloatDType, storage: Storage): Tensor {
  assertTensor("TwoLayerNet", "init", t);
  const out = zeros(shape, { dtype, storage });
  return out.copy_(t.size === out.size ? new TensorCtor(t.data, shape) : t);
}
