/**
 * The spiral job's training loop, the workload that bench/nn.ts times in Node.js and the
 * playground's browser benchmark (apps/playground/bench) times in Chromium: one definition, so
 * both measure the same job. Browser-safe: no Node.js module, no `process`.
 */
import type { FloatDType, Tensor } from "@gradgraph/core";
import { SGD, Trainer, TwoLayerNet } from "@gradgraph/nn";

/** What the job is, for the tables' label column. */
export const SPIRAL_JOB = "3,000 SGD steps, 2-10-3, batch 30";

/**
 * One run of the job with gradgraph's Trainer: a fresh 2-10-3 net (weights from `seed`), SGD lr
 * 1.0, 300 epochs of 10 shuffled mini-batches of 30 (shuffles from `seed`), silent.
 * @param x - the 300×2 spiral points, `t` their one-hot labels (`loadSpiral({ seed: 1984, dtype })`).
 * @returns the last averaged loss (so the run is not dead code).
 */
export function gradgraphSpiralRun(x: Tensor, t: Tensor, seed: number, dtype: FloatDType): number {
  const tr = new Trainer(new TwoLayerNet(2, 10, 3, { seed, dtype }), new SGD({ lr: 1 }));
  tr.fit(x, t, { maxEpoch: 300, batchSize: 30, evalInterval: 10, seed, output: null });
  return tr.lossList.at(-1)!;
}
