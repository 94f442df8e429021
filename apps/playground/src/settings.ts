/**
 * The controls' defaults and limits, and the check of what the form gives. Plain data: no DOM, so
 * the Node.js tests check that every default learning rate really trains the spiral net.
 */
import { OPTIMIZER_NAMES, type OptimizerName } from "@gradgraph/nn";
import type { TrainConfig } from "./protocol.js";

/**
 * The learning rate the page switches to when an optimizer is chosen. Each reaches ≥ 0.95
 * training accuracy on the spiral in 300 epochs with 10 hidden units (tested), most well before:
 * the usual defaults (Adam 0.001, RMSprop 0.01) are far too timid for this small net.
 */
export const DEFAULT_LR: Readonly<Record<OptimizerName, number>> = Object.freeze({
  sgd: 1,
  momentum: 0.3,
  nesterov: 0.3,
  adagrad: 0.5,
  rmsprop: 0.03,
  adam: 0.03,
});

/** What the page starts with: the spiral job's settings (`npm start`). */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  hidden: 10,
  lr: DEFAULT_LR.sgd,
  optimizer: "sgd",
  epochs: 300,
  seed: 1984,
});

/** Inclusive bounds of the numeric controls. */
export const LIMITS = Object.freeze({
  hidden: { min: 1, max: 256 },
  lr: { min: 1e-5, max: 10 },
  epochs: { min: 1, max: 20_000 },
});

/** The optimizers offered, in the book's order. */
export const OPTIMIZERS: readonly OptimizerName[] = OPTIMIZER_NAMES;

/** Whether `name` is one of {@link OPTIMIZERS}. */
export function isOptimizerName(name: string): name is OptimizerName {
  return (OPTIMIZERS as readonly string[]).includes(name);
}

/**
 * Reads the controls' raw values into a run's settings.
 * @param raw - the form's values as strings (hidden, lr, optimizer, epochs).
 * @returns the settings, or a message naming the first control whose value is out of bounds.
 */
export function parseConfig(raw: {
  hidden: string;
  lr: string;
  optimizer: string;
  epochs: string;
}): TrainConfig | { error: string } {
  const int = (name: "hidden" | "epochs", s: string): number | string => {
    const n = Number(s);
    const { min, max } = LIMITS[name];
    return /^\s*\d+\s*$/.test(s) && n >= min && n <= max ? n : `${name} must be an integer from ${min} to ${max}`;
  };
  const hidden = int("hidden", raw.hidden);
  if (typeof hidden === "string") return { error: hidden };
  const epochs = int("epochs", raw.epochs);
  if (typeof epochs === "string") return { error: epochs };
  const lr = Number(raw.lr);
  if (raw.lr.trim() === "" || !(lr >= LIMITS.lr.min && lr <= LIMITS.lr.max)) {
    return { error: `learning rate must be a number from ${LIMITS.lr.min} to ${LIMITS.lr.max}` };
  }
  if (!isOptimizerName(raw.optimizer)) return { error: `unknown optimizer ${JSON.stringify(raw.optimizer)}` };
  return { hidden, lr, optimizer: raw.optimizer, epochs, seed: DEFAULT_CONFIG.seed };
}
