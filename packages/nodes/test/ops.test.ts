import { defineMultiOutputOp, defineOp, type MultiOpSpec, type Op, type OpSpec, type Tensor } from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { mul, ops } from "../src/index.js";

/** The op objects, each typed by its own attributes; here only their common shape matters. */
const allOps = Object.values(ops) as unknown as Op<unknown>[];

/**
 * Every op of the package, property-checked over arbitrary shapes by every route (grad,
 * createGraph, .backward() into zeroed grads, twice) against numerical gradients.
 */
describe.each(allOps)("checkOp($opName)", (op) => {
  it("float64, reference float64; at least 80% of the cases have an input of two elements or more", () => {
    const report = checkOp(op, { numRuns: 40 });
    expect(report.cases).toBe(40);
    expect(report.nonTrivial / report.cases).toBeGreaterThanOrEqual(0.8);
    expect(report.routes).toEqual(["grad", "createGraph", "backward"]);
  });

  it("float32, against the op's own float64 gradient (and that against numerical gradients)", () => {
    expect(checkOp(op, { numRuns: 20, dtype: "float32" }).cases).toBe(20);
  });

  it("second order: gradgradcheck of every case", () => {
    expect(checkOp(op, { numRuns: 15, secondOrder: true }).cases).toBe(15);
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
      "clone",
      "concat",
      "cos",
      "cumsum",
      "div",
      "elu",
      "exp",
      "gather",
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
      "mod",
      "mul",
      "neg",
      "normalCdf",
      "outer",
      "padSlice",
      "padStrided",
      "pow",
      "powScalar",
      "relu",
      "reluGrad",
      "repeat",
      "reshape",
      "scatterAdd",
      "scatterRows",
      "sigmoid",
      "sigmoidGrad",
      "sin",
      "slice",
      "softmax",
      "softmaxCrossEntropy",
      "softmaxCrossEntropyIndices",
      "softplus",
      "split",
      "sqrt",
      "square",
      "stridedSlice",
      "sub",
      "sum",
      "tanh",
      "tanhGrad",
      "transpose",
      "variance",
      "where",
    ]);
  });
});

/**
 * The property tests can fail: a copy of each op whose derivative is off by 1% must be caught by
 * checkOp's defaults (as the op's own declaration draws its cases) in float64, float32 and to
 * second order. Other ways to be wrong are in twins.test.ts.
 */
describe.each(allOps)("checkOp catches a broken $opName", (op) => {
  it.each([
    ["float64", {}],
    ["float32", { dtype: "float32" }],
    ["second order", { secondOrder: true }],
  ] as const)("%s, off by one percent", (_mode, options) => {
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
          // a declared second route is broken the same way (checkOp runs whichever route applies)
          fusedBackward:
            spec.fusedBackward === undefined
              ? undefined
              : (g, c, o) => scale((spec as OpSpec<unknown>).fusedBackward!(g, c, o)),
        });
    // caught by a gradient mismatch (a worst element is reported), not by a crash
    expect(() => checkOp(broken, options)).toThrow(
      new RegExp(
        `checkOp\\(${spec.name}Broken\\) failed[^]*(worst element: input \\d+|fusedBackward disagrees with backward)`,
      ),
    );
  });
});
