// gradgraph WebAssembly kernels (AssemblyScript): the module's entry. scripts/build-wasm.mjs
// compiles this file into packages/core/build/ (plain-SIMD and relaxed-SIMD builds); the loader is
// packages/core/src/kernels/wasm.ts. Each kernel family lives in its own file.

export { gemm_f32, gemm_f64, heapBase, workspaceBytes } from "./gemm";
