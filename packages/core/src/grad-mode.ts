/**
 * Grad modes: the switches every op and the backward engine read. Recording (`noGrad`,
 * `enableGrad`), anomaly detection, and the debugging records (creation sites, node inputs). Each
 * scoped helper is synchronous and restores the previous setting in `finally`.
 */
import { checkCallback } from "./validate.js";

/**
 * @internal The current switches, one object so that the modules of the engine share them:
 * - `grad`: ops record nodes (off inside `noGrad`, and inside a backward that is not creating a graph);
 * - `sites`: nodes keep their creation stack (`Node.site`);
 * - `inputs`: nodes keep their input tensors (`Node.debugInputs`);
 * - `anomaly`: forward outputs and backward gradients are checked for NaN and infinity;
 * - `inBackward`: an op's backward is running (its inner ops are not checked one by one).
 */
export const modes = { grad: true, sites: false, inputs: false, anomaly: false, inBackward: false };

/** True unless inside `noGrad` (or a backward that is not creating a graph). */
export function isGradEnabled(): boolean {
  return modes.grad;
}

/**
 * Runs `fn` with recording switched off: ops compute values but record no nodes, so nothing
 * they return requires grad. Scoped and synchronous (restored in `finally`); do not pass an
 * async function, since the mode would not cover what runs after its first `await`.
 */
export function noGrad<T>(fn: () => T): T {
  checkCallback("noGrad", "fn", fn);
  const prev = modes.grad;
  modes.grad = false;
  try {
    return fn();
  } finally {
    modes.grad = prev;
  }
}

/** Runs `fn` with recording switched on, even inside `noGrad`. Scoped like `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  checkCallback("enableGrad", "fn", fn);
  const prev = modes.grad;
  modes.grad = true;
  try {
    return fn();
  } finally {
    modes.grad = prev;
  }
}

/**
 * Runs `fn` in anomaly mode: every op's forward output and every gradient a backward returns is
 * checked for NaN and infinity, and the first one found throws an `AnomalyError` that names the op,
 * the phase and the element, and carries the stack of the user code that created the op. Creation
 * sites are recorded meanwhile. Run both the forward and the backward inside it. Scoped and
 * synchronous, like `noGrad`.
 */
export function detectAnomaly<T>(fn: () => T): T {
  checkCallback("detectAnomaly", "fn", fn);
  const prev = modes.anomaly;
  modes.anomaly = true;
  try {
    return withCreationSites(fn);
  } finally {
    modes.anomaly = prev;
  }
}

/**
 * Switches anomaly mode (see `detectAnomaly`) on or off for everything that follows, creation
 * sites included. Returns the previous setting.
 */
export function setAnomalyDetection(on: boolean): boolean {
  const prev = modes.anomaly;
  modes.anomaly = on === true;
  modes.sites = modes.anomaly;
  return prev;
}

/** True while anomaly mode is on. */
export function isAnomalyDetectionEnabled(): boolean {
  return modes.anomaly;
}

/**
 * Runs `fn` keeping, on every node it creates, its input tensors and creation site (see
 * `Node.debugInputs`), so each node's local derivative can be checked on its own. Used by
 * gradcheck's fault localisation; costs memory, so it is off by default.
 */
export function withDebugRecording<T>(fn: () => T): T {
  checkCallback("withDebugRecording", "fn", fn);
  const prev = modes.inputs;
  modes.inputs = true;
  try {
    return withCreationSites(fn);
  } finally {
    modes.inputs = prev;
  }
}

/**
 * Runs `fn` recording, for every node it creates, the call stack of the user code that created
 * it (see `Node.site`). Costs a stack capture per op, so it is off by default; gradient checks
 * and error reports switch it on.
 */
export function withCreationSites<T>(fn: () => T): T {
  checkCallback("withCreationSites", "fn", fn);
  const prev = modes.sites;
  modes.sites = true;
  try {
    return fn();
  } finally {
    modes.sites = prev;
  }
}
