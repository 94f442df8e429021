/** `softmax` and `logSoftmax` along one axis, computed stably (the maximum is subtracted first). */
import {
  ArgumentError,
  allocArray,
  checkShape,
  defineOp,
  describeValue,
  type FloatArray,
  fmtShape,
  normalizeAxis,
  type Op,
  ShapeError,
  shapeSize,
  type Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { broadcastInto, logSoftmaxRowsInto, logSumExpToInto, softmaxRowsInto } from "@gradgraph/core/kernels";
import { mul, sub } from "./arithmetic.js";
import { fmtAttrs, isDetached } from "./format.js";
import { sum } from "./reduce.js";
import { exp } from "./unary.js";

/** Attributes of {@link softmaxOp} and {@link logSoftmaxOp}. */
export interface SoftmaxAttrs {
  /**
   * The axis, in `-rank..rank-1` (negative counts from the end); the ops normalise it before
   * computing, as the {@link softmax} and {@link logSoftmax} functions do.
   */
  readonly axis: number;
}

/**
 * Writes `x − logSumExp(x, axis)` into `out`, the log-probabilities of `x` along `axis`; rows
 * along the last axis take the WASM SIMD kernel when large, else a direct loop; other axes go
 * through the general reduction kernels. `out` may be `x` itself.
 * @param x - the input, a Float32Array or Float64Array holding a tensor of `shape` (row-major).
 * @param shape - the shape of `x`, at least 1-D.
 * @param axis - the axis (negative counts from the end).
 * @param out - the output, a Float32Array or Float64Array of `x`'s length.
 * @throws ArgumentError naming `logSoftmaxInto` when `x` or `out` is not a float typed array
 *   (or its buffer was detached), or `axis` is not an integer in `-rank..rank-1`.
 * @throws ShapeError naming `logSoftmaxInto` when `shape` is not a valid shape of `x.length`
 *   elements with at least one dimension, or `out` has another length.
 */
export function logSoftmaxInto(x: FloatArray, shape: readonly number[], axis: number, out: FloatArray): void {
  const fn = "logSoftmaxInto";
  checkFloatArray(fn, "x", x);
  checkFloatArray(fn, "out", out);
  const s = checkShape(fn, shape);
  if (shapeSize(s) !== x.length || s.length === 0) {
    throw new ShapeError(
      fn,
      `${fn}: shape ${fmtShape(s)} must have at least one dimension and ${x.length} elements, the length of x`,
    );
  }
  if (out.length !== x.length) {
    throw new ShapeError(fn, `${fn}: out has ${out.length} elements but x has ${x.length}; they must be equal`);
  }
  logSoftmaxRaw(x, s, normalizeAxis(fn, axis, s.length), out);
}

/** Checks a typed-array argument: a Float32Array or Float64Array whose buffer is not detached. */
function checkFloatArray(fn: string, arg: string, a: unknown): void {
  let ok = false;
  try {
    ok = a instanceof Float32Array || a instanceof Float64Array;
  } catch {
    // a revoked Proxy
  }
  if (!ok) throw new ArgumentError(fn, `${fn}: ${arg} must be a Float32Array or Float64Array, got ${describeValue(a)}`);
  if (isDetached(a as FloatArray)) {
    throw new ArgumentError(fn, `${fn}: ${arg}'s ArrayBuffer was detached (transferred); it cannot be read`);
  }
}

/** `logSoftmaxInto` for checked arguments (the ops' forward): no checks, a normalised axis. */
function logSoftmaxRaw(x: FloatArray, shape: readonly number[], axis: number, out: FloatArray): void {
  const n = shape[axis]!;
  if (axis === shape.length - 1) {
    if (n > 0) logSoftmaxRowsInto(x, n, out);
    return;
  }
  const kept = shape.map((d, i) => (i === axis ? 1 : d));
  const lse = allocArray("float64", x.length / Math.max(n, 1));
  logSumExpToInto(x, shape, lse, kept);
  const spread = allocArray("float64", x.length);
  broadcastInto(lse, kept, spread, shape);
  // (a row holding +Infinity has lse +Infinity: NaN throughout, as the row kernels give)
  for (let i = 0; i < x.length; i++) {
    const l = spread[i]!;
    out[i] = l === Number.POSITIVE_INFINITY ? Number.NaN : x[i]! - l;
  }
}

function checkAxis(fn: string, x: Tensor, attrs: SoftmaxAttrs | undefined): void {
  if (attrs === null || typeof attrs !== "object" || typeof attrs.axis !== "number") {
    throw new ArgumentError(fn, `${fn}: attrs must be { axis: number }, got ${fmtAttrs(attrs)}`);
  }
  normalizeAxis(fn, attrs.axis, x.rank);
}

const axisTest = {
  cases: (pick: { shape(o?: { minRank?: number }): number[]; int(a: number, b: number): number }) => {
    const s = pick.shape({ minRank: 1 });
    return { shapes: [s], attrs: { axis: pick.int(0, s.length - 1) } };
  },
};

/** `softmax`: `exp(x) / Σ exp(x)` along the axis; backward `y·(gy − Σ gy·y)`. */
export const softmaxOp: Op<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "softmax",
  inputs: ["x"],
  check([x], attrs) {
    checkAxis("softmax", x!, attrs);
  },
  normalize: ([x], attrs) => ({ axis: normalizeAxis("softmax", attrs.axis, x!.rank) }),
  forward([x], { axis }, ctx) {
    const out = ctx.alloc(x!.shape);
    const n = x!.shape[axis]!;
    if (axis === x!.rank - 1) {
      if (n > 0) softmaxRowsInto(x!.data, n, out.data);
    } else {
      logSoftmaxRaw(x!.data, x!.shape, axis, out.data);
      const y = out.data;
      for (let i = 0; i < y.length; i++) y[i] = Math.exp(y[i]!);
    }
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    const y = ctx.output();
    return [mul(y, sub(gy, sum(mul(gy, y), { axis: ctx.attrs.axis, keepdims: true })))];
  },
  test: axisTest,
});

/**
 * Softmax along `axis` (default −1, the last): non-negative, summing to 1 along the axis, and
 * stable for large inputs.
 * @throws ArgumentError naming `softmax` for an axis out of range, or a rank-0 `x`.
 */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const t = toTensor(x, "softmax", "x");
  return softmaxOp([t], { axis: normalizeAxis("softmax", axis, t.rank) });
}

/** `logSoftmax`: `x − logSumExp(x)` along the axis; backward `gy − exp(z)·Σ gy`. */
export const logSoftmaxOp: Op<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "logSoftmax",
  inputs: ["x"],
  check([x], attrs) {
    checkAxis("logSoftmax", x!, attrs);
  },
  normalize: ([x], attrs) => ({ axis: normalizeAxis("logSoftmax", attrs.axis, x!.rank) }),
  forward([x], { axis }, ctx) {
    const out = ctx.alloc(x!.shape);
    logSoftmaxRaw(x!.data, x!.shape, axis, out.data);
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    const z = ctx.output();
    return [sub(gy, mul(exp(z), sum(gy, { axis: ctx.attrs.axis, keepdims: true })))];
  },
  test: axisTest,
});

/**
 * Log of the softmax along `axis` (default −1), computed without forming the softmax, so it stays
 * finite where `log(softmax(x))` would underflow.
 * @throws ArgumentError naming `logSoftmax` for an axis out of range, or a rank-0 `x`.
 */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const t = toTensor(x, "logSoftmax", "x");
  return logSoftmaxOp([t], { axis: normalizeAxis("logSoftmax", axis, t.rank) });
}
