/**
 * Shape ops: `reshape`, `transpose`, row selection (`getItem`'s row forms, `slice`), joining and
 * splitting (`concat`, `stack`, `split`), the `broadcastTo` / `sumTo` pair (defined in core, where
 * the engine uses them), and `clone`, the recorded copy (defined in core, behind `Tensor.clone`).
 *
 * Every selection op comes with its adjoint as an op of its own — `getItem` with `scatterRows`,
 * `slice` with `padSlice`, `concat` with `split`, `transpose` with itself — and each one's backward
 * is the other, so gradients of every order go through the same two kernels.
 */
import {
  type AnyTensor,
  ArgumentError,
  assertTensor,
  checkShape,
  cloneOp,
  defineMultiOutputOp,
  defineOp,
  describeValue,
  type FloatArray,
  fmtShape,
  isGradEnabled,
  type Kept,
  MAX_RANK,
  type MultiOp,
  normalizeAxis,
  type Op,
  type Picker,
  permutationFrom,
  ShapeError,
  shapeSize,
  stridesOf,
  type Tensor,
  type TensorLike,
  toTensor,
  toTensors,
} from "@gradgraph/core";
import { fmtAttrs, fmtValue, isArray, isInt32Array } from "./format.js";

export { broadcastTo, cast, cloneOp, sumTo } from "@gradgraph/core";

// ---------------------------------------------------------------------------------------------
// clone

/**
 * A copy of `x` (same shape and dtype, new data in the same storage) that stays in the graph:
 * `x.clone()` as a function, PyTorch's and TensorFlow.js's `clone`. When `x` requires grad and
 * grad mode is on the copy is recorded (op `clone`, see `cloneOp`) and its gradient flows back to
 * `x` unchanged (the derivative is the identity, at every order); otherwise the copy is a new
 * leaf. For a copy cut off from the graph use `x.detach().clone()`; `x.detach()` alone shares the
 * data. Takes a tensor only, as the other shape ops (the op object, `cloneOp([2])`, takes a
 * number as every op object does).
 * @throws ArgumentError naming `clone` when `x` is not a Tensor.
 */
export function clone<X extends TensorLike>(value: X): Kept<X> {
  const x = toTensor(value, "clone", "x");
  return cloneOp([assertTensor("clone", "x", x)]) as Kept<X>;
}

// ---------------------------------------------------------------------------------------------
// reshape

/** Attributes of `reshape`: the new shape. */
export interface ReshapeAttrs {
  /** The output shape: non-negative integers whose product is the input's size (no `-1` to infer). */
  readonly shape: readonly number[];
}

/** `reshape`: same elements, new shape; the output shares the input's data (no copy). */
export const reshapeOp: Op<ReshapeAttrs, "operands"> = defineOp<ReshapeAttrs>({
  name: "reshape",
  inputs: ["x"],
  integers: "keep",
  forward([x], { shape }, ctx) {
    ctx.stash(x!.shape);
    return { data: x!.data, shape };
  },
  backward(gy, ctx) {
    return [reshape(gy, ctx.stashed as readonly number[])];
  },
  test: {
    attrs: ([s], pick) => {
      const size = s!.reduce((a, b) => a * b, 1);
      const options = [[size], [...s!].reverse(), [1, ...s!], s!.filter((d) => d !== 1)];
      return { shape: options[pick.int(0, options.length - 1)]! };
    },
  },
  check([x], attrs) {
    if (attrs === null || typeof attrs !== "object" || !isArray(attrs.shape)) {
      throw new ArgumentError("reshape", `reshape: attrs must be { shape: number[] }, got ${fmtAttrs(attrs)}`);
    }
    checkShape("reshape", attrs.shape);
    if (shapeSize(attrs.shape) !== x!.size) {
      throw new ShapeError(
        "reshape",
        `reshape: cannot reshape ${fmtShape(x!.shape)} (${x!.size} elements) to ${fmtShape(attrs.shape)}`,
      );
    }
  },
});

/**
 * The same elements in a new shape (row-major order). One dimension may be `-1`, inferred from
 * the others. The result shares `x`'s data.
 * @throws ShapeError when the sizes differ, or more than one dimension is -1.
 * @throws ArgumentError for non-integer dimensions.
 */
export function reshape<X extends TensorLike>(value: X, shape: readonly number[]): Kept<X> {
  const x = toTensor(value, "reshape", "x");
  if (!isArray(shape)) {
    throw new ArgumentError("reshape", `reshape: shape must be an array of integers, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new ShapeError(
      "reshape",
      `reshape: shape has ${shape.length} dimensions, more than the maximum rank ${MAX_RANK}`,
    );
  }
  const s = shape.slice();
  let infer = -1;
  let known = 1;
  for (let i = 0; i < s.length; i++) {
    const d = s[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < -1) {
      throw new ArgumentError(
        "reshape",
        `reshape: shape[${i}] must be a non-negative integer or -1, got ${fmtValue(d)}`,
      );
    }
    if (d === -1) {
      if (infer >= 0) throw new ShapeError("reshape", `reshape: only one dimension can be -1, got ${fmtShape(s)}`);
      infer = i;
    } else known *= d;
  }
  const size = assertTensor("reshape", "x", x).size;
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError("reshape", `reshape: cannot reshape a tensor of ${size} elements to ${fmtShape(s)}`);
    }
    s[infer] = size / known;
  }
  return reshapeOp([x], { shape: s }) as Kept<X>;
}

// ---------------------------------------------------------------------------------------------
// Kernels and shared helpers

/** Below this many elements a plain loop beats `subarray` + `set` (which allocate a view). */
const SET_MIN = 32;

/** Copies `len` elements from `src[s..]` to `dst[o..]`. */
export function copyBlock(src: FloatArray, s: number, dst: FloatArray, o: number, len: number): void {
  if (len >= SET_MIN) dst.set(src.subarray(s, s + len), o);
  else for (let t = 0; t < len; t++) dst[o + t] = src[s + t]!;
}

/** Product of `shape[from..to)`. */
function prod(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}

/** Edge of the square tiles of the blocked 2-D transpose. */
const TILE = 32;

/**
 * Writes `src` (row-major, `shape`) permuted by `axes` into `dst`: `dst[i0, i1, ...] =
 * src[..., i_k at axes[k], ...]`. Adjacent output axes that stay adjacent in the input are merged
 * and size-1 axes dropped first, so a permutation that moves whole blocks copies contiguous runs,
 * and one that swaps two groups of axes becomes a (batched) 2-D transpose done in cache tiles.
 */
function permuteInto(src: FloatArray, shape: readonly number[], axes: readonly number[], dst: FloatArray): void {
  if (dst.length === 0) return;
  const inStrides = stridesOf(shape);
  const dims: number[] = [];
  const strs: number[] = [];
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!;
    const d = shape[a]!;
    if (d === 1) continue;
    const s = inStrides[a]!;
    const k = dims.length - 1;
    if (k >= 0 && strs[k] === s * d) {
      dims[k] = dims[k]! * d;
      strs[k] = s;
    } else {
      dims.push(d);
      strs.push(s);
    }
  }
  const n = dims.length;
  if (n === 0) {
    dst[0] = src[0]!;
    return;
  }
  const last = dims[n - 1]!;
  const lastStride = strs[n - 1]!;
  // 0: contiguous runs; 1: tiled 2-D transpose of the last two merged axes; 2: strided gather
  const mode = lastStride === 1 ? 0 : n >= 2 && strs[n - 2] === 1 ? 1 : 2;
  const outerRank = mode === 1 ? n - 2 : n - 1;
  const rows = mode === 1 ? dims[n - 2]! : 1;
  const block = rows * last;
  const idx = new Array<number>(outerRank).fill(0);
  const total = dst.length;
  let off = 0;
  for (let o = 0; o < total; o += block) {
    if (mode === 0) copyBlock(src, off, dst, o, last);
    else if (mode === 2) {
      for (let j = 0, s = off; j < last; j++, s += lastStride) dst[o + j] = src[s]!;
    } else {
      // dst[o + r*last + c] = src[off + r + c*lastStride], r < rows, c < last
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(r0 + TILE, rows);
        for (let c0 = 0; c0 < last; c0 += TILE) {
          const c1 = Math.min(c0 + TILE, last);
          for (let r = r0; r < r1; r++) {
            const d = o + r * last;
            const s = off + r;
            for (let c = c0; c < c1; c++) dst[d + c] = src[s + c * lastStride]!;
          }
        }
      }
    }
    for (let d = outerRank - 1; d >= 0; d--) {
      off += strs[d]!;
      if (++idx[d]! < dims[d]!) break;
      off -= strs[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

/** Index arrays accepted by `getItem`. */
export type RowIndices = readonly number[] | Int32Array;

/**
 * Validates row indices against a first dimension of size `rows`.
 * @throws ArgumentError naming `op`, the index (and its position) and the dimension.
 */
function checkRows(op: string, indices: unknown, drop: boolean, rows: number, what: () => string): void {
  if (!(isArray(indices) || isInt32Array(indices))) {
    throw new ArgumentError(
      op,
      `${op}: attrs.indices must be an array of integers or an Int32Array, got ${describeValue(indices)}`,
    );
  }
  if (drop && indices.length !== 1) {
    throw new ArgumentError(op, `${op}: attrs.drop needs exactly one index, got ${indices.length}`);
  }
  // (messages are built only on failure: this runs for every mini-batch a Trainer takes)
  for (let j = 0; j < indices.length; j++) {
    const i: unknown = indices[j];
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new ArgumentError(
        op,
        `${op}: ${drop ? "index" : `index[${j}]`} must be an integer, got ${describeValue(i)}${op === "getItem" && !drop && i !== undefined && typeof i !== "number" ? TUPLE_HINT : ""}`,
      );
    }
    if (i < -rows || i >= rows) {
      throw new ArgumentError(
        op,
        `${op}: ${drop ? "index" : `index[${j}]`} ${i} is out of range for dimension 0 of size ${rows} (${what()}; valid: ${-rows} to ${rows - 1})`,
      );
    }
  }
}

/**
 * Added to getItem's message for a row-index array holding something else than numbers (a slice,
 * `null`, `"..."`, a nested array): what the user probably meant.
 */
const TUPLE_HINT =
  "; an array passed alone is an integer-array index along axis 0 (numpy's x[[i, j]]): give each axis its own argument, e.g. getItem(x, s(), [0, 2]) for x[:, [0, 2]]";

/** Checks that `v` is an integer, for scalar arguments. */
export function checkInt(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ArgumentError(op, `${op}: ${arg} must be an integer, got ${describeValue(v)}`);
  }
  return v;
}

/** Checks `attrs.drop` of getItem and scatterRows: a boolean or undefined. */
function checkDrop(op: string, drop: unknown): void {
  if (drop !== undefined && typeof drop !== "boolean") {
    throw new ArgumentError(op, `${op}: attrs.drop must be a boolean, got ${fmtValue(drop)}`);
  }
}

/** Checks that attrs is an object, for op objects called directly. */
export function checkAttrsObject(op: string, attrs: unknown, expected: string): void {
  if (attrs === null || typeof attrs !== "object") {
    throw new ArgumentError(op, `${op}: attrs must be ${expected}, got ${fmtAttrs(attrs)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// transpose

/** Attributes of `transpose`: the permutation of the axes. */
export interface TransposeAttrs {
  /** A permutation of the axes (negative entries count from the end). */
  readonly axes: readonly number[];
}

/**
 * Validates `axes` as a permutation of the axes of `shape` and returns it normalised.
 * @throws ArgumentError for a non-array, non-integer, out-of-range or repeated axis.
 * @throws ShapeError when the number of axes differs from the rank.
 */
function checkPermutation(op: string, axes: unknown, shape: readonly number[]): number[] {
  const rank = shape.length;
  if (!isArray(axes)) {
    throw new ArgumentError(op, `${op}: axes must be an array of integers, got ${describeValue(axes)}`);
  }
  if (axes.length !== rank) {
    throw new ShapeError(
      op,
      `${op}: axes ${fmtAttrs(axes)} has ${axes.length} entries, but x of shape ${fmtShape(shape)} has rank ${rank}; axes must be a permutation of 0..${rank - 1}`,
    );
  }
  const seen = new Array<boolean>(rank).fill(false);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const a: unknown = axes[i];
    if (typeof a !== "number" || !Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ArgumentError(
        op,
        `${op}: axes ${fmtAttrs(axes)} is not a permutation of the axes of x of shape ${fmtShape(shape)}: axes[${i}] = ${fmtValue(a)} is not an integer in ${-rank}..${rank - 1}`,
      );
    }
    const n = a < 0 ? a + rank : a;
    if (seen[n]) {
      throw new ArgumentError(
        op,
        `${op}: axes ${fmtAttrs(axes)} is not a permutation of the axes of x of shape ${fmtShape(shape)}: axis ${n} appears twice`,
      );
    }
    seen[n] = true;
    out[i] = n;
  }
  return out;
}

/** `transpose`: permutes the axes (a copy); backward is `transpose` by the inverse permutation. */
export const transposeOp: Op<TransposeAttrs, "operands"> = defineOp<TransposeAttrs>({
  name: "transpose",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("transpose", attrs, "{ axes: number[] }");
    checkPermutation("transpose", attrs.axes, x!.shape);
  },
  forward([x], { axes }, ctx) {
    const rank = x!.rank;
    const perm = axes.map((a) => (a < 0 ? a + rank : a));
    const out = ctx.alloc(perm.map((a) => x!.shape[a]!));
    permuteInto(x!.data, x!.shape, perm, out.data);
    const inverse = new Array<number>(rank);
    for (let i = 0; i < rank; i++) inverse[perm[i]!] = i;
    ctx.stash(inverse);
    return out;
  },
  backward(gy, ctx) {
    return [transposeOp([gy], { axes: ctx.stashed as number[] })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ maxRank: 4 });
      const axes = permutationFrom(pick, shape.length).map((a) => (pick.bool() ? a : a - shape.length));
      return { shapes: [shape], attrs: { axes } };
    },
  },
});

/**
 * numpy's `np.transpose(x, axes)`: the axes of `x` permuted, so that dimension `i` of the result
 * is dimension `axes[i]` of `x` (a copy, row-major). Without `axes` the order of the axes is
 * reversed (a matrix's transpose). The gradient is `transpose` by the inverse permutation.
 * @param axes - a permutation of `0..rank-1`; negative entries count from the end.
 * @returns a tensor of shape `axes.map((a) => x.shape[a])`.
 * @throws ArgumentError when `x` is not a Tensor, or `axes` is not an array of distinct integers
 *   in `-rank..rank-1`.
 * @throws ShapeError when `axes` has other than `rank` entries.
 */
export function transpose<X extends TensorLike>(value: X, axes?: readonly number[]): Kept<X> {
  const x = toTensor(value, "transpose", "x");
  const t = assertTensor("transpose", "x", x);
  const perm =
    axes === undefined || axes === null
      ? Array.from({ length: t.rank }, (_, i) => t.rank - 1 - i)
      : checkPermutation("transpose", axes, t.shape);
  return transposeOp([t], { axes: perm }) as Kept<X>;
}

// ---------------------------------------------------------------------------------------------
// getItem and its adjoint scatterRows

/** Attributes of `getItem`: which rows (entries of dimension 0) are taken. */
export interface GetItemAttrs {
  /** Row indices into dimension 0 (negative count from the end). */
  readonly indices: RowIndices;
  /** True for a single integer index: the result drops dimension 0. */
  readonly drop: boolean;
}

/** Attributes of `scatterRows`, the adjoint of `getItem`: the rows and the result's row count. */
export interface ScatterRowsAttrs extends GetItemAttrs {
  /** Size of dimension 0 of the result. */
  readonly rows: number;
}

/**
 * The indices normalised to `0..rows-1`: the given array itself when none is negative (the usual
 * case; a fresh Int32Array costs about a microsecond), else a normalised copy.
 */
function normalizeRows(indices: RowIndices, rows: number): ArrayLike<number> {
  const k = indices.length;
  let negative = false;
  for (let j = 0; j < k; j++) {
    if (indices[j]! < 0) {
      negative = true;
      break;
    }
  }
  if (!negative) return indices;
  const out = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    const i = indices[j]!;
    out[j] = i < 0 ? i + rows : i;
  }
  return out;
}

/** `dst[j] = src[idx[j]]` for rows of `inner` elements; consecutive indices copy as one block. */
function gatherRowsInto(src: FloatArray, idx: ArrayLike<number>, inner: number, dst: FloatArray): void {
  const k = idx.length;
  if (inner === 0) return;
  let j = 0;
  while (j < k) {
    const r = idx[j]!;
    let e = j + 1;
    while (e < k && idx[e] === r + (e - j)) e++;
    copyBlock(src, r * inner, dst, j * inner, (e - j) * inner);
    j = e;
  }
}

/** `dst[idx[j]] += src[j]` for rows of `inner` elements (repeated indices add up). */
function scatterAddRowsInto(src: FloatArray, idx: ArrayLike<number>, inner: number, dst: FloatArray): void {
  const k = idx.length;
  for (let j = 0; j < k; j++) {
    const o = idx[j]! * inner;
    const s = j * inner;
    for (let t = 0; t < inner; t++) dst[o + t] = dst[o + t]! + src[s + t]!;
  }
}

function drawRowIndices(pick: Picker, rows: number): { indices: number[]; drop: boolean } {
  const drop = pick.bool();
  const k = drop ? 1 : pick.int(0, 5);
  return { indices: Array.from({ length: k }, () => pick.int(-rows, rows - 1)), drop };
}

/**
 * `getItem`: rows of `x` picked along dimension 0 (repeats allowed); backward scatters the
 * gradient back with `scatterRows`.
 */
export const getItemOp: Op<GetItemAttrs, "operands"> = defineOp<GetItemAttrs>({
  name: "getItem",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("getItem", attrs, "{ indices: number[] | Int32Array, drop: boolean }");
    if (x!.rank === 0) {
      throw new ShapeError("getItem", "getItem: x must have at least one dimension to index, got shape []");
    }
    checkDrop("getItem", attrs.drop);
    checkRows("getItem", attrs.indices, attrs.drop === true, x!.shape[0]!, () => `x of shape ${fmtShape(x!.shape)}`);
  },
  normalize: (_inputs, { indices, drop }) => ({ indices, drop: drop === true }),
  forward([x], { indices, drop }, ctx) {
    const shape = x!.shape;
    const rest = shape.slice(1);
    const idx = normalizeRows(indices, shape[0]!);
    const out = ctx.alloc(drop ? rest : [idx.length, ...rest]);
    gatherRowsInto(x!.data, idx, shapeSize(rest), out.data);
    ctx.stash(shape[0]!);
    return out;
  },
  backward(gy, ctx) {
    const { indices, drop } = ctx.attrs;
    return [scatterRowsOp([gy], { indices, drop, rows: ctx.stashed as number })];
  },
  test: {
    cases: (pick) => {
      // a copy: the picker's arrays are fast-check's own values, and mutating one breaks shrinking
      const shape = [...pick.shape({ minRank: 1 })];
      shape[0] = pick.int(1, 4);
      return { shapes: [shape], attrs: drawRowIndices(pick, shape[0]) };
    },
  },
});

/**
 * `scatterRows`, the adjoint of `getItem`: zeros of `rows` rows into which row `j` of `g` is
 * added at row `indices[j]` (repeats add up); backward is `getItem` again.
 */
export const scatterRowsOp: Op<ScatterRowsAttrs> = defineOp<ScatterRowsAttrs>({
  name: "scatterRows",
  inputs: ["g"],
  check([g], attrs) {
    checkAttrsObject("scatterRows", attrs, "{ indices: number[] | Int32Array, drop: boolean, rows: number }");
    const rows = checkInt("scatterRows", "attrs.rows", attrs.rows);
    if (rows < 0) throw new ArgumentError("scatterRows", `scatterRows: attrs.rows must be >= 0, got ${rows}`);
    checkDrop("scatterRows", attrs.drop);
    const drop = attrs.drop === true;
    // the result's shape, checked (size included) before anything is allocated
    checkShape("scatterRows", [rows, ...(drop ? g!.shape : g!.shape.slice(1))], "result shape");
    checkRows("scatterRows", attrs.indices, drop, rows, () => `result with ${rows} rows`);
    if (!drop && (g!.rank === 0 || g!.shape[0] !== attrs.indices.length)) {
      throw new ShapeError(
        "scatterRows",
        `scatterRows: g of shape ${fmtShape(g!.shape)} must have ${attrs.indices.length} rows, one per index`,
      );
    }
  },
  normalize: (_inputs, { indices, drop, rows }) => ({ indices, drop: drop === true, rows }),
  forward([g], { indices, drop, rows }, ctx) {
    const rest = drop ? g!.shape : g!.shape.slice(1);
    const out = ctx.alloc([rows, ...rest]);
    scatterAddRowsInto(g!.data, normalizeRows(indices, rows), shapeSize(rest), out.data);
    return out;
  },
  backward(gy, ctx) {
    const { indices, drop } = ctx.attrs;
    return [getItemOp([gy], { indices, drop })];
  },
  test: {
    cases: (pick) => {
      const rows = pick.int(1, 4);
      const rest = pick.shape({ maxRank: 2 });
      const attrs = { ...drawRowIndices(pick, rows), rows };
      return { shapes: [attrs.drop ? rest : [attrs.indices.length, ...rest]], attrs };
    },
  },
});

/**
 * Row selection along dimension 0, numpy's `x[index]` for an integer or an integer array (the
 * one-argument forms of `getItem`, which keep their own fast op, `getItem`/`scatterRows`):
 * - `index` a number: row `index` of `x` (negative counts from the end), of shape `x.shape.slice(1)`.
 * - `index` an array or `Int32Array` of k row numbers (repeats allowed, negative from the end):
 *   those rows stacked, of shape `[k, ...x.shape.slice(1)]` (a mini-batch).
 *
 * The result is a copy (runs of consecutive indices are copied as one block); `index` is copied
 * too, so the caller may reuse its buffer. The gradient adds each row's gradient into the row it
 * came from, counting repeats.
 * @throws ArgumentError when `x` is not a Tensor, `index` is not an integer or integer array, or
 *   an index is outside `-n..n-1` for a first dimension of size n (naming the index and n).
 * @throws ShapeError for a 0-d `x`.
 */
export function getRows(x: AnyTensor, index: number | RowIndices): AnyTensor {
  const t = assertTensor("getItem", "x", x);
  if (typeof index === "number") {
    checkInt("getItem", "index", index);
    return getItemOp([t], { indices: [index], drop: true });
  }
  if (!(isArray(index) || isInt32Array(index))) {
    throw new ArgumentError(
      "getItem",
      `getItem: index must be an integer, an array of integers or an Int32Array, got ${describeValue(index)}`,
    );
  }
  // the op keeps its indices for backward: copy them only when it records (the caller may reuse
  // the array, as Trainer does), not for data that needs no gradient
  const records = isGradEnabled() && t.requiresGrad;
  // (a 0-d x is refused by the op's check before anything is recorded)
  if (!records || t.rank === 0) return getItemOp([t], { indices: index, drop: false });
  // checked before the copy, so a huge sparse array fails at its first hole instead of being copied
  checkRows("getItem", index, false, t.shape[0]!, () => `x of shape ${fmtShape(t.shape)}`);
  return getItemOp([t], { indices: index.slice(), drop: false });
}

// ---------------------------------------------------------------------------------------------
// slice and its adjoint padSlice

/** Attributes of `slice`: a contiguous range `[start, end)` along one axis. */
export interface SliceAttrs {
  /** The axis sliced (negative counts from the end). */
  readonly axis: number;
  /** First index kept, `0 <= start <= end`. */
  readonly start: number;
  /** One past the last index kept, `end <= x.shape[axis]`. */
  readonly end: number;
}

/** Attributes of `padSlice`, the adjoint of `slice`: zeros around the slice, `dim` long along `axis`. */
export interface PadSliceAttrs extends SliceAttrs {
  /** Size of the result along `axis`. */
  readonly dim: number;
}

/** Validates already-clamped slice bounds against a dimension of size `dim`. */
function checkBounds(op: string, attrs: SliceAttrs, dim: number, what: string): void {
  const start = checkInt(op, "attrs.start", attrs.start);
  const end = checkInt(op, "attrs.end", attrs.end);
  if (start < 0 || start > end || end > dim) {
    throw new ArgumentError(
      op,
      `${op}: attrs.start ${start} and attrs.end ${end} must satisfy 0 <= start <= end <= ${dim} (${what})${op === "slice" ? "; the op takes clamped bounds, slice() clamps them numpy-style" : ""}`,
    );
  }
}

/** Outer count, axis size and inner block of `shape` around `axis`. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [prod(shape, 0, axis), shape[axis]!, prod(shape, axis + 1, shape.length)];
}

function drawAxis(pick: Picker, rank: number): number {
  return pick.int(-rank, rank - 1);
}

/** `slice`: a contiguous range along one axis (a copy); backward pads the gradient with `padSlice`. */
export const sliceOp: Op<SliceAttrs, "operands"> = defineOp<SliceAttrs>({
  name: "slice",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("slice", attrs, "{ axis: number, start: number, end: number }");
    if (x!.rank === 0) throw new ShapeError("slice", "slice: x must have at least one dimension, got shape []");
    const axis = normalizeAxis("slice", attrs.axis, x!.rank, "attrs.axis");
    checkBounds("slice", attrs, x!.shape[axis]!, `x of shape ${fmtShape(x!.shape)}, axis ${axis}`);
  },
  forward([x], { axis, start, end }, ctx) {
    const shape = x!.shape;
    const ax = axis < 0 ? axis + shape.length : axis;
    const [outer, dim, inner] = around(shape, ax);
    const out = ctx.alloc(shape.map((d, i) => (i === ax ? end - start : d)));
    const block = (end - start) * inner;
    const src = x!.data;
    const dst = out.data;
    for (let a = 0; a < outer; a++) copyBlock(src, (a * dim + start) * inner, dst, a * block, block);
    ctx.stash(dim);
    return out;
  },
  backward(gy, ctx) {
    return [padSliceOp([gy], { ...ctx.attrs, dim: ctx.stashed as number })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ minRank: 1 });
      const axis = drawAxis(pick, shape.length);
      const dim = shape[axis < 0 ? axis + shape.length : axis]!;
      const start = pick.int(0, dim);
      return { shapes: [shape], attrs: { axis, start, end: pick.int(start, dim) } };
    },
  },
});

/**
 * `padSlice`, the adjoint of `slice`: zeros of size `dim` along `axis` with `g` placed at
 * `start..end`; backward is `slice` again.
 */
export const padSliceOp: Op<PadSliceAttrs> = defineOp<PadSliceAttrs>({
  name: "padSlice",
  inputs: ["g"],
  check([g], attrs) {
    checkAttrsObject("padSlice", attrs, "{ axis: number, start: number, end: number, dim: number }");
    if (g!.rank === 0) throw new ShapeError("padSlice", "padSlice: g must have at least one dimension, got shape []");
    const axis = normalizeAxis("padSlice", attrs.axis, g!.rank, "attrs.axis");
    const dim = checkInt("padSlice", "attrs.dim", attrs.dim);
    checkBounds("padSlice", attrs, dim, `result of size ${dim} along axis ${axis}`);
    // the result's shape, checked (size included) before anything is allocated
    checkShape(
      "padSlice",
      g!.shape.map((d, i) => (i === axis ? dim : d)),
      "result shape",
    );
    if (attrs.end - attrs.start !== g!.shape[axis]) {
      throw new ShapeError(
        "padSlice",
        `padSlice: g of shape ${fmtShape(g!.shape)} has ${g!.shape[axis]} entries along axis ${axis}, but start ${attrs.start} and end ${attrs.end} span ${attrs.end - attrs.start}`,
      );
    }
  },
  forward([g], { axis, start, dim }, ctx) {
    const shape = g!.shape;
    const ax = axis < 0 ? axis + shape.length : axis;
    const [outer, len, inner] = around(shape, ax);
    const out = ctx.alloc(shape.map((d, i) => (i === ax ? dim : d)));
    const block = len * inner;
    const src = g!.data;
    const dst = out.data;
    for (let a = 0; a < outer; a++) copyBlock(src, a * block, dst, (a * dim + start) * inner, block);
    return out;
  },
  backward(gy, ctx) {
    const { axis, start, end } = ctx.attrs;
    return [sliceOp([gy], { axis, start, end })];
  },
  test: {
    cases: (pick) => {
      const shape = pick.shape({ minRank: 1 });
      const axis = drawAxis(pick, shape.length);
      const len = shape[axis < 0 ? axis + shape.length : axis]!;
      const dim = len + pick.int(0, 3);
      const start = pick.int(0, dim - len);
      return { shapes: [shape], attrs: { axis, start, end: start + len, dim } };
    },
  },
});

/** Python's clamping of a slice bound to `0..dim`. */
function clampBound(v: number, dim: number): number {
  if (v < 0) return Math.max(v + dim, 0);
  return Math.min(v, dim);
}

/**
 * numpy's `x[start:end]` along `axis` (step 1), with Python's rules for the bounds: negative
 * values count from the end, values beyond either end are clamped, and `end <= start` gives an
 * empty result. `end` omitted (or `null`) means the end of the axis. The result is a copy of
 * shape `x.shape` with `x.shape[axis]` replaced by the slice's length; for `axis = 0` it is one
 * contiguous block (a mini-batch of consecutive rows). The gradient is zero outside the slice.
 * @throws ArgumentError when `x` is not a Tensor, `start`/`end` are not integers, or `axis` is not
 *   an integer in `-rank..rank-1`.
 * @throws ShapeError for a 0-d `x`.
 */
export function slice<X extends TensorLike>(value: X, start: number, end?: number | null, axis = 0): Kept<X> {
  const x = toTensor(value, "slice", "x");
  const t = assertTensor("slice", "x", x);
  if (t.rank === 0) throw new ShapeError("slice", "slice: x must have at least one dimension, got shape []");
  const ax = normalizeAxis("slice", axis, t.rank);
  const dim = t.shape[ax]!;
  const s = clampBound(checkInt("slice", "start", start), dim);
  const e = end === undefined || end === null ? dim : clampBound(checkInt("slice", "end", end), dim);
  return sliceOp([t], { axis: ax, start: s, end: Math.max(s, e) }) as Kept<X>;
}

// ---------------------------------------------------------------------------------------------
// concat and split

/** Attributes of `concat`: the axis the inputs are joined along. */
export interface ConcatAttrs {
  /** The axis (negative counts from the end). */
  readonly axis: number;
}

/** Attributes of `split`: the axis and the size of each piece. */
export interface SplitAttrs extends ConcatAttrs {
  /** Size of each piece along `axis`; they sum to `x.shape[axis]`. */
  readonly sizes: readonly number[];
}

/** Validates the inputs of a concat along `axis`. @throws ShapeError naming every shape. */
function checkConcat(xs: readonly Tensor[], axis: unknown): void {
  const shapes = () => xs.map((x) => fmtShape(x.shape)).join(", ");
  const rank = xs[0]!.rank;
  if (rank === 0) {
    throw new ShapeError(
      "concat",
      `concat: 0-d inputs cannot be concatenated (shapes ${shapes()}); use stack to join scalars`,
    );
  }
  const ax = normalizeAxis("concat", axis, rank);
  for (let i = 1; i < xs.length; i++) {
    const s = xs[i]!.shape;
    if (s.length !== rank) {
      throw new ShapeError(
        "concat",
        `concat: all inputs must have the same rank, got shapes ${shapes()} (xs[${i}] has rank ${s.length}, xs[0] rank ${rank})`,
      );
    }
    for (let d = 0; d < rank; d++) {
      if (d !== ax && s[d] !== xs[0]!.shape[d]) {
        throw new ShapeError(
          "concat",
          `concat: cannot concatenate shapes ${shapes()} along axis ${ax}: xs[${i}] has ${s[d]} at dimension ${d} where xs[0] has ${xs[0]!.shape[d]} (all dimensions but the axis must match)`,
        );
      }
    }
  }
}

/** `concat`: joins its inputs along an existing axis; backward splits the gradient with `split`. */
export const concatOp: Op<ConcatAttrs, "operands"> = defineOp<ConcatAttrs>({
  name: "concat",
  inputs: ["xs"],
  integers: "keep",
  variadic: true,
  check(xs, attrs) {
    checkAttrsObject("concat", attrs, "{ axis: number }");
    checkConcat(xs, attrs.axis);
  },
  forward(xs, { axis }, ctx) {
    const first = xs[0]!.shape;
    const ax = axis < 0 ? axis + first.length : axis;
    const [outer, , inner] = around(first, ax);
    const sizes = xs.map((x) => x.shape[ax]!);
    const total = sizes.reduce((a, b) => a + b, 0);
    const out = ctx.alloc(first.map((d, i) => (i === ax ? total : d)));
    const dst = out.data;
    const row = total * inner;
    let o0 = 0;
    for (let k = 0; k < xs.length; k++) {
      const src = xs[k]!.data;
      const block = sizes[k]! * inner;
      for (let a = 0, s = 0, o = o0; a < outer; a++, s += block, o += row) copyBlock(src, s, dst, o, block);
      o0 += block;
    }
    ctx.stash(sizes);
    return out;
  },
  backward(gy, ctx) {
    return splitOp([gy], { axis: ctx.attrs.axis, sizes: ctx.stashed as number[] });
  },
  test: {
    cases: (pick) => {
      const base = pick.shape({ minRank: 1 });
      const axis = drawAxis(pick, base.length);
      const ax = axis < 0 ? axis + base.length : axis;
      const k = pick.int(1, 3);
      const shapes = Array.from({ length: k }, () => base.map((d, i) => (i === ax ? pick.int(0, 3) : d)));
      return { shapes, attrs: { axis } };
    },
  },
});

/** `split`: cuts its input into pieces along an axis; backward joins the gradients with `concat`. */
export const splitOp: MultiOp<SplitAttrs> = defineMultiOutputOp<SplitAttrs>({
  name: "split",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    checkAttrsObject("split", attrs, "{ axis: number, sizes: number[] }");
    checkSplit(x!, attrs.sizes, attrs.axis);
  },
  forward([x], { axis, sizes }, ctx) {
    const shape = x!.shape;
    const ax = axis < 0 ? axis + shape.length : axis;
    const [outer, dim, inner] = around(shape, ax);
    const src = x!.data;
    const row = dim * inner;
    let s0 = 0;
    return sizes.map((size) => {
      const out = ctx.alloc(shape.map((d, i) => (i === ax ? size : d)));
      const dst = out.data;
      const block = size * inner;
      for (let a = 0, s = s0, o = 0; a < outer; a++, s += row, o += block) copyBlock(src, s, dst, o, block);
      s0 += block;
      return out;
    });
  },
  backward(gys, ctx) {
    return [concatOp(gys, { axis: ctx.attrs.axis })];
  },
  test: {
    cases: (pick) => {
      const shape = [...pick.shape({ minRank: 1 })];
      const axis = drawAxis(pick, shape.length);
      const sizes = Array.from({ length: pick.int(1, 3) }, () => pick.int(0, 3));
      shape[axis < 0 ? axis + shape.length : axis] = sizes.reduce((a, b) => a + b, 0);
      return { shapes: [shape], attrs: { axis, sizes } };
    },
  },
});

/** Validates the sizes of a split of `x` along `axis`. */
function checkSplit(x: Tensor, sizes: unknown, axis: unknown): void {
  if (x.rank === 0) throw new ShapeError("split", "split: x must have at least one dimension, got shape []");
  const ax = normalizeAxis("split", axis, x.rank);
  if (!isArray(sizes) || sizes.length === 0) {
    throw new ArgumentError(
      "split",
      `split: sizes must be a non-empty array of non-negative integers, got ${isArray(sizes) ? "[]" : describeValue(sizes)}`,
    );
  }
  if (sizes.length > MAX_PIECES) {
    throw new ArgumentError("split", `split: sizes lists ${sizes.length} pieces, more than the maximum ${MAX_PIECES}`);
  }
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    const s: unknown = sizes[i];
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0) {
      throw new ArgumentError("split", `split: sizes[${i}] must be a non-negative integer, got ${describeValue(s)}`);
    }
    total += s;
  }
  if (total !== x.shape[ax]) {
    throw new ShapeError(
      "split",
      `split: sizes ${fmtAttrs(sizes)} sum to ${total}, but x of shape ${fmtShape(x.shape)} has ${x.shape[ax]} along axis ${ax}`,
    );
  }
}

/**
 * Joins tensors along an existing axis, numpy's `np.concatenate(xs, axis)`. Every input must have
 * the same rank (at least 1) and the same dimensions except along `axis`; mixed float32/float64
 * inputs give float64. The gradient of each input is its piece of the upstream gradient (`split`).
 * @param xs - a non-empty array of tensors.
 * @param axis - the axis to join along (negative counts from the end; default 0).
 * @returns a tensor whose size along `axis` is the sum of the inputs'.
 * @throws ArgumentError when `xs` is not a non-empty array of tensors or `axis` is out of range.
 * @throws ShapeError, naming every shape, for 0-d inputs, different ranks or mismatched dimensions.
 */
export function concat<X extends TensorLike>(xs: readonly X[], axis = 0): Kept<X> {
  return concatOp(checkTensorList("concat", xs), { axis }) as Kept<X>;
}

/** Most pieces `split` and `branch` produce; a larger count is refused with an ArgumentError. */
export const MAX_PIECES = 2 ** 20;

/**
 * Cuts `x` into consecutive pieces along `axis`, the inverse of `concat` (numpy's `np.split`, but
 * given the pieces' sizes rather than the cut points). `sizes` a number n splits into n equal
 * pieces. The gradient joins the pieces' gradients (zeros for unused pieces).
 * @param sizes - the size of each piece along `axis` (summing to `x.shape[axis]`; one of them may
 *   be -1, for what the others leave, as in PyTorch and TensorFlow.js), or a count of equal pieces.
 * @param axis - the axis to split (negative counts from the end; default 0).
 * @returns one tensor per piece.
 * @throws ArgumentError when `x` is not a Tensor, a size is not a non-negative integer (or a
 *   single -1), or `axis` is out of range.
 * @throws ShapeError when the sizes do not sum to `x.shape[axis]` (or n does not divide it), or
 *   `x` is 0-d.
 */
export function split<X extends TensorLike>(value: X, sizes: number | readonly number[], axis = 0): Kept<X>[] {
  const x = toTensor(value, "split", "x");
  const t = assertTensor("split", "x", x);
  let list: readonly number[] = sizes as readonly number[];
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes < 1) {
      throw new ArgumentError(
        "split",
        `split: the number of pieces must be an integer >= 1, got ${describeValue(sizes)}`,
      );
    }
    if (sizes > MAX_PIECES) {
      throw new ArgumentError("split", `split: the number of pieces must be at most ${MAX_PIECES}, got ${sizes}`);
    }
    if (t.rank === 0) throw new ShapeError("split", "split: x must have at least one dimension, got shape []");
    const ax = normalizeAxis("split", axis, t.rank);
    const dim = t.shape[ax]!;
    if (dim % sizes !== 0) {
      throw new ShapeError(
        "split",
        `split: ${sizes} equal pieces do not divide x of shape ${fmtShape(t.shape)} (${dim} along axis ${ax})`,
      );
    }
    list = new Array<number>(sizes).fill(dim / sizes);
  } else if (isArray(sizes)) {
    if (sizes.length > MAX_PIECES) {
      throw new ArgumentError(
        "split",
        `split: sizes lists ${sizes.length} pieces, more than the maximum ${MAX_PIECES}`,
      );
    }
    list = sizes.slice();
    const inferred = list.indexOf(-1);
    if (inferred >= 0) list = inferSize(t, list, inferred, axis);
  }
  return splitOp([t], { sizes: list, axis }) as Kept<X>[];
}

/**
 * `sizes` with its one `-1` replaced by what the other sizes leave of the axis (PyTorch's and
 * TensorFlow.js's split). Other entries are checked by the op.
 * @throws ArgumentError for a second `-1`; ShapeError when the others already exceed the axis.
 */
function inferSize(t: AnyTensor, sizes: readonly number[], at: number, axis: unknown): number[] {
  if (sizes.indexOf(-1, at + 1) >= 0) {
    throw new ArgumentError("split", `split: only one size can be -1, got ${fmtShape(sizes)}`);
  }
  if (t.rank === 0) throw new ShapeError("split", "split: x must have at least one dimension, got shape []");
  const ax = normalizeAxis("split", axis, t.rank);
  const dim = t.shape[ax]!;
  let rest = 0;
  for (let i = 0; i < sizes.length; i++) {
    const v: unknown = sizes[i];
    if (i !== at && typeof v === "number" && Number.isInteger(v) && v >= 0) rest += v;
  }
  if (rest > dim) {
    throw new ShapeError(
      "split",
      `split: the sizes ${fmtShape(sizes)} without the -1 already take ${rest} of ${dim} along axis ${ax} (shape ${fmtShape(t.shape)})`,
    );
  }
  const out = sizes.slice();
  out[at] = dim - rest;
  return out;
}

/**
 * Joins tensors of one shape along a new axis, numpy's `np.stack(xs, axis)`: the result has shape
 * `x.shape` with `xs.length` inserted at `axis`. Built from `reshape` and `concat`, so it is
 * differentiable at every order; mixed float32/float64 inputs give float64.
 * @param axis - position of the new axis in the result, `-(rank+1)..rank` (default 0).
 * @throws ArgumentError when `xs` is not a non-empty array of tensors or `axis` is out of range.
 * @throws ShapeError, naming every shape, when the shapes differ.
 */
export function stack<X extends TensorLike>(xs: readonly X[], axis = 0): Kept<X> {
  const list = checkTensorList("stack", xs);
  const shape = list[0]!.shape;
  for (let i = 1; i < list.length; i++) {
    const s = list[i]!.shape;
    if (s.length !== shape.length || s.some((d, j) => d !== shape[j])) {
      throw new ShapeError(
        "stack",
        `stack: all inputs must have the same shape, got ${list.map((x) => fmtShape(x.shape)).join(", ")} (xs[${i}] differs from xs[0])`,
      );
    }
  }
  const ax = normalizeAxis("stack", axis, shape.length + 1);
  const expanded = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
  return concatOp(
    list.map((x) => reshape(x, expanded)),
    { axis: ax },
  ) as Kept<X>;
}

/** Checks that `xs` is a non-empty array of tensors. */
function checkTensorList(fn: string, xs: unknown): AnyTensor[] {
  if (!isArray(xs)) {
    throw new ArgumentError(fn, `${fn}: xs must be an array of tensors, got ${describeValue(xs)}`);
  }
  if (xs.length === 0) throw new ArgumentError(fn, `${fn}: xs must hold at least one tensor, got an empty array`);
  // constants among the tensors (nested arrays, typed arrays, numbers) as an op's inputs
  return toTensors(xs as readonly TensorLike[], fn, "xs");
}

/** Every op object of this module (besides `reshape`), by name, for the package's `ops`. */
export const shapeOps = {
  /** {@link cloneOp} (defined in core), behind {@link clone} and `Tensor.clone`. */
  clone: cloneOp,
  /** {@link transposeOp}, behind {@link transpose}. */
  transpose: transposeOp,
  /** {@link getItemOp}, behind {@link getItem}. */
  getItem: getItemOp,
  /** {@link scatterRowsOp}, the adjoint of `getItem` (its backward); no function of its own. */
  scatterRows: scatterRowsOp,
  /** {@link sliceOp}, behind {@link slice}. */
  slice: sliceOp,
  /** {@link padSliceOp}, the adjoint of `slice` (its backward); no function of its own. */
  padSlice: padSliceOp,
  /** {@link concatOp}, behind {@link concat} and {@link stack}. */
  concat: concatOp,
  /** {@link splitOp}, a multi-output op, behind {@link split}. */
  split: splitOp,
} as const;
