/**
 * The `Optimizer` interface of chapter 1 of "Deep Learning from Scratch 2" and the checks every
 * optimizer shares: hyper-parameters, `update`'s arguments, and per-parameter state keyed by
 * position.
 */
import {
  ArgumentError,
  assertTensor,
  DTypeError,
  describeValue,
  type FloatArray,
  fmtShape,
  isTensor,
  type Shape,
  ShapeError,
  shapesEqual,
  type Tensor,
} from "@gradgraph/core";
import { isArray, isArrayOrRevoked, notAnInstance } from "../checks.js";

/**
 * An optimizer in the book's sense: `update(params, grads)` changes `params[i].data` in place
 * from `grads[i]`, where the two lists line up entry by entry (a layer's or model's `params` and
 * `grads`). Stateful optimizers key their state by position, so every call must pass the
 * parameters in the same order.
 */
export interface Optimizer {
  /** The optimizer's name as it appears in error messages, e.g. `'Adam'`. */
  readonly name: string;
  /** The learning rate; settable between updates (a schedule, say). */
  lr: number;
  /**
   * Updates every `params[i].data` in place from `grads[i]` and bumps each parameter's version
   * (`markModified`).
   * @throws ArgumentError for non-arrays, non-Tensor entries, lists of different lengths, or a
   *   parameter count that differs from the first update's (stateful optimizers).
   * @throws ShapeError/DTypeError when `params[i]` and `grads[i]` differ in shape or dtype, or
   *   `params[i]` no longer matches the state allocated for position `i`.
   */
  update(params: readonly Tensor[], grads: readonly Tensor[]): void;
}

/**
 * What a hyper-parameter may be: `'nonnegative'` (>= 0), `'positive'` (> 0) or `'unitOpen'`
 * (in [0, 1)).
 * @internal
 */
export type HyperRule = "nonnegative" | "positive" | "unitOpen";

const RULE_TEXT: Record<HyperRule, string> = {
  nonnegative: ">= 0",
  positive: "> 0",
  unitOpen: "in [0, 1)",
};

/**
 * Checks a hyper-parameter: a finite number that satisfies `rule`.
 * @throws ArgumentError naming `owner`, `arg` and the value otherwise.
 * @internal
 */
export function checkHyper(owner: string, arg: string, value: unknown, rule: HyperRule = "nonnegative"): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= 0 &&
    (rule === "positive" ? value > 0 : rule === "unitOpen" ? value < 1 : true);
  if (!ok) {
    throw new ArgumentError(
      owner,
      `${owner}: ${arg} must be a finite number ${RULE_TEXT[rule]}, got ${describeValue(value)}`,
    );
  }
  return value as number;
}

/**
 * Checks a constructor's options argument: `undefined` or a plain object whose keys are all in
 * `allowed` (a misspelt or foreign option would otherwise be ignored silently).
 * @throws ArgumentError naming `owner` otherwise.
 * @internal
 */
export function checkOptions<T extends object>(owner: string, options: T | undefined, allowed: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || isArrayOrRevoked(options)) {
    throw new ArgumentError(
      owner,
      `${owner}: options must be an object such as { lr: 0.01 }, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ArgumentError(
        owner,
        `${owner}: unknown option '${key.length > 40 ? `${key.slice(0, 40)}…` : key}' (valid options: ${allowed.join(", ")})`,
      );
    }
  }
  return options;
}

/**
 * Checks `update`'s arguments before anything is changed: two arrays of equal length whose
 * entries are Tensors, `grads[i]` of the same shape and dtype as `params[i]`.
 * @internal
 */
export function checkUpdateArgs(fn: string, params: unknown, grads: unknown): void {
  if (!isArray(params)) {
    throw new ArgumentError(fn, `${fn}: params must be an array of Tensors, got ${describeValue(params)}`);
  }
  if (!isArray(grads)) {
    throw new ArgumentError(fn, `${fn}: grads must be an array of Tensors, got ${describeValue(grads)}`);
  }
  if (params.length !== grads.length) {
    throw new ArgumentError(
      fn,
      `${fn}: params has ${params.length} entries but grads has ${grads.length}; they must line up one to one`,
    );
  }
  for (let i = 0; i < params.length; i++) {
    const p = assertTensor(fn, `params[${i}]`, params[i]);
    const g: unknown = grads[i];
    if (!isTensor(g)) {
      const hint = g === null || g === undefined ? ` (has backward() reached params[${i}]?)` : "";
      throw new ArgumentError(fn, `${fn}: grads[${i}] must be a Tensor, got ${describeValue(g)}${hint}`);
    }
    if (!shapesEqual(p.shape, g.shape)) {
      throw new ShapeError(
        fn,
        `${fn}: params[${i}] has shape ${fmtShape(p.shape)} but grads[${i}] has shape ${fmtShape(g.shape)}`,
      );
    }
    if (p.dtype !== g.dtype) {
      throw new DTypeError(
        fn,
        `${fn}: params[${i}] (shape ${fmtShape(p.shape)}) is ${p.dtype} but grads[${i}] (shape ${fmtShape(g.shape)}) is ${g.dtype}`,
      );
    }
    if (p.dtype === "int32" || p.dtype === "bool") {
      throw new DTypeError(
        fn,
        `${fn}: params[${i}] (shape ${fmtShape(p.shape)}) is ${p.dtype}; only float tensors are trained`,
      );
    }
  }
}

/**
 * Per-parameter buffers (velocity, h, m, v), `slots` of them per parameter, keyed by position
 * and allocated on the first update with each parameter's dtype and shape.
 * @internal
 */
export class ParamState {
  /** `buffers[k][i]`: slot `k` of parameter `i`; empty until the first update. */
  buffers: FloatArray[][] = [];
  #shapes: Shape[] | null = null;

  constructor(readonly slots: number) {}

  /** Whether the first update has allocated the buffers. */
  get allocated(): boolean {
    return this.#shapes !== null;
  }

  /**
   * Checks that `params` (already checked by `checkUpdateArgs`) still matches the allocated
   * state: the same count, and at each position the same shape and dtype.
   */
  check(fn: string, params: readonly Tensor[]): void {
    const shapes = this.#shapes;
    if (shapes === null) return;
    if (params.length !== shapes.length) {
      throw new ArgumentError(
        fn,
        `${fn}: got ${params.length} params but the first update had ${shapes.length}; the per-parameter state is keyed by position (use a new optimizer for a different parameter list)`,
      );
    }
    const first = this.buffers[0]!;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const s = shapes[i]!;
      if (!shapesEqual(p.shape, s)) {
        throw new ShapeError(
          fn,
          `${fn}: params[${i}] has shape ${fmtShape(p.shape)} but the state from the first update has shape ${fmtShape(s)} at that position`,
        );
      }
      const stateDType = first[i] instanceof Float64Array ? "float64" : "float32";
      if (p.dtype !== stateDType) {
        throw new DTypeError(
          fn,
          `${fn}: params[${i}] (shape ${fmtShape(p.shape)}) is ${p.dtype} but the state from the first update is ${stateDType} at that position`,
        );
      }
    }
  }

  /** The buffers, allocated (zero-filled) on the first call. */
  ensure(params: readonly Tensor[]): FloatArray[][] {
    if (this.#shapes === null) {
      this.#shapes = params.map((p) => [...p.shape]);
      this.buffers = Array.from({ length: this.slots }, () =>
        params.map((p) => (p.dtype === "float64" ? new Float64Array(p.size) : new Float32Array(p.size))),
      );
    }
    return this.buffers;
  }
}

/** The brand check of optimizers (LearningRate's private field). */
let isOptimizer: (value: object) => boolean;

/**
 * Checks that `self` is one of this package's optimizers (`ok`, when given, is the class's own
 * brand check). @throws ArgumentError naming `member`.
 * @internal
 */
export function checkOptimizerThis(member: string, self: unknown, ok?: (v: object) => boolean): void {
  if (typeof self !== "object" || self === null || !isOptimizer(self) || (ok !== undefined && !ok(self))) {
    throw notAnInstance(member, member.split(".")[0]!, self);
  }
}

/**
 * The learning-rate bookkeeping every optimizer shares: `lr` is checked when set, in the
 * constructor and afterwards.
 * @internal
 */
export abstract class LearningRate {
  /** The optimizer's name as it appears in error messages, e.g. `'Adam'`. */
  readonly name: string;
  #lr = 0;

  constructor(name: string, lr: number) {
    this.name = name;
    this.lr = lr;
  }

  static {
    isOptimizer = (v) => #lr in v;
  }

  /**
   * The learning rate: a finite number >= 0.
   * @throws ArgumentError when set to anything else, or read or set on something that is not an
   *   optimizer.
   */
  get lr(): number {
    checkOptimizerThis("Optimizer.lr", this);
    return this.#lr;
  }

  set lr(value: number) {
    checkOptimizerThis("Optimizer.lr", this);
    this.#lr = checkHyper(this.name, "lr", value);
  }
}
