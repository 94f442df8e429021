/** Reductions. `sum`'s derivative broadcasts the gradient back: Sum and Repeat undo each other. */
import {
  ArgumentError,
  assertTensor,
  broadcastTo,
  defineOp,
  normalizeAxes,
  type Op,
  sumToInto,
  type Tensor,
} from "@gradgraph/core";
import { reshape } from "./shape.js";

interface SumAttrs {
  /** Normalised, sorted axes to reduce. */
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** Options of `sum`. */
export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); default: all. */
  axis?: number | readonly number[];
  /** Keep reduced axes as size-1 dimensions (default false). */
  keepdims?: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** `sum` over normalised axes; backward broadcasts the upstream gradient back to the input's shape. */
export const sumOp: Op<SumAttrs> = defineOp<SumAttrs>({
  name: "sum",
  inputs: ["x"],
  forward([x], { axes, keepdims }, ctx) {
    const kept = keptShape(x!.shape, axes);
    const out = ctx.alloc(keepdims ? kept : x!.shape.filter((_, i) => !axes.includes(i)));
    sumToInto(x!.data, x!.shape, out.data, kept);
    ctx.stash(x!.shape);
    return out;
  },
  backward(gy, ctx) {
    const xShape = ctx.stashed as readonly number[];
    const { axes, keepdims } = ctx.attrs;
    const g = keepdims ? gy : reshape(gy, keptShape(xShape, axes));
    return [broadcastTo(g, xShape)];
  },
  check([x], attrs) {
    if (!Array.isArray(attrs?.axes)) {
      throw new ArgumentError(
        "sum",
        `sum: attrs must be { axes: number[], keepdims: boolean }, got ${JSON.stringify(attrs)}`,
      );
    }
    normalizeAxes("sum", attrs.axes, x!.rank);
  },
  test: {
    attrs: ([s], pick) => {
      const rank = s!.length;
      const axes = pick.bool()
        ? Array.from({ length: rank }, (_, i) => i)
        : Array.from({ length: rank }, (_, i) => i).filter(() => pick.bool());
      return { axes, keepdims: pick.bool() };
    },
  },
});

/**
 * Sum of elements over `axis` (all axes by default), like `np.sum(x, axis, keepdims)`.
 * The seed's Sum node is `sum(x, { axis: 0, keepdims: true })`.
 * @throws ArgumentError naming `sum` for a non-integer, out-of-range or repeated axis.
 */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  if (options === null || typeof options !== "object") {
    throw new ArgumentError("sum", `sum: options must be an object like { axis, keepdims }, got ${String(options)}`);
  }
  const axes = normalizeAxes("sum", options.axis, assertTensor("sum", "x", x).rank);
  return sumOp([x], { axes, keepdims: options.keepdims === true });
}
