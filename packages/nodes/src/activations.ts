/**
 * More elementwise functions, as PyTorch defines them: `square`, `sin`, `cos`, `softplus`, `elu`,
 * `leakyRelu`, `gelu` (exact and tanh forms), `normalCdf` (Φ, behind exact GELU) and `clamp`.
 * Each forward is a plain loop over the typed array; each derivative is written once, with
 * differentiable ops (a constant 0/1 mask where the function is piecewise), so higher-order
 * gradients work.
 */
import {
  ArgumentError,
  allocArray,
  defineOp,
  describeValue,
  type Kept,
  type Op,
  type Shape,
  Tensor,
  type TensorLike,
} from "@gradgraph/core";
import { add, mul, neg, sub } from "./arithmetic.js";
import { fmtAttrs, readKnownOptions } from "./format.js";
import { exp, sigmoid, tanh } from "./unary.js";

/** A constant tensor of `x`'s shape and dtype with `f(x[i])` in each element. */
function maskOf(x: Tensor, f: (v: number) => number): Tensor {
  const xd = x.data;
  const m = allocArray(x.dtype, xd.length);
  for (let i = 0; i < m.length; i++) m[i] = f(xd[i]!);
  return new Tensor(m, x.shape as Shape);
}

/** Checks that `attrs` is an object and `attrs[key]` a finite number (or absent when `optional`). */
function checkNumberAttr(op: string, attrs: unknown, key: string, optional = false): void {
  if (attrs === null || typeof attrs !== "object") {
    throw new ArgumentError(op, `${op}: attrs must be an object, got ${fmtAttrs(attrs)}`);
  }
  const v: unknown = (attrs as Record<string, unknown>)[key];
  if (optional && (v === undefined || v === null)) return;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ArgumentError(op, `${op}: ${key} must be a finite number, got ${describeValue(v)}`);
  }
}

/** `square`: `x²`, derivative `2x·gy`. */
export const squareOp: Op<undefined, "operands"> = defineOp({
  name: "square",
  inputs: ["x"],
  integers: "int",
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    // int32 operands: the square wrapped modulo 2^32 (Math.imul), as in mul
    if (ctx.resultDType === "int32") for (let i = 0; i < o.length; i++) o[i] = Math.imul(xd[i]!, xd[i]!);
    else {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        o[i] = v * v;
      }
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, mul(ctx.input(0), 2))];
  },
});

/** `sin`: derivative `cos(x)·gy`. */
export const sinOp: Op = defineOp({
  name: "sin",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = Math.sin(xd[i]!);
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, cosOp([ctx.input(0)]))];
  },
  test: { domain: [-4, 4] },
});

/** `cos`: derivative `−sin(x)·gy`. */
export const cosOp: Op = defineOp({
  name: "cos",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = Math.cos(xd[i]!);
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, neg(sinOp([ctx.input(0)])))];
  },
  test: { domain: [-4, 4] },
});

/** Options of `softplus`, as PyTorch's `softplus(x, beta, threshold)`. */
export interface SoftplusAttrs {
  /** The sharpness β (default 1): `log(1 + e^(βx)) / β`. */
  beta: number;
  /** Above `βx > threshold` (default 20) the function is `x` itself, for stability. */
  threshold: number;
}

/**
 * `softplus`: `log(1 + e^(βx)) / β`, and `x` where `βx > threshold`; derivative `sigmoid(βx)`,
 * and 1 in the linear region (as PyTorch).
 */
export const softplusOp: Op<SoftplusAttrs> = defineOp<SoftplusAttrs>({
  name: "softplus",
  inputs: ["x"],
  check(_inputs, attrs) {
    checkNumberAttr("softplus", attrs, "beta");
    checkNumberAttr("softplus", attrs, "threshold");
    if (attrs.beta === 0) throw new ArgumentError("softplus", "softplus: beta must not be 0");
  },
  forward([x], { beta, threshold }, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) {
      const v = xd[i]!;
      const bx = beta * v;
      o[i] = bx > threshold ? v : Math.log1p(Math.exp(bx)) / beta;
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const { beta, threshold } = ctx.attrs;
    const x = ctx.input(0);
    // sigmoid(βx) where βx <= threshold, 1 beyond: two constant masks keep it one expression
    const keep = maskOf(x, (v) => (beta * v > threshold ? 0 : 1));
    const linear = maskOf(x, (v) => (beta * v > threshold ? 1 : 0));
    return [mul(gy, add(mul(sigmoid(mul(x, beta)), keep), linear))];
  },
  test: { attrs: (_s, pick) => ({ beta: [1, 0.5, 2][pick.int(0, 2)]!, threshold: 20 }) },
});

/** Options of `elu`. */
export interface EluAttrs {
  /** The negative saturation value −α (default 1). */
  alpha: number;
}

/** `elu`: `x` for `x > 0`, `α(eˣ − 1)` otherwise; derivative 1, or `α·eˣ` (as PyTorch at 0). */
export const eluOp: Op<EluAttrs> = defineOp<EluAttrs>({
  name: "elu",
  inputs: ["x"],
  check(_inputs, attrs) {
    checkNumberAttr("elu", attrs, "alpha");
  },
  forward([x], { alpha }, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) {
      const v = xd[i]!;
      o[i] = v > 0 ? v : alpha * Math.expm1(v);
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const x = ctx.input(0);
    const positive = maskOf(x, (v) => (v > 0 ? 1 : 0));
    const negative = maskOf(x, (v) => (v > 0 ? 0 : 1));
    return [mul(gy, add(positive, mul(mul(exp(x), ctx.attrs.alpha), negative)))];
  },
  test: { avoid: [0], attrs: (_s, pick) => ({ alpha: [1, 0.5, 2][pick.int(0, 2)]! }) },
});

/** Options of `leakyRelu`. */
export interface LeakyReluAttrs {
  /** The slope for negative inputs (default 0.01). */
  negativeSlope: number;
}

/** `leakyRelu`: `x` for `x > 0`, `slope·x` otherwise; derivative 1 or `slope` (at 0: `slope`, as PyTorch). */
export const leakyReluOp: Op<LeakyReluAttrs> = defineOp<LeakyReluAttrs>({
  name: "leakyRelu",
  inputs: ["x"],
  check(_inputs, attrs) {
    checkNumberAttr("leakyRelu", attrs, "negativeSlope");
  },
  forward([x], { negativeSlope }, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) {
      const v = xd[i]!;
      o[i] = v > 0 ? v : negativeSlope * v;
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const s = ctx.attrs.negativeSlope;
    return [
      mul(
        gy,
        maskOf(ctx.input(0), (v) => (v > 0 ? 1 : s)),
      ),
    ];
  },
  test: { avoid: [0], attrs: (_s, pick) => ({ negativeSlope: [0.01, 0.2, -0.5][pick.int(0, 2)]! }) },
});

/** 1/√π and 1/√(2π). */
const INV_SQRT_PI = 0.5641895835477563;
const INV_SQRT_2PI = 0.3989422804014327;

/**
 * The complementary error function `erfc(x) = 1 − erf(x)` to about 1e-15 relative for x ≥ 0
 * (JavaScript has no `Math.erf`): below 1.5 from the series `erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)
 * / (2n+1)!!` (positive terms; `1 − erf` cancels more above 1.5), above it from the continued fraction
 * `erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))` (modified Lentz; at most
 * ~90 terms from 1.5 up). Checked against Python's math.erfc: within 1.1e-15 relative on [0, 5].
 */
function erfcNonNegative(x: number): number {
  // erfc(x) is below the smallest subnormal double from x ≈ 27.23 on (Python's math.erfc is 0
  // there): 0, +∞ included, where the fraction's ∞·0 would give NaN
  if (x > 27.25) return 0;
  if (x < 1.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - 2 * INV_SQRT_PI * Math.exp(-x2) * sum;
  }
  // modified Lentz for the fraction b0 + a1/(b1 + a2/(b2 + …)) with b = x, a_n = n/2
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

/** The standard normal distribution function `Φ(x) = erfc(−x/√2) / 2`, accurate in both tails. */
function ndtr(x: number): number {
  if (Number.isNaN(x)) return x;
  const z = Math.abs(x) * Math.SQRT1_2;
  const tail = 0.5 * erfcNonNegative(z);
  return x >= 0 ? 1 - tail : tail;
}

/** `φ(x) = e^(−x²/2)/√(2π)` as differentiable ops (the derivative of Φ). */
function normalPdf(x: Tensor): Tensor {
  return mul(exp(mul(mul(x, x), -0.5)), INV_SQRT_2PI);
}

/** `normalCdf`: `Φ(x)`, the standard normal distribution function; derivative `φ(x)·gy`. */
export const normalCdfOp: Op = defineOp({
  name: "normalCdf",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = ndtr(xd[i]!);
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, normalPdf(ctx.input(0)))];
  },
  test: { domain: [-4, 4] },
});

/** Options of `gelu`. */
export interface GeluAttrs {
  /** `'none'` (default): `x·Φ(x)` exactly; `'tanh'`: `x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))`. */
  approximate: "none" | "tanh";
}

/** √(2/π) and the cubic coefficient of GELU's tanh form. */
const GELU_C = 0.7978845608028654;
const GELU_K = 0.044715;

/**
 * `gelu`: `x·Φ(x)` (derivative `Φ(x) + x·φ(x)`), or its tanh approximation (derivative
 * `(1 + t)/2 + x/2·(1 − t²)·c·(1 + 3k·x²)` with `t = tanh(c(x + k·x³))`), as PyTorch's
 * `gelu(x, approximate)`.
 */
export const geluOp: Op<GeluAttrs> = defineOp<GeluAttrs>({
  name: "gelu",
  inputs: ["x"],
  check(_inputs, attrs) {
    const a: unknown = (attrs as { approximate?: unknown } | null)?.approximate;
    if (attrs === null || typeof attrs !== "object" || (a !== "none" && a !== "tanh")) {
      throw new ArgumentError("gelu", `gelu: approximate must be 'none' or 'tanh', got ${fmtAttrs(a)}`);
    }
  },
  forward([x], { approximate }, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (approximate === "tanh") {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        o[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_K * v * v * v)));
      }
    } else {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        o[i] = v * ndtr(v);
      }
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const x = ctx.input(0);
    if (ctx.attrs.approximate === "tanh") {
      const x2 = mul(x, x);
      const t = tanh(mul(add(x, mul(mul(x2, x), GELU_K)), GELU_C));
      const outer = mul(add(t, 1), 0.5);
      const inner = mul(mul(mul(x, 0.5), sub(1, mul(t, t))), mul(add(mul(x2, 3 * GELU_K), 1), GELU_C));
      return [mul(gy, add(outer, inner))];
    }
    return [mul(gy, add(normalCdfOp([x]), mul(x, normalPdf(x))))];
  },
  test: { domain: [-3, 3], attrs: (_s, pick) => ({ approximate: pick.bool() ? "tanh" : "none" }) },
});

/** Bounds of `clamp`: either may be null (unbounded on that side). */
export interface ClampAttrs {
  /** The lower bound, or null. */
  min: number | null;
  /** The upper bound, or null. */
  max: number | null;
}

/**
 * `clamp`: `min(max(x, lo), hi)`; the gradient passes where `lo ≤ x ≤ hi` (bounds included, as
 * PyTorch) and is 0 outside; NaN stays NaN.
 */
export const clampOp: Op<ClampAttrs, "operands"> = defineOp<ClampAttrs>({
  name: "clamp",
  inputs: ["x"],
  integers: "int",
  check(_inputs, attrs) {
    checkNumberAttr("clamp", attrs, "min", true);
    checkNumberAttr("clamp", attrs, "max", true);
    const { min, max } = attrs;
    if ((min === null || min === undefined) && (max === null || max === undefined)) {
      throw new ArgumentError("clamp", "clamp: give min, max or both");
    }
  },
  forward([x], { min, max }, ctx) {
    const lo = min ?? Number.NEGATIVE_INFINITY;
    const hi = max ?? Number.POSITIVE_INFINITY;
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (lo > hi) {
      // PyTorch gives hi everywhere when lo > hi (NaN stays NaN)
      for (let i = 0; i < o.length; i++) o[i] = Number.isNaN(xd[i]!) ? xd[i]! : hi;
    } else {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        // v < lo is false for NaN, and Math.min keeps NaN: NaN stays NaN
        o[i] = v < lo ? lo : Math.min(v, hi);
      }
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const lo = ctx.attrs.min ?? Number.NEGATIVE_INFINITY;
    const hi = ctx.attrs.max ?? Number.POSITIVE_INFINITY;
    return [
      mul(
        gy,
        maskOf(ctx.input(0), (v) => (v >= lo && v <= hi ? 1 : 0)),
      ),
    ];
  },
  test: {
    attrs: (_s, pick) => {
      const kind = pick.int(0, 2);
      return { min: kind === 1 ? null : -0.5, max: kind === 2 ? null : 0.75 };
    },
    // the kinks at the bounds: no drawn value within 0.01 of them
    avoid: [-0.5, 0.75],
  },
});

/** Elementwise `x²` (PyTorch's `square`), of `x`'s shape. Derivative `2x`. @throws ArgumentError naming `square` for a non-tensor. */
export function square<X extends TensorLike>(x: X): Kept<X> {
  return squareOp([x]) as Kept<X>;
}

/** Elementwise sine (radians). Derivative `cos x`. @throws ArgumentError naming `sin` for a non-tensor. */
export function sin(x: TensorLike): Tensor {
  return sinOp([x]);
}

/** Elementwise cosine (radians). Derivative `−sin x`. @throws ArgumentError naming `cos` for a non-tensor. */
export function cos(x: TensorLike): Tensor {
  return cosOp([x]);
}

/**
 * Elementwise softplus `log(1 + e^(βx)) / β`, linear (`x`) where `βx > threshold`, as PyTorch's
 * `softplus(x, beta=1, threshold=20)`. Derivative `sigmoid(βx)` (1 in the linear region).
 * @throws ArgumentError naming `softplus` for a non-tensor, a non-finite option or `beta` 0.
 */
export function softplus(x: TensorLike, options: { beta?: number; threshold?: number } = {}): Tensor {
  const o = readKnownOptions("softplus", options, ["beta", "threshold"]);
  return softplusOp([x], { beta: o.beta ?? 1, threshold: o.threshold ?? 20 } as SoftplusAttrs);
}

/**
 * Elementwise ELU: `x` for `x > 0`, `α(eˣ − 1)` otherwise (PyTorch's `elu(x, alpha=1)`).
 * Derivative 1, or `α·eˣ` for `x ≤ 0`.
 * @throws ArgumentError naming `elu` for a non-tensor or a non-finite `alpha`.
 */
export function elu(x: TensorLike, alpha = 1): Tensor {
  return eluOp([x], { alpha });
}

/**
 * Elementwise leaky rectifier: `x` for `x > 0`, `negativeSlope·x` otherwise (PyTorch's
 * `leaky_relu(x, negative_slope=0.01)`). Derivative 1, or `negativeSlope` for `x ≤ 0`.
 * @throws ArgumentError naming `leakyRelu` for a non-tensor or a non-finite slope.
 */
export function leakyRelu(x: TensorLike, negativeSlope = 0.01): Tensor {
  return leakyReluOp([x], { negativeSlope });
}

/**
 * Elementwise standard normal distribution function `Φ(x) = P(Z ≤ x)` (scipy's `ndtr`, PyTorch's
 * `special.ndtr`), accurate to ~1e-15 in both tails. Derivative `φ(x) = e^(−x²/2)/√(2π)`.
 * @throws ArgumentError naming `normalCdf` for a non-tensor.
 */
export function normalCdf(x: TensorLike): Tensor {
  return normalCdfOp([x]);
}

/**
 * Elementwise GELU, `x·Φ(x)` (`approximate: 'none'`, the default) or the tanh approximation
 * `x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))` (`'tanh'`), as PyTorch's `gelu(x, approximate)`.
 * @throws ArgumentError naming `gelu` for a non-tensor or another `approximate`.
 */
export function gelu(x: TensorLike, approximate: "none" | "tanh" = "none"): Tensor {
  return geluOp([x], { approximate });
}

/**
 * Elementwise `min(max(x, min), max)` (PyTorch's `clamp`); either bound may be omitted or null.
 * The gradient is 1 where `min ≤ x ≤ max` (bounds included) and 0 outside; NaN stays NaN; when
 * `min > max` every element is `max`, as in PyTorch.
 * @throws ArgumentError naming `clamp` for a non-tensor, a non-finite bound, or no bound at all.
 */
export function clamp<X extends TensorLike>(x: X, min?: number | null, max?: number | null): Kept<X> {
  return clampOp([x], { min: min ?? null, max: max ?? null }) as Kept<X>;
}

/** The op objects defined here, by name, for the package's `ops`. */
export const activationOps = {
  /** {@link squareOp}, behind {@link square}. */
  square: squareOp,
  /** {@link sinOp}, behind {@link sin}. */
  sin: sinOp,
  /** {@link cosOp}, behind {@link cos}. */
  cos: cosOp,
  /** {@link softplusOp}, behind {@link softplus}. */
  softplus: softplusOp,
  /** {@link eluOp}, behind {@link elu}. */
  elu: eluOp,
  /** {@link leakyReluOp}, behind {@link leakyRelu}. */
  leakyRelu: leakyReluOp,
  /** {@link normalCdfOp}, behind {@link normalCdf} and exact {@link gelu}. */
  normalCdf: normalCdfOp,
  /** {@link geluOp}, behind {@link gelu}. */
  gelu: geluOp,
  /** {@link clampOp}, behind {@link clamp}. */
  clamp: clampOp,
} as const;
