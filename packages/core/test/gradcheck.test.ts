import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  assertGradcheck,
  cast,
  defineOp,
  GradcheckError,
  gradcheck,
  gradgradcheck,
  isGradEnabled,
  numericalGrad,
  Rng,
  randn,
  sumTo,
  type Tensor,
  tensor,
} from "../src/index.js";
import { add, mul } from "./helpers.js";

/** A deliberately wrong op: forward x², backward claims 3x instead of 2x. */
const badSquare = defineOp({
  name: "badSquare",
  inputs: ["x"],
  forward([x], _a, ctx) {
    const o = ctx.alloc(x!.shape);
    for (let i = 0; i < o.data.length; i++) o.data[i] = x!.data[i]! ** 2;
    ctx.saveInputs(0);
    return o;
  },
  backward: (gy, ctx) => [mul(gy, mul(ctx.input(0), 3))],
});

describe("numericalGrad", () => {
  it("matches closed forms, in float64 even for float32 inputs", () => {
    const x = tensor([0.5, -1.25, 2], { dtype: "float32" });
    const [g] = numericalGrad((t) => sumTo(mul(mul(t, t), t), []), [x]);
    expect(g!.dtype).toBe("float64");
    [0.5, -1.25, 2].forEach((v, i) => {
      expect(g!.data[i]).toBeCloseTo(3 * v * v, 8);
    });
  });

  it("weights outputs by gradOutput", () => {
    const x = tensor([1, 2], { dtype: "float64" });
    const [g] = numericalGrad((t) => mul(t, t), [x], { gradOutput: tensor([1, -1], { dtype: "float64" }) });
    expect(g!.data[0]).toBeCloseTo(2, 8);
    expect(g!.data[1]).toBeCloseTo(-4, 8);
  });

  it("checks its arguments", () => {
    expect(() => numericalGrad("f" as never, [])).toThrow(/numericalGrad: f must be a function, got string "f"/);
    expect(() => numericalGrad((t) => t, [1 as never])).toThrow(
      /numericalGrad: input 0 must be a Tensor, got number 1/,
    );
    expect(() => numericalGrad((t) => t, [tensor(1)], { eps: 0 })).toThrow(ArgumentError);
  });
});

describe("gradcheck", () => {
  it("passes for correct ops in float64 and float32 with dtype-chosen tolerances", () => {
    const f = (a: Tensor, b: Tensor) => mul(add(a, b), a);
    const a64 = randn([3, 4], { seed: 1, dtype: "float64" });
    const b64 = randn([4], { seed: 2, dtype: "float64" });
    const r64 = gradcheck(f, [a64, b64]);
    expect(r64.passed).toBe(true);
    expect(r64.atol).toBe(1e-5);
    expect(r64.maxAbsError).toBeLessThan(1e-8);
    const r32 = gradcheck(f, [randn([3, 4], { seed: 1 }), randn([4], { seed: 2 })]);
    expect(r32.passed).toBe(true);
    expect(r32.dtype).toBe("float32");
    expect(r32.atol).toBe(1e-3);
  });

  it("fails for a wrong derivative and names the input and element", () => {
    // the error at element i is |w_i · x_i| for the random output weight w_i: element 2, ten
    // times larger than the others, has the largest error unless its weight is tiny
    const x = tensor([1, -2, 30], { dtype: "float64" });
    const r = gradcheck((t) => badSquare([t]), [x]);
    expect(r.passed).toBe(false);
    expect(r.worst?.input).toBe(0);
    expect(r.worst?.index).toEqual([2]);
    expect(r.worst!.analytic / r.worst!.numeric).toBeCloseTo(1.5, 6);
  });

  it("assertGradcheck throws a readable GradcheckError", () => {
    const x = tensor([[1, 2]], { dtype: "float64" });
    const f = function squareIt(t: Tensor) {
      return badSquare([t]);
    };
    expect(() => assertGradcheck(f, [x])).toThrow(GradcheckError);
    expect(() => assertGradcheck(f, [x])).toThrow(
      /gradcheck failed for squareIt: input 0 \(shape \[1, 2\], float64\) at index \[0, [01]\]:/,
    );
    expect(() => assertGradcheck(f, [x])).toThrow(/analytic .* vs numeric/);
  });

  it("checks every output of a multi-output function", () => {
    const x = tensor([1, 2], { dtype: "float64" });
    expect(gradcheck((t) => [mul(t, t), badSquare([t])], [x]).passed).toBe(false);
    expect(gradcheck((t) => [mul(t, t), add(t, t)], [x]).passed).toBe(true);
  });

  it("reports inputs the output does not depend on as zero gradients", () => {
    const r = gradcheck((a, _b) => mul(a, a), [tensor([1], { dtype: "float64" }), tensor([2], { dtype: "float64" })]);
    expect(r.passed).toBe(true);
    expect(r.analytic[1]!.toArray()).toEqual([0]);
  });
});

describe("gradcheck points at the wrong node", () => {
  /** A composite function with a deliberately wrong op in the middle of the graph. */
  function composite(x: Tensor, w: Tensor): Tensor {
    const h = add(mul(x, w), 1); // correct nodes before it
    const bad = badSquare([h]); // the wrong derivative
    return sumTo(mul(add(bad, x), w), []); // correct nodes after it
  }

  it("names the first recorded node whose own derivative is wrong, and where it was created", () => {
    const x = tensor([0.5, -1, 2], { dtype: "float64" });
    const w = tensor([1.5, 0.25, -0.75], { dtype: "float64" });
    const r = gradcheck(composite, [x, w]);
    expect(r.passed).toBe(false);
    expect(r.fault).not.toBeNull();
    expect(r.fault!.op).toBe("badSquare");
    expect(r.fault!.input).toBe(0);
    expect(r.fault!.inputName).toBe("x");
    expect(r.fault!.analytic! / r.fault!.numeric!).toBeCloseTo(1.5, 5);
    expect(r.fault!.error).toBeNull();
    expect(r.fault!.site).toMatch(/gradcheck\.test\.ts:\d+:\d+/);
    expect(() => assertGradcheck(composite, [x, w])).toThrow(
      /first wrong node: op 'badSquare' \(node #\d+\), input 0 \(x\)/,
    );
    expect(() => assertGradcheck(composite, [x, w])).toThrow(/created at .*gradcheck\.test\.ts/);
  });

  it("finds no fault in a correct function, and can be switched off", () => {
    const x = tensor([0.5, -1], { dtype: "float64" });
    expect(gradcheck((t) => mul(t, t), [x]).fault).toBeNull();
    expect(gradcheck((t) => badSquare([t]), [x], { localize: false }).fault).toBeNull();
  });

  it("checks only the inputs in wrt", () => {
    const r = gradcheck(
      (a, b) => badSquare([mul(a, b)]),
      [tensor([2], { dtype: "float64" }), tensor([3], { dtype: "float64" })],
      {
        wrt: [1],
      },
    );
    expect(r.analytic).toHaveLength(1);
    expect(r.worst?.input).toBe(1);
    expect(r.fault?.op).toBe("badSquare");
  });
});

/** x² through a rule of one's own: `k` times the true derivative, when `when` holds for the call. */
function squareOp(name: string, backward: (gy: Tensor, x: Tensor) => (Tensor | null)[]) {
  return defineOp({
    name,
    inputs: ["x"],
    forward([x], _a, ctx) {
      const o = ctx.alloc(x!.shape);
      for (let i = 0; i < o.data.length; i++) o.data[i] = x!.data[i]! ** 2;
      ctx.saveInputs(0);
      return o;
    },
    backward: (gy, ctx) => backward(gy, ctx.input(0)),
  });
}

/** A second rule for the recorded backward, 1% high: only `createGraph` takes it. */
const twoRules = squareOp("twoRules", (gy, x) => [mul(gy, mul(x, isGradEnabled() ? 2.02 : 2))]);

/** Writes straight into its input's `.grad` when there is one (a hand-made fast path), forgetting gy there. */
const intoGrad = squareOp("intoGrad", (gy, x) => {
  if (x.grad === null) return [mul(gy, mul(x, 2))];
  for (let i = 0; i < x.size; i++) x.grad.data[i] = x.grad.data[i]! + 2 * x.data[i]!;
  x.grad.markModified();
  return [null];
});

/** Sets its input's `.grad` (right the first time) instead of adding to it. */
const setsGrad = squareOp("setsGrad", (gy, x) => {
  if (x.grad === null) return [mul(gy, mul(x, 2))];
  for (let i = 0; i < x.size; i++) x.grad.data[i] = 2 * gy.data[i]! * x.data[i]!;
  x.grad.markModified();
  return [null];
});

/** Right in float64, 0.5% high in float32. */
const float32Off = squareOp("float32Off", (gy, x) => [mul(gy, mul(x, x.dtype === "float32" ? 2.01 : 2))]);

describe("gradcheck routes", () => {
  const x = tensor([0.5, -1.25, 2], { dtype: "float64" });

  it("checks grad, createGraph and backward (twice) with routes: 'all', one and several outputs", () => {
    const r = gradcheck((t) => mul(t, t), [x], { routes: "all" });
    expect(r.passed).toBe(true);
    expect(r.routes).toEqual(["grad", "createGraph", "backward"]);
    expect(gradcheck((t) => [mul(t, t), add(t, t)], [x], { routes: "all" }).passed).toBe(true);
    expect(gradcheck((t) => mul(t, t), [x]).routes).toEqual(["grad"]);
    expect(gradcheck((t) => mul(t, t), [x], { routes: ["backward", "grad"] }).routes).toEqual(["grad", "backward"]);
    // an output that does not require grad, a leaf returned as it is
    expect(gradcheck((a, b) => [mul(a, a), b], [x, tensor([1], { dtype: "float64" })], { routes: "all" }).passed).toBe(
      true,
    );
  });

  it("finds a rule that only the recorded backward (createGraph) takes", () => {
    expect(gradcheck((t) => twoRules([t]), [x]).passed).toBe(true);
    const r = gradcheck((t) => twoRules([t]), [x], { routes: "all" });
    expect(r.passed).toBe(false);
    expect(r.worst!.route).toBe("createGraph");
    expect(r.worst!.analytic / r.worst!.numeric).toBeCloseTo(1.01, 6);
  });

  it("finds a gradient that is wrong only in .backward() into a zeroed .grad", () => {
    expect(gradcheck((t) => intoGrad([t]), [x], { routes: ["grad", "createGraph"] }).passed).toBe(true);
    const r = gradcheck((t) => intoGrad([t]), [x], { routes: "all" });
    expect(r.passed).toBe(false);
    expect(r.worst!.route).toMatch(/^backward/);
    expect(() => assertGradcheck((t) => intoGrad([t]), [x], { routes: "all" })).toThrow(
      /analytic .* \(route backward(Again)?, float64\) vs (numeric|reference .* \(the 'grad' route; numeric)/,
    );
  });

  it("finds a second .backward() that does not accumulate", () => {
    const r = gradcheck((t) => setsGrad([t]), [x], { routes: ["backward"] });
    expect(r.passed).toBe(false);
    expect(r.worst!.route).toBe("backwardAgain");
    expect(r.worst!.analytic / r.worst!.numeric).toBeCloseTo(0.5, 6);
  });

  it("refuses routes it does not know", () => {
    for (const routes of ["some", [], ["grad", "jvp"], [undefined], 1]) {
      expect(() => gradcheck((t) => t, [x], { routes: routes as never })).toThrow(
        /^gradcheck: routes must be 'all' or a non-empty list of 'grad', 'createGraph' and 'backward'/,
      );
    }
  });
});

describe("gradcheck in float32", () => {
  it("compares the float32 gradient with the function's own float64 gradient, so 0.5% off fails", () => {
    const x32 = tensor([0.5, -1.25, 2, 1.5]);
    const r = gradcheck((t) => float32Off([t]), [x32]);
    expect(r.passed).toBe(false);
    expect(r.dtype).toBe("float32");
    expect(r.worst).toMatchObject({ against: "reference", route: "grad", dtype: "float32" });
    expect(r.worst!.analytic / r.worst!.expected).toBeCloseTo(1.005, 5);
    // the float32 tolerances against the numerical gradient alone would let it pass
    expect(r.worst!.absError).toBeLessThan(r.atol + r.rtol * Math.abs(r.worst!.numeric));
    expect(r.reference!.map((t) => t.dtype)).toEqual(["float64"]);
    // in float64 the same op is right
    expect(gradcheck((t) => float32Off([t]), [tensor([0.5, -1.25, 2], { dtype: "float64" })]).passed).toBe(true);
    expect(gradcheck((t) => mul(t, t), [x32], { routes: "all" }).passed).toBe(true);
  });

  it("a function that casts to float32 inside gets float32 tolerances and a step of 1e-3", () => {
    const x = tensor([0.5, -1, 2], { dtype: "float64" });
    const r = gradcheck((t) => cast(mul(t, t), "float32"), [x], { routes: "all" });
    expect(r.passed).toBe(true);
    expect(r.dtype).toBe("float32");
    expect(r.eps).toBe(1e-3);
    expect(r.reference).toBeNull();
  });
});

describe("the culprit search", () => {
  const x = tensor([0.5, -1, 2], { dtype: "float64" });

  it("checks the engine's cast like any other node, with no special case", () => {
    const r = gradcheck((t) => sumTo(badSquare([cast(mul(t, 2), "float32")]), []), [x]);
    expect(r.passed).toBe(false);
    expect(r.fault?.op).toBe("badSquare");
  });

  it("names a node whose own check throws, with its error", () => {
    /** x² with a derivative 1.5× too large, whose backward also refuses a negative upstream gradient. */
    const picky = squareOp("picky", (gy, t) => {
      if (gy.data.some((v) => v < 0)) throw new Error("picky: a negative upstream gradient");
      return [mul(gy, mul(t, 3))];
    });
    // upstream of picky the gradient is all ones: only picky's own check (random weights) throws
    const f = (t: Tensor) => sumTo(picky([mul(t, t)]), []);
    const r = gradcheck(f, [x], { gradOutput: tensor(1, { dtype: "float64" }) });
    expect(r.passed).toBe(false);
    expect(r.fault).toMatchObject({ op: "picky", input: null, index: null });
    expect(r.fault!.error!.message).toBe("picky: a negative upstream gradient");
    expect(() => assertGradcheck(f, [x], { gradOutput: tensor(1, { dtype: "float64" }) })).toThrow(
      /first wrong node: op 'picky' \(node #\d+\) threw when its own derivative was checked on its own inputs: picky: a negative upstream gradient/,
    );
  });
});

describe("junk options and arguments", () => {
  it("null options mean none; other junk names the function", () => {
    const x = tensor([1, 2], { dtype: "float64" });
    const f = (t: Tensor) => mul(t, t);
    expect(gradcheck(f, [x], null as never).passed).toBe(true);
    expect(numericalGrad(f, [x], null as never)).toHaveLength(1);
    expect(gradgradcheck(f, [x], null as never).passed).toBe(true);
    expect(() => gradcheck(f, [x], "fast" as never)).toThrow(/gradcheck: options must be an object, got string "fast"/);
    expect(() => numericalGrad(() => 1 as never, [x])).toThrow(
      /numericalGrad: f must return a Tensor or an array of tensors/,
    );
  });

  it("Rng methods check their arguments", () => {
    const rng = new Rng(1);
    expect(() => rng.int(0, 10n as never)).toThrow(/Rng.int: min and max must be integers with min <= max/);
    expect(() => rng.int(3, 2)).toThrow(ArgumentError);
    expect(() => rng.permutation(Symbol() as never)).toThrow(
      /Rng.permutation: n must be an integer from 0 to 67108864 \(2\^26\), got symbol/,
    );
  });
});
