/**
 * `cloneOp`: the recorded identity copy behind `Tensor.clone` (PyTorch's and TensorFlow.js's
 * `clone`: part of the graph, its gradient passed through unchanged). Core knows no other op of
 * `defineOp`'s kind; this one lives here because `Tensor.clone` needs it, and is defined with
 * `defineOp` exactly as any op (so `checkOp` checks it, and `@gradgraph/nodes` lists it in `ops`).
 * It registers itself with tensor.ts, which cannot import it (this module imports tensor.ts).
 */
import { defineOp, type Op } from "./op.js";
import { copyInStorageOf, registerClone } from "./tensor.js";

/**
 * `clone`: a new tensor with a copy of `x`'s data, in the same storage as `x` (JS memory when `x`
 * is resident in WebAssembly memory and that memory is full). Recorded like any op when `x`
 * requires grad and grad mode is on; its derivative is the identity (`dx = gy`), so gradients,
 * and gradients of gradients, flow through it unchanged. Behind `Tensor.clone` and nodes' `clone`.
 */
export const cloneOp: Op<undefined, "operands"> = defineOp({
  name: "clone",
  inputs: ["x"],
  integers: "keep",
  forward([x]) {
    return { data: copyInStorageOf(x!.data, x!.data), shape: x!.shape };
  },
  backward(gy) {
    return [gy];
  },
  ownsGradients: true,
  test: { shapes: "same" },
});

registerClone((x) => cloneOp([x]));
