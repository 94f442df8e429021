// gradgraph WebAssembly kernels (AssemblyScript): the module's entry. scripts/build-wasm.mjs
// compiles this file into packages/core/build/ (plain-SIMD and relaxed-SIMD builds) and inlines
// them into packages/core/src/kernels/runtime/wasm-binaries.ts; the loader is
// packages/core/src/kernels/runtime/loader.ts and wasm.ts. Each kernel family lives in its own file.

export { gemm_f32, gemm_f64, heapBase, tileCols, tileRows, workspaceBytes } from "./gemm";
export {
  axpy_f32,
  axpy_f64,
  binary_f32,
  binary_f64,
  fill_f32,
  fill_f64,
  unary_f32,
  unary_f64,
  unary_grad_f32,
  unary_grad_f64,
} from "./elementwise";
export { max_f32, max_f64, sum_f32, sum_f64 } from "./reduce";
export { softmax_f32, softmax_f64 } from "./softmax";
