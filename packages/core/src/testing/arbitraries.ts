/** fast-check arbitraries for shapes and tensors, for gradgraph's tests and for users' own. */
import fc from "fast-check";
import type { DType } from "../dtype.js";
import { type Shape, shapeSize } from "../shape.js";
import { type Tensor, tensor } from "../tensor.js";

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

/** Shapes of rank `minRank..maxRank` (default 0..4) with dimensions `minDim..maxDim` (default 0..4), size-1 and zero-size dims included. */
export function shapeArb(c: ShapeConstraints = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, minDim = 0, maxDim = 4 } = c;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** Options of `tensorArb`. */
export interface TensorArbOptions {
  /** Element dtype (default `'float64'`). */
  dtype?: DType;
  /** Smallest value (default -2). */
  min?: number;
  /** Largest value (default 2). */
  max?: number;
  /** Make the generated tensors leaves that require grad. */
  requiresGrad?: boolean;
}

/** Tensors of exactly `shape`, with finite values in `[min, max]`. */
export function tensorArb(shape: Shape, options: TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  const { dtype = "float64", min = -2, max = 2, requiresGrad = false } = options;
  const n = shapeSize(shape);
  return fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((values) => tensor(Float64Array.from(values), { shape: [...shape], dtype, requiresGrad }));
}

/** A shape with a tensor of that shape. */
export function shapedTensorArb(c: ShapeConstraints = {}, options: TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  return shapeArb(c).chain((s) => tensorArb(s, options));
}

/**
 * `n` shapes that broadcast together by numpy rules: a common result shape, of which each input
 * takes a trailing part with some dimensions set to 1.
 */
export function broadcastableShapesArb(n: number, c: ShapeConstraints = {}): fc.Arbitrary<number[][]> {
  return shapeArb(c).chain((full) =>
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
  const { minDim = 0, maxDim = 4 } = c;
  const d = fc.integer({ min: minDim, max: maxDim });
  return fc.tuple(d, d, d).map(([n, k, h]) => [
    [n, k],
    [k, h],
  ]);
}

/** The tensors for given shapes (a tuple of `tensorArb`s). */
export function tensorsArb(shapes: readonly Shape[], options: TensorArbOptions = {}): fc.Arbitrary<Tensor[]> {
  return fc.tuple(...shapes.map((s) => tensorArb(s, options)));
}
