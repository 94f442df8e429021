/**
 * Powers: `x^p` with a constant exponent (`powScalar`) or a tensor exponent (`pow`), forward
 * beside the derivatives. Both backwards use this package's ops, so second derivatives work.
 */
import {
  ArgumentError,
  allocArray,
  defineOp,
  isTensor,
  type Op,
  type Shape,
  shapeSize,
  Tensor,
  type TensorLike,
} from "@gradgraph/core";
import { powC } from "@gradgraph/core/kernels";
import { add, broadcastBinary, hasZero, mul, spread, sub } from "./arithmetic.js";
import { fmtAttrs } from "./format.js";
import { log } from "./unary.js";

/** The exponents `powScalarOp`'s property tests draw from. */
const POW_TEST_EXPONENTS = [-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3] as const;

/** Attributes of `powScalarOp`: the constant exponent. */
export interface PowScalarAttrs {
  /** The exponent, any number (a negative `x` with a non-integer `p` gives NaN, as C's `pow`). */
  readonly p: number;
}

/**
 * `powScalar`: `x^p` for a constant number `p` (an attribute, not an input), derivative
 * `p·x^(p−1)`; `p = 0` gives a zero gradient everywhere (also at `x = 0`), `p = 1` passes the
 * upstream gradient through, as PyTorch's `pow(Tensor, Scalar)`.
 */
export const powScalarOp: Op<PowScalarAttrs> = defineOp<PowScalarAttrs>({
  name: "powScalar",
  inputs: ["x"],
  check(_inputs, attrs) {
    if (attrs === null || typeof attrs !== "object" || typeof attrs.p !== "number") {
      throw new ArgumentError("powScalar", `powScalar: attrs must be { p: number }, got ${fmtAttrs(attrs)}`);
    }
  },
  forward([x], { p }, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    if (p === 2) {
      for (let i = 0; i < o.length; i++) {
        const v = xd[i]!;
        o[i] = v * v;
      }
    } else {
      // C's pow (numpy's, PyTorch's): 1 ** NaN and (±1) ** ±∞ are 1, not JavaScript's NaN
      for (let i = 0; i < o.length; i++) o[i] = powC(xd[i]!, p);
    }
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const { p } = ctx.attrs;
    if (p === 0) return [new Tensor(allocArray(gy.dtype, gy.size), gy.shape)];
    if (p === 1) return [gy];
    const x = ctx.input(0);
    return [mul(gy, mul(p === 2 ? x : powScalarOp([x], { p: p - 1 }), p))];
  },
  test: {
    // negative and fractional exponents need x > 0; integer exponents on negative bases are
    // checked by the package's tests with the domain [-2, 2]
    attrs: (_shapes, pick) => ({ p: POW_TEST_EXPONENTS[pick.int(0, POW_TEST_EXPONENTS.length - 1)]! }),
    domain: [0.3, 2],
  },
});

/**
 * `pow` with a tensor exponent: `y = x^p` elementwise, both differentiable:
 * `∂/∂x = gy·p·x^(p−1)` and `∂/∂p = gy·y·log(x)`. As PyTorch: `∂/∂x = 0` where `p == 0` (also
 * at `x = 0`, where `0·0^(−1)` would be NaN), and `∂/∂p = 0` where `x == 0` and `p ≥ 0` (where
 * `0·log 0` would be NaN). Negative bases give NaN for `∂/∂p` (`log x` is NaN there).
 */
export const powOp: Op = defineOp({
  name: "pow",
  inputs: ["x", "p"],
  forward([x, p], _attrs, ctx) {
    const out = broadcastBinary("pow", "pow", x!, p!, ctx);
    ctx.saveInputs(0, 1);
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    const [dx, dp] = ctx.needsInputGrad;
    const x = ctx.input(0);
    const p = ctx.input(1);
    let gx: Tensor | null = null;
    let gp: Tensor | null = null;
    if (dx) {
      // where p == 0 the exponent p − 1 becomes 0 instead, so p·x^0 = 0 exactly
      const e = hasZero(p.data) ? add(sub(p, 1), zeroMask(p)) : sub(p, 1);
      gx = mul(gy, mul(p, powOp([x, e])));
    }
    if (dp) {
      // where x == 0 and p >= 0, log(x + 1) = 0 instead of −∞, so y·log = 0 exactly
      const safe = hasZero(x.data) ? add(x, zeroBaseMask(x, p, gy.shape)) : x;
      gp = mul(gy, mul(ctx.output(), log(safe)));
    }
    return [gx, gp];
  },
  // the base stays positive (log x in ∂/∂p); negative exponents are checked by the package's tests
  test: { shapes: "broadcast", domain: [0.3, 2] },
});

/** 1 where `t` is 0, else 0: a constant of `t`'s shape and dtype. */
function zeroMask(t: Tensor): Tensor {
  const d = t.data;
  const m = allocArray(t.dtype, d.length);
  for (let i = 0; i < d.length; i++) if (d[i] === 0) m[i] = 1;
  return new Tensor(m, t.shape);
}

/** 1 where `x == 0` and `p >= 0` after broadcasting to `shape`, else 0. */
function zeroBaseMask(x: Tensor, p: Tensor, shape: Shape): Tensor {
  const n = shapeSize(shape);
  const xd = spread(x, shape, n);
  const pd = spread(p, shape, n);
  const m = allocArray(x.dtype, n);
  for (let i = 0; i < n; i++) if (xd[i] === 0 && pd[i]! >= 0) m[i] = 1;
  return new Tensor(m, shape);
}

/**
 * Elementwise power `x^p` (`Math.pow`).
 *
 * - `p` a number: a constant exponent (op `powScalar`), the result has `x`'s shape; derivative
 *   `p·x^(p−1)`, which is 0 everywhere for `p = 0`. At `x = 0` with `p < 1` (not 0) the
 *   derivative is infinite or NaN, as the math says.
 * - `p` a Tensor: elementwise `x^p` with numpy broadcasting (op `pow`), both differentiable:
 *   `∂/∂x = p·x^(p−1)`, `∂/∂p = x^p·log x`. Chosen at the edges, as PyTorch: `∂/∂x = 0` where
 *   `p = 0`; `∂/∂p = 0` where `x = 0` and `p ≥ 0`; `∂/∂p` is NaN for negative `x`.
 *
 * Negative bases with non-integer exponents give NaN, as `Math.pow` does.
 * @throws ShapeError naming `pow` and both shapes when `x` and a tensor `p` do not broadcast.
 * @throws ArgumentError naming `pow` when `x` or `p` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function pow(x: TensorLike, p: TensorLike): Tensor {
  // a bad `x` goes to powOp too, so the error names `pow` and the argument
  if (typeof p === "number" && (typeof x === "number" || isTensor(x))) return powScalarOp([x], { p });
  return powOp([x, p]);
}

/** The op objects defined here, by name, for the package's `ops`. */
export const powerOps = {
  /** {@link powOp}: `x^p` with a tensor exponent, behind {@link pow}. */
  pow: powOp,
  /** {@link powScalarOp}: `x^p` for a constant number `p`, behind {@link pow} with a number exponent. */
  powScalar: powScalarOp,
} as const;
