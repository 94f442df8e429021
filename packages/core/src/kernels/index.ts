/**
 * @gradgraph/core/kernels: the raw numeric kernels that gradgraph's own ops are built on, for
 * authors of ops (`defineOp`) who want the same speed. One narrow interface, on typed arrays and
 * shapes, never on tensors, recording nothing in the graph:
 * - **gemm**: `gemm`, the matrix product (transposed operands read in place, an optional bias row
 *   added to every row of the result), into a given array or (`gemmNew`) a new one;
 * - **elementwise**: `binaryInto` (with broadcasting), `unaryInto`, `unaryGradInto` (the fused
 *   relu/sigmoid/tanh derivatives), `axpy`, and `powC` (C's `pow` on two numbers);
 * - **reductions**: `sumToInto` and `broadcastInto` (each the other's derivative), `maxToInto`,
 *   `maxMaskInto`, `argmaxMaskInto`, `logSumExpToInto`, and the softmax family along rows
 *   (`softmaxRowsInto`, `logSoftmaxRowsInto`, `softmaxProbsInto`);
 * - **alloc**: `allocArray` (a zero-filled array from the allocator every op uses).
 * Each picks the WebAssembly SIMD kernel or its TypeScript twin itself; the WebAssembly runtime
 * (loading, memory, threads) lives in `kernels/runtime/` and is not part of the interface. The
 * older entry points that expose that choice (`wasmUnary`, `wasmUnaryGrad`, `wasmSoftmaxRows`,
 * `wasmSoftmaxProbs`: they return false or null when the TypeScript loop should run) are kept
 * for compatibility.
 *
 * **Trusted input only**, except `axpy`, `gemm` and `allocArray`. The other functions do not check
 * their arguments: they are called once or more per op, and checking shapes and lengths there
 * would cost more than the small ops they compute. Give them what their comments say (float typed
 * arrays of the lengths their shapes imply, shapes as valid as `checkShape` accepts, `out` shapes
 * that are the broadcast or reduction the comment names); with anything else they may throw a
 * plain TypeError or RangeError, write wrong values, or take very long. Check user input first,
 * with `checkShape`, `broadcastShapes` and `isTensor` from `@gradgraph/core` (an op's `check`, or
 * `defineOp`'s own input checks, do this for ops).
 *
 * `axpy`, `gemm` and `allocArray` check every argument, and throw `ArgumentError` or `ShapeError`
 * naming themselves: their work is proportional to the arrays', so the checks cost nothing noticeable.
 *
 * @module @gradgraph/core/kernels
 */
export { allocArray } from "../dtype.js";
export { broadcastInto, sumToInto } from "./broadcast.js";
export { axpy, type BinaryKind, binaryInto, powC } from "./elementwise.js";
export { gemm, gemmNew } from "./matmul.js";
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
export { logSoftmaxRowsInto, softmaxProbsInto, softmaxRowsInto } from "./softmax.js";
export { type UnaryGradKind, type UnaryKind, unaryGradInto, unaryInto } from "./unary.js";
