import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  ArgumentError,
  kernelInfo,
  ready,
  ShapeError,
  setKernelBackend,
  setThreads,
  shutdownThreads,
  THREAD_THRESHOLD,
  tensor,
} from "../src/index.js";
import { gemm } from "../src/kernels/index.js";
import { useWasmBuild } from "../src/kernels/runtime/wasm.js";
import { naiveGemm as naive } from "./helpers.js";

type Case = { M: number; N: number; K: number; tA: boolean; tB: boolean; f32: boolean; seed: number };

const caseArb: fc.Arbitrary<Case> = fc.record({
  M: fc.integer({ min: 1, max: 70 }),
  N: fc.integer({ min: 1, max: 70 }),
  K: fc.integer({ min: 1, max: 300 }),
  tA: fc.boolean(),
  tB: fc.boolean(),
  f32: fc.boolean(),
  seed: fc.integer({ min: -1000, max: 1000 }),
});

/** Operands of a case; A and B are views at odd offsets of larger buffers, as slab arrays are. */
function operands({ M, N, K, f32, seed }: Case) {
  const mk = (n: number) =>
    f32 ? new Float32Array(n + 3).subarray(1, n + 1) : new Float64Array(n + 3).subarray(1, n + 1);
  const A = mk(M * K);
  const B = mk(K * N);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(seed + 1.3 * i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(seed + 0.7 * i);
  return { A, B, C: () => mk(M * N).fill(123) };
}

function run(c: Case) {
  const { A, B, C } = operands(c);
  const out = C();
  gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, out);
  return out;
}

/**
 * The routes a product can take, each selected by its function: the TypeScript kernel, "auto",
 * each WASM build for every size, and two threads (reset to one after each use).
 */
const GEMM_ROUTES: readonly [string, () => void][] = [
  ["js", () => setKernelBackend("js")],
  ["auto", () => setKernelBackend("auto")],
  ["wasm-relaxed-simd", () => useWasmBuild("wasm-relaxed-simd")],
  ["wasm-simd", () => useWasmBuild("wasm-simd")],
  [
    "threads",
    () => {
      setKernelBackend("wasm");
      setThreads(2, { threshold: 0 });
    },
  ],
];

afterEach(() => setKernelBackend("auto"));
afterAll(() => shutdownThreads());

describe("WASM gemm", () => {
  it("kernelInfo reports a WASM backend on this machine (TypeScript under GRADGRAPH_KERNELS=js)", () => {
    const info = kernelInfo();
    if (process.env.GRADGRAPH_KERNELS === "js") {
      expect(info).toMatchObject({ backend: "js", reason: "GRADGRAPH_KERNELS=js" });
    } else {
      expect(["wasm-relaxed-simd", "wasm-simd"]).toContain(info.backend);
    }
    expect(info.option).toBe("auto");
  });

  for (const build of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    it(`${build} matches the TS kernel and the definition: every transpose, odd sizes, both dtypes`, () => {
      try {
        fc.assert(
          fc.property(caseArb, (c) => {
            setKernelBackend("js");
            const ts = run(c);
            useWasmBuild(build);
            expect(kernelInfo().backend).toBe(build);
            const wasm = run(c);
            const R = naive(c.tA, c.tB, c.M, c.N, c.K, operands(c).A, operands(c).B);
            const tol = c.f32 ? 1e-4 * Math.sqrt(c.K + 1) : 1e-12 * (c.K + 1);
            for (let i = 0; i < R.length; i++) {
              expect(Math.abs(wasm[i]! - R[i]!)).toBeLessThanOrEqual(tol);
              expect(Math.abs(wasm[i]! - ts[i]!)).toBeLessThanOrEqual(tol);
            }
          }),
          { numRuns: 80 },
        );
      } finally {
        useWasmBuild(undefined);
      }
    });
  }

  for (const build of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    it(`${build}: a small product (M·N·K ≤ 65536, unpacked where it suits) equals the packed route's rows bit for bit`, () => {
      // the same rows of op(A), stacked above enough extra rows that the product is too large for
      // the small route: every element must be summed the same way on both routes (the threads
      // rely on it: they split one product into blocks of either size)
      try {
        useWasmBuild(build);
        fc.assert(
          fc.property(
            fc.record({
              M: fc.integer({ min: 1, max: 40 }),
              N: fc.integer({ min: 1, max: 40 }),
              K: fc.integer({ min: 1, max: 120 }),
              tA: fc.boolean(),
              tB: fc.boolean(),
              f32: fc.boolean(),
              seed: fc.integer({ min: -1000, max: 1000 }),
            }),
            (c) => {
              const { M, N, K, tA, tB } = c;
              const { A, B, C } = operands(c);
              const small = C();
              gemm(tA, tB, M, N, K, A, B, small);
              const M2 = M + Math.ceil(65537 / (N * K));
              const mk = (n: number) => (c.f32 ? new Float32Array(n) : new Float64Array(n));
              const A2 = mk(M2 * K);
              // element (i, p) of op(A) is A[i·K + p], or A[p·M + i] when transposed
              for (let i = 0; i < M2; i++)
                for (let p = 0; p < K; p++) {
                  const v = i < M ? A[tA ? p * M + i : i * K + p]! : Math.sin(i * 0.37 + p);
                  A2[tA ? p * M2 + i : i * K + p] = v;
                }
              const big = mk(M2 * N);
              gemm(tA, tB, M2, N, K, A2, B, big);
              for (let i = 0; i < M * N; i++)
                if (!Object.is(small[i], big[i])) expect([i, small[i]]).toEqual([i, big[i]]);
            },
          ),
          { numRuns: 150 },
        );
      } finally {
        useWasmBuild(undefined);
      }
    });
  }

  it("covers multiple k blocks, row blocks and column blocks", () => {
    for (const [M, N, K] of [
      [131, 1030, 3],
      [257, 9, 513],
      [4, 8, 256],
    ] as const) {
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const f32 of [false, true]) {
            const c = { M, N, K, tA, tB, f32, seed: 7 };
            setKernelBackend("wasm");
            const wasm = run(c);
            const { A, B } = operands(c);
            const R = naive(tA, tB, M, N, K, A, B);
            const tol = f32 ? 1e-4 * Math.sqrt(K + 1) : 1e-12 * (K + 1);
            let worst = 0;
            for (let i = 0; i < R.length; i++) worst = Math.max(worst, Math.abs(wasm[i]! - R[i]!));
            expect(worst).toBeLessThanOrEqual(tol);
          }
    }
  });

  it("the js fallback gives the same results as before (TS kernel) and handles K = 0", () => {
    setKernelBackend("js");
    expect(kernelInfo()).toMatchObject({ backend: "js", option: "js" });
    const c = { M: 33, N: 40, K: 50, tA: true, tB: false, f32: false, seed: 3 };
    const js = run(c);
    const { A, B } = operands(c);
    const R = naive(c.tA, c.tB, c.M, c.N, c.K, A, B);
    for (let i = 0; i < R.length; i++) expect(Math.abs(js[i]! - R[i]!)).toBeLessThanOrEqual(1e-12 * 51);
    setKernelBackend("wasm");
    const out = new Float32Array(6).fill(5);
    gemm(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("GRADGRAPH_KERNELS=js forces the TS kernel under auto", () => {
    const before = process.env.GRADGRAPH_KERNELS;
    process.env.GRADGRAPH_KERNELS = "js";
    try {
      setKernelBackend("auto"); // the environment is read at load and by setKernelBackend
      expect(kernelInfo()).toMatchObject({ backend: "js", reason: "GRADGRAPH_KERNELS=js" });
      const c = { M: 20, N: 21, K: 22, tA: false, tB: true, f32: true, seed: 1 };
      const viaEnv = run(c);
      setKernelBackend("js");
      expect(Array.from(viaEnv)).toEqual(Array.from(run(c)));
    } finally {
      if (before === undefined) delete process.env.GRADGRAPH_KERNELS;
      else process.env.GRADGRAPH_KERNELS = before;
    }
  });

  it("a bias row is added to every row of the product, exactly as adding it afterwards, on every route", () => {
    /** `op(A)·op(B)` without a bias, then the row added in C's dtype: what every route must give. */
    const expected = (c: Case, bias: Float32Array | Float64Array) => {
      const out = run(c);
      // (rounded to C's dtype on store)
      for (let o = 0; o < out.length; o += c.N) for (let j = 0; j < c.N; j++) out[o + j] = out[o + j]! + bias[j]!;
      return Array.from(out);
    };
    try {
      fc.assert(
        fc.property(caseArb, fc.boolean(), fc.integer({ min: 0, max: 2 }), (c, biasF32, extra) => {
          const bias = biasF32 ? new Float32Array(c.N + extra) : new Float64Array(c.N + extra);
          for (let j = 0; j < bias.length; j++) bias[j] = 10 * Math.sin(c.seed + 2.1 * j) + 0.1;
          for (const [name, use] of GEMM_ROUTES) {
            use();
            const want = expected(c, bias);
            const { A, B, C } = operands(c);
            const out = C();
            gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, out, bias);
            expect(Array.from(out), name).toEqual(want);
            setThreads(1, { threshold: THREAD_THRESHOLD });
          }
          useWasmBuild(undefined);
        }),
        { numRuns: 40 },
      );
    } finally {
      setThreads(1, { threshold: THREAD_THRESHOLD });
      useWasmBuild(undefined);
    }
    // operands in WebAssembly memory (storage 'wasm') take the heap's kernel, and the bias after it
    setKernelBackend("wasm");
    const A = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3], dtype: "float64", storage: "wasm" });
    const B = tensor([1, 0, 0, 1, 1, 1], { shape: [3, 2], dtype: "float64", storage: "wasm" });
    const C = tensor([0, 0, 0, 0], { shape: [2, 2], dtype: "float64", storage: "wasm" });
    gemm(false, false, 2, 2, 3, A.data, B.data, C.data, new Float64Array([0.5, -1]));
    expect(Array.from(C.data)).toEqual([4.5, 4, 10.5, 10]);
  });

  it("operands and a bias row that share C's memory give what distinct copies give, on every route", () => {
    try {
      fc.assert(
        fc.property(caseArb, fc.constantFrom("A", "B", "bias"), fc.nat(6), (c, which, shift) => {
          const { A, B } = operands(c);
          const mk = (n: number) => (c.f32 ? new Float32Array(n) : new Float64Array(n));
          const bias = mk(c.N);
          for (let j = 0; j < c.N; j++) bias[j] = Math.cos(c.seed + 0.3 * j);
          const nc = c.M * c.N;
          for (const [name, use] of GEMM_ROUTES) {
            use();
            // the result on separate arrays
            const want = mk(nc);
            gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, want, bias);
            // the same values, with C overlapping one of them (from `shift` elements in)
            const src = which === "A" ? A : which === "B" ? B : bias;
            const mem = mk(Math.max(src.length + shift, nc + shift) + 2);
            mem.set(src, shift);
            const alias = mem.subarray(shift, shift + src.length);
            const C = mem.subarray(0, nc);
            gemm(
              c.tA,
              c.tB,
              c.M,
              c.N,
              c.K,
              which === "A" ? alias : A,
              which === "B" ? alias : B,
              C,
              which === "bias" ? alias : bias,
            );
            expect(Array.from(C), `${name}, C over ${which} at ${shift}`).toEqual(Array.from(want));
            setThreads(1, { threshold: THREAD_THRESHOLD });
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      setThreads(1, { threshold: THREAD_THRESHOLD });
      useWasmBuild(undefined);
    }
  });

  it("checks the bias: a float array of at least N elements", () => {
    const f = new Float64Array(4);
    expect(() => gemm(false, false, 2, 2, 2, f, f, f, [1, 2] as never)).toThrow(
      /^gemm: bias must be a Float32Array or Float64Array, got array\(2\)/,
    );
    expect(() => gemm(false, false, 2, 2, 2, f, f, f, new Float64Array(1))).toThrow(ShapeError);
    expect(() => gemm(false, false, 2, 2, 2, f, f, f, new Float64Array(1))).toThrow(
      /^gemm: bias has 1 elements, fewer than the product's N=2 columns/,
    );
    // an empty product still checks it
    expect(() => gemm(false, false, 0, 2, 2, f, f, f, new Int32Array(2) as never)).toThrow(/^gemm: bias must be/);
  });

  it("rejects bad input with gradgraph errors", () => {
    expect(() => setKernelBackend("gpu" as "js")).toThrow(ArgumentError);
    expect(() => gemm(false, false, 2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4))).toThrow(
      /gemm: arrays too short/,
    );
    expect(() => gemm(false, false, -1, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(4))).toThrow(
      ArgumentError,
    );
  });

  it("ready() resolves at once in Node, with what kernelInfo reports, and respects the backend option", async () => {
    /** Resolves with ready()'s value if it settles before a timer of 0 ms fires, else with "later". */
    const settleAtOnce = () =>
      Promise.race([ready(), new Promise<"later">((resolve) => setTimeout(() => resolve("later"), 0))]);
    const info = await settleAtOnce();
    expect(info).toEqual(kernelInfo());
    if (process.env.GRADGRAPH_KERNELS === "js") {
      expect(info).toMatchObject({ backend: "js", reason: "GRADGRAPH_KERNELS=js" });
    } else {
      expect(["wasm-relaxed-simd", "wasm-simd"]).toContain(info !== "later" && info.backend);
    }
    setKernelBackend("js");
    expect(await settleAtOnce()).toMatchObject({ backend: "js", option: "js", reason: "setKernelBackend('js')" });
    const before = process.env.GRADGRAPH_KERNELS;
    process.env.GRADGRAPH_KERNELS = "js";
    try {
      setKernelBackend("auto");
      expect(await settleAtOnce()).toMatchObject({ backend: "js", option: "auto", reason: "GRADGRAPH_KERNELS=js" });
      setKernelBackend("wasm"); // the explicit option wins over the environment
      expect(await settleAtOnce()).toMatchObject({ backend: kernelInfo().backend, option: "wasm", threshold: 0 });
      expect(kernelInfo().backend).not.toBe("js");
    } finally {
      if (before === undefined) delete process.env.GRADGRAPH_KERNELS;
      else process.env.GRADGRAPH_KERNELS = before;
    }
  });
});
