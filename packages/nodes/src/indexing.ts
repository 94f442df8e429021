/**
 * numpy indexing: `getItem(x, ...index)` with integers, slices (`s(start, stop, step)`), `"..."`,
 * `null` (a new axis) and one integer-array index per call, and `gather(x, indices, axis)`
 * (TensorFlow.js's `gather`, PyTorch's `index_select`).
 *
 * Two pairs of ops do the work, each op the other's adjoint (and so its backward), so gradients
 * of every order go through the same kernels: `stridedSlice` (numpy's basic indexing, steps of
 * either sign, one start/step/size per axis) with `padStrided`, and `gather` with `scatterAdd`
 * (repeated indices add up). `getItem` records `stridedSlice`, then `gather` for an integer-array
 * index, then `transpose` where numpy moves the array's axes to the front, then `reshape` for the
 * dropped and the new axes. Its one-argument row forms (`getItem(x, 3)`, `getItem(x, [3, 0])`)
 * keep their own op (`getItem`/`scatterRows`, in shape.ts), unchanged.
 */
import {
  type AnyTensor,
  ArgumentError,
  assertTensor,
  checkShape,
  DTypeError,
  defineOp,
  describeValue,
  type FloatArray,
  fmtShape,
  isTensor,
  type Kept,
  MAX_RANK,
  MAX_TENSOR_SIZE,
  normalizeAxis,
  type Op,
  type Picker,
  ShapeError,
  shapeSize,
  stridesOf,
  type Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { isArray, isInt32Array } from "./format.js";
import {
  around,
  checkAttrsObject,
  checkInt,
  copyBlock,
  getRows,
  type RowIndices,
  reshape,
  reshapeOp,
  transposeOp,
} from "./shape.js";

// ---------------------------------------------------------------------------------------------
// The slice object

/** Checks one bound of a slice: an integer, or null/undefined (open). */
function sliceBound(arg: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ArgumentError("s", `s: ${arg} must be an integer or null, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * A slice, numpy's `start:stop:step`, as one entry of a {@link getItem} index. Made by {@link s};
 * immutable. Each field is an integer or `null` (numpy's omitted bound: the whole axis in the
 * step's direction; a `null` step is 1).
 */
export class SliceIndex {
  /** First index taken (negative counts from the end), or null. */
  readonly start: number | null;
  /** Where the slice stops, exclusive (negative counts from the end), or null. */
  readonly stop: number | null;
  /** The step, a non-zero integer (negative walks backwards), or null for 1. */
  readonly step: number | null;
  /** The brand `SliceIndex.is` checks: only objects the constructor made, with checked fields. */
  readonly #brand = true;

  /**
   * @throws ArgumentError (naming `s`) for a bound or step that is not an integer or null, or a
   *   step of 0.
   */
  constructor(start?: number | null, stop?: number | null, step?: number | null) {
    this.start = sliceBound("start", start);
    this.stop = sliceBound("stop", stop);
    this.step = sliceBound("step", step);
    if (this.step === 0) throw new ArgumentError("s", "s: step must not be 0 (numpy: slice step cannot be zero)");
    Object.freeze(this);
  }

  /** numpy's notation: `1:-1`, `::-1`, `:`. */
  toString(): string {
    const b = (v: number | null) => (v === null ? "" : String(v));
    return `${b(this.start)}:${b(this.stop)}${this.step === null ? "" : `:${this.step}`}`;
  }

  /** True for an object {@link s} made (never throws; a look-alike or a revoked Proxy is not one). */
  static is(v: unknown): v is SliceIndex {
    return typeof v === "object" && v !== null && #brand in v;
  }
}

/**
 * A slice for {@link getItem}: `s(start, stop, step)` is numpy's `start:stop:step`, each part
 * optional (`null` or left out for numpy's empty part). `s()` is `:` (the whole axis), `s(1)` is
 * `1:` (from 1 on, not Python's `slice(1)`, which is `:1`), `s(null, 3)` is `:3`, `s(null, null,
 * -1)` is `::-1` (reversed). Bounds follow Python's rules when used: negative values count from
 * the end, values beyond either end are clamped, and an empty range gives an empty axis.
 * @throws ArgumentError for a part that is not an integer or null, or a step of 0.
 */
export function s(start?: number | null, stop?: number | null, step?: number | null): SliceIndex {
  return new SliceIndex(start, stop, step);
}

/**
 * One entry of a {@link getItem} index, one per argument after `x` (numpy's `x[a, b, c]` is
 * `getItem(x, a, b, c)`):
 * - an integer: that position of the next axis, dropping the axis (negative counts from the end);
 * - a {@link SliceIndex} from {@link s}: a range of the next axis, numpy's `start:stop:step`;
 * - `"..."`: numpy's Ellipsis, as many whole axes as the other entries leave (at most one);
 * - `null`: numpy's `None`/`np.newaxis`, a new axis of size 1;
 * - an array of integers, an `Int32Array` or a Tensor of integer values: an integer-array index
 *   of the next axis (numpy's advanced indexing; at most one per call);
 * - a bool tensor, alone: a mask of `x`'s leading dimensions (numpy's `x[mask]`).
 */
export type Index = number | SliceIndex | "..." | null | RowIndices | Tensor | Tensor<"int32"> | Tensor<"bool">;

/**
 * Indices for {@link gather}: one integer, a list of them, or a Tensor of integer values of any
 * shape (int32, or float holding integers; a bool tensor is refused).
 */
export type GatherIndices = number | RowIndices | Tensor | Tensor<"int32">;

// ---------------------------------------------------------------------------------------------
// Kernels

/**
 * Copies between `full` (row-major, shape `dims`) and `packed` (shape `sizes`) at the strided
 * positions `starts[a] + i·steps[a]`, `i < sizes[a]`: `full → packed` when `toPacked`, else
 * `packed → full`. Trailing axes taken whole are copied as blocks, and a last sliced axis of step
 * 1 as one run per row.
 */
function stridedCopy(
  full: FloatArray,
  dims: readonly number[],
  starts: readonly number[],
  steps: readonly number[],
  sizes: readonly number[],
  packed: FloatArray,
  toPacked: boolean,
): void {
  const rank = dims.length;
  if (packed.length === 0) return;
  let k = rank;
  while (k > 0 && starts[k - 1] === 0 && steps[k - 1] === 1 && sizes[k - 1] === dims[k - 1]) k--;
  if (k === 0) {
    if (toPacked) copyBlock(full, 0, packed, 0, packed.length);
    else copyBlock(packed, 0, full, 0, packed.length);
    return;
  }
  const strides = stridesOf(dims);
  const block = k < rank ? strides[k - 1]! : 1;
  const last = k - 1;
  const n = sizes[last]!;
  const jump = steps[last]! * strides[last]!;
  const run = steps[last] === 1;
  let off = 0;
  for (let a = 0; a < k; a++) off += starts[a]! * strides[a]!;
  let outer = 1;
  for (let a = 0; a < last; a++) outer *= sizes[a]!;
  const idx = new Array<number>(last).fill(0);
  for (let c = 0, o = 0; c < outer; c++, o += n * block) {
    if (run) {
      if (toPacked) copyBlock(full, off, packed, o, n * block);
      else copyBlock(packed, o, full, off, n * block);
    } else if (toPacked) {
      for (let j = 0, f = off; j < n; j++, f += jump) copyBlock(full, f, packed, o + j * block, block);
    } else {
      for (let j = 0, f = off; j < n; j++, f += jump) copyBlock(packed, o + j * block, full, f, block);
    }
    for (let a = last - 1; a >= 0; a--) {
      const step = steps[a]! * strides[a]!;
      off += step;
      if (++idx[a]! < sizes[a]!) break;
      off -= step * sizes[a]!;
      idx[a] = 0;
    }
  }
}

/** `dst[o, j, :] = src[o, idx[j], :]` for `src` of shape `[outer, dim, inner]` (negative indices from the end). */
function gatherInto(
  src: FloatArray,
  outer: number,
  dim: number,
  inner: number,
  idx: ArrayLike<number>,
  dst: FloatArray,
): void {
  const k = idx.length;
  if (inner === 0 || k === 0) return;
  for (let o = 0, d = 0; o < outer; o++) {
    const base = o * dim;
    for (let j = 0; j < k; j++, d += inner) {
      const r = idx[j]!;
      copyBlock(src, (base + (r < 0 ? r + dim : r)) * inner, dst, d, inner);
    }
  }
}

/** `dst[o, idx[j], :] += src[o, j, :]` for `dst` of shape `[outer, dim, inner]` (repeats add up). */
function scatterAddInto(
  src: FloatArray,
  outer: number,
  dim: number,
  inner: number,
  idx: ArrayLike<number>,
  dst: FloatArray,
): void {
  const k = idx.length;
  if (inner === 0 || k === 0) return;
  for (let o = 0, s0 = 0; o < outer; o++) {
    const base = o * dim;
    for (let j = 0; j < k; j++, s0 += inner) {
      const r = idx[j]!;
      const d0 = (base + (r < 0 ? r + dim : r)) * inner;
      for (let t = 0; t < inner; t++) dst[d0 + t] = dst[d0 + t]! + src[s0 + t]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the ops

/** Checks that `v` is an array of `n` integers (named `arg`); returns it. */
function checkIntList(op: string, arg: string, v: unknown, n: number, what: () => string): readonly number[] {
  if (!isArray(v)) {
    throw new ArgumentError(op, `${op}: ${arg} must be an array of ${n} integers (${what()}), got ${describeValue(v)}`);
  }
  if (v.length !== n) {
    throw new ArgumentError(op, `${op}: ${arg} must have ${n} entries, one per axis (${what()}), got ${v.length}`);
  }
  for (let a = 0; a < n; a++) checkInt(op, `${arg}[${a}]`, v[a]);
  return v as readonly number[];
}

/**
 * Checks strided positions `starts[a] + i·steps[a]`, `i < sizes[a]`, against `dims` (non-zero
 * steps; every position inside its axis).
 * @throws ArgumentError naming `op`, the axis and the positions.
 */
function checkStrides(
  op: string,
  starts: unknown,
  steps: unknown,
  sizes: readonly number[],
  dims: readonly number[],
  what: () => string,
): void {
  const rank = dims.length;
  const st = checkIntList(op, "attrs.starts", starts, rank, what);
  const sp = checkIntList(op, "attrs.steps", steps, rank, what);
  for (let a = 0; a < rank; a++) {
    const d = dims[a]!;
    const n = sizes[a]!;
    const start = st[a]!;
    const step = sp[a]!;
    if (step === 0) throw new ArgumentError(op, `${op}: attrs.steps[${a}] must not be 0 (${what()})`);
    const end = start + (n - 1) * step;
    const ok = n === 0 ? start >= 0 && start <= d : start >= 0 && start < d && end >= 0 && end < d;
    if (!ok) {
      throw new ArgumentError(
        op,
        `${op}: along axis ${a}, start ${start}, step ${step} and size ${n} reach ${n === 0 ? start : `${start}..${end}`}, outside 0..${d - 1} for a dimension of size ${d} (${what()})`,
      );
    }
  }
}

/** Checks that `v` is a list of non-negative integers (the sizes of `stridedSlice`). */
function checkSizes(op: string, v: unknown, rank: number, what: () => string): readonly number[] {
  const sizes = checkIntList(op, "attrs.sizes", v, rank, what);
  for (let a = 0; a < rank; a++) {
    if (sizes[a]! < 0) throw new ArgumentError(op, `${op}: attrs.sizes[${a}] must be >= 0, got ${sizes[a]}`);
  }
  return sizes;
}

/**
 * Checks gather-style indices (`attrs.indices` and `attrs.indexShape`) against an axis of size
 * `dim`: an array or Int32Array of `size(indexShape)` integers in `-dim..dim-1`.
 * @throws ArgumentError naming `op`, the index and the dimension.
 */
function checkGatherIndices(
  op: string,
  indices: unknown,
  indexShape: unknown,
  dim: number,
  what: () => string,
): readonly number[] {
  const shape = checkShape(op, indexShape, "attrs.indexShape");
  const n = shapeSize(shape);
  if (!(isArray(indices) || isInt32Array(indices))) {
    throw new ArgumentError(
      op,
      `${op}: attrs.indices must be an array of integers or an Int32Array, got ${describeValue(indices)}`,
    );
  }
  if (indices.length !== n) {
    throw new ArgumentError(
      op,
      `${op}: attrs.indices has ${indices.length} entries, but attrs.indexShape ${fmtShape(shape)} holds ${n}`,
    );
  }
  for (let j = 0; j < n; j++) {
    const i: unknown = indices[j];
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new ArgumentError(op, `${op}: attrs.indices[${j}] must be an integer, got ${describeValue(i)}`);
    }
    if (i < -dim || i >= dim) {
      throw new ArgumentError(
        op,
        `${op}: attrs.indices[${j}] ${i} is out of range for a dimension of size ${dim} (${what()}; valid: ${-dim} to ${dim - 1})`,
      );
    }
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------
// stridedSlice and its adjoint padStrided

/**
 * Attributes of `stridedSlice`: per axis of `x`, the first position taken, the step between
 * positions (non-zero; negative walks backwards) and how many are taken. numpy's
 * `x[start:stop:step]` on every axis, with the bounds already resolved.
 */
export interface StridedSliceAttrs {
  /** First position taken along each axis, `0..dim-1` (any of `0..dim` where the size is 0). */
  readonly starts: readonly number[];
  /** Step along each axis, a non-zero integer. */
  readonly steps: readonly number[];
  /** How many positions are taken along each axis: the output's shape. */
  readonly sizes: readonly number[];
}

/** Attributes of `padStrided`, the adjoint of `stridedSlice`: the positions, and the result's shape. */
export interface PadStridedAttrs {
  /** As in {@link StridedSliceAttrs}, for the result's axes. */
  readonly starts: readonly number[];
  /** As in {@link StridedSliceAttrs}. */
  readonly steps: readonly number[];
  /** The result's shape (the shape of the `x` the slice was taken from). */
  readonly shape: readonly number[];
}

/** Draws strided positions inside `dims`: a step of ±1..3 and a size of at least 1 where the axis allows. */
function drawStrides(pick: Picker, dims: readonly number[]): { starts: number[]; steps: number[]; sizes: number[] } {
  const starts: number[] = [];
  const steps: number[] = [];
  const sizes: number[] = [];
  for (const d of dims) {
    const step = pick.int(1, 3) * (pick.bool() ? 1 : -1);
    const most = Math.ceil(d / Math.abs(step));
    const size = pick.int(Math.min(1, most), most);
    const span = Math.max(size - 1, 0) * Math.abs(step);
    const start = size === 0 ? 0 : step > 0 ? pick.int(0, d - 1 - span) : pick.int(span, d - 1);
    starts.push(start);
    steps.push(step);
    sizes.push(size);
  }
  return { starts, steps, sizes };
}

/**
 * `stridedSlice`: numpy's basic slicing of every axis at once (a copy of shape `sizes`); backward
 * places the gradient back with `padStrided`.
 */
export const stridedSliceOp: Op<StridedSliceAttrs, "operands"> = defineOp<StridedSliceAttrs>({
  name: "stridedSlice",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("stridedSlice", attrs, "{ starts: number[], steps: number[], sizes: number[] }");
    const what = () => `x of shape ${fmtShape(x!.shape)}`;
    const sizes = checkSizes("stridedSlice", attrs.sizes, x!.rank, what);
    checkStrides("stridedSlice", attrs.starts, attrs.steps, sizes, x!.shape, what);
  },
  forward([x], { starts, steps, sizes }, ctx) {
    const out = ctx.alloc(sizes);
    stridedCopy(x!.data, x!.shape, starts, steps, sizes, out.data, true);
    ctx.stash(x!.shape);
    return out;
  },
  backward(gy, ctx) {
    const { starts, steps } = ctx.attrs;
    return [padStridedOp([gy], { starts, steps, shape: ctx.stashed as readonly number[] })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ maxRank: 3 });
      return { shapes: [shape], attrs: drawStrides(pick, shape) };
    },
  },
});

/**
 * `padStrided`, the adjoint of `stridedSlice`: zeros of `shape` with `g` placed at the strided
 * positions; backward is `stridedSlice` again.
 */
export const padStridedOp: Op<PadStridedAttrs> = defineOp<PadStridedAttrs>({
  name: "padStrided",
  inputs: ["g"],
  check([g], attrs) {
    checkAttrsObject("padStrided", attrs, "{ starts: number[], steps: number[], shape: number[] }");
    const shape = checkShape("padStrided", attrs.shape, "attrs.shape");
    if (shape.length !== g!.rank) {
      throw new ShapeError(
        "padStrided",
        `padStrided: attrs.shape ${fmtShape(shape)} must have the rank of g of shape ${fmtShape(g!.shape)}`,
      );
    }
    const what = () => `g of shape ${fmtShape(g!.shape)} placed in ${fmtShape(shape)}`;
    checkStrides("padStrided", attrs.starts, attrs.steps, g!.shape, shape, what);
  },
  forward([g], { starts, steps, shape }, ctx) {
    const out = ctx.alloc(shape);
    stridedCopy(out.data, shape, starts, steps, g!.shape, g!.data, false);
    ctx.stash(g!.shape);
    return out;
  },
  backward(gy, ctx) {
    const { starts, steps } = ctx.attrs;
    return [stridedSliceOp([gy], { starts, steps, sizes: ctx.stashed as readonly number[] })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ maxRank: 3 });
      const { starts, steps, sizes } = drawStrides(pick, shape);
      return { shapes: [sizes], attrs: { starts, steps, shape } };
    },
  },
});

// ---------------------------------------------------------------------------------------------
// gather and its adjoint scatterAdd

/**
 * Attributes of `gather`: the indices (flat, row-major, with their shape) and the axis they
 * index.
 */
export interface GatherAttrs {
  /** The indices, `-dim..dim-1` (negative count from the end), in row-major order. */
  readonly indices: RowIndices;
  /** The shape of the indices: the output has these axes in place of `axis`. */
  readonly indexShape: readonly number[];
  /** The axis of `x` indexed (negative counts from the end). */
  readonly axis: number;
}

/** Attributes of `scatterAdd`, the adjoint of `gather`: as gather's, and the result's size along `axis`. */
export interface ScatterAddAttrs extends GatherAttrs {
  /** Size of the result along `axis` (the size of the axis `gather` indexed). */
  readonly dim: number;
}

/** Draws gather attributes for `x` of `shape`: an axis and indices of rank 0..2 (empty where the axis is). */
function drawGather(pick: Picker, shape: readonly number[]): GatherAttrs {
  const rank = shape.length;
  const axis = pick.int(-rank, rank - 1);
  const d = shape[axis < 0 ? axis + rank : axis]!;
  const indexShape = Array.from({ length: pick.int(0, 2) }, () => pick.int(d === 0 ? 0 : 1, 3));
  if (d === 0 && shapeSize(indexShape) > 0) indexShape.push(0);
  const indices = Array.from({ length: shapeSize(indexShape) }, () => pick.int(-d, d - 1));
  return { indices, indexShape, axis };
}

/** The gathered shape: `shape` with `axis` replaced by `indexShape`. */
function gatheredShape(shape: readonly number[], axis: number, indexShape: readonly number[]): number[] {
  return [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
}

/**
 * `gather`: entries of `x` picked along one axis by integer indices of any shape (repeats
 * allowed); backward adds the gradient back with `scatterAdd`.
 */
export const gatherOp: Op<GatherAttrs, "operands"> = defineOp<GatherAttrs>({
  name: "gather",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("gather", attrs, "{ indices: number[] | Int32Array, indexShape: number[], axis: number }");
    if (x!.rank === 0) throw new ShapeError("gather", "gather: x must have at least one dimension, got shape []");
    const axis = normalizeAxis("gather", attrs.axis, x!.rank, "attrs.axis");
    const indexShape = checkGatherIndices("gather", attrs.indices, attrs.indexShape, x!.shape[axis]!, () => {
      return `axis ${axis} of x of shape ${fmtShape(x!.shape)}`;
    });
    checkShape("gather", gatheredShape(x!.shape, axis, indexShape), "result shape");
  },
  normalize: ([x], { indices, indexShape, axis }) => ({
    indices,
    indexShape,
    axis: axis < 0 ? axis + x!.rank : axis,
  }),
  forward([x], { indices, indexShape, axis }, ctx) {
    const shape = x!.shape;
    const [outer, dim, inner] = around(shape, axis);
    const out = ctx.alloc(gatheredShape(shape, axis, indexShape));
    gatherInto(x!.data, outer, dim, inner, indices, out.data);
    ctx.stash(dim);
    return out;
  },
  backward(gy, ctx) {
    return [scatterAddOp([gy], { ...ctx.attrs, dim: ctx.stashed as number })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ minRank: 1, maxRank: 3 });
      return { shapes: [shape], attrs: drawGather(pick, shape) };
    },
  },
});

/**
 * `scatterAdd`, the adjoint of `gather`: zeros with `dim` entries along `axis`, into which the
 * slice of `g` at index position `j` is added at `indices[j]` (repeats add up: PyTorch's
 * `index_add` on zeros); backward is `gather` again.
 */
export const scatterAddOp: Op<ScatterAddAttrs> = defineOp<ScatterAddAttrs>({
  name: "scatterAdd",
  inputs: ["g"],
  check([g], attrs) {
    checkAttrsObject(
      "scatterAdd",
      attrs,
      "{ indices: number[] | Int32Array, indexShape: number[], axis: number, dim: number }",
    );
    const dim = checkInt("scatterAdd", "attrs.dim", attrs.dim);
    if (dim < 0) throw new ArgumentError("scatterAdd", `scatterAdd: attrs.dim must be >= 0, got ${dim}`);
    const indexShape = checkShape("scatterAdd", attrs.indexShape, "attrs.indexShape");
    const rank = g!.rank - indexShape.length + 1;
    if (rank < 1) {
      throw new ShapeError(
        "scatterAdd",
        `scatterAdd: g of shape ${fmtShape(g!.shape)} has fewer dimensions than attrs.indexShape ${fmtShape(indexShape)}`,
      );
    }
    const axis = normalizeAxis("scatterAdd", attrs.axis, rank, "attrs.axis");
    const k = indexShape.length;
    if (indexShape.some((d, i) => g!.shape[axis + i] !== d)) {
      throw new ShapeError(
        "scatterAdd",
        `scatterAdd: g of shape ${fmtShape(g!.shape)} must have the index shape ${fmtShape(indexShape)} at axis ${axis}`,
      );
    }
    const shape = [...g!.shape.slice(0, axis), dim, ...g!.shape.slice(axis + k)];
    // the result's shape, checked (size included) before anything is allocated
    checkShape("scatterAdd", shape, "result shape");
    checkGatherIndices("scatterAdd", attrs.indices, indexShape, dim, () => `result of shape ${fmtShape(shape)}`);
  },
  normalize: ([g], { indices, indexShape, axis, dim }) => ({
    indices,
    indexShape,
    axis: axis < 0 ? axis + g!.rank - indexShape.length + 1 : axis,
    dim,
  }),
  forward([g], { indices, indexShape, axis, dim }, ctx) {
    const k = indexShape.length;
    const shape = [...g!.shape.slice(0, axis), dim, ...g!.shape.slice(axis + k)];
    const [outer, , inner] = around(shape, axis);
    const out = ctx.alloc(shape);
    scatterAddInto(g!.data, outer, dim, inner, indices, out.data);
    return out;
  },
  backward(gy, ctx) {
    const { indices, indexShape, axis } = ctx.attrs;
    return [gatherOp([gy], { indices, indexShape, axis })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ minRank: 1, maxRank: 3 });
      const attrs = drawGather(pick, shape);
      const axis = attrs.axis < 0 ? attrs.axis + shape.length : attrs.axis;
      const g = gatheredShape(shape, axis, attrs.indexShape);
      return { shapes: [g], attrs: { ...attrs, dim: shape[axis]! } };
    },
  },
});

// ---------------------------------------------------------------------------------------------
// Reading user indices

/** Integer indices read from a user's argument: normalised to `0..dim-1`, with their shape. */
interface ReadIndices {
  readonly values: Int32Array;
  readonly shape: readonly number[];
}

/** `[i, j]` of flat position `j` in `shape` (for messages). */
function positionOf(j: number, shape: readonly number[]): string {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!;
    out[a] = j % d;
    j = Math.floor(j / d);
  }
  return fmtShape(out);
}

/**
 * Reads integer indices into an axis of size `dim`: a number (0-d), an array of numbers or an
 * Int32Array (1-D), or a Tensor of integer values (its shape). Each is checked (an integer in
 * `-dim..dim-1`) before anything is allocated, so a huge sparse array fails at its first hole.
 * @throws ArgumentError naming `fn`, `arg`, the offending index, the axis and its size.
 */
function readIndices(fn: string, arg: string, v: unknown, dim: number, axisWhat: () => string): ReadIndices {
  const range = (i: number, at: string) => {
    if (i < -dim || i >= dim) {
      throw new ArgumentError(
        fn,
        `${fn}: ${at} ${i} is out of range for ${axisWhat()} of size ${dim} (valid: ${-dim} to ${dim - 1})`,
      );
    }
  };
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new ArgumentError(fn, `${fn}: ${arg} must be an integer, got ${describeValue(v)}`);
    range(v, arg);
    return { values: Int32Array.of(v < 0 ? v + dim : v), shape: [] };
  }
  let list: ArrayLike<unknown>;
  let shape: readonly number[];
  let tensorShape: readonly number[] | null = null;
  if (isInt32Array(v) || isArray(v)) {
    list = v;
    shape = [v.length];
  } else if (isTensor(v)) {
    if (v.dtype === "bool") {
      // 0 and 1 would be read as positions: a mask means something else
      throw new DTypeError(
        fn,
        `${fn}: ${arg} must hold integer indices, got a bool tensor of shape ${fmtShape(v.shape)}${fn === "getItem" ? " (a boolean mask indexes alone: getItem(x, mask))" : ""}`,
      );
    }
    list = v.data;
    shape = v.shape;
    tensorShape = v.shape;
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be an integer, an array of integers, an Int32Array or a Tensor of integer values, got ${describeValue(v)}`,
    );
  }
  const n = list.length;
  if (n > MAX_TENSOR_SIZE) {
    throw new ArgumentError(fn, `${fn}: ${arg} has ${n} entries, more than the maximum ${MAX_TENSOR_SIZE}`);
  }
  for (let j = 0; j < n; j++) {
    const i: unknown = list[j];
    const at = tensorShape !== null && tensorShape.length > 1 ? `${arg}${positionOf(j, tensorShape)}` : `${arg}[${j}]`;
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new ArgumentError(
        fn,
        `${fn}: ${at} must be an integer, got ${describeValue(i)}${isArray(i) ? "; for indices of several dimensions pass a Tensor" : ""}`,
      );
    }
    range(i, at);
  }
  const values = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = list[j] as number;
    values[j] = i < 0 ? i + dim : i;
  }
  return { values, shape: [...shape] };
}

/**
 * numpy's `np.take(x, indices, axis)`, TensorFlow.js's `tf.gather(x, indices, axis)` and PyTorch's
 * `torch.index_select(x, axis, indices)` (for 1-D indices): the entries of `x` at `indices` along
 * `axis`, repeats allowed. An embedding lookup is `gather(W, ids)` for a `[vocab, dim]` table `W`.
 *
 * Negative indices count from the end of the axis, as in numpy, ONNX's Gather and `getItem`
 * (PyTorch's `index_select` and TensorFlow.js refuse them); anything outside `-n..n-1` is an
 * error, never clamped.
 *
 * The result is a copy; `indices` is copied too. The gradient adds each gathered slice's gradient
 * into the place it came from, so repeated indices add up (`scatterAdd`, whose own gradient is
 * `gather` again).
 * @param indices - one integer (the axis is dropped, as `getItem(x, i)` along `axis`), an array of
 *   integers or an `Int32Array` (1-D), or a Tensor of integer values of any shape.
 * @param axis - the axis indexed (negative counts from the end; default 0).
 * @returns a tensor of shape `[...x.shape.slice(0, axis), ...indicesShape, ...x.shape.slice(axis + 1)]`.
 * @throws ArgumentError when `x` is not a Tensor, `axis` is out of range, or an index is not an
 *   integer or is outside `-n..n-1` for an axis of size n (naming the index, the axis and n).
 * @throws ShapeError for a 0-d `x`, or a result beyond the maximum rank or size.
 */
export function gather<X extends TensorLike>(value: X, indices: GatherIndices, axis = 0): Kept<X> {
  const x = toTensor(value, "gather", "x");
  const t = assertTensor("gather", "x", x);
  if (t.rank === 0) throw new ShapeError("gather", "gather: x must have at least one dimension, got shape []");
  const ax = normalizeAxis("gather", axis, t.rank);
  const read = readIndices("gather", "indices", indices, t.shape[ax]!, () => {
    return `axis ${ax} of x of shape ${fmtShape(t.shape)}`;
  });
  return gatherOp([t], { indices: read.values, indexShape: read.shape, axis: ax }) as Kept<X>;
}

// ---------------------------------------------------------------------------------------------
// getItem

/** Python's `slice.indices(dim)` as (first, step, count); a single position gets step 1, none start 0. */
function resolveSlice(sl: SliceIndex, dim: number): [number, number, number] {
  const step = sl.step ?? 1;
  const clamp = (v: number, lower: number, upper: number) => (v < 0 ? Math.max(v + dim, lower) : Math.min(v, upper));
  let start: number;
  let stop: number;
  let count: number;
  if (step > 0) {
    start = sl.start === null ? 0 : clamp(sl.start, 0, dim);
    stop = sl.stop === null ? dim : clamp(sl.stop, 0, dim);
    count = stop > start ? Math.ceil((stop - start) / step) : 0;
  } else {
    start = sl.start === null ? dim - 1 : clamp(sl.start, -1, dim - 1);
    stop = sl.stop === null ? -1 : clamp(sl.stop, -1, dim - 1);
    count = start > stop ? Math.ceil((start - stop) / -step) : 0;
  }
  if (count === 0) return [0, 1, 0];
  return [start, count === 1 ? 1 : step, count];
}

/** Where an entry of the result comes from: an axis of x, a new axis, or the integer-array index's axes. */
type OutEntry = number | "new" | "array";

/**
 * numpy's `x[index]` with basic indexing and at most one integer-array index, one argument per
 * entry of numpy's index tuple: `x[1, :, None]` is `getItem(x, 1, s(), null)`, `x[..., ::-1]` is
 * `getItem(x, "...", s(null, null, -1))`, `x[:, [0, 2, 2]]` is `getItem(x, s(), [0, 2, 2])`.
 *
 * Each entry (see {@link Index}) indexes the next axis of `x`, left to right:
 * - an integer picks one position and drops the axis (negative counts from the end; outside
 *   `-n..n-1` is an error, never clamped);
 * - `s(start, stop, step)` takes a range with Python's rules: negative bounds count from the end,
 *   bounds beyond either end are clamped, steps may be negative, an empty range gives an empty axis;
 * - `"..."` stands for as many whole axes as the other entries leave (at most one);
 * - `null` inserts a new axis of size 1 and indexes nothing;
 * - an array of integers, an `Int32Array` or a Tensor of integer values picks positions of its
 *   axis (repeats allowed), which become the index's axes in the result. With integers also in
 *   the index, numpy's rule applies: if the integers and the array are not side by side (a slice,
 *   `"..."` or `null` between them), the array's axes go first in the result.
 *
 * Axes left over at the end are taken whole. The one-argument forms keep their meaning from
 * before: `getItem(x, 2)` is row 2 and `getItem(x, [2, 0, 2])` (an array passed alone) gathers
 * rows, numpy's `x[[2, 0, 2]]`; an array is never read as a tuple of per-axis indices, so
 * `x[1, 2]` is `getItem(x, 1, 2)`. At most one integer-array index per call; use {@link gather}
 * for one with several axes.
 *
 * The result is a copy, recorded in the graph; the gradient places the upstream gradient back into
 * zeros of `x`'s shape (repeated array indices add up), with ops whose own gradients are the
 * selections again, so higher orders work.
 * @returns a tensor shaped as numpy's `x[index]`.
 * @throws ArgumentError when `x` is not a Tensor; for an entry of another kind, a non-integer
 *   index, an integer outside `-n..n-1` (naming the entry, the axis, the index and the size), two
 *   `"..."` or two integer-array indices.
 * @throws ShapeError when the entries index more axes than `x` has, or the result would exceed the
 *   maximum rank; for a 0-d `x` indexed by one integer or array alone.
 */
export function getItem<X extends TensorLike>(value: X, ...index: Index[]): Kept<X> {
  const x = toTensor(value, "getItem", "x");
  const t = assertTensor("getItem", "x", x);
  if (index.length === 1) {
    const only: unknown = index[0];
    if (typeof only === "number" || isArray(only) || isInt32Array(only))
      return getRows(t, only as number | RowIndices) as Kept<X>;
    if (isTensor(only) && only.dtype === "bool") return maskSelect(t, only) as Kept<X>;
  }
  return basicIndex(t, index) as Kept<X>;
}

/**
 * numpy's boolean-mask indexing `x[mask]`: the entries (or sub-arrays) of `x` where `mask`, whose
 * shape is `x`'s leading dimensions, holds true, in row-major order: shape `[count, ...rest]`.
 * A reshape and a `gather`, so differentiable in `x`.
 * @throws ShapeError naming `getItem` when the mask's shape is not a prefix of `x`'s.
 */
function maskSelect(t: AnyTensor, mask: Tensor<"bool">): AnyTensor {
  const k = mask.rank;
  if (k > t.rank || mask.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(
      "getItem",
      `getItem: a boolean mask of shape ${fmtShape(mask.shape)} must have the leading dimensions of x of shape ${fmtShape(t.shape)}`,
    );
  }
  const picked: number[] = [];
  const m = mask.data;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) picked.push(i);
  const rest = t.shape.slice(k);
  const flat = reshape(t, [m.length, ...rest]);
  return gatherOp([flat], { indices: Int32Array.from(picked), indexShape: [picked.length], axis: 0 });
}

/** getItem's general form (see {@link getItem}). */
function basicIndex(t: AnyTensor, index: readonly unknown[]): AnyTensor {
  const n = index.length;
  const rank = t.rank;
  const shape = t.shape;
  const label = (k: number) => (n === 1 ? "index" : `index[${k}]`);
  const xWhat = () => `x of shape ${fmtShape(shape)}`;

  // which entries are what, and how many axes of x they index
  let ellipsisAt = -1;
  let arrayAt = -1;
  let consumed = 0;
  for (let k = 0; k < n; k++) {
    const c: unknown = index[k];
    if (typeof c === "number") {
      if (!Number.isInteger(c)) {
        throw new ArgumentError("getItem", `getItem: ${label(k)} must be an integer, got ${describeValue(c)}`);
      }
      consumed++;
    } else if (c === null) {
      // a new axis
    } else if (c === "...") {
      if (ellipsisAt >= 0) {
        throw new ArgumentError(
          "getItem",
          `getItem: an index can have only one "..." (an ellipsis), got ${label(ellipsisAt)} and ${label(k)}`,
        );
      }
      ellipsisAt = k;
    } else if (SliceIndex.is(c)) {
      consumed++;
    } else if (isArray(c) || isInt32Array(c) || isTensor(c)) {
      if (arrayAt >= 0) {
        throw new ArgumentError(
          "getItem",
          `getItem: only one integer-array index is supported, got ${label(arrayAt)} and ${label(k)}; index one axis at a time (or use gather)`,
        );
      }
      arrayAt = k;
      consumed++;
    } else {
      throw new ArgumentError(
        "getItem",
        `getItem: ${label(k)} must be an integer, a slice s(start, stop, step), "...", null (a new axis) or an array of integers, got ${describeValue(c)}`,
      );
    }
  }
  if (consumed > rank) {
    throw new ShapeError(
      "getItem",
      `getItem: too many indices for x of shape ${fmtShape(shape)}: ${consumed} entries index an axis (integers, slices and arrays), but x has ${rank} dimension${rank === 1 ? "" : "s"}`,
    );
  }

  // per axis of x: the strided positions taken, and where each axis goes in the result
  const starts = new Array<number>(rank).fill(0);
  const steps = new Array<number>(rank).fill(1);
  const sizes = shape.slice();
  const out: OutEntry[] = [];
  const ints: number[] = [];
  /** Positions (in the index) of the integers and the array: numpy's advanced indices. */
  const advanced: number[] = [];
  let arrayAxis = -1;
  let picked: ReadIndices | null = null;
  let axis = 0;
  for (let k = 0; k < n; k++) {
    const c: unknown = index[k];
    if (typeof c === "number") {
      const a = axis++;
      const d = shape[a]!;
      if (c < -d || c >= d) {
        throw new ArgumentError(
          "getItem",
          `getItem: ${label(k)} ${c} is out of range for dimension ${a} of size ${d} (${xWhat()}; valid: ${-d} to ${d - 1})`,
        );
      }
      starts[a] = c < 0 ? c + d : c;
      sizes[a] = 1;
      ints.push(a);
      advanced.push(k);
    } else if (c === null) out.push("new");
    else if (c === "...") {
      for (let i = 0; i < rank - consumed; i++) out.push(axis++);
    } else if (SliceIndex.is(c)) {
      const a = axis++;
      const [first, step, count] = resolveSlice(c, shape[a]!);
      starts[a] = first;
      steps[a] = step;
      sizes[a] = count;
      out.push(a);
    } else {
      const a = axis++;
      picked = readIndices("getItem", label(k), c, shape[a]!, () => `dimension ${a}`);
      arrayAxis = a;
      out.push("array");
      advanced.push(k);
    }
  }
  while (axis < rank) out.push(axis++);

  // numpy: integers and an array not side by side put the array's axes first
  if (picked !== null && advanced.length > 1 && advanced[advanced.length - 1]! - advanced[0]! >= advanced.length) {
    out.splice(out.indexOf("array"), 1);
    out.unshift("array");
  }
  const q = picked === null ? 0 : picked.shape.length;
  /** The axis of the gathered tensor that axis `a` of x became. */
  const gatheredAxis = (a: number) => (picked === null || a < arrayAxis ? a : a - 1 + q);
  const order: number[] = [];
  const result: number[] = [];
  for (const e of out) {
    if (e === "new") result.push(1);
    else if (e === "array") {
      for (let i = 0; i < q; i++) {
        order.push(arrayAxis + i);
        result.push(picked!.shape[i]!);
      }
    } else {
      order.push(gatheredAxis(e));
      result.push(sizes[e]!);
    }
  }
  if (result.length > MAX_RANK) {
    throw new ShapeError(
      "getItem",
      `getItem: the result would have ${result.length} dimensions, more than the maximum rank ${MAX_RANK} (${xWhat()})`,
    );
  }
  checkShape("getItem", result, "result shape");

  let y = t;
  const whole = starts.every((v, a) => v === 0 && steps[a] === 1 && sizes[a] === shape[a]);
  if (picked === null || !whole) y = stridedSliceOp([y], { starts, steps, sizes });
  if (picked !== null) {
    y = gatherOp([y], { indices: picked.values, indexShape: picked.shape, axis: arrayAxis });
  }
  // a transpose only where axes of more than one entry change order
  const moved = order.filter((a) => y.shape[a] !== 1);
  if (moved.some((a, i) => i > 0 && a < moved[i - 1]!)) {
    y = transposeOp([y], { axes: [...order, ...ints.map(gatheredAxis)] });
  }
  if (y.shape.length !== result.length || y.shape.some((d, i) => d !== result[i])) {
    y = reshapeOp([y], { shape: result });
  }
  return y;
}

/** Every op object of this module, by name, for the package's `ops`. */
export const indexingOps = {
  /** {@link stridedSliceOp}, behind {@link getItem}'s slices and integers. */
  stridedSlice: stridedSliceOp,
  /** {@link padStridedOp}, the adjoint of `stridedSlice` (its backward); no function of its own. */
  padStrided: padStridedOp,
  /** {@link gatherOp}, behind {@link gather} and {@link getItem}'s integer-array index. */
  gather: gatherOp,
  /** {@link scatterAddOp}, the adjoint of `gather` (its backward); no function of its own. */
  scatterAdd: scatterAddOp,
} as const;
