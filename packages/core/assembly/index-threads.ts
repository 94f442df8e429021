// gradgraph WebAssembly kernels (AssemblyScript): the entry of the threaded builds. It is index.ts
// (every kernel family) plus the strided gemm that packages/core/src/kernels/threads.ts runs on
// row or column blocks of C, one block per thread. scripts/build-wasm.mjs compiles it with shared,
// imported memory (kernels-threads-simd.wasm, kernels-threads-relaxed.wasm).

export * from "./index";
export { gemm_f32_ld, gemm_f64_ld } from "./gemm";
