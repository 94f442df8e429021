/**
 * The spiral job's figures and report page, loaded only when the report is wanted (`--no-report`
 * never loads viz, vega or Graphviz): the loss curve, the decision boundary, the graph of one
 * training step after its backward (every layer a cluster, the loss included, each parameter
 * with its gradient's norm) and the page with the run's metadata.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelInfo, type Tensor } from "@gradgraph/core";
import type { TwoLayerNet } from "@gradgraph/nn";
import { getItem } from "@gradgraph/nodes";
import {
  decisionBoundarySvg,
  groupsFromLayers,
  lossPlotSvg,
  renderReportHtml,
  renderSvg,
  snapshot,
  toDot,
} from "@gradgraph/viz";
import type { SpiralJobOptions } from "./args.js";

/** What the report is made of: the run's results and how to write a file. */
export interface ReportContext {
  /** The run's settings. */
  options: SpiralJobOptions;
  /** The trainer, for its loss records. */
  trainer: { readonly lossList: readonly number[] };
  /** The trained net. */
  model: TwoLayerNet;
  /** The final loss on the whole data set. */
  finalLoss: number;
  /** The training accuracy in [0, 1]. */
  accuracy: number;
  /** Milliseconds spent training. */
  trainingMs: number;
  /** The output folder (absolute). */
  dir: string;
  /** The data points, N×2. */
  x: Tensor;
  /** The class of each point. */
  labels: Int32Array;
  /** The parameters by name. */
  params: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
  /** When the job started. */
  startedAt: Date;
  /** `performance.now()` when the job started. */
  started: number;
  /** Writes one file atomically. */
  write: (file: string, content: string) => void;
}

/** The report's files by kind. */
export interface ReportFiles {
  lossPlot: string;
  boundary: string;
  dot: string;
  graph: string;
  report: string;
}

/**
 * Draws the figures and writes them with the page into `ctx.dir`.
 * @returns the paths written.
 * @throws what `ctx.write` throws for a file that cannot be written.
 */
export async function writeReport(ctx: ReportContext): Promise<ReportFiles> {
  const { options: o, model, x, labels } = ctx;
  const lossSvg = await lossPlotSvg(ctx.trainer.lossList, {
    evalInterval: 10,
    title: "Training loss (average every 10 iterations)",
  });
  const boundarySvg = await decisionBoundarySvg({
    predict: (points) => model.predict(points),
    x,
    labels,
    title: "Decision boundary on the spiral data",
  });

  // one training step on the first mini-batch, layer by layer so that each layer's output is
  // known (its cluster), then its backward as Sequential.backward runs it (zeroed gradient
  // buffers), retaining what forward saved so the graph can still show it
  const n = x.shape[0]!;
  const rows = Int32Array.from({ length: o.batch }, (_, i) => i * Math.floor(n / o.batch));
  let h = getItem(x, rows);
  const outputs: Tensor[] = [];
  for (const layer of model.layers) {
    h = layer.forward(h);
    outputs.push(h);
  }
  const loss = model.lossLayer.forward(
    h,
    Int32Array.from(rows, (i) => labels[i]!),
  );
  outputs.push(loss);
  model.params.forEach((p, i) => {
    const g = model.grads[i]!;
    g.fill_(0);
    p.grad = g;
  });
  loss.backward(undefined, { retainGraph: true });
  const graphSnapshot = snapshot(loss, {
    params: ctx.params,
    groups: groupsFromLayers([...model.layers, model.lossLayer], outputs),
  });
  const dot = toDot(graphSnapshot, {
    rankdir: "TB",
    showSaved: true,
    showGrad: true,
    title: "TwoLayerNet: one training step, after backward (gradient norms on the parameters)",
  });
  const graphSvg = await renderSvg(dot);

  const files: ReportFiles = {
    lossPlot: join(ctx.dir, "loss.svg"),
    boundary: join(ctx.dir, "boundary.svg"),
    dot: join(ctx.dir, "graph.dot"),
    graph: join(ctx.dir, "graph.svg"),
    report: join(ctx.dir, "report.html"),
  };
  ctx.write(files.lossPlot, lossSvg);
  ctx.write(files.boundary, boundarySvg);
  ctx.write(files.dot, dot);
  ctx.write(files.graph, graphSvg);
  const html = renderReportHtml({
    title: "gradgraph: the spiral job (Deep Learning from Scratch 2, chapter 1)",
    hyperParams: {
      model: `TwoLayerNet(2, ${o.hidden}, 3)`,
      optimizer: o.optimizer,
      "learning rate": o.lr,
      "batch size": o.batch,
      epochs: o.epochs,
      dtype: o.dtype,
      seed: String(o.seed),
    },
    metadata: runMetadata(ctx),
    finalLoss: ctx.finalLoss,
    accuracy: ctx.accuracy,
    lossSvg,
    boundarySvg,
    graphSvg,
    captions: { graph: "One training step after backward: every layer a cluster, gradient norms on the parameters" },
  });
  ctx.write(files.report, html);
  return files;
}

/** The run's metadata for the page: date, commit (when known), wall time, kernels, versions. */
function runMetadata(ctx: ReportContext): Record<string, string> {
  const k = kernelInfo();
  const kernels = [
    k.backend,
    k.reason === undefined ? null : `(${k.reason})`,
    k.threads > 1 ? `${k.threads} threads` : "1 thread",
  ]
    .filter((s) => s !== null)
    .join(", ");
  const total = (performance.now() - ctx.started) / 1000;
  const meta: Record<string, string> = { date: ctx.startedAt.toISOString() };
  const commit = gitCommit();
  if (commit !== null) meta.commit = commit;
  meta["wall time"] = `${total.toFixed(2)} s (training ${(ctx.trainingMs / 1000).toFixed(2)} s)`;
  meta["kernel backend"] = kernels;
  meta["model files"] =
    "model.safetensors (checkpoint), model.onnx (ONNX, opset 17, any batch size: runs in ONNX Runtime)";
  meta["Node.js"] = process.version;
  meta.gradgraph = versions();
  return meta;
}

/** `@gradgraph/spiral 0.2.0 (core 0.2.0, nodes 0.2.0, nn 0.2.0, viz 0.2.0, onnx 0.2.0)`, "unknown" where unreadable. */
function versions(): string {
  const require = createRequire(import.meta.url);
  const version = (pkg: string): string => {
    try {
      const v = (require(`${pkg}/package.json`) as { version?: unknown }).version;
      return typeof v === "string" ? v : "unknown";
    } catch {
      return "unknown";
    }
  };
  const libs = ["core", "nodes", "nn", "viz", "onnx"].map((p) => `${p} ${version(`@gradgraph/${p}`)}`);
  return `@gradgraph/spiral ${version("@gradgraph/spiral")} (${libs.join(", ")})`;
}

/**
 * The short commit of the checkout this job runs from, `+ local changes` when its tracked files
 * differ; null when it does not run from a git checkout (an installed package, no git).
 */
function gitCommit(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  if (here.split(sep).includes("node_modules")) return null; // an installed copy: not this checkout's
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync("git", ["-C", here, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 5000,
        windowsHide: true,
      }).trim();
    } catch {
      return null;
    }
  };
  const commit = git("rev-parse", "--short", "HEAD");
  if (commit === null || !/^[0-9a-f]{4,64}$/.test(commit)) return null;
  const status = git("status", "--porcelain", "--untracked-files=no");
  return status === null || status === "" ? commit : `${commit} + local changes`;
}
