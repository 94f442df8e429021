import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastShapes, setKernelBackend, stridesOf } from "../src/index.js";
import { axpy, binaryInto, broadcastInto, gemm, gemmNew, sumToInto } from "../src/kernels/index.js";
import { poolStats, recycleArray } from "../src/memory.js";
import { broadcastableShapesArb } from "../src/testing/index.js";
import { naiveGemm as naive } from "./helpers.js";

describe("gemm", () => {
  it("matches the definition for every transpose combination and odd sizes, both dtypes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 300 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (M, N, K, tA, tB, f32, seed) => {
          const mk = (n: number) => (f32 ? new Float32Array(n) : new Float64Array(n));
          const A = mk(M * K);
          const B = mk(K * N);
          for (let i = 0; i < A.length; i++) A[i] = Math.sin(seed + 1.3 * i);
          for (let i = 0; i < B.length; i++) B[i] = Math.cos(seed + 0.7 * i);
          const C = mk(M * N).fill(123); // gemm overwrites
          gemm(tA, tB, M, N, K, A, B, C);
          const R = naive(tA, tB, M, N, K, A, B);
          const tol = f32 ? 1e-4 * Math.sqrt(K + 1) : 1e-12 * (K + 1);
          for (let i = 0; i < R.length; i++) expect(Math.abs(C[i]! - R[i]!)).toBeLessThanOrEqual(tol);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("gemmNew", () => {
  it("gives gemm's product in a new array, also when it reuses a pooled (poisoned) array", () => {
    for (const [M, N, K] of [
      [130, 129, 7],
      [130, 129, 0],
      [3, 4, 5],
    ] as const) {
      for (const dtype of ["float32", "float64"] as const) {
        const make = (n: number) => {
          const a = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
          for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37 + K);
          return a;
        };
        const A = make(M * K);
        const want = dtype === "float64" ? new Float64Array(M * N) : new Float32Array(M * N);
        gemm(false, true, M, N, K, A, make(N * K), want);
        // a dead array of the product's size goes to the pool (NaN-filled in the suite's poison mode)
        const dead = dtype === "float64" ? new Float64Array(M * N) : new Float32Array(M * N);
        dead.fill(Number.NaN);
        const before = poolStats().reused;
        recycleArray(dead);
        const got = gemmNew(false, true, M, N, K, A, make(N * K));
        expect(got).toBeInstanceOf(dtype === "float64" ? Float64Array : Float32Array);
        expect(Array.from(got)).toEqual(Array.from(want));
        // the large cases did take the pooled array
        if (dead.byteLength >= 64 * 1024) expect(poolStats().reused).toBe(before + 1);
      }
    }
    expect(() => gemmNew(false, false, -1, 2, 2, new Float32Array(4), new Float32Array(4))).toThrow(/gemmNew: M and N/);
  });
});

describe("broadcast kernels", () => {
  /** Reads element `idx` of an array of shape `from` broadcast to `to`. */
  const at = (x: ArrayLike<number>, from: readonly number[], to: readonly number[], idx: number[]) => {
    const st = stridesOf(from);
    const off = to.length - from.length;
    let o = 0;
    for (let d = 0; d < from.length; d++) o += (from[d] === 1 ? 0 : idx[off + d]!) * st[d]!;
    return x[o]!;
  };
  const indices = (shape: readonly number[]) => {
    const out: number[][] = [[]];
    for (const d of shape) {
      const next: number[][] = [];
      for (const p of out) for (let i = 0; i < d; i++) next.push([...p, i]);
      out.splice(0, out.length, ...next);
    }
    return out;
  };

  it("binaryInto, broadcastInto and sumToInto agree with the index definition", () => {
    fc.assert(
      fc.property(broadcastableShapesArb(2, { maxRank: 4, maxDim: 3 }), ([sa, sb]) => {
        const to = broadcastShapes("t", sa!, sb!);
        const a = Float64Array.from({ length: sa!.reduce((x, y) => x * y, 1) }, (_, i) => i + 1);
        const b = Float64Array.from({ length: sb!.reduce((x, y) => x * y, 1) }, (_, i) => 100 * (i + 1));
        const n = to.reduce((x, y) => x * y, 1);
        const out = new Float64Array(n);
        binaryInto("sub", a, sa!, b, sb!, out, to);
        const bc = new Float64Array(n);
        broadcastInto(a, sa!, bc, to);
        indices(to).forEach((idx, k) => {
          expect(out[k]).toBe(at(a, sa!, to, idx) - at(b, sb!, to, idx));
          expect(bc[k]).toBe(at(a, sa!, to, idx));
        });
        // sumTo: the adjoint of broadcast, <broadcast(a), g> == <a, sumTo(g)>
        const g = Float64Array.from({ length: n }, (_, i) => (i % 7) - 3);
        const s = new Float64Array(a.length);
        sumToInto(g, to, s, sa!);
        let lhs = 0;
        for (let i = 0; i < n; i++) lhs += bc[i]! * g[i]!;
        let rhs = 0;
        for (let i = 0; i < a.length; i++) rhs += a[i]! * s[i]!;
        expect(lhs).toBe(rhs);
      }),
      { numRuns: 200 },
    );
  });
});

describe("axpy", () => {
  it("adds x as it was at the call when x and y share memory (y itself or any overlapping view), on both backends", () => {
    try {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3000 }),
          fc.integer({ min: -40, max: 40 }),
          fc.boolean(),
          fc.constantFrom("js", "wasm" as const),
          (n, shift, f32, backend) => {
            setKernelBackend(backend);
            const mk = (k: number) => (f32 ? new Float32Array(k) : new Float64Array(k));
            const pad = Math.abs(shift);
            const mem = mk(n + pad);
            for (let i = 0; i < mem.length; i++) mem[i] = Math.sin(0.7 * i) * 4;
            const y = mem.subarray(shift < 0 ? pad : 0, (shift < 0 ? pad : 0) + n);
            const x = mem.subarray(shift < 0 ? 0 : pad, (shift < 0 ? 0 : pad) + n);
            const want = mk(n);
            for (let i = 0; i < n; i++) want[i] = y[i]! + -0.5 * x[i]!;
            axpy(-0.5, x, y);
            expect(Array.from(y)).toEqual(Array.from(want));
          },
        ),
        { numRuns: 60 },
      );
      // updates large enough to go through WASM in chunks, and two element types over one buffer
      for (const backend of ["js", "wasm"] as const) {
        setKernelBackend(backend);
        for (const shift of [-3, -1, 1, 3]) {
          const n = 20_000;
          const mem = Float64Array.from({ length: n + 3 }, (_, i) => (i % 97) - 48);
          const y = mem.subarray(shift < 0 ? 3 : 0, (shift < 0 ? 3 : 0) + n);
          const x = mem.subarray(shift < 0 ? 3 + shift : shift, (shift < 0 ? 3 + shift : shift) + n);
          const want = Float64Array.from(y, (v, i) => v + 2 * x[i]!);
          axpy(2, x, y);
          expect(Array.from(y), `${backend}, shift ${shift}`).toEqual(Array.from(want));
        }
        const mem = new ArrayBuffer(64);
        const y = new Float64Array(mem, 0, 4).fill(1);
        const x = new Float32Array(mem, 8, 4);
        const want = Float64Array.from(y, (v, i) => v + x[i]!);
        axpy(1, x, y);
        expect(Array.from(y), `${backend}, float32 x over float64 y`).toEqual(Array.from(want));
      }
    } finally {
      setKernelBackend("auto");
    }
  });
});
