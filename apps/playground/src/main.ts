/**
 * The page: reads the controls, starts and stops runs in the training worker (src/worker.ts), and
 * shows what it posts. It only inserts markup and text: the training and the drawing of the
 * figures (SVG strings) happen in the worker, so the page stays responsive while it trains.
 */
import type { FromWorker, Progress, ToWorker } from "./protocol.js";
import { DEFAULT_CONFIG, DEFAULT_LR, isOptimizerName, OPTIMIZERS, parseConfig } from "./settings.js";

/** Milliseconds a stopped run may take to say so before its worker is replaced. */
const STOP_GRACE_MS = 3000;

/** The element with id `id`, which index.html must have. */
function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html lacks a <${type.name}> #${id}`);
  return el;
}

const ui = {
  form: byId("controls", HTMLFormElement),
  hidden: byId("hidden", HTMLInputElement),
  optimizer: byId("optimizer", HTMLSelectElement),
  lr: byId("lr", HTMLInputElement),
  epochs: byId("epochs", HTMLInputElement),
  start: byId("start", HTMLButtonElement),
  error: byId("error", HTMLParagraphElement),
  backend: byId("backend", HTMLOutputElement),
  progress: byId("progress", HTMLProgressElement),
  status: byId("status", HTMLElement),
  epoch: byId("epoch", HTMLElement),
  loss: byId("loss", HTMLElement),
  accuracy: byId("accuracy", HTMLElement),
  trainTime: byId("train-time", HTMLElement),
  wallTime: byId("wall-time", HTMLElement),
  redraws: byId("redraws", HTMLElement),
  lossFigure: byId("fig-loss", HTMLElement),
  boundaryFigure: byId("fig-boundary", HTMLElement),
  graphFigure: byId("fig-graph", HTMLElement),
};

const BACKEND_NAMES: Record<string, string> = {
  "wasm-relaxed-simd": "WebAssembly, relaxed SIMD",
  "wasm-simd": "WebAssembly, SIMD",
  js: "TypeScript (no WebAssembly)",
};

const OPTIMIZER_LABELS: Record<(typeof OPTIMIZERS)[number], string> = {
  sgd: "SGD",
  momentum: "Momentum",
  nesterov: "Nesterov",
  adagrad: "AdaGrad",
  rmsprop: "RMSprop",
  adam: "Adam",
};

let worker: Worker;
let kernelsReady = false;
/** The run in progress (null when idle); runs are numbered from 1. */
let running: number | null = null;
let lastRun = 0;
let stopTimer: ReturnType<typeof setTimeout> | undefined;
/** Figure redraws of the run in progress, and the milliseconds the worker spent drawing them. */
let redraws = { count: 0, ms: 0 };

function send(message: ToWorker): void {
  worker.postMessage(message);
}

function startWorker(): void {
  kernelsReady = false;
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "gradgraph-training" });
  worker.onmessage = (event: MessageEvent<FromWorker>) => receive(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    fail(`The training worker failed: ${event.message || "it could not start"}`);
  };
  updateButton();
}

function receive(message: FromWorker): void {
  if (message.type === "ready") {
    kernelsReady = true;
    ui.backend.textContent = message.backend;
    ui.backend.title = BACKEND_NAMES[message.backend] ?? message.backend;
    ui.backend.classList.remove("pending");
    ui.backend.classList.toggle("fallback", message.backend === "js");
    if (message.reason !== undefined) ui.backend.title += ` (${message.reason})`;
    if (running === null) ui.status.textContent = "ready";
    updateButton();
    return;
  }
  if (message.type === "error") {
    if (message.run === null || message.run === running) fail(message.message);
    return;
  }
  if (message.run !== running) return; // a run the page has left
  switch (message.type) {
    case "graph":
      setFigure(ui.graphFigure, message.svg, 0);
      break;
    case "progress":
      showProgress(message, "training");
      break;
    case "figures":
      setFigure(ui.lossFigure, message.lossSvg, message.epoch);
      setFigure(ui.boundaryFigure, message.boundarySvg, message.epoch);
      redraws = { count: redraws.count + 1, ms: redraws.ms + message.renderMs };
      ui.redraws.textContent = `${redraws.count} redraw${redraws.count === 1 ? "" : "s"}, ${(redraws.ms / redraws.count).toFixed(0)} ms each`;
      break;
    case "done":
      showProgress(message, message.stopped ? `stopped after ${message.epoch} epochs` : "finished");
      finishRun();
      break;
  }
}

/** Shows an SVG figure (from our own worker) in `figure`'s plot area; null keeps the last one. */
function setFigure(figure: HTMLElement, svg: string | null, epoch: number): void {
  const plot = figure.querySelector(".plot");
  if (plot === null) return;
  figure.classList.toggle("stale", svg === null);
  if (svg === null) {
    figure.title = "Not redrawn: the loss or the net's scores are no longer finite (the run diverged).";
    return;
  }
  figure.removeAttribute("title");
  // Graphviz starts with an XML prolog and a doctype, which have no place inside HTML
  const start = svg.indexOf("<svg");
  plot.innerHTML = start > 0 ? svg.slice(start) : svg;
  figure.dataset.epoch = String(epoch);
}

function showProgress(p: Progress, status: string): void {
  ui.status.textContent = status;
  ui.progress.max = p.epochs;
  ui.progress.value = p.epoch;
  ui.epoch.textContent = `${p.epoch} / ${p.epochs}`;
  ui.loss.textContent = Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss);
  ui.accuracy.textContent = `${(100 * p.accuracy).toFixed(1)}%`;
  ui.accuracy.dataset.value = String(p.accuracy);
  ui.trainTime.textContent = seconds(p.trainMs);
  ui.wallTime.textContent = seconds(p.wallMs);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function finishRun(): void {
  clearTimeout(stopTimer);
  running = null;
  document.body.classList.remove("training");
  updateButton();
}

function updateButton(): void {
  const training = running !== null;
  ui.start.textContent = training ? "Stop" : kernelsReady ? "Start training" : "Loading kernels…";
  ui.start.disabled = !training && !kernelsReady;
  ui.start.classList.toggle("stop", training);
  for (const input of [ui.hidden, ui.optimizer, ui.lr, ui.epochs]) input.disabled = training;
}

function fail(text: string): void {
  console.error(text);
  ui.error.textContent = text;
  ui.error.hidden = false;
  ui.status.textContent = "failed";
  if (running !== null) finishRun();
}

function start(): void {
  const config = parseConfig({
    hidden: ui.hidden.value,
    lr: ui.lr.value,
    optimizer: ui.optimizer.value,
    epochs: ui.epochs.value,
  });
  if ("error" in config) {
    ui.error.textContent = `Cannot start: ${config.error}.`;
    ui.error.hidden = false;
    return;
  }
  ui.error.hidden = true;
  running = ++lastRun;
  document.body.classList.add("training");
  ui.status.textContent = "starting";
  ui.progress.max = config.epochs;
  ui.progress.value = 0;
  ui.epoch.textContent = `0 / ${config.epochs}`;
  for (const el of [ui.loss, ui.accuracy, ui.trainTime, ui.wallTime, ui.redraws]) el.textContent = "–";
  redraws = { count: 0, ms: 0 };
  delete ui.accuracy.dataset.value;
  updateButton();
  send({ type: "start", run: running, config });
}

function stop(): void {
  if (running === null) return;
  const run = running;
  ui.status.textContent = "stopping";
  send({ type: "stop", run });
  // the worker stops after the epoch in progress; one that does not answer is replaced
  stopTimer = setTimeout(() => {
    if (running !== run) return;
    worker.terminate();
    finishRun();
    ui.status.textContent = "stopped (the worker did not answer and was restarted)";
    startWorker();
  }, STOP_GRACE_MS);
}

function init(): void {
  for (const name of OPTIMIZERS) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = OPTIMIZER_LABELS[name];
    ui.optimizer.append(option);
  }
  ui.hidden.value = String(DEFAULT_CONFIG.hidden);
  ui.optimizer.value = DEFAULT_CONFIG.optimizer;
  ui.lr.value = String(DEFAULT_CONFIG.lr);
  ui.epochs.value = String(DEFAULT_CONFIG.epochs);
  ui.optimizer.addEventListener("change", () => {
    const name = ui.optimizer.value;
    if (isOptimizerName(name)) ui.lr.value = String(DEFAULT_LR[name]);
  });
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (running === null) start();
    else stop();
  });
  startWorker();
}

init();
