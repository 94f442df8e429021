import { tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { add, mul } from "../src/index.js";

describe("deep graphs", () => {
  it("backward through a chain of 100,000 ops (mul saves its inputs) completes", () => {
    const x = tensor(1, { dtype: "float64", requiresGrad: true });
    let y = x;
    for (let i = 0; i < 50_000; i++) y = add(mul(y, 1.00001), 0);
    y.backward();
    // d/dx of x·1.00001^50000
    expect(x.grad!.item()).toBeCloseTo(1.00001 ** 50_000, 6);
  });
});
