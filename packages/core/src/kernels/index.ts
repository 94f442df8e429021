/**
 * @gradgraph/core/kernels: the raw numeric kernels that gradgraph's own ops are built on, for
 * authors of ops (`defineOp`) who want the same speed: elementwise arithmetic with broadcasting,
 * the reductions behind `sum`, `max` and `logSumExp`, matrix multiplication, and the WebAssembly
 * SIMD paths of the elementwise and softmax kernels. They work on typed arrays and shapes, never on
 * tensors, and record nothing in the graph.
 *
 * **Trusted input only**, except `axpy` and `gemm`. The other functions do not check their
 * arguments: they are called once or more per op, and checking shapes and lengths there would cost
 * more than the small ops they compute. Give them what their comments say (float typed arrays of
 * the lengths their shapes imply, shapes as valid as `checkShape` accepts, `out` shapes that are
 * the broadcast or reduction the comment names); with anything else they may throw a plain
 * TypeError or RangeError, write wrong values, or take very long. Check user input first, with
 * `checkShape`, `broadcastShapes` and `isTensor` from `@gradgraph/core` (an op's `check`, or
 * `defineOp`'s own input checks, do this for ops).
 *
 * `axpy` and `gemm` check every argument, and throw `ArgumentError` or `ShapeError` naming
 * themselves: their work is proportional to the arrays', so the checks cost nothing noticeable.
 *
 * @module @gradgraph/core/kernels
 */
export { broadcastInto, sumToInto } from "./broadcast.js";
export { axpy, type BinaryKind, binaryInto } from "./elementwise.js";
export { gemm } from "./matmul.js";
export { argmaxMaskInto, logSumExpToInto, maxMaskInto, maxToInto } from "./reduce.js";
export {
  type SoftmaxMode,
  type WasmGradKind,
  type WasmUnaryKind,
  wasmSoftmaxProbs,
  wasmSoftmaxRows,
  wasmUnary,
  wasmUnaryGrad,
} from "./runtime/wasm-ops.js";
export { type UnaryGradKind, type UnaryKind, unaryGradInto, unaryInto } from "./unary.js";
