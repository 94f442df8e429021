/**
 * The shape of a benchmarked configuration, shared by bench/run.ts (which measures it) and the
 * modules that define workloads (bench/nn.ts, bench/tfjs.ts).
 */

/** How a workload's samples are reported. */
export type Unit = "ns/node" | "GFLOP/s" | "µs/step" | "ms/step" | "ms/run";

/** The library a workload runs on: gradgraph, or TensorFlow.js on one of its backends. */
export type Impl = "gradgraph" | "tfjs-cpu" | "tfjs-wasm";

/** One benchmarked configuration. */
export interface Workload {
  /** Stable identifier, used as the key in the JSON output. */
  readonly id: string;
  /** What is measured (first column of the table). */
  readonly bench: string;
  /** Shape, dtype and size of the case. */
  readonly label: string;
  readonly unit: Unit;
  /** Graph nodes per iteration (`ns/node`) or floating-point operations per iteration (`GFLOP/s`). */
  readonly work: number;
  /** The library measured (default gradgraph). */
  readonly impl?: Impl;
  /**
   * Samples to keep (default: one per round). Slow workloads take fewer, spread evenly over the
   * rounds, and sit out the discarded warm-up rounds.
   */
  readonly samples?: number;
  /** Least number of warm-up iterations (default 3); slow workloads, already tiered up inside one call, use 1. */
  readonly warmupIters?: number;
  /**
   * Runs outside the timed region before the warm-up and before every sample, e.g. to make the
   * workload's TensorFlow.js backend the active one.
   */
  prepare?(): Promise<void>;
  /** Runs `iters` iterations; returns a value derived from the results so nothing is dead code. */
  run(iters: number): number;
  /**
   * When present, used instead of `run` for timing: runs `iters` iterations and returns the
   * nanoseconds spent in the measured part of each (e.g. backward, timed around the call, with
   * the forward that must precede it untimed), plus a value derived from the results.
   */
  runPart?(iters: number): { ns: number; value: number };
}

// ---------------------------------------------------------------------------------------------
// Measurement (shared by run.ts and focused.ts)

/** Keeps the workloads' results alive so the JIT cannot drop the work; checked at the end. */
let sink = 0;

/** Times `iters` iterations of `w`, in nanoseconds. */
export function timeIters(w: Workload, iters: number): number {
  if (w.runPart !== undefined) {
    const { ns, value } = w.runPart(iters);
    sink += value;
    return ns;
  }
  const t0 = performance.now();
  sink += w.run(iters);
  return (performance.now() - t0) * 1e6;
}

/** Converts a timed sample to the workload's unit. */
export function toUnit(w: Workload, ns: number, iters: number): number {
  switch (w.unit) {
    case "ns/node":
      return ns / (iters * w.work);
    case "GFLOP/s":
      return (w.work * iters) / ns;
    case "µs/step":
      return ns / iters / 1e3;
    case "ms/step":
    case "ms/run":
      return ns / iters / 1e6;
  }
}

/** What the timed runs returned, summed: not finite when a workload's result was broken. */
export function sinkValue(): number {
  return sink;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
