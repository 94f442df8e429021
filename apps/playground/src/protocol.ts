/**
 * The messages between the page (src/main.ts) and the training worker (src/worker.ts), and the
 * training settings. Types and plain data only: no DOM, no worker globals, so both sides (and the
 * Node.js tests) can import it.
 *
 * A run: the page sends `start` with a fresh run number; the worker answers `graph` (the recorded
 * graph of one training step), then `progress` (throttled) and `figures` (throttled harder) while
 * it trains, and finally one `done`, stopped or finished. `stop` asks it to end the run after the
 * epoch in progress. Every message about a run carries its number, so the page drops the late
 * messages of a run it has already left.
 */
import type { KernelBackend } from "@gradgraph/core";
import type { OptimizerName } from "@gradgraph/nn";

/** The settings of one training run. */
export interface TrainConfig {
  /** Hidden units of `TwoLayerNet(2, hidden, 3)`. */
  hidden: number;
  /** Learning rate given to the optimizer. */
  lr: number;
  optimizer: OptimizerName;
  /** Epochs of 10 mini-batches of 30 points. */
  epochs: number;
  /** Seed of the data, the initial weights and the shuffles. */
  seed: number;
}

/** Page → worker. */
export type ToWorker = { type: "start"; run: number; config: TrainConfig } | { type: "stop"; run: number };

/** Worker → page. */
export type FromWorker =
  /** Sent once, when the WASM kernels are live (or failed to load: `backend` is then `"js"`). */
  | { type: "ready"; backend: KernelBackend; reason?: string }
  /** The recorded graph of one training step (forward + backward on the first mini-batch), as SVG. */
  | { type: "graph"; run: number; svg: string }
  | ({ type: "progress"; run: number } & Progress)
  /** The loss curve and the decision boundary after `epoch` epochs, as SVG (null: not drawable, the run diverged). */
  | {
      type: "figures";
      run: number;
      epoch: number;
      lossSvg: string | null;
      boundarySvg: string | null;
      renderMs: number;
    }
  /** The run ended: all its epochs done, or stopped early (`stopped`). */
  | ({ type: "done"; run: number; stopped: boolean } & Progress)
  | { type: "error"; run: number | null; message: string };

/** Where a run stands. */
export interface Progress {
  /** Epochs completed. */
  epoch: number;
  epochs: number;
  /** The latest averaged training loss (the Trainer's last `lossList` entry). */
  loss: number;
  /** Accuracy on the 300 training points after `epoch` epochs. */
  accuracy: number;
  /** Milliseconds spent in training steps (forward, backward, update), figures and messages excluded. */
  trainMs: number;
  /** Milliseconds since the run started, figures and the graph included. */
  wallMs: number;
}
