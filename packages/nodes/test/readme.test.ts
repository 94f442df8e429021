/** The README's examples, run as written, so the README stays true. */
import { assertGradcheck, defineOp, grad, gradcheck, noGrad, randn, tensor } from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { add, matmul, mul, repeat, sum } from "../src/index.js";

describe("README", () => {
  it("compute and differentiate", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]); // float32 by default
    const W = tensor([[0.1], [0.2], [0.3]], { requiresGrad: true });
    const b = tensor([[0.5]], { requiresGrad: true });
    const loss = sum(mul(add(matmul(x, W), repeat(b, 2, 0)), 2)); // records a graph
    const [dW] = grad(loss, [W], { retainGraph: true }); // functional: .grad untouched
    loss.backward(); // W.grad, b.grad accumulate
    const y = noGrad(() => matmul(x, W)); // records nothing
    expect(dW!.toArray()).toEqual([[10], [14], [18]]);
    expect(W.grad!.toArray()).toEqual([[10], [14], [18]]);
    expect(b.grad!.toArray()).toEqual([[4]]);
    expect(y.requiresGrad).toBe(false);
  });

  it("define an op", () => {
    const cube = defineOp({
      name: "cube",
      inputs: ["x"],
      forward([x], _attrs, ctx) {
        const y = ctx.alloc(x.shape);
        for (let i = 0; i < y.data.length; i++) y.data[i] = x.data[i]! ** 3;
        ctx.saveInputs(0); // what backward may read
        return y;
      },
      backward: (gy, ctx) => [mul(gy, mul(3, mul(ctx.input(0), ctx.input(0))))],
    });

    assertGradcheck((x) => cube([x]), [tensor([0.5, -1, 2], { dtype: "float64" })]);
    checkOp(cube); // property test: arbitrary shapes and values, shrinks failures, prints a replay seed
  });

  it("check gradients", () => {
    const report = gradcheck((a, b) => matmul(mul(a, a), b), [randn([3, 4], { seed: 1 }), randn([4, 2], { seed: 2 })]);
    expect(report.passed).toBe(true);
    expect(report.worst).not.toBeNull();
  });
});
