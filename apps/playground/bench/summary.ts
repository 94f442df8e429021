/**
 * The browser benchmark's samples and their summary, shared by the page (bench/page.ts) and the
 * runner (scripts/bench.ts). Plain data and arithmetic: no DOM, no Node.js.
 */

/** What is timed: gradgraph on its WASM kernels, gradgraph forced onto its TypeScript kernels, TensorFlow.js's wasm backend. */
export const IMPLS = ["gradgraph", "gradgraph-js", "tfjs-wasm"] as const;
/** One of {@link IMPLS}. */
export type Impl = (typeof IMPLS)[number];

/** One timed run of the spiral job. */
export interface Sample {
  impl: Impl;
  round: number;
  /** Wall-clock milliseconds of the run (`performance.now()`). */
  ms: number;
  /** The run's last averaged loss: the libraries train the same net on the same batches. */
  loss: number;
}

/** What the page reports about its runtime. */
export interface BenchInfo {
  userAgent: string;
  crossOriginIsolated: boolean;
  /** gradgraph's kernel backend after `ready()`. */
  gradgraphBackend: string;
  tfjsVersion: string;
  tfjsBackend: string;
  /** Whether TensorFlow.js runs its SIMD build. */
  tfjsSimd: boolean;
  tfjsThreads: number;
}

/** What the page offers its runner, as `globalThis.gradgraphBench`. */
export interface BenchApi {
  /** Loads both libraries' WebAssembly and reports what runs. */
  init(): Promise<BenchInfo>;
  /** One timed run of the job with `impl`, its nets and shuffles seeded with `seed`. */
  run(impl: Impl, seed: number): Promise<Sample>;
  /** `warmup` untimed rounds, then `rounds` rounds, each running every implementation in a rotated order. */
  runAll(rounds: number, warmup: number): Promise<Sample[]>;
}

/** The median, min and max of one implementation's samples. */
export interface Stats {
  impl: Impl;
  n: number;
  median: number;
  min: number;
  max: number;
  /** Median of the final losses. */
  loss: number;
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Statistics per implementation, in {@link IMPLS} order (implementations without samples left out). */
export function summarize(samples: readonly Sample[]): Stats[] {
  const out: Stats[] = [];
  for (const impl of IMPLS) {
    const mine = samples.filter((s) => s.impl === impl);
    if (mine.length === 0) continue;
    const ms = mine.map((s) => s.ms);
    out.push({
      impl,
      n: mine.length,
      median: median(ms),
      min: Math.min(...ms),
      max: Math.max(...ms),
      loss: median(mine.map((s) => s.loss)),
    });
  }
  return out;
}

/** The order of the implementations in round `round`: rotated each round, so none always goes first. */
export function roundOrder(round: number): Impl[] {
  const k = round % IMPLS.length;
  return [...IMPLS.slice(k), ...IMPLS.slice(0, k)];
}
