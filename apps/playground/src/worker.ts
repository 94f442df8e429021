/**
 * The training worker (a module worker started by src/main.ts). It waits for the WASM kernels
 * (`ready()`), says which backend runs, and trains one {@link SpiralSession} at a time, an epoch
 * per task: between two epochs it yields to its event loop, so a `stop` (or a new `start`) is seen
 * after the epoch in progress. Progress goes out at most every {@link PROGRESS_MS}, the two figures
 * at most every {@link FIGURES_MS} after the last ones were drawn (vega renders them here, as SVG
 * strings: the page only inserts them).
 */
import { ready } from "@gradgraph/core";
import type { FromWorker, Progress, ToWorker, TrainConfig } from "./protocol.js";
import { SpiralSession } from "./session.js";

/** Least milliseconds between two progress messages. */
const PROGRESS_MS = 50;
/** Least milliseconds from the end of one figure rendering to the start of the next. */
const FIGURES_MS = 150;

/** The worker's side of the messaging (DedicatedWorkerGlobalScope, narrowed to the protocol). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}
const scope = globalThis as unknown as WorkerScope;
const post = (message: FromWorker): void => scope.postMessage(message);

/** A run in progress, and whether it was asked to stop. */
interface RunState {
  readonly run: number;
  stop: boolean;
}
let current: RunState | null = null;
/** Runs one after another: a new run starts when the previous one has returned. */
let queue: Promise<void> = Promise.resolve();

const kernels = ready().then((info) => {
  post({ type: "ready", backend: info.backend, ...(info.reason === undefined ? {} : { reason: info.reason }) });
});

/**
 * Yields to the event loop (one task: a message to ourselves, which, unlike `setTimeout(0)`, is
 * never clamped to 4 ms), so the messages that arrived meanwhile are handled.
 */
const channel = new MessageChannel();
let wake: (() => void) | null = null;
channel.port1.onmessage = () => {
  const w = wake;
  wake = null;
  w?.();
};
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    wake = resolve;
    channel.port2.postMessage(null);
  });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") {
    if (current?.run === message.run) current.stop = true;
    return;
  }
  if (current !== null) current.stop = true;
  const state: RunState = { run: message.run, stop: false };
  current = state;
  queue = queue.then(() => train(state, message.config));
};

/** Trains one run to its end or its stop, posting its graph, progress, figures and end. */
async function train(state: RunState, config: TrainConfig): Promise<void> {
  const { run } = state;
  const start = performance.now();
  try {
    await kernels;
    if (state.stop) return;
    const session = new SpiralSession(config);
    const progress = (): Progress => ({
      epoch: session.epochsDone,
      epochs: config.epochs,
      loss: session.loss,
      accuracy: session.accuracy(),
      trainMs: session.trainMs,
      wallMs: performance.now() - start,
    });
    let drawnEpoch = -1;
    const draw = async (): Promise<void> => {
      const t0 = performance.now();
      const figures = await session.figures();
      drawnEpoch = session.epochsDone;
      post({ type: "figures", run, epoch: drawnEpoch, ...figures, renderMs: performance.now() - t0 });
    };
    post({ type: "graph", run, svg: await session.graphSvg() });
    let lastProgress = Number.NEGATIVE_INFINITY;
    let lastFigures = Number.NEGATIVE_INFINITY;
    while (session.epochsDone < config.epochs && !state.stop) {
      session.epoch();
      if (performance.now() - lastProgress >= PROGRESS_MS) {
        post({ type: "progress", run, ...progress() });
        lastProgress = performance.now();
      }
      if (drawnEpoch < 0 || performance.now() - lastFigures >= FIGURES_MS) {
        await draw();
        lastFigures = performance.now();
      }
      await nextTask();
    }
    if (drawnEpoch !== session.epochsDone) await draw();
    post({ type: "done", run, stopped: session.epochsDone < config.epochs, ...progress() });
  } catch (e) {
    post({ type: "error", run, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  } finally {
    if (current === state) current = null;
  }
}
