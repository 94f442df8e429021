/**
 * Single-thread GFLOP/s of gemm (C = A·B, square n×n) for each backend: f32 plain WASM SIMD,
 * f32 relaxed SIMD (FMA), f64 (both builds) and the TypeScript kernel. Median of several timed
 * runs after a warm-up, in one process. Then 1 against 2 threads (`setThreads`) with the best WASM
 * build, on square products and the MLP step's three products, the two thread counts alternating
 * within each shape: median GFLOP/s with min–max, and the ratio of the medians. `--crossover` adds
 * small square sizes (where the thread threshold sits; they run with threshold 0). Asserts nothing.
 * Usage: npm run bench:gemm  (or: tsx scripts/bench-gemm.ts [n ...] [--crossover] [--no-single])
 */
import {
  type FloatArray,
  kernelInfo,
  setKernelBackend,
  setThreads,
  THREAD_THRESHOLD,
} from "../packages/core/src/index.js";
import { gemm } from "../packages/core/src/kernels/index.js";
import { useWasmBuild } from "../packages/core/src/kernels/runtime/wasm.js";

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const crossover = process.argv.includes("--crossover");
const single = !process.argv.includes("--no-single");
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
  // warm-up by time, not calls: a module instance just made by useWasmBuild runs its first calls in
  // V8's baseline code until the optimized code is ready (5 calls left n = 64 at half speed)
  const w0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - w0 < 300; i++) gemm(false, false, n, n, n, A, B, C);
  const times: number[] = [];
  for (let s = 0; s < 11; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) gemm(false, false, n, n, n, A, B, C);
    times.push((performance.now() - t0) / reps);
  }
  times.sort((a, b) => a - b);
  return flops / times[times.length >> 1]! / 1e6;
}

const rows: string[] = single
  ? [`| kernel | ${ns.map((n) => `n = ${n}`).join(" | ")} |`, `|---|${ns.map(() => "---").join("|")}|`]
  : [];
for (const c of single ? configs : []) {
  c.select();
  const cells = ns.map((n) => (c.name.endsWith("js") && n > 512 ? "–" : measure(n, c.f32).toFixed(1)));
  rows.push(`| ${c.name} | ${cells.join(" | ")} |`);
}
useWasmBuild(undefined);
if (single) {
  console.log("gemm GFLOP/s (median, single thread, copy-in/copy-out included)");
  console.log(rows.join("\n"));
}

// ---- 1 vs 2 threads ----
type Shape = { name: string; M: number; N: number; K: number; tA: boolean; tB: boolean };
const square = (n: number): Shape => ({ name: `n = ${n}`, M: n, N: n, K: n, tA: false, tB: false });
const shapes: Shape[] = [
  ...(crossover ? [64, 96, 128, 160, 192, 224].map(square) : []),
  ...[256, 512, 1024].map(square),
  { name: "MLP x·W (100×784)·(784×1000)", M: 100, N: 1000, K: 784, tA: false, tB: false },
  { name: "MLP xᵀ·dy (784×100)·(100×1000)", M: 784, N: 1000, K: 100, tA: true, tB: false },
  { name: "MLP dy·Wᵀ (100×1000)·(1000×784)", M: 100, N: 784, K: 1000, tA: false, tB: true },
];
const threadCounts = [1, 2];

/**
 * GFLOP/s samples of one shape for each thread count, the counts alternating within each sample,
 * and for each count the process's CPU time over wall time while it ran (about 2 when 2 threads
 * really ran in parallel; near 1 when another process held the second core).
 */
function measureThreads(s: Shape, f32: boolean): { samples: number[][]; cores: number[] } {
  const mk = (len: number): FloatArray => (f32 ? new Float32Array(len) : new Float64Array(len));
  const A = mk(s.M * s.K);
  const B = mk(s.K * s.N);
  const C = mk(s.M * s.N);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
  const flops = 2 * s.M * s.N * s.K;
  const reps = Math.max(1, Math.round(3e7 / flops));
  const samples: number[][] = threadCounts.map(() => []);
  const cpu = threadCounts.map(() => 0);
  const wall = threadCounts.map(() => 0);
  const threshold = s.M * s.N * s.K < THREAD_THRESHOLD ? 0 : THREAD_THRESHOLD;
  for (const t of threadCounts) {
    setThreads(t, { threshold });
    for (let i = 0; i < 5; i++) gemm(s.tA, s.tB, s.M, s.N, s.K, A, B, C); // warm-up (starts the pool)
  }
  for (let r = 0; r < 15; r++) {
    threadCounts.forEach((t, i) => {
      setThreads(t, { threshold });
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) gemm(s.tA, s.tB, s.M, s.N, s.K, A, B, C);
      const ms = performance.now() - t0;
      const used = process.cpuUsage(c0);
      cpu[i]! += (used.user + used.system) / 1000;
      wall[i]! += ms;
      samples[i]!.push(flops / (ms / reps) / 1e6);
    });
  }
  setThreads(1, { threshold: THREAD_THRESHOLD });
  return { samples, cores: cpu.map((c, i) => c / wall[i]!) };
}

const fmt = (v: number[]): string => {
  const s = [...v].sort((a, b) => a - b);
  return `${s[s.length >> 1]!.toFixed(1)} (${s[0]!.toFixed(1)}–${s[s.length - 1]!.toFixed(1)})`;
};
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
for (const f32 of [true, false]) {
  const trows = [
    `| ${f32 ? "f32" : "f64"} shape | ${threadCounts.map((t) => `${t} thread${t > 1 ? "s" : ""}`).join(" | ")} | 2 / 1 | cores used (2 threads) |`,
    `|---|${threadCounts.map(() => "---").join("|")}|---|---|`,
  ];
  for (const s of shapes) {
    const { samples, cores } = measureThreads(s, f32);
    const ratio = (median(samples[1]!) / median(samples[0]!)).toFixed(2);
    trows.push(`| ${s.name} | ${samples.map(fmt).join(" | ")} | ${ratio}× | ${cores[1]!.toFixed(2)} |`);
  }
  console.log(`\ngemm GFLOP/s by thread count (median (min–max) of 15, ${kernelInfo().backend}, copies included)`);
  console.log(trows.join("\n"));
}
