/**
 * Argument checks shared by the layers, models, Trainer, metrics and data set (issue 7, "bad input
 * never crashes"): each throws one of gradgraph's error classes whose message names the function
 * and the offending argument. They run once per call at function entry, never per element of a
 * hot loop.
 * @internal
 */
import {
  ArgumentError,
  assertFloatTensor,
  assertTensor,
  checkSeed,
  DTypeError,
  describeValue,
  type FloatDType,
  fmtShape,
  GraphError,
  isTensor,
  type Seed,
  ShapeError,
  shapesEqual,
  Tensor,
  tensorLabel,
} from "@gradgraph/core";

/** Most elements a tensor may have (core's limit, 2^31 − 1). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * An options argument as an object: `{}` for undefined or null; otherwise a plain object whose
 * keys are all in `allowed` (a misspelt option would otherwise be ignored silently).
 * @throws ArgumentError naming `fn` for anything else, or an unknown key.
 */
export function optionsIn<O extends object>(fn: string, options: unknown, allowed: readonly string[]): O {
  if (options === undefined || options === null) return {} as O;
  if (typeof options !== "object" || isArrayOrRevoked(options) || isTensorLike(options)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ArgumentError(
        fn,
        `${fn}: unknown option ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)} (valid options: ${allowed.join(", ")})`,
      );
    }
  }
  return options as O;
}

/**
 * A seed option as `Rng` takes it (a safe integer or a signed 64-bit BigInt, unchanged), or
 * `fallback` when undefined. @throws ArgumentError naming `fn` (see core's `checkSeed`).
 */
export function seedIn(fn: string, seed: unknown, fallback: Seed): Seed {
  return seed === undefined ? fallback : checkSeed(fn, seed);
}

/** A dtype option, default float32. @throws DTypeError naming `fn`. */
export function dtypeIn(fn: string, dtype: unknown): FloatDType {
  if (dtype === undefined) return "float32";
  if (dtype === "float32" || dtype === "float64") return dtype;
  throw new DTypeError(fn, `${fn}: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
}

/** A positive safe integer (a size or count). @throws ArgumentError naming `fn` and `arg`. */
export function positiveIntIn(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new ArgumentError(fn, `${fn}: ${arg} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * A parameter tensor for a layer: a Tensor that is a leaf (it becomes trainable, and only a
 * leaf's `requiresGrad` can be set).
 * @throws ArgumentError naming `fn` and `arg`.
 */
export function checkParam(fn: string, arg: string, value: unknown): Tensor {
  const t = assertFloatTensor(fn, arg, value);
  if (Object.isFrozen(t)) {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} ${tensorLabel(t)} is frozen (Object.freeze); a parameter must be writable (it becomes trainable, and updates change it)`,
    );
  }
  if (t.creator !== null) {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be a leaf tensor to become a trainable parameter, but it was produced by op '${t.creator.op.name}' (pass ${arg}.detach() or a copy)`,
    );
  }
  return t;
}

/** A layer's parameter list: an array of leaf tensors (holes of a sparse array fail). */
export function checkParamList(fn: string, params: unknown): readonly Tensor[] {
  if (!isArray(params)) {
    throw new ArgumentError(fn, `${fn}: params must be an array of tensors, got ${describeValue(params)}`);
  }
  for (let i = 0; i < params.length; i++) checkParam(fn, `params[${i}]`, params[i]);
  return params as readonly Tensor[];
}

/**
 * The input of a `MatMul` or `Affine` layer: a tensor of rank >= 1 whose last dimension is W's
 * first (a batch N×D for W of D×H).
 * @throws ArgumentError/ShapeError naming `<layer>.forward` and `x`.
 */
export function checkLinearInput(layer: string, W: Tensor, x: Tensor): void {
  // (the name for messages is built only when one is thrown)
  if (!isTensor(x)) assertTensor(`${layer}.forward`, "x", x);
  const D = W.shape[0]!;
  if (x.rank === 0 || x.shape[x.rank - 1] !== D) {
    const fn = `${layer}.forward`;
    throw new ShapeError(
      fn,
      `${fn}: x of shape ${fmtShape(x.shape)} does not fit W of shape ${fmtShape(W.shape)}: x must be N×${D} (its last dimension ${D})`,
    );
  }
}

/** An input with a class axis (rank >= 1). @throws ShapeError naming `fn` and `arg`. */
export function checkClassAxis(fn: string, arg: string, x: Tensor): void {
  if (assertTensor(fn, arg, x).rank === 0) {
    throw new ShapeError(fn, `${fn}: ${arg} must have a class axis (rank >= 1), got shape ${fmtShape(x.shape)}`);
  }
}

/**
 * Checks labels for scores `x` (N×C, or any shape whose last axis holds the C classes): either
 * targets of x's shape (one-hot or probabilities), or class indices (a tensor of x's shape without
 * the class axis, or an array or Int32Array of that many entries), each an integer in [0, C) or
 * equal to `ignoreIndex` (when not null).
 * @throws ArgumentError/ShapeError naming `fn` and `arg`.
 */
export function checkLabelsFor(
  fn: string,
  arg: string,
  x: Tensor,
  t: unknown,
  ignoreIndex: number | null = null,
): void {
  checkClassAxis(fn, "x", x);
  const C = x.shape[x.rank - 1]!;
  let values: ArrayLike<unknown>;
  if (isTensor(t)) {
    if (shapesEqual(t.shape, x.shape)) return;
    const batch = x.shape.slice(0, -1);
    if (!shapesEqual(t.shape, batch)) {
      throw new ShapeError(
        fn,
        `${fn}: ${arg} of shape ${fmtShape(t.shape)} fits neither x of shape ${fmtShape(x.shape)} (one-hot) nor ${fmtShape(batch)} (class indices)`,
      );
    }
    values = t.data;
  } else if (isArray(t) || isInt32Array(t)) {
    // the number of rows, without slicing the shape (this runs once per training step)
    let n = 1;
    for (let i = 0; i < x.shape.length - 1; i++) n *= x.shape[i]!;
    if (t.length !== n) {
      throw new ShapeError(
        fn,
        `${fn}: ${arg} has ${t.length} class indices for ${n} rows of x of shape ${fmtShape(x.shape)}`,
      );
    }
    values = t;
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be a Tensor, an array or an Int32Array of class indices, got ${describeValue(t)}`,
    );
  }
  checkClassIndices(fn, arg, values, C, ignoreIndex);
}

/**
 * Every entry an integer in [0, C) or equal to `ignoreIndex` (when not null; holes of a sparse
 * array fail). @throws ArgumentError naming `fn` and `arg`.
 */
export function checkClassIndices(
  fn: string,
  arg: string,
  values: ArrayLike<unknown>,
  C: number,
  ignoreIndex: number | null = null,
): void {
  for (let i = 0; i < values.length; i++) {
    const k = values[i];
    if (ignoreIndex !== null && k === ignoreIndex) continue;
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= C) {
      const or = ignoreIndex === null ? "" : ` or ignoreIndex (${ignoreIndex})`;
      throw new ArgumentError(
        fn,
        `${fn}: ${arg}[${i}] is ${describeValue(k)}; class indices must be integers in [0, ${C})${or}`,
      );
    }
  }
}

/**
 * The arguments of `autodiffBackward` (a layer's backward): `dout` must be a Tensor of the
 * output's shape, and may be omitted only for a one-element output; the forward's graph must not
 * have been differentiated already.
 * @throws ArgumentError/ShapeError/GraphError naming `<layer>.backward`.
 */
export function checkBackwardArgs(
  layer: unknown,
  input: unknown,
  output: unknown,
  params: unknown,
  grads: unknown,
  dout: unknown,
): void {
  if (typeof layer !== "string" || layer.length === 0) {
    throw new ArgumentError(
      "autodiffBackward",
      `autodiffBackward: layer must be the layer's name (a non-empty string), got ${describeValue(layer)}`,
    );
  }
  const fn = `${layer}.backward`;
  for (const [arg, v] of [
    ["input", input],
    ["output", output],
  ] as const) {
    if (v !== null && !isTensor(v)) {
      throw new ArgumentError(fn, `${fn}: ${arg} must be a Tensor or null, got ${describeValue(v)}`);
    }
  }
  if (!isArray(params) || !isArray(grads) || params.length !== grads.length) {
    throw new ArgumentError(
      fn,
      `${fn}: params and grads must be arrays of tensors of the same length, got ${describeValue(params)} and ${describeValue(grads)}`,
    );
  }
  for (let i = 0; i < params.length; i++) {
    const p: unknown = params[i];
    const g: unknown = grads[i];
    if (!isTensor(p) || !isTensor(g) || !shapesEqual(p.shape, g.shape)) {
      throw new ArgumentError(
        fn,
        `${fn}: params[${i}] and grads[${i}] must be tensors of the same shape, got ${describeValue(p)} and ${describeValue(g)}`,
      );
    }
    if (p.dtype === "int32" || p.dtype === "bool" || g.dtype === "int32" || g.dtype === "bool") {
      throw new DTypeError(
        fn,
        `${fn}: params[${i}] and grads[${i}] must be float tensors, got ${tensorLabel(p)} and ${tensorLabel(g)}`,
      );
    }
    if (!p.requiresGrad) {
      throw new ArgumentError(
        fn,
        `${fn}: params[${i}] ${tensorLabel(p)} does not require grad (make it a parameter with gradBufferFor)`,
      );
    }
  }
  if (input === null || output === null) return; // "call forward first", reported by the caller
  const out = output as Tensor;
  if (dout === undefined) {
    if (out.size !== 1 && out.requiresGrad) {
      throw new GraphError(
        fn,
        `${fn}: dout is required for the last forward's output of shape ${fmtShape(out.shape)} (only a one-element output defaults to 1)`,
      );
    }
  } else if (isTensor(dout) && !shapesEqual(dout.shape, out.shape)) {
    throw new ShapeError(
      fn,
      `${fn}: dout of shape ${fmtShape(dout.shape)} does not match the last forward's output of shape ${fmtShape(out.shape)}`,
    );
  }
  if (out.creator?.released) {
    throw new GraphError(
      fn,
      `${fn}: the last forward was already differentiated (backward frees its graph); call forward again before another backward`,
    );
  }
}

/** What `Sequential` needs of a layer. @throws ArgumentError naming `fn` and `arg`. */
export function checkLayerLike(fn: string, arg: string, layer: unknown, needsLabels: boolean): void {
  const l = layer as { name?: unknown; params?: unknown; grads?: unknown; forward?: unknown; backward?: unknown };
  const ok =
    layer !== null &&
    typeof layer === "object" &&
    !isArrayOrRevoked(layer) &&
    isCallable(l.forward) &&
    isCallable(l.backward) &&
    isArray(l.params) &&
    isArray(l.grads) &&
    l.params.length === l.grads.length;
  if (!ok) {
    const what = needsLabels ? "a loss layer" : "a layer";
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be ${what} (params and grads arrays of equal length, forward and backward methods), got ${describeValue(layer)}`,
    );
  }
}

/** What a Trainer needs of a model. @throws ArgumentError naming `fn` and `arg`. */
export function checkModelLike(fn: string, arg: string, model: unknown): void {
  const m = model as { params?: unknown; grads?: unknown; forward?: unknown; backward?: unknown };
  const ok =
    model !== null &&
    typeof model === "object" &&
    !isArrayOrRevoked(model) &&
    isCallable(m.forward) &&
    isCallable(m.backward) &&
    isArray(m.params) &&
    isArray(m.grads) &&
    m.params.length === m.grads.length;
  if (!ok) {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be a model (params and grads arrays of equal length, forward and backward methods), got ${describeValue(model)}`,
    );
  }
}

/**
 * True for a function that can be called without `new`: not a class or a built-in constructor such
 * as `Map` (their `prototype` is read-only; an ordinary function's is writable, and arrow functions,
 * methods and async functions have none). Calling a class throws a bare TypeError.
 */
export function isCallable(v: unknown): v is (...args: never[]) => unknown {
  if (typeof v !== "function") return false;
  if (v.prototype === undefined) return true;
  return Object.getOwnPropertyDescriptor(v, "prototype")?.writable !== false;
}

/** `Array.isArray` that never throws: a revoked Proxy is not an array. */
export function isArray(v: unknown): v is readonly unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** True for an array or a revoked Proxy (from which nothing can be read): not an options object. */
export function isArrayOrRevoked(v: unknown): boolean {
  try {
    return Array.isArray(v);
  } catch {
    return true;
  }
}

/** `v instanceof Int32Array` that never throws (a revoked Proxy is not one). */
export function isInt32Array(v: unknown): v is Int32Array {
  return isInstance(v, Int32Array);
}

/** `v instanceof C` that never throws (a revoked Proxy, or a Proxy whose getPrototypeOf throws, is not one). */
export function isInstance<T>(v: unknown, C: abstract new (...args: never[]) => T): v is T {
  try {
    return v instanceof C;
  } catch {
    return false;
  }
}

/**
 * The error for a method or accessor of `cls` called on something that is not one (a method
 * detached from its object, `const f = layer.forward; f(x)`, or called on another value).
 */
export function notAnInstance(member: string, cls: string, self: unknown): ArgumentError {
  return new ArgumentError(
    member,
    `${member}: this must be ${/^[AEIOU]/.test(cls) ? "an" : "a"} ${cls} (the method was called on another value, e.g. detached from its object), got ${describeValue(self)}`,
  );
}

/**
 * The error for an object that `member` must write to but cannot (frozen with Object.freeze).
 * Callers make their first write inside a try/catch and throw this from the catch: free, where
 * Object.isFrozen before every call costs a call into the runtime.
 */
export function frozenError(member: string, what: string): ArgumentError {
  return new ArgumentError(member, `${member}: ${what} is frozen (Object.freeze), and ${member} must update it`);
}

/**
 * Marks every parameter modified before anything is changed (the optimizers and clipGradNorm
 * change `data` in place): a frozen one throws here, with nothing changed yet.
 * @throws ArgumentError naming `fn` and the parameter.
 */
export function markAllModified(fn: string, arg: string, tensors: readonly Tensor[]): void {
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    try {
      t.markModified();
    } catch {
      throw new ArgumentError(
        fn,
        `${fn}: ${arg}[${i}] ${tensorLabel(t)} is frozen (Object.freeze) and cannot be updated`,
      );
    }
  }
}

/**
 * True for a tensor, or an object with Tensor's prototype: not an options object (its getters,
 * `storage` and `requiresGrad`, would be read as options, and throw for a fake).
 */
function isTensorLike(v: object): boolean {
  try {
    return Object.getPrototypeOf(v) === Tensor.prototype;
  } catch {
    return false;
  }
}
