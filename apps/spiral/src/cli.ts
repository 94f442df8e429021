/**
 * The main job (`npm start`): trains the seed's TwoLayerNet on the spiral data set with the
 * seed's hyper-parameters, prints progress, the final loss and training accuracy, and writes to
 * `out/spiral/`: `loss.json`, `model.safetensors`, the loss curve and decision boundary
 * (`loss.svg`, `boundary.svg`), the recorded graph (`graph.dot`, `graph.svg`) and `report.html`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type DType, noGrad } from "@gradgraph/core";
import {
  accuracy,
  createOptimizer,
  loadSpiral,
  OPTIMIZER_NAMES,
  type OptimizerName,
  saveParams,
  Trainer,
  TwoLayerNet,
} from "@gradgraph/nn";
import { getItem } from "@gradgraph/nodes";

/** The settings of one run, after parsing and validation. */
export interface SpiralJobOptions {
  epochs: number;
  hidden: number;
  lr: number;
  batch: number;
  optimizer: OptimizerName;
  dtype: DType;
  seed: number;
  out: string;
  /** Whether to draw the figures and write the report page (`--no-report` turns it off). */
  report: boolean;
}

/** What a run produced. */
export interface SpiralJobResult {
  options: SpiralJobOptions;
  trainer: Trainer;
  model: TwoLayerNet;
  finalLoss: number;
  accuracy: number;
  /** The files written: always `loss` and `model`; the figures and the page unless `report` was off. */
  files: {
    loss: string;
    model: string;
    lossPlot?: string;
    boundary?: string;
    dot?: string;
    graph?: string;
    report?: string;
  };
}

const USAGE = `usage: npm start -- [options]

Trains the two-layer net of "Deep Learning from Scratch 2", chapter 1, on the spiral data set.

  --epochs N       epochs (default 300)
  --hidden N       hidden units (default 10)
  --lr X           learning rate (default 1.0)
  --batch N        mini-batch size (default 30)
  --optimizer NAME ${OPTIMIZER_NAMES.join(" | ")} (default sgd)
  --dtype T        float32 | float64 (default float32)
  --seed N         seed of the data, the weights and the shuffles (default 1984)
  --out DIR        output folder (default out/spiral)
  --no-report      write only loss.json and model.safetensors (no figures, no report page)
  --help           this text
`;

/** A command-line problem: a message for the user and a non-zero exit. */
export class UsageError extends Error {}

/**
 * Parses the job's flags.
 * @throws UsageError naming the flag and the value for unknown flags or bad values.
 */
export function parseJobArgs(argv: readonly string[]): SpiralJobOptions | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return "help";
  const int = (name: string, s: string | undefined, dflt: number, min: number): number => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(s)}`);
    }
    return n;
  };
  const lr = v.lr === undefined ? 1.0 : Number(v.lr);
  if (!(Number.isFinite(lr) && lr > 0))
    throw new UsageError(`--lr must be a positive number, got ${JSON.stringify(v.lr)}`);
  const optimizer = (v.optimizer ?? "sgd") as OptimizerName;
  if (!OPTIMIZER_NAMES.includes(optimizer)) {
    throw new UsageError(
      `--optimizer must be one of ${OPTIMIZER_NAMES.join(", ")}, got ${JSON.stringify(v.optimizer)}`,
    );
  }
  const dtype = (v.dtype ?? "float32") as DType;
  if (dtype !== "float32" && dtype !== "float64") {
    throw new UsageError(`--dtype must be float32 or float64, got ${JSON.stringify(v.dtype)}`);
  }
  return {
    epochs: int("epochs", v.epochs, 300, 1),
    hidden: int("hidden", v.hidden, 10, 1),
    lr,
    batch: int("batch", v.batch, 30, 1),
    optimizer,
    dtype,
    seed: int("seed", v.seed, 1984, -(2 ** 31)),
    out: v.out ?? join("out", "spiral"),
    report: v["no-report"] !== true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      epochs: { type: "string" },
      hidden: { type: "string" },
      lr: { type: "string" },
      batch: { type: "string" },
      optimizer: { type: "string" },
      dtype: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "no-report": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/**
 * Runs the spiral job: data, model, training (progress to `output`), evaluation and the files.
 * @throws UsageError when the batch size exceeds the 300 points.
 */
export async function runSpiralJob(
  options: SpiralJobOptions,
  output: { write(s: string): unknown; isTTY?: boolean } | null = process.stdout,
): Promise<SpiralJobResult> {
  const { x, t, labels } = loadSpiral({ seed: options.seed, dtype: options.dtype });
  if (options.batch > x.shape[0]!)
    throw new UsageError(`--batch ${options.batch} is larger than the ${x.shape[0]} data points`);
  const model = new TwoLayerNet(2, options.hidden, 3, { seed: options.seed, dtype: options.dtype });
  const trainer = new Trainer(model, createOptimizer(options.optimizer, { lr: options.lr }));
  trainer.fit(x, t, {
    maxEpoch: options.epochs,
    batchSize: options.batch,
    evalInterval: 10,
    seed: options.seed,
    output,
  });
  const finalLoss = noGrad(() => model.forward(x, t).item());
  const acc = accuracy(model, x, t);
  const dir = resolve(options.out);
  mkdirSync(dir, { recursive: true });
  const lossFile = join(dir, "loss.json");
  writeFileSync(
    lossFile,
    `${JSON.stringify({ options, evalInterval: 10, lossList: trainer.lossList, finalLoss, accuracy: acc }, null, 1)}\n`,
  );
  const modelFile = join(dir, "model.safetensors");
  const [W1, b1, W2, b2] = model.params;
  const named = { W1: W1!, b1: b1!, W2: W2!, b2: b2! };
  saveParams(modelFile, named);
  if (!options.report)
    return { options, trainer, model, finalLoss, accuracy: acc, files: { loss: lossFile, model: modelFile } };

  // viz (vega, Graphviz) is loaded only here: the job without the report does not pay for it
  const { decisionBoundarySvg, groupsFromLayers, lossPlotSvg, renderReportHtml, renderSvg, snapshot, toDot } =
    await import("@gradgraph/viz");

  // figures: the loss curve, the decision boundary (the seed's figure 1-33), and the graph of one
  // recorded training step (a forward on the first mini-batch, then its backward, so gradients show)
  const lossSvg = await lossPlotSvg(trainer.lossList, {
    evalInterval: 10,
    title: "Training loss (average every 10 iterations)",
  });
  const boundarySvg = await decisionBoundarySvg({
    predict: (points) => model.predict(points),
    x,
    labels,
    title: "Decision boundary on the spiral data",
  });
  const batch = Int32Array.from({ length: options.batch }, (_, i) => i * Math.floor(x.shape[0]! / options.batch));
  const loss = model.forward(
    getItem(x, batch),
    Int32Array.from(batch, (i) => labels[i]!),
  );
  const graphSnapshot = snapshot(loss, { params: named, groups: groupsFromLayers(model.layers) });
  model.backward();
  const dot = toDot(graphSnapshot, { rankdir: "TB", showSaved: true, title: "TwoLayerNet: one training step" });
  const graphSvg = await renderSvg(dot);
  const files = {
    loss: lossFile,
    model: modelFile,
    lossPlot: join(dir, "loss.svg"),
    boundary: join(dir, "boundary.svg"),
    dot: join(dir, "graph.dot"),
    graph: join(dir, "graph.svg"),
    report: join(dir, "report.html"),
  };
  writeFileSync(files.lossPlot, lossSvg);
  writeFileSync(files.boundary, boundarySvg);
  writeFileSync(files.dot, dot);
  writeFileSync(files.graph, graphSvg);
  const o = options;
  writeFileSync(
    files.report,
    renderReportHtml({
      title: "gradgraph: the spiral job (Deep Learning from Scratch 2, chapter 1)",
      hyperParams: {
        model: `TwoLayerNet(2, ${o.hidden}, 3)`,
        optimizer: o.optimizer,
        "learning rate": o.lr,
        "batch size": o.batch,
        epochs: o.epochs,
        dtype: o.dtype,
        seed: o.seed,
      },
      finalLoss,
      accuracy: acc,
      lossSvg,
      boundarySvg,
      graphSvg,
    }),
  );
  return { options, trainer, model, finalLoss, accuracy: acc, files };
}

/** Entry point: parses `argv`, runs the job, reports; returns the exit code. */
export async function main(
  argv: readonly string[],
  out: { write(s: string): unknown; isTTY?: boolean } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  let options: SpiralJobOptions | "help";
  try {
    options = parseJobArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    out.write(USAGE);
    return 0;
  }
  const o = options;
  out.write(
    `spiral: TwoLayerNet(2, ${o.hidden}, 3), ${o.optimizer} lr ${o.lr}, batch ${o.batch}, ${o.epochs} epochs, ${o.dtype}, seed ${o.seed}\n`,
  );
  let r: SpiralJobResult;
  try {
    r = await runSpiralJob(o, out);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`error: ${e.message}\n`);
    return 2;
  }
  out.write(`final loss ${r.finalLoss.toFixed(4)}, training accuracy ${(100 * r.accuracy).toFixed(1)}%\n`);
  for (const f of Object.values(r.files)) out.write(`wrote ${f}\n`);
  return 0;
}
