/**
 * The main job (`npm start`): trains the seed's TwoLayerNet on the spiral data set with the
 * seed's hyper-parameters, prints progress, the final loss and training accuracy, and writes to
 * `out/spiral/`: `loss.json`, `model.safetensors`, `model.onnx` (the trained net for ONNX
 * Runtime, any batch size), the loss curve and decision boundary
 * (`loss.svg`, `boundary.svg`), the recorded graph (`graph.dot`, `graph.svg`) and `report.html`.
 *
 * Everything that can be checked is checked before training: the flags (args.ts), then the output
 * folder (outdir.ts), which is created at once. Every file is written atomically. An error ends
 * the run with one line on stderr (and `run with --help for usage` after a usage error), exit
 * code 2 for usage errors and 1 for the rest; `--verbose` adds the stack trace.
 */
import { join } from "node:path";
import { GradgraphError, noGrad } from "@gradgraph/core";
import {
  accuracy,
  createOptimizer,
  loadSpiral,
  type ProgressOutput,
  saveParams,
  Trainer,
  TwoLayerNet,
  writeFileAtomic,
} from "@gradgraph/nn";
import { DEFAULT_LR, parseJobArgs, type SpiralJobOptions, USAGE, UsageError } from "./args.js";
import { OutputError, prepareOutputDir, reason, removeCreated } from "./outdir.js";

export {
  DEFAULT_LR,
  LIMITS,
  parseJobArgs,
  SPIRAL_POINTS,
  type SpiralJobOptions,
  TUNED_LR,
  USAGE,
  UsageError,
} from "./args.js";
export { type OutputDir, OutputError, prepareOutputDir } from "./outdir.js";

/** Training ended with a loss that is not finite (too large a learning rate): exit code 1. */
export class TrainingError extends GradgraphError {
  /** A training failure of the spiral job (`op` is `"spiral"`). */
  constructor(message: string) {
    super("spiral", message);
  }
}

/** What a run produced. */
export interface SpiralJobResult {
  /** The settings it ran with. */
  options: SpiralJobOptions;
  /** The trainer, with its loss records. */
  trainer: Trainer;
  /** The trained net. */
  model: TwoLayerNet;
  /** The loss on the whole data set after training. */
  finalLoss: number;
  /** The training accuracy, in [0, 1]. */
  accuracy: number;
  /** Milliseconds spent in `Trainer.fit`. */
  trainingMs: number;
  /** The files written: always `loss`, `model` and `onnx`; the figures and the page unless `report` was off. */
  files: {
    loss: string;
    model: string;
    /** `model.onnx`: the trained net's `predict` as an ONNX model (opset 17, any batch size). */
    onnx: string;
    lossPlot?: string;
    boundary?: string;
    dot?: string;
    graph?: string;
    report?: string;
  };
}

/** The first line of a run: the net, the optimizer with its effective learning rate, the rest. */
export function describeRun(o: SpiralJobOptions): string {
  const lr = o.lr === DEFAULT_LR[o.optimizer] ? `lr ${o.lr} (default)` : `lr ${o.lr}`;
  return `spiral: TwoLayerNet(2, ${o.hidden}, 3), ${o.optimizer} ${lr}, batch ${o.batch}, ${o.epochs} epochs, ${o.dtype}, seed ${o.seed}`;
}

/**
 * Runs the spiral job: checks and creates the output folder, prints the run's first line, then
 * data, model, training (progress to `output`), evaluation and the files, each written
 * atomically. When it fails, the folders it created are removed again if still empty.
 * @throws OutputError for a bad `options.out` (before anything else happens) or a file that
 *   cannot be written; TrainingError when the final loss is not finite; UsageError for a batch
 *   larger than the data.
 */
export async function runSpiralJob(
  options: SpiralJobOptions,
  output: ProgressOutput | null = process.stdout,
): Promise<SpiralJobResult> {
  const startedAt = new Date();
  const started = performance.now();
  const { dir, created } = prepareOutputDir(options.out);
  try {
    output?.write(`${describeRun(options)}\n`);
    const { x, t, labels } = loadSpiral({ seed: options.seed, dtype: options.dtype });
    if (options.batch > x.shape[0]!) {
      throw new UsageError(`--batch ${options.batch} is larger than the ${x.shape[0]} data points`);
    }
    const model = new TwoLayerNet(2, options.hidden, 3, { seed: options.seed, dtype: options.dtype });
    const trainer = new Trainer(model, createOptimizer(options.optimizer, { lr: options.lr }));
    const fitStart = performance.now();
    trainer.fit(x, t, {
      maxEpoch: options.epochs,
      batchSize: options.batch,
      evalInterval: 10,
      seed: options.seed,
      output,
    });
    const trainingMs = performance.now() - fitStart;
    const finalLoss = noGrad(() => model.forward(x, t).item());
    if (!Number.isFinite(finalLoss)) {
      throw new TrainingError(
        `training diverged: the final loss is ${finalLoss} (${options.optimizer} at lr ${options.lr}); try a smaller --lr`,
      );
    }
    const acc = accuracy(model, x, t);
    const lossFile = join(dir, "loss.json");
    const { verbose: _, ...settings } = options;
    writeOutput(
      lossFile,
      `${JSON.stringify({ options: settings, evalInterval: 10, lossList: trainer.lossList, finalLoss, accuracy: acc }, bigintAsString, 1)}\n`,
    );
    const modelFile = join(dir, "model.safetensors");
    const [W1, b1, W2, b2] = model.params;
    const named = { W1: W1!, b1: b1!, W2: W2!, b2: b2! };
    writeOutput(modelFile, named);
    // the same net for ONNX Runtime: predict exported with the batch axis left dynamic (loaded
    // here, like the report's viz: a failed run never pays for it)
    const onnxFile = join(dir, "model.onnx");
    const { exportModel, saveOnnx } = await import("@gradgraph/onnx");
    const onnxBytes = exportModel(model, x, { paramNames: ["W1", "b1", "W2", "b2"], dynamicAxes: { 0: "batch" } });
    writeOutput(onnxFile, onnxBytes, saveOnnx);
    const result: SpiralJobResult = {
      options,
      trainer,
      model,
      finalLoss,
      accuracy: acc,
      trainingMs,
      files: { loss: lossFile, model: modelFile, onnx: onnxFile },
    };
    if (!options.report) return result;
    // viz (vega, Graphviz) is loaded only here: the job without the report does not pay for it
    const { writeReport } = await import("./report.js");
    result.files = {
      ...result.files,
      ...(await writeReport({ ...result, dir, x, labels, params: named, startedAt, started, write: writeOutput })),
    };
    return result;
  } catch (e) {
    removeCreated(created);
    throw e;
  }
}

/**
 * Writes one output file atomically: text as UTF-8, named tensors as a checkpoint, or bytes with
 * `saveBytes` (onnx's `saveOnnx`).
 */
function writeOutput(
  file: string,
  content: string | Uint8Array | Parameters<typeof saveParams>[1],
  saveBytes?: (file: string, bytes: Uint8Array) => void,
): void {
  try {
    if (typeof content === "string") writeFileAtomic(file, content);
    else if (content instanceof Uint8Array) (saveBytes ?? writeFileAtomic)(file, content);
    else saveParams(file, content);
  } catch (e) {
    const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
    throw new OutputError(`cannot write ${file}: ${reason(cause)}`, { cause: e });
  }
}

/**
 * Entry point: parses `argv`, runs the job, reports; returns the exit code. Never throws: every
 * error becomes one line on `err` (`error: …`), followed by `run with --help for usage` for a
 * usage error (exit code 2), or by the stack trace with `--verbose` for any other (exit code 1).
 */
export async function main(
  argv: readonly string[],
  out: ProgressOutput = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  let verbose = argv.includes("--verbose");
  try {
    const options = parseJobArgs(argv);
    if (options === "help") {
      out.write(USAGE);
      return 0;
    }
    verbose = options.verbose === true;
    const r = await runSpiralJob(options, out);
    out.write(`final loss ${r.finalLoss.toFixed(4)}, training accuracy ${(100 * r.accuracy).toFixed(1)}%\n`);
    for (const f of Object.values(r.files)) out.write(`wrote ${f}\n`);
    return 0;
  } catch (e) {
    err.write(`error: ${oneLine(e)}\n`);
    if (e instanceof UsageError) {
      err.write("run with --help for usage\n");
      return 2;
    }
    if (verbose) err.write(stackText(e));
    return 1;
  }
}

/** An error's message on one line; the class name too for errors that are not gradgraph's. */
export function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const text = message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join(" ");
  if (e instanceof GradgraphError || !(e instanceof Error)) return text;
  return (e as { code?: unknown }).code !== undefined || e.name === "Error" ? text : `${e.name}: ${text}`;
}

/** The stack of `e` and of each `cause`, for `--verbose`. */
function stackText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const text = cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : String(cur);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return `${parts.join("\n")}\n`;
}

/** JSON for a seed beyond the safe integers: its decimal digits, as a string. */
function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
