/** Higher-order gradients: Hessian-vector and Jacobian-vector products through createGraph. */
import { grad, gradgradcheck, hvp, jvp, numericalGrad, randn, type Tensor, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { add, matmul, mul, sigmoid, softmaxCrossEntropy, sum, tanh } from "../src/index.js";

const f64 = { dtype: "float64" as const };

/** The seed's two-layer net: Affine → Sigmoid → Affine → SoftmaxWithLoss. */
function twoLayerLoss(x: Tensor, labels: number[]) {
  return (W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor): Tensor => {
    const h = sigmoid(add(matmul(x, W1), b1));
    return softmaxCrossEntropy(add(matmul(h, W2), b2), labels);
  };
}

describe("hvp", () => {
  it("a two-layer network's Hessian-vector product matches central differences of its gradient", () => {
    const x = randn([5, 2], { seed: 1, ...f64 });
    const labels = [0, 2, 1, 1, 0];
    const f = twoLayerLoss(x, labels);
    const params = [
      randn([2, 4], { seed: 2, ...f64 }),
      randn([1, 4], { seed: 3, ...f64 }),
      randn([4, 3], { seed: 4, ...f64 }),
      randn([1, 3], { seed: 5, ...f64 }),
    ];
    const vs = params.map((p, i) => randn([...p.shape], { seed: 10 + i, ...f64 }));
    const { value, hvp: hv } = hvp(f, params, vs);
    expect(value.item()).toBeGreaterThan(0);
    // numerical: (∇f(θ + εv) − ∇f(θ − εv)) / 2ε
    const eps = 1e-5;
    const gradAt = (sign: number) => {
      const shifted = params.map((p, i) => {
        const d = Float64Array.from(p.data, (v, k) => v + sign * eps * vs[i]!.data[k]!);
        return tensor(d, { shape: [...p.shape], ...f64, requiresGrad: true });
      });
      return grad(f(...(shifted as [Tensor, Tensor, Tensor, Tensor])), shifted);
    };
    const gp = gradAt(1);
    const gm = gradAt(-1);
    let maxErr = 0;
    hv.forEach((h, i) => {
      for (let k = 0; k < h.size; k++) {
        const num = (gp[i]!.data[k]! - gm[i]!.data[k]!) / (2 * eps);
        maxErr = Math.max(maxErr, Math.abs(h.data[k]! - num));
      }
    });
    expect(maxErr).toBeLessThan(1e-7);
    // and H·v is not trivially zero
    expect(Math.max(...hv.flatMap((h) => Array.from(h.data, Math.abs)))).toBeGreaterThan(1e-3);
  });

  it("x³ summed: H = diag(6x)", () => {
    const x = tensor([1, -2, 0.5], f64);
    const { hvp: hv } = hvp((t) => sum(mul(mul(t, t), t)), [x], [tensor([1, 1, 1], f64)]);
    expect(Array.from(hv[0]!.data)).toEqual([6, -12, 3]);
  });

  it("checks its arguments", () => {
    const x = tensor([1, 2], f64);
    expect(() => hvp((t) => mul(t, t), [x], [x])).toThrow(/hvp: f must return a one-element tensor, got shape \[2\]/);
    expect(() => hvp((t) => sum(t), [x], [tensor([1], f64)])).toThrow(
      /hvp: vectors\[0\] must be a Tensor of shape \[2\], got \[1\]/,
    );
  });
});

describe("jvp", () => {
  it("forward-mode products match numerical directional derivatives", () => {
    const x = randn([3, 2], { seed: 7, ...f64 });
    const w = randn([2, 4], { seed: 8, ...f64 });
    const tx = randn([3, 2], { seed: 9, ...f64 });
    const tw = randn([2, 4], { seed: 10, ...f64 });
    const f = (a: Tensor, b: Tensor) => tanh(matmul(a, b));
    const { value, jvp: jv } = jvp(f, [x, w], [tx, tw]);
    expect(value.shape).toEqual([3, 4]);
    // J·t is the derivative of f(x + s·t) at s = 0
    for (let k = 0; k < 12; k += 5) {
      const e = new Float64Array(12);
      e[k] = 1;
      const [ds] = numericalGrad((s) => f(add(x, mul(s, tx)), add(w, mul(s, tw))), [tensor(0, f64)], {
        gradOutput: tensor(e, { shape: [3, 4], ...f64 }),
      });
      expect(jv.data[k]).toBeCloseTo(ds!.item(), 8);
    }
  });
});

describe("gradgradcheck", () => {
  it("passes through a composite network and fails for a wrong second derivative", () => {
    const x = randn([3, 2], { seed: 1, ...f64 });
    const W = randn([2, 2], { seed: 2, ...f64 });
    expect(gradgradcheck((a, b) => sum(sigmoid(matmul(a, b))), [x, W]).passed).toBe(true);
  });
});
