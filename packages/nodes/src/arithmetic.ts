/** Elementwise arithmetic with numpy broadcasting: forward kernels beside their derivatives. */
import { binaryInto, broadcastShapes, defineOp, type Op, type Tensor, type TensorLike } from "@gradgraph/core";

/**
 * `add`: passes the upstream gradient to both inputs, as the seed's Add node does; the engine
 * sums it back where broadcasting widened an input.
 */
export const addOp: Op = defineOp({
  name: "add",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(broadcastShapes("add", a!.shape, b!.shape));
    binaryInto("add", a!.data, a!.shape, b!.data, b!.shape, out.data, out.shape);
    return out;
  },
  backward(gy) {
    return [gy, gy];
  },
  test: { shapes: "broadcast" },
});

/** `mul`: each input's gradient is the upstream gradient times the other input (the seed's Mul node). */
export const mulOp: Op = defineOp({
  name: "mul",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(broadcastShapes("mul", a!.shape, b!.shape));
    binaryInto("mul", a!.data, a!.shape, b!.data, b!.shape, out.data, out.shape);
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    const [da, db] = ctx.needsInputGrad;
    return [da ? mul(gy, ctx.input(1)) : null, db ? mul(gy, ctx.input(0)) : null];
  },
  test: { shapes: "broadcast" },
});

/**
 * Elementwise sum `a + b` with numpy broadcasting. Numbers are accepted as 0-d constants; mixed
 * float32/float64 promotes to float64.
 * @throws ShapeError naming `add` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is neither a Tensor nor a number.
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return addOp([a, b]);
}

/**
 * Elementwise product `a · b` with numpy broadcasting. Numbers are accepted as 0-d constants;
 * mixed float32/float64 promotes to float64.
 * @throws ShapeError naming `mul` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is neither a Tensor nor a number.
 */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return mulOp([a, b]);
}
