/**
 * The seed's layer convention: `params` and `grads` whose entries line up, `forward` and
 * `backward`. Here `backward` is not written by hand: it runs reverse-mode autodiff over what
 * `forward` recorded, and writes the gradients into the existing `grads` tensors.
 */
import {
  ArgumentError,
  assertTensor,
  describeValue,
  GraphError,
  grad,
  isTensor,
  type Tensor,
  zeros,
} from "@gradgraph/core";
import {
  checkBackwardArgs,
  checkParam,
  checkParamList,
  frozenError,
  markAllModified,
  notAnInstance,
} from "../checks.js";

/** The brand check of layers (a private field of BaseLayer, which a fake object lacks). */
let isLayer: (value: object) => boolean;

/**
 * @internal Checks that `self` is a layer made by BaseLayer's constructor (a subclass instance).
 * @throws ArgumentError naming `member`.
 */
/** `<layer name>.forward`, for messages. */
function forwardName(layer: BaseLayer): string {
  return `${typeof layer.name === "string" ? layer.name : "BaseLayer"}.forward`;
}

export function checkLayerThis(member: string, self: unknown): asserts self is BaseLayer {
  if (typeof self !== "object" || self === null || !isLayer(self)) throw notAnInstance(member, "layer", self);
}

/** A layer: parameters with their gradient buffers, a forward, and an autodiff backward. */
export interface Layer {
  /** The layer's class name, for messages and graph clusters. */
  readonly name: string;
  /** Trainable tensors (leaves that require grad). */
  readonly params: readonly Tensor[];
  /** Gradient buffers, one per param, same shapes; written in place by `backward`. */
  readonly grads: readonly Tensor[];
  /** Applies the layer, recording the graph. */
  forward(x: Tensor): Tensor;
  /**
   * Differentiates the last forward's output: writes the parameters' gradients into `grads` and
   * returns the gradient with respect to the input (or `null` when the input does not require
   * grad). `dout` defaults to 1 for a one-element output.
   */
  backward(dout?: Tensor): Tensor | null;
}

/**
 * Makes `param` a trainable leaf and returns its gradient buffer: a zero tensor of the same shape,
 * dtype and storage that is also `param.grad`, so a backward through the whole model accumulates into it
 * in place.
 * @throws ArgumentError naming `gradBufferFor` when `param` is not a leaf Tensor.
 */
export function gradBufferFor(param: Tensor): Tensor {
  checkParam("gradBufferFor", "param", param);
  param.requiresGrad = true;
  const g = zeros([...param.shape], { dtype: param.dtype, storage: param.storage });
  param.grad = g;
  return g;
}

/**
 * The common part of every layer: parameter bookkeeping and the autodiff backward over the last
 * forward. Subclasses implement `compute`.
 */
export abstract class BaseLayer implements Layer {
  abstract readonly name: string;
  readonly params: readonly Tensor[];
  readonly grads: readonly Tensor[];
  /** The input of the last forward, for backward (`null` before the first forward). */
  protected lastInput: Tensor | null = null;
  /** The recorded output of the last forward, which backward differentiates (`null` before the first forward). */
  protected lastOutput: Tensor | null = null;
  #layer = true;

  static {
    isLayer = (v) => #layer in v;
  }

  /**
   * Registers the layer's parameters and gives each a zero gradient buffer (see {@link gradBufferFor}).
   * @param params - the layer's trainable tensors; each becomes a leaf that requires grad.
   * @throws ArgumentError naming the layer class when `params` is not an array of leaf tensors.
   */
  constructor(params: readonly Tensor[] = []) {
    checkParamList(new.target.name, params);
    this.params = params;
    this.grads = params.map(gradBufferFor);
  }

  /** The layer's function of its input (recorded, differentiable). */
  protected abstract compute(x: Tensor): Tensor;

  /**
   * Applies the layer to `x` and keeps the input and the recorded output for `backward`.
   * @throws ArgumentError naming `<layer>.forward` when `x` is not a Tensor, the layer is frozen
   *   (Object.freeze: the last input and output cannot be kept), or the method is called on
   *   something that is not a layer; whatever `compute` throws for an `x` it cannot take.
   */
  forward(x: Tensor): Tensor {
    checkLayerThis("BaseLayer.forward", this);
    // the layer's name for messages, built only when one is thrown (forward runs once per layer per step)
    if (!isTensor(x)) assertTensor(forwardName(this), "x", x);
    if (typeof this.compute !== "function") {
      const fn = forwardName(this);
      throw new ArgumentError(
        fn,
        `${fn}: the layer has no compute method (BaseLayer is abstract: subclasses implement compute)`,
      );
    }
    const y = this.compute(x);
    try {
      this.lastInput = x;
    } catch {
      throw frozenError(forwardName(this), "the layer");
    }
    this.lastOutput = y;
    return y;
  }

  /**
   * Differentiates the last forward's output (see {@link autodiffBackward}).
   * @throws GraphError naming `<layer>.backward` when there was no forward or it was already
   *   differentiated; ArgumentError/ShapeError for a bad `dout`, or when the method is called on
   *   something that is not a layer.
   */
  backward(dout?: Tensor): Tensor | null {
    checkLayerThis("BaseLayer.backward", this);
    return autodiffBackward(this.name, this.lastInput, this.lastOutput, this.params, this.grads, dout);
  }
}

/**
 * The autodiff backward shared by every layer: gradients of `output` (weighted by `dout`) with
 * respect to the params, copied into `grads`, and with respect to `input` when it requires grad.
 * @throws GraphError naming `<layer>.backward` when there was no forward, it was already
 *   differentiated, or `dout` is missing for an output of more than one element.
 * @throws ArgumentError/ShapeError naming `<layer>.backward` for a `dout` that is not a Tensor of
 *   the output's shape, params and grads that do not line up, or a grads buffer that is frozen
 *   (`autodiffBackward` itself when `layer` is not a string).
 */
export function autodiffBackward(
  layer: string,
  input: Tensor | null,
  output: Tensor | null,
  params: readonly Tensor[],
  grads: readonly Tensor[],
  dout?: Tensor,
): Tensor | null {
  checkBackwardArgs(layer, input, output, params, grads, dout);
  if (input === null || output === null) {
    throw new GraphError(
      `${layer}.backward`,
      `${layer}.backward: call forward first; there is no recorded output to differentiate`,
    );
  }
  if (dout !== undefined && !isTensor(dout)) {
    throw new ArgumentError(
      `${layer}.backward`,
      `${layer}.backward: dout must be a Tensor, got ${describeValue(dout)}`,
    );
  }
  if (!output.requiresGrad) {
    if (input.requiresGrad || params.length > 0) {
      throw new GraphError(
        `${layer}.backward`,
        `${layer}.backward: the last forward recorded no graph (was it run inside noGrad?)`,
      );
    }
    return null;
  }
  const targets = input.requiresGrad ? [...params, input] : [...params];
  if (targets.length === 0) return null;
  // the buffers the gradients are copied into: a frozen one is reported here, before any work
  markAllModified(`${layer}.backward`, "grads", grads);
  const gs = grad(
    output,
    targets,
    dout === undefined ? { allowUnused: true } : { gradOutput: dout, allowUnused: true },
  );
  for (let i = 0; i < params.length; i++) grads[i]!.copy_(gs[i]!);
  return input.requiresGrad ? gs[params.length]! : null;
}
