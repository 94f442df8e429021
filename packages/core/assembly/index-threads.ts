// gradgraph WebAssembly kernels (AssemblyScript): the entry of the threaded builds. It is index.ts
// (every kernel family) plus the strided gemm that packages/core/src/kernels/runtime/threads.ts runs on
// row or column blocks of C, one block per thread. scripts/build-wasm.mjs compiles it with shared,
// imported memory (kernels-threads-simd.wasm, kernels-threads-relaxed.wasm), which it inlines into
// packages/core/src/kernels/runtime/wasm-binaries.ts with the other two builds; kernels/runtime/heap.ts runs them
// over the heap too.

export * from "./index";
export { gemm_f32_ld, gemm_f64_ld } from "./gemm";
