/**
 * The engine's first-order fast paths into zeroed leaf gradients (`ctx.gradTarget` and the
 * summed-bias path): a `.grad` zeroed by `fill_(0)` receives exactly what a fresh backward would
 * give, a `.grad` holding values still accumulates, and aliasing never corrupts a result.
 */
import { randn, type Tensor, tensor } from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, matmul, mul, sigmoid, sum } from "../src/index.js";

type Grads = Float64Array[];

/** loss = Σ sigmoid(x·W + b)·c for random shapes; returns W, b and the loss. */
function program(n: number, d: number, h: number, seed: number) {
  const x = randn([n, d], { seed, dtype: "float64" });
  const W = randn([d, h], { seed: seed + 1, dtype: "float64", requiresGrad: true });
  const b = randn([h], { seed: seed + 2, dtype: "float64", requiresGrad: true });
  const c = randn([n, h], { seed: seed + 3, dtype: "float64" });
  const loss = () => sum(mul(sigmoid(add(matmul(x, W), b)), c));
  return { W, b, loss };
}

const grads = (ps: Tensor[]): Grads => ps.map((p) => Float64Array.from(p.grad!.data));

describe("backward into zeroed leaf gradients", () => {
  it("a zeroed .grad gets what a fresh backward gives; a filled one accumulates", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        (n, d, h, seed) => {
          const { W, b, loss } = program(n, d, h, seed);
          loss().backward();
          const fresh = grads([W, b]);
          // zeroed grads (as Sequential.backward leaves them): the fast paths write in place
          const gW = W.grad!;
          const gb = b.grad!;
          gW.fill_(0);
          gb.fill_(0);
          const before = [gW.version, gb.version];
          loss().backward();
          expect(W.grad).toBe(gW);
          expect(b.grad).toBe(gb);
          expect(grads([W, b])).toEqual(fresh);
          expect(gW.version).toBeGreaterThan(before[0]!);
          expect(gb.version).toBeGreaterThan(before[1]!);
          // not zeroed any more: a second backward adds
          loss().backward();
          const twice = grads([W, b]);
          for (let k = 0; k < 2; k++) {
            for (let i = 0; i < fresh[k]!.length; i++) expect(twice[k]![i]).toBeCloseTo(2 * fresh[k]![i]!, 12);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a grad zeroed and then changed through copy_ or markModified accumulates, not overwrites", () => {
    const { W, b, loss } = program(4, 3, 2, 7);
    loss().backward();
    const fresh = grads([W, b]);
    W.grad!.fill_(0);
    W.grad!.copy_(tensor(new Float64Array(6).fill(1), { shape: [3, 2], dtype: "float64" }));
    b.grad!.fill_(0);
    b.grad!.data[0] = 5;
    b.grad!.markModified();
    loss().backward();
    const got = grads([W, b]);
    for (let i = 0; i < 6; i++) expect(got[0]![i]).toBeCloseTo(1 + fresh[0]![i]!, 12);
    expect(got[1]![0]).toBeCloseTo(5 + fresh[1]![0]!, 12);
    expect(got[1]![1]).toBeCloseTo(fresh[1]![1]!, 12);
  });

  it("a leaf used twice by one node, or twice in the graph, gets both contributions", () => {
    const W = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64", requiresGrad: true });
    const run = () => sum(add(matmul(W, W), matmul(W, randn([2, 2], { seed: 3, dtype: "float64" }))));
    run().backward();
    const fresh = Float64Array.from(W.grad!.data);
    W.grad!.fill_(0);
    run().backward();
    expect(Float64Array.from(W.grad!.data)).toEqual(fresh);
  });

  it("a zeroed .grad that is an input of the product is not handed out as its target", () => {
    const W = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64", requiresGrad: true });
    W.grad = tensor([0, 0, 0, 0], { shape: [2, 2], dtype: "float64" });
    const g = W.grad;
    g.fill_(0);
    const gy = tensor([1, -2, 3, 0.5], { shape: [2, 2], dtype: "float64" });
    // d/dW Σ gy ⊙ (G·W) = Gᵀ·gy = 0 with G = W.grad = 0, whatever the target aliasing
    matmul(g, W).backward(gy);
    expect(Array.from(W.grad!.data)).toEqual([0, 0, 0, 0]);
    expect(W.grad).toBe(g);
    // another product that saved W.grad runs after the grad was written: a loud version error,
    // not a silently wrong gradient (leaf gradients are delivered node by node)
    g.fill_(0);
    const base = tensor([0.5, -1, 2, 0.25], { shape: [2, 2], dtype: "float64" });
    const loss = sum(add(matmul(g, W), matmul(base, W)));
    expect(() => loss.backward()).toThrow(/modified in place|version/);
  });

  it("createGraph and anomaly mode keep the general path (same values)", () => {
    const { W, b, loss } = program(3, 2, 4, 11);
    loss().backward();
    const fresh = grads([W, b]);
    W.grad!.fill_(0);
    b.grad!.fill_(0);
    loss().backward(undefined, { createGraph: true });
    expect(W.grad!.creator).not.toBeNull();
    const got = grads([W, b]);
    for (let k = 0; k < 2; k++)
      for (let i = 0; i < got[k]!.length; i++) expect(got[k]![i]).toBeCloseTo(fresh[k]![i]!, 12);
  });
});
