/**
 * First-order optimizers of "Deep Learning from Scratch" (common/optimizer.py): plain SGD,
 * momentum SGD and Nesterov's accelerated gradient.
 */
import type { Tensor } from "@gradgraph/core";
import { axpy } from "@gradgraph/core/kernels";
import { markAllModified } from "../checks.js";
import {
  checkHyper,
  checkOptimizerThis,
  checkOptions,
  checkUpdateArgs,
  LearningRate,
  type Optimizer,
  ParamState,
} from "./optimizer.js";

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate, a finite number >= 0 (default 0.01). */
  lr?: number;
}

/** Options of `Momentum` and `Nesterov`. */
export interface MomentumOptions {
  /** Learning rate, a finite number >= 0 (default 0.01). */
  lr?: number;
  /** Momentum coefficient, a finite number >= 0 (default 0.9). */
  momentum?: number;
}

const SGD_KEYS = ["lr"] as const;
const MOMENTUM_KEYS = ["lr", "momentum"] as const;

/**
 * Stochastic gradient descent:
 *
 * ```text
 * p ← p − lr·g
 * ```
 *
 * Stateless, so `update` may be given any list of parameters on each call.
 */
export class SGD extends LearningRate implements Optimizer {
  /**
   * An optimizer with the given learning rate (default 0.01).
   * @throws ArgumentError for a bad options object or an `lr` that is negative or not finite.
   */
  constructor(options: SGDOptions = {}) {
    const { lr = 0.01 } = checkOptions("SGD", options, SGD_KEYS);
    super("SGD", lr);
  }

  /** `p ← p − lr·g` for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("SGD.update", this);
    checkUpdateArgs("SGD.update", params, grads);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("SGD.update", "params", params);
    const lr = this.lr;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      // p + (−lr)·g equals p − lr·g exactly; axpy runs large arrays in the WASM SIMD kernel
      axpy(-lr, grads[i]!.data, param.data);
    }
  }
}

/**
 * Momentum SGD, with a velocity `v` per parameter (zeros at first):
 *
 * ```text
 * v ← momentum·v − lr·g
 * p ← p + v
 * ```
 */
export class Momentum extends LearningRate implements Optimizer {
  /** The momentum coefficient. */
  readonly momentum: number;
  readonly #state = new ParamState(1);

  /**
   * An optimizer with the given hyper-parameters (defaults in {@link MomentumOptions}); the
   * velocities are allocated on the first update.
   * @throws ArgumentError for a bad options object or a negative or non-finite hyper-parameter.
   */
  constructor(options: MomentumOptions = {}) {
    const { lr = 0.01, momentum = 0.9 } = checkOptions("Momentum", options, MOMENTUM_KEYS);
    super("Momentum", lr);
    this.momentum = checkHyper("Momentum", "momentum", momentum);
  }

  /** One momentum step for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("Momentum.update", this, (v: object) => #state in v);
    checkUpdateArgs("Momentum.update", params, grads);
    this.#state.check("Momentum.update", params);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("Momentum.update", "params", params);
    const vs = this.#state.ensure(params)[0]!;
    const lr = this.lr;
    const mu = this.momentum;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const p = param.data;
      const g = grads[i]!.data;
      const v = vs[i]!;
      for (let j = 0; j < p.length; j++) {
        v[j] = mu * v[j]! - lr * g[j]!;
        p[j] = p[j]! + v[j]!;
      }
    }
  }
}

/**
 * Nesterov's accelerated gradient (http://arxiv.org/abs/1212.0901) in the book's form, which
 * needs only the gradient at the current parameters; a velocity `v` per parameter (zeros at
 * first):
 *
 * ```text
 * v ← momentum·v − lr·g
 * p ← p + momentum²·v − (1 + momentum)·lr·g
 * ```
 */
export class Nesterov extends LearningRate implements Optimizer {
  /** The momentum coefficient. */
  readonly momentum: number;
  readonly #state = new ParamState(1);

  /**
   * An optimizer with the given hyper-parameters (defaults in {@link MomentumOptions}); the
   * velocities are allocated on the first update.
   * @throws ArgumentError for a bad options object or a negative or non-finite hyper-parameter.
   */
  constructor(options: MomentumOptions = {}) {
    const { lr = 0.01, momentum = 0.9 } = checkOptions("Nesterov", options, MOMENTUM_KEYS);
    super("Nesterov", lr);
    this.momentum = checkHyper("Nesterov", "momentum", momentum);
  }

  /** One Nesterov step for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("Nesterov.update", this, (v: object) => #state in v);
    checkUpdateArgs("Nesterov.update", params, grads);
    this.#state.check("Nesterov.update", params);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("Nesterov.update", "params", params);
    const vs = this.#state.ensure(params)[0]!;
    const lr = this.lr;
    const mu = this.momentum;
    const mu2 = mu * mu;
    const lrg = (1 + mu) * lr;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const p = param.data;
      const g = grads[i]!.data;
      const v = vs[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        v[j] = mu * v[j]! - lr * gj;
        p[j] = p[j]! + mu2 * v[j]! - lrg * gj;
      }
    }
  }
}
