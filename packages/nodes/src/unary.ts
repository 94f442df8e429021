/**
 * Elementwise functions of one tensor: a plain loop over the typed array per op (no per-element
 * callback shared between ops), beside a derivative written with this package's ops, so second
 * derivatives work through `grad(..., { createGraph: true })`. Derivatives that are functions of
 * the output (exp, sqrt, sigmoid, tanh) read the saved output tensor. Large arrays run in the
 * WebAssembly SIMD kernels (`wasmUnary`, `wasmUnaryGrad`).
 */
import { allocArray, defineOp, isGradEnabled, type Op, Tensor, type TensorLike } from "@gradgraph/core";
import { wasmUnary, wasmUnaryGrad } from "@gradgraph/core/kernels";
import { div, mul, sub } from "./arithmetic.js";

const SIGMOID_GRAD = 0;
const TANH_GRAD = 1;

/**
 * The first-order backward of sigmoid (`gy·y·(1 − y)`) or tanh (`gy·(1 − y²)`) from the saved
 * output in one loop. Used only when the backward is not being recorded; under `createGraph` the
 * same formula runs as differentiable ops, so higher orders need no extra rule.
 */
function fused(gy: Tensor, y: Tensor, kind: number): Tensor {
  const g = gy.data;
  const yd = y.data;
  const out = allocArray(y.dtype, yd.length);
  if (gy.dtype === y.dtype && wasmUnaryGrad(kind === SIGMOID_GRAD ? "sigmoid" : "tanh", yd, g, out)) {
    return new Tensor(out, y.shape);
  }
  if (kind === SIGMOID_GRAD) for (let i = 0; i < out.length; i++) out[i] = g[i]! * yd[i]! * (1 - yd[i]!);
  else for (let i = 0; i < out.length; i++) out[i] = g[i]! * (1 - yd[i]! * yd[i]!);
  return new Tensor(out, y.shape);
}

/** `exp`: derivative `gy·y` with the saved output `y = exp(x)`. */
export const expOp: Op = defineOp({
  name: "exp",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("exp", xd, o)) {
      for (let i = 0; i < o.length; i++) o[i] = Math.exp(xd[i]!);
    }
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, ctx.output())];
  },
});

/** `log`: derivative `gy / x`. */
export const logOp: Op = defineOp({
  name: "log",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("log", xd, o)) {
      for (let i = 0; i < o.length; i++) o[i] = Math.log(xd[i]!);
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [div(gy, ctx.input(0))];
  },
  test: { domain: [0.2, 3] },
});

/** `sqrt`: derivative `gy / (2y)` with the saved output `y = √x`. */
export const sqrtOp: Op = defineOp({
  name: "sqrt",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("sqrt", xd, o)) {
      for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(xd[i]!);
    }
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    return [div(gy, mul(ctx.output(), 2))];
  },
  test: { domain: [0.2, 3] },
});

/**
 * `abs`: derivative `gy·sign(x)`, with `sign` a constant mask from the saved input; `abs'(0) = 0`
 * as PyTorch.
 */
export const absOp: Op = defineOp({
  name: "abs",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("abs", xd, o)) {
      for (let i = 0; i < o.length; i++) o[i] = Math.abs(xd[i]!);
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const x = ctx.input(0);
    const xd = x.data;
    const m = allocArray(x.dtype, xd.length);
    // Math.sign: 1, −1, 0 at ±0 (the chosen derivative at the kink), NaN for NaN
    for (let i = 0; i < m.length; i++) m[i] = Math.sign(xd[i]!);
    return [mul(gy, new Tensor(m, x.shape))];
  },
  test: { avoid: [0] },
});

/** `sigmoid`: derivative `gy·y·(1 − y)` with the saved output `y`. */
export const sigmoidOp: Op = defineOp({
  name: "sigmoid",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("sigmoid", xd, o)) {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        // exp of a non-positive number only: no overflow for large |x|
        if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          o[i] = e / (1 + e);
        }
      }
    }
    ctx.saveOutput();
    return out;
  },
  ownsGradients: true,
  backward(gy, ctx) {
    const y = ctx.output();
    // not recording (a first-order backward): one fused loop instead of three ops
    if (!isGradEnabled()) return [fused(gy, y, SIGMOID_GRAD)];
    return [mul(gy, mul(y, sub(1, y)))];
  },
});

/** `tanh`: derivative `gy·(1 − y²)` with the saved output `y`. */
export const tanhOp: Op = defineOp({
  name: "tanh",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("tanh", xd, o)) {
      for (let i = 0; i < o.length; i++) o[i] = Math.tanh(xd[i]!);
    }
    ctx.saveOutput();
    return out;
  },
  ownsGradients: true,
  backward(gy, ctx) {
    const y = ctx.output();
    if (!isGradEnabled()) return [fused(gy, y, TANH_GRAD)];
    return [mul(gy, sub(1, mul(y, y)))];
  },
});

/**
 * `relu`: derivative `gy·[x > 0]`, the mask a constant from the saved input; `relu'(0) = 0` as
 * PyTorch.
 */
export const reluOp: Op = defineOp({
  name: "relu",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (!wasmUnary("relu", xd, o)) {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        // NaN stays NaN (the comparison is false), −0 becomes 0
        // biome-ignore lint/complexity/useMathMinMax: about twice as fast as Math.max(v, 0) in V8 on mixed-sign data
        o[i] = v <= 0 ? 0 : v;
      }
    }
    ctx.saveInputs(0);
    return out;
  },
  ownsGradients: true,
  backward(gy, ctx) {
    const x = ctx.input(0);
    const xd = x.data;
    // not recording (a first-order backward) and large: gy·[x > 0] in one WASM pass, the same
    // numbers as the product with the 0/1 mask below
    if (!isGradEnabled() && gy.dtype === x.dtype && gy.size === xd.length) {
      // into gy's own buffer when the engine allows it (a large temporary nothing else holds)
      const out = ctx.gradInPlace() ?? allocArray(x.dtype, xd.length);
      if (wasmUnaryGrad("relu", xd, gy.data, out)) return [new Tensor(out, x.shape)];
    }
    const m = allocArray(x.dtype, xd.length);
    for (let i = 0; i < m.length; i++) if (xd[i]! > 0) m[i] = 1;
    return [mul(gy, new Tensor(m, x.shape))];
  },
  test: { avoid: [0] },
});

/**
 * Elementwise exponential `eˣ`, of `x`'s shape (a number gives a 0-d tensor). Overflows to
 * Infinity above about 709 (float64) or 88 (float32). Derivative `eˣ`.
 * @throws ArgumentError naming `exp` when `x` is neither a Tensor nor a number.
 */
export function exp(x: TensorLike): Tensor {
  return expOp([x]);
}

/**
 * Elementwise natural logarithm, of `x`'s shape (a number gives a 0-d tensor): −Infinity at 0,
 * NaN for negative `x`. Derivative `1/x` (Infinity at 0).
 * @throws ArgumentError naming `log` when `x` is neither a Tensor nor a number.
 */
export function log(x: TensorLike): Tensor {
  return logOp([x]);
}

/**
 * Elementwise square root, of `x`'s shape (a number gives a 0-d tensor): NaN for negative `x`.
 * Derivative `1/(2√x)` (Infinity at 0).
 * @throws ArgumentError naming `sqrt` when `x` is neither a Tensor nor a number.
 */
export function sqrt(x: TensorLike): Tensor {
  return sqrtOp([x]);
}

/**
 * Elementwise absolute value, of `x`'s shape (a number gives a 0-d tensor). Derivative
 * `sign(x)`; at the kink `x = 0` the chosen derivative is 0 (as PyTorch).
 * @throws ArgumentError naming `abs` when `x` is neither a Tensor nor a number.
 */
export function abs(x: TensorLike): Tensor {
  return absOp([x]);
}

/**
 * Elementwise logistic function `1 / (1 + e⁻ˣ)`, of `x`'s shape (a number gives a 0-d tensor),
 * computed without overflow for large |x|. Derivative `s·(1 − s)` with `s = sigmoid(x)`.
 * @throws ArgumentError naming `sigmoid` when `x` is neither a Tensor nor a number.
 */
export function sigmoid(x: TensorLike): Tensor {
  return sigmoidOp([x]);
}

/**
 * Elementwise hyperbolic tangent, of `x`'s shape (a number gives a 0-d tensor). Derivative
 * `1 − tanh²(x)`.
 * @throws ArgumentError naming `tanh` when `x` is neither a Tensor nor a number.
 */
export function tanh(x: TensorLike): Tensor {
  return tanhOp([x]);
}

/**
 * Elementwise rectifier `max(x, 0)`, of `x`'s shape (a number gives a 0-d tensor); NaN stays
 * NaN. Derivative 1 for `x > 0` and 0 for `x < 0`; at the kink `x = 0` the chosen derivative is 0
 * (as PyTorch; `maximum(x, 0)` gives 0.5 there instead).
 * @throws ArgumentError naming `relu` when `x` is neither a Tensor nor a number.
 */
export function relu(x: TensorLike): Tensor {
  return reluOp([x]);
}

/** The op objects defined here, by name, for the package's `ops`. */
export const unaryOps = {
  /** {@link expOp}, behind {@link exp}. */
  exp: expOp,
  /** {@link logOp}, behind {@link log}. */
  log: logOp,
  /** {@link sqrtOp}, behind {@link sqrt}. */
  sqrt: sqrtOp,
  /** {@link absOp}, behind {@link abs}. */
  abs: absOp,
  /** {@link sigmoidOp}, behind {@link sigmoid}. */
  sigmoid: sigmoidOp,
  /** {@link tanhOp}, behind {@link tanh}. */
  tanh: tanhOp,
  /** {@link reluOp}, behind {@link relu}. */
  relu: reluOp,
} as const;
