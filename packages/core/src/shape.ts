import { ArgumentError, describeValue, fmtShape, ShapeError } from "./errors.js";
import { isArray } from "./validate.js";

/** A tensor's shape: one non-negative integer per dimension; `[]` is a 0-d scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for `[]`, 0 if any dimension is 0). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** Row-major (C-order) strides of a shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when both shapes have the same rank and dimensions. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Most elements a tensor may have (2**31 - 1); larger shapes are refused before any allocation. */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

/**
 * The largest rank a shape may have (numpy 2 allows 64). Checked before a shape-like array is
 * read or copied, so a huge (or sparse) array fails at once instead of exhausting memory.
 */
export const MAX_RANK = 64;

/**
 * Validates a user-supplied shape and returns a fresh copy.
 * @throws ShapeError naming `fn` when `shape` is not an array of non-negative integers, or when
 *   it has more than `MAX_TENSOR_SIZE` elements.
 */
export function checkShape(fn: string, shape: unknown, arg = "shape"): number[] {
  if (!isArray(shape)) {
    throw new ShapeError(fn, `${fn}: ${arg} must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new ShapeError(fn, `${fn}: ${arg} has ${shape.length} dimensions, more than the maximum rank ${MAX_RANK}`);
  }
  const out = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(fn, `${fn}: ${arg}[${i}] must be a non-negative integer, got ${describeValue(d)}`);
    }
    out[i] = d;
  }
  const size = shapeSize(out);
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
 * @throws ShapeError naming `op` and every shape when two dimensions differ and neither is 1.
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): Shape {
  // fast path, the common case of equal shapes: no allocation
  if (shapes.length === 2 && shapesEqual(shapes[0]!, shapes[1]!)) return shapes[0]!;
  let rank = 0;
  for (const s of shapes) if (s.length > rank) rank = s.length;
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

/** True when `from` can be broadcast to `to` by numpy rules. */
export function isBroadcastableTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  for (let i = 0; i < from.length; i++) {
    const d = from[i]!;
    if (d !== 1 && d !== to[off + i]) return false;
  }
  return true;
}

/**
 * Normalises one axis (negative counts from the end) for a tensor of `rank`.
 * @throws ArgumentError naming `op` when `axis` is not an integer in `[-rank, rank)`.
 */
export function normalizeAxis(op: string, axis: unknown, rank: number, arg = "axis"): number {
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
 * @throws ArgumentError naming `op` for non-integers, out-of-range or repeated axes.
 */
export function normalizeAxes(op: string, axis: unknown, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list: unknown[] = Array.isArray(axis) ? axis : [axis];
  const out: number[] = [];
  for (const a of list) {
    const n = normalizeAxis(op, a, rank);
    if (out.includes(n)) {
      throw new ArgumentError(op, `${op}: axis ${String(a)} is repeated in ${JSON.stringify(axis)}`);
    }
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}
