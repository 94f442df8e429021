/**
 * Scale: backward through a chain of 1,000,000 ops and through a 100,000-way fan-out completes
 * (no recursion, no quadratic work) with the right gradient. Prints the times and the memory.
 */
import { type Tensor, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { add, mul, stack, sum } from "../src/index.js";

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Samples heapUsed and rss, keeping the largest seen (a peak as far as sampling can tell). */
class Peak {
  heap = 0;
  rss = 0;
  sample(): void {
    const m = process.memoryUsage();
    this.heap = Math.max(this.heap, m.heapUsed);
    this.rss = Math.max(this.rss, m.rss);
  }
}

describe("graphs at scale", () => {
  it("backward through a chain of 1,000,000 ops (500,000 × add(mul(y, 1.0000001), 1e-9))", { timeout: 180_000 }, () => {
    const steps = 500_000;
    const peak = new Peak();
    peak.sample();
    const x = tensor(1, { dtype: "float64", requiresGrad: true });
    let t0 = performance.now();
    let y: Tensor = x;
    for (let i = 0; i < steps; i++) {
      y = add(mul(y, 1.0000001), 1e-9);
      if ((i & 0xffff) === 0) peak.sample();
    }
    const recordMs = performance.now() - t0;
    peak.sample();
    t0 = performance.now();
    y.backward();
    const backwardMs = performance.now() - t0;
    peak.sample();
    console.log(
      `scale: chain of ${2 * steps} ops: record ${(recordMs / 1000).toFixed(2)} s, backward ${(backwardMs / 1000).toFixed(2)} s, ` +
        `peak heapUsed ${mib(peak.heap)}, peak rss ${mib(peak.rss)} (sampled)`,
    );
    expect(y.creator?.released).toBe(true);
    // d/dx of (…((x·c + e)·c + e)…) = c^steps
    const expected = 1.0000001 ** steps;
    expect(Math.abs(x.grad!.item() - expected) / expected).toBeLessThan(1e-9);
  });

  it("backward through a 100,000-way fan-out (one leaf, 100,000 mul(x, 1), stacked and summed)", {
    timeout: 120_000,
  }, () => {
    const n = 100_000;
    const peak = new Peak();
    const x = tensor(0.5, { dtype: "float64", requiresGrad: true });
    let t0 = performance.now();
    const uses: Tensor[] = new Array<Tensor>(n);
    for (let i = 0; i < n; i++) uses[i] = mul(x, 1);
    const total = sum(stack(uses));
    const recordMs = performance.now() - t0;
    peak.sample();
    t0 = performance.now();
    total.backward();
    const backwardMs = performance.now() - t0;
    peak.sample();
    console.log(
      `scale: fan-out of ${n}: record ${(recordMs / 1000).toFixed(2)} s, backward ${(backwardMs / 1000).toFixed(2)} s, ` +
        `peak heapUsed ${mib(peak.heap)}, peak rss ${mib(peak.rss)} (sampled)`,
    );
    expect(total.item()).toBeCloseTo(n * 0.5, 6);
    expect(x.grad!.item()).toBe(n);
  });

  it("backward through a 100,000-way fan-out summed by a chain of adds", { timeout: 120_000 }, () => {
    const n = 100_000;
    const x = tensor(2, { dtype: "float64", requiresGrad: true });
    let total = mul(x, 1);
    for (let i = 1; i < n; i++) total = add(total, mul(x, 1));
    total.backward();
    expect(x.grad!.item()).toBe(n);
  });
});
