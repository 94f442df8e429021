/**
 * The browser benchmark page: the spiral job (bench/spiral.ts, bench/spiral-tfjs.ts, the same
 * code `npm run bench` times in Node.js) with gradgraph on its WASM kernels, gradgraph on its
 * TypeScript kernels and TensorFlow.js 4.22's wasm backend, on the page's main thread. The
 * runner (scripts/bench.ts) calls `gradgraphBench` directly; the Run button does the same by hand.
 */
import { kernelInfo, ready, setKernelBackend } from "@gradgraph/core";
import { loadSpiral } from "@gradgraph/nn";
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's index registers no gradients (the @tensorflow/tfjs union package does)
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { gradgraphSpiralRun } from "../../../bench/spiral.js";
import { type TfSpiralData, tfjsSpiralData, tfjsSpiralRun } from "../../../bench/spiral-tfjs.js";
import { type BenchApi, type BenchInfo, type Impl, roundOrder, type Sample, summarize } from "./summary.js";

const log = document.getElementById("log")!;
const say = (line: string): void => {
  log.textContent += `${line}\n`;
};

const gg = loadSpiral({ seed: 1984, dtype: "float32" });
let tfData: TfSpiralData | null = null;
let info: Promise<BenchInfo> | null = null;

/** Sets the libraries up once. */
function init(): Promise<BenchInfo> {
  if (info === null) info = setup();
  return info;
}

async function setup(): Promise<BenchInfo> {
  const kernels = await ready();
  tf.enableProdMode();
  // the single-threaded SIMD build, as gradgraph runs single-threaded here (the page is
  // cross-origin isolated, where tfjs would otherwise pick its threaded build)
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  setWasmPaths(new URL("./tfjs/", location.href).href);
  if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js: the wasm backend failed to initialise");
  await tf.ready();
  tfData = tfjsSpiralData();
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated,
    gradgraphBackend: kernels.backend,
    tfjsVersion: tf.version_core,
    tfjsBackend: tf.getBackend(),
    tfjsSimd: (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true,
    tfjsThreads: getThreadsCount(),
  };
}

async function run(impl: Impl, seed: number): Promise<Sample> {
  await init();
  // let the page breathe between runs (and the log paint)
  await new Promise((resolve) => setTimeout(resolve, 0));
  let loss: number;
  const t0 = performance.now();
  if (impl === "tfjs-wasm") {
    loss = tfjsSpiralRun(tfData!, seed);
  } else {
    setKernelBackend(impl === "gradgraph-js" ? "js" : "auto");
    try {
      if (impl === "gradgraph" && kernelInfo().backend === "js") throw new Error("gradgraph: WASM kernels not live");
      loss = gradgraphSpiralRun(gg.x, gg.t, seed, "float32");
    } finally {
      setKernelBackend("auto");
    }
  }
  const ms = performance.now() - t0;
  return { impl, round: seed, ms, loss };
}

async function runAll(rounds: number, warmup: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let r = -warmup; r < rounds; r++) {
    for (const impl of roundOrder(r + warmup)) {
      const s = await run(impl, Math.max(r, 0));
      say(
        `${r < 0 ? "warm-up" : `round ${r + 1}/${rounds}`}: ${impl} ${s.ms.toFixed(1)} ms (loss ${s.loss.toFixed(4)})`,
      );
      if (r >= 0) samples.push(s);
    }
  }
  return samples;
}

const api: BenchApi = { init, run, runAll };
(globalThis as { gradgraphBench?: BenchApi }).gradgraphBench = api;

const button = document.getElementById("run") as HTMLButtonElement;
button.disabled = false;
button.addEventListener("click", async () => {
  button.disabled = true;
  try {
    say(JSON.stringify(await api.init()));
    const stats = summarize(await runAll(5, 1));
    const table = document.getElementById("results") as HTMLTableElement;
    const body = table.tBodies[0]!;
    body.replaceChildren();
    for (const s of stats) {
      const row = body.insertRow();
      for (const cell of [
        s.impl,
        s.median.toFixed(1),
        `${s.min.toFixed(1)} – ${s.max.toFixed(1)}`,
        s.n,
        s.loss.toFixed(4),
      ]) {
        row.insertCell().textContent = String(cell);
      }
    }
    table.hidden = false;
  } catch (e) {
    say(`error: ${e instanceof Error ? e.message : String(e)}`);
    console.error(e);
  } finally {
    button.disabled = false;
  }
});
