/**
 * Soak benchmark (not a test): trains the spiral net (TwoLayerNet(2, 10, 3), SGD lr 1, batch 30)
 * for 100,000 steps in one `Trainer.fit` and checks that the heap does not grow: heapUsed after a
 * forced GC at the end of the warm-up (5,000 steps) and at the end must agree within 10%.
 *
 *   node --expose-gc --import tsx bench/soak.ts [--steps N] [--warmup N] [--tolerance 0.1]
 *
 * `--expose-gc` is required: without a forced collection, heapUsed measures garbage that the
 * collector has simply not got to yet, so the comparison would mean nothing.
 *
 * The Trainer keeps every step's loss in `batchLosses` (and one average per 20 steps in
 * `lossList`) by design; that history grows by a few bytes per step and is not a leak, so the
 * soak empties both at every epoch boundary and reports how many entries it dropped. Whatever
 * else grows (graph nodes, saved tensors, gradient buffers) is what the check catches.
 *
 * Prints the figures and writes them to out/soak.json; exits 1 when the heap grew (or shrank) by
 * more than the tolerance, 2 when the GC is not exposed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@gradgraph/core";
import { loadSpiral, SGD, Trainer, TwoLayerNet } from "@gradgraph/nn";

const BATCH = 30;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`soak: --${name} must be a positive number, got ${String(process.argv[i + 1])}`);
    process.exit(2);
  }
  return v;
}

const gcFn = (globalThis as { gc?: () => void }).gc;
if (typeof gcFn !== "function") {
  console.error(
    "soak: globalThis.gc is missing. Run with `node --expose-gc --import tsx bench/soak.ts`: the soak compares " +
      "heapUsed after forced collections, and without --expose-gc there is no way to force one, so the figures " +
      "would count garbage that simply has not been collected yet.",
  );
  process.exit(2);
}
const gc: () => void = gcFn;

/** heapUsed after several full collections (one pass can leave weakly held or finalizable objects). */
function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

const totalSteps = Math.floor(arg("steps", 100_000));
const warmupSteps = Math.floor(arg("warmup", 5_000));
const tolerance = arg("tolerance", 0.1);

const { x, t } = loadSpiral();
const rows = x.shape[0] ?? 0;
const itersPerEpoch = Math.floor(rows / BATCH);
const epochs = Math.ceil(totalSteps / itersPerEpoch);
const warmupEpochs = Math.ceil(warmupSteps / itersPerEpoch);
if (warmupEpochs >= epochs) {
  console.error(`soak: the warm-up (${warmupSteps} steps) must be shorter than the run (${totalSteps} steps)`);
  process.exit(2);
}

const trainer = new Trainer(new TwoLayerNet(2, 10, 3, { seed: 0 }), new SGD({ lr: 1 }));
const rng = new Rng(0);
let droppedHistory = 0;
let heapWarm = 0;
let rssWarm = 0;
let warmAt = 0;
const started = performance.now();

// The shuffle hook runs once per epoch inside the single fit call: it measures the heap at the end
// of the warm-up and empties the loss history (see the header comment).
const shuffle = (epoch: number): number[] => {
  droppedHistory += trainer.batchLosses.length + trainer.lossList.length;
  trainer.batchLosses.length = 0;
  trainer.lossList.length = 0;
  if (epoch === warmupEpochs) {
    heapWarm = settledHeap();
    rssWarm = process.memoryUsage().rss;
    warmAt = performance.now();
  }
  return rng.permutation(rows);
};

trainer.fit(x, t, { maxEpoch: epochs, batchSize: BATCH, output: null, shuffle });
droppedHistory += trainer.batchLosses.length + trainer.lossList.length;
trainer.batchLosses.length = 0;
trainer.lossList.length = 0;
const ended = performance.now();
const heapEnd = settledHeap();
const rssEnd = process.memoryUsage().rss;

const steps = epochs * itersPerEpoch;
const measuredSteps = (epochs - warmupEpochs) * itersPerEpoch;
const ratio = heapEnd / heapWarm;
const ok = Math.abs(ratio - 1) <= tolerance;
const finalLoss = (() => {
  const l = trainer.model.forward(x, t).item();
  trainer.model.backward(); // release the graph of this evaluation
  return l;
})();

const result = {
  steps,
  warmupSteps: warmupEpochs * itersPerEpoch,
  batchSize: BATCH,
  heapUsedWarm: heapWarm,
  heapUsedEnd: heapEnd,
  ratio,
  tolerance,
  ok,
  bytesPerStep: (heapEnd - heapWarm) / measuredSteps,
  rssWarm,
  rssEnd,
  seconds: (ended - started) / 1000,
  microsecondsPerStep: ((ended - warmAt) * 1000) / measuredSteps,
  finalLoss,
  droppedHistoryEntries: droppedHistory,
  node: process.version,
};

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;
console.log(`soak: ${steps} steps (${result.warmupSteps} warm-up) in ${result.seconds.toFixed(1)} s`);
console.log(`  heapUsed after warm-up: ${mb(heapWarm)} (${heapWarm} B)`);
console.log(`  heapUsed at the end:    ${mb(heapEnd)} (${heapEnd} B)`);
console.log(`  ratio end / warm-up:    ${ratio.toFixed(4)} (tolerance ±${tolerance})`);
console.log(`  growth per step:        ${result.bytesPerStep.toFixed(3)} B`);
console.log(`  rss warm-up / end:      ${mb(rssWarm)} / ${mb(rssEnd)}`);
console.log(
  `  time per step:          ${result.microsecondsPerStep.toFixed(1)} µs; final loss ${finalLoss.toFixed(4)}`,
);

const outPath = join(dirname(fileURLToPath(import.meta.url)), "..", "out", "soak.json");
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
console.log(`  written to ${outPath}`);

if (!ok) {
  console.error(
    `soak: FAILED: heapUsed went from ${heapWarm} to ${heapEnd} B (ratio ${ratio.toFixed(4)}), more than ${tolerance * 100}% apart`,
  );
  process.exit(1);
}
