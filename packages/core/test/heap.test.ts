/**
 * Tensor storage in WebAssembly memory (`storage: "wasm"`): the factories and their errors, views
 * that survive the heap's growth, subarrays, the allocator, kernels on resident operands (bit for
 * bit against JS storage, on every mix of resident and JS operands, overlapping ones included),
 * gradients of resident leaves, and blocks freed when their arrays are collected.
 */
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  ArgumentError,
  type FloatArray,
  full,
  ones,
  randn,
  type Storage,
  setKernelBackend,
  setThreads,
  storageInfo,
  sumTo,
  THREAD_THRESHOLD,
  tensor,
  zeros,
} from "../src/index.js";
import { axpy, gemm } from "../src/kernels/index.js";
import { heapFree, heapKernels, heapScratch, heapStats, inHeap } from "../src/kernels/runtime/heap.js";
import { buildLayout } from "../src/kernels/runtime/loader.js";
import { mul } from "./helpers.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

afterEach(() => setKernelBackend("auto"));

const resident = (values: readonly number[] | FloatArray, dtype: "float32" | "float64" = "float32") =>
  tensor(values instanceof Float32Array || values instanceof Float64Array ? values : [...values], {
    dtype,
    storage: "wasm",
  });

describe("storage option", () => {
  it("places data in WebAssembly memory with storage 'wasm' and in JS memory by default", () => {
    const w = tensor([1, 2, 3], { storage: "wasm" });
    const j = tensor([1, 2, 3]);
    expect(w.storage).toBe("wasm");
    expect(j.storage).toBe("js");
    expect(tensor([1, 2, 3], { storage: "js" }).storage).toBe("js");
    expect(Array.from(w.data)).toEqual([1, 2, 3]);
    expect(w.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(w.data.byteOffset % 64).toBe(0);
    for (const t of [
      zeros([2, 3], { storage: "wasm" }),
      ones([4], { storage: "wasm", dtype: "float64" }),
      full([2], 7, { storage: "wasm" }),
      randn([5], { seed: 1, storage: "wasm" }),
      tensor(new Float64Array([1, 2]), { storage: "wasm" }),
      tensor(5, { storage: "wasm" }),
      tensor([[1, 2]], { storage: "wasm" }),
    ]) {
      expect(t.storage).toBe("wasm");
    }
    expect(Array.from(ones([4], { storage: "wasm", dtype: "float64" }).data)).toEqual([1, 1, 1, 1]);
    expect(ones([4], { storage: "wasm", dtype: "float64" }).dtype).toBe("float64");
    expect(Array.from(randn([5], { seed: 1, storage: "wasm" }).data)).toEqual(Array.from(randn([5], { seed: 1 }).data));
  });

  it("refuses an unknown storage, naming the factory and the value", () => {
    const bad = { storage: "gpu" } as unknown as { storage: Storage };
    expect(() => tensor([1], bad)).toThrow(ArgumentError);
    expect(() => tensor([1], bad)).toThrow("tensor: storage must be 'js' or 'wasm', got string \"gpu\"");
    expect(() => zeros([1], bad)).toThrow("zeros: storage must be 'js' or 'wasm', got string \"gpu\"");
    expect(() => ones([1], bad)).toThrow("ones: storage must be");
    expect(() => full([1], 2, bad)).toThrow("full: storage must be");
    expect(() => randn([1], { seed: 1, ...bad })).toThrow("randn: storage must be");
    expect(() => tensor([1], { storage: 1 } as unknown as { storage: Storage })).toThrow(
      "tensor: storage must be 'js' or 'wasm', got number 1",
    );
  });

  it("reports storage only for tensors (Tensor.storage on another receiver is an ArgumentError)", () => {
    const get = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(tensor(1)), "storage")!.get!;
    expect(() => get.call({})).toThrow("Tensor.storage: this must be a Tensor");
  });

  it("clone keeps the storage; slice and map give plain arrays in JS memory", () => {
    const w = resident([1, 2, 3]);
    const c = w.clone();
    expect(c.storage).toBe("wasm");
    expect(c.data).not.toBe(w.data);
    expect(Array.from(c.data)).toEqual([1, 2, 3]);
    expect(tensor([1]).clone().storage).toBe("js");
    const s = w.data.slice(1);
    expect(s.constructor).toBe(Float32Array);
    expect(inHeap(s)).toBe(false);
    expect(w.data.map((v) => v * 2).constructor).toBe(Float32Array);
  });
});

describe("fill", () => {
  it("fill_ and full on resident tensors give what TypedArray.fill gives (rounding, NaN, −0, overflow)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const n of [0, 1, 3, 4, 5, 1001]) {
        for (const v of [0, 1.1, -0, Number.NaN, 1e40, -Number.MIN_VALUE, 3]) {
          const w = zeros([n], { dtype, storage: "wasm" });
          const ref = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
          ref.fill(v);
          w.fill_(v);
          expect(Array.from(w.data)).toEqual(Array.from(ref));
          expect(Array.from(full([n], v, { dtype, storage: "wasm" }).data)).toEqual(Array.from(ref));
          expect(Array.from(full([n], v, { dtype }).data)).toEqual(Array.from(ref));
        }
      }
    }
    // a subarray view is filled only over its own range
    const w = resident([1, 2, 3, 4, 5, 6]);
    new (Object.getPrototypeOf(tensor(1)).constructor)(w.data.subarray(1, 4), [3]).fill_(9);
    expect(Array.from(w.data)).toEqual([1, 9, 9, 9, 5, 6]);
  });
});

describe("resident views", () => {
  it("stay valid, with their values, when the heap grows", () => {
    const a = resident(Array.from({ length: 1000 }, (_, i) => i));
    const before = heapStats().memoryBytes;
    // enough new blocks to grow the memory several times
    const keep = Array.from({ length: 8 }, () => zeros([1 << 20], { storage: "wasm" }));
    expect(heapStats().memoryBytes).toBeGreaterThan(before);
    expect(a.data.length).toBe(1000);
    expect(a.data[999]).toBe(999);
    a.data[5] = -1;
    expect(a.data[5]).toBe(-1);
    expect(keep.every((t) => t.data.length === 1 << 20 && t.data[123] === 0)).toBe(true);
    // blocks never overlap
    const spans = [a, ...keep].map((t) => [t.data.byteOffset, t.data.byteOffset + t.data.byteLength] as const);
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  });

  it("subarray gives resident views with subarray's index rules, nested", () => {
    const w = resident([0, 1, 2, 3, 4, 5, 6, 7]);
    const d = w.data;
    const plain = Float32Array.from(d);
    for (const [b, e] of [
      [2, 5],
      [-3, undefined],
      [undefined, -2],
      [5, 2],
      [-100, 100],
      [1.7, 4.2],
    ] as const) {
      const s = d.subarray(b, e);
      expect(Array.from(s)).toEqual(Array.from(plain.subarray(b, e)));
      expect(inHeap(s)).toBe(true);
    }
    const nested = d.subarray(2).subarray(1, 3);
    expect(Array.from(nested)).toEqual([3, 4]);
    nested[0] = 30;
    expect(d[3]).toBe(30);
    expect(inHeap(resident([1, 2], "float64").data.subarray(1))).toBe(true);
  });
});

describe("allocator", () => {
  it("in Node, attaches the kernels at once, over a region reserved from the build-time layout", () => {
    const t = zeros([16], { storage: "wasm" });
    for (const backend of ["wasm-simd", "wasm-relaxed-simd"] as const) {
      const k = heapKernels(backend); // both builds fit the region (relaxed SIMD is on in Node 20)
      expect(k).not.toBeNull();
      const { workspaceBytes } = buildLayout(
        backend === "wasm-simd" ? "kernels-threads-simd" : "kernels-threads-relaxed",
      );
      expect(t.data.byteOffset).toBeGreaterThanOrEqual(k!.work + workspaceBytes);
    }
  });

  it("storageInfo reports the heap's use", () => {
    const before = storageInfo();
    const t = zeros([1000], { storage: "wasm" });
    const after = storageInfo();
    expect(after.wasmBytesInUse).toBe(before.wasmBytesInUse + 4032);
    expect(after.wasmBlocks).toBe(before.wasmBlocks + 1);
    expect(after.wasmMemoryBytes).toBeGreaterThanOrEqual(after.wasmBytesInUse);
    expect(heapStats().bytesInUse).toBe(after.wasmBytesInUse);
    expect(t.storage).toBe("wasm");
  });

  it("reuses freed space and merges free neighbours", () => {
    resident([1]); // the heap exists
    const base = heapStats();
    const a = heapScratch(1000);
    const b = heapScratch(64);
    const c = heapScratch(5000);
    expect([a, b, c].every((o) => o > 0 && o % 64 === 0)).toBe(true);
    expect(b).toBeGreaterThanOrEqual(a + 1024);
    expect(heapStats().blocks).toBe(base.blocks + 3);
    expect(heapStats().bytesInUse).toBe(base.bytesInUse + 1024 + 64 + 5056);
    heapFree(b);
    // a block that fits the freed 64 bytes takes them
    const b2 = heapScratch(10);
    expect(b2).toBe(b);
    heapFree(b2);
    heapFree(a);
    heapFree(c);
    heapFree(c); // a second free of one block is a no-op
    expect(heapStats().bytesInUse).toBe(base.bytesInUse);
    expect(heapStats().blocks).toBe(base.blocks);
    expect(heapStats().freeSegments).toBeLessThanOrEqual(base.freeSegments + 1);
    // the merged space serves one block as large as the three
    const big = heapScratch(1024 + 64 + 5056);
    expect(big).toBe(Math.min(a, b, c));
    heapFree(big);
  });

  it("frees a block when its array is garbage-collected, and not while a subarray of it lives", async () => {
    const settle = async (until: () => boolean) => {
      for (let i = 0; i < 30 && !until(); i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    resident([1]);
    await settle(() => false);
    const start = heapStats().bytesInUse;
    const BYTES = 4 * 100_000;
    let keepSub: FloatArray | null = (() => {
      const t = zeros([100_000], { storage: "wasm" });
      t.data[7] = 42;
      return t.data.subarray(5, 10);
    })();
    (() => {
      zeros([100_000], { storage: "wasm" }); // dropped at once
    })();
    expect(heapStats().bytesInUse).toBeGreaterThanOrEqual(start + 2 * BYTES);
    await settle(() => heapStats().bytesInUse < start + 2 * BYTES);
    // the dropped block is back, the one under the live subarray is not
    expect(heapStats().bytesInUse).toBe(start + BYTES);
    expect(keepSub![2]).toBe(42);
    keepSub = null;
    await settle(() => heapStats().bytesInUse <= start);
    expect(heapStats().bytesInUse).toBe(start);
  });
});

type GemmCase = {
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  f64: boolean;
  where: [boolean, boolean, boolean];
};

const gemmArb: fc.Arbitrary<GemmCase> = fc.record({
  M: fc.integer({ min: 1, max: 40 }),
  N: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 1, max: 300 }),
  tA: fc.boolean(),
  tB: fc.boolean(),
  f64: fc.boolean(),
  where: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
});

/** A fresh array of `n` deterministic values in the given storage. */
function filled(n: number, f64: boolean, wasm: boolean, phase: number): FloatArray {
  const t = zeros([n], { dtype: f64 ? "float64" : "float32", storage: wasm ? "wasm" : "js" });
  for (let i = 0; i < n; i++) t.data[i] = Math.sin(phase + 0.37 * i);
  return t.data;
}

describe("kernels on resident operands", () => {
  for (const backend of ["auto", "wasm", "js"] as const) {
    it(`gemm (${backend} backend) equals the all-JS-storage product bit for bit, for every mix, and writes nothing past C`, () => {
      setKernelBackend(backend);
      fc.assert(
        fc.property(gemmArb, ({ M, N, K, tA, tB, f64, where }) => {
          const ref = new (f64 ? Float64Array : Float32Array)(M * N);
          gemm(tA, tB, M, N, K, filled(M * K, f64, false, 1), filled(K * N, f64, false, 2), ref);
          const A = filled(M * K, f64, where[0], 1);
          const B = filled(K * N, f64, where[1], 2);
          // C is followed by four more elements of its array: a kernel that writes past the product
          // (in place, on a resident C) changes them
          const whole = filled(M * N + 4, f64, where[2], 3);
          const after = Array.from(whole.subarray(M * N));
          const C = whole.subarray(0, M * N);
          gemm(tA, tB, M, N, K, A, B, C);
          expect(Array.from(C)).toEqual(Array.from(ref));
          expect(Array.from(whole.subarray(M * N))).toEqual(after);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("with 2 threads, resident operands give the single-thread result", () => {
    try {
      for (const where of [
        [true, true, true],
        [false, true, false],
      ] as const) {
        const [M, N, K] = [64, 96, 300];
        const ref = new Float32Array(M * N);
        setThreads(1);
        gemm(false, false, M, N, K, filled(M * K, false, false, 1), filled(K * N, false, false, 2), ref);
        setThreads(2, { threshold: 0 });
        const C = filled(M * N, false, where[2], 3);
        gemm(false, false, M, N, K, filled(M * K, false, where[0], 1), filled(K * N, false, where[1], 2), C);
        expect(Array.from(C)).toEqual(Array.from(ref));
      }
    } finally {
      setThreads(1, { threshold: THREAD_THRESHOLD });
    }
  });

  it("a large product (WASM under auto) with resident operands matches JS storage", () => {
    for (const where of [
      [false, true, false],
      [true, true, true],
      [false, false, true],
    ] as const) {
      const [M, N, K] = [50, 70, 90];
      const ref = new Float32Array(M * N);
      gemm(false, true, M, N, K, filled(M * K, false, false, 1), filled(K * N, false, false, 2), ref);
      const C = filled(M * N, false, where[2], 3);
      gemm(false, true, M, N, K, filled(M * K, false, where[0], 1), filled(K * N, false, where[1], 2), C);
      expect(Array.from(C)).toEqual(Array.from(ref));
    }
  });

  it("gemm whose resident C overlaps a resident input reads the input as it was (like JS storage)", () => {
    setKernelBackend("wasm");
    for (const f64 of [false, true]) {
      // A is 8×300 (two k blocks); C (8×8) starts at A's element 150, the start of row 0's second
      // k block, which the kernel packs after it has written C once
      const [M, N, K] = [8, 8, 300];
      const buf = filled(M * K, f64, true, 1);
      const A0 = Float64Array.from(buf);
      const B = filled(K * N, f64, false, 2);
      const expected = new (f64 ? Float64Array : Float32Array)(M * N);
      gemm(false, false, M, N, K, f64 ? A0 : Float32Array.from(A0), B, expected);
      gemm(false, false, M, N, K, buf, B, buf.subarray(150, 150 + M * N));
      expect(Array.from(buf.subarray(150, 150 + M * N))).toEqual(Array.from(expected));
    }
  });

  it("axpy updates a resident y in place for resident, JS and aliased x, as on JS storage", () => {
    for (const backend of ["auto", "wasm", "js"] as const) {
      setKernelBackend(backend);
      for (const f64 of [false, true]) {
        for (const n of [3, 129, 5000]) {
          const ref = filled(n, f64, false, 1);
          axpy(-0.25, filled(n, f64, false, 2), ref);
          for (const xWasm of [false, true]) {
            const y = filled(n, f64, true, 1);
            axpy(-0.25, filled(n, f64, xWasm, 2), y);
            expect(Array.from(y)).toEqual(Array.from(ref));
          }
          // x is y itself: y += a·y
          const self = filled(n, f64, true, 1);
          const selfRef = filled(n, f64, false, 1);
          axpy(0.5, self, self);
          axpy(0.5, selfRef, selfRef);
          expect(Array.from(self)).toEqual(Array.from(selfRef));
          // x overlaps y shifted by one element: same result as the JS loop on a JS array
          const shifted = filled(n + 1, f64, true, 1);
          const shiftedRef = filled(n + 1, f64, false, 1);
          axpy(0.5, shifted.subarray(0, n), shifted.subarray(1));
          axpy(0.5, shiftedRef.subarray(0, n), shiftedRef.subarray(1));
          expect(Array.from(shifted)).toEqual(Array.from(shiftedRef));
        }
      }
    }
  });
});

describe("autograd with resident leaves", () => {
  it("a resident leaf's gradient is resident and equals the JS-storage gradient", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const vals = Array.from({ length: 300 }, (_, i) => Math.cos(i));
      const run = (storage: Storage) => {
        const x = tensor(vals, { dtype, storage, requiresGrad: true });
        const y = sumTo(mul(mul(x, x), 3), []);
        y.backward();
        const z = sumTo(mul(x, 2), []);
        z.backward(); // accumulates into the existing grad
        return x.grad!;
      };
      const gw = run("wasm");
      const gj = run("js");
      expect(gw.storage).toBe("wasm");
      expect(gj.storage).toBe("js");
      expect(Array.from(gw.data)).toEqual(Array.from(gj.data));
    }
  });

  it("backward on a resident leaf itself gives a resident gradient", () => {
    const x = tensor([1, 2, 3], { storage: "wasm", requiresGrad: true });
    const s = sumTo(x, []);
    s.backward();
    expect(x.grad!.storage).toBe("wasm");
    const leaf = tensor(4, { storage: "wasm", requiresGrad: true });
    leaf.backward();
    expect(leaf.grad!.storage).toBe("wasm");
    expect(leaf.grad!.item()).toBe(1);
    leaf.backward(2);
    expect(leaf.grad!.item()).toBe(3);
    expect(tensor(4, { requiresGrad: true }).grad).toBeNull();
  });
});
