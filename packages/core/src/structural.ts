/**
 * The structural ops the engine itself needs: `sumTo` and `broadcastTo` (each the derivative of
 * the other), `cast` (its derivative is the cast back) and the sum that accumulates two gradients
 * under `createGraph`; with their raw twins for a pass that records nothing. They are written as
 * {@link OpCore}s directly, since `defineOp` builds on them.
 */
import { applyOp } from "./apply-op.js";
import { allocAny, allocArray, checkAnyDType, convertInto, type DType, type FloatDType } from "./dtype.js";
import { ArgumentError, fmtShape, ShapeError } from "./errors.js";
import { broadcastInto, sumToInto } from "./kernels/broadcast.js";
import { binaryInto } from "./kernels/elementwise.js";
import type { OpCore } from "./node.js";
import { checkShape, isBroadcastableTo, type Shape, shapeSize, shapesEqual } from "./shape.js";
import { type AnyTensor, describeNonTensor, isTensor, Tensor, type TensorOf, TRUSTED } from "./tensor.js";

/** @internal `a + b` of one shape, recorded: how gradients accumulate under `createGraph`. */
export const accumulateOp: OpCore = {
  name: "accumulateGrad",
  inputNames: ["a", "b"],
  multi: false,
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(a!.shape);
    binaryInto("add", a!.data, a!.shape, b!.data, b!.shape, out.data, a!.shape);
    return out;
  },
  backward(gy) {
    return [gy as Tensor, gy as Tensor];
  },
};

interface ShapeAttrs {
  readonly shape: Shape;
  readonly from: Shape;
}

const sumToOp: OpCore = {
  name: "sumTo",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    const { shape } = attrs as ShapeAttrs;
    const out = ctx.alloc(shape);
    sumToInto(x!.data, x!.shape, out.data, shape);
    return out;
  },
  backward(gy, ctx) {
    return [broadcastTo(gy as Tensor, (ctx.attrs as ShapeAttrs).from)];
  },
};

const broadcastToOp: OpCore = {
  name: "broadcastTo",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    const { shape } = attrs as ShapeAttrs;
    const out = ctx.alloc(shape);
    broadcastInto(x!.data, x!.shape, out.data, shape);
    return out;
  },
  backward(gy, ctx) {
    return [sumTo(gy as Tensor, (ctx.attrs as ShapeAttrs).from)];
  },
};

interface CastAttrs {
  readonly dtype: DType;
  readonly from: DType;
}

const castOp: OpCore = {
  name: "cast",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    // (the one op whose input may be of any dtype: see `cast`)
    const { dtype } = attrs as CastAttrs;
    const out = ctx.alloc(x!.shape, dtype);
    convertInto(dtype, (x as AnyTensor).data, out.data);
    return out;
  },
  backward(gy, ctx) {
    // recorded only from a float dtype to a float dtype (see `cast`)
    return [cast(gy as Tensor, (ctx.attrs as CastAttrs).from as FloatDType)];
  },
};

function checkTensorArg(fn: string, x: unknown): AnyTensor {
  if (!isTensor(x)) throw new ArgumentError(fn, `${fn}: x must be a Tensor, got ${describeNonTensor(x)}`);
  return x;
}

/**
 * Sums `x` down to `shape`, undoing a broadcast from `shape` to `x.shape` (numpy rules). Returns
 * `x` itself when the shapes are equal. Its derivative is `broadcastTo`, and vice versa.
 * @throws ShapeError when `shape` does not broadcast to `x.shape`.
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensorArg("sumTo", x);
  const s = checkShape("sumTo", shape);
  if (shapesEqual(x.shape, s)) return x;
  if (!isBroadcastableTo(s, x.shape)) {
    throw new ShapeError(
      "sumTo",
      `sumTo: cannot sum shape ${fmtShape(x.shape)} to ${fmtShape(s)} (${fmtShape(s)} does not broadcast to ${fmtShape(x.shape)})`,
    );
  }
  return applyOp(sumToOp, [x], { shape: s, from: x.shape } satisfies ShapeAttrs, x.dtype) as Tensor;
}

/**
 * Broadcasts `x` to `shape` by numpy rules, copying along the new and size-1 dimensions. Returns
 * `x` itself when the shapes are equal. Its derivative is `sumTo`. An int32 or bool `x` keeps its
 * dtype.
 * @throws ShapeError when `x.shape` does not broadcast to `shape`.
 */
export function broadcastTo<T extends AnyTensor>(x: T, shape: readonly number[]): T;
export function broadcastTo(x: AnyTensor, shape: readonly number[]): AnyTensor {
  checkTensorArg("broadcastTo", x);
  if (x.dtype === "int32" || x.dtype === "bool") {
    // exactly, on a float64 copy (no gradient flows through int32 or bool)
    return cast(broadcastTo(cast(x, "float64"), shape), x.dtype);
  }
  const s = checkShape("broadcastTo", shape);
  if (shapesEqual(x.shape, s)) return x;
  if (!isBroadcastableTo(x.shape, s)) {
    throw new ShapeError(
      "broadcastTo",
      `broadcastTo: shape ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(s)}`,
    );
  }
  return applyOp(broadcastToOp, [x], { shape: s, from: x.shape } satisfies ShapeAttrs, x.dtype) as Tensor;
}

/**
 * Converts `x` to `dtype`, as PyTorch's `x.to(dtype)`: to `int32` by truncation toward zero
 * (wrapping modulo 2^32 outside its range, NaN to 0), to `bool` as `x != 0` (NaN is true), from
 * `bool` to 0 and 1. Returns `x` itself when it already has that dtype. Between float dtypes the
 * copy is recorded and differentiable (the gradient is cast back); to or from int32 and bool no
 * gradient flows (the result does not require grad).
 * @throws DTypeError naming `cast` for an unknown dtype; ArgumentError when `x` is not a tensor.
 */
export function cast<D extends DType>(x: AnyTensor, dtype: D): TensorOf<D> {
  const t = checkTensorArg("cast", x);
  const to = checkAnyDType("cast", dtype);
  if (t.dtype === to) return t as TensorOf<D>;
  const compute = t.dtype === "float32" || t.dtype === "float64" ? t.dtype : "float64";
  return applyOp(
    castOp,
    [t as Tensor],
    { dtype: to, from: t.dtype } satisfies CastAttrs,
    compute,
  ) as AnyTensor as TensorOf<D>;
}

/** @internal `sumTo` without recording, into a new array. */
export function sumToRaw(g: Tensor, shape: Shape): Tensor {
  const out = allocArray(g.dtype, shapeSize(shape));
  sumToInto(g.data, g.shape, out, shape);
  return new Tensor(out, shape);
}

/** @internal `cast` without recording, into a new array (any dtype to any, converted as `cast` does). */
export function castRaw<D extends DType>(g: AnyTensor, dtype: D): TensorOf<D> {
  const out = allocAny(dtype, g.size);
  convertInto(dtype, g.data, out);
  return new Tensor(out, g.shape, false, null, 0, TRUSTED) as AnyTensor as TensorOf<D>;
}
