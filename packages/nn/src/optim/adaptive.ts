/**
 * Optimizers with per-element adaptive step sizes, after "Deep Learning from Scratch"
 * (common/optimizer.py): AdaGrad, RMSprop and Adam. The book's fixed `1e-7` in the denominators
 * is the `eps` option here.
 */
import type { Tensor } from "@gradgraph/core";
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

/** The book's constant in the denominators, `1e-7`: the default `eps`. */
export const DEFAULT_EPS = 1e-7;

/** Options of `AdaGrad`. */
export interface AdaGradOptions {
  /** Learning rate, a finite number >= 0 (default 0.01). */
  lr?: number;
  /** Added to `√h` in the denominator, a finite number > 0 (default 1e-7). */
  eps?: number;
}

/** Options of `RMSprop`. */
export interface RMSpropOptions {
  /** Learning rate, a finite number >= 0 (default 0.01). */
  lr?: number;
  /** Decay of the running mean of squared gradients, in [0, 1) (default 0.99). */
  decayRate?: number;
  /** Added to `√h` in the denominator, a finite number > 0 (default 1e-7). */
  eps?: number;
}

/** Options of `Adam`. */
export interface AdamOptions {
  /** Learning rate, a finite number >= 0 (default 0.001). */
  lr?: number;
  /** Decay of the first-moment estimate, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment estimate, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to `√v` in the denominator, a finite number > 0 (default 1e-7). */
  eps?: number;
}

const ADAGRAD_KEYS = ["lr", "eps"] as const;
const RMSPROP_KEYS = ["lr", "decayRate", "eps"] as const;
const ADAM_KEYS = ["lr", "beta1", "beta2", "eps"] as const;

/**
 * AdaGrad, with a sum of squared gradients `h` per parameter (zeros at first):
 *
 * ```text
 * h ← h + g²
 * p ← p − lr·g / (√h + eps)
 * ```
 */
export class AdaGrad extends LearningRate implements Optimizer {
  /** Added to `√h` in the denominator. */
  readonly eps: number;
  readonly #state = new ParamState(1);

  /**
   * An optimizer with the given hyper-parameters (defaults in {@link AdaGradOptions}); per-parameter
   * state is allocated on the first update.
   * @throws ArgumentError for a bad options object or a hyper-parameter out of range.
   */
  constructor(options: AdaGradOptions = {}) {
    const { lr = 0.01, eps = DEFAULT_EPS } = checkOptions("AdaGrad", options, ADAGRAD_KEYS);
    super("AdaGrad", lr);
    this.eps = checkHyper("AdaGrad", "eps", eps, "positive");
  }

  /** One AdaGrad step for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("AdaGrad.update", this, (v: object) => #state in v);
    checkUpdateArgs("AdaGrad.update", params, grads);
    this.#state.check("AdaGrad.update", params);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("AdaGrad.update", "params", params);
    const hs = this.#state.ensure(params)[0]!;
    const lr = this.lr;
    const eps = this.eps;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const p = param.data;
      const g = grads[i]!.data;
      const h = hs[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        h[j] = h[j]! + gj * gj;
        p[j] = p[j]! - (lr * gj) / (Math.sqrt(h[j]!) + eps);
      }
    }
  }
}

/**
 * RMSprop, with a running mean of squared gradients `h` per parameter (zeros at first) and
 * `d = decayRate`:
 *
 * ```text
 * h ← d·h + (1 − d)·g²
 * p ← p − lr·g / (√h + eps)
 * ```
 */
export class RMSprop extends LearningRate implements Optimizer {
  /** Decay of the running mean of squared gradients. */
  readonly decayRate: number;
  /** Added to `√h` in the denominator. */
  readonly eps: number;
  readonly #state = new ParamState(1);

  /**
   * An optimizer with the given hyper-parameters (defaults in {@link RMSpropOptions}); per-parameter
   * state is allocated on the first update.
   * @throws ArgumentError for a bad options object or a hyper-parameter out of range.
   */
  constructor(options: RMSpropOptions = {}) {
    const { lr = 0.01, decayRate = 0.99, eps = DEFAULT_EPS } = checkOptions("RMSprop", options, RMSPROP_KEYS);
    super("RMSprop", lr);
    this.decayRate = checkHyper("RMSprop", "decayRate", decayRate, "unitOpen");
    this.eps = checkHyper("RMSprop", "eps", eps, "positive");
  }

  /** One RMSprop step for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("RMSprop.update", this, (v: object) => #state in v);
    checkUpdateArgs("RMSprop.update", params, grads);
    this.#state.check("RMSprop.update", params);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("RMSprop.update", "params", params);
    const hs = this.#state.ensure(params)[0]!;
    const lr = this.lr;
    const eps = this.eps;
    const d = this.decayRate;
    const c = 1 - d;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const p = param.data;
      const g = grads[i]!.data;
      const h = hs[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        h[j] = d * h[j]! + c * gj * gj;
        p[j] = p[j]! - (lr * gj) / (Math.sqrt(h[j]!) + eps);
      }
    }
  }
}

/**
 * Adam (http://arxiv.org/abs/1412.6980v8) in the book's form, with moment estimates `m` and `v`
 * per parameter (zeros at first) and the step count `t` (1 on the first update) folding the bias
 * correction into the step size:
 *
 * ```text
 * lr_t ← lr·√(1 − β2^t) / (1 − β1^t)
 * m ← m + (1 − β1)·(g − m)
 * v ← v + (1 − β2)·(g² − v)
 * p ← p − lr_t·m / (√v + eps)
 * ```
 *
 * (`eps` is thus added to the uncorrected `√v`, which differs slightly from PyTorch's Adam.)
 */
export class Adam extends LearningRate implements Optimizer {
  /** Decay of the first-moment estimate. */
  readonly beta1: number;
  /** Decay of the second-moment estimate. */
  readonly beta2: number;
  /** Added to `√v` in the denominator. */
  readonly eps: number;
  readonly #state = new ParamState(2);
  #iter = 0;

  /**
   * An optimizer with the given hyper-parameters (defaults in {@link AdamOptions}); per-parameter
   * state is allocated on the first update.
   * @throws ArgumentError for a bad options object or a hyper-parameter out of range.
   */
  constructor(options: AdamOptions = {}) {
    const { lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = DEFAULT_EPS } = checkOptions("Adam", options, ADAM_KEYS);
    super("Adam", lr);
    this.beta1 = checkHyper("Adam", "beta1", beta1, "unitOpen");
    this.beta2 = checkHyper("Adam", "beta2", beta2, "unitOpen");
    this.eps = checkHyper("Adam", "eps", eps, "positive");
  }

  /** The number of updates done so far (the book's `iter`, the `t` of the bias correction). */
  get iter(): number {
    checkOptimizerThis("Adam.iter", this, (v: object) => #iter in v);
    return this.#iter;
  }

  /** One Adam step for every pair, in place; see `Optimizer.update`. */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkOptimizerThis("Adam.update", this, (v: object) => #state in v);
    checkUpdateArgs("Adam.update", params, grads);
    this.#state.check("Adam.update", params);
    // every parameter is marked modified before anything changes: a frozen one throws here
    markAllModified("Adam.update", "params", params);
    const state = this.#state.ensure(params);
    const ms = state[0]!;
    const vs = state[1]!;
    const t = ++this.#iter;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const lrT = (this.lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    const eps = this.eps;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const p = param.data;
      const g = grads[i]!.data;
      const m = ms![i]!;
      const v = vs[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        m[j] = m[j]! + c1 * (gj - m[j]!);
        v[j] = v[j]! + c2 * (gj * gj - v[j]!);
        p[j] = p[j]! - (lrT * m[j]!) / (Math.sqrt(v[j]!) + eps);
      }
    }
  }
}
