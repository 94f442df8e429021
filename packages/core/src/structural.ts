/**
 * The structural ops the engine itself needs: `sumTo` and `broadcastTo` (each the derivative of
 * the other), `cast` (its derivative is the cast back) and the sum that accumulates two gradients
 * under `createGraph`; with their raw twins for a pass that records nothing. They are written as
 * {@link OpCore}s directly, since `defineOp` builds on them.
 */
import { applyOp } from "./apply-op.js";
import { allocArray, type DType } from "./dtype.js";
import { ArgumentError, DTypeError, describeValue, fmtShape, ShapeError } from "./errors.js";
import { broadcastInto, sumToInto } from "./kernels/broadcast.js";
import { binaryInto } from "./kernels/elementwise.js";
import type { OpCore } from "./node.js";
import { checkShape, isBroadcastableTo, type Shape, shapeSize, shapesEqual } from "./shape.js";
import { describeNonTensor, isTensor, Tensor } from "./tensor.js";

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
    const out = ctx.alloc(x!.shape, (attrs as CastAttrs).dtype);
    out.data.set(x!.data);
    return out;
  },
  backward(gy, ctx) {
    return [cast(gy as Tensor, (ctx.attrs as CastAttrs).from)];
  },
};

function checkTensorArg(fn: string, x: unknown): Tensor {
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
 * `x` itself when the shapes are equal. Its derivative is `sumTo`.
 * @throws ShapeError when `x.shape` does not broadcast to `shape`.
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensorArg("broadcastTo", x);
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
 * Converts `x` to `dtype` (a recorded, differentiable copy; the gradient is cast back). Returns
 * `x` itself when it already has that dtype.
 * @throws DTypeError for an unknown dtype.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensorArg("cast", x);
  if (dtype !== "float32" && dtype !== "float64") {
    throw new DTypeError("cast", `cast: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  }
  if (x.dtype === dtype) return x;
  return applyOp(castOp, [x], { dtype, from: x.dtype } satisfies CastAttrs, dtype) as Tensor;
}

/** @internal `sumTo` without recording, into a new array. */
export function sumToRaw(g: Tensor, shape: Shape): Tensor {
  const out = allocArray(g.dtype, shapeSize(shape));
  sumToInto(g.data, g.shape, out, shape);
  return new Tensor(out, shape);
}

/** @internal `cast` without recording, into a new array. */
export function castRaw(g: Tensor, dtype: DType): Tensor {
  const out = allocArray(dtype, g.size);
  out.set(g.data);
  return new Tensor(out, g.shape);
}
