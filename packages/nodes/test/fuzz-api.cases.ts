/**
 * Fuzz cases for @gradgraph/nodes (issue 7, "bad input never crashes"): every public function and
 * every op object in `ops`, with valid-but-odd and invalid arguments. Run by fuzz-api.test.ts in
 * the watchdog's worker thread (a hang fails its test with the input), so this module must not
 * import vitest.
 */

import { tensor, zeros } from "@gradgraph/core";
import fc from "fast-check";
import {
  argArb,
  axisArb,
  checkTensorResult,
  junkArb,
  oddTensor,
  oddTensorArb,
  sparseArb,
} from "../../core/test/fuzz-helpers.js";
import type { FuzzCases } from "../../core/test/watchdog.js";
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
  { weight: 1, arbitrary: sparseArb },
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
      axis: fc.oneof(
        axisArb,
        fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), axisArb), { maxLength: 3 }),
        sparseArb,
      ),
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
  { weight: 1, arbitrary: sparseArb },
);

/** Tensors whose shapes often match each other (same shape with probability ~1/2). */
const pairArb: fc.Arbitrary<[unknown, unknown]> = fc.oneof(
  fc.tuple(argArb, argArb),
  oddTensor.chain((a) =>
    fc.tuple(fc.constant<unknown>(a), fc.oneof(fc.constant<unknown>(a), fc.constant<unknown>(zeros([...a.shape])))),
  ),
);

/** Function name -> arbitrary of its argument list. */
const argCases: Record<string, fc.Arbitrary<unknown[]>> = {};
for (const name of [
  "add",
  "sub",
  "mul",
  "div",
  "maximum",
  "minimum",
  "pow",
  "matmul",
  "meanSquaredError",
  "outer",
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
  "logicalAnd",
  "logicalOr",
  "logicalXor",
  "floorDiv",
  "mod",
]) {
  argCases[name] = fc.oneof(
    pairArb.map((p) => [...p]),
    fc.array(argArb, { maxLength: 3 }),
  );
}
/** matmul's options: the two flags (booleans or junk), misspelt keys, or junk instead of an object. */
const matmulOptionsArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.record(
    { transposeA: fc.oneof(fc.boolean(), junkArb), transposeB: fc.oneof(fc.boolean(), junkArb) },
    { requiredKeys: [] },
  ),
  fc.record({ transA: fc.boolean(), transposeb: fc.boolean() }, { requiredKeys: [] }),
  junkArb,
);
argCases.matmul = fc.oneof(
  argCases.matmul!,
  fc.tuple(pairArb, matmulOptionsArb).map(([p, o]) => [...p, o]),
  fc.tuple(argArb, argArb, matmulOptionsArb),
);
for (const name of [
  "clone",
  "neg",
  "exp",
  "log",
  "sqrt",
  "abs",
  "sigmoid",
  "tanh",
  "relu",
  "square",
  "sin",
  "cos",
  "normalCdf",
]) {
  argCases[name] = fc.oneof(
    argArb.map((a) => [a]),
    fc.array(argArb, { maxLength: 2 }),
  );
}
argCases.logicalNot = fc.oneof(
  argArb.map((a) => [a]),
  fc.array(argArb, { maxLength: 2 }),
);
argCases.where = fc.oneof(
  fc.tuple(argArb, argArb, argArb),
  pairArb.map(([a, b]) => [a, a, b]),
  fc.array(argArb, { maxLength: 4 }),
);
for (const name of ["argmax", "argmin"]) {
  argCases[name] = fc.oneof(
    fc.tuple(argArb),
    fc.tuple(
      argArb,
      fc.oneof(
        fc.record({ axis: axisArb, keepdims: fc.oneof(fc.boolean(), junkArb) }, { requiredKeys: [] }),
        fc.record({ keepDims: fc.boolean() }),
        junkArb,
      ),
    ),
  );
}
argCases.cast = fc.tuple(argArb, fc.oneof(fc.constantFrom("float32", "float64", "int32", "bool", "int64"), junkArb));
for (const name of ["sum", "mean", "max", "logSumExp"]) {
  argCases[name] = fc.tuple(argArb, reduceOptionsArb);
}
for (const name of ["variance", "std"]) {
  argCases[name] = fc.oneof(
    fc.tuple(argArb, reduceOptionsArb),
    fc.tuple(argArb, fc.record({ correction: fc.oneof(fc.integer({ min: -1, max: 3 }), junkArb) })),
  );
}
// one scalar parameter (a slope, α, bound) or junk
const scalarArb: fc.Arbitrary<unknown> = fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), junkArb);
for (const name of ["elu", "leakyRelu"]) {
  argCases[name] = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, scalarArb));
}
argCases.clamp = fc.oneof(fc.tuple(argArb, scalarArb), fc.tuple(argArb, scalarArb, scalarArb), fc.tuple(argArb));
argCases.gelu = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, fc.oneof(fc.constantFrom("none", "tanh"), junkArb)));
argCases.softplus = fc.oneof(
  fc.tuple(argArb),
  fc.tuple(argArb, fc.oneof(fc.record({ beta: scalarArb, threshold: scalarArb }), junkArb)),
);
argCases.cumsum = fc.oneof(
  fc.tuple(argArb, axisArb),
  fc.tuple(argArb, axisArb, fc.oneof(fc.record({ reverse: fc.oneof(fc.boolean(), junkArb) }), junkArb)),
);
for (const name of ["squeeze", "unstack"]) {
  argCases[name] = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, axisArb));
}
for (const name of ["unsqueeze", "expandDims"]) {
  argCases[name] = fc.tuple(argArb, axisArb);
}
argCases.flatten = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, axisArb), fc.tuple(argArb, axisArb, axisArb));
argCases.tile = fc.tuple(argArb, fc.oneof(shapeLikeArb, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 })));
for (const name of ["softmax", "logSoftmax"]) {
  argCases[name] = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, axisArb));
}
/** softmaxCrossEntropy's class indices: often in range, sometimes -100 (an ignoreIndex), junk or sparse. */
const classIndicesArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant(-100), junkArb), { maxLength: 4 }),
  junkArb,
  sparseArb,
);
/** softmaxCrossEntropy's options: each key valid, out of range or junk; unknown keys; junk. */
const sceOptionsArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        weights: fc.oneof(
          fc.array(fc.oneof(fc.double({ min: -2, max: 2 }), junkArb), { maxLength: 5 }),
          argArb,
          sparseArb,
          fc.constant(null),
        ),
        reduction: fc.oneof(fc.constantFrom("mean", "sum", "none", "avg"), junkArb),
        labelSmoothing: fc.oneof(fc.double({ min: -0.5, max: 1.5 }), junkArb),
        ignoreIndex: fc.oneof(fc.integer({ min: -101, max: 4 }), fc.constantFrom(1.5, Number.NaN, 2 ** 60), junkArb),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), junkArb, { maxKeys: 3 }) },
  { weight: 2, arbitrary: junkArb },
);
argCases.softmaxCrossEntropy = fc.oneof(
  pairArb.map((p) => [...p]),
  fc.tuple(argArb, classIndicesArb),
  fc.tuple(argArb, fc.constant(new Int32Array([0, 1, 5]))),
  pairArb.chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), sceOptionsArb)),
  fc.tuple(argArb, classIndicesArb, sceOptionsArb),
  // scores [n, C] with n class indices: the options are what is left to go wrong
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 })).chain(([n, c]) =>
    fc.tuple(
      oddTensorArb([n, c]),
      fc.array(fc.oneof(fc.integer({ min: 0, max: Math.max(c - 1, 0) }), fc.constant(-100)), {
        minLength: n,
        maxLength: n,
      }),
      sceOptionsArb,
    ),
  ),
);
/** x, W, b for `affine`: often fitting shapes ([n, d], [d, h], [h] or [1, h]), else anything. */
argCases.affine = fc.oneof(
  fc.array(argArb, { maxLength: 4 }),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.boolean())
    .chain(([n, d, h, row]) => fc.tuple(oddTensorArb([n, d]), oddTensorArb([d, h]), oddTensorArb(row ? [1, h] : [h])))
    .map((t) => [...t]),
);
argCases.reshape = fc.tuple(argArb, shapeLikeArb);
argCases.broadcastTo = fc.tuple(argArb, shapeLikeArb);
argCases.sumTo = fc.tuple(argArb, shapeLikeArb);
argCases.transpose = fc.oneof(
  fc.tuple(argArb),
  fc.tuple(argArb, fc.oneof(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 4 }), shapeLikeArb)),
);
/** One entry of a getItem index: valid kinds (ints, slices, "...", null, integer lists) and junk. */
const sliceArb: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }),
    fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }),
    fc.option(fc.constantFrom(-3, -2, -1, 1, 2, 3, 2 ** 40), { nil: null }),
  )
  .map(([a, b, c]) => nodes.s(a, b, c));
/** Integer indices of every accepted form, and near misses. */
const intsArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.integer({ min: -4, max: 4 }), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(new Int32Array([0, 1, -1])) },
  {
    weight: 1,
    arbitrary: fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 4 }).map((a) => tensor(a)),
  },
  { weight: 1, arbitrary: oddTensor },
  { weight: 1, arbitrary: fc.array(fc.constantFrom<unknown>(Number.NaN, 2 ** 40, -0, 1.5, "1", [0], null)) },
  { weight: 1, arbitrary: sparseArb },
);
const indexEntryArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -4, max: 4 }) },
  { weight: 3, arbitrary: sliceArb },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>("...", null, Number.NaN, 2 ** 40, -0, 1.5, "1:", ":", undefined),
  },
  { weight: 2, arbitrary: intsArb },
  { weight: 2, arbitrary: junkArb },
);
argCases.getItem = fc.oneof(
  fc.tuple(
    argArb,
    fc.oneof(
      axisArb,
      fc.array(fc.oneof(fc.integer({ min: -4, max: 4 }), axisArb), { maxLength: 4 }),
      fc.constant(new Int32Array([0, 1])),
      sparseArb,
    ),
  ),
  fc.tuple(argArb, fc.array(indexEntryArb, { maxLength: 6 })).map(([x, index]) => [x, ...index]),
);
argCases.gather = fc.oneof(
  fc.tuple(argArb, fc.oneof(intsArb, axisArb, junkArb)),
  fc.tuple(argArb, fc.oneof(intsArb, axisArb), axisArb),
);
argCases.s = fc.array(
  fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.constantFrom<unknown>(null, undefined, 0, Number.NaN, 2 ** 40, -0, 1.5, "1", Number.POSITIVE_INFINITY),
    junkArb,
  ),
  { maxLength: 4 },
);
argCases.slice = fc.oneof(fc.tuple(argArb, axisArb), fc.tuple(argArb, axisArb, axisArb, axisArb));
argCases.concat = fc.oneof(fc.tuple(tensorListArb), fc.tuple(tensorListArb, axisArb));
argCases.stack = argCases.concat!;
argCases.split = fc.tuple(
  argArb,
  fc.oneof(countArb, fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), countArb), { maxLength: 4 }), sparseArb),
  axisArb,
);
argCases.branch = fc.oneof(fc.tuple(argArb), fc.tuple(argArb, countArb));
argCases.repeat = fc.oneof(fc.tuple(argArb, countArb), fc.tuple(argArb, countArb, axisArb));

/** Results: a Tensor, or (branch, split) an array of Tensors, or (s) a slice. */
function checkResult(name: string, args: unknown[], value: unknown): void {
  if (name === "s") {
    if (!/^-?\d*:-?\d*(:-?\d+)?$/.test(String(value))) throw new Error(`s returned ${String(value)}`);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) checkTensorResult(name, args, v);
  } else {
    checkTensorResult(name, args, value);
  }
}

/** The public functions (not the `*Op` objects), which must each have a case. */
export const publicFunctions = Object.entries(fns)
  .filter(([name, f]) => typeof f === "function" && !name.endsWith("Op") && name !== "logSoftmaxInto")
  .map(([name]) => name)
  .sort();

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

/** Every public function, and every op object in `ops` (as `ops.<key>`, at half the runs). */
export const cases: FuzzCases = {
  ...Object.fromEntries(
    Object.keys(argCases)
      .sort()
      .map((name) => [
        name,
        {
          arb: argCases[name]!,
          call: (args: unknown[]) => fns[name]!(...args),
          check: (v: unknown, args: unknown[]) => checkResult(name, args, v),
        },
      ]),
  ),
  ...Object.fromEntries(
    Object.entries(nodes.ops).map(([key, op]) => {
      const opName = (op as { opName: string }).opName;
      return [
        `ops.${key}`,
        {
          arb: fc
            .tuple(fc.oneof(fc.array(argArb, { maxLength: 3 }), junkArb), attrArb)
            .map(([inputs, attrs]) => [inputs, ...attrs]),
          call: (args: unknown[]) => (op as unknown as AnyFn)(...args),
          check: (v: unknown, args: unknown[]) => checkResult(opName, args, v),
          names: [opName],
          runs: 0.5,
        },
      ];
    }),
  ),
};
