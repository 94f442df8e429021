/**
 * Issue 7, "bad input never crashes", for @gradgraph/core: constructors, Tensor methods and
 * accessors (junk receivers included), grad, the gradient checks, jvp/hvp, defineOp, noGrad and
 * Rng, called with odd and invalid arguments. The cases are in fuzz-api.cases.ts; they run in the
 * watchdog's worker thread, so a call that hangs fails its test with the input instead of hanging
 * the suite.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  ArgumentError,
  defineOp,
  full,
  grad,
  gradcheck,
  gradgradcheck,
  hvp,
  noGrad,
  numericalGrad,
  randn,
  ShapeError,
  Tensor,
  tensor,
  zeros,
} from "../src/index.js";
import { cases } from "./fuzz-api.cases.js";
import { RUNS } from "./fuzz-helpers.js";
import { FuzzWatchdog } from "./watchdog.js";

const watchdog = new FuzzWatchdog(new URL("./fuzz-api.cases.ts", import.meta.url));
afterAll(() => watchdog.close());

describe("fuzz: public functions of @gradgraph/core", () => {
  it("covers every Tensor method and accessor", () => {
    const members = Object.getOwnPropertyNames(Tensor.prototype).filter(
      (k) => k !== "constructor" && !k.startsWith("_"),
    );
    const covered = Object.keys(cases).map((k) => k.replace(/^Tensor\.| \((get|set)\)$/g, ""));
    expect(members.filter((m) => !covered.includes(m))).toEqual([]);
  });

  for (const name of Object.keys(cases)) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => watchdog.run(name, RUNS));
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

describe("fuzz regressions: Tensor members on junk receivers", () => {
  const rank = Object.getOwnPropertyDescriptor(Tensor.prototype, "rank")!.get!;
  const requiresGrad = Object.getOwnPropertyDescriptor(Tensor.prototype, "requiresGrad")!;

  it("methods called on a non-tensor throw an ArgumentError naming Tensor.<method>", () => {
    expect(() => Tensor.prototype.item.call({} as Tensor)).toThrow(ArgumentError);
    expect(() => Tensor.prototype.item.call({} as Tensor)).toThrow(
      /^Tensor\.item: this must be a Tensor .*got object$/,
    );
    expect(() => Tensor.prototype.copy_.call(null as unknown as Tensor, tensor(1))).toThrow(
      /Tensor\.copy_: .*got null/,
    );
    expect(() => Tensor.prototype.backward.call(5 as unknown as Tensor)).toThrow(/Tensor\.backward: .*got number 5/);
    expect(() => Tensor.prototype.toString.call(Object.create(Tensor.prototype))).toThrow(
      /Tensor\.toString: .*an object with Tensor's prototype that is not an intact tensor/,
    );
  });

  it("accessors read from a non-tensor throw instead of returning undefined or crashing", () => {
    expect(() => rank.call(null)).toThrow(/Tensor\.rank: this must be a Tensor/);
    expect(() => rank.call({})).toThrow(ArgumentError);
    expect(() => requiresGrad.get!.call({})).toThrow(/Tensor\.requiresGrad: .*got object/);
    expect(() => requiresGrad.set!.call({}, true)).toThrow(/Tensor\.requiresGrad: /);
    expect(rank.call(tensor([[1, 2]]))).toBe(2);
  });
});

describe("fuzz regressions: gradient checks", () => {
  const id = (x: Tensor) => x;
  const x = tensor([1, 2], { dtype: "float64" });

  it("a sparse wrt, inputs list or output list fails at its first hole, at once", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => numericalGrad(id, [x], { wrt: [, 0] as never })).toThrow(
      /numericalGrad: wrt must list input indices in \[0, 1\), got undefined at wrt\[0\]/,
    );
    const t0 = performance.now();
    // used to skip 2^32 - 1 holes in wrt.some() (over a minute) and then crash on a TypeError
    expect(() => gradcheck(id, [x], { wrt: new Array(2 ** 32 - 1) })).toThrow(/gradcheck: wrt must list/);
    expect(() => numericalGrad(id, new Array(2 ** 32 - 1))).toThrow(/numericalGrad: inputs has 4294967295 entries/);
    expect(() => numericalGrad(id, new Array(3))).toThrow(/numericalGrad: input 0 must be a Tensor, got undefined/);
    expect(() => numericalGrad(() => new Array(2 ** 32 - 1), [x])).toThrow(
      /numericalGrad: f must return a Tensor or an array of tensors; output 0 is undefined/,
    );
    expect(() => gradgradcheck(() => new Array(3), [x])).toThrow(/gradgradcheck: f must return a Tensor/);
    expect(() => hvp((t: Tensor) => t, [x], new Array(1))).toThrow(/hvp: vectors\[0\] must be a Tensor/);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("an eps that cannot change an input element, or whose double overflows, is refused", () => {
    expect(() => numericalGrad(id, [x], { eps: Number.MIN_VALUE })).toThrow(
      /numericalGrad: eps 5e-324 is too small to change inputs\[0\] element 0 \(value 1\)/,
    );
    expect(() => numericalGrad(id, [tensor([1e30], { dtype: "float64" })])).toThrow(/too small to change inputs\[0\]/);
    expect(() => numericalGrad(id, [x], { eps: 1e308 })).toThrow(/numericalGrad: eps must be a positive finite number/);
    expect(numericalGrad(id, [tensor([Number.NaN], { dtype: "float64" })])[0]!.toArray()).toEqual([Number.NaN]);
  });

  it("gradcheck and gradgradcheck name themselves for bad options, not numericalGrad or Rng", () => {
    expect(() => gradcheck(id, [x], { eps: 0 })).toThrow(
      /^gradcheck: eps must be a positive finite number, got number 0/,
    );
    expect(() => gradcheck(id, [x], { seed: "x" as never })).toThrow(
      /^gradcheck: seed must be an integer, got string "x"/,
    );
    expect(() => gradcheck(id, [x], { localize: "no" as never })).toThrow(/^gradcheck: localize must be a boolean/);
    expect(() => gradgradcheck(id, [x], { gradOutputSeed: 1.5 })).toThrow(
      /^gradgradcheck: gradOutputSeed must be an integer, got number 1.5/,
    );
    expect(() => gradgradcheck(id, [x], { eps: -1 })).toThrow(/^gradgradcheck: eps must be a positive/);
  });
});

describe("fuzz regressions: sparse arrays in grad and defineOp", () => {
  it("grad fails at the first hole of its lists, at once", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const t0 = performance.now();
    // used to skip the 2^32 - 1 holes in forEach (over a minute), then crash on a TypeError
    expect(() => grad(w, new Array(2 ** 32 - 1))).toThrow(/^grad: input 0 must be a Tensor, got undefined/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => grad([, w] as never, [w])).toThrow(/^grad: output 0 must be a Tensor, got undefined/);
    expect(() => defineOp({ name: "f", inputs: new Array(2 ** 32 - 1), forward: () => w, backward: () => [] })).toThrow(
      /^defineOp\(f\): spec\.inputs must be an array of input names/,
    );
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
