/**
 * Issue 7, "bad input never crashes", for @gradgraph/core: constructors, Tensor methods, grad,
 * the gradient checks, jvp/hvp, defineOp, noGrad and Rng, called with odd and invalid arguments.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defineOp,
  full,
  grad,
  hvp,
  jvp,
  noGrad,
  ones,
  Rng,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from "../src/index.js";
import { argArb, checkTensorResult, expectGraceful, junkArb, oddTensor, RUNS } from "./fuzz-helpers.js";

type AnyFn = (...args: unknown[]) => unknown;

const shapeLikeArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom(-1, 1.5, Number.NaN, 2 ** 40, "2", null), { minLength: 1, maxLength: 3 }),
  },
  { weight: 2, arbitrary: junkArb },
);
const optionsArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      dtype: fc.oneof(fc.constantFrom("float32", "float64", "int32", "FLOAT64"), junkArb),
      requiresGrad: fc.oneof(fc.boolean(), junkArb),
      shape: shapeLikeArb,
      seed: fc.oneof(fc.integer(), junkArb),
    },
    { requiredKeys: [] },
  ),
  junkArb,
);
/** Tensor functions: fine ones, ones returning junk, ones that throw a plain Error. */
const fnArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant((x: Tensor) => x),
  fc.constant((...xs: Tensor[]) => xs[0]),
  fc.constant(() => "junk"),
  fc.constant(() => tensor([1, 2])),
  junkArb,
);
const listArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.array(oddTensor, { maxLength: 2 }) },
  { weight: 2, arbitrary: fc.array(argArb, { maxLength: 2 }) },
  { weight: 1, arbitrary: junkArb },
);
const anyResult = (): void => {};
const tensorList = (fn: string, args: unknown[]) => (v: unknown) => {
  for (const t of v as unknown[]) checkTensorResult(fn, args, t);
};

const cases: [
  string,
  fc.Arbitrary<unknown[]>,
  (args: unknown[]) => unknown,
  ((a: unknown[]) => (v: unknown) => void)?,
][] = [
  [
    "tensor",
    fc.tuple(fc.oneof(argArb, fc.array(fc.oneof(fc.double(), junkArb), { maxLength: 4 })), optionsArb),
    (a) => (tensor as AnyFn)(...a),
  ],
  ["zeros", fc.tuple(shapeLikeArb, optionsArb), (a) => (zeros as AnyFn)(...a)],
  ["ones", fc.tuple(shapeLikeArb, optionsArb), (a) => (ones as AnyFn)(...a)],
  ["full", fc.tuple(shapeLikeArb, fc.oneof(fc.double(), junkArb), optionsArb), (a) => (full as AnyFn)(...a)],
  ["randn", fc.tuple(shapeLikeArb, optionsArb), (a) => (randn as AnyFn)(...a)],
  ["item", fc.tuple(oddTensor), (a) => (a[0] as Tensor).item(), () => anyResult],
  ["toArray", fc.tuple(oddTensor), (a) => (a[0] as Tensor).toArray(), () => anyResult],
  [
    "backward",
    fc.tuple(oddTensor, fc.oneof(argArb, fc.constant(undefined)), fc.oneof(fc.constant(undefined), junkArb)),
    (a) => (a[0] as Tensor).backward(a[1] as Tensor, a[2] as never),
    () => anyResult,
  ],
  ["copy_", fc.tuple(oddTensor, argArb), (a) => (a[0] as Tensor).copy_(a[1] as Tensor)],
  ["fill_", fc.tuple(oddTensor, fc.oneof(fc.double(), junkArb)), (a) => (a[0] as Tensor).fill_(a[1] as number)],
  [
    "grad",
    fc.tuple(fc.oneof(argArb, listArb), listArb, optionsArb),
    (a) => (grad as AnyFn)(...a),
    (a) => tensorList("grad", a),
  ],
  ["jvp", fc.tuple(fnArb, listArb, listArb), (a) => (jvp as AnyFn)(...a), () => anyResult],
  ["hvp", fc.tuple(fnArb, listArb, listArb), (a) => (hvp as AnyFn)(...a), () => anyResult],
  [
    "noGrad",
    fc.tuple(
      fc.oneof(
        junkArb,
        fc.constant(() => 1),
      ),
    ),
    (a) => (noGrad as AnyFn)(...a),
    () => anyResult,
  ],
  [
    "defineOp",
    fc.tuple(
      fc.oneof(
        junkArb,
        fc.record(
          {
            name: fc.oneof(fc.string(), junkArb),
            inputs: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), junkArb),
            forward: fnArb,
            backward: fnArb,
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    (a) => (defineOp as AnyFn)(...a),
    () => anyResult,
  ],
  [
    "Rng",
    fc.tuple(fc.oneof(fc.integer(), junkArb)),
    (a) => new (Rng as unknown as new (...x: unknown[]) => unknown)(...a),
    () => anyResult,
  ],
];

describe("fuzz: public functions of @gradgraph/core", () => {
  for (const [name, arb, call, check] of cases) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => {
      const label = name.includes(".") ? name.split(".")[1]! : name;
      fc.assert(
        fc.property(arb, (args) => {
          expectGraceful(label, args, () => call(args), check ? check(args) : undefined, [label, name]);
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe("fuzz regressions", () => {
  it("shapes too large to allocate are a ShapeError naming the function, not a RangeError", () => {
    expect(() => zeros([2 ** 40])).toThrow(ShapeError);
    expect(() => zeros([2 ** 40])).toThrow(
      /zeros: shape \[1099511627776\] has 1099511627776 elements, more than the maximum/,
    );
    expect(() => full([2 ** 33], 1)).toThrow(/full: shape/);
    expect(zeros([0, 2 ** 40]).shape).toEqual([0, 2 ** 40]);
  });

  it("noGrad with a non-function is an ArgumentError", () => {
    expect(() => noGrad("" as never)).toThrow(/noGrad: fn must be a function, got string ""/);
  });

  it("tensor treats null options like none", () => {
    expect(tensor([1, 2], null as never).shape).toEqual([2]);
  });

  it("randn names itself for a bad seed and survives null options", () => {
    expect(() => randn([2], { seed: null as unknown as number })).toThrow(/randn: seed must be an integer, got null/);
    expect(() => randn([2], null as never)).toThrow(/randn: a seed or an rng is required/);
  });
});
