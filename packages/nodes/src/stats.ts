/**
 * `cumsum`, `variance` (behind `var`-style `variance` and `std`) and `outer`, each made with
 * `defineOp`, with its derivative written once with differentiable ops: the gradient of a
 * cumulative sum is the reverse cumulative sum of `gy`; of the variance `2(x − mean)/(N − c)·gy`;
 * of the outer product two matrix–vector products.
 */
import {
  ArgumentError,
  defineOp,
  describeValue,
  fmtShape,
  type Kept,
  normalizeAxes,
  normalizeAxis,
  type Op,
  ShapeError,
  type Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { mul, sub } from "./arithmetic.js";
import { floatOperand, fmtAttrs, isArray, readKnownOptions } from "./format.js";
import { matmul } from "./matmul.js";
import { mean } from "./reduce.js";
import { reshape, transpose } from "./shape.js";
import { sqrt } from "./unary.js";

/** Attributes of the cumulative sum op. */
export interface CumsumAttrs {
  /** The (non-negative) axis summed along. */
  axis: number;
  /** Sum from the end of the axis instead (TensorFlow.js's `reverse`); the gradient of a forward sum. */
  reverse: boolean;
}

/** Checks cumsum's attributes against `x`. */
function checkCumsumAttrs(x: Tensor, attrs: unknown): void {
  if (attrs === null || typeof attrs !== "object") {
    throw new ArgumentError("cumsum", `cumsum: attrs must be { axis, reverse }, got ${fmtAttrs(attrs)}`);
  }
  const { axis, reverse } = attrs as { axis?: unknown; reverse?: unknown };
  if (x.rank === 0) throw new ShapeError("cumsum", "cumsum: x must have at least one dimension, got shape []");
  normalizeAxis("cumsum", axis, x.rank);
  if (typeof reverse !== "boolean") {
    throw new ArgumentError("cumsum", `cumsum: reverse must be a boolean, got ${describeValue(reverse)}`);
  }
}

/** `cumsum`: running sums along an axis; the gradient is the running sum of `gy` the other way. */
export const cumsumOp: Op<CumsumAttrs, "operands"> = defineOp<CumsumAttrs>({
  name: "cumsum",
  inputs: ["x"],
  integers: "int",
  check([x], attrs) {
    checkCumsumAttrs(x!, attrs);
  },
  normalize: ([x], attrs) => ({ axis: normalizeAxis("cumsum", attrs.axis, x!.rank), reverse: attrs.reverse }),
  forward([x], { axis, reverse }, ctx) {
    const shape = x!.shape;
    const xd = x!.data;
    const out = ctx.alloc(shape);
    const o = out.data;
    const n = shape[axis]!;
    let inner = 1;
    for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
    const outer = n === 0 || inner === 0 ? 0 : xd.length / (n * inner);
    // int32 operands (on float64 copies): each running sum wrapped modulo 2^32 (| 0), exactly
    const wrap = ctx.resultDType === "int32";
    for (let b = 0; b < outer; b++) {
      const base = b * n * inner;
      for (let j = 0; j < inner; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const idx = base + (reverse ? n - 1 - k : k) * inner + j;
          acc = wrap ? (acc + xd[idx]!) | 0 : acc + xd[idx]!;
          o[idx] = acc;
        }
      }
    }
    return out;
  },
  backward(gy, ctx) {
    return [cumsumOp([gy], { axis: ctx.attrs.axis, reverse: !ctx.attrs.reverse })];
  },
  test: {
    cases: (pick) => {
      const rank = pick.int(1, 3);
      const shape = Array.from({ length: rank }, () => pick.int(1, 4));
      return { shapes: [shape], attrs: { axis: pick.int(-rank, rank - 1), reverse: pick.bool() } };
    },
  },
});

/** Attributes of the variance op. */
export interface VarianceAttrs {
  /** The (non-negative, sorted) axes reduced. */
  axes: number[];
  /** Keep the reduced axes with size 1. */
  keepdims: boolean;
  /** Bessel's correction: the sum of squares is divided by `max(0, N − correction)` (default 1). */
  correction: number;
}

/** Checks the variance op's attributes against `x`. */
function checkVarianceAttrs(x: Tensor, attrs: unknown): void {
  if (attrs === null || typeof attrs !== "object" || !isArray((attrs as { axes?: unknown }).axes)) {
    throw new ArgumentError(
      "variance",
      `variance: attrs must be { axes: number[], keepdims, correction }, got ${fmtAttrs(attrs)}`,
    );
  }
  const { axes, keepdims, correction } = attrs as { axes: unknown; keepdims?: unknown; correction?: unknown };
  normalizeAxes("variance", axes, x.rank);
  if (typeof keepdims !== "boolean") {
    throw new ArgumentError("variance", `variance: keepdims must be a boolean, got ${describeValue(keepdims)}`);
  }
  if (typeof correction !== "number" || !Number.isFinite(correction) || correction < 0) {
    throw new ArgumentError(
      "variance",
      `variance: correction must be a finite number >= 0, got ${describeValue(correction)}`,
    );
  }
}

/** The number of elements each reduction over `axes` covers. */
function countOver(shape: readonly number[], axes: readonly number[]): number {
  let n = 1;
  for (const a of axes) n *= shape[a]!;
  return n;
}

/**
 * The divisor of a variance over `n` elements, PyTorch's `max(0, N − correction)`: 0 (so the
 * result is NaN or Infinity) when the correction uses up every degree of freedom, an empty
 * reduction included, never a negative number that would give a negative variance.
 */
function varianceDivisor(n: number, correction: number): number {
  return n > correction ? n - correction : 0;
}

/**
 * `variance`: `Σ(x − mean)² / max(0, N − correction)` over the axes (as PyTorch: a divisor of 0
 * gives Infinity, or NaN where the sum is 0, an empty reduction's included); derivative
 * `2(x − mean)/max(0, N − correction)·gy`.
 */
export const varianceOp: Op<VarianceAttrs> = defineOp<VarianceAttrs>({
  name: "variance",
  inputs: ["x"],
  check([x], attrs) {
    checkVarianceAttrs(x!, attrs);
  },
  normalize: ([x], attrs) => ({ ...attrs, axes: normalizeAxes("variance", attrs.axes, x!.rank) }),
  forward([x], { axes, keepdims, correction }, ctx) {
    const shape = x!.shape;
    const xd = x!.data;
    const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = ctx.alloc(keepdims ? kept : shape.filter((_, i) => !axes.includes(i)));
    const o = out.data;
    const n = countOver(shape, axes);
    // two passes per output over the strided elements: the mean, then the squared deviations
    const strides = new Array<number>(shape.length);
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i]!;
    }
    const keptStrides = new Array<number>(shape.length);
    s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      keptStrides[i] = s;
      s *= kept[i]!;
    }
    const sums = new Float64Array(o.length);
    for (let i = 0; i < xd.length; i++) {
      const k = outIndex(i, shape, strides, kept, keptStrides);
      sums[k] = sums[k]! + xd[i]!;
    }
    const means = sums.map((v) => v / n);
    const sq = new Float64Array(o.length);
    for (let i = 0; i < xd.length; i++) {
      const k = outIndex(i, shape, strides, kept, keptStrides);
      const dev = xd[i]! - means[k]!;
      sq[k] = sq[k]! + dev * dev;
    }
    const divisor = varianceDivisor(n, correction);
    for (let k = 0; k < o.length; k++) o[k] = sq[k]! / divisor;
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const { axes, keepdims, correction } = ctx.attrs;
    const x = ctx.input(0);
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const g = keepdims ? gy : reshape(gy, kept);
    const n = countOver(x.shape, axes);
    // Σ(x − mean) = 0 over each reduction: the mean's own dependence on x drops out
    const centered = sub(x, mean(x, { axis: axes, keepdims: true }));
    return [mul(mul(centered, 2 / varianceDivisor(n, correction)), g)];
  },
  test: {
    attrs: ([s], pick) => {
      const all = Array.from({ length: s!.length }, (_, i) => i);
      const axes = pick.bool() ? all : all.filter(() => pick.bool());
      return { axes, keepdims: pick.bool(), correction: pick.bool() ? 0 : 1 };
    },
    // N − correction > 0: a reduction over at least two elements when corrected
    precondition: ([x], { axes, correction }) => countOver(x!.shape, axes) > correction,
  },
});

/** The index into the reduced (kept-shape) output of element `i` of an array of `shape`. */
function outIndex(
  i: number,
  shape: readonly number[],
  strides: readonly number[],
  kept: readonly number[],
  keptStrides: readonly number[],
): number {
  let k = 0;
  let rest = i;
  for (let d = 0; d < shape.length; d++) {
    const c = Math.floor(rest / strides[d]!);
    rest -= c * strides[d]!;
    if (kept[d] !== 1) k += c * keptStrides[d]!;
  }
  return k;
}

/** `outer`: `a[i]·b[j]` for 1-D `a` (M) and `b` (N); gradients `gy·b` and `gyᵀ·a`. */
export const outerOp: Op<undefined, "operands"> = defineOp({
  name: "outer",
  inputs: ["a", "b"],
  // two bools give bool, as PyTorch's outer (and mul) of bool tensors: a logical and
  integers: "keep",
  check([a, b]) {
    if (a!.rank !== 1 || b!.rank !== 1) {
      throw new ShapeError(
        "outer",
        `outer: a and b must be 1-D, got shapes ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)}`,
      );
    }
  },
  forward([a, b], _attrs, ctx) {
    const ad = a!.data;
    const bd = b!.data;
    const m = ad.length;
    const n = bd.length;
    const out = ctx.alloc([m, n]);
    const o = out.data;
    // int32 operands: the product wrapped modulo 2^32 (Math.imul), where the float64 product of
    // two large ones would have lost its low bits first
    if (ctx.resultDType === "int32") {
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o[i * n + j] = Math.imul(ad[i]!, bd[j]!);
    } else for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o[i * n + j] = ad[i]! * bd[j]!;
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    const [da, db] = ctx.needsInputGrad;
    return [da ? matmul(gy, ctx.input(1)) : null, db ? matmul(transpose(gy), ctx.input(0)) : null];
  },
  test: { shapes: (pick) => [[pick.int(1, 4)], [pick.int(1, 4)]] },
});

/**
 * Cumulative sum along `axis` (PyTorch's `cumsum(x, dim)`); `{ reverse: true }` sums from the end
 * (TensorFlow.js's `reverse`). Same shape as `x`.
 * @throws ArgumentError naming `cumsum` for a non-tensor or an axis out of range.
 * @throws ShapeError for a 0-d `x`.
 */
export function cumsum<X extends TensorLike>(x: X, axis: number, options: { reverse?: boolean } = {}): Kept<X> {
  const t = toTensor(x, "cumsum", "x");
  const { reverse } = readKnownOptions("cumsum", options, ["reverse"]);
  return cumsumOp([t], { axis, reverse: reverse ?? false } as CumsumAttrs) as Kept<X>;
}

/** Options of `variance` and `std`. */
export interface VarianceOptions {
  /** The axis or axes reduced (default all). */
  axis?: number | readonly number[];
  /** Keep reduced axes with size 1 (default false). */
  keepdims?: boolean;
  /** Divide by `max(0, N − correction)` (default 1, Bessel's correction, as PyTorch; 0 for numpy's default). */
  correction?: number;
}

/** `{ axes, keepdims, correction }` from `variance`/`std`'s options. */
function varianceAttrs(fn: string, t: Tensor, options: unknown): VarianceAttrs {
  const o = readKnownOptions(fn, options, ["axis", "keepdims", "correction"]);
  const correction = o.correction ?? 1;
  if (typeof correction !== "number" || !Number.isFinite(correction) || correction < 0) {
    throw new ArgumentError(fn, `${fn}: correction must be a finite number >= 0, got ${describeValue(correction)}`);
  }
  return { axes: normalizeAxes(fn, o.axis, t.rank), keepdims: o.keepdims === true, correction };
}

/**
 * The variance over `axis` (all by default), `Σ(x − mean)² / (N − correction)`, as PyTorch's
 * `var(x, dim, correction=1, keepdim)`. N − correction ≤ 0 (an empty axis included) divides by 0,
 * as PyTorch's `max(0, N − correction)`: Infinity, or NaN where the squares sum to 0.
 * @throws ArgumentError naming `variance` for a non-tensor, a bad axis, or a correction that is not
 *   a finite number ≥ 0.
 */
export function variance(x: TensorLike, options: VarianceOptions = {}): Tensor {
  const t = floatOperand(x, "variance", "x");
  return varianceOp([t], varianceAttrs("variance", t, options));
}

/**
 * The standard deviation, `sqrt(variance(x, options))` (PyTorch's `std`); its gradient is
 * infinite where the variance is 0.
 * @throws ArgumentError naming `std` as `variance` does.
 */
export function std(x: TensorLike, options: VarianceOptions = {}): Tensor {
  const t = floatOperand(x, "std", "x");
  return sqrt(varianceOp([t], varianceAttrs("std", t, options)));
}

/**
 * The outer product of two 1-D tensors: `out[i][j] = a[i]·b[j]` (shape [M, N]), as PyTorch's
 * `outer` and numpy's `np.outer` (which we do not flatten: both must be 1-D). Of dtype as `mul`:
 * int32 operands give int32 (wrapped modulo 2^32), two bools give bool (`a[i] && b[j]`).
 * @throws ArgumentError naming `outer` for a non-tensor; ShapeError unless both are 1-D.
 */
export function outer<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return outerOp([a, b]) as Kept<A | B>;
}

/** The op objects defined here, by name, for the package's `ops`. */
export const statsOps = {
  /** {@link cumsumOp}, behind {@link cumsum}. */
  cumsum: cumsumOp,
  /** {@link varianceOp}, behind {@link variance} and {@link std}. */
  variance: varianceOp,
  /** {@link outerOp}, behind {@link outer}. */
  outer: outerOp,
} as const;
