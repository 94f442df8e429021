/**
 * The ops as chainable `Tensor` methods (`x.matmul(W).add(b).relu().sum()`), as PyTorch and
 * TensorFlow.js users write them. core knows no op, so this package installs them on
 * `Tensor.prototype` when it is first imported, and declares them on core's `Tensor` type by
 * declaration merging. Each method is the function of the same name with `this` as its first
 * argument: the same op, the same checks, the same errors (naming the op), the same graph. Both
 * forms stay available.
 */
import {
  type AnyTensor,
  ArgumentError,
  cast,
  type DType,
  describeValue,
  isTensor,
  type Kept,
  Tensor,
  type TensorLike,
  type TensorOf,
} from "@gradgraph/core";
import { clamp, cos, elu, gelu, leakyRelu, normalCdf, sin, softplus, square } from "./activations.js";
import { add, div, maximum, minimum, mul, neg, sub } from "./arithmetic.js";
import { branch, repeat } from "./branch.js";
import { expandDims, flatten, squeeze, tile, unsqueeze, unstack } from "./dims.js";
import { type GatherIndices, gather, getItem, type Index } from "./indexing.js";
import {
  type ArgOptions,
  argmax,
  argmin,
  equal,
  floorDiv,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  mod,
  notEqual,
  where,
} from "./logical.js";
import { type Labels, meanSquaredError, type SoftmaxCrossEntropyOptions, softmaxCrossEntropy } from "./loss.js";
import { affine, type MatmulOptions, matmul } from "./matmul.js";
import { pow } from "./power.js";
import { logSumExp, max, mean, type ReduceOptions, sum } from "./reduce.js";
import { broadcastTo, concat, reshape, slice, split, stack, sumTo, transpose } from "./shape.js";
import { logSoftmax, softmax } from "./softmax.js";
import { cumsum, outer, std, type VarianceOptions, variance } from "./stats.js";
import { abs, exp, log, relu, sigmoid, sqrt, tanh } from "./unary.js";

declare module "@gradgraph/core" {
  interface TensorMethods {
    /** `add(this, other)`: elementwise sum with broadcasting. */
    add<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `sub(this, other)`: elementwise difference with broadcasting. */
    sub<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `mul(this, other)`: elementwise product with broadcasting. */
    mul<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `div(this, other)`: elementwise quotient with broadcasting. */
    div(other: TensorLike): Tensor;
    /** `neg(this)`. */
    neg<T extends AnyTensor>(this: T): Kept<T>;
    /** `maximum(this, other)`: elementwise maximum with broadcasting. */
    maximum<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `minimum(this, other)`: elementwise minimum with broadcasting. */
    minimum<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `pow(this, p)`: elementwise power. */
    pow(p: TensorLike): Tensor;
    /** `exp(this)`. */
    exp(): Tensor;
    /** `log(this)`: natural logarithm. */
    log(): Tensor;
    /** `sqrt(this)`. */
    sqrt(): Tensor;
    /** `abs(this)`. */
    abs<T extends AnyTensor>(this: T): Kept<T>;
    /** `sigmoid(this)`. */
    sigmoid(): Tensor;
    /** `tanh(this)`. */
    tanh(): Tensor;
    /** `relu(this)`. */
    relu<T extends AnyTensor>(this: T): Kept<T>;
    /** `square(this)`: `x²`. */
    square<T extends AnyTensor>(this: T): Kept<T>;
    /** `sin(this)`. */
    sin(): Tensor;
    /** `cos(this)`. */
    cos(): Tensor;
    /** `softplus(this, options)`: `log(1 + e^(βx)) / β`. */
    softplus(options?: { beta?: number; threshold?: number }): Tensor;
    /** `elu(this, alpha)`. */
    elu(alpha?: number): Tensor;
    /** `leakyRelu(this, negativeSlope)`. */
    leakyRelu(negativeSlope?: number): Tensor;
    /** `gelu(this, approximate)`: `x·Φ(x)`, or its tanh form. */
    gelu(approximate?: "none" | "tanh"): Tensor;
    /** `normalCdf(this)`: `Φ(x)`. */
    normalCdf(): Tensor;
    /** `clamp(this, min, max)`. */
    clamp<T extends AnyTensor>(this: T, min?: number | null, max?: number | null): Kept<T>;
    /** `sum(this, options)`: sum over `options.axis` (all axes by default). */
    sum<T extends AnyTensor>(this: T, options?: ReduceOptions): Kept<T>;
    /** `mean(this, options)`: mean over `options.axis` (all axes by default). */
    mean(options?: ReduceOptions): Tensor;
    /** `max(this, options)`: maximum over `options.axis` (all axes by default). */
    max<T extends AnyTensor>(this: T, options?: ReduceOptions): Kept<T>;
    /** `logSumExp(this, options)`: log of the sum of exponentials over `options.axis`. */
    logSumExp(options?: ReduceOptions): Tensor;
    /** `softmax(this, axis)` (default the last axis). */
    softmax(axis?: number): Tensor;
    /** `logSoftmax(this, axis)` (default the last axis). */
    logSoftmax(axis?: number): Tensor;
    /** `matmul(this, other, options)`: matrix product (batched for rank > 2), `{ transposeA, transposeB }` as TensorFlow.js. */
    matmul<T extends AnyTensor, B extends TensorLike>(this: T, other: B, options?: MatmulOptions): Kept<T | B>;
    /** `affine(this, W, b)`: `this · W + b`. */
    affine(W: TensorLike, b: TensorLike): Tensor;
    /** `reshape(this, shape)`: the same elements in a new shape (one `-1` is inferred). */
    reshape<T extends AnyTensor>(this: T, shape: readonly number[]): Kept<T>;
    /** `transpose(this, axes)`: axes permuted (reversed by default). */
    transpose<T extends AnyTensor>(this: T, axes?: readonly number[]): Kept<T>;
    /** `broadcastTo(this, shape)`. */
    broadcastTo<T extends AnyTensor>(this: T, shape: readonly number[]): Kept<T>;
    /** `sumTo(this, shape)`: sums broadcast axes away, the inverse of `broadcastTo`. */
    sumTo(shape: readonly number[]): Tensor;
    /**
     * `getItem(this, ...index)`: numpy's `x[index]`, one argument per entry (`x[1, :, None]` is
     * `x.getItem(1, s(), null)`); an array passed alone gathers rows.
     */
    getItem<T extends AnyTensor>(this: T, ...index: Index[]): Kept<T>;
    /** `gather(this, indices, axis)`: entries at `indices` along `axis` (default 0), repeats allowed. */
    gather<T extends AnyTensor>(this: T, indices: GatherIndices, axis?: number): Kept<T>;
    /** `slice(this, start, end, axis)`: numpy's `x[start:end]` along `axis` (default 0). */
    slice<T extends AnyTensor>(this: T, start: number, end?: number | null, axis?: number): Kept<T>;
    /** `concat([this, ...others], axis)`: joins along `axis` (default 0). */
    concat<T extends AnyTensor, B extends AnyTensor>(this: T, others: B | readonly B[], axis?: number): Kept<T | B>;
    /** `stack([this, ...others], axis)`: joins along a new axis (default 0). */
    stack<T extends AnyTensor, B extends AnyTensor>(this: T, others: B | readonly B[], axis?: number): Kept<T | B>;
    /** `split(this, sizes, axis)`: equal parts (a count) or parts of the given sizes. */
    split<T extends AnyTensor>(this: T, sizes: number | readonly number[], axis?: number): Kept<T>[];
    /** `repeat(this, n, axis)`: the seed's Repeat node. */
    repeat<T extends AnyTensor>(this: T, n: number, axis?: number): Kept<T>;
    /** `branch(this, n)`: the seed's Branch node, `n` copies (default 2). */
    branch<T extends AnyTensor>(this: T, n?: number): Kept<T>[];
    /**
     * `softmaxCrossEntropy(this, labels, options)`: the cross-entropy of softmax(this) against
     * labels, the mean over rows by default; options as PyTorch's `cross_entropy`
     * (`{ weights, reduction, labelSmoothing, ignoreIndex }`).
     */
    softmaxCrossEntropy(labels: Labels, options?: SoftmaxCrossEntropyOptions): Tensor;
    /** `meanSquaredError(this, target)`. */
    meanSquaredError(target: Tensor): Tensor;
    /** `cumsum(this, axis, options)`: running sums along `axis`. */
    cumsum<T extends AnyTensor>(this: T, axis: number, options?: { reverse?: boolean }): Kept<T>;
    /** `variance(this, options)`: `Σ(x − mean)² / max(0, N − correction)`. */
    variance(options?: VarianceOptions): Tensor;
    /** `std(this, options)`: the square root of the variance. */
    std(options?: VarianceOptions): Tensor;
    /** `outer(this, other)`: the outer product of two vectors. */
    outer<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `squeeze(this, axis)`: size-1 axes removed. */
    squeeze<T extends AnyTensor>(this: T, axis?: number | readonly number[]): Kept<T>;
    /** `unsqueeze(this, axis)`: a size-1 axis inserted. */
    unsqueeze<T extends AnyTensor>(this: T, axis: number): Kept<T>;
    /** `expandDims(this, axis)`: `unsqueeze` under TensorFlow.js's name. */
    expandDims<T extends AnyTensor>(this: T, axis: number): Kept<T>;
    /** `flatten(this, startAxis, endAxis)`: axes merged. */
    flatten<T extends AnyTensor>(this: T, startAxis?: number, endAxis?: number): Kept<T>;
    /** `tile(this, reps)`: numpy's tile. */
    tile<T extends AnyTensor>(this: T, reps: readonly number[]): Kept<T>;
    /** `equal(this, other)`: `this == other` elementwise, a bool tensor. */
    equal(other: TensorLike): Tensor<"bool">;
    /** `notEqual(this, other)`: `this != other` elementwise, a bool tensor. */
    notEqual(other: TensorLike): Tensor<"bool">;
    /** `less(this, other)`: `this < other` elementwise, a bool tensor. */
    less(other: TensorLike): Tensor<"bool">;
    /** `lessEqual(this, other)`: `this <= other` elementwise, a bool tensor. */
    lessEqual(other: TensorLike): Tensor<"bool">;
    /** `greater(this, other)`: `this > other` elementwise, a bool tensor. */
    greater(other: TensorLike): Tensor<"bool">;
    /** `greaterEqual(this, other)`: `this >= other` elementwise, a bool tensor. */
    greaterEqual(other: TensorLike): Tensor<"bool">;
    /** `logicalAnd(this, other)`: elementwise and of truth values, a bool tensor. */
    logicalAnd(other: TensorLike): Tensor<"bool">;
    /** `logicalOr(this, other)`: elementwise or of truth values, a bool tensor. */
    logicalOr(other: TensorLike): Tensor<"bool">;
    /** `logicalXor(this, other)`: elementwise exclusive or of truth values, a bool tensor. */
    logicalXor(other: TensorLike): Tensor<"bool">;
    /** `logicalNot(this)`: `this == 0` elementwise, a bool tensor. */
    logicalNot(): Tensor<"bool">;
    /** `argmax(this, options)`: the index of the largest element (along `options.axis`), int32. */
    argmax(options?: ArgOptions): Tensor<"int32">;
    /** `argmin(this, options)`: the index of the smallest element (along `options.axis`), int32. */
    argmin(options?: ArgOptions): Tensor<"int32">;
    /** `floorDiv(this, other)`: `floor(this / other)`, int32 for int32 operands. */
    floorDiv<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `mod(this, other)`: the floor remainder, of `other`'s sign. */
    mod<T extends AnyTensor, B extends TensorLike>(this: T, other: B): Kept<T | B>;
    /** `where(condition, this, other)`: this where `condition` holds, `other` elsewhere (PyTorch's `x.where(condition, y)`). */
    where<T extends AnyTensor, B extends TensorLike>(this: T, condition: TensorLike, other: B): Kept<T | B>;
    /** `cast(this, dtype)`: the tensor converted to `dtype` (PyTorch's `x.to(dtype)`). */
    cast<D extends DType>(dtype: D): TensorOf<D>;
    /** `unstack(this, axis)`: the slices along `axis`. */
    unstack<T extends AnyTensor>(this: T, axis?: number): Kept<T>[];
  }
}

/** The methods, by name: each calls the op function with the receiver first. */
const METHODS = {
  add: (x: Tensor, other: TensorLike) => add(x, other),
  sub: (x: Tensor, other: TensorLike) => sub(x, other),
  mul: (x: Tensor, other: TensorLike) => mul(x, other),
  div: (x: Tensor, other: TensorLike) => div(x, other),
  neg: (x: Tensor) => neg(x),
  maximum: (x: Tensor, other: TensorLike) => maximum(x, other),
  minimum: (x: Tensor, other: TensorLike) => minimum(x, other),
  pow: (x: Tensor, p: TensorLike) => pow(x, p),
  exp: (x: Tensor) => exp(x),
  log: (x: Tensor) => log(x),
  sqrt: (x: Tensor) => sqrt(x),
  abs: (x: Tensor) => abs(x),
  sigmoid: (x: Tensor) => sigmoid(x),
  tanh: (x: Tensor) => tanh(x),
  relu: (x: Tensor) => relu(x),
  square: (x: Tensor) => square(x),
  sin: (x: Tensor) => sin(x),
  cos: (x: Tensor) => cos(x),
  softplus: (x: Tensor, options?: { beta?: number; threshold?: number }) => softplus(x, options),
  elu: (x: Tensor, alpha?: number) => elu(x, alpha),
  leakyRelu: (x: Tensor, negativeSlope?: number) => leakyRelu(x, negativeSlope),
  gelu: (x: Tensor, approximate?: "none" | "tanh") => gelu(x, approximate),
  normalCdf: (x: Tensor) => normalCdf(x),
  clamp: (x: Tensor, min?: number | null, max?: number | null) => clamp(x, min, max),
  sum: (x: Tensor, options?: ReduceOptions) => sum(x, options),
  mean: (x: Tensor, options?: ReduceOptions) => mean(x, options),
  max: (x: Tensor, options?: ReduceOptions) => max(x, options),
  logSumExp: (x: Tensor, options?: ReduceOptions) => logSumExp(x, options),
  softmax: (x: Tensor, axis?: number) => softmax(x, axis),
  logSoftmax: (x: Tensor, axis?: number) => logSoftmax(x, axis),
  matmul: (x: Tensor, other: TensorLike, options?: MatmulOptions) => matmul(x, other, options),
  affine: (x: Tensor, W: TensorLike, b: TensorLike) => affine(x, W, b),
  reshape: (x: Tensor, shape: readonly number[]) => reshape(x, shape),
  transpose: (x: Tensor, axes?: readonly number[]) => transpose(x, axes),
  broadcastTo: (x: Tensor, shape: readonly number[]) => broadcastTo(x, shape),
  sumTo: (x: Tensor, shape: readonly number[]) => sumTo(x, shape),
  getItem: (x: Tensor, ...index: Index[]) => getItem(x, ...index),
  gather: (x: Tensor, indices: GatherIndices, axis?: number) => gather(x, indices, axis),
  slice: (x: Tensor, start: number, end?: number | null, axis?: number) => slice(x, start, end, axis),
  concat: (x: Tensor, others: Tensor | readonly Tensor[], axis?: number) =>
    concat(withOthers("concat", x, others), axis),
  stack: (x: Tensor, others: Tensor | readonly Tensor[], axis?: number) => stack(withOthers("stack", x, others), axis),
  split: (x: Tensor, sizes: number | readonly number[], axis?: number) => split(x, sizes, axis),
  repeat: (x: Tensor, n: number, axis?: number) => repeat(x, n, axis),
  branch: (x: Tensor, n?: number) => branch(x, n),
  softmaxCrossEntropy: (x: Tensor, labels: Labels, options?: SoftmaxCrossEntropyOptions) =>
    softmaxCrossEntropy(x, labels, options),
  meanSquaredError: (x: Tensor, target: Tensor) => meanSquaredError(x, target),
  cumsum: (x: Tensor, axis: number, options?: { reverse?: boolean }) => cumsum(x, axis, options),
  variance: (x: Tensor, options?: VarianceOptions) => variance(x, options),
  std: (x: Tensor, options?: VarianceOptions) => std(x, options),
  outer: (x: Tensor, other: TensorLike) => outer(x, other),
  squeeze: (x: Tensor, axis?: number | readonly number[]) => squeeze(x, axis),
  unsqueeze: (x: Tensor, axis: number) => unsqueeze(x, axis),
  expandDims: (x: Tensor, axis: number) => expandDims(x, axis),
  flatten: (x: Tensor, startAxis?: number, endAxis?: number) => flatten(x, startAxis, endAxis),
  tile: (x: Tensor, reps: readonly number[]) => tile(x, reps),
  unstack: (x: Tensor, axis?: number) => unstack(x, axis),
  equal: (x: Tensor, other: TensorLike) => equal(x, other),
  notEqual: (x: Tensor, other: TensorLike) => notEqual(x, other),
  less: (x: Tensor, other: TensorLike) => less(x, other),
  lessEqual: (x: Tensor, other: TensorLike) => lessEqual(x, other),
  greater: (x: Tensor, other: TensorLike) => greater(x, other),
  greaterEqual: (x: Tensor, other: TensorLike) => greaterEqual(x, other),
  logicalAnd: (x: Tensor, other: TensorLike) => logicalAnd(x, other),
  logicalOr: (x: Tensor, other: TensorLike) => logicalOr(x, other),
  logicalXor: (x: Tensor, other: TensorLike) => logicalXor(x, other),
  logicalNot: (x: Tensor) => logicalNot(x),
  argmax: (x: Tensor, options?: ArgOptions) => argmax(x, options),
  argmin: (x: Tensor, options?: ArgOptions) => argmin(x, options),
  floorDiv: (x: Tensor, other: TensorLike) => floorDiv(x, other),
  mod: (x: Tensor, other: TensorLike) => mod(x, other),
  where: (x: Tensor, condition: TensorLike, other: TensorLike) => where(condition, x, other),
  cast: (x: Tensor, dtype: DType) => cast(x, dtype),
} as const;

/** `[x, ...others]` for concat and stack: `others` one tensor or an array of them. */
function withOthers(fn: string, x: Tensor, others: unknown): AnyTensor[] {
  if (isTensor(others)) return [x, others];
  let list: readonly unknown[];
  try {
    if (!Array.isArray(others)) throw new TypeError();
    list = others;
  } catch {
    throw new ArgumentError(
      `Tensor.${fn}`,
      `Tensor.${fn}: others must be a Tensor or an array of Tensors, got ${describeValue(others)}`,
    );
  }
  // an index loop: each entry (holes included) is checked by the op, which names its position
  const out: AnyTensor[] = [x];
  for (let i = 0; i < list.length; i++) out.push(list[i] as AnyTensor);
  return out;
}

/**
 * Defines each method on `Tensor.prototype` (non-enumerable, like a class method). A method
 * called on something that is not a tensor (detached from its tensor, or on a fake one) gets the
 * op's own error for its first argument, as the function would: the op functions check every
 * argument.
 */
function install(): void {
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, impl] of Object.entries(METHODS)) {
    // a method that core (or a newer core) already defines is never replaced
    if (Object.hasOwn(proto, name)) continue;
    const f = impl as (x: Tensor, ...rest: unknown[]) => unknown;
    Object.defineProperty(proto, name, {
      // a named function expression: stack traces show e.g. "Tensor.add"
      value: {
        [name](this: Tensor, ...rest: unknown[]): unknown {
          return f(this, ...rest);
        },
      }[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}

install();

/** The names of the methods this package installs on `Tensor` (for tests and docs). */
export const TENSOR_METHODS: readonly string[] = Object.freeze(Object.keys(METHODS));
