/**
 * The seed's Trainer: shuffles every epoch, runs mini-batches forward → backward → update, prints
 * `| epoch 1 | iter 10 / 10 | time 0[s] | loss 1.10` every `evalInterval` iterations, and keeps
 * the averaged losses in `lossList`.
 */
import { ArgumentError, assertTensor, describeValue, fmtShape, Rng, ShapeError, Tensor } from "@gradgraph/core";
import { getItem, type Labels } from "@gradgraph/nodes";
import type { Model } from "./models.js";
import { clipGradNorm, type Optimizer } from "./optim/index.js";

/** Where progress goes: a stream with `write` (and `isTTY` for the progress bar). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Options of `Trainer.fit`. */
export interface FitOptions {
  /** Epochs (default 10). */
  maxEpoch?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Print and record the average loss every this many iterations (default 20). */
  evalInterval?: number;
  /** Seed of the per-epoch shuffles (default 0): the same seed gives the same run, bit for bit. */
  seed?: number;
  /** Clip the global gradient norm to this value before each update. */
  maxGrad?: number;
  /** Custom order of the rows for each epoch (e.g. the book's recorded shuffles); overrides `seed`. */
  shuffle?: (epoch: number) => ArrayLike<number>;
  /** Where progress goes (default `process.stdout`); `null` for silence. */
  output?: ProgressOutput | null;
}

/** Trains a model with an optimizer, as the book's `Trainer` does. */
export class Trainer {
  readonly model: Model;
  readonly optimizer: Optimizer;
  /** Average losses, one per `evalInterval` iterations (the book's `loss_list`). */
  lossList: number[] = [];
  /** Every iteration's batch loss, computed before that iteration's update. */
  batchLosses: number[] = [];
  /** Epochs completed over all calls to `fit`. */
  currentEpoch = 0;

  constructor(model: Model, optimizer: Optimizer) {
    this.model = model;
    this.optimizer = optimizer;
  }

  /**
   * Trains on `x` (N×D) and labels `t` (N×C one-hot, or N class indices).
   * @throws ArgumentError for non-positive sizes; ShapeError when labels and rows disagree.
   */
  fit(x: Tensor, t: Labels, options: FitOptions = {}): this {
    assertTensor("Trainer.fit", "x", x);
    const maxEpoch = positiveInt("maxEpoch", options.maxEpoch ?? 10);
    const batchSize = positiveInt("batchSize", options.batchSize ?? 32);
    const evalInterval = positiveInt("evalInterval", options.evalInterval ?? 20);
    const dataSize = x.shape[0] ?? 0;
    checkLabels(t, dataSize);
    const maxIters = Math.floor(dataSize / batchSize);
    if (maxIters === 0) {
      throw new ArgumentError(
        "Trainer.fit",
        `Trainer.fit: batchSize ${batchSize} is larger than the ${dataSize} rows of x`,
      );
    }
    const out = options.output === undefined ? process.stdout : options.output;
    const bar = out?.isTTY === true ? new ProgressBar(out, maxEpoch * maxIters) : null;
    const rng = new Rng(options.seed ?? 0);
    const labelArray = t instanceof Tensor ? null : Int32Array.from(t);
    let totalLoss = 0;
    let lossCount = 0;
    const start = performance.now();
    const idx = new Int32Array(batchSize);
    for (let epoch = 0; epoch < maxEpoch; epoch++) {
      const order = options.shuffle ? options.shuffle(this.currentEpoch) : rng.permutation(dataSize);
      if (order.length < maxIters * batchSize) {
        throw new ShapeError(
          "Trainer.fit",
          `Trainer.fit: shuffle(${this.currentEpoch}) gave ${order.length} indices for ${dataSize} rows`,
        );
      }
      for (let iter = 0; iter < maxIters; iter++) {
        for (let k = 0; k < batchSize; k++) idx[k] = order[iter * batchSize + k]!;
        const bx = getItem(x, idx);
        const bt: Labels =
          labelArray === null ? getItem(t as Tensor, idx) : Int32Array.from(idx, (i) => labelArray[i]!);
        const loss = this.model.forward(bx, bt);
        this.model.backward();
        if (options.maxGrad !== undefined) clipGradNorm(this.model.grads, options.maxGrad);
        this.optimizer.update(this.model.params, this.model.grads);
        const l = loss.item();
        this.batchLosses.push(l);
        totalLoss += l;
        lossCount++;
        if ((iter + 1) % evalInterval === 0) {
          const avg = totalLoss / lossCount;
          const elapsed = (performance.now() - start) / 1000;
          const line = `| epoch ${this.currentEpoch + 1} | iter ${iter + 1} / ${maxIters} | time ${Math.floor(elapsed)}[s] | loss ${avg.toFixed(2)}\n`;
          if (bar) bar.line(line);
          else out?.write(line);
          this.lossList.push(avg);
          totalLoss = 0;
          lossCount = 0;
        }
        bar?.tick(this.currentEpoch + 1, maxEpoch);
      }
      this.currentEpoch++;
    }
    bar?.done();
    return this;
  }
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError("Trainer.fit", `Trainer.fit: ${name} must be a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

function checkLabels(t: Labels, rows: number): void {
  const n = t instanceof Tensor ? t.shape[0] : (t as ArrayLike<number> | undefined)?.length;
  if (n !== rows) {
    const what = t instanceof Tensor ? `labels of shape ${fmtShape(t.shape)}` : `${String(n)} labels`;
    throw new ShapeError("Trainer.fit", `Trainer.fit: ${what} for ${rows} rows of x`);
  }
}

/** A one-line progress bar for terminals, redrawn in place; the seed's lines print above it. */
class ProgressBar {
  readonly #out: ProgressOutput;
  readonly #total: number;
  #done = 0;
  #last = -1;

  constructor(out: ProgressOutput, total: number) {
    this.#out = out;
    this.#total = total;
  }

  tick(epoch: number, maxEpoch: number): void {
    this.#done++;
    const pct = Math.floor((100 * this.#done) / this.#total);
    if (pct === this.#last) return;
    this.#last = pct;
    const width = 30;
    const filled = Math.round((width * this.#done) / this.#total);
    this.#out.write(`\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct}% epoch ${epoch}/${maxEpoch}`);
  }

  line(text: string): void {
    this.#out.write(`\r\x1b[K${text}`);
    this.#last = -1;
  }

  done(): void {
    this.#out.write("\r\x1b[K");
  }
}
