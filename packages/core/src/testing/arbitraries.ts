/** fast-check arbitraries for shapes and tensors, for gradgraph's tests and for users' own. */
import fc from "fast-check";
import { checkDType, type FloatDType } from "../dtype.js";
import { ArgumentError, describeValue, optionsObject } from "../errors.js";
import { checkShape, MAX_RANK, type Shape, shapeSize } from "../shape.js";
import { type Tensor, tensor } from "../tensor.js";
import { isArray } from "../validate.js";

/** Most elements `tensorArb` draws per tensor (a larger shape is refused: every draw allocates it). */
const MAX_DRAWN = 2 ** 20;
/** Largest dimension the shape arbitraries accept as a bound. */
const MAX_DIM = 2 ** 20;
/** Most shapes `broadcastableShapesArb` and `tensorsArb` take. */
const MAX_COUNT = 1024;

/** An integer bound in `[0, max]`, or `fallback` when undefined. @throws ArgumentError naming `fn`. */
function bound(fn: string, arg: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new ArgumentError(fn, `${fn}: ${arg} must be an integer in [0, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

/** Checked shape constraints, defaults filled in. @throws ArgumentError naming `fn`. */
function constraints(fn: string, c: unknown): Required<ShapeConstraints> {
  const o = optionsObject<ShapeConstraints>(fn, c as ShapeConstraints);
  const minRank = bound(fn, "minRank", o.minRank, 0, MAX_RANK);
  const maxRank = bound(fn, "maxRank", o.maxRank, Math.max(4, minRank), MAX_RANK);
  const minDim = bound(fn, "minDim", o.minDim, 0, MAX_DIM);
  const maxDim = bound(fn, "maxDim", o.maxDim, Math.max(4, minDim), MAX_DIM);
  if (minRank > maxRank || minDim > maxDim) {
    throw new ArgumentError(
      fn,
      `${fn}: the bounds must satisfy minRank <= maxRank and minDim <= maxDim, got ranks ${minRank}..${maxRank} and dimensions ${minDim}..${maxDim}`,
    );
  }
  return { minRank, maxRank, minDim, maxDim };
}

/** Bounds on generated shapes. */
export interface ShapeConstraints {
  /** Smallest rank (default 0). */
  minRank?: number;
  /** Largest rank (default 4). */
  maxRank?: number;
  /** Smallest dimension (default 0: zero-size dimensions are included). */
  minDim?: number;
  /** Largest dimension (default 4). */
  maxDim?: number;
}

/**
 * Shapes of rank `minRank..maxRank` (default 0..4) with dimensions `minDim..maxDim` (default
 * 0..4), size-1 and zero-size dims included.
 * @throws ArgumentError naming `shapeArb` for bounds that are not integers with min <= max
 *   (ranks at most `MAX_RANK`, dimensions at most 2^20), or constraints that are not an object.
 */
export function shapeArb(c: ShapeConstraints = {}): fc.Arbitrary<number[]> {
  const { minRank, maxRank, minDim, maxDim } = constraints("shapeArb", c);
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** Options of `tensorArb`. */
export interface TensorArbOptions {
  /** Element dtype (default `'float64'`). */
  dtype?: FloatDType;
  /** Smallest value (default -2). */
  min?: number;
  /** Largest value (default 2). */
  max?: number;
  /** Make the generated tensors leaves that require grad. */
  requiresGrad?: boolean;
}

/**
 * Tensors of exactly `shape` (at most 2^20 elements), with finite values in `[min, max]`.
 * @throws ShapeError/ArgumentError/DTypeError naming `tensorArb` for a bad shape or option.
 */
export function tensorArb(shape: Shape, options: TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  const fn = "tensorArb";
  const s = checkShape(fn, shape);
  const o = optionsObject<TensorArbOptions>(fn, options);
  const dtype = checkDType(fn, o.dtype ?? "float64");
  const { min = -2, max = 2 } = o;
  if (
    typeof min !== "number" ||
    typeof max !== "number" ||
    !Number.isFinite(min) ||
    !Number.isFinite(max) ||
    min > max
  ) {
    throw new ArgumentError(
      fn,
      `${fn}: min and max must be finite numbers with min <= max, got ${describeValue(min)} and ${describeValue(max)}`,
    );
  }
  const requiresGrad = o.requiresGrad === true;
  const n = shapeSize(s);
  if (n > MAX_DRAWN) {
    throw new ArgumentError(
      fn,
      `${fn}: shape [${s.join(", ")}] has ${n} elements, more than the ${MAX_DRAWN} it draws`,
    );
  }
  shape = s;
  return fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((values) => tensor(Float64Array.from(values), { shape: [...shape], dtype, requiresGrad }));
}

/** A shape with a tensor of that shape. */
export function shapedTensorArb(c: ShapeConstraints = {}, options: TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  const checked = constraints("shapedTensorArb", c);
  // the options are checked now, not at the first draw
  tensorArb([], options);
  return shapeArb(checked).chain((s) => tensorArb(s, options));
}

/**
 * `n` shapes that broadcast together by numpy rules: a common result shape, of which each input
 * takes a trailing part with some dimensions set to 1.
 */
export function broadcastableShapesArb(n: number, c: ShapeConstraints = {}): fc.Arbitrary<number[][]> {
  bound("broadcastableShapesArb", "n", n, 0, MAX_COUNT);
  return shapeArb(constraints("broadcastableShapesArb", c)).chain((full) =>
    fc.tuple(
      ...Array.from({ length: n }, () =>
        fc
          .tuple(
            fc.integer({ min: 0, max: full.length }),
            fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
          )
          .map(([drop, ones]) => full.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))),
      ),
    ),
  );
}

/** A pair of shapes `[N, D]` and `[D, H]` for a matrix product (dimensions `minDim..maxDim`). */
export function matmulShapesArb(c: ShapeConstraints = {}): fc.Arbitrary<[[number, number], [number, number]]> {
  const { minDim, maxDim } = constraints("matmulShapesArb", c);
  const d = fc.integer({ min: minDim, max: maxDim });
  return fc.tuple(d, d, d).map(([n, k, h]) => [
    [n, k],
    [k, h],
  ]);
}

/** The tensors for given shapes (a tuple of `tensorArb`s). */
export function tensorsArb(shapes: readonly Shape[], options: TensorArbOptions = {}): fc.Arbitrary<Tensor[]> {
  const fn = "tensorsArb";
  if (!isArray(shapes) || shapes.length > MAX_COUNT) {
    throw new ArgumentError(
      fn,
      `${fn}: shapes must be an array of at most ${MAX_COUNT} shapes, got ${describeValue(shapes)}`,
    );
  }
  // an index loop: a hole fails at once
  const arbs: fc.Arbitrary<Tensor>[] = [];
  for (let i = 0; i < shapes.length; i++) arbs.push(tensorArb(checkShape(fn, shapes[i], `shapes[${i}]`), options));
  return fc.tuple(...arbs);
}
