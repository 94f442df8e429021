/**
 * Optimizers of "Deep Learning from Scratch 2", chapter 1: `update(params, grads)` changes each
 * parameter's data in place. Also gradient clipping and a factory by name.
 */
export {
  AdaGrad,
  type AdaGradOptions,
  Adam,
  type AdamOptions,
  DEFAULT_EPS,
  RMSprop,
  type RMSpropOptions,
} from "./adaptive.js";
export { clipGradNorm } from "./clip.js";
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerOptionsByName } from "./factory.js";
export type { Optimizer } from "./optimizer.js";
export { Momentum, type MomentumOptions, Nesterov, SGD, type SGDOptions } from "./sgd.js";
