/**
 * The elementwise ops: property-based gradient checks (first and second order, float64 and
 * float32), second derivatives against closed forms, exact values, the chosen derivatives at
 * kinks, error messages, and a check that the property tests can fail.
 */
import {
  ArgumentError,
  defineOp,
  grad,
  gradcheck,
  hvp,
  type Op,
  type OpSpec,
  type Picker,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { div, divOp, elementwiseOps, maximum, maximumOp, minimum, mul, neg, sub } from "../src/arithmetic.js";
import { pow, powerOps, powScalarOp } from "../src/power.js";
import { sum } from "../src/reduce.js";
import { abs, exp, log, relu, sigmoid, sigmoidOp, sqrt, tanh, unaryOps } from "../src/unary.js";

/** Every op defined by arithmetic.ts (beyond add, mul), power.ts and unary.ts. */
const newOps = Object.values({ ...elementwiseOps, ...powerOps, ...unaryOps }) as unknown as Op<unknown>[];

const f64 = (values: number[]): Tensor => tensor(values, { dtype: "float64" });
const leaf = (values: number[]): Tensor => tensor(values, { dtype: "float64", requiresGrad: true });

/** Elementwise first and second derivatives of `f` at `xs`, by `grad` with `createGraph` twice. */
function derivatives(f: (x: Tensor) => Tensor, xs: number[]): { d1: number[]; d2: number[] } {
  const x = leaf(xs);
  const ones = f64(xs.map(() => 1));
  const [g] = grad(f(x), [x], { gradOutput: ones, createGraph: true });
  const [h] = grad(g!, [x], { gradOutput: ones, allowUnused: true });
  return { d1: Array.from(g!.data), d2: Array.from(h!.data) };
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 10): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

describe("op records", () => {
  it("list the op objects by their names", () => {
    expect(Object.keys(elementwiseOps).sort()).toEqual(["div", "maximum", "minimum", "neg", "sub"]);
    expect(Object.keys(powerOps).sort()).toEqual(["pow", "powScalar"]);
    expect(Object.keys(unaryOps).sort()).toEqual([
      "abs",
      "exp",
      "log",
      "relu",
      "reluGrad",
      "sigmoid",
      "sigmoidGrad",
      "sqrt",
      "tanh",
      "tanhGrad",
    ]);
    for (const [key, op] of Object.entries({ ...elementwiseOps, ...powerOps, ...unaryOps }))
      expect(op.opName).toBe(key);
  });
});

/** Every new op, property-checked against numerical gradients with its own test declaration. */
describe.each(newOps)("checkOp($opName)", (op) => {
  it("float64", () => {
    expect(checkOp(op, { numRuns: 40 }).cases).toBe(40);
  });

  it("float32, against the float64 reference", () => {
    expect(checkOp(op, { numRuns: 20, dtype: "float32" }).cases).toBe(20);
  });

  it("second order (gradgradcheck through the recorded backward)", () => {
    expect(checkOp(op, { numRuns: 20, secondOrder: true }).cases).toBe(20);
  });
});

describe("checkOp over the domains the declarations leave out", () => {
  it("div with negative operands", () => {
    expect(checkOp(divOp, { numRuns: 30, domain: [-2, -0.3], secondOrder: true }).cases).toBe(30);
  });

  it("powScalar: integer exponents on negative and positive bases", () => {
    const ps = [0, 1, 2, 3, 4];
    const attrs = (_s: unknown, pick: Picker) => ({
      p: ps[pick.int(0, ps.length - 1)]!,
    });
    expect(checkOp(powScalarOp, { numRuns: 40, domain: [-2, 2], attrs, secondOrder: true }).cases).toBe(40);
    expect(checkOp(powScalarOp, { numRuns: 20, domain: [-2, 2], attrs, dtype: "float32" }).cases).toBe(20);
  });

  it("div with mixed signs and pow with negative tensor exponents (gradcheck at chosen points)", () => {
    const a = f64([-1.5, 0.7, 2, -0.4]);
    const b = f64([0.5, -1.25, -0.8, 1.9]);
    expect(gradcheck(div, [a, b]).passed).toBe(true);
    const x = f64([0.5, 1.5, 2, 0.9]);
    const p = f64([-1.5, -0.5, -2, 2.5]);
    expect(gradcheck(pow, [x, p]).passed).toBe(true);
    // broadcasting a row of exponents against a column of bases
    const xs = tensor([[0.5], [1.2], [1.9]], { dtype: "float64" });
    const ps = f64([-1, 0.5, 2]);
    expect(gradcheck(pow, [xs, ps]).passed).toBe(true);
  });
});

describe("pow's special values are C's (numpy's power, PyTorch's pow), not JavaScript's", () => {
  it("1 to any power and -1 to ±inf are 1 (JavaScript's ** gives NaN), for tensor and number exponents", () => {
    const inf = Number.POSITIVE_INFINITY;
    // [base, exponent, numpy.power(base, exponent)]
    const cases: [number, number, number][] = [
      [1, inf, 1],
      [1, -inf, 1],
      [1, Number.NaN, 1],
      [-1, inf, 1],
      [-1, -inf, 1],
      [-1, Number.NaN, Number.NaN],
      [Number.NaN, 0, 1],
      [2, Number.NaN, Number.NaN],
      [0.5, inf, 0],
      [-8, 1 / 3, Number.NaN],
      [0, -1, inf],
    ];
    const x = f64(cases.map((c) => c[0]));
    const got = pow(x, f64(cases.map((c) => c[1])));
    cases.forEach(([b, e, want], i) => {
      expect(got.data[i], `${b} ** ${e}`).toBe(want);
    });
    for (const e of [inf, -inf, Number.NaN]) {
      expect(Array.from(powScalarOp([f64([1, -1])], { p: e }).data), `[1, -1] ** ${e}`).toEqual([
        1,
        Number.isNaN(e) ? Number.NaN : 1,
      ]);
    }
  });
});

describe("second derivatives against closed forms", () => {
  const xs = [-1.7, -0.4, 0.3, 1.1, 2.5];

  it("sigmoid'' = s(1 − s)(1 − 2s)", () => {
    const { d1, d2 } = derivatives(sigmoid, xs);
    const s = xs.map((x) => 1 / (1 + Math.exp(-x)));
    expectClose(
      d1,
      s.map((v) => v * (1 - v)),
    );
    expectClose(
      d2,
      s.map((v) => v * (1 - v) * (1 - 2 * v)),
    );
  });

  it("tanh'' = −2t(1 − t²)", () => {
    const { d1, d2 } = derivatives(tanh, xs);
    const t = xs.map(Math.tanh);
    expectClose(
      d1,
      t.map((v) => 1 - v * v),
    );
    expectClose(
      d2,
      t.map((v) => -2 * v * (1 - v * v)),
    );
  });

  it("exp'' = exp", () => {
    const { d1, d2 } = derivatives(exp, xs);
    expectClose(d1, xs.map(Math.exp));
    expectClose(d2, xs.map(Math.exp));
  });

  it("log'' = −1/x²", () => {
    const pos = [0.2, 0.5, 1, 3];
    const { d1, d2 } = derivatives(log, pos);
    expectClose(
      d1,
      pos.map((x) => 1 / x),
    );
    expectClose(
      d2,
      pos.map((x) => -1 / (x * x)),
    );
  });

  it("sqrt'' = −1/(4 x^(3/2))", () => {
    const pos = [0.2, 1, 4];
    const { d2 } = derivatives(sqrt, pos);
    expectClose(
      d2,
      pos.map((x) => -1 / (4 * x ** 1.5)),
    );
  });

  it("(x³)'' = 6x through pow(x, 3), with a number and with a tensor exponent", () => {
    const { d1, d2 } = derivatives((x) => pow(x, 3), xs);
    expectClose(
      d1,
      xs.map((x) => 3 * x * x),
    );
    expectClose(
      d2,
      xs.map((x) => 6 * x),
    );
    const pos = [0.4, 1.3, 2];
    const t = derivatives((x) => pow(x, f64([3, 3, 3])), pos);
    expectClose(
      t.d2,
      pos.map((x) => 6 * x),
    );
  });

  it("x/y: ∂²/∂y² = 2x/y³ and ∂²/∂x∂y = −1/y²", () => {
    const r = hvp((x, y) => sum(div(x, y)), [f64([1.5]), f64([0.5])], [f64([0]), f64([1])]);
    expectClose(r.hvp[0]!.data, [-1 / 0.25]);
    expectClose(r.hvp[1]!.data, [(2 * 1.5) / 0.125]);
  });

  it("x·y: ∂²/∂x∂y = 1 and ∂²/∂x² = 0", () => {
    const x = leaf([0.7]);
    const y = leaf([-1.3]);
    const [gx] = grad(mul(x, y), [x, y], { createGraph: true });
    expectClose(gx!.data, [-1.3]);
    const [dxx, dxy] = grad(gx!, [x, y], { allowUnused: true });
    expectClose(dxx!.data, [0]);
    expectClose(dxy!.data, [1]);
    // the same through hvp: H = [[0, 1], [1, 0]]
    const r = hvp((a, b) => sum(mul(a, b)), [f64([0.7]), f64([-1.3])], [f64([2]), f64([5])]);
    expectClose(r.hvp[0]!.data, [5]);
    expectClose(r.hvp[1]!.data, [2]);
  });

  it("relu'' and abs'' are 0 away from the kink", () => {
    expectClose(derivatives(relu, xs).d2, [0, 0, 0, 0, 0]);
    expectClose(derivatives(abs, xs).d2, [0, 0, 0, 0, 0]);
    expectClose(derivatives(abs, xs).d1, [-1, -1, 1, 1, 1]);
  });
});

describe("values", () => {
  it("unary ops", () => {
    expect(relu(tensor([-1, 0, 2])).toArray()).toEqual([0, 0, 2]);
    expect(abs(tensor([-1.5, 0, 2])).toArray()).toEqual([1.5, 0, 2]);
    expect(neg(tensor([-1.5, 0, 2])).toArray()).toEqual([1.5, -0, -2]);
    expect(exp(0).item()).toBe(1);
    expect(log(1).item()).toBe(0);
    expect(sqrt(tensor([4, 9])).toArray()).toEqual([2, 3]);
    expect(sigmoid(tensor([0, -1000, 1000])).toArray()).toEqual([0.5, 0, 1]);
    expect(tanh(0).item()).toBe(0);
    expect(Number.isNaN(relu(Number.NaN).item())).toBe(true);
    expect(Number.isNaN(log(-1).item())).toBe(true);
    expect(log(0).item()).toBe(Number.NEGATIVE_INFINITY);
  });

  it("dtypes are kept: float32 in, float32 out; float64 in, float64 out", () => {
    expect(exp(tensor([1], { dtype: "float32" })).dtype).toBe("float32");
    expect(sigmoid(f64([1])).dtype).toBe("float64");
    expect(pow(tensor([2], { dtype: "float32" }), 2).dtype).toBe("float32");
    expect(div(tensor([1], { dtype: "float32" }), f64([2])).dtype).toBe("float64");
  });

  it("pow with a number and with a tensor exponent", () => {
    expect(pow(tensor([1, 2, 3]), 2).toArray()).toEqual([1, 4, 9]);
    expect(pow(tensor([4, 9]), 0.5).toArray()).toEqual([2, 3]);
    expect(pow(tensor([2, 4]), -1).toArray()).toEqual([0.5, 0.25]);
    expect(pow(tensor([-2, 3]), 3).toArray()).toEqual([-8, 27]);
    expect(pow(tensor([2, 3]), tensor([3, 2])).toArray()).toEqual([8, 9]);
    expect(pow(2, tensor([0, 1, 2, 3])).toArray()).toEqual([1, 2, 4, 8]);
    expect(pow(tensor([[1], [2]]), tensor([1, 2, 3])).toArray()).toEqual([
      [1, 1, 1],
      [2, 4, 8],
    ]);
  });

  it("binary ops broadcast [2, 3] with [3] and accept numbers", () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([1, 4, 2]);
    expect(sub(a, b).toArray()).toEqual([
      [0, -2, 1],
      [3, 1, 4],
    ]);
    expect(div(a, tensor([1, 2, 4])).toArray()).toEqual([
      [1, 1, 0.75],
      [4, 2.5, 1.5],
    ]);
    expect(maximum(a, b).toArray()).toEqual([
      [1, 4, 3],
      [4, 5, 6],
    ]);
    expect(minimum(a, b).toArray()).toEqual([
      [1, 2, 2],
      [1, 4, 2],
    ]);
    expect(sub(1, tensor([1, 2])).toArray()).toEqual([0, -1]);
    expect(div(tensor([1, 2]), 4).toArray()).toEqual([0.25, 0.5]);
    expect(maximum(tensor([-1, 2]), 0).toArray()).toEqual([0, 2]);
    expect(Number.isNaN(maximum(Number.NaN, 1).item())).toBe(true);
    expect(Number.isNaN(minimum(1, Number.NaN).item())).toBe(true);
  });

  it("broadcast gradients are summed back to each input's shape", () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const b = tensor([1, 2, 4], { requiresGrad: true });
    sum(sub(a, b)).backward();
    expect(a.grad!.toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(b.grad!.toArray()).toEqual([-2, -2, -2]);
    const [ga, gb] = grad(sum(div(a, b)), [a, b]);
    expectClose(ga!.data, [1, 0.5, 0.25, 1, 0.5, 0.25], 6);
    expectClose(gb!.data, [-5, -7 / 4, -9 / 16], 6);
  });
});

describe("chosen derivatives at non-differentiable points", () => {
  it("relu'(0) = 0 and abs'(0) = 0", () => {
    const x = tensor([-1, 0, 2], { requiresGrad: true });
    sum(relu(x)).backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 1]);
    const y = tensor([-1, 0, -0, 2], { requiresGrad: true });
    sum(abs(y)).backward();
    // abs'(±0) = 0 (the mask is Math.sign, so −0 at −0; compared by magnitude)
    expect(Array.from(y.grad!.data, Math.abs)).toEqual([1, 0, 0, 1]);
    expect(y.grad!.data[0]).toBe(-1);
  });

  it("maximum and minimum split ties equally, 0.5 each", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([3, 2, 1], { requiresGrad: true });
    const [ga, gb] = grad(sum(maximum(a, b)), [a, b]);
    expect(ga!.toArray()).toEqual([0, 0.5, 1]);
    expect(gb!.toArray()).toEqual([1, 0.5, 0]);
    const [ha, hb] = grad(sum(minimum(a, b)), [a, b]);
    expect(ha!.toArray()).toEqual([1, 0.5, 0]);
    expect(hb!.toArray()).toEqual([0, 0.5, 1]);
  });

  it("ties after broadcasting: a scalar against a vector", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const c = tensor(2, { requiresGrad: true });
    const [gx, gc] = grad(sum(maximum(x, c)), [x, c]);
    expect(gx!.toArray()).toEqual([0, 0.5, 1]);
    expect(gc!.item()).toBe(1.5);
  });

  it("pow at a zero base and a zero exponent, as PyTorch", () => {
    const x = f64([0, 0, 2, 0]);
    x.requiresGrad = true;
    const p = f64([2, 0, 3, 0.5]);
    p.requiresGrad = true;
    const [gx, gp] = grad(sum(pow(x, p)), [x, p]);
    // ∂/∂x = p·x^(p−1): 0, 0 (p = 0), 12, ∞ (0^(−1/2))
    expect(Array.from(gx!.data)).toEqual([0, 0, 12, Number.POSITIVE_INFINITY]);
    // ∂/∂p = x^p·log x: 0 where x = 0 and p ≥ 0
    expectClose(gp!.data, [0, 0, 8 * Math.log(2), 0]);
    // a number exponent 0: zero gradient even at x = 0
    const z = tensor([0, 1.5], { requiresGrad: true });
    sum(pow(z, 0)).backward();
    expect(z.grad!.toArray()).toEqual([0, 0]);
  });
});

describe("errors", () => {
  it("broadcasting failures are ShapeErrors naming the op and both shapes", () => {
    expect(() => sub(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => sub(zeros([2, 3]), zeros([4]))).toThrow(
      /sub: shapes \[2, 3\] and \[4\] cannot be broadcast together \(dimension -1 is 3 vs 4\)/,
    );
    expect(() => div(zeros([2]), zeros([3]))).toThrow(/div: shapes \[2\] and \[3\] cannot be broadcast together/);
    expect(() => pow(zeros([2]), zeros([3]))).toThrow(/pow: shapes \[2\] and \[3\] cannot be broadcast together/);
    expect(() => maximum(zeros([2, 1]), zeros([3, 2]))).toThrow(/maximum: shapes \[2, 1\] and \[3, 2\]/);
    expect(() => minimum(zeros([5]), zeros([2, 4]))).toThrow(ShapeError);
  });

  it("operands of the wrong kind are ArgumentErrors naming the op and the input", () => {
    expect(() => div("1" as never, 2)).toThrow(ArgumentError);
    expect(() => div("1" as never, 2)).toThrow(
      /div: input 0 \(a\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "1"/,
    );
    expect(() => sub(zeros([1]), null as never)).toThrow(
      /sub: input 1 \(b\) must be a Tensor, a number, nested arrays of numbers or a typed array, got null/,
    );
    expect(() => pow(zeros([1]), "2" as never)).toThrow(
      /pow: input 1 \(p\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "2"/,
    );
    expect(() => pow([1, {}] as never, 2)).toThrow(/pow: element 1 must be a number, got object \(at x\[1\]\)/);
    expect(() => relu(undefined as never)).toThrow(
      /relu: input 0 \(x\) must be a Tensor, a number, nested arrays of numbers or a typed array, got undefined/,
    );
    expect(() => exp({} as never)).toThrow(ArgumentError);
    expect(() => neg("x" as never)).toThrow(
      /neg: input 0 \(x\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "x"/,
    );
  });

  it("powScalar called directly validates its attributes", () => {
    expect(() => powScalarOp([zeros([2])], { p: "2" } as never)).toThrow(ArgumentError);
    expect(() => powScalarOp([zeros([2])], undefined as never)).toThrow(/powScalar: attrs must be \{ p: number \}/);
  });
});

/** A copy of an op whose derivative is 1% off must be caught by checkOp's defaults in every mode. */
describe.each([sigmoidOp, divOp, maximumOp, powScalarOp] as unknown as Op<unknown>[])(
  "checkOp catches a broken $opName",
  (op) => {
    it.each([{}, { dtype: "float32" }, { secondOrder: true }] as const)("off by one percent, %o", (options) => {
      const spec = op.spec as OpSpec<unknown>;
      const broken = defineOp<unknown>({
        ...spec,
        name: `${spec.name}Broken`,
        backward: (g, c) => spec.backward(g, c).map((t) => (t ? mul(t, 1.01) : t)),
      });
      expect(() => checkOp(broken, options)).toThrow(
        new RegExp(
          `checkOp\\(${spec.name}Broken\\) failed[^]*(worst element: input \\d+|fusedBackward disagrees with backward)`,
        ),
      );
    });
  },
);
