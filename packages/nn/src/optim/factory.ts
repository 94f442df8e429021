/** `createOptimizer`: an optimizer by name, for command lines and configuration files. */
import { ArgumentError, describeValue } from "@gradgraph/core";
import { AdaGrad, type AdaGradOptions, Adam, type AdamOptions, RMSprop, type RMSpropOptions } from "./adaptive.js";
import type { Optimizer } from "./optimizer.js";
import { Momentum, type MomentumOptions, Nesterov, SGD, type SGDOptions } from "./sgd.js";

/** The names `createOptimizer` accepts. */
export type OptimizerName = "sgd" | "momentum" | "nesterov" | "adagrad" | "rmsprop" | "adam";

/** Every `OptimizerName`, in the book's order. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = Object.freeze([
  "sgd",
  "momentum",
  "nesterov",
  "adagrad",
  "rmsprop",
  "adam",
]);

/** The options each optimizer name takes. */
export interface OptimizerOptionsByName {
  /** {@link SGD}'s options. */
  sgd: SGDOptions;
  /** {@link Momentum}'s options. */
  momentum: MomentumOptions;
  /** {@link Nesterov}'s options (the same as Momentum's). */
  nesterov: MomentumOptions;
  /** {@link AdaGrad}'s options. */
  adagrad: AdaGradOptions;
  /** {@link RMSprop}'s options. */
  rmsprop: RMSpropOptions;
  /** {@link Adam}'s options. */
  adam: AdamOptions;
}

/**
 * Creates the optimizer called `name` (lower case: `'sgd'`, `'momentum'`, `'nesterov'`,
 * `'adagrad'`, `'rmsprop'`, `'adam'`) with `options` (defaults as in each class).
 * @throws ArgumentError for an unknown name (the message lists the valid ones), or for options
 *   the optimizer rejects (an unknown key, a hyper-parameter out of range).
 */
export function createOptimizer<N extends OptimizerName>(name: N, options?: OptimizerOptionsByName[N]): Optimizer {
  switch (name as OptimizerName) {
    case "sgd":
      return new SGD(options as SGDOptions | undefined);
    case "momentum":
      return new Momentum(options as MomentumOptions | undefined);
    case "nesterov":
      return new Nesterov(options as MomentumOptions | undefined);
    case "adagrad":
      return new AdaGrad(options as AdaGradOptions | undefined);
    case "rmsprop":
      return new RMSprop(options as RMSpropOptions | undefined);
    case "adam":
      return new Adam(options as AdamOptions | undefined);
    default:
      throw new ArgumentError(
        "createOptimizer",
        `createOptimizer: unknown optimizer name ${describeValue(name)} (valid names: ${OPTIMIZER_NAMES.join(", ")})`,
      );
  }
}
