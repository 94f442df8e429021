import { defineMultiOutputOp, defineOp, type MultiOpSpec, type Op, type OpSpec, type Tensor } from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { mul, ops } from "../src/index.js";

/** The op objects, each typed by its own attributes; here only their common shape matters. */
const allOps = Object.values(ops) as unknown as Op<unknown>[];

/** Every op of the package, property-checked against numerical gradients over arbitrary shapes. */
describe.each(allOps)("checkOp($opName)", (op) => {
  it("float64, reference float64", () => {
    expect(checkOp(op, { numRuns: 40 })).toBe(40);
  });

  it("float32, with float32 tolerances against the float64 reference", () => {
    expect(checkOp(op, { numRuns: 20, dtype: "float32" })).toBe(20);
  });

  it("second order: gradgradcheck of every case", () => {
    expect(checkOp(op, { numRuns: 15, secondOrder: true })).toBe(15);
  });
});

describe("op declarations", () => {
  it("lists every op of the package", () => {
    expect(Object.keys(ops).sort()).toEqual([
      "abs",
      "add",
      "affine",
      "branch",
      "clamp",
      "concat",
      "cos",
      "cumsum",
      "div",
      "elu",
      "exp",
      "gelu",
      "getItem",
      "leakyRelu",
      "log",
      "logSoftmax",
      "logSumExp",
      "matmul",
      "max",
      "maximum",
      "minimum",
      "mul",
      "neg",
      "normalCdf",
      "outer",
      "padSlice",
      "pow",
      "powScalar",
      "relu",
      "repeat",
      "reshape",
      "scatterRows",
      "sigmoid",
      "sin",
      "slice",
      "softmax",
      "softmaxCrossEntropy",
      "softplus",
      "split",
      "sqrt",
      "square",
      "sub",
      "sum",
      "tanh",
      "transpose",
      "variance",
    ]);
  });
});

/**
 * The property tests can fail: a copy of each op whose derivative is off by 1% (or whose
 * gradient goes to the wrong place) must be caught by the same checkOp call.
 */
describe.each(allOps)("checkOp catches a broken $opName", (op) => {
  it("1% off", () => {
    const spec = op.spec as OpSpec<unknown> & MultiOpSpec<unknown>;
    const scale = (gs: readonly (Tensor | null | undefined)[]) => gs.map((g) => (g ? mul(g, 1.01) : g));
    const broken = (op as { multiOutput: boolean }).multiOutput
      ? defineMultiOutputOp<unknown>({
          ...spec,
          name: `${spec.name}Broken`,
          backward: (g, c) => scale(spec.backward(g, c)),
        })
      : defineOp<unknown>({
          ...(spec as OpSpec<unknown>),
          name: `${spec.name}Broken`,
          backward: (g, c) => scale((spec as OpSpec<unknown>).backward(g, c)),
        });
    // caught by a gradient mismatch (a worst element is reported), not by a crash
    expect(() => checkOp(broken, { numRuns: 100, domain: [0.5, 2] })).toThrow(
      new RegExp(`checkOp\\(${spec.name}Broken\\) failed[^]*worst element: input \\d+`),
    );
  });
});
