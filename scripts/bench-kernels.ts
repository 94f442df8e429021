/**
 * Crossover benchmark of the WebAssembly elementwise / reduction / softmax kernels against their
 * TypeScript loops, in float32 and float64, over a range of sizes: the figures behind the
 * thresholds in packages/core/src/kernels/runtime/wasm-ops.ts.
 *
 *   node_modules/.bin/tsx scripts/bench-kernels.ts [--quick] [--family NAME]
 *
 * Each configuration is timed as the median of several samples (each sample repeats the call
 * until about 2 ms have passed); the JS and WASM variants alternate inside one process. Prints
 * µs per call for both and the ratio JS/WASM (> 1: WASM faster).
 */
import type { FloatArray } from "../packages/core/src/dtype.js";
import { broadcastInto, sumToInto } from "../packages/core/src/kernels/broadcast.js";
import { axpy, binaryInto } from "../packages/core/src/kernels/elementwise.js";
import { logSumExpToInto, maxToInto } from "../packages/core/src/kernels/reduce.js";
import { setKernelBackend } from "../packages/core/src/kernels/runtime/wasm.js";
import { wasmSoftmaxRows, wasmUnary, wasmUnaryGrad } from "../packages/core/src/kernels/runtime/wasm-ops.js";

const quick = process.argv.includes("--quick");
const famIdx = process.argv.indexOf("--family");
const only = famIdx >= 0 ? process.argv[famIdx + 1] : undefined;
const SIZES = quick ? [64, 512, 4096, 100_000] : [16, 64, 128, 256, 512, 1024, 4096, 16_384, 100_000, 784_000];
const SAMPLES = quick ? 7 : 11;

function fill(a: FloatArray, seed: number): FloatArray {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(seed + i * 0.37) * 3;
  return a;
}

/** µs per call: median over samples of (time of a batch / batch size). */
function time(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 > 2 || reps > 1 << 20) break;
    reps *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

/** Times `run` with setKernelBackend("js") and ("wasm"), alternating, and prints a row. */
function compare(family: string, dtype: string, n: number, js: () => void, wasm: () => void): void {
  const tj: number[] = [];
  const tw: number[] = [];
  for (let round = 0; round < 3; round++) {
    setKernelBackend("js");
    tj.push(time(js));
    setKernelBackend("wasm");
    tw.push(time(wasm));
  }
  setKernelBackend("auto");
  tj.sort((a, b) => a - b);
  tw.sort((a, b) => a - b);
  const j = tj[1]!;
  const w = tw[1]!;
  console.log(
    `${family.padEnd(16)} ${dtype} n=${String(n).padStart(7)}  js ${j.toFixed(3).padStart(9)} µs  wasm ${w.toFixed(3).padStart(9)} µs  js/wasm ${(j / w).toFixed(2)}`,
  );
}

type Make = (n: number) => FloatArray;

function families(mk: Make) {
  const unaryTs: Record<string, (x: FloatArray, o: FloatArray) => void> = {
    relu: (x, o) => {
      for (let i = 0; i < o.length; i++) {
        const v = x[i]!;
        // biome-ignore lint/complexity/useMathMinMax: the op's loop, as written in nodes/unary.ts
        o[i] = v <= 0 ? 0 : v;
      }
    },
    exp: (x, o) => {
      for (let i = 0; i < o.length; i++) o[i] = Math.exp(x[i]!);
    },
    sigmoid: (x, o) => {
      for (let i = 0; i < o.length; i++) {
        const v = x[i]!;
        if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          o[i] = e / (1 + e);
        }
      }
    },
    tanh: (x, o) => {
      for (let i = 0; i < o.length; i++) o[i] = Math.tanh(x[i]!);
    },
  };
  return {
    add: (n: number) => {
      const a = fill(mk(n), 1);
      const b = fill(mk(n), 2);
      const o = mk(n);
      const f = () => binaryInto("add", a, [n], b, [n], o, [n]);
      return [f, f] as const;
    },
    "bias-add": (n: number) => {
      const c = Math.min(n, 100);
      const r = Math.max(1, Math.floor(n / c));
      const a = fill(mk(r * c), 1);
      const b = fill(mk(c), 2);
      const o = mk(r * c);
      const f = () => binaryInto("add", a, [r, c], b, [c], o, [r, c]);
      return [f, f] as const;
    },
    axpy: (n: number) => {
      const x = fill(mk(n), 1);
      const y = fill(mk(n), 2);
      const f = () => axpy(1e-9, x, y);
      return [f, f] as const;
    },
    ...Object.fromEntries(
      Object.entries(unaryTs).map(([k, ts]) => [
        k,
        (n: number) => {
          const x = fill(mk(n), 1);
          const o = mk(n);
          return [() => ts(x, o), () => wasmUnary(k as "relu", x, o)] as const;
        },
      ]),
    ),
    "relu-grad": (n: number) => {
      const x = fill(mk(n), 1);
      const g = fill(mk(n), 2);
      const o = mk(n);
      const m = mk(n);
      // the TypeScript backward: a 0/1 mask, then a product
      const ts = () => {
        m.fill(0);
        for (let i = 0; i < n; i++) if (x[i]! > 0) m[i] = 1;
        binaryInto("mul", g, [n], m, [n], o, [n]);
      };
      return [ts, () => wasmUnaryGrad("relu", x, g, o)] as const;
    },
    "sigmoid-grad": (n: number) => {
      const y = fill(mk(n), 1);
      const g = fill(mk(n), 2);
      const o = mk(n);
      const ts = () => {
        for (let i = 0; i < n; i++) o[i] = g[i]! * y[i]! * (1 - y[i]!);
      };
      return [ts, () => wasmUnaryGrad("sigmoid", y, g, o)] as const;
    },
    "sum-all": (n: number) => {
      const x = fill(mk(n), 1);
      const o = mk(1);
      const f = () => {
        o[0] = 0;
        sumToInto(x, [n], o, [1]);
      };
      return [f, f] as const;
    },
    "sum-axis0": (n: number) => {
      const c = Math.min(n, 100);
      const r = Math.max(1, Math.floor(n / c));
      const x = fill(mk(r * c), 1);
      const o = mk(c);
      const f = () => {
        o.fill(0);
        sumToInto(x, [r, c], o, [1, c]);
      };
      return [f, f] as const;
    },
    "max-lastaxis": (n: number) => {
      const c = Math.min(n, 100);
      const r = Math.max(1, Math.floor(n / c));
      const x = fill(mk(r * c), 1);
      const o = mk(r);
      const f = () => maxToInto(x, [r, c], o, [r, 1]);
      return [f, f] as const;
    },
    log: (n: number) => {
      const x = fill(mk(n), 1).map(Math.abs);
      const o = mk(n);
      const ts = () => {
        for (let i = 0; i < o.length; i++) o[i] = Math.log(x[i]!);
      };
      return [ts, () => wasmUnary("log", x, o)] as const;
    },
    "softmax-10": (n: number) => softmaxCase(mk, n, 10),
    "softmax-1000": (n: number) => softmaxCase(mk, n, 1000),
    "logsumexp-10": (n: number) => {
      const c = Math.min(n, 10);
      const r = Math.max(1, Math.floor(n / c));
      const x = fill(mk(r * c), 1);
      const o = mk(r);
      const f = () => logSumExpToInto(x, [r, c], o, [r, 1]);
      return [f, f] as const;
    },
    broadcast: (n: number) => {
      const c = Math.min(n, 100);
      const r = Math.max(1, Math.floor(n / c));
      const x = fill(mk(c), 1);
      const o = mk(r * c);
      const f = () => broadcastInto(x, [c], o, [r, c]);
      return [f, f] as const;
    },
  } as Record<string, (n: number) => readonly [() => void, () => void]>;
}

/** The TypeScript softmax of nodes/softmax.ts (log-softmax rows, then exp) against the kernel. */
function softmaxCase(mk: Make, total: number, c: number): readonly [() => void, () => void] {
  const n = Math.min(total, c);
  const r = Math.max(1, Math.floor(total / n));
  const x = fill(mk(r * n), 1);
  const out = mk(r * n);
  const ts = () => {
    for (let q = 0; q < x.length; q += n) {
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) if (x[q + j]! > m) m = x[q + j]!;
      if (!Number.isFinite(m)) m = 0;
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[q + j]! - m);
      const lse = m + Math.log(s);
      for (let j = 0; j < n; j++) out[q + j] = x[q + j]! - lse;
    }
    for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]!);
  };
  return [ts, () => wasmSoftmaxRows(0, x, n, out, null)] as const;
}

for (const [dtype, mk] of [
  ["f32", (n: number) => new Float32Array(n)],
  ["f64", (n: number) => new Float64Array(n)],
] as const) {
  for (const [name, make] of Object.entries(families(mk))) {
    if (only !== undefined && name !== only) continue;
    for (const n of SIZES) {
      const [js, wasm] = make(n);
      compare(name, dtype, n, js, wasm);
    }
  }
}
