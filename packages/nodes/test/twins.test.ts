/**
 * Broken twins (twins.ts): each wrong in one way a derivative goes wrong in practice, each with a
 * correct original. `checkOp` with its defaults (nothing but the dtype or `secondOrder` given) must
 * pass every original and fail every twin in float64, in float32 and to second order (a twin
 * wrong only in its second derivative: to second order only). A twin is caught by a wrong
 * gradient (a worst element or a fusedBackward mismatch), not by a crash.
 */
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { destTanhOp, expOp, firstOrder, fusedTanhOp, sigmoidConst, sigmoidOwn, squareFloat32Off } from "./twins.js";

/** The three modes of the issue: float64, float32, and to second order. */
const MODES = [
  ["float64", {}],
  ["float32", { dtype: "float32" }],
  ["second order", { secondOrder: true }],
] as const;

/** What a failing checkOp of `name` says when a gradient (not a crash) is wrong. */
const caught = (name: string) =>
  new RegExp(
    `^checkOp\\(${name}\\) failed after [^]*(worst element: input \\d+|fusedBackward disagrees with backward)`,
  );

describe.each(firstOrder)("checkOp's defaults catch %s", (_kind, original, twin) => {
  it.each(MODES)("%s", (_mode, options) => {
    const report = checkOp(original, options);
    expect(report.cases).toBe(40);
    expect(() => checkOp(twin, options)).toThrow(caught(twin.opName));
  });
});

describe("checkOp's float32 check", () => {
  it("catches a derivative 0.5% high in float32 only, which float64 passes", () => {
    expect(checkOp(squareFloat32Off).cases).toBe(40);
    expect(() => checkOp(squareFloat32Off, { dtype: "float32" })).toThrow(
      /^checkOp\(squareFloat32Off\) failed after [\s\S]*route grad \(float32\) analytic .* vs reference .* \(the 'grad' route in float64/,
    );
  });
});

describe("checkOp and fusedBackward", () => {
  it("reports that the fused rule was compared with backward, and names it when they differ", () => {
    expect(checkOp(fusedTanhOp("fusedTanh", false)).fusedBackward).toBe(true);
    expect(checkOp(expOp("plainExp", false)).fusedBackward).toBe(false);
    expect(() => checkOp(fusedTanhOp("fusedTanhTwin", true))).toThrow(
      /fusedBackward disagrees with backward: input 0 \(x\) at \[.*\]: fusedBackward .* vs backward/,
    );
    // wrong only where the engine offers a destination: fusedBackward also runs with one
    expect(() => checkOp(destTanhOp("destTanhTwin", true))).toThrow(
      /fusedBackward disagrees with backward: input 0 \(x\) at \[.*\]: fusedBackward \(offered destinations\) .* vs backward/,
    );
  });
});

describe("checkOp's second-order check", () => {
  it("catches a backward built from non-differentiable constants, which first order cannot see", () => {
    for (const [, options] of MODES) expect(checkOp(sigmoidOwn, options).cases).toBe(40);
    expect(checkOp(sigmoidConst).cases).toBe(40);
    expect(checkOp(sigmoidConst, { dtype: "float32" }).cases).toBe(40);
    expect(() => checkOp(sigmoidConst, { secondOrder: true })).toThrow(
      /^checkOp\(sigmoidConst\) failed after [\s\S]*worst element: input 0 \(x\) at .*: second derivative, route/,
    );
  });
});
