/**
 * The TensorFlow.js peers of gradgraph's workloads, measured in the same process by bench/run.ts:
 * matmul, one MLP training step and the spiral training loop, on the pure-JS "cpu" backend and
 * the "wasm" backend (XNNPACK, loaded from the installed package; nothing is downloaded).
 *
 * Each workload owns tensors created on its backend, and its `prepare` makes that backend the
 * active one before every sample, so no tensor ever moves between backends while timing.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { randn } from "@gradgraph/core";
import { matmul } from "@gradgraph/nodes";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { MLP, mlpData } from "./nn.js";
import { SPIRAL_JOB } from "./spiral.js";
import { tfjsSpiralData, tfjsSpiralRun } from "./spiral-tfjs.js";
import type { Impl, Workload } from "./workload.js";

// tfjs-core's Node bundle registers no gradient functions (the @tensorflow/tfjs union package
// does, and it is not installed): load its ESM `register_all_gradients` through require, which
// tsx transpiles. That is a second copy of the ops, but the engine and the kernel and gradient
// registries live on globalThis, so the gradients land where `minimize` finds them.
createRequire(import.meta.url)("@tensorflow/tfjs-core/dist/register_all_gradients");

/** The TensorFlow.js backends measured. */
export const TF_BACKENDS = ["cpu", "wasm"] as const;
/** A TensorFlow.js backend measured. */
export type TfBackend = (typeof TF_BACKENDS)[number];

/** What the report's header says about TensorFlow.js. */
export interface TfjsInfo {
  readonly version: string;
  /** Whether the wasm backend runs the SIMD build. */
  readonly wasmSimd: boolean;
  /** Threads of the wasm backend (1: the single-threaded build). */
  readonly wasmThreads: number;
}

/** The library name of a backend's results. */
function implOf(backend: TfBackend): Impl {
  return backend === "cpu" ? "tfjs-cpu" : "tfjs-wasm";
}

/** Makes `backend` the active one; throws if it cannot be initialised. */
async function use(backend: TfBackend): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js: backend '${backend}' failed to initialise`);
}

/**
 * Initialises both backends: production mode (no Node.js banner, no debug checks), the wasm
 * binaries from the installed `@tensorflow/tfjs-backend-wasm/dist/`.
 */
export async function initTfjs(): Promise<TfjsInfo> {
  tf.enableProdMode();
  setWasmPaths(fileURLToPath(new URL("./node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url)));
  for (const b of TF_BACKENDS) await use(b);
  const wasmSimd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return { version: tf.version_core, wasmSimd, wasmThreads: getThreadsCount() };
}

/** Live TensorFlow.js tensors over all backends (checked before and after timing: memory stays flat). */
export function tfjsTensorCount(): number {
  return tf.memory().numTensors;
}

/** A workload on `backend`: fills in `impl` and the `prepare` that activates the backend. */
function onBackend(backend: TfBackend, w: Omit<Workload, "impl" | "prepare">): Workload {
  return { ...w, impl: implOf(backend), prepare: () => use(backend) };
}

/** The same n×n matrices as gradgraph's matmul benchmark with these seeds, as float32 data. */
function matrices(n: number, seed: number): [Float32Array, Float32Array] {
  const a = randn([n, n], { seed, dtype: "float32" }).data as Float32Array;
  const b = randn([n, n], { seed: seed + 1, dtype: "float32" }).data as Float32Array;
  return [a, b];
}

/**
 * `tf.matMul` of two pre-created n×n float32 tensors, the product read back with `dataSync()`
 * (the work is done) and disposed. Call with `backend` active.
 */
function matmulWorkload(backend: TfBackend, n: number, seed: number, slow: boolean): Workload {
  const [ad, bd] = matrices(n, seed);
  const a = tf.tensor2d(ad, [n, n]);
  const b = tf.tensor2d(bd, [n, n]);
  return onBackend(backend, {
    id: `matmul/${n}/float32/${implOf(backend)}`,
    bench: "matmul (forward)",
    label: `n = ${n} float32`,
    unit: "GFLOP/s",
    work: 2 * n * n * n,
    ...(slow ? { samples: 3, warmupIters: 1 } : {}),
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        const c = tf.matMul(a, b);
        s += c.dataSync()[0]!;
        c.dispose();
      }
      return s;
    },
  });
}

/**
 * One SGD step of the MLP (784 → 1000 ReLU → 10, batch 100) with `tf.variable`s,
 * `tf.losses.softmaxCrossEntropy` (one-hot labels, mean over the batch) and
 * `tf.train.sgd(...).minimize`, the loss read back with `dataSync()`. Call with `backend` active.
 */
function mlpWorkload(backend: TfBackend): Workload {
  const d = mlpData();
  const { batch, input, hidden, classes } = MLP;
  const x = tf.tensor2d(d.x, [batch, input]);
  const t = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(d.labels, "int32"), classes), "float32"));
  const vars = tf.tidy(() => [
    tf.variable(tf.tensor2d(d.W1, [input, hidden])),
    tf.variable(tf.tensor1d(d.b1)),
    tf.variable(tf.tensor2d(d.W2, [hidden, classes])),
    tf.variable(tf.tensor1d(d.b2)),
  ]);
  const [W1, b1, W2, b2] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const opt = tf.train.sgd(MLP.lr);
  const loss = (): tf.Scalar => {
    const h = tf.relu(tf.add(tf.matMul(x, W1), b1));
    return tf.losses.softmaxCrossEntropy(t, tf.add(tf.matMul(h, W2), b2)) as tf.Scalar;
  };
  return onBackend(backend, {
    id: `mlp-step/${implOf(backend)}/float32`,
    bench: "MLP training step",
    label: `${input}-${hidden}-${classes} ReLU, batch ${batch}, float32`,
    unit: "ms/step",
    work: 1,
    ...(backend === "cpu" ? { samples: 5, warmupIters: 1 } : {}),
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        s += tf.tidy(() => opt.minimize(loss, true, vars)!.dataSync()[0]!);
      }
      return s;
    },
  });
}

/**
 * The spiral job's training loop as bench/nn.ts runs it with gradgraph's Trainer
 * (bench/spiral-tfjs.ts, shared with the browser benchmark). Call with `backend` active.
 */
function spiralWorkload(backend: TfBackend): Workload {
  const data = tfjsSpiralData();
  return onBackend(backend, {
    id: `spiral/float32/${implOf(backend)}`,
    bench: "spiral training loop",
    label: `${SPIRAL_JOB}, float32`,
    unit: "ms/run",
    work: 1,
    samples: 5,
    warmupIters: 1,
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) s += tfjsSpiralRun(data, i);
      return s;
    },
  });
}

/**
 * Every TensorFlow.js workload, on both backends (call `initTfjs` first): matmul at each of
 * `sizes` in float32 (the cpu backend takes only three samples at n ≥ 1024, ~3 s per call), the
 * MLP step and the spiral loop.
 */
export async function tfjsWorkloads(sizes: readonly number[], seedOf: (n: number) => number): Promise<Workload[]> {
  const out: Workload[] = [];
  for (const backend of TF_BACKENDS) {
    await use(backend);
    for (const n of sizes) out.push(matmulWorkload(backend, n, seedOf(n), backend === "cpu" && n >= 1024));
    out.push(mlpWorkload(backend), spiralWorkload(backend));
  }
  return out;
}

/**
 * Checks once, before timing, that `tf.matMul` on each backend agrees with gradgraph's `matmul`
 * on the same 70×70 float32 matrices (relative error under 1e-4 at every entry).
 */
export async function tfjsSanityCheck(): Promise<void> {
  const n = 70;
  const [ad, bd] = matrices(n, 77);
  const ref = matmul(randn([n, n], { seed: 77, dtype: "float32" }), randn([n, n], { seed: 78, dtype: "float32" })).data;
  for (const backend of TF_BACKENDS) {
    await use(backend);
    const got = tf.tidy(() => tf.matMul(tf.tensor2d(ad, [n, n]), tf.tensor2d(bd, [n, n])).dataSync());
    for (let i = 0; i < n * n; i++) {
      if (Math.abs(got[i]! - ref[i]!) > 1e-4 * (1 + Math.abs(ref[i]!))) {
        throw new Error(`sanity check: tfjs-${backend} matMul entry ${i} = ${got[i]} but gradgraph gives ${ref[i]}`);
      }
    }
  }
}
