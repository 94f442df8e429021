import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  ArgumentError,
  kernelInfo,
  MAX_THREADS,
  setKernelBackend,
  setThreads,
  shutdownThreads,
  THREAD_THRESHOLD,
} from "../src/index.js";
import { gemm } from "../src/kernels/index.js";
import { setWorkerForTests, threadStats } from "../src/kernels/runtime/threads.js";
import { wasmKernels } from "../src/kernels/runtime/wasm.js";
import { FAILS_JOB, FAILS_START, SILENT } from "./fixtures/gemm-workers.js";

type Case = { M: number; N: number; K: number; tA: boolean; tB: boolean; f32: boolean; seed: number };

function operands({ M, N, K, f32, seed }: Case) {
  const mk = (n: number) => (f32 ? new Float32Array(n) : new Float64Array(n));
  const A = mk(M * K);
  const B = mk(K * N);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(seed + 1.3 * i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(seed + 0.7 * i);
  return { A, B, C: () => mk(M * N).fill(123) };
}

/** The product on `threads` threads (threshold 0, every size in WASM), and whether it ran threaded. */
function run(c: Case, threads: number) {
  setKernelBackend("wasm");
  setThreads(threads, { threshold: 0 });
  const { A, B, C } = operands(c);
  const out = C();
  const before = threadStats().threadedCalls;
  gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, out);
  return { out, threaded: threadStats().threadedCalls > before };
}

/** Threaded and single-thread results are bit-identical: each element is summed in the same order. */
function expectSame(c: Case, threads = 2) {
  const one = run(c, 1);
  const many = run(c, threads);
  expect(one.threaded).toBe(false);
  expect(Array.from(many.out)).toEqual(Array.from(one.out));
  return many.threaded;
}

afterEach(() => {
  setThreads(1, { threshold: THREAD_THRESHOLD });
  setKernelBackend("auto");
});
afterAll(() => shutdownThreads());

const flags = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe("threaded gemm", () => {
  it("equals the single-thread kernel exactly on edge shapes, every transpose, f32 and f64", () => {
    // M or N below a tile, 1, primes, k blocking (K > 256), N past one column block (1024)
    const shapes: [number, number, number][] = [
      [1, 37, 5],
      [37, 1, 5],
      [3, 9, 7],
      [5, 2, 3],
      [2, 2, 1],
      [13, 97, 257],
      [101, 13, 31],
      [4, 8, 1],
      [130, 1030, 300],
    ];
    // the build's micro-kernel tile (3×12 for f32 with FMA, else 4×8; 4×4 for f64)
    setKernelBackend("wasm");
    const ex = wasmKernels()!.exports as Record<"tileRows" | "tileCols", (f64: number) => number>;
    for (const f32 of [true, false])
      for (const [tA, tB] of flags)
        for (const [M, N, K] of shapes) {
          const threaded = expectSame({ M, N, K, tA, tB, f32, seed: M + N + K });
          // a split needs two tiles along the split dimension
          const [rows, cols] = [ex.tileRows(f32 ? 0 : 1), ex.tileCols(f32 ? 0 : 1)];
          expect(threaded).toBe(Math.ceil(N / cols) >= 2 || Math.ceil(M / rows) >= 2);
        }
  });

  it("equals the single-thread kernel on random shapes, with 2 and 3 threads", () => {
    fc.assert(
      fc.property(
        fc.record({
          M: fc.integer({ min: 1, max: 90 }),
          N: fc.integer({ min: 1, max: 90 }),
          K: fc.integer({ min: 1, max: 300 }),
          tA: fc.boolean(),
          tB: fc.boolean(),
          f32: fc.boolean(),
          seed: fc.integer({ min: -1000, max: 1000 }),
        }),
        fc.integer({ min: 2, max: 3 }),
        (c, threads) => {
          expectSame(c, threads);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("splits the MLP shapes and matches", () => {
    for (const [M, N, K, tA, tB] of [
      [100, 1000, 784, false, false],
      [784, 1000, 100, true, false],
      [100, 784, 1000, false, true],
    ] as const) {
      expect(expectSame({ M, N, K, tA, tB, f32: true, seed: 1 })).toBe(true);
    }
  });

  it("keeps products below the threshold on one thread, and kernelInfo reports both settings", () => {
    setKernelBackend("wasm"); // every size in WASM, also under GRADGRAPH_KERNELS=js
    setThreads(2, { threshold: 1e6 });
    expect(kernelInfo()).toMatchObject({ threads: 2, threadThreshold: 1e6 });
    expect(kernelInfo().threadsReason).toBeUndefined();
    const small = { M: 50, N: 50, K: 50, tA: false, tB: false, f32: true, seed: 3 }; // 125k < 1e6
    const { A, B, C } = operands(small);
    const before = threadStats().threadedCalls;
    gemm(false, false, 50, 50, 50, A, B, C());
    expect(threadStats().threadedCalls).toBe(before);
    const big = { ...small, M: 100, N: 100, K: 100 }; // 1e6
    const o = operands(big);
    gemm(false, false, 100, 100, 100, o.A, o.B, o.C());
    expect(threadStats().threadedCalls).toBe(before + 1);
    expect(kernelInfo().threadedProducts).toBe(before + 1); // the public count of the same
    setThreads(1);
    expect(kernelInfo()).toMatchObject({ threads: 1, threadThreshold: 1e6 });
  });

  it("the pool can be shut down and is re-created by the next product", async () => {
    await shutdownThreads();
    const c: Case = { M: 20, N: 40, K: 30, tA: false, tB: false, f32: true, seed: 5 };
    expect(run(c, 2).threaded).toBe(true);
    expect(threadStats().poolSize).toBe(2);
    await shutdownThreads();
    expect(threadStats().poolSize).toBe(0);
    expect(expectSame(c)).toBe(true);
    expect(threadStats().poolSize).toBe(2);
    // a larger thread count replaces the pool, a smaller one uses part of it
    expect(run(c, 3).threaded).toBe(true);
    expect(threadStats().poolSize).toBe(3);
    expect(expectSame(c)).toBe(true);
    expect(threadStats().poolSize).toBe(3);
  });

  it("falls back to one thread, with the reason, when a worker fails to start, never starts, or fails", async () => {
    const c: Case = { M: 20, N: 40, K: 30, tA: true, tB: false, f32: false, seed: 7 };
    const expected = run(c, 1).out;
    const cases: [string, number, RegExp][] = [
      [FAILS_START, 10_000, /gemm worker 1 failed to start: simulated start failure/],
      [SILENT, 200, /gemm worker 1 did not start within 200 ms/],
      [FAILS_JOB, 10_000, /gemm worker 1 failed: simulated product failure/],
    ];
    try {
      for (const [body, timeout, reason] of cases) {
        await setWorkerForTests(body, timeout);
        const r = run(c, 2);
        expect(r.threaded).toBe(false);
        expect(Array.from(r.out)).toEqual(Array.from(expected));
        expect(kernelInfo().threadsReason).toMatch(reason);
        // threads stay off (no new attempt) until setThreads is called again
        const { A, B, C } = operands(c);
        gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, C());
        expect(threadStats().poolSize).toBe(0);
      }
    } finally {
      await setWorkerForTests();
    }
    // a setThreads call clears the failure
    expect(run(c, 2).threaded).toBe(true);
    expect(kernelInfo().threadsReason).toBeUndefined();
  });

  it("without blocking at pool start (a browser's way), runs on one thread until every worker is READY", async () => {
    const c: Case = { M: 20, N: 40, K: 30, tA: false, tB: true, f32: true, seed: 9 };
    const expected = run(c, 1).out;
    const poll = async (until: () => boolean) => {
      for (let i = 0; i < 2000 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      await setWorkerForTests(undefined, undefined, false);
      // the pool is created by this product, whose workers cannot have started yet
      const first = run(c, 2);
      expect(first.threaded).toBe(false);
      expect(threadStats().poolSize).toBe(2);
      expect(Array.from(first.out)).toEqual(Array.from(expected));
      expect(kernelInfo().threadsReason).toBeUndefined();
      let last = first;
      await poll(() => {
        last = run(c, 2);
        return last.threaded;
      });
      expect(last.threaded).toBe(true);
      expect(Array.from(last.out)).toEqual(Array.from(expected));
      // failures are seen by the non-blocking check too
      for (const [body, timeout, reason] of [
        [FAILS_START, 10_000, /gemm worker 1 failed to start: simulated start failure/],
        [SILENT, 200, /gemm worker 1 did not start within 200 ms/],
      ] as const) {
        await setWorkerForTests(body, timeout, false);
        expect(run(c, 2).threaded).toBe(false);
        // let the event loop turn: a worker that failed and ended is reported with its own reason,
        // whether the product's check or the worker's exit event sees it first
        await new Promise((r) => setTimeout(r, 300));
        const { A, B, C } = operands(c);
        await poll(() => {
          gemm(c.tA, c.tB, c.M, c.N, c.K, A, B, C()); // (run's setThreads would clear the failure)
          return kernelInfo().threadsReason !== undefined;
        });
        expect(kernelInfo().threadsReason).toMatch(reason);
        expect(threadStats().poolSize).toBe(0);
      }
    } finally {
      await setWorkerForTests();
    }
  });

  it("setThreads rejects bad counts and thresholds, naming the function and the value", () => {
    for (const bad of [0, -1, 1.5, MAX_THREADS + 1, Number.NaN, Number.POSITIVE_INFINITY, "2", null, undefined]) {
      expect(() => setThreads(bad as number)).toThrow(ArgumentError);
      expect(() => setThreads(bad as number)).toThrow(/setThreads: thread count must be an integer from 1 to 64/);
    }
    expect(() => setThreads(1.5)).toThrow(/got number 1\.5/);
    expect(() => setThreads(65)).toThrow(/got number 65/);
    expect(() => setThreads(0)).toThrow(/got number 0/);
    expect(() => setThreads("2" as unknown as number)).toThrow(/got string "2"/);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "1"]) {
      expect(() => setThreads(2, { threshold: bad as number })).toThrow(
        /setThreads: threshold must be a non-negative finite number/,
      );
    }
    expect(() => setThreads(2, { threshold: -1 })).toThrow(/got number -1/);
    expect(() => setThreads(2, 5 as unknown as { threshold: number })).toThrow(
      /setThreads: options must be an object, got number 5/,
    );
    expect(() => setThreads(2, [] as unknown as { threshold: number })).toThrow(
      /setThreads: options must be an object/,
    );
    // nothing changed
    expect(kernelInfo()).toMatchObject({ threads: 1, threadThreshold: THREAD_THRESHOLD });
    setThreads(1, null); // null options: keep the threshold
    expect(kernelInfo()).toMatchObject({ threads: 1, threadThreshold: THREAD_THRESHOLD });
  });

  it("lets the process exit while workers are alive (they are unref'ed)", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const out = execFileSync(
      process.execPath,
      [`${root}node_modules/tsx/dist/cli.mjs`, fileURLToPath(new URL("./fixtures/threads-exit.ts", import.meta.url))],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(out.trim()).toBe("threaded=1 c=128");
  });
});
