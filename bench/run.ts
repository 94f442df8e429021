/**
 * gradgraph benchmark: per-node cost of recording (and back-propagating through) small graphs,
 * matmul throughput of the public `matmul` op and the raw `gemm` kernel, training steps and loops,
 * and the same matmul, MLP-step and spiral-loop workloads on TensorFlow.js (cpu and wasm
 * backends) in the same process, with a comparison section.
 *
 * Run with `npm run bench` (add `-- --json` to also write `out/bench.json`). The method (warm-up,
 * interleaved rounds, median with min–max) is described in `bench/README.md`.
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { type FloatArray, type FloatDType, kernelInfo, randn, type Tensor } from "@gradgraph/core";
import { gemm } from "@gradgraph/core/kernels";
import { add, matmul, mul, sum } from "@gradgraph/nodes";
import { MLP, nnSummary, nnWorkloads } from "./nn.js";
import { measureStartup, STARTUP_RUNS, startupSummary } from "./startup.js";
import { initTfjs, TF_BACKENDS, tfjsSanityCheck, tfjsTensorCount, tfjsWorkloads } from "./tfjs.js";
import { type Impl, median, sinkValue, timeIters, toUnit, type Unit, type Workload } from "./workload.js";

// ---------------------------------------------------------------------------------------------
// Settings

/** Time spent warming up each workload before any sample is taken (V8 tiers up meanwhile). */
const WARMUP_MS = 300;
/** Target duration of one sample; the iteration count per sample is calibrated to reach it. */
const SAMPLE_MS = 100;
/**
 * Interleaved rounds run after the per-workload warm-up and discarded: code shared between
 * workloads (elementwise kernels, the engine) is re-optimised once it has seen all of them.
 */
const WARMUP_ROUNDS = 2;
/** Samples per workload, one per round; the workload order is rotated from round to round. */
const ROUNDS = 11;
/** Pairs of `mul`, `add` in the small graph; with the final `sum` it has 2·PAIRS + 1 nodes. */
const PAIRS = 50;
/** Matrix sizes of the matmul benchmarks. */
const MATMUL_SIZES = [64, 256, 512, 1024] as const;
/** From this size on, matmul calls take ~0.5 s or more: fewer samples, no gemm-kernel twin. */
const MATMUL_LARGE = 1024;
/** Samples of the large gradgraph matmuls. */
const LARGE_SAMPLES = 5;
/** An earlier issue's bar: float32 matmul at n = 512, single-threaded, in GFLOP/s. */
const BAR_GFLOPS = 3;
/** Issue 6's bars: float32 matmul at n = 512 in GFLOP/s (reported only), and speed-ups over TensorFlow.js. */
const ISSUE6 = { gflops: 35, gflopsRelaxed: 42, gflops64: 16, mlpVsWasm: 8, spiralVsTfjs: 12, spiralMs: 100 } as const;

// ---------------------------------------------------------------------------------------------
// Workloads

/** The summary of one workload's samples. */
interface Result {
  readonly id: string;
  readonly bench: string;
  readonly label: string;
  readonly impl: Impl;
  readonly unit: Unit;
  readonly work: number;
  readonly itersPerSample: number;
  readonly samples: number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Records the benchmark chain `sum(((x·c + c)·c + c)…)`: `PAIRS` pairs of `mul` and `add`, then a
 * full `sum`, i.e. `2·PAIRS + 1` nodes when `x` or `c` requires grad.
 */
function chain(x: Tensor, c: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < PAIRS; i++) h = add(mul(h, c), c);
  return sum(h);
}

/**
 * The small-graph workloads for one input shape: record plus backward, and record only. Both
 * inputs require grad, so every op records a node under the default grad mode.
 */
function graphWorkloads(shape: readonly number[], seed: number): Workload[] {
  // c ≈ 1 keeps the 50-fold products of the chain finite.
  const x = randn(shape, { seed, requiresGrad: true });
  const c = randn(shape, { seed: seed + 1, requiresGrad: true });
  for (let i = 0; i < c.data.length; i++) c.data[i] = 1 + 0.01 * c.data[i]!;
  const label = `[${shape.join(", ")}] float32, ${2 * PAIRS + 1} nodes`;
  const nodes = 2 * PAIRS + 1;
  const key = shape.join("x");
  return [
    {
      id: `record+backward/${key}`,
      bench: "record + backward",
      label,
      unit: "ns/node",
      work: nodes,
      run(iters) {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          x.grad = null;
          c.grad = null;
          chain(x, c).backward();
          s += x.grad!.data[0]!;
        }
        return s;
      },
    },
    {
      id: `record/${key}`,
      bench: "record only",
      label,
      unit: "ns/node",
      work: nodes,
      run(iters) {
        let s = 0;
        for (let i = 0; i < iters; i++) s += chain(x, c).data[0]!;
        return s;
      },
    },
  ];
}

/** The seed of the matmul benchmark's matrices for a size and dtype (TensorFlow.js uses the float32 ones). */
function matmulSeed(n: number, dtype: FloatDType): number {
  return 100 + 4 * (MATMUL_SIZES as readonly number[]).indexOf(n) + (dtype === "float64" ? 2 : 0);
}

/**
 * The matmul workloads for one size and dtype: the public `matmul` op on tensors that do not
 * require grad (forward only, allocating its output), and the raw `gemm` kernel into a reused
 * output array. From `MATMUL_LARGE` on only the op runs, with `LARGE_SAMPLES` samples.
 */
function matmulWorkloads(n: number, dtype: FloatDType, seed: number): Workload[] {
  const large = n >= MATMUL_LARGE;
  const a = randn([n, n], { seed, dtype });
  const b = randn([n, n], { seed: seed + 1, dtype });
  const out: FloatArray = dtype === "float64" ? new Float64Array(n * n) : new Float32Array(n * n);
  const flops = 2 * n * n * n;
  const label = `n = ${n} ${dtype}`;
  const op: Workload = {
    id: `matmul/${n}/${dtype}`,
    bench: "matmul op (forward)",
    label,
    unit: "GFLOP/s",
    work: flops,
    ...(large ? { samples: LARGE_SAMPLES, warmupIters: 1 } : {}),
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) s += matmul(a, b).data[0]!;
      return s;
    },
  };
  if (large) return [op];
  return [
    op,
    {
      id: `gemm/${n}/${dtype}`,
      bench: "gemm kernel",
      label,
      unit: "GFLOP/s",
      work: flops,
      run(iters) {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          gemm(false, false, n, n, n, a.data, b.data, out);
          s += out[0]!;
        }
        return s;
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Measurement

/**
 * Warms `w` up for about `WARMUP_MS` (at least `w.warmupIters`, default three, iterations) and
 * returns the iteration count that makes one sample last about `SAMPLE_MS`, from the cost of the
 * later warm-up iterations.
 */
function warmUp(w: Workload): number {
  const start = performance.now();
  const minIters = w.warmupIters ?? 3;
  let iters = 1;
  let perIterNs = timeIters(w, 1);
  let done = 1;
  while (done < minIters || performance.now() - start < WARMUP_MS) {
    const ns = timeIters(w, iters);
    perIterNs = ns / iters;
    done += iters;
    // grow the batch so that timer resolution never dominates
    if (ns < 5e6) iters *= 2;
  }
  return Math.max(1, Math.round((SAMPLE_MS * 1e6) / perIterNs));
}

/**
 * Whether a workload taking `m` of the `ROUNDS` samples runs in round `r` (negative: a discarded
 * warm-up round): every round when `m = ROUNDS`, else `m` rounds spread evenly, no warm-up round.
 */
function sampledIn(r: number, m: number): boolean {
  if (m >= ROUNDS) return true;
  if (r < 0) return false;
  return Math.floor(((r + 1) * m) / ROUNDS) > Math.floor((r * m) / ROUNDS);
}

/**
 * Warms every workload up, runs `WARMUP_ROUNDS` discarded rounds, then takes `ROUNDS` samples of
 * each, one per round, rotating the order of the workloads by one position every round so that
 * none always follows the same neighbour or runs at the same point of a round. Slow workloads
 * (`samples` < `ROUNDS`) take their samples in evenly spread rounds. Each workload's `prepare`
 * (selecting a TensorFlow.js backend) is awaited before its warm-up and every sample, untimed.
 */
async function measure(workloads: readonly Workload[], log: (msg: string) => void): Promise<Result[]> {
  const iters: number[] = [];
  for (const w of workloads) {
    log(`warm-up ${w.id}`);
    await w.prepare?.();
    iters.push(warmUp(w));
  }
  const samples = workloads.map(() => [] as number[]);
  for (let r = -WARMUP_ROUNDS; r < ROUNDS; r++) {
    log(r < 0 ? `warm-up round ${r + WARMUP_ROUNDS + 1}/${WARMUP_ROUNDS}` : `round ${r + 1}/${ROUNDS}`);
    for (let k = 0; k < workloads.length; k++) {
      const i = (k + r + WARMUP_ROUNDS) % workloads.length;
      const w = workloads[i]!;
      if (!sampledIn(r, w.samples ?? ROUNDS)) continue;
      const n = iters[i]!;
      await w.prepare?.();
      const value = toUnit(w, timeIters(w, n), n);
      if (r >= 0) samples[i]!.push(value);
    }
  }
  return workloads.map((w, i) => {
    const xs = samples[i]!;
    return {
      id: w.id,
      bench: w.bench,
      label: w.label,
      impl: w.impl ?? "gradgraph",
      unit: w.unit,
      work: w.work,
      itersPerSample: iters[i]!,
      samples: xs,
      median: median(xs),
      min: Math.min(...xs),
      max: Math.max(...xs),
    };
  });
}

/** Checks once, before timing, that `gemm` and `matmul` compute a product and backward yields gradients. */
function sanityCheck(): void {
  const n = 70;
  const a = randn([n, n], { seed: 7, dtype: "float64" });
  const b = randn([n, n], { seed: 8, dtype: "float64" });
  const c = matmul(a, b).data;
  for (const [i, j] of [
    [0, 0],
    [13, 57],
    [n - 1, n - 1],
  ] as const) {
    let ref = 0;
    for (let p = 0; p < n; p++) ref += a.data[i * n + p]! * b.data[p * n + j]!;
    if (Math.abs(c[i * n + j]! - ref) > 1e-9 * (1 + Math.abs(ref))) {
      throw new Error(`sanity check: matmul(${i}, ${j}) = ${c[i * n + j]} but the triple loop gives ${ref}`);
    }
  }
  const x = randn([3], { seed: 9, requiresGrad: true });
  const k = randn([3], { seed: 10, requiresGrad: true });
  chain(x, k).backward();
  if (x.grad === null || k.grad === null || !Number.isFinite(x.grad.data[0]!)) {
    throw new Error("sanity check: backward through the benchmark chain produced no finite gradient");
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

/** The short commit hash, suffixed when the working tree has changes; never throws. */
function gitDescribe(): string {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  };
  const head = git(["rev-parse", "--short", "HEAD"]) ?? "no commit";
  const status = git(["status", "--porcelain"]);
  if (status === null) return `${head} (git status unavailable)`;
  return status.length > 0 ? `${head} (uncommitted changes)` : head;
}

/** Formats `x` with three significant digits (more for large numbers), without exponent. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x) || 1)));
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A rate in operations per second, scaled to k or M. */
function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${fmt(perSecond / 1e6)} M`;
  if (perSecond >= 1e3) return `${fmt(perSecond / 1e3)} k`;
  return fmt(perSecond);
}

/** The derived figure of a result: ops/s for per-node costs, milliseconds per call for GFLOP/s. */
function derived(r: Result): string {
  if (r.unit === "ns/node") {
    return `${fmtRate(1e9 / r.median)} ops/s (${fmtRate(1e9 / r.max)} – ${fmtRate(1e9 / r.min)})`;
  }
  if (r.unit === "GFLOP/s") return `${fmt(r.work / (r.median * 1e6))} ms/call`;
  return "";
}

/** Renders the results as a markdown table. */
function table(results: readonly Result[]): string {
  const rows = [
    "| Benchmark | Library | Case | Median | Min – max | Unit | Derived |",
    "| --- | --- | --- | ---: | ---: | --- | --- |",
  ];
  for (const r of results) {
    rows.push(
      `| ${r.bench} | ${r.impl} | ${r.label} | ${fmt(r.median)} | ${fmt(r.min)} – ${fmt(r.max)} | ${r.unit} | ${derived(r)} |`,
    );
  }
  return rows.join("\n");
}

/** How many times faster gradgraph's result `g` is than the peer's `p` (by medians; < 1: slower). */
function speedup(g: Result, p: Result): number {
  return g.unit === "GFLOP/s" ? g.median / p.median : p.median / g.median;
}

/** "gradgraph is 3.10× faster than tfjs-cpu" (or "… slower …") for a speed-up `s`. */
function ratioText(s: number, peer: Impl): string {
  return s >= 1 ? `gradgraph is ${fmt(s)}× faster than ${peer}` : `gradgraph is ${fmt(1 / s)}× slower than ${peer}`;
}

/**
 * The comparison section: per workload the medians of gradgraph and both TensorFlow.js backends
 * and gradgraph's speed ratio to each, then issue 6's bars as met / not met.
 */
function comparison(results: readonly Result[]): string[] {
  const byId = (id: string): Result | undefined => results.find((r) => r.id === id);
  const cell = (r: Result | undefined): string => (r === undefined ? "—" : `${fmt(r.median)} ${r.unit}`);
  const peers = TF_BACKENDS.map((b): Impl => (b === "cpu" ? "tfjs-cpu" : "tfjs-wasm"));
  const rows = [
    `| Workload | gradgraph | ${peers.join(" | ")} | ${peers.map((p) => `vs ${p}`).join(" | ")} |`,
    `| --- | ---: | ${peers.map(() => "---:").join(" | ")} | ${peers.map(() => "---").join(" | ")} |`,
  ];
  const row = (name: string, g: Result | undefined, ps: readonly (Result | undefined)[]): void => {
    const ratios = ps.map((p, i) =>
      g === undefined || p === undefined ? "— (no float64 in TensorFlow.js)" : ratioText(speedup(g, p), peers[i]!),
    );
    rows.push(`| ${name} | ${cell(g)} | ${ps.map(cell).join(" | ")} | ${ratios.join(" | ")} |`);
  };
  for (const n of MATMUL_SIZES) {
    row(
      `matmul n = ${n} float32`,
      byId(`matmul/${n}/float32`),
      peers.map((p) => byId(`matmul/${n}/float32/${p}`)),
    );
    row(
      `matmul n = ${n} float64`,
      byId(`matmul/${n}/float64`),
      peers.map(() => undefined),
    );
  }
  const mlp = byId("mlp-step/gradgraph/float32");
  row(
    "MLP step 784-1000-10, batch 100, float32",
    mlp,
    peers.map((p) => byId(`mlp-step/${p}/float32`)),
  );
  const mlpResident = byId("mlp-step/gradgraph/float32/wasm-storage");
  row(
    "MLP step, parameters in storage 'wasm'",
    mlpResident,
    peers.map((p) => byId(`mlp-step/${p}/float32`)),
  );
  const spiral = byId("spiral/float32");
  const spiralPeers = peers.map((p) => byId(`spiral/float32/${p}`));
  row("spiral loop, 3,000 steps, float32", spiral, spiralPeers);

  const verdict = (ok: boolean): string => (ok ? "met" : "NOT met");
  const lines = ["", "## Comparison with TensorFlow.js (same process, medians)", "", ...rows, "", "Issue 6 bars:"];
  const mm = byId("matmul/512/float32");
  if (mm !== undefined) {
    lines.push(
      `- matmul n = 512 float32, the \`matmul\` op on the ${kernelInfo().backend} build: ${fmt(mm.median)} GFLOP/s (tfjs-wasm ${cell(byId("matmul/512/float32/tfjs-wasm"))}); the bars (plain SIMD ≥ ${ISSUE6.gflops}, relaxed SIMD ≥ ${ISSUE6.gflopsRelaxed}, float64 ≥ ${ISSUE6.gflops64}) are judged per build by \`npm run bench:gemm\``,
    );
  }
  const mlpWasm = byId("mlp-step/tfjs-wasm/float32");
  for (const [r, how] of [
    [mlp, "parameters in JS memory (the default storage)"],
    [mlpResident, "parameters in storage 'wasm' (WebAssembly memory, where TensorFlow.js WASM keeps its tensors)"],
  ] as const) {
    if (r === undefined || mlpWasm === undefined) continue;
    const s = speedup(r, mlpWasm);
    lines.push(
      `- MLP step float32 at least ${ISSUE6.mlpVsWasm}× faster than tfjs-wasm, ${how}: ${verdict(s >= ISSUE6.mlpVsWasm)} (${fmt(r.median)} vs ${fmt(mlpWasm.median)} ms/step: ${ratioText(s, "tfjs-wasm")})`,
    );
  }
  const mlp2 = byId("mlp-step/gradgraph/float32/2-threads");
  if (mlp !== undefined && mlp2 !== undefined) {
    const s = speedup(mlp2, mlp);
    const vs = mlpWasm === undefined ? "" : `; ${ratioText(speedup(mlp2, mlpWasm), "tfjs-wasm")}`;
    lines.push(
      `- MLP step float32 with 2 threads faster than with 1: ${verdict(s > 1)} (${fmt(mlp2.median)} vs ${fmt(mlp.median)} ms/step: ${s.toFixed(2)}×${vs})`,
    );
  }
  const present = spiralPeers.filter((p): p is Result => p !== undefined);
  if (spiral !== undefined && present.length > 0) {
    // the bar holds against either backend, so it is judged against the faster one
    const best = present.reduce((a, b) => (b.median < a.median ? b : a));
    const s = speedup(spiral, best);
    lines.push(
      `- spiral loop at least ${ISSUE6.spiralVsTfjs}× faster than TensorFlow.js (its faster backend, ${best.impl}): ${verdict(s >= ISSUE6.spiralVsTfjs)} (${ratioText(s, best.impl)}); under ${ISSUE6.spiralMs} ms: ${verdict(spiral.median < ISSUE6.spiralMs)} (${fmt(spiral.median)} ms)`,
    );
  }
  return lines;
}

/** Parses the command line: `--json` is the only option. Exits with usage on anything else. */
function parseArgs(argv: readonly string[]): { json: boolean } {
  let json = false;
  for (const a of argv) {
    if (a === "--json") json = true;
    else {
      process.stderr.write(`bench: unknown argument '${a}'\nusage: npm run bench [-- --json]\n`);
      process.exit(2);
    }
  }
  return { json };
}

/** Runs the benchmark, prints the report and, with `--json`, writes `out/bench.json`. */
async function main(): Promise<void> {
  const { json } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const meta = {
    commit: gitDescribe(),
    node: process.version,
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model.trim() ?? "unknown"} × ${cpus().length}`,
    platform: `${process.platform}-${process.arch}`,
    tfjs: "",
  };
  const tty = process.stderr.isTTY === true;
  const log = (msg: string): void => {
    if (tty) process.stderr.write(`\r\x1b[K${msg}`);
  };
  // the whole spiral job as a process, first, while this process is still idle
  const startup = measureStartup(STARTUP_RUNS, log);
  const tfjs = await initTfjs();
  meta.tfjs = `${tfjs.version} (cpu: pure JS; wasm: ${tfjs.wasmSimd ? "SIMD" : "no SIMD"}, ${tfjs.wasmThreads} thread${tfjs.wasmThreads === 1 ? "" : "s"}; production mode)`;
  sanityCheck();
  await tfjsSanityCheck();
  const workloads: Workload[] = [...graphWorkloads([1], 1), ...graphWorkloads([30, 10], 3)];
  for (const n of MATMUL_SIZES) {
    for (const dtype of ["float32", "float64"] as const)
      workloads.push(...matmulWorkloads(n, dtype, matmulSeed(n, dtype)));
  }
  workloads.push(...nnWorkloads());
  workloads.push(...(await tfjsWorkloads(MATMUL_SIZES, (n) => matmulSeed(n, "float32"))));
  const tensorsBefore = tfjsTensorCount();
  const results = await measure(workloads, log);
  const tensorsAfter = tfjsTensorCount();
  if (tty) process.stderr.write("\r\x1b[K");
  if (!Number.isFinite(sinkValue())) throw new Error(`benchmark results are not finite (${sinkValue()})`);
  const seconds = (performance.now() - started) / 1000;

  const bar = results.find((r) => r.id === "matmul/512/float32")!;
  const barGemm = results.find((r) => r.id === "gemm/512/float32")!;
  const verdict = bar.median >= BAR_GFLOPS ? "met" : "NOT met";
  const lines = [
    "# gradgraph benchmark",
    "",
    `- commit: ${meta.commit}`,
    `- node: ${meta.node} (${meta.platform}), cpu: ${meta.cpu}`,
    `- TensorFlow.js: ${meta.tfjs}`,
    `- date: ${meta.date}`,
    `- method: ${WARMUP_MS} ms warm-up per workload and ${WARMUP_ROUNDS} discarded rounds, then ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms samples (order rotated each round); median and min – max of the ${ROUNDS} samples (3 to ${LARGE_SAMPLES} for the slowest: gradgraph matmul at n = ${MATMUL_LARGE}, the TensorFlow.js spiral loops, tfjs-cpu's MLP step and n = ${MATMUL_LARGE} matmul); single-threaded except the row marked "2 threads"; everything in one process; total ${fmt(seconds)} s`,
    "",
    table(results),
    "",
    `Notes: the small graph is sum(((x·c + c)·c + c)…) with ${PAIRS} mul/add pairs, x and c requiring grad; ns/node = time / ${2 * PAIRS + 1} nodes (backward runs its own ops, and its time is charged to the recorded nodes). matmul FLOPs = 2·n³; the op allocates its output, the kernel writes into a reused array.`,
    "Reference on these 2-core machines: naive triple-loop JS ≈ 0.8 GFLOP/s, blocked JS ≈ 1.9 GFLOP/s, TensorFlow.js pure-JS backend ≈ 0.8 GFLOP/s.",
    `Bar: float32 matmul at n = 512 ≥ ${BAR_GFLOPS} GFLOP/s single-threaded: ${verdict} (matmul op median ${fmt(bar.median)}, gemm kernel median ${fmt(barGemm.median)} GFLOP/s).`,
    ...nnSummary((id) => results.find((r) => r.id === id)!.samples),
    `The MLP step is forward, backward, SGD update (lr ${MLP.lr}) and the loss read back, on one fixed random batch; TensorFlow.js live tensors: ${tensorsBefore} before timing, ${tensorsAfter} after${tensorsAfter === tensorsBefore ? " (flat)" : " (GREW: a leak)"}.`,
    ...comparison(results),
    "",
    ...startupSummary(startup),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  if (json) {
    const dir = fileURLToPath(new URL("../out/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = `${dir}bench.json`;
    const settings = {
      warmupMs: WARMUP_MS,
      warmupRounds: WARMUP_ROUNDS,
      sampleMs: SAMPLE_MS,
      rounds: ROUNDS,
      pairs: PAIRS,
      barGflops: BAR_GFLOPS,
      issue6: ISSUE6,
      matmulSizes: MATMUL_SIZES,
      largeSamples: LARGE_SAMPLES,
    };
    writeFileSync(file, `${JSON.stringify({ meta, settings, seconds, results, startup }, null, 2)}\n`);
    process.stdout.write(`\nwrote ${file}\n`);
  }
}

await main();
