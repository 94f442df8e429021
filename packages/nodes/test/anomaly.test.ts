/** Anomaly mode: NaN and infinity found where they appear, forward or backward, with the op's origin. */
import {
  AnomalyError,
  defineOp,
  detectAnomaly,
  isAnomalyDetectionEnabled,
  setAnomalyDetection,
  type Tensor,
  tensor,
} from "@gradgraph/core";
import { toDot } from "@gradgraph/viz";
import { describe, expect, it } from "vitest";
import { add, log, mul, sqrt, sum } from "../src/index.js";

/** An op whose forward is fine but whose backward produces NaN: derivative 0/0. */
const nanGrad = defineOp({
  name: "nanGrad",
  inputs: ["x"],
  forward([x], _a, ctx) {
    const o = ctx.alloc(x.shape);
    o.data.set(x.data);
    return o;
  },
  backward: (gy) => [mul(gy, Number.NaN)],
});

describe("detectAnomaly", () => {
  it("names the op that produced NaN in forward, with the user code that created it", () => {
    const x = tensor([1, -1], { requiresGrad: true });
    let error: unknown;
    try {
      detectAnomaly(() => sum(log(add(x, -0.5))));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AnomalyError);
    const a = error as AnomalyError;
    expect(a.phase).toBe("forward");
    expect(a.op).toBe("log");
    expect(a.message).toMatch(
      /anomaly: op 'log' produced NaN in its forward output 0 at element 1 \(node #\d+\); created at .*anomaly\.test\.ts/,
    );
    expect(a.site).toMatch(/anomaly\.test\.ts/);
    expect((a.cause as Error).stack).toMatch(/log was created here[\s\S]*anomaly\.test\.ts/);
    expect(a.nodeId).toBeGreaterThan(0);
  });

  it("names the op whose backward produced NaN, and the graph can highlight it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    let error: unknown;
    let loss = null as ReturnType<typeof sum> | null;
    try {
      detectAnomaly(() => {
        loss = sum(mul(nanGrad([mul(x, 2)]), 3));
        loss.backward(undefined, { retainGraph: true });
      });
    } catch (e) {
      error = e;
    }
    const a = error as AnomalyError;
    expect(a).toBeInstanceOf(AnomalyError);
    expect(a.phase).toBe("backward");
    expect(a.op).toBe("nanGrad");
    expect(a.message).toMatch(
      /the backward of op 'nanGrad' \(node #\d+\) returned NaN in the gradient of input 0 \(x\)/,
    );
    const dot = toDot(loss! as Tensor, { highlight: a });
    const line = dot.split("\n").find((l) => l.includes("nanGrad"))!;
    expect(line).toMatch(/red|#[dD]/);
  });

  it("finds infinities too, stays off outside its scope, and can be switched on globally", () => {
    const x = tensor([0], { requiresGrad: true });
    expect(() => detectAnomaly(() => sum(log(x)))).toThrow(/produced -Infinity/);
    expect(isAnomalyDetectionEnabled()).toBe(false);
    expect(() => sum(sqrt(mul(x, -1))).item()).not.toThrow();
    const prev = setAnomalyDetection(true);
    try {
      expect(() => sum(log(x))).toThrow(AnomalyError);
    } finally {
      setAnomalyDetection(prev);
    }
    expect(isAnomalyDetectionEnabled()).toBe(false);
  });
});
