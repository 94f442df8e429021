/**
 * Single-thread GFLOP/s of gemm (C = A·B, square n×n) for each backend: f32 plain WASM SIMD,
 * f32 relaxed SIMD (FMA), f64 (both builds) and the TypeScript kernel. Median of several timed
 * runs after a warm-up, in one process. Prints a table; asserts nothing.
 * Usage: npm run bench:gemm  (or: tsx scripts/bench-gemm.ts [n ...])
 */
import { type FloatArray, gemm, setKernelBackend } from "../packages/core/src/index.js";
import { useWasmBuild } from "../packages/core/src/kernels/wasm.js";

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const ns = sizes.length > 0 ? sizes : [64, 256, 512, 1024];

type Config = { name: string; f32: boolean; select: () => void };
const configs: Config[] = [
  { name: "f32 wasm-simd", f32: true, select: () => useWasmBuild("wasm-simd") },
  { name: "f32 wasm-relaxed-simd", f32: true, select: () => useWasmBuild("wasm-relaxed-simd") },
  { name: "f64 wasm-simd", f32: false, select: () => useWasmBuild("wasm-simd") },
  { name: "f64 wasm-relaxed-simd", f32: false, select: () => useWasmBuild("wasm-relaxed-simd") },
  { name: "f32 js", f32: true, select: () => setKernelBackend("js") },
  { name: "f64 js", f32: false, select: () => setKernelBackend("js") },
];

function measure(n: number, f32: boolean): number {
  const mk = (len: number): FloatArray => (f32 ? new Float32Array(len) : new Float64Array(len));
  const A = mk(n * n);
  const B = mk(n * n);
  const C = mk(n * n);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
  const flops = 2 * n * n * n;
  const reps = Math.max(1, Math.round(5e7 / flops));
  for (let i = 0; i < 5; i++) gemm(false, false, n, n, n, A, B, C); // warm-up: the first calls are slow
  const times: number[] = [];
  for (let s = 0; s < 11; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) gemm(false, false, n, n, n, A, B, C);
    times.push((performance.now() - t0) / reps);
  }
  times.sort((a, b) => a - b);
  return flops / times[times.length >> 1]! / 1e6;
}

const rows: string[] = [
  `| kernel | ${ns.map((n) => `n = ${n}`).join(" | ")} |`,
  `|---|${ns.map(() => "---").join("|")}|`,
];
for (const c of configs) {
  c.select();
  const cells = ns.map((n) => (c.name.endsWith("js") && n > 512 ? "–" : measure(n, c.f32).toFixed(1)));
  rows.push(`| ${c.name} | ${cells.join(" | ")} |`);
}
useWasmBuild(undefined);
console.log("gemm GFLOP/s (median, single thread, copy-in/copy-out included)");
console.log(rows.join("\n"));
