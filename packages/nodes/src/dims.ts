/**
 * Shape conveniences that PyTorch and TensorFlow.js users reach for — `squeeze`, `unsqueeze`
 * (`expandDims`), `flatten`, `tile`, `unstack` — built from `reshape`, `broadcastTo` and `split`,
 * whose derivatives are already checked: no new derivative rule, so nothing new to get wrong.
 */
import {
  type AnyTensor,
  ArgumentError,
  broadcastTo,
  describeValue,
  fmtShape,
  type Kept,
  MAX_RANK,
  MAX_TENSOR_SIZE,
  normalizeAxes,
  normalizeAxis,
  ShapeError,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { isArray } from "./format.js";
import { reshape, split } from "./shape.js";

/**
 * Removes dimensions of size 1: all of them, or those among `axis` (a number or a list), as
 * PyTorch's `squeeze` (an axis whose size is not 1 is left as it is).
 * @throws ArgumentError naming `squeeze` for a non-tensor or an axis out of range.
 */
export function squeeze<X extends TensorLike>(x: X, axis?: number | readonly number[]): Kept<X> {
  const t = toTensor(x, "squeeze", "x");
  const axes = normalizeAxes("squeeze", axis, t.rank);
  return reshape(
    t,
    t.shape.filter((d, i) => !(d === 1 && axes.includes(i))),
  ) as Kept<X>;
}

/**
 * Inserts a dimension of size 1 at `axis`, in `-rank-1 .. rank` (PyTorch's `unsqueeze`,
 * TensorFlow.js's `expandDims`).
 * @throws ArgumentError naming `unsqueeze` for a non-tensor or an axis out of range.
 * @throws ShapeError when `x` already has the maximum rank.
 */
export function unsqueeze<X extends TensorLike>(x: X, axis: number): Kept<X> {
  return insertAxis("unsqueeze", x, axis) as Kept<X>;
}

/** `unsqueeze` with errors naming `fn`. */
function insertAxis(fn: string, x: TensorLike, axis: number): AnyTensor {
  const t = toTensor(x, fn, "x");
  if (t.rank >= MAX_RANK) {
    throw new ShapeError(fn, `${fn}: x already has the maximum rank ${MAX_RANK}`);
  }
  const ax = normalizeAxis(fn, axis, t.rank + 1);
  const shape = t.shape.slice();
  shape.splice(ax, 0, 1);
  return reshape(t, shape);
}

/**
 * `unsqueeze` under TensorFlow.js's name.
 * @throws ArgumentError naming `expandDims` for a non-tensor or an axis out of range.
 * @throws ShapeError when `x` already has the maximum rank.
 */
export function expandDims<X extends TensorLike>(x: X, axis: number): Kept<X> {
  return insertAxis("expandDims", x, axis) as Kept<X>;
}

/**
 * Merges the dimensions `startAxis..endAxis` (inclusive; default all) into one, as PyTorch's
 * `flatten(x, start_dim=0, end_dim=-1)`; a 0-d tensor becomes shape [1].
 * @throws ArgumentError naming `flatten` for a non-tensor, an axis out of range, or
 *   `startAxis > endAxis`.
 * @throws ShapeError when the merged dimension would exceed 2^53 − 1 (only an empty `x` can).
 */
export function flatten<X extends TensorLike>(x: X, startAxis = 0, endAxis = -1): Kept<X> {
  const t = toTensor(x, "flatten", "x");
  if (t.rank === 0) return reshape(t, [1]) as Kept<X>;
  const s = normalizeAxis("flatten", startAxis, t.rank, "startAxis");
  const e = normalizeAxis("flatten", endAxis, t.rank, "endAxis");
  if (s > e) {
    throw new ArgumentError(
      "flatten",
      `flatten: startAxis ${startAxis} comes after endAxis ${endAxis} for rank ${t.rank}`,
    );
  }
  let merged = 1;
  for (let i = s; i <= e; i++) merged *= t.shape[i]!;
  if (!Number.isSafeInteger(merged)) {
    // only an empty tensor gets here (a non-empty one has fewer than 2^31 elements)
    throw new ShapeError(
      "flatten",
      `flatten: merging axes ${s}..${e} of shape ${fmtShape(t.shape)} gives a dimension beyond 2^53 - 1`,
    );
  }
  return reshape(t, [...t.shape.slice(0, s), merged, ...t.shape.slice(e + 1)]) as Kept<X>;
}

/**
 * Repeats `x` `reps[i]` times along each axis, as numpy's `tile` (and TensorFlow.js's): the
 * shorter of `x.shape` and `reps` is padded with leading 1s. Built as reshape → broadcastTo →
 * reshape, so the gradient sums the copies back.
 * @throws ArgumentError naming `tile` for a non-tensor, or `reps` that is not a list of
 *   non-negative integers.
 * @throws ShapeError when the result would exceed the maximum rank or size, or have a dimension
 *   beyond 2^53 − 1 (an empty `x` tiled by a huge count).
 */
export function tile<X extends TensorLike>(x: X, reps: readonly number[]): Kept<X> {
  const t = toTensor(x, "tile", "x");
  if (!isArray(reps)) {
    throw new ArgumentError("tile", `tile: reps must be an array of non-negative integers, got ${describeValue(reps)}`);
  }
  if (reps.length > MAX_RANK) {
    throw new ShapeError("tile", `tile: reps has ${reps.length} entries, more than the maximum rank ${MAX_RANK}`);
  }
  for (let i = 0; i < reps.length; i++) {
    const r: unknown = reps[i];
    if (!Number.isSafeInteger(r) || (r as number) < 0) {
      throw new ArgumentError("tile", `tile: reps[${i}] must be a non-negative safe integer, got ${describeValue(r)}`);
    }
  }
  const n = Math.max(t.rank, reps.length);
  const dims = [...new Array<number>(n - t.rank).fill(1), ...t.shape];
  const r = [...new Array<number>(n - reps.length).fill(1), ...reps];
  if (2 * n > MAX_RANK) {
    throw new ShapeError(
      "tile",
      `tile: x of shape ${fmtShape(t.shape)} tiled by ${fmtShape(reps)} needs rank ${2 * n} inside, more than ${MAX_RANK}`,
    );
  }
  let size = 1;
  let unsafeDim = false;
  for (let i = 0; i < n; i++) {
    const d = dims[i]! * r[i]!;
    size *= d;
    // an empty x tiled by a huge count still has size 0, but each dimension must be a safe integer
    if (!Number.isSafeInteger(d)) unsafeDim = true;
  }
  if (size > MAX_TENSOR_SIZE || unsafeDim) {
    throw new ShapeError(
      "tile",
      `tile: x of shape ${fmtShape(t.shape)} tiled by ${fmtShape(reps)} would have ${unsafeDim ? "a dimension beyond 2^53 - 1" : `${size} elements, more than the maximum ${MAX_TENSOR_SIZE}`}`,
    );
  }
  const interleaved: number[] = [];
  const expanded: number[] = [];
  for (let i = 0; i < n; i++) {
    interleaved.push(1, dims[i]!);
    expanded.push(r[i]!, dims[i]!);
  }
  return reshape(
    broadcastTo(reshape(t, interleaved), expanded),
    dims.map((d, i) => d * r[i]!),
  ) as Kept<X>;
}

/**
 * Splits `x` along `axis` into its slices, each without that axis (TensorFlow.js's `unstack`,
 * PyTorch's `unbind`); the inverse of `stack`.
 * @throws ArgumentError naming `unstack` for a non-tensor or an axis out of range.
 * @throws ShapeError for a 0-d `x`, or an axis of size 0.
 */
export function unstack<X extends TensorLike>(x: X, axis = 0): Kept<X>[] {
  const t = toTensor(x, "unstack", "x");
  if (t.rank === 0) throw new ShapeError("unstack", "unstack: x must have at least one dimension, got shape []");
  const ax = normalizeAxis("unstack", axis, t.rank);
  const n = t.shape[ax]!;
  if (n === 0) throw new ShapeError("unstack", `unstack: axis ${ax} of x (shape ${fmtShape(t.shape)}) has size 0`);
  const rest = t.shape.filter((_, i) => i !== ax);
  return split(t, n, ax).map((piece) => reshape(piece, rest)) as Kept<X>[];
}
