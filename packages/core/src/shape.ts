import { ArgumentError, describeValue, fmtShape, ShapeError } from "./errors.js";
import { isArray } from "./validate.js";

/** A tensor's shape: one non-negative integer per dimension; `[]` is a 0-d scalar. */
export type Shape = readonly number[];

/** Most elements a tensor may have (2**31 - 1); larger shapes are refused before any allocation. */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

/**
 * The largest rank a shape may have (numpy 2 allows 64). Checked before a shape-like array is
 * read or copied, so a huge (or sparse) array fails at once instead of exhausting memory.
 */
export const MAX_RANK = 64;

/** `name` when it is a string (the op or argument name a caller passed), else `fallback`. */
function named(name: unknown, fallback: string): string {
  return typeof name === "string" ? name : fallback;
}

/**
 * Checks that `shape` is an array of at most MAX_RANK entries and returns its rank, without
 * reading its entries.
 * @throws ShapeError naming `fn` and `arg`.
 */
function rankOf(fn: string, shape: unknown, arg: string): number {
  if (!isArray(shape)) {
    throw new ShapeError(fn, `${fn}: ${arg} must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new ShapeError(fn, `${fn}: ${arg} has ${shape.length} dimensions, more than the maximum rank ${MAX_RANK}`);
  }
  return shape.length;
}

/** The error for entry `i` of a shape that is not a non-negative safe integer. */
function badDim(fn: string, arg: string, i: number, d: unknown): ShapeError {
  return new ShapeError(fn, `${fn}: ${arg}[${i}] must be a non-negative integer, got ${describeValue(d)}`);
}

/** True for a valid dimension: a non-negative safe integer. */
function isDim(d: unknown): d is number {
  return Number.isSafeInteger(d) && (d as number) >= 0;
}

/**
 * @internal The number of elements of `shape`, or -1 when it is not a valid shape (an array of at
 * most MAX_RANK non-negative safe integers). Never throws.
 */
export function validSize(shape: unknown): number {
  if (!isArray(shape) || shape.length > MAX_RANK) return -1;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!isDim(d)) return -1;
    n *= d;
  }
  return n;
}

/**
 * Number of elements of a shape (1 for `[]`, 0 if any dimension is 0).
 * @throws ShapeError naming `shapeSize` when `shape` is not an array of at most `MAX_RANK`
 *   non-negative safe integers.
 */
export function shapeSize(shape: Shape): number {
  const rank = rankOf("shapeSize", shape, "shape");
  let n = 1;
  for (let i = 0; i < rank; i++) {
    const d = shape[i];
    if (!isDim(d)) throw badDim("shapeSize", "shape", i, d);
    n *= d;
  }
  return n;
}

/**
 * Row-major (C-order) strides of a shape, in elements.
 * @throws ShapeError naming `stridesOf` for an invalid shape (see `shapeSize`).
 */
export function stridesOf(shape: Shape): number[] {
  const rank = rankOf("stridesOf", shape, "shape");
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = shape[i];
    if (!isDim(d)) throw badDim("stridesOf", "shape", i, d);
    strides[i] = s;
    s *= d;
  }
  return strides;
}

/**
 * True when both shapes have the same rank and dimensions.
 * @throws ShapeError naming `shapesEqual` when either is not an array of at most `MAX_RANK`
 *   entries (the entries themselves are only compared).
 */
export function shapesEqual(a: Shape, b: Shape): boolean {
  const rank = rankOf("shapesEqual", a, "a");
  if (rankOf("shapesEqual", b, "b") !== rank) return false;
  for (let i = 0; i < rank; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Validates a user-supplied shape and returns a fresh copy.
 * @param fn - the function to name in the error.
 * @param arg - the argument to name in the error (default `"shape"`).
 * @throws ShapeError naming `fn` when `shape` is not an array of at most `MAX_RANK` non-negative
 *   safe integers, or when it has more than `MAX_TENSOR_SIZE` elements.
 */
export function checkShape(fn: string, shape: unknown, arg = "shape"): number[] {
  fn = named(fn, "checkShape");
  arg = named(arg, "shape");
  const rank = rankOf(fn, shape, arg);
  const src = shape as readonly unknown[];
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const d = src[i];
    if (!isDim(d)) throw badDim(fn, arg, i, d);
    out[i] = d;
  }
  let size = 1;
  for (let i = 0; i < rank; i++) size *= out[i]!;
  if (size > MAX_TENSOR_SIZE) {
    throw new ShapeError(
      fn,
      `${fn}: ${arg} ${fmtShape(out)} has ${size} elements, more than the maximum ${MAX_TENSOR_SIZE}`,
    );
  }
  return out;
}

/**
 * numpy broadcasting of any number of shapes. The result may be one of the arguments (do not mutate it).
 * @param op - the op to name in errors.
 * @throws ShapeError naming `op` and every shape when two dimensions differ and neither is 1, or
 *   when an argument is not a valid shape (an array of at most `MAX_RANK` non-negative safe
 *   integers).
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): Shape {
  op = named(op, "broadcastShapes");
  // fast path, the common case of two equal shapes: no allocation (each entry is checked)
  if (shapes.length === 2) {
    const a = shapes[0]!;
    const b = shapes[1]!;
    const rank = rankOf(op, a, "shape 0");
    if (rankOf(op, b, "shape 1") === rank) {
      let i = 0;
      while (i < rank && a[i] === b[i] && isDim(a[i])) i++;
      if (i === rank) return a;
    }
  }
  let rank = 0;
  for (let k = 0; k < shapes.length; k++) {
    const s = shapes[k];
    const r = rankOf(op, s, `shape ${k}`);
    for (let i = 0; i < r; i++) if (!isDim(s![i])) throw badDim(op, `shape ${k}`, i, s![i]);
    if (r > rank) rank = r;
  }
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else
        throw new ShapeError(
          op,
          `${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together (dimension ${i - s.length} is ${o} vs ${d})`,
        );
    }
  }
  return out;
}

/**
 * True when `from` can be broadcast to `to` by numpy rules.
 * @throws ShapeError naming `isBroadcastableTo` when either is not a valid shape.
 */
export function isBroadcastableTo(from: Shape, to: Shape): boolean {
  const rf = rankOf("isBroadcastableTo", from, "from");
  const rt = rankOf("isBroadcastableTo", to, "to");
  for (let i = 0; i < rt; i++) if (!isDim(to[i])) throw badDim("isBroadcastableTo", "to", i, to[i]);
  if (rf > rt) return false;
  const off = rt - rf;
  for (let i = 0; i < rf; i++) {
    const d = from[i];
    if (!isDim(d)) throw badDim("isBroadcastableTo", "from", i, d);
    if (d !== 1 && d !== to[off + i]) return false;
  }
  return true;
}

/**
 * Normalises one axis (negative counts from the end) for a tensor of `rank`.
 * @param op - the op to name in errors.
 * @param arg - the argument to name in errors (default `"axis"`).
 * @throws ArgumentError naming `op` when `axis` is not an integer in `[-rank, rank)`, or `rank`
 *   is not an integer in `[0, MAX_RANK]`.
 */
export function normalizeAxis(op: string, axis: unknown, rank: number, arg = "axis"): number {
  op = named(op, "normalizeAxis");
  arg = named(arg, "axis");
  if (!Number.isInteger(rank) || rank < 0 || rank > MAX_RANK) {
    throw new ArgumentError(op, `${op}: rank must be an integer in [0, ${MAX_RANK}], got ${describeValue(rank)}`);
  }
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ArgumentError(op, `${op}: ${arg} must be an integer, got ${describeValue(axis)}`);
  }
  if (axis < -rank || axis >= rank) {
    throw new ArgumentError(
      op,
      `${op}: ${arg} ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} to ${rank - 1})`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalises an axis or list of axes to a sorted list of distinct non-negative axes.
 * `undefined` or `null` means every axis.
 * @param op - the op to name in errors.
 * @throws ArgumentError naming `op` for non-integers, out-of-range or repeated axes, or a `rank`
 *   that is not an integer in `[0, MAX_RANK]`.
 */
export function normalizeAxes(op: string, axis: unknown, rank: number): number[] {
  op = named(op, "normalizeAxes");
  if (!Number.isInteger(rank) || rank < 0 || rank > MAX_RANK) {
    throw new ArgumentError(op, `${op}: rank must be an integer in [0, ${MAX_RANK}], got ${describeValue(rank)}`);
  }
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list: readonly unknown[] = isArray(axis) ? axis : [axis];
  const out: number[] = [];
  // an index loop: a hole fails at once; a list longer than the rank repeats an axis (or fails)
  // within rank + 1 entries
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    const n = normalizeAxis(op, a, rank);
    if (out.includes(n)) {
      throw new ArgumentError(op, `${op}: axis ${String(a)} is repeated in the axes ${fmtShape(list as number[])}`);
    }
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}
