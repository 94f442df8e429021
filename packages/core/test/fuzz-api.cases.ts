/**
 * Fuzz cases for @gradgraph/core (issue 7, "bad input never crashes"): constructors, Tensor
 * methods and accessors (on tensors and on junk receivers), grad, the gradient checks, jvp/hvp,
 * defineOp, noGrad and Rng. Run by fuzz-api.test.ts in the watchdog's worker thread, so this
 * module must not import vitest.
 */
import fc from "fast-check";
import {
  assertGradcheck,
  broadcastShapes,
  checkShape,
  defineOp,
  full,
  grad,
  gradcheck,
  gradgradcheck,
  hvp,
  isBroadcastableTo,
  isTensor,
  jvp,
  noGrad,
  normalizeAxes,
  numericalGrad,
  ones,
  Rng,
  randn,
  shapeSize,
  shapesEqual,
  stridesOf,
  Tensor,
  tensor,
  zeros,
} from "../src/index.js";
import { argArb, checkTensorResult, junkArb, oddTensor, oddTensorArb, sparseArb } from "./fuzz-helpers.js";
import type { FuzzCase, FuzzCases } from "./watchdog.js";

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
      storage: fc.oneof(fc.constantFrom("js", "wasm", "WASM", "gpu"), junkArb),
      shape: shapeLikeArb,
      seed: fc.oneof(fc.integer(), junkArb),
    },
    { requiredKeys: [] },
  ),
  junkArb,
);
/** Tensor functions: fine ones, ones returning junk (sparse arrays included). */
const fnArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant((x: Tensor) => x),
  fc.constant((...xs: Tensor[]) => xs[0]),
  fc.constant(() => "junk"),
  fc.constant(() => tensor([1, 2])),
  fc.constant(() => new Array(3)),
  fc.constant(() => new Array(2 ** 32 - 1)),
  fc.constant(() => []),
  junkArb,
);
const listArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.array(oddTensor, { maxLength: 2 }) },
  { weight: 2, arbitrary: fc.array(argArb, { maxLength: 2 }) },
  { weight: 1, arbitrary: junkArb },
  { weight: 1, arbitrary: sparseArb },
);
const anyResult = (): void => {};
const tensorList = (fn: string) => (v: unknown, args: unknown[]) => {
  for (const t of v as unknown[]) checkTensorResult(fn, args, t);
};

// ------------------------------------------------------------------------------------------------
// gradient checks: small inputs (they run f 2·size times), junk options

/** Small tensors that require no grad by default, as gradcheck's users pass them. */
const smallInputsArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }).chain((s) => oddTensorArb(s, false)),
      { minLength: 1, maxLength: 2 },
    ),
  },
  { weight: 1, arbitrary: junkArb },
  { weight: 1, arbitrary: sparseArb },
  // a huge but cheap input: 2·4096 evaluations of an identity
  { weight: 1, arbitrary: fc.constant([zeros([64, 64], { dtype: "float64" })]) },
);
const epsArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    0,
    -1,
    -1e-6,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MIN_VALUE,
    1e-300,
    1e308,
    1e-3,
    "1e-6",
    null,
  ),
  junkArb,
);
const wrtArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.integer({ min: -1, max: 2 }), { maxLength: 3 }),
  sparseArb,
  junkArb,
);
const gradcheckOptionsArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      eps: epsArb,
      atol: fc.oneof(fc.constantFrom(0, 1e-3, -1, Number.NaN, Number.POSITIVE_INFINITY), junkArb),
      rtol: fc.oneof(fc.constantFrom(0, 1e-2, -1, Number.NaN), junkArb),
      gradOutput: fc.oneof(argArb, listArb),
      seed: fc.oneof(fc.integer(), junkArb),
      gradOutputSeed: fc.oneof(fc.integer(), junkArb),
      wrt: wrtArb,
      localize: fc.oneof(fc.boolean(), junkArb),
      routes: fc.oneof(
        fc.constantFrom(
          "all",
          ["grad"],
          ["backward"],
          ["createGraph", "grad"],
          [],
          ["grad", "grad", "grad", "grad"],
          "grad",
        ),
        junkArb,
      ),
      crossAtol: fc.oneof(fc.constantFrom(0, 1e-3, -1, Number.NaN), junkArb),
      crossRtol: fc.oneof(fc.constantFrom(0, 1e-2, -1, Number.NaN), junkArb),
    },
    { requiredKeys: [] },
  ),
  junkArb,
);
const checkedFnArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant((x: Tensor) => x) },
  { weight: 1, arbitrary: fc.constant((...xs: Tensor[]) => xs) },
  { weight: 1, arbitrary: fnArb },
);
const reportCheck = (v: unknown): void => {
  const r = v as { passed?: unknown; analytic?: unknown };
  if (typeof r?.passed !== "boolean" || !Array.isArray(r.analytic)) throw new Error("malformed gradcheck report");
};

// ------------------------------------------------------------------------------------------------
// Tensor methods and accessors, on tensors and on junk receivers

const receiverArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: oddTensor },
  { weight: 3, arbitrary: junkArb },
  { weight: 1, arbitrary: fc.constant(0).map(() => Object.create(Tensor.prototype)) },
);

function memberCases(): Record<string, FuzzCase> {
  const out: Record<string, FuzzCase> = {};
  for (const key of Object.getOwnPropertyNames(Tensor.prototype)) {
    // (members named _x are @internal: not public API; the API probe still calls them)
    if (key === "constructor" || key.startsWith("_")) continue;
    const desc = Object.getOwnPropertyDescriptor(Tensor.prototype, key)!;
    const name = `Tensor.${key}`;
    const names = [name, key];
    // a junk receiver must throw; a real tensor with junk arguments may work. `rank` is guarded by
    // a try/catch only (a receiver check would cost on the hot path), so on an object that has a
    // `shape` array it duck-types to that array's length.
    const check = (v: unknown, args: unknown[]) => {
      const self = args[0];
      if (key === "rank" && Array.isArray((self as { shape?: unknown } | null)?.shape)) {
        if (v !== (self as { shape: unknown[] }).shape.length) throw new Error(`${name} returned ${String(v)}`);
        return;
      }
      if (!isTensor(self)) {
        throw new Error(`${name} returned instead of throwing for the receiver ${String(describeSafe(self))}`);
      }
    };
    if (desc.get !== undefined) {
      out[`${name} (get)`] = { arb: fc.tuple(receiverArb), call: (a) => desc.get!.call(a[0]), check, names };
    }
    if (desc.set !== undefined) {
      out[`${name} (set)`] = {
        arb: fc.tuple(receiverArb, fc.oneof(fc.boolean(), junkArb)),
        call: (a) => desc.set!.call(a[0], a[1]),
        check,
        names,
      };
    }
    if (typeof desc.value === "function") {
      const method = desc.value as AnyFn;
      out[name] = {
        arb: fc
          .tuple(receiverArb, fc.array(fc.oneof(argArb, fc.constant(undefined)), { maxLength: 2 }))
          .map(([self, rest]) => [self, ...rest]),
        call: (a) => method.apply(a[0], a.slice(1)),
        check,
        names,
      };
    }
  }
  return out;
}

function describeSafe(v: unknown): string {
  try {
    return fc.stringify(v);
  } catch {
    return typeof v;
  }
}

// ------------------------------------------------------------------------------------------------
// Issue 1's hangs and crashes, as constant inputs: each must now throw a GradgraphError at once.
// Here rather than in validation.test.ts: a regression then fails in the watchdog (a hang) or
// kills its worker (a crash) instead of the suite.

/** One of `makers`' values per run (fresh each time). */
const oneOf = (...makers: (() => unknown)[]): fc.Arbitrary<unknown> => fc.constantFrom(...makers).map((make) => make());

const mustThrow = (v: unknown): void => {
  throw new Error(`returned ${describeSafe(v)} instead of throwing`);
};

const cyclic = (): unknown[] => {
  const a: unknown[] = [1];
  a[0] = a;
  return a;
};
const nested = (depth: number, ragged: boolean): unknown => {
  let v: unknown = ragged ? [[1, 2], [1]] : 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};
/** Arrays and array-likes that hung or crashed whatever iterated them, and shapes too large to loop over. */
const hugeArb = oneOf(
  () => new Array(2 ** 32 - 1),
  () => Object.assign(new Array(1e9), { 0: 0 }),
  () => ({ length: 2 ** 32 }),
  () => ({ length: Number.POSITIVE_INFINITY }),
  cyclic,
  () => nested(10_000, true),
  () => nested(10_000, false),
);

const issue1: Record<string, FuzzCase> = {
  "issue 1: tensor() on cyclic, huge sparse, 2^32-long and 10,000-deep arrays": {
    arb: fc.tuple(hugeArb),
    call: (a) => (tensor as AnyFn)(a[0]),
    check: mustThrow,
    names: ["tensor"],
    runs: 0.05,
  },
  "issue 1: new Tensor with such shapes": {
    arb: fc.tuple(
      fc.oneof(
        hugeArb,
        oneOf(
          () => [2 ** 31, 2 ** 31],
          () => [Number.POSITIVE_INFINITY],
          () => Number.NaN,
        ),
      ),
    ),
    call: (a) => new Tensor(new Float32Array(2), a[0] as number[]),
    check: mustThrow,
    names: ["Tensor"],
    runs: 0.05,
  },
  "issue 1: shape helpers on such shapes": {
    arb: fc.tuple(
      fc.oneof(
        hugeArb,
        oneOf(
          () => [2 ** 31, 2 ** 31, 2 ** 31],
          () => [Number.POSITIVE_INFINITY],
        ),
      ),
      fc.constantFrom(
        "shapeSize",
        "stridesOf",
        "shapesEqual",
        "broadcastShapes",
        "isBroadcastableTo",
        "checkShape",
        "normalizeAxes",
      ),
    ),
    call: ([shape, fn]) => {
      const junk = shape as number[];
      switch (fn) {
        case "shapeSize":
          return shapeSize(junk);
        case "stridesOf":
          return stridesOf(junk);
        case "shapesEqual":
          // (two sparse arrays of 2^32 − 1 holes are equal entry by entry: only the rank check stops it)
          return shapesEqual(junk, junk);
        case "broadcastShapes":
          return broadcastShapes("broadcastShapes", junk, [2]);
        case "isBroadcastableTo":
          return isBroadcastableTo([1], junk);
        case "checkShape":
          return checkShape("checkShape", junk);
        default:
          return normalizeAxes("normalizeAxes", junk, 2);
      }
    },
    // [2**31, 2**31, 2**31] is a valid shape for shapeSize, stridesOf and isBroadcastableTo (no
    // allocation): they may return; none may hang
    check: anyResult,
    names: (a) => [a[1] as string],
    runs: 0.1,
  },
};

export const cases: FuzzCases = {
  ...issue1,
  tensor: {
    arb: fc.tuple(fc.oneof(argArb, fc.array(fc.oneof(fc.double(), junkArb), { maxLength: 4 })), optionsArb),
    call: (a) => (tensor as AnyFn)(...a),
  },
  zeros: { arb: fc.tuple(shapeLikeArb, optionsArb), call: (a) => (zeros as AnyFn)(...a) },
  ones: { arb: fc.tuple(shapeLikeArb, optionsArb), call: (a) => (ones as AnyFn)(...a) },
  full: { arb: fc.tuple(shapeLikeArb, fc.oneof(fc.double(), junkArb), optionsArb), call: (a) => (full as AnyFn)(...a) },
  randn: { arb: fc.tuple(shapeLikeArb, optionsArb), call: (a) => (randn as AnyFn)(...a) },
  item: { arb: fc.tuple(oddTensor), call: (a) => (a[0] as Tensor).item(), check: anyResult },
  toArray: { arb: fc.tuple(oddTensor), call: (a) => (a[0] as Tensor).toArray(), check: anyResult },
  backward: {
    arb: fc.tuple(oddTensor, fc.oneof(argArb, fc.constant(undefined)), fc.oneof(fc.constant(undefined), junkArb)),
    call: (a) => (a[0] as Tensor).backward(a[1] as Tensor, a[2] as never),
    check: anyResult,
  },
  copy_: { arb: fc.tuple(oddTensor, argArb), call: (a) => (a[0] as Tensor).copy_(a[1] as Tensor) },
  fill_: {
    arb: fc.tuple(oddTensor, fc.oneof(fc.double(), junkArb)),
    call: (a) => (a[0] as Tensor).fill_(a[1] as number),
  },
  grad: {
    arb: fc.tuple(fc.oneof(argArb, listArb), listArb, optionsArb),
    call: (a) => (grad as AnyFn)(...a),
    check: tensorList("grad"),
  },
  jvp: { arb: fc.tuple(fnArb, listArb, listArb), call: (a) => (jvp as AnyFn)(...a), check: anyResult },
  hvp: { arb: fc.tuple(fnArb, listArb, listArb), call: (a) => (hvp as AnyFn)(...a), check: anyResult },
  noGrad: {
    arb: fc.tuple(
      fc.oneof(
        junkArb,
        fc.constant(() => 1),
      ),
    ),
    call: (a) => (noGrad as AnyFn)(...a),
    check: anyResult,
  },
  defineOp: {
    arb: fc.tuple(
      fc.oneof(
        junkArb,
        fc.record(
          {
            name: fc.oneof(fc.string(), junkArb),
            inputs: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), junkArb, sparseArb),
            forward: fnArb,
            backward: fnArb,
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    call: (a) => (defineOp as AnyFn)(...a),
    check: anyResult,
  },
  Rng: {
    // seeds: 32-bit, safe and unsafe integers, BigInts in and out of the signed 64-bit range, junk
    arb: fc.tuple(
      fc.oneof(
        fc.integer(),
        fc.maxSafeInteger(),
        fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }),
        fc.constantFrom(2 ** 53, -(2 ** 53), 1e300, 2n ** 63n, -(2n ** 63n) - 1n),
        junkArb,
      ),
    ),
    call: (a) => new (Rng as unknown as new (...x: unknown[]) => unknown)(...a),
    check: anyResult,
  },
  numericalGrad: {
    arb: fc.tuple(checkedFnArb, smallInputsArb, gradcheckOptionsArb),
    call: (a) => (numericalGrad as AnyFn)(...a),
    check: tensorList("numericalGrad"),
    argNames: ["f", "inputs", "input", "options", "eps", "wrt", "gradOutput", "output"],
  },
  gradcheck: {
    arb: fc.tuple(checkedFnArb, smallInputsArb, gradcheckOptionsArb),
    call: (a) => (gradcheck as AnyFn)(...a),
    check: reportCheck,
    argNames: [
      "f",
      "inputs",
      "input",
      "options",
      "eps",
      "wrt",
      "gradOutput",
      "output",
      "atol",
      "rtol",
      "seed",
      "localize",
      "routes",
      "crossAtol",
      "crossRtol",
    ],
    // grad's own checks of the outputs f returned name grad
    names: ["gradcheck", "grad"],
  },
  assertGradcheck: {
    arb: fc.tuple(checkedFnArb, smallInputsArb, gradcheckOptionsArb),
    call: (a) => (assertGradcheck as AnyFn)(...a),
    check: reportCheck,
    names: ["gradcheck", "grad"],
    runs: 0.5,
  },
  gradgradcheck: {
    arb: fc.tuple(checkedFnArb, smallInputsArb, gradcheckOptionsArb),
    call: (a) => (gradgradcheck as AnyFn)(...a),
    check: reportCheck,
    names: ["gradgradcheck", "grad"],
    runs: 0.5,
  },
  ...memberCases(),
};
