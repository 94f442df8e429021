/**
 * One training run of the spiral net, advanced an epoch at a time, and its figures. Neither DOM
 * nor worker globals: the worker (src/worker.ts) drives it between messages, and the Node.js tests
 * check it against one `Trainer.fit` call.
 */
import { ArgumentError, Rng, type Tensor } from "@gradgraph/core";
import { accuracy, createOptimizer, loadSpiral, Trainer, TwoLayerNet } from "@gradgraph/nn";
import { getItem } from "@gradgraph/nodes";
import { decisionBoundarySvg, groupsFromLayers, lossPlotSvg, renderSvg, snapshot, toDot } from "@gradgraph/viz";
import type { TrainConfig } from "./protocol.js";

/** Mini-batch size: 10 batches per epoch of the 300 spiral points, as in the spiral job. */
export const BATCH_SIZE = 30;
/** Iterations averaged into one `lossList` entry: one entry per epoch. */
export const EVAL_INTERVAL = 10;
/** Grid cells per axis of the decision boundary (viz's default; vega's fixed costs dominate the render, not the grid). */
export const BOUNDARY_RESOLUTION = 100;

/** Both training figures, as SVG markup; null where the run diverged (see {@link SpiralSession.figures}). */
export interface Figures {
  lossSvg: string | null;
  boundarySvg: string | null;
}

/**
 * The spiral net of one run: `TwoLayerNet(2, hidden, 3)` on `loadSpiral()`, trained with the
 * chosen optimizer by a `Trainer`, one epoch per {@link SpiralSession.epoch} call. The epochs
 * shuffle with one generator seeded once, so any number of calls gives the same weights and
 * losses, bit for bit, as a single `fit` with `maxEpoch` epochs and the same seed.
 */
export class SpiralSession {
  readonly config: Readonly<TrainConfig>;
  readonly model: TwoLayerNet;
  readonly trainer: Trainer;
  readonly x: Tensor;
  readonly t: Tensor;
  readonly labels: Int32Array;
  /** Milliseconds spent inside {@link SpiralSession.epoch} (training steps only). */
  trainMs = 0;
  readonly #rng: Rng;

  /** A fresh net and optimizer for `config`; nothing is trained yet. */
  constructor(config: Readonly<TrainConfig>) {
    this.config = config;
    const { x, t, labels } = loadSpiral({ seed: config.seed });
    this.x = x;
    this.t = t;
    this.labels = Int32Array.from(labels);
    this.model = new TwoLayerNet(2, config.hidden, 3, { seed: config.seed });
    this.trainer = new Trainer(this.model, createOptimizer(config.optimizer, { lr: config.lr }));
    this.#rng = new Rng(config.seed);
  }

  /** Epochs completed. */
  get epochsDone(): number {
    return this.trainer.currentEpoch;
  }

  /** The latest averaged loss (NaN before the first epoch). */
  get loss(): number {
    return this.trainer.lossList.at(-1) ?? Number.NaN;
  }

  /** Trains one more epoch (10 mini-batches: forward, backward, update each). */
  epoch(): void {
    const t0 = performance.now();
    this.trainer.fit(this.x, this.t, {
      maxEpoch: 1,
      batchSize: BATCH_SIZE,
      evalInterval: EVAL_INTERVAL,
      shuffle: () => this.#rng.permutation(this.x.shape[0]!),
      output: null,
    });
    this.trainMs += performance.now() - t0;
  }

  /** Accuracy on the training points now. */
  accuracy(): number {
    return accuracy(this.model, this.x, this.t);
  }

  /**
   * The recorded graph of one training step, as Graphviz SVG: a forward on the first mini-batch
   * and its backward, the graph kept (`retainGraph`) so that the snapshot shows both what each op
   * saved and each parameter's gradient; drawn by viz (`snapshot`, `toDot`, `renderSvg`). Changes
   * no weights (the next `epoch` starts from fresh gradients, as `Model.backward` always does).
   */
  async graphSvg(): Promise<string> {
    const rows = Int32Array.from({ length: BATCH_SIZE }, (_, i) => i * Math.floor(this.x.shape[0]! / BATCH_SIZE));
    const loss = this.model.forward(
      getItem(this.x, rows),
      Array.from(rows, (i) => this.labels[i]!),
    );
    const [W1, b1, W2, b2] = this.model.params;
    for (const p of this.model.params) p.grad = null;
    loss.backward(1, { retainGraph: true });
    const graph = snapshot(loss, {
      params: { W1: W1!, b1: b1!, W2: W2!, b2: b2! },
      groups: groupsFromLayers(this.model.layers),
    });
    const dot = toDot(graph, {
      rankdir: "TB",
      showSaved: true,
      showGrad: true,
      title: `TwoLayerNet(2, ${this.config.hidden}, 3): one training step`,
    });
    return renderSvg(dot);
  }

  /**
   * The loss curve (one point per epoch) and the decision boundary now, drawn by viz's
   * `lossPlotSvg` and `decisionBoundarySvg` (vega-lite, rendered to SVG strings). A run that
   * diverged gets its loss curve up to the first non-finite loss, and no boundary once the net's
   * scores are not finite (null).
   */
  async figures(): Promise<Figures> {
    const list = this.trainer.lossList;
    const bad = list.findIndex((v) => !Number.isFinite(v));
    const finite = bad < 0 ? list : list.slice(0, bad);
    const lossSvg =
      finite.length === 0
        ? null
        : await lossPlotSvg(finite, {
            evalInterval: EVAL_INTERVAL,
            title: "Training loss (average of each epoch's 10 mini-batches)",
            width: 400,
            height: 300,
          });
    let boundarySvg: string | null = null;
    try {
      boundarySvg = await decisionBoundarySvg({
        predict: (points) => this.model.predict(points),
        x: this.x,
        labels: this.labels,
        resolution: BOUNDARY_RESOLUTION,
        title: `Decision boundary after ${this.epochsDone} epoch${this.epochsDone === 1 ? "" : "s"}`,
        width: 340,
        height: 340,
      });
    } catch (e) {
      // non-finite scores: the run diverged (any other error is a bug, and goes up)
      if (!(e instanceof ArgumentError && /non-finite score/.test(e.message))) throw e;
    }
    return { lossSvg, boundarySvg };
  }
}
