/**
 * Issue 7, "bad input never crashes": fast-check calls every public function of @gradgraph/nodes
 * and every op object in `ops` with valid-but-odd and invalid arguments. Each call must either
 * return a well-formed Tensor (or array of them) or throw a GradgraphError naming the function.
 */

import { ArgumentError, ShapeError, tensor, zeros } from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  argArb,
  axisArb,
  checkTensorResult,
  expectGraceful,
  junkArb,
  oddTensor,
  RUNS,
} from "../../core/test/fuzz-helpers.js";
import * as nodes from "../src/index.js";

type AnyFn = (...args: unknown[]) => unknown;
const fns = nodes as unknown as Record<string, AnyFn>;

const shapeLikeArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 4 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom(1.5, -2, Number.NaN, 2 ** 40, "2"), { minLength: 1, maxLength: 3 }),
  },
  { weight: 2, arbitrary: junkArb },
);

const countArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 40, 1e12) },
  { weight: 2, arbitrary: junkArb },
);

const reduceOptionsArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      axis: fc.oneof(axisArb, fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), axisArb), { maxLength: 3 })),
      keepdims: fc.oneof(fc.boolean(), junkArb),
    },
    { requiredKeys: [] },
  ),
  junkArb,
);

const tensorListArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(oddTensor, { maxLength: 3 }) },
  { weight: 2, arbitrary: fc.array(argArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: junkArb },
);

/** Tensors whose shapes often match each other (same shape with probability ~1/2). */
const pairArb: fc.Arbitrary<[unknown, unknown]> = fc.oneof(
  fc.tuple(argArb, argArb),
  oddTensor.chain((a) =>
    fc.tuple(fc.constant<unknown>(a), fc.oneof(fc.constant<unknown>(a), fc.constant<unknown>(zeros([...a.shape])))),
  ),
);

/** Function name -> arbitrary of its argument list. */
const cases: Record<string, fc.Arbitrary<unknown[]>> = {};
for (const name of ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "matmul", "meanSquaredError"]) {
  cases[name] = fc.oneof(
    pairArb.map((p) => [...p]),
    fc.array(argArb, { maxLength: 3 }),
  );
}
for (const name of ["neg", "exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu"]) {
  cases[name] = fc.oneof(
    argArb.map((a) => [a]),
    fc.array(argArb, { maxLength: 2 }),
  );
}
for (const name of ["sum", "mean", "max", "logSumExp"]) {
  cases[name] = fc.tuple(argArb, reduceOptionsArb);
}
for (const name of ["softmax", "logSoftmax"]) {
  cases[name] = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, axisArb));
}
cases.softmaxCrossEntropy = fc.oneof(
  pairArb.map((p) => [...p]),
  fc.tuple(argArb, fc.oneof(fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), junkArb), { maxLength: 4 }), junkArb)),
  fc.tuple(argArb, fc.constant(new Int32Array([0, 1, 5]))),
);
cases.reshape = fc.tuple(argArb, shapeLikeArb);
cases.broadcastTo = fc.tuple(argArb, shapeLikeArb);
cases.sumTo = fc.tuple(argArb, shapeLikeArb);
cases.transpose = fc.oneof(
  fc.tuple(argArb),
  fc.tuple(argArb, fc.oneof(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 4 }), shapeLikeArb)),
);
cases.getItem = fc.tuple(
  argArb,
  fc.oneof(
    axisArb,
    fc.array(fc.oneof(fc.integer({ min: -4, max: 4 }), axisArb), { maxLength: 4 }),
    fc.constant(new Int32Array([0, 1])),
  ),
);
cases.slice = fc.oneof(fc.tuple(argArb, axisArb), fc.tuple(argArb, axisArb, axisArb, axisArb));
cases.concat = fc.oneof(fc.tuple(tensorListArb), fc.tuple(tensorListArb, axisArb));
cases.stack = cases.concat;
cases.split = fc.tuple(
  argArb,
  fc.oneof(countArb, fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), countArb), { maxLength: 4 })),
  axisArb,
);
cases.branch = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, countArb));
cases.repeat = fc.oneof(fc.tuple(argArb, countArb), fc.tuple(argArb, countArb, axisArb));

/** Results: a Tensor, or (branch, split) an array of Tensors. */
function checkResult(name: string, args: unknown[], value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) checkTensorResult(name, args, v);
  } else {
    checkTensorResult(name, args, value);
  }
}

const publicFunctions = Object.entries(fns)
  .filter(([name, f]) => typeof f === "function" && !name.endsWith("Op") && name !== "logSoftmaxInto")
  .map(([name]) => name)
  .sort();

describe("fuzz: every public function of @gradgraph/nodes", () => {
  it("has an argument generator for every exported function", () => {
    expect(publicFunctions.filter((n) => !(n in cases))).toEqual([]);
  });

  for (const name of Object.keys(cases).sort()) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => {
      const f = fns[name]!;
      fc.assert(
        fc.property(cases[name]!, (args) => {
          expectGraceful(
            name,
            args,
            () => f(...args),
            (v) => checkResult(name, args, v),
          );
        }),
        { numRuns: RUNS },
      );
    });
  }
});

const attrArb: fc.Arbitrary<unknown[]> = fc.array(
  fc.oneof(
    junkArb,
    reduceOptionsArb,
    axisArb,
    shapeLikeArb,
    fc.record({ axis: axisArb, n: countArb, shape: shapeLikeArb }),
  ),
  { maxLength: 3 },
);

describe("fuzz: op objects in `ops` called directly with junk inputs and attrs", () => {
  for (const [key, op] of Object.entries(nodes.ops)) {
    it(`ops.${key}`, () => {
      const call = op as unknown as AnyFn;
      const opName = (op as { opName: string }).opName;
      fc.assert(
        fc.property(fc.oneof(fc.array(argArb, { maxLength: 3 }), junkArb), attrArb, (inputs, attrs) => {
          const args = [inputs, ...attrs];
          expectGraceful(
            opName,
            args,
            () => call(inputs, ...attrs),
            (v) => checkResult(opName, args, v),
          );
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });
  }
});

describe("fuzz regressions", () => {
  it("branch, repeat and split refuse huge counts with an ArgumentError/ShapeError instead of a RangeError", () => {
    expect(() => nodes.branch(tensor(1), 1e12)).toThrow(ArgumentError);
    expect(() => nodes.branch(tensor(1), 1e12)).toThrow(/branch: n must be at most 1048576, got 1000000000000/);
    expect(() => nodes.repeat(tensor(1, { dtype: "float32" }), 2 ** 40)).toThrow(ShapeError);
    expect(() => nodes.repeat(tensor([1, 2]), 2 ** 40, 0)).toThrow(/repeat: result .* has 2199023255552 elements/);
    expect(nodes.repeat(zeros([0]), 2 ** 40).shape).toEqual([0]);
    // used to loop 3 * 1e12 times copying nothing
    expect(nodes.repeat(zeros([3, 0]), 1e12, 0).shape).toEqual([3e12, 0]);
    expect(() => nodes.split(zeros([0]), 2 ** 40, 0)).toThrow(ArgumentError);
    expect(() => nodes.split(zeros([0]), 2 ** 40, 0)).toThrow(/split: the number of pieces must be at most 1048576/);
    expect(nodes.split(zeros([0]), 3, 0).map((t) => t.shape)).toEqual([[0], [0], [0]]);
  });

  it("op objects given bigint/symbol attrs throw an ArgumentError, not a TypeError from JSON.stringify", () => {
    expect(() => (nodes.ops.padSlice as unknown as AnyFn)([tensor(1)], 10n)).toThrow(ArgumentError);
    expect(() => (nodes.ops.padSlice as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/padSlice: attrs must be/);
    expect(() => (nodes.ops.transpose as unknown as AnyFn)([tensor(1)], 10n)).toThrow(
      /transpose: attrs must be .* got "10n"/,
    );
    expect(() => (nodes.ops.sum as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/sum: attrs must be/);
    expect(() => (nodes.ops.softmax as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/softmax: attrs must be/);
    expect(() => (nodes.ops.powScalar as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/powScalar: attrs must be/);
    expect(() => nodes.transpose(zeros([2, 2]), [0n, 1n] as unknown as number[])).toThrow(ArgumentError);
  });
});
