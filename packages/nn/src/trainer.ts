/**
 * The seed's Trainer: shuffles every epoch, runs mini-batches forward → backward → update, prints
 * `| epoch 1 | iter 10 / 10 | time 0[s] | loss 1.10` every `evalInterval` iterations, and keeps
 * the averaged losses in `lossList`.
 */
import {
  ArgumentError,
  assertFloatTensor,
  describeValue,
  fmtShape,
  isTensor,
  Rng,
  type Seed,
  ShapeError,
  type Tensor,
} from "@gradgraph/core";
import { getItem, type Labels } from "@gradgraph/nodes";
import {
  checkModelLike,
  frozenError,
  isArray,
  isCallable,
  isInt32Array,
  notAnInstance,
  optionsIn,
  positiveIntIn,
  seedIn,
} from "./checks.js";
import type { Model } from "./models.js";
import { clipGradNorm, type Optimizer } from "./optim/index.js";

/** Where progress goes: a stream with `write` (and `isTTY` for the progress bar). */
export interface ProgressOutput {
  /** Receives each progress line (ending in a newline), and the bar's redraws on a terminal. */
  write(text: string): unknown;
  /**
   * True for a terminal: `fit` then draws a progress bar, redrawn in place with `\r` and ANSI
   * line clears, with the loss lines printed above it.
   */
  isTTY?: boolean;
  /**
   * The terminal's width in columns (a Node.js TTY stream's `columns`), read at every redraw;
   * the bar never reaches the last column. Default 80. Node.js updates `columns` on SIGWINCH from
   * the event loop, which a synchronous `fit` blocks: so before each redraw the bar asks a
   * Node.js TTY stream to re-read its size (`_refreshSize()`, what Node.js's own SIGWINCH handler
   * calls), and a resize during training is seen at once.
   */
  columns?: number;
}

/** Options of `Trainer.fit`. */
export interface FitOptions {
  /** Epochs (default 10). */
  maxEpoch?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Print and record the average loss every this many iterations (default 20). */
  evalInterval?: number;
  /**
   * Seed of the per-epoch shuffles (default 0): a safe integer or a BigInt, as `Rng` takes. The same seed gives the same
   * run, bit for bit.
   */
  seed?: Seed;
  /** Clip the global gradient norm to this value before each update. */
  maxGrad?: number;
  /** Custom order of the rows for each epoch (e.g. the book's recorded shuffles); overrides `seed`. */
  shuffle?: (epoch: number) => ArrayLike<number>;
  /**
   * Where progress goes: default `process.stdout` in Node.js, and elsewhere (a browser) the
   * console, one `console.log` per line; `null` for silence.
   */
  output?: ProgressOutput | null;
}

/** `process.stdout` where there is one (Node.js), else lines to `console.log` (a browser). */
function defaultOutput(): ProgressOutput {
  const stdout = (globalThis as { process?: { stdout?: ProgressOutput } }).process?.stdout;
  if (stdout !== undefined && typeof stdout.write === "function") return stdout;
  return { write: (s: string) => console.log(s.replace(/\n$/, "")) };
}

/** The brand check of Trainer (its private field), set in Trainer's static block. */
let isTrainer: (value: object) => boolean;

/** Trains a model with an optimizer, as the book's `Trainer` does. */
export class Trainer {
  /** The brand: a fake or proxied Trainer lacks it. */
  readonly #brand = true;

  static {
    isTrainer = (v) => #brand in v;
  }

  /** The model trained: `fit` calls its `forward` and `backward` on each mini-batch. */
  readonly model: Model;
  /** The optimizer that updates `model.params` from `model.grads` after each backward. */
  readonly optimizer: Optimizer;
  /** Average losses, one per `evalInterval` iterations (the book's `loss_list`). */
  lossList: number[] = [];
  /** Every iteration's batch loss, computed before that iteration's update. */
  batchLosses: number[] = [];
  /** Epochs completed over all calls to `fit`. */
  currentEpoch = 0;

  /**
   * A trainer of `model` with `optimizer`; its loss records start empty and its epoch count at 0.
   * @throws ArgumentError naming `Trainer` when `model` is not a model (params and grads arrays,
   *   forward and backward methods) or `optimizer` has no `update` method.
   */
  constructor(model: Model, optimizer: Optimizer) {
    checkModelLike("Trainer", "model", model);
    if (optimizer === null || typeof optimizer !== "object" || !isCallable(optimizer.update)) {
      throw new ArgumentError(
        "Trainer",
        `Trainer: optimizer must have an update(params, grads) method, got ${describeValue(optimizer)}`,
      );
    }
    this.model = model;
    this.optimizer = optimizer;
  }

  /**
   * Trains on `x` (N×D) and labels `t` (N×C one-hot, or N class indices). A class index the
   * loss layer ignores (its `ignoreIndex`, e.g. PyTorch's −100) may be any integer, negative too.
   * @throws ArgumentError naming `Trainer.fit` and the argument for an x that is not a Tensor,
   *   sizes that are not positive integers, a `batchSize` larger than N, class indices that are
   *   not integers, a `seed` that `Rng` refuses, a `maxGrad` that is not a number > 0, a `shuffle` that
   *   is not a function or returns anything but enough integer row indices in [0, N), an `output`
   *   without a `write` method, or an unknown option; ShapeError when labels and rows disagree;
   *   and the model's errors for batches it rejects (e.g. class indices out of range).
   *   An `x` or `t` that requires grad is used detached: training never differentiates the data.
   *   ArgumentError also when called on something that is not a Trainer, or on a frozen one
   *   (or one whose `lossList` or `batchLosses` is frozen or not an array), before any training.
   */
  fit(x: Tensor, t: Labels, options: FitOptions = {}): this {
    checkTrainerThis(this);
    assertFloatTensor("Trainer.fit", "x", x);
    options = checkFitOptions(options);
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
    const out = options.output === undefined ? defaultOutput() : options.output;
    const bar = out?.isTTY === true ? new ProgressBar(out, maxEpoch * maxIters) : null;
    const rng = new Rng(options.seed ?? 0);
    // the data are constants of training: a tensor that requires grad (or came out of a recorded
    // graph) would have each step backpropagate into it, and the second into a freed graph
    if (x.requiresGrad) x = x.detach();
    if (isTensor(t) && t.requiresGrad) t = t.detach();
    const labelArray = isTensor(t) ? null : Int32Array.from(t);
    let totalLoss = 0;
    let lossCount = 0;
    const start = performance.now();
    const idx = new Int32Array(batchSize);
    try {
      for (let epoch = 0; epoch < maxEpoch; epoch++) {
        const order = options.shuffle
          ? checkOrder(options.shuffle(this.currentEpoch), this.currentEpoch, maxIters * batchSize, dataSize)
          : rng.permutation(dataSize);
        for (let iter = 0; iter < maxIters; iter++) {
          for (let k = 0; k < batchSize; k++) idx[k] = order[iter * batchSize + k]!;
          const bx = getItem(x, idx);
          let bt: Labels;
          if (labelArray === null) bt = getItem(t as Tensor, idx);
          else {
            // a plain array: a fresh Int32Array over 64 bytes (off-heap) or Int32Array.from with a map
            // function each cost about a microsecond per batch
            const labels: number[] = [];
            for (let k = 0; k < batchSize; k++) labels.push(labelArray[idx[k]!]!);
            bt = labels;
          }
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
    } finally {
      bar?.done(); // also when a step throws: no bar is left on the screen above the error
    }
    return this;
  }
}

/**
 * Throws unless `self` is a Trainer that `fit` can update: its epoch count writable and its loss
 * records extensible arrays (each checked by trying, before any training).
 */
function checkTrainerThis(self: unknown): asserts self is Trainer {
  const fn = "Trainer.fit";
  if (typeof self !== "object" || self === null || !isTrainer(self)) throw notAnInstance(fn, "Trainer", self);
  const trainer = self as Trainer;
  try {
    // biome-ignore lint/correctness/noSelfAssign: the write is the test
    trainer.currentEpoch = trainer.currentEpoch;
  } catch {
    throw frozenError(fn, "the trainer");
  }
  if (typeof trainer.currentEpoch !== "number" || !Number.isSafeInteger(trainer.currentEpoch)) {
    throw new ArgumentError(fn, `${fn}: currentEpoch must be an integer, got ${describeValue(trainer.currentEpoch)}`);
  }
  for (const name of ["lossList", "batchLosses"] as const) {
    const list: unknown = trainer[name];
    if (!isArray(list) || !Object.isExtensible(list)) {
      throw new ArgumentError(
        fn,
        `${fn}: the trainer's ${name} must be an array it can append to, got ${isArray(list) ? "a frozen, sealed or non-extensible array" : describeValue(list)}`,
      );
    }
  }
}

function positiveInt(name: string, v: unknown): number {
  return positiveIntIn("Trainer.fit", name, v);
}

const FIT_OPTIONS = ["maxEpoch", "batchSize", "evalInterval", "seed", "maxGrad", "shuffle", "output"] as const;

/** `fit`'s options: an object of known keys whose seed, maxGrad, shuffle and output are usable. */
function checkFitOptions(options: unknown): FitOptions {
  const fn = "Trainer.fit";
  const o = optionsIn<FitOptions>(fn, options, FIT_OPTIONS);
  seedIn(fn, o.seed, 0);
  if (o.maxGrad !== undefined && (typeof o.maxGrad !== "number" || !(o.maxGrad > 0))) {
    throw new ArgumentError(fn, `${fn}: maxGrad must be a number > 0, got ${describeValue(o.maxGrad)}`);
  }
  if (o.shuffle !== undefined && !isCallable(o.shuffle)) {
    const got = typeof o.shuffle === "function" ? "a class (it needs new)" : describeValue(o.shuffle);
    throw new ArgumentError(fn, `${fn}: shuffle must be a function of the epoch, got ${got}`);
  }
  const out: unknown = o.output;
  if (out !== undefined && out !== null && (typeof out !== "object" || !isCallable((out as ProgressOutput).write))) {
    throw new ArgumentError(fn, `${fn}: output must be null or have a write(text) method, got ${describeValue(out)}`);
  }
  return o;
}

/** A custom epoch order: at least `need` integer row indices in [0, rows). */
function checkOrder(order: unknown, epoch: number, need: number, rows: number): ArrayLike<number> {
  const fn = "Trainer.fit";
  const o = order as ArrayLike<unknown> | null | undefined;
  if (o === null || typeof o !== "object" || typeof o.length !== "number") {
    throw new ArgumentError(
      fn,
      `${fn}: shuffle(${epoch}) must return an array of row indices, got ${describeValue(order)}`,
    );
  }
  if (o.length < need) {
    throw new ShapeError(fn, `${fn}: shuffle(${epoch}) gave ${o.length} indices for ${rows} rows`);
  }
  for (let i = 0; i < need; i++) {
    const k = o[i];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= rows) {
      throw new ArgumentError(
        fn,
        `${fn}: shuffle(${epoch})[${i}] is ${describeValue(k)}; row indices must be integers in [0, ${rows})`,
      );
    }
  }
  return o as ArrayLike<number>;
}

function checkLabels(t: Labels, rows: number): void {
  if (!(isTensor(t) || isArray(t) || isInt32Array(t))) {
    throw new ArgumentError(
      "Trainer.fit",
      `Trainer.fit: t must be a Tensor, an array or an Int32Array of labels, got ${describeValue(t)}`,
    );
  }
  const n = isTensor(t) ? t.shape[0] : (t as ArrayLike<number> | undefined)?.length;
  if (n !== rows) {
    const what = isTensor(t) ? `labels of shape ${fmtShape(t.shape)}` : `${String(n)} labels`;
    throw new ShapeError("Trainer.fit", `Trainer.fit: ${what} for ${rows} rows of x`);
  }
  if (!isTensor(t)) {
    // the rows are gathered into an Int32Array, which would turn "1", 1.5 or a hole into a valid
    // index; a negative integer is the loss layer's to judge (its ignoreIndex, PyTorch's −100)
    for (let i = 0; i < rows; i++) {
      const k: unknown = t[i];
      if (typeof k !== "number" || !Number.isInteger(k) || k < -(2 ** 31) || k > 2 ** 31 - 1) {
        throw new ArgumentError(
          "Trainer.fit",
          `Trainer.fit: t[${i}] is ${describeValue(k)}; class indices must be integers (32-bit)`,
        );
      }
    }
  }
}

/** Widest bar, in `#` and `-` cells. */
const BAR_CELLS = 30;
/** Narrowest bar drawn; below it only the percentage and the epoch are shown. */
const MIN_BAR_CELLS = 10;

/**
 * A one-line progress bar for terminals, redrawn in place; the seed's lines print above it.
 *
 * It always fits the terminal: the line is at most `columns − 1` characters (so the cursor never
 * reaches the last column, where terminals wrap or hold a pending wrap), the bar shrinks with the
 * width and disappears below `MIN_BAR_CELLS`, leaving the percentage and epoch, cut to fit. The
 * width is read at every redraw. After the terminal got narrower than the last line drawn, that
 * line was reflowed onto several rows (as xterm.js, VTE, iTerm2, Windows Terminal and tmux do):
 * the redraw moves up to the first of them and clears to the end of the screen, so no fragment
 * of an old bar stays behind.
 */
class ProgressBar {
  readonly #out: ProgressOutput;
  readonly #total: number;
  #done = 0;
  /** The last text drawn: a new one is written only when it differs. */
  #shown = "";
  /** Its length on screen (0: nothing is drawn). */
  #drawnLength = 0;
  #epoch = 0;
  #maxEpoch = 0;

  constructor(out: ProgressOutput, total: number) {
    this.#out = out;
    this.#total = total;
  }

  /** The terminal width now: the stream's `columns` after a refresh (see `ProgressOutput`), else 80. */
  #columns(): number {
    const out = this.#out as ProgressOutput & { _refreshSize?: unknown };
    if (typeof out._refreshSize === "function") {
      try {
        out._refreshSize();
      } catch {
        // not a terminal any more (e.g. closed): the last known width
      }
    }
    const cols: unknown = out.columns;
    return typeof cols === "number" && Number.isInteger(cols) && cols > 0 ? cols : 80;
  }

  /** The bar's text for a terminal `columns` wide: at most `columns − 1` characters. */
  #render(columns: number): string {
    const room = Math.max(columns - 1, 1);
    const pct = Math.floor((100 * this.#done) / this.#total);
    const status = `${String(pct).padStart(3)}% epoch ${this.#epoch}/${this.#maxEpoch}`;
    const cells = Math.min(BAR_CELLS, room - status.length - 3);
    if (cells < MIN_BAR_CELLS) return status.trimStart().slice(0, room);
    const filled = Math.round((cells * this.#done) / this.#total);
    return `[${"#".repeat(filled)}${"-".repeat(cells - filled)}] ${status}`;
  }

  /**
   * What erases the bar now on screen: a carriage return and a line clear, or, when the terminal
   * got narrower and reflowed it onto several rows, a move up to its first row and a clear to the
   * end of the screen. The cursor ends at the start of the bar's (first) row.
   */
  #erase(columns: number): string {
    if (this.#drawnLength === 0) return "\r\x1b[K";
    const rows = Math.ceil(this.#drawnLength / columns);
    return rows > 1 ? `\x1b[${rows - 1}A\r\x1b[J` : "\r\x1b[K";
  }

  #draw(force: boolean): void {
    const columns = this.#columns();
    const text = this.#render(columns);
    const reflowed = this.#drawnLength > columns - 1;
    if (!force && !reflowed && text === this.#shown) return;
    this.#out.write(`${this.#erase(columns)}${text}`);
    this.#shown = text;
    this.#drawnLength = text.length;
  }

  tick(epoch: number, maxEpoch: number): void {
    this.#done++;
    this.#epoch = epoch;
    this.#maxEpoch = maxEpoch;
    this.#draw(false);
  }

  /** Prints a loss line above the bar: erases the bar, writes the line, draws the bar again. */
  line(text: string): void {
    this.#out.write(`${this.#erase(this.#columns())}${text}`);
    this.#drawnLength = 0;
    this.#shown = "";
    if (this.#done > 0) this.#draw(true);
  }

  /** Erases the bar: the cursor ends at the start of an empty row. */
  done(): void {
    this.#out.write(this.#erase(this.#columns()));
    this.#drawnLength = 0;
    this.#shown = "";
  }
}
