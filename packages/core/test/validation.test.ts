/**
 * Issue 1, "fail fast and cleanly", for @gradgraph/core: each kind of bad call the outside probe
 * found ends in a GradgraphError naming the function. The calls that used to hang or crash the
 * process run in the fuzz watchdog instead (fuzz-api.cases.ts, the "issue 1" cases), so that a
 * regression fails a test instead of hanging the suite.
 */
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import {
  AnomalyError,
  ArgumentError,
  allocArray,
  assertTensor,
  cast,
  DTypeError,
  defineOp,
  describeValue,
  detectAnomaly,
  enableGrad,
  fmtShape,
  GradgraphError,
  GraphError,
  grad,
  gradcheck,
  isNode,
  isTensor,
  Node,
  noGrad,
  ShapeError,
  shapeSize,
  sumTo,
  Tensor,
  tensor,
  withCreationSites,
  withDebugRecording,
  zeros,
} from "../src/index.js";
import * as kernels from "../src/kernels/index.js";
import { checkOp } from "../src/testing/index.js";
import { detachedArray, revokedProxy } from "./fuzz-helpers.js";
import { add, addOp, mul } from "./helpers.js";

/** The fake and broken tensors of the issue: each is refused wherever a tensor is expected. */
function fakes(): [string, unknown][] {
  const gutted = tensor([1, 2, 3]) as unknown as Record<string, unknown>;
  delete gutted.data;
  delete gutted.shape;
  const detached = tensor(new Float32Array(2048));
  structuredClone(detached.data.buffer, { transfer: [detached.data.buffer as ArrayBuffer] });
  const withFields = Object.assign(Object.create(Tensor.prototype), {
    data: new Float32Array(2),
    shape: [2],
    size: 2,
    dtype: "float32",
    creator: null,
    grad: null,
    _requiresGrad: true,
    _version: 0,
  });
  return [
    ["Object.create(Tensor.prototype)", Object.create(Tensor.prototype)],
    ["a copy of a tensor's fields on Tensor's prototype", withFields],
    ["a structured clone", structuredClone({ ...tensor([1, 2]) })],
    ["a tensor whose data and shape were deleted", gutted],
    ["a tensor whose buffer was transferred", detached],
  ];
}

describe("the brand check: fake and broken tensors are refused", () => {
  const x = tensor([1, 2], { requiresGrad: true });

  it("isTensor accepts what the constructor made (frozen included), and nothing else", () => {
    expect(isTensor(x)).toBe(true);
    expect(isTensor(Object.freeze(tensor([1])))).toBe(true);
    for (const [, f] of fakes()) expect(isTensor(f)).toBe(false);
    for (const v of [null, undefined, 1, "t", {}, revokedProxy(), new Proxy(x, {})]) expect(isTensor(v)).toBe(false);
  });

  it("ops, grad, backward, gradcheck, sumTo, cast, copy_ and assertTensor refuse each with an ArgumentError", () => {
    for (const [what, f] of fakes()) {
      const calls: [string, () => unknown][] = [
        ["add", () => add(f as Tensor, 1)],
        ["grad", () => grad(f as Tensor, [x])],
        ["grad", () => grad(mul(x, x), [f as Tensor])],
        ["backward", () => mul(x, 2).backward(f as Tensor)],
        ["gradcheck", () => gradcheck((t) => t, [f as Tensor])],
        ["sumTo", () => sumTo(f as Tensor, [])],
        ["cast", () => cast(f as Tensor, "float64")],
        ["copy_", () => tensor([1, 2]).copy_(f as Tensor)],
        ["fn", () => assertTensor("fn", "x", f)],
      ];
      for (const [name, call] of calls) {
        let thrown: unknown;
        try {
          call();
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `${name} with ${what}`).toBeInstanceOf(ArgumentError);
        expect((thrown as Error).message, `${name} with ${what}`).toMatch(new RegExp(`${name}`));
      }
    }
    expect(() => add(Object.create(Tensor.prototype), 1)).toThrow(
      /add: input 0 \(a\) must be a Tensor, a number, nested arrays of numbers or a typed array, got an object with Tensor's prototype that is not an intact tensor/,
    );
  });

  it("Tensor methods called on a fake say so", () => {
    const [, f] = fakes()[1]!;
    expect(() => Tensor.prototype.item.call(f as Tensor)).toThrow(/Tensor\.item: this must be a Tensor/);
  });

  it("isNode is a brand check too, and new Node is refused", () => {
    const node = mul(x, 2).creator!;
    expect(isNode(node)).toBe(true);
    expect(isNode(Object.create(Node.prototype))).toBe(false);
    expect(() => new (Node as unknown as new (...a: unknown[]) => Node)()).toThrow(GraphError);
    expect(() => new Tensor(new Float32Array(1), [], true, Object.create(Node.prototype))).toThrow(
      /Tensor: creator must be null or a graph node/,
    );
  });
});

describe("frozen tensors are read-only inputs", () => {
  it("ops and grad() read them; what would write to them throws a GradgraphError first", () => {
    // (Object.freeze types its result Readonly<Tensor>, which lacks the private brand: a cast)
    const w = Object.freeze(tensor([1, 2], { requiresGrad: true })) as Tensor;
    expect(mul(w, 3).toArray()).toEqual([3, 6]);
    expect(grad(mul(w, w), [w], { gradOutput: tensor([1, 1]) })[0]!.toArray()).toEqual([2, 4]);
    expect(() => mul(w, w).backward(tensor([1, 1]))).toThrow(GraphError);
    expect(() => mul(w, w).backward(tensor([1, 1]))).toThrow(/backward: cannot store the gradient .* frozen/);
    expect(w.grad).toBe(null);
    expect(() => w.fill_(0)).toThrow(/fill_: this tensor .* is frozen/);
    expect(() => w.copy_(tensor([3, 4]))).toThrow(ArgumentError);
    expect(w.toArray()).toEqual([1, 2]);
    expect(() => w.markModified()).toThrow(/markModified: .* frozen/);
    expect(() => {
      w.requiresGrad = false;
    }).toThrow(/Tensor\.requiresGrad: .* frozen/);
    // a frozen .grad of an unfrozen leaf is refused too
    const v = tensor([1, 2], { requiresGrad: true });
    v.grad = Object.freeze(tensor([0, 0])) as Tensor;
    expect(() => mul(v, v).backward(tensor([1, 1]))).toThrow(GraphError);
  });
});

describe("callbacks are checked", () => {
  it("the scoped modes need a function to call, not undefined, a number or a class", () => {
    const cases: [string, (f: never) => unknown][] = [
      ["enableGrad", enableGrad as (f: never) => unknown],
      ["detectAnomaly", detectAnomaly as (f: never) => unknown],
      ["withCreationSites", withCreationSites as (f: never) => unknown],
      ["withDebugRecording", withDebugRecording as (f: never) => unknown],
      ["noGrad", noGrad as (f: never) => unknown],
    ];
    for (const [name, fn] of cases) {
      for (const bad of [undefined, 5, null, class Junk {}, Map]) {
        expect(() => fn(bad as never), `${name}(${describeValue(bad)})`).toThrow(ArgumentError);
        expect(() => fn(bad as never)).toThrow(new RegExp(`^${name}: fn must be a function`));
      }
    }
    expect(enableGrad(() => 7)).toBe(7);
    expect(() => gradcheck(class Junk {} as never, [tensor([1])])).toThrow(/gradcheck: f must be a function to call/);
  });

  it("defineOp refuses a class as forward, backward, check or normalize", () => {
    const spec = { name: "f", inputs: ["x"], forward: () => ({}), backward: () => [] };
    for (const key of ["forward", "backward", "check", "normalize"]) {
      expect(() => defineOp({ ...spec, [key]: class Junk {} } as never)).toThrow(
        new RegExp(`defineOp\\(f\\): spec\\.${key} must be a function.*a class`),
      );
    }
  });
});

describe("options are checked by name", () => {
  // PyTorch refuses an unexpected keyword argument; a misspelt option here (snake_case from
  // Python, a typo) must not be ignored silently, which would give a wrong answer
  it("grad, backward, the factories, the gradient checks, setThreads and checkOp refuse an unknown key, naming it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const f = (t: Tensor): Tensor => mul(t, t);
    // the scalar x₀² + x₁² (core has no sum: sumTo [] is one)
    const loss = (): Tensor => sumTo(f(x), []);
    const cases: [string, (o: never) => unknown][] = [
      ["grad", (o) => grad(loss(), [x], o)],
      ["backward", (o) => loss().backward(undefined, o)],
      ["tensor", (o) => tensor([1, 2], o)],
      ["zeros", (o) => zeros([2], o)],
      ["ones", (o) => core.ones([2], o)],
      ["full", (o) => core.full([2], 3, o)],
      ["randn", (o) => core.randn([2], { seed: 1, ...(o as object) })],
      ["numericalGrad", (o) => core.numericalGrad(f, [x], o)],
      ["gradcheck", (o) => gradcheck(f, [x], o)],
      ["gradgradcheck", (o) => core.gradgradcheck(f, [x], o)],
      ["setThreads", (o) => core.setThreads(1, o)],
    ];
    for (const [name, call] of cases) {
      for (const bad of [{ create_graph: true }, { requires_grad: true }, { dtpye: "float64" }]) {
        const key = Object.keys(bad)[0]!;
        expect(() => call(bad as never), `${name} ${key}`).toThrow(ArgumentError);
        expect(() => call(bad as never)).toThrow(new RegExp(`^${name}: unknown option "${key}" \\(valid options: `));
      }
    }
    // the valid keys still pass, an empty object and undefined too
    expect(grad(loss(), [x], { retainGraph: false, createGraph: false, allowUnused: false })[0]!.toArray()).toEqual([
      2, 4,
    ]);
    expect(tensor([1, 2], { shape: [2], dtype: "float64", requiresGrad: false, storage: "js" }).dtype).toBe("float64");
    expect(core.randn([2], { seed: 1, dtype: "float64", requiresGrad: true, storage: "js" }).requiresGrad).toBe(true);
    expect(gradcheck(f, [x], {}).passed).toBe(true);
    expect(core.gradgradcheck(f, [x], { gradOutputSeed: 3, routes: "all" }).passed).toBe(true);
    core.setThreads(1, { threshold: 0 });
    core.setThreads(1, {});
    // a key whose value is undefined is still a key: misspelt is misspelt
    expect(() => zeros([2], { requiresgrad: undefined } as never)).toThrow(/^zeros: unknown option "requiresgrad"/);
    // a Proxy whose keys cannot be listed, and a very long key, are named safely
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("no keys");
        },
      },
    );
    expect(() => grad(loss(), [x], hostile as never)).toThrow(
      /^grad: options must be an object whose keys can be read/,
    );
    expect(() => zeros([2], { ["k".repeat(100)]: 1 } as never)).toThrow(/^zeros: unknown option "k{40}…"/);
  });

  it("checkOp refuses an unknown key of its own and of its gradcheck option", () => {
    expect(() => checkOp(addOp, { num_runs: 3 } as never)).toThrow(/^checkOp: unknown option "num_runs"/);
    expect(() => checkOp(addOp, { numRuns: 2, gradcheck: { seed: 1 } } as never)).toThrow(
      /^checkOp: unknown option "seed"/,
    );
    expect(checkOp(addOp, { numRuns: 2, gradcheck: { atol: 1e-5 } }).cases).toBe(2);
    // null is no options, as everywhere in core (it was a bare TypeError from Object.entries)
    expect(checkOp(addOp, null as never).cases).toBe(40);
  });
});

describe("shapes and typed arrays", () => {
  const data = new Float32Array(2);

  it("new Tensor checks its shape: NaN, BigInt, too long, unsafe or non-integer dimensions", () => {
    expect(() => new Tensor(data, Number.NaN as never)).toThrow(ShapeError);
    expect(() => new Tensor(data, Number.NaN as never)).toThrow(/^Tensor: shape must be an array/);
    expect(() => new Tensor(data, [2n] as never)).toThrow(
      /^Tensor: shape\[0\] must be a non-negative integer, got bigint 2n/,
    );
    expect(() => new Tensor(data, { length: 2 ** 32 } as never)).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(0), [2 ** 53, 0])).toThrow(/shape\[0\] must be a non-negative integer/);
    expect(() => new Tensor(data, [1.5])).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(0), new Array(65).fill(0))).toThrow(/more than the maximum rank 64/);
    expect(new Tensor(data, [2]).shape).toEqual([2]);
  });

  it("shapes holding a BigInt or a Symbol are ShapeErrors, not 'Cannot mix BigInt'", () => {
    expect(() => zeros([2, 3n] as never)).toThrow(/^zeros: shape\[1\] must be a non-negative integer, got bigint 3n/);
    expect(() => shapeSize([2, 3n] as never)).toThrow(/^shapeSize: shape\[1\]/);
    expect(() => core.broadcastShapes("op", [2], [Symbol("s")] as never)).toThrow(/^op: shape 1\[0\]/);
    expect(() => core.stridesOf({ length: 2 ** 32 } as never)).toThrow(/^stridesOf: shape must be an array/);
  });

  it("detached and non-float typed arrays are refused; a transferred slab is replaced", () => {
    expect(() => tensor(detachedArray())).toThrow(ArgumentError);
    expect(() => tensor(detachedArray())).toThrow(/^tensor: values is a typed array whose ArrayBuffer was detached/);
    expect(() => tensor(new BigInt64Array(2) as never)).toThrow(/^tensor: values must be .*BigInt64Array\(2\)/);
    expect(() => new Tensor(detachedArray(), [0])).toThrow(/Tensor: data's ArrayBuffer was detached/);
    // a small tensor's data is a view of a shared slab: transferring it detaches the slab, and
    // every later small allocation used to throw "Cannot perform Construct on a detached ArrayBuffer"
    const a = tensor([1, 2]);
    structuredClone(a.data.buffer, { transfer: [a.data.buffer as ArrayBuffer] });
    expect(tensor([3, 4]).toArray()).toEqual([3, 4]);
    expect(add(tensor([1]), 1).toArray()).toEqual([2]);
    expect(() => add(a, 1)).toThrow(
      /add: input 0 \(a\) must be a Tensor, a number, nested arrays of numbers or a typed array/,
    );
  });

  it("allocArray and ctx.alloc check their size, shape and dtype", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31, 3n, "2", Symbol("n")]) {
      expect(() => allocArray("float32", bad as never)).toThrow(/^allocArray: size must be an integer/);
    }
    expect(() => allocArray("int8" as never, 2)).toThrow(DTypeError);
    const op = defineOp({
      name: "junkAlloc",
      inputs: ["x"],
      forward: (_xs, attrs: { shape: unknown; dtype?: unknown }, ctx) =>
        ctx.alloc(attrs.shape as number[], attrs.dtype as "float32"),
      backward: () => [null],
    });
    expect(() => op([tensor(1)], { shape: [2 ** 31, 2] })).toThrow(
      /^junkAlloc: ctx\.alloc: shape \[2147483648, 2\] has/,
    );
    expect(() => op([tensor(1)], { shape: [Symbol("d")] })).toThrow(ShapeError);
    expect(() => op([tensor(1)], { shape: [2], dtype: "int8" })).toThrow(/junkAlloc: ctx\.alloc: dtype must be/);
    const save = defineOp({
      name: "junkSave",
      inputs: ["x"],
      forward: ([x], _a, ctx) => {
        ctx.saveInputs("length" as never);
        return { data: x!.data, shape: x!.shape };
      },
      backward: () => [null],
    });
    expect(() => save([tensor(1)])).toThrow(/^junkSave: forward saves input string "length", but the op has 1 inputs/);
  });
});

describe("messages never throw", () => {
  it("describeValue and fmtShape describe anything", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const getterThrows = new Proxy(
      {},
      {
        get() {
          throw new Error("getter");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    const values = [
      Symbol("s"),
      3n,
      revokedProxy(),
      getterThrows,
      cyclic,
      new Array(2 ** 32 - 1),
      { constructor: { name: Symbol("c") } },
      detachedArray(),
      -0,
      "x".repeat(1000),
    ];
    for (const v of values) {
      expect(() => describeValue(v)).not.toThrow();
      expect(() => fmtShape(v as never)).not.toThrow();
    }
    expect(describeValue(Symbol("s"))).toBe("symbol Symbol(s)");
    expect(describeValue(revokedProxy())).toBe("revoked Proxy");
    expect(describeValue(detachedArray())).toBe("Float32Array over a detached ArrayBuffer");
    expect(fmtShape([1, 2])).toBe("[1, 2]");
    expect(fmtShape(new Array(2 ** 32 - 1) as never)).toMatch(/^\[undefined, .*… 4294967231 more\]$/);
  });

  it("the error classes construct from anything", () => {
    const e = new GradgraphError(Symbol("op") as never, Symbol("message") as never, revokedProxy() as never);
    expect(e.message).toBe("symbol Symbol(message)");
    expect(e.op).toBe("symbol Symbol(op)");
    const a = new AnomalyError("op", "m", 5 as never);
    expect([a.phase, a.nodeId, a.site, a.index, a.value]).toEqual(["forward", null, null, -1, Number.NaN]);
  });

  it("formatGradcheckFailure and formatFault refuse what is not a report", () => {
    expect(() => core.formatGradcheckFailure("f", [], undefined as never)).toThrow(/^formatGradcheckFailure: report/);
    expect(() => core.formatGradcheckFailure("f", [], { worst: null } as never)).toThrow(/report\.worst/);
    expect(() => core.formatFault(revokedProxy() as never)).toThrow(/^formatFault: fault must be/);
  });
});

describe("revoked Proxies are ArgumentErrors", () => {
  it("as values, options, input lists, specs and attributes", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const calls: [RegExp, () => unknown][] = [
      [/^tensor: values is a revoked Proxy/, () => tensor(revokedProxy() as never)],
      [/^zeros: options must be an object, got revoked Proxy/, () => zeros([2], revokedProxy() as never)],
      [/^grad: inputs must be an array/, () => grad(mul(x, x), revokedProxy() as never)],
      [/^add: inputs must be an array/, () => addOp(revokedProxy() as never)],
      [/^add: attrs is a revoked Proxy/, () => addOp([x, x], revokedProxy() as never)],
      [/^defineOp: spec must be an object, got revoked Proxy/, () => defineOp(revokedProxy() as never)],
    ];
    for (const [message, call] of calls) expect(call).toThrow(message);
  });
});

describe("op attributes: spec.normalize", () => {
  it("forward, backward and the node see the normalised attributes", () => {
    const seen: unknown[] = [];
    const op = defineOp<{ axis: number }>({
      name: "axisOp",
      inputs: ["x"],
      check: ([x], attrs) => core.normalizeAxis("axisOp", attrs.axis, x!.rank),
      normalize: ([x], attrs) => ({ axis: core.normalizeAxis("axisOp", attrs.axis, x!.rank) }),
      forward: ([x], attrs, ctx) => {
        seen.push(attrs.axis);
        const out = ctx.alloc(x!.shape);
        out.data.set(x!.data);
        return out;
      },
      backward: (gy, ctx) => {
        seen.push(ctx.attrs.axis);
        return [gy];
      },
    });
    const x = tensor([[1, 2]], { requiresGrad: true });
    const y = op([x], { axis: -1 });
    expect(y.creator!.attrs).toEqual({ axis: 1 });
    y.backward(tensor([[1, 1]]));
    expect(seen).toEqual([1, 1]);
  });
});

describe("the kernels entry", () => {
  it("holds the kernels, which core's main entry no longer exports", () => {
    const moved = [
      "broadcastInto",
      "sumToInto",
      "axpy",
      "binaryInto",
      "gemm",
      "argmaxMaskInto",
      "logSumExpToInto",
      "maxToInto",
      "wasmSoftmaxProbs",
      "wasmSoftmaxRows",
      "wasmUnary",
      "wasmUnaryGrad",
    ];
    for (const name of moved) {
      expect(name in core, name).toBe(false);
      expect(typeof (kernels as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("gemm and axpy check every argument", () => {
    const f = new Float32Array(4);
    expect(() => kernels.gemm(false, false, Symbol("M") as never, 2, 2, f, f, f)).toThrow(
      /^gemm: M must be a non-negative integer, got symbol Symbol\(M\)/,
    );
    expect(() => kernels.gemm(false, false, 2, 2, 2, new Array(1e9) as never, f, f)).toThrow(
      /^gemm: A must be a Float32Array or Float64Array, got array\(1000000000\)/,
    );
    expect(() => kernels.gemm("yes" as never, false, 2, 2, 2, f, f, f)).toThrow(/^gemm: transA must be a boolean/);
    expect(() => kernels.gemm(false, false, 2, 2, 2, detachedArray(), f, f)).toThrow(/^gemm: arrays too short/);
    expect(() => kernels.axpy(1, revokedProxy() as never, f)).toThrow(/^axpy: x must be a Float32Array/);
  });

  it("sumToInto returns when out is empty (a call that is not valid used to loop forever)", () => {
    kernels.sumToInto(new Float32Array(4), [4], new Float32Array(0), [4]);
  });
});

describe("Rng and permutationFrom (the probe's last findings in random.ts)", () => {
  it("refuses a method called on something that is not an Rng, naming the method", () => {
    const rng = new core.Rng(1);
    for (const m of ["uniform", "normal"] as const) {
      expect(() => Reflect.apply(rng[m], undefined, [])).toThrow(new RegExp(`^Rng\\.${m}: this must be an Rng`));
      expect(() => Reflect.apply(rng[m], {}, [])).toThrow(ArgumentError);
    }
    expect(() => Reflect.apply(rng.int, Object.create(core.Rng.prototype), [0, 1])).toThrow(/^Rng\.int: this/);
    const { proxy, revoke } = Proxy.revocable(rng, {});
    revoke();
    expect(() => Reflect.apply(rng.permutation, proxy, [3])).toThrow(/^Rng\.permutation: this/);
  });

  it("refuses sizes past MAX_PERMUTATION and non-integers before allocating (2**31 used to hang)", () => {
    const rng = new core.Rng(1);
    for (const n of [2 ** 26 + 1, 2 ** 31, Number.POSITIVE_INFINITY, 1.5, -1, Number.NaN, 3n, "2", [3]]) {
      expect(() => rng.permutation(n as number)).toThrow(/^Rng\.permutation: n must be an integer from 0 to 67108864/);
      expect(() => core.permutationFrom(rng, n as number)).toThrow(/^permutationFrom: n must be/);
    }
    expect(core.MAX_PERMUTATION).toBe(2 ** 26);
  });

  it("permutationFrom needs an int method and refuses draws outside the asked range (no holes or repeats)", () => {
    for (const source of [null, 1.5, "2", {}, { int: 3 }]) {
      expect(() => core.permutationFrom(source as never, 3)).toThrow(
        /^permutationFrom: source must be an Rng or an object with an int/,
      );
    }
    expect(() => core.permutationFrom({ int: () => 5 }, 3)).toThrow(
      /^permutationFrom: source.int\(0, 2\) must return an integer from 0 to 2, got number 5/,
    );
    expect(() => core.permutationFrom({ int: () => 0.5 }, 3)).toThrow(ArgumentError);
    expect(() => core.permutationFrom({ int: () => "0" as unknown as number }, 3)).toThrow(ArgumentError);
    // a well-behaved source gives a permutation
    expect(core.permutationFrom({ int: (lo: number) => lo }, 4).sort()).toEqual([0, 1, 2, 3]);
    expect(new core.Rng(3).permutation(5).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
