/**
 * Issue 6's memory-design question, measured: should tensor data live in WebAssembly memory, or
 * stay in JS typed arrays and be copied into a persistent arena for each kernel call?
 *
 * For every matrix product of one MLP step (784 → 1000 ReLU → 10, batch 100) and one spiral step
 * (2-10-3, batch 30), float32, this times the product both ways in one process, interleaved:
 * - **copy**: `gemm` as the library runs it: copy A and B into the arena, run the kernel, copy
 *   C back into a JS typed array (the chosen design);
 * - **resident**: the same kernel on operands that already sit in WASM memory, writing C there
 *   (what "data living in WASM memory" would cost: no copies at all).
 *
 * The same for the MLP step's large elementwise kernels (bias add, ReLU and its gradient over
 * 100×1000 activations, the SGD update of W1's 784,000 weights). It then sums each design over a
 * step, giving what the copies cost per step.
 * Usage: tsx bench/memory-design.ts   (prints a markdown table; asserts nothing)
 */
import { axpy, binaryInto, gemm } from "../packages/core/src/kernels/index.js";
import { arenaStart, ensureMemory, wasmKernels } from "../packages/core/src/kernels/runtime/wasm.js";
import { wasmUnary, wasmUnaryGrad } from "../packages/core/src/kernels/runtime/wasm-ops.js";

interface Product {
  job: "MLP" | "spiral";
  what: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
}

const products: Product[] = [
  { job: "MLP", what: "x·W1 (forward)", transA: false, transB: false, M: 100, N: 1000, K: 784 },
  { job: "MLP", what: "h·W2 (forward)", transA: false, transB: false, M: 100, N: 10, K: 1000 },
  { job: "MLP", what: "dy·W2ᵀ (backward)", transA: false, transB: true, M: 100, N: 1000, K: 10 },
  { job: "MLP", what: "hᵀ·dy → dW2", transA: true, transB: false, M: 1000, N: 10, K: 100 },
  { job: "MLP", what: "xᵀ·dh → dW1", transA: true, transB: false, M: 784, N: 1000, K: 100 },
  { job: "spiral", what: "x·W1 (forward)", transA: false, transB: false, M: 30, N: 10, K: 2 },
  { job: "spiral", what: "h·W2 (forward)", transA: false, transB: false, M: 30, N: 3, K: 10 },
  { job: "spiral", what: "dy·W2ᵀ (backward)", transA: false, transB: true, M: 30, N: 10, K: 3 },
  { job: "spiral", what: "hᵀ·dy → dW2", transA: true, transB: false, M: 10, N: 3, K: 30 },
  { job: "spiral", what: "xᵀ·dh → dW1", transA: true, transB: false, M: 2, N: 10, K: 30 },
];

const m = wasmKernels();
if (m === null) {
  console.error("memory-design: the WASM kernels are not in use (GRADGRAPH_KERNELS=js or not built)");
  process.exit(1);
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * µs per call of `f` and of `g`, medians of 21 samples each, the two sampled alternately (so both
 * see the same machine state); each sample is enough calls to last ~10 ms.
 */
function timePair(f: () => void, g: () => void): [number, number] {
  const calls = (h: () => void): number => {
    for (let i = 0; i < 20; i++) h();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 10) {
      h();
      n++;
    }
    return n;
  };
  const nf = calls(f);
  const ng = calls(g);
  const sf: number[] = [];
  const sg: number[] = [];
  for (let s = 0; s < 21; s++) {
    let t = performance.now();
    for (let i = 0; i < nf; i++) f();
    sf.push(((performance.now() - t) / nf) * 1000);
    t = performance.now();
    for (let i = 0; i < ng; i++) g();
    sg.push(((performance.now() - t) / ng) * 1000);
  }
  return [med(sf), med(sg)];
}

const rows: string[] = [
  "| job | product | M×N×K | copy (µs) | resident (µs) | copies cost |",
  "|---|---|---|---:|---:|---:|",
];
const totals = { MLP: { copy: 0, resident: 0 }, spiral: { copy: 0, resident: 0 } };
for (const p of products) {
  const { M, N, K, transA, transB } = p;
  const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const B = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const C = new Float32Array(M * N);
  // resident operands: placed past the arena region gemm uses for its copies
  const base = arenaStart(m) + 64 * 1024 * 1024;
  const aOff = base;
  const bOff = aOff + ((A.byteLength + 63) & ~63);
  const cOff = bOff + ((B.byteLength + 63) & ~63);
  const buf = ensureMemory(m, cOff + C.byteLength);
  new Float32Array(buf, aOff, A.length).set(A);
  new Float32Array(buf, bOff, B.length).set(B);
  const [copy, resident] = timePair(
    () => gemm(transA, transB, M, N, K, A, B, C),
    () => m.f32(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aOff, bOff, cOff, m.base),
  );
  totals[p.job].copy += copy;
  totals[p.job].resident += resident;
  rows.push(
    `| ${p.job} | ${p.what} | ${M}×${N}×${K} | ${copy.toFixed(2)} | ${resident.toFixed(2)} | ${(((copy - resident) / copy) * 100).toFixed(1)}% |`,
  );
}
// the MLP step's large elementwise kernels, both ways (the kernels' signatures: see assembly/)
type Kern = (...args: number[]) => void;
const k = m.exports as unknown as Record<"binary_f32" | "axpy_f32" | "unary_f32" | "unary_grad_f32", Kern>;
const H = 100 * 1000;
const W = 784 * 1000;
const act = Float32Array.from({ length: H }, (_, i) => Math.sin(i));
const bias = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i));
const gAct = Float32Array.from({ length: H }, (_, i) => Math.cos(i));
const out = new Float32Array(H);
const w = Float32Array.from({ length: W }, (_, i) => Math.sin(i));
const gw = Float32Array.from({ length: W }, (_, i) => Math.cos(i));
const p0 = arenaStart(m) + 64 * 1024 * 1024;
const p1 = p0 + W * 4;
const p2 = p1 + W * 4;
ensureMemory(m, p2 + W * 4);
const elementwise: { what: string; copy: () => void; resident: () => void }[] = [
  {
    what: "bias add [100, 1000] + [1000]",
    copy: () => binaryInto("add", act, [100, 1000], bias, [1000], out, [100, 1000]),
    resident: () => k.binary_f32(0, 100, 1000, p0, 1000, 1, p1, 0, 1, p2),
  },
  {
    what: "relu, 100,000",
    copy: () => wasmUnary("relu", act, out),
    resident: () => k.unary_f32(2, H, p0, p2),
  },
  {
    what: "relu gradient, 100,000",
    copy: () => wasmUnaryGrad("relu", act, gAct, out),
    resident: () => k.unary_grad_f32(2, H, p0, p1, p2),
  },
  {
    what: "SGD update of W1, 784,000",
    copy: () => axpy(-1e-9, gw, w),
    resident: () => k.axpy_f32(W, -1e-9, p0, p1),
  },
];
for (const e of elementwise) {
  const [copy, resident] = timePair(e.copy, e.resident);
  totals.MLP.copy += copy;
  totals.MLP.resident += resident;
  rows.push(
    `| MLP | ${e.what} | | ${copy.toFixed(2)} | ${resident.toFixed(2)} | ${(((copy - resident) / copy) * 100).toFixed(1)}% |`,
  );
}
for (const job of ["MLP", "spiral"] as const) {
  const t = totals[job];
  rows.push(
    `| ${job} | all of the above, per step | | ${t.copy.toFixed(2)} | ${t.resident.toFixed(2)} | ${(t.copy - t.resident).toFixed(2)} µs |`,
  );
}
console.log(`kernel backend: ${m.backend}\n`);
console.log(rows.join("\n"));
