/**
 * Issue 15, item 5: the values and PyTorch's conventions of the new elementwise ops (their
 * derivatives are property-checked with every other op in ops.test.ts). References from Python's
 * math.erf/erfc/log1p/expm1, an implementation independent of ours.
 */
import { ArgumentError, grad, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { clamp, cos, elu, gelu, leakyRelu, normalCdf, sin, softplus, square, sum } from "../src/index.js";

const f64 = (v: number[]) => tensor(v, { dtype: "float64", requiresGrad: true });
const close = (got: number[], want: number[], rel = 1e-14) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(w), 1e-300));
  });
};
const values = (t: { toArray(): unknown }) => t.toArray() as number[];

describe("normalCdf and gelu", () => {
  it("Φ matches erfc to ~1e-15 in the body and ~1e-14 relative deep in the tail", () => {
    close(
      values(normalCdf(f64([1, 3, -3, 0.5]))),
      [0.8413447460685429, 0.9986501019683699, 0.0013498980316300957, 0.6914624612740131],
    );
    // Φ(−10) = 7.6198530241605260659…e−24 (published tables; e^(−50) alone costs ~1e-14 relative)
    close(values(normalCdf(f64([-10]))), [7.619853024160525e-24], 2e-14);
  });

  it("at ±inf: Φ is 1 and 0, gelu(inf) is inf, as x·Φ(x) in PyTorch (the tail fraction's ∞·0 gave NaN)", () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(values(normalCdf(f64([inf, -inf, 40, -40])))).toEqual([1, 0, 1, 0]);
    expect(values(gelu(f64([inf, 40, 5])))).toEqual([inf, 40, 4.99999856674214]);
    // -inf·Φ(-inf) = -inf·0, NaN in PyTorch too
    expect(values(gelu(f64([-inf])))).toEqual([Number.NaN]);
  });

  it("gelu exact and tanh forms, and the exact derivative Φ(x) + x·φ(x)", () => {
    close(values(gelu(f64([1, -2, 0.5]))), [0.8413447460685429, -0.04550026389635844, 0.34573123063700656]);
    close(values(gelu(f64([1, -2, 0.5]), "tanh")), [0.8411919906082768, -0.04540230591222494, 0.34571400982514394]);
    const x = f64([1, -2]);
    close(values(grad(sum(gelu(x)), [x])[0]!), [1.0833154705876864, -0.0852318010781969], 1e-13);
    expect(() => gelu(x, "fast" as never)).toThrow(/^gelu: approximate must be 'none' or 'tanh', got "fast"/);
  });
});

describe("softplus, elu, leakyRelu", () => {
  it("softplus: log1p(exp(βx))/β, and x itself (gradient 1) beyond the threshold, as PyTorch", () => {
    close(values(softplus(f64([1]))), [1.3132616875182228]);
    close(values(softplus(f64([0.5]), { beta: 2 })), [0.6566308437591114]);
    const x = f64([30, 5]);
    const y = softplus(x, { threshold: 10 });
    expect(values(y)[0]).toBe(30);
    expect(values(grad(sum(y), [x])[0]!)[0]).toBe(1);
    expect(() => softplus(x, { beta: 0 })).toThrow(/^softplus: beta must not be 0/);
    expect(() => softplus(x, { beta: Number.NaN })).toThrow(/^softplus: beta must be a finite number/);
    expect(() => softplus(x, [] as never)).toThrow(/^softplus: options must be an object/);
  });

  it("elu and leakyRelu follow PyTorch at and below 0", () => {
    close(values(elu(f64([-1, 2]))), [-0.6321205588285577, 2]);
    const x = f64([0, -1, 3]);
    // elu'(0) = α·e⁰ = α and leakyRelu'(0) = slope, as PyTorch
    close(values(grad(sum(elu(x, 0.5)), [x])[0]!), [0.5, 0.5 * Math.exp(-1), 1]);
    expect(values(leakyRelu(f64([-2, 3])))).toEqual([-0.02, 3]);
    expect(values(grad(sum(leakyRelu(x, 0.2)), [x])[0]!)).toEqual([0.2, 0.2, 1]);
    expect(() => leakyRelu(x, Number.POSITIVE_INFINITY)).toThrow(ArgumentError);
  });
});

describe("clamp", () => {
  it("clamps, keeps NaN, passes the gradient on the bounds (inclusive) and blocks it outside", () => {
    const x = f64([-2, -1, 0, 1, 2, Number.NaN]);
    expect(values(clamp(x, -1, 1))).toEqual([-1, -1, 0, 1, 1, Number.NaN]);
    expect(values(grad(sum(clamp(x, -1, 1)), [x])[0]!).slice(0, 5)).toEqual([0, 1, 1, 1, 0]);
    expect(values(clamp(x, null, 0)).slice(0, 5)).toEqual([-2, -1, 0, 0, 0]);
    expect(values(clamp(x, 0)).slice(0, 5)).toEqual([0, 0, 0, 1, 2]);
    expect(values(clamp(x, 2, 1)).slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(() => clamp(x)).toThrow(/^clamp: give min, max or both/);
    expect(() => clamp(x, "0" as never)).toThrow(/^clamp: min must be a finite number/);
  });
});

describe("square, sin, cos", () => {
  it("compute x², sin and cos, and accept numbers", () => {
    expect(values(square(f64([-3, 0.5])))).toEqual([9, 0.25]);
    close(values(sin(f64([1, -2]))), [Math.sin(1), Math.sin(-2)]);
    close(values(cos(f64([1, -2]))), [Math.cos(1), Math.cos(-2)]);
    expect(square(3).item()).toBe(9);
  });
});
