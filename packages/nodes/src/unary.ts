/**
 * Elementwise functions of one tensor, each a forward on the `unaryInto` kernel beside a
 * derivative written with this package's ops, so second derivatives work through
 * `grad(..., { createGraph: true })`. Derivatives that are functions of the output (exp, sqrt,
 * sigmoid, tanh) read the saved output tensor. The derivatives of relu, sigmoid and tanh are ops of
 * their own (`reluGrad`, `sigmoidGrad`, `tanhGrad`), one fused kernel (`unaryGradInto`) each.
 */
import {
  allocArray,
  defineOp,
  type ForwardContext,
  fmtShape,
  type Kept,
  type Op,
  type RawArray,
  ShapeError,
  shapesEqual,
  Tensor,
  type TensorLike,
} from "@gradgraph/core";
import { type UnaryGradKind, type UnaryKind, unaryGradInto, unaryInto } from "@gradgraph/core/kernels";
import { div, mul, sub } from "./arithmetic.js";

/** The forward of an elementwise op: `f(x)` into a new array of `x`'s shape. */
function elementwise(kind: UnaryKind, x: Tensor, ctx: ForwardContext): RawArray {
  const out = ctx.alloc(x.shape);
  unaryInto(kind, x.data, out.data);
  return out;
}

/** `exp`: derivative `gy·y` with the saved output `y = exp(x)`. */
export const expOp: Op = defineOp({
  name: "exp",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    ctx.saveOutput();
    return elementwise("exp", x!, ctx);
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
    ctx.saveInputs(0);
    return elementwise("log", x!, ctx);
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
    ctx.saveOutput();
    return elementwise("sqrt", x!, ctx);
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
export const absOp: Op<undefined, "operands"> = defineOp({
  name: "abs",
  inputs: ["x"],
  integers: "int",
  forward([x], _attrs, ctx) {
    ctx.saveInputs(0);
    return elementwise("abs", x!, ctx);
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

/**
 * An elementwise derivative as an op of its own, `f'·gy` from the upstream gradient `gy` and the
 * saved tensor `v` (relu's input, or sigmoid's and tanh's output): the forward runs one fused
 * kernel, so a first-order backward of `relu`, `sigmoid` or `tanh` is one op on a raw kernel,
 * and its own derivative is written with differentiable ops (`second`), as every op's is.
 */
function derivativeOp(
  name: string,
  kind: UnaryGradKind,
  vName: string,
  second: (u: Tensor, gy: Tensor, v: Tensor) => Tensor | null,
  domain: readonly [number, number],
): Op {
  const op: Op = defineOp({
    name,
    inputs: ["gy", vName],
    check([gy, v]) {
      if (!shapesEqual(gy!.shape, v!.shape)) {
        throw new ShapeError(
          name,
          `${name}: gy of shape ${fmtShape(gy!.shape)} and ${vName} of shape ${fmtShape(v!.shape)} differ`,
        );
      }
    },
    forward([gy, v], _attrs, ctx) {
      const out = ctx.alloc(v!.shape);
      unaryGradInto(kind, v!.data, gy!.data, out.data);
      ctx.saveInputs(0, 1);
      return out;
    },
    // the gradient it returns is a new tensor, and it keeps none it receives
    ownsGradients: true,
    backward(u, ctx) {
      const [dgy, dv] = ctx.needsInputGrad;
      const v = ctx.input(1);
      return [dgy ? op([u, v]) : null, dv ? second(u, ctx.input(0), v) : null];
    },
    test: { shapes: "same", domains: [undefined, domain], avoid: kind === "relu" ? [0] : undefined },
  });
  return op;
}

/** `sigmoidGrad(gy, y) = gy·y·(1 − y)`, sigmoid's derivative; ∂/∂y = gy·(1 − 2y). */
export const sigmoidGradOp: Op = derivativeOp(
  "sigmoidGrad",
  "sigmoid",
  "y",
  (u, gy, y) => mul(mul(u, gy), sub(1, mul(y, 2))),
  [0.05, 0.95],
);

/** `tanhGrad(gy, y) = gy·(1 − y²)`, tanh's derivative; ∂/∂y = −2·gy·y. */
export const tanhGradOp: Op = derivativeOp(
  "tanhGrad",
  "tanh",
  "y",
  (u, gy, y) => mul(mul(u, gy), mul(y, -2)),
  [-0.95, 0.95],
);

/** `reluGrad(gy, x) = gy·[x > 0]`, relu's derivative; constant in `x` (∂/∂x = 0 away from 0). */
export const reluGradOp: Op = derivativeOp("reluGrad", "relu", "x", () => null, [-2, 2]);

/**
 * The first-order derivative of relu, sigmoid or tanh straight on the `unaryGradInto` kernel,
 * without the call of its derivative op (a fusedBackward, which checkOp compares with the op's
 * backward): `f'·gy` from the saved `v`, into the engine's destination `into` when it offers one;
 * null when the dtypes or shapes are not the plain case (the op's backward then runs).
 */
function rawDerivative(kind: UnaryGradKind, gy: Tensor, v: Tensor, into: Tensor | null): Tensor | null {
  if (gy.dtype !== v.dtype || !shapesEqual(gy.shape, v.shape)) return null;
  if (into !== null && into.dtype === v.dtype && shapesEqual(into.shape, v.shape)) {
    unaryGradInto(kind, v.data, gy.data, into.data);
    return into;
  }
  const out = allocArray(v.dtype, v.size);
  unaryGradInto(kind, v.data, gy.data, out);
  return new Tensor(out, v.shape);
}

/** `sigmoid`: derivative `gy·y·(1 − y)` with the saved output `y` ({@link sigmoidGradOp}). */
export const sigmoidOp: Op = defineOp({
  name: "sigmoid",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    ctx.saveOutput();
    return elementwise("sigmoid", x!, ctx);
  },
  ownsGradients: true,
  backward(gy, ctx) {
    return [sigmoidGradOp([gy, ctx.output()])];
  },
  // the same kernel without the op call, for a pass that records nothing (checkOp compares it with backward)
  fusedBackward(gy, ctx, out) {
    return [
      rawDerivative("sigmoid", gy as Tensor, ctx.output(), out.take(0)) ?? sigmoidGradOp([gy as Tensor, ctx.output()]),
    ];
  },
});

/** `tanh`: derivative `gy·(1 − y²)` with the saved output `y` ({@link tanhGradOp}). */
export const tanhOp: Op = defineOp({
  name: "tanh",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    ctx.saveOutput();
    return elementwise("tanh", x!, ctx);
  },
  ownsGradients: true,
  backward(gy, ctx) {
    return [tanhGradOp([gy, ctx.output()])];
  },
  // the same kernel without the op call, for a pass that records nothing (checkOp compares it with backward)
  fusedBackward(gy, ctx, out) {
    return [rawDerivative("tanh", gy as Tensor, ctx.output(), out.take(0)) ?? tanhGradOp([gy as Tensor, ctx.output()])];
  },
});

/**
 * `relu`: derivative `gy·[x > 0]` from the saved input ({@link reluGradOp}); `relu'(0) = 0` as
 * PyTorch.
 */
export const reluOp: Op<undefined, "operands"> = defineOp({
  name: "relu",
  inputs: ["x"],
  integers: "int",
  forward([x], _attrs, ctx) {
    ctx.saveInputs(0);
    return elementwise("relu", x!, ctx);
  },
  ownsGradients: true,
  backward(gy, ctx) {
    return [reluGradOp([gy, ctx.input(0)])];
  },
  // the same kernel without the op call, for a pass that records nothing (checkOp compares it with backward)
  fusedBackward(gy, ctx, out) {
    return [rawDerivative("relu", gy as Tensor, ctx.input(0), out.take(0)) ?? reluGradOp([gy as Tensor, ctx.input(0)])];
  },
  test: { avoid: [0] },
});

/**
 * Elementwise exponential `eˣ`, of `x`'s shape (a number gives a 0-d tensor). Overflows to
 * Infinity above about 709 (float64) or 88 (float32). Derivative `eˣ`.
 * @throws ArgumentError naming `exp` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function exp(x: TensorLike): Tensor {
  return expOp([x]);
}

/**
 * Elementwise natural logarithm, of `x`'s shape (a number gives a 0-d tensor): −Infinity at 0,
 * NaN for negative `x`. Derivative `1/x` (Infinity at 0).
 * @throws ArgumentError naming `log` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function log(x: TensorLike): Tensor {
  return logOp([x]);
}

/**
 * Elementwise square root, of `x`'s shape (a number gives a 0-d tensor): NaN for negative `x`.
 * Derivative `1/(2√x)` (Infinity at 0).
 * @throws ArgumentError naming `sqrt` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function sqrt(x: TensorLike): Tensor {
  return sqrtOp([x]);
}

/**
 * Elementwise absolute value, of `x`'s shape (a number gives a 0-d tensor). Derivative
 * `sign(x)`; at the kink `x = 0` the chosen derivative is 0 (as PyTorch).
 * @throws ArgumentError naming `abs` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function abs<X extends TensorLike>(x: X): Kept<X> {
  return absOp([x]) as Kept<X>;
}

/**
 * Elementwise logistic function `1 / (1 + e⁻ˣ)`, of `x`'s shape (a number gives a 0-d tensor),
 * computed without overflow for large |x|. Derivative `s·(1 − s)` with `s = sigmoid(x)`.
 * @throws ArgumentError naming `sigmoid` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function sigmoid(x: TensorLike): Tensor {
  return sigmoidOp([x]);
}

/**
 * Elementwise hyperbolic tangent, of `x`'s shape (a number gives a 0-d tensor). Derivative
 * `1 − tanh²(x)`.
 * @throws ArgumentError naming `tanh` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function tanh(x: TensorLike): Tensor {
  return tanhOp([x]);
}

/**
 * Elementwise rectifier `max(x, 0)`, of `x`'s shape (a number gives a 0-d tensor); NaN stays
 * NaN. Derivative 1 for `x > 0` and 0 for `x < 0`; at the kink `x = 0` the chosen derivative is 0
 * (as PyTorch; `maximum(x, 0)` gives 0.5 there instead).
 * @throws ArgumentError naming `relu` when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function relu<X extends TensorLike>(x: X): Kept<X> {
  return reluOp([x]) as Kept<X>;
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
  /** {@link sigmoidGradOp}, sigmoid's derivative. */
  sigmoidGrad: sigmoidGradOp,
  /** {@link tanhGradOp}, tanh's derivative. */
  tanhGrad: tanhGradOp,
  /** {@link reluGradOp}, relu's derivative. */
  reluGrad: reluGradOp,
} as const;
