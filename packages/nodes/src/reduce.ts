/**
 * Reductions over `{ axis?, keepdims? }`. `sum`'s derivative broadcasts the gradient back (Sum and
 * Repeat undo each other); `max` splits it evenly among the tied maxima; `logSumExp`'s is the softmax.
 */
import {
  ArgumentError,
  assertTensor,
  broadcastTo,
  defineOp,
  fmtShape,
  type Kept,
  normalizeAxes,
  type Op,
  ShapeError,
  shapeSize,
  Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { broadcastInto, logSumExpToInto, maxMaskInto, maxToInto, sumToInto } from "@gradgraph/core/kernels";
import { mul, sub } from "./arithmetic.js";
import { floatOperand, fmtAttrs, fmtValue, isArray, readKnownOptions } from "./format.js";
import { sumToIntoInt32 } from "./int32.js";
import { reshape } from "./shape.js";
import { exp } from "./unary.js";

/**
 * Attributes of `sum` and of the reductions built like it ({@link sumOp}, {@link maxOp},
 * {@link logSumExpOp}), as the
 * {@link sum}, {@link max} and {@link logSumExp} functions build them from {@link ReduceOptions}.
 */
export interface SumAttrs {
  /**
   * The axes to reduce, distinct, in `-rank..rank-1` (negative count from the end); the ops
   * normalise them (non-negative, sorted) before computing, as the functions do.
   */
  readonly axes: readonly number[];
  /** Keep the reduced axes as size-1 dimensions (a boolean; undefined means false). */
  readonly keepdims: boolean;
}

/** Options of `sum`. */
export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); default: all. */
  axis?: number | readonly number[];
  /** Keep reduced axes as size-1 dimensions (default false). */
  keepdims?: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** `sum` over normalised axes; backward broadcasts the upstream gradient back to the input's shape. */
export const sumOp: Op<SumAttrs, "operands"> = defineOp<SumAttrs>({
  name: "sum",
  inputs: ["x"],
  integers: "int",
  forward([x], { axes, keepdims }, ctx) {
    const kept = keptShape(x!.shape, axes);
    const out = ctx.alloc(keepdims ? kept : x!.shape.filter((_, i) => !axes.includes(i)));
    // int32 operands (on float64 copies): the sum wrapped modulo 2^32, exactly (see int32.ts)
    if (ctx.resultDType === "int32") sumToIntoInt32(x!.data, x!.shape, out.data, kept);
    else sumToInto(x!.data, x!.shape, out.data, kept);
    ctx.stash(x!.shape);
    return out;
  },
  backward(gy, ctx) {
    const xShape = ctx.stashed as readonly number[];
    const { axes, keepdims } = ctx.attrs;
    const g = keepdims ? gy : reshape(gy, keptShape(xShape, axes));
    return [broadcastTo(g, xShape)];
  },
  check([x], attrs) {
    checkSumAttrs("sum", x!, attrs);
  },
  normalize: ([x], attrs) => normalizeSumAttrs("sum", x!, attrs),
  test: { attrs: ([s], pick) => ({ axes: pickAxes(s!.length, pick), keepdims: pick.bool() }) },
});

/**
 * Sum of elements over `axis` (all axes by default), like `np.sum(x, axis, keepdims)`.
 * The seed's Sum node is `sum(x, { axis: 0, keepdims: true })`.
 * @throws ArgumentError naming `sum` for a non-integer, out-of-range or repeated axis.
 */
export function sum<X extends TensorLike>(x: X, options: ReduceOptions = {}): Kept<X> {
  const t = toTensor(x, "sum", "x");
  return sumOp([t], reduceAttrs("sum", t, options)) as Kept<X>;
}

/** Validates `x` and `{ axis, keepdims }` and normalises them to the ops' attributes. */
function reduceAttrs(fn: string, x: unknown, options: ReduceOptions): SumAttrs {
  // read once, and a misspelt option (`keepDims`) refused rather than ignored
  const o = readKnownOptions(fn, options, ["axis", "keepdims"]);
  const axes = normalizeAxes(fn, o.axis as ReduceOptions["axis"], assertTensor(fn, "x", x).rank);
  return { axes, keepdims: o.keepdims === true };
}

/**
 * Checks the attributes of a reduction op called directly: `axes` an array of distinct axes in
 * `-rank..rank-1`, `keepdims` a boolean or undefined.
 */
function checkSumAttrs(fn: string, x: Tensor, attrs: SumAttrs | undefined): void {
  if (attrs === null || typeof attrs !== "object" || !isArray(attrs.axes)) {
    throw new ArgumentError(fn, `${fn}: attrs must be { axes: number[], keepdims: boolean }, got ${fmtAttrs(attrs)}`);
  }
  const keepdims: unknown = attrs.keepdims;
  if (keepdims !== undefined && typeof keepdims !== "boolean") {
    throw new ArgumentError(fn, `${fn}: attrs.keepdims must be a boolean, got ${fmtValue(keepdims)}`);
  }
  normalizeAxes(fn, attrs.axes, x.rank);
}

/**
 * The attributes a reduction computes with: axes normalised (negative ones counted from the end)
 * and sorted, keepdims a boolean; the op's `normalize`, so that `ops.sum([x], { axes: [-1] })`
 * reduces the last axis as `sum(x, { axis: -1 })` does.
 */
function normalizeSumAttrs(fn: string, x: Tensor, attrs: SumAttrs): SumAttrs {
  return { axes: normalizeAxes(fn, attrs.axes, x.rank), keepdims: attrs.keepdims === true };
}

/** The output shape of a reduction: `kept` with the reduced axes dropped unless `keepdims`. */
function reducedShape(shape: readonly number[], { axes, keepdims }: SumAttrs): number[] {
  return keepdims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

/** Broadcasts a reduction's upstream gradient back to the input's shape. */
function expandGrad(gy: Tensor, xShape: readonly number[], { axes, keepdims }: SumAttrs): Tensor {
  return broadcastTo(keepdims ? gy : reshape(gy, keptShape(xShape, axes)), xShape);
}

/**
 * Mean of elements over `axis` (all by default), like `np.mean`: `sum / count`. A reduction over
 * zero elements gives NaN, as numpy does.
 * @throws ArgumentError naming `mean` for a bad axis.
 */
export function mean(x: TensorLike, options: ReduceOptions = {}): Tensor {
  // (float whatever x is: an int32 or bool x is cast to float32 first)
  const t = floatOperand(x, "mean", "x");
  const attrs = reduceAttrs("mean", t, options);
  let count = 1;
  for (const a of attrs.axes) count *= t.shape[a]!;
  return mul(sumOp([t], attrs), 1 / count);
}

/**
 * `max`: the largest element over the axes. Its gradient is split evenly among the maximal
 * elements of each reduction (`k` tied maxima get `1/k` each), for a full reduction as for one
 * over some axes, like PyTorch's `amax` and its full `max` (not `torch.max(x, dim)`, which sends
 * it to one index). NaN propagates, and the gradient goes to the NaN elements.
 */
export const maxOp: Op<SumAttrs, "operands"> = defineOp<SumAttrs>({
  name: "max",
  inputs: ["x"],
  integers: "int",
  check([x], attrs) {
    checkSumAttrs("max", x!, attrs);
    const norm = normalizeSumAttrs("max", x!, attrs);
    const empty = norm.axes.some((a) => x!.shape[a] === 0);
    if (empty && shapeSize(reducedShape(x!.shape, norm)) > 0) {
      throw new ShapeError(
        "max",
        `max: cannot take the maximum over an empty axis: x has shape ${fmtShape(x!.shape)}, axes ${fmtAttrs(attrs.axes)}`,
      );
    }
  },
  normalize: ([x], attrs) => normalizeSumAttrs("max", x!, attrs),
  forward([x], attrs, ctx) {
    const kept = keptShape(x!.shape, attrs.axes);
    const out = ctx.alloc(reducedShape(x!.shape, attrs));
    maxToInto(x!.data, x!.shape, out.data, kept);
    const mask = ctx.alloc(x!.shape);
    maxMaskInto(x!.data, x!.shape, out.data, kept, mask.data);
    ctx.stash(new Tensor(mask.data, mask.shape));
    return out;
  },
  backward(gy, ctx) {
    const mask = ctx.stashed as Tensor;
    return [mul(expandGrad(gy, mask.shape, ctx.attrs), mask)];
  },
  test: {
    attrs: ([s], pick) => ({ axes: pickAxes(s!.length, pick), keepdims: pick.bool() }),
    // a maximum over zero elements is an error; ties have no derivative
    precondition: ([x], attrs) => !attrs.axes.some((a) => x!.shape[a] === 0) && noTies(x!, attrs.axes),
  },
});

/**
 * Maximum over `axis` (all by default), like `np.max`. Gradient: split evenly among tied maxima
 * (PyTorch's rule for `amax` and the full `max`): `max([1, 3, 7, 7])` with upstream gradient −1
 * gives `[0, 0, −0.5, −0.5]`.
 * @throws ArgumentError naming `max` for a bad axis.
 */
export function max<X extends TensorLike>(x: X, options: ReduceOptions = {}): Kept<X> {
  const t = toTensor(x, "max", "x");
  return maxOp([t], reduceAttrs("max", t, options)) as Kept<X>;
}

/** `logSumExp`: `log Σ exp(x)` over the axes, computed stably; its gradient is the softmax. */
export const logSumExpOp: Op<SumAttrs> = defineOp<SumAttrs>({
  name: "logSumExp",
  inputs: ["x"],
  check([x], attrs) {
    checkSumAttrs("logSumExp", x!, attrs);
  },
  normalize: ([x], attrs) => normalizeSumAttrs("logSumExp", x!, attrs),
  forward([x], attrs, ctx) {
    const out = ctx.alloc(reducedShape(x!.shape, attrs));
    logSumExpToInto(x!.data, x!.shape, out.data, keptShape(x!.shape, attrs.axes));
    ctx.saveInputs(0);
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    const x = ctx.input(0);
    const lse = expandGrad(ctx.output(), x.shape, ctx.attrs);
    return [mul(expandGrad(gy, x.shape, ctx.attrs), exp(sub(x, lse)))];
  },
  test: { attrs: ([s], pick) => ({ axes: pickAxes(s!.length, pick), keepdims: pick.bool() }) },
});

/**
 * `log(Σ exp(x))` over `axis` (all by default), without overflow: the maximum is subtracted
 * first. Its gradient is `softmax` over the same axes.
 * @throws ArgumentError naming `logSumExp` for a bad axis.
 */
export function logSumExp(x: TensorLike, options: ReduceOptions = {}): Tensor {
  const t = toTensor(x, "logSumExp", "x");
  return logSumExpOp([t], reduceAttrs("logSumExp", t, options));
}

function pickAxes(rank: number, pick: { bool(): boolean }): number[] {
  const all = Array.from({ length: rank }, (_, i) => i);
  return pick.bool() ? all : all.filter(() => pick.bool());
}

/** True when every reduction of `x` over `axes` has a unique maximum (no ties). */
function noTies(x: Tensor, axes: readonly number[]): boolean {
  const kept = keptShape(x.shape, axes);
  const m = new Float64Array(shapeSize(kept));
  maxToInto(x.data, x.shape, m, kept);
  const spread = new Float64Array(x.size);
  broadcastInto(m, kept, spread, x.shape);
  let atMax = 0;
  for (let i = 0; i < x.size; i++) if (x.data[i] === spread[i]) atMax++;
  return atMax === m.length;
}
