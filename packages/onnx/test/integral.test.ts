/**
 * int32 and bool in ONNX: the comparisons, logical ops, argmax/argmin, where, floorDiv and mod
 * export (their `onnx` mappings) and give gradgraph's values and dtypes in ONNX Runtime, on int32,
 * bool and float operands, broadcasting, negative divisors; fromOnnx imports the models back with
 * the same values and dtypes (INT32 and BOOL as int32 and bool tensors); INT32 and BOOL inputs,
 * initializers and outputs.
 *
 * Each op is checked twice: its mapping on its own, handed inputs of every dtype (the types an
 * exported graph can carry to it), and through a recorded graph (`toOnnx`). The second needs core
 * to keep how the tensors that no node records were computed (`originOf`, see src/origins.ts):
 * with a core that does not, those tests are skipped.
 */
import {
  type AnyTensor,
  assertFloatTensor,
  cast,
  type DType,
  grad,
  isFloatTensor,
  type OnnxValue,
  type Shape,
  tensor,
  withDebugRecording,
} from "@gradgraph/core";
import {
  abs,
  add,
  argmax,
  concat,
  equal,
  exp,
  floorDiv,
  floorDivOp,
  gather,
  getItem,
  greater,
  integralOps,
  logicalAnd,
  logicalNot,
  max,
  maximum,
  mean,
  minimum,
  mod,
  modOp,
  mul,
  neg,
  outer,
  reshape,
  slice,
  sub,
  sum,
  transpose,
  where,
  whereOp,
} from "@gradgraph/nodes";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../src/builder.js";
import { DEFAULT_OPSET, fromOnnx, MAX_OPSET, MIN_OPSET, toOnnx } from "../src/index.js";
import {
  attributeProto,
  dataTypeOf,
  decodeModel,
  type ElemType,
  encodeModel,
  nodeProto,
  readValueInfo,
  TensorProto_DataType,
  tensorProto,
  valueInfo,
} from "../src/proto.js";
import { expectClose, runOrt } from "./ort.js";

type AnyOp = ((inputs: AnyTensor[], attrs?: unknown) => AnyTensor) & {
  readonly opName: string;
  readonly spec: { readonly inputs: readonly string[]; readonly onnx?: unknown };
};

/** The ops under test: every op of integralOps, and where, floorDiv and mod. */
const OPS = Object.entries({ ...integralOps, where: whereOp, floorDiv: floorDivOp, mod: modOp }) as [string, AnyOp][];

const DTYPES: readonly DType[] = ["int32", "bool", "float32", "float64"];
const OPSETS = [MIN_OPSET, DEFAULT_OPSET, MAX_OPSET];

/** A drawn case: the inputs (of any dtype) and the op's attributes. */
interface Case {
  readonly inputs: AnyTensor[];
  readonly attrs: unknown;
  readonly opset: number;
  readonly what: string;
}

/** Shapes that broadcast together: a full shape, and suffixes of it with some dims 1. */
function broadcastShapes(g: fc.GeneratorValue, arity: number, minDim: number): Shape[] {
  const full = g(fc.array, fc.integer({ min: minDim, max: 3 }), { minLength: 0, maxLength: 3 });
  return Array.from({ length: arity }, () => {
    const drop = g(fc.integer, { min: 0, max: full.length });
    return full.slice(drop).map((d) => (g(fc.boolean) ? d : 1));
  });
}

/**
 * Values of `dtype`: bool 0 and 1; int32 in [-6, 6] (never 0 for a divisor); floats on a grid of
 * quarters in [-3, 3] (ties, exact integers and zeros happen), now and then NaN where allowed.
 */
function draw(g: fc.GeneratorValue, dtype: DType, shape: Shape, o: { divisor: boolean; nan: boolean }): AnyTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const one = (): number => {
    if (dtype === "bool") return g(fc.integer, { min: 0, max: 1 });
    if (dtype === "int32") {
      const v = g(fc.integer, { min: -6, max: 6 });
      return o.divisor && v === 0 ? 3 : v;
    }
    if (o.nan && g(fc.integer, { min: 0, max: 11 }) === 0) return Number.NaN;
    return g(fc.integer, { min: -12, max: 12 }) / 4;
  };
  return tensor(Array.from({ length: n }, one), { shape: [...shape], dtype });
}

/** A case of `op`: dtypes per input, broadcasting shapes, an axis for argmax/argmin. */
function drawCase(g: fc.GeneratorValue, name: string, op: AnyOp): Case {
  const arity = op.spec.inputs.length;
  const arg = name === "argmax" || name === "argmin";
  const division = name === "floorDiv" || name === "mod";
  const shapes = arg
    ? [g(fc.array, fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 })]
    : broadcastShapes(g, arity, 0);
  const dtypes = shapes.map((_, k) => {
    // a bool divisor would be 0 somewhere: integer division by zero, which gradgraph refuses
    const choices = division && k === 1 ? DTYPES.filter((d) => d !== "bool") : DTYPES;
    return choices[g(fc.integer, { min: 0, max: choices.length - 1 })]!;
  });
  const inputs = shapes.map((s, k) => draw(g, dtypes[k]!, s, { divisor: division && k === 1, nan: true }));
  let attrs: unknown;
  if (arg) {
    const rank = shapes[0]!.length;
    const axis = rank === 0 || g(fc.boolean) ? null : g(fc.integer, { min: 0, max: rank - 1 });
    attrs = { axis, keepdims: g(fc.boolean) };
  }
  const opset = OPSETS[g(fc.integer, { min: 0, max: OPSETS.length - 1 })]!;
  const what = `${name}(${inputs.map((t) => `${t.dtype}[${t.shape.join(",")}]`).join(", ")}${attrs === undefined ? "" : `; ${JSON.stringify(attrs)}`}) opset ${opset}`;
  return { inputs, attrs, opset, what };
}

/** The inputs by graph input name (`in0`, `in1`, ...). */
const named = (inputs: readonly AnyTensor[]) => Object.fromEntries(inputs.map((t, k) => [`in${k}`, t]));

/**
 * A model of the op's mapping alone: graph inputs of the inputs' dtypes, the mapping's nodes, and
 * its result as the output `output` of `dtype` (what gradgraph returned).
 */
function mappingModel(op: AnyOp, c: Case, expected: AnyTensor): Uint8Array {
  const b = new GraphBuilder("test", c.opset);
  const values = c.inputs.map((t, k) => {
    const name = `in${k}`;
    b.claim(name);
    b.setType(name, t.dtype);
    return { name, shape: t.shape, dims: [...t.shape], dtype: t.dtype };
  });
  b.scope = op.opName;
  const mapping = op.spec.onnx as (ins: readonly OnnxValue[], attrs: unknown, b: GraphBuilder) => string;
  const out = mapping(values as readonly OnnxValue[], c.attrs, b);
  b.nodes.push(nodeProto("output/Identity", "Identity", [out], ["output"], []));
  return encodeModel({
    graphName: "test",
    opset: c.opset,
    producerVersion: "test",
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: c.inputs.map((t, k) => valueInfo(`in${k}`, t.dtype, t.shape)),
    outputs: [valueInfo("output", expected.dtype, expected.shape)],
  });
}

/** The element types of a model's graph inputs and outputs, by name. */
function elemTypes(bytes: Uint8Array): Record<string, number> {
  const g = decodeModel(bytes).graph!;
  return Object.fromEntries([...g.input, ...g.output].map((v) => [v.name, readValueInfo(v)!.elemType]));
}

describe("each op's ONNX mapping, on operands of every dtype, gives gradgraph's values and dtype in ONNX Runtime, and imports back", () => {
  for (const [name, op] of OPS) {
    it(name, async () => {
      expect(typeof op.spec.onnx, `${name} has an onnx mapping`).toBe("function");
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(fc.gen(), async (g) => {
          const c = drawCase(g, name, op);
          const expected = op(c.inputs, c.attrs);
          const bytes = mappingModel(op, c, expected);
          const ort = await runOrt(bytes, named(c.inputs));
          expectClose(ort.output, expected, `${c.what} in ONNX Runtime`);
          const back = fromOnnx(bytes).run(named(c.inputs)).output;
          expectClose(back, expected, `${c.what} imported`);
          ran++;
        }),
        { numRuns: 40 },
      );
      expect(ran).toBe(40);
    }, 120_000);
  }
});

describe("a recorded graph of each op (inputs of every dtype as graph inputs) exports and imports back", () => {
  for (const [name, op] of OPS) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.gen(), async (g) => {
          const c = drawCase(g, name, op);
          // the float inputs require grad (their ops are recorded); the int32 and bool ones are followed
          const inputs = c.inputs.map((t) =>
            isFloatTensor(t) ? tensor(t.data.slice(), { shape: [...t.shape], dtype: t.dtype, requiresGrad: true }) : t,
          );
          const out = withDebugRecording(() => op(inputs, c.attrs));
          const bytes = toOnnx(out, { inputs: named(inputs), opset: c.opset });
          const types = elemTypes(bytes);
          inputs.forEach((t, k) => {
            expect(types[`in${k}`], `${c.what}: input ${k}`).toBe(dataTypeOf(t.dtype));
          });
          expect(types.output, `${c.what}: output`).toBe(dataTypeOf(out.dtype));
          expectClose((await runOrt(bytes, named(inputs))).output, out, `${c.what} in ONNX Runtime`);
          expectClose(fromOnnx(bytes).run(named(inputs)).output, out, `${c.what} imported`);
        }),
        { numRuns: 25 },
      );
    }, 120_000);
  }
});

describe("graphs with int32 and bool values", () => {
  it("an accuracy with int32 class labels as a graph input: INT32 input, argmax, equal, cast, mean", async () => {
    const scores = tensor(
      [
        [0.1, 2, -1],
        [3, 0.5, 0.2],
        [0, 0, 1],
        [-1, -2, -3],
      ],
      { requiresGrad: true },
    );
    const labels = tensor([1, 0, 1, 0], { dtype: "int32" });
    const acc = withDebugRecording(() => mean(cast(equal(argmax(scores, { axis: 1 }), labels), "float32")));
    expect(acc.data[0]).toBe(0.75);
    const bytes = toOnnx(
      { accuracy: acc },
      { inputs: { scores, labels }, dynamicAxes: { scores: { 0: "n" }, labels: { 0: "n" } } },
    );
    const types = elemTypes(bytes);
    expect(types.labels).toBe(TensorProto_DataType.INT32);
    expect(types.accuracy).toBe(TensorProto_DataType.FLOAT);
    expectClose((await runOrt(bytes, { scores, labels })).accuracy, acc, "accuracy");
    // another batch size: the labels input is dynamic too
    const s2 = tensor([[1, 0, 0]], { requiresGrad: true });
    const l2 = tensor([2], { dtype: "int32" });
    expect(Array.from((await runOrt(bytes, { scores: s2, labels: l2 })).accuracy!.data)).toEqual([0]);
    const model = fromOnnx(bytes);
    expect(model.inputs.map((i) => i.dtype)).toEqual(["float32", "int32"]);
    expectClose(model.run({ scores, labels }).accuracy, acc, "imported");
  });

  it("int32 and bool params become INT32 and BOOL initializers; a bool mask from a comparison selects", async () => {
    const x = tensor([-1.5, 2, 0.5, -3], { requiresGrad: true });
    const offsets = tensor([1, -2, 3, 0], { dtype: "int32" });
    const keep = tensor([1, 1, 0, 1], { dtype: "bool" });
    const y = withDebugRecording(() => where(logicalAnd(keep, greater(x, 0)), mul(x, offsets), 0));
    const bytes = toOnnx(y, { inputs: { x }, params: { offsets, keep } });
    const inits = Object.fromEntries(decodeModel(bytes).graph!.initializer.map((t) => [t.name, t.dataType]));
    expect(inits).toEqual({ offsets: TensorProto_DataType.INT32, keep: TensorProto_DataType.BOOL });
    expectClose((await runOrt(bytes, { x })).output, y, "masked");
    const model = fromOnnx(bytes);
    // the float initializers are the params; int32 and bool ones constants
    expect(Object.keys(model.params)).toEqual([]);
    const back = assertFloatTensor("test", "output", model.run({ x }).output);
    expectClose(back, y, "imported");
    // the gradient flows through where and mul to x, none through the mask
    const [gx] = grad(sum(back), [x]);
    expect(Array.from(gx!.data)).toEqual([0, -2, 0, 0]);
  });

  it("floorDiv of floats: the floor of the exact quotient in ONNX Runtime too (1 // 0.1 = 9, -1 // inf = -1, inf // 3 = NaN)", async () => {
    const inf = Number.POSITIVE_INFINITY;
    const pairs = [
      [1, 0.1],
      [0.7, 0.1],
      [-1, 0.1],
      [-1, inf],
      [1, -inf],
      [inf, 3],
      [5, 0],
      [0, 0],
      [0, -3],
      [7.5, -2],
      [-7.5, 2],
      [0.3, 1],
    ];
    for (const dtype of ["float64", "float32"] as const) {
      const a = tensor(
        pairs.map((p) => p[0]!),
        { dtype, requiresGrad: true },
      );
      const b = tensor(
        pairs.map((p) => p[1]!),
        { dtype, requiresGrad: true },
      );
      const q = withDebugRecording(() => floorDiv(a, b));
      if (dtype === "float64") expect(Array.from(q.data).slice(0, 6)).toEqual([9, 6, -10, -1, -1, Number.NaN]);
      const bytes = toOnnx(q, { inputs: { a, b } });
      expectClose((await runOrt(bytes, { a, b })).output, q, `${dtype} in ONNX Runtime`);
      expectClose(fromOnnx(bytes).run({ a, b }).output, q, `${dtype} imported`);
    }
  });

  it("an int32 graph: floorDiv and mod of an int32 input by negative divisors, bool outputs", async () => {
    const n = tensor([-7, -1, 0, 5, 9], { dtype: "int32" });
    const outs = withDebugRecording(() => [floorDiv(n, -2), mod(n, -3), mod(n, 4), logicalNot(n)]);
    expect(outs.map((t) => t.dtype)).toEqual(["int32", "int32", "int32", "bool"]);
    const bytes = toOnnx(outs, { inputs: { n } });
    const types = elemTypes(bytes);
    expect([types.n, types.output_0, types.output_1, types.output_3]).toEqual([
      TensorProto_DataType.INT32,
      TensorProto_DataType.INT32,
      TensorProto_DataType.INT32,
      TensorProto_DataType.BOOL,
    ]);
    const result = await runOrt(bytes, { n });
    const back = fromOnnx(bytes).run({ n });
    outs.forEach((t, k) => {
      expectClose(result[`output_${k}`], t, `output ${k}`);
      expectClose(back[`output_${k}`], t, `output ${k} imported`);
    });
    expect(Array.from(outs[1]!.data)).toEqual([-1, -1, 0, -1, 0]);
  });
});

describe("the other ops on int32 and bool graph inputs export as gradgraph computes them (Cast, the op, Cast back)", () => {
  const i = tensor(
    [
      [3, -2, 0],
      [-5, 7, 1],
    ],
    { dtype: "int32" },
  );
  const j = tensor([2, -4, 6], { dtype: "int32" });
  const m = tensor(
    [
      [1, 0, 1],
      [0, 0, 1],
    ],
    { dtype: "bool" },
  );
  const x = tensor([0.5, -1.5, 2.25], { requiresGrad: true });
  // each case: the graph inputs it reads, and the call
  const cases: [string, Record<string, AnyTensor>, () => AnyTensor][] = [
    ["add", { i, j }, () => add(i, j)],
    ["add of bools", { m }, () => add(m, m)],
    ["sub", { i }, () => sub(i, 1)],
    ["mul", { i, j }, () => mul(i, j)],
    ["mul by a float", { j, x }, () => mul(j, x)],
    ["outer of bools", { m }, () => outer(getItem(m, 0), getItem(m, 1))],
    ["outer of a bool and an int32", { m, j }, () => outer(getItem(m, 1), j)],
    ["neg", { i }, () => neg(i)],
    ["abs", { i }, () => abs(i)],
    ["maximum", { i, j }, () => maximum(i, j)],
    ["minimum of a bool and an int32", { m, j }, () => minimum(m, j)],
    ["sum", { i }, () => sum(i, { axis: 1 })],
    ["sum of bools", { m }, () => sum(m)],
    ["max", { i }, () => max(i, { axis: 0 })],
    ["reshape of bools", { m }, () => reshape(m, [3, 2])],
    ["transpose", { i }, () => transpose(i)],
    ["concat", { i, j }, () => concat([i, reshape(j, [1, 3])], 0)],
    ["concat of bools", { m }, () => concat([m, m], 1)],
    ["slice", { i }, () => slice(i, 1, 3, 1)],
    ["getItem", { m }, () => getItem(m, 1)],
    ["gather", { i }, () => gather(i, [2, 0, 2], 1)],
    ["where of int32 values", { m, i, j }, () => where(m, i, j)],
    ["exp (a float result)", { i }, () => exp(i)],
  ];
  for (const [what, inputs, f] of cases) {
    it(what, async () => {
      const y = withDebugRecording(f);
      const bytes = toOnnx(y, { inputs });
      const types = elemTypes(bytes);
      expect(types.output).toBe(dataTypeOf(y.dtype));
      for (const [name, t] of Object.entries(inputs)) expect(types[name], name).toBe(dataTypeOf(t.dtype));
      expectClose((await runOrt(bytes, inputs)).output, y, `${what} in ONNX Runtime`);
      expectClose(fromOnnx(bytes).run(inputs).output, y, `${what} imported`);
    });
  }
});

describe("fromOnnx: INT32 and BOOL tensors, and the operators of int32 and bool values", () => {
  /** A model of one graph: inputs, initializers, nodes and outputs by element type. */
  function model(
    nodes: Parameters<typeof nodeProto>[],
    inputs: [string, ElemType, number[]][],
    outputs: [string, ElemType, number[]][],
    inits: [string, ElemType, number[], number[]][] = [],
  ): Uint8Array {
    return encodeModel({
      graphName: "test",
      opset: DEFAULT_OPSET,
      producerVersion: "test",
      nodes: nodes.map((args) => nodeProto(...args)),
      initializers: inits.map(([name, t, values, shape]) => tensorProto(name, values, t, shape)),
      inputs: inputs.map(([name, t, dims]) => valueInfo(name, t, dims)),
      outputs: outputs.map(([name, t, dims]) => valueInfo(name, t, dims)),
    });
  }

  it("INT32 and BOOL inputs and initializers are int32 and bool tensors; INT32 inputs refuse fractions", async () => {
    const bytes = model(
      [
        ["and", "And", ["m", "k"], ["both"], []],
        ["add", "Add", ["i", "j"], ["s"], []],
      ],
      [
        ["m", "bool", [3]],
        ["i", "int32", [3]],
      ],
      [
        ["both", "bool", [3]],
        ["s", "int32", [3]],
      ],
      [
        ["k", "bool", [1, 0, 1], [3]],
        ["j", "int32", [10, -20, 30], [3]],
      ],
    );
    const m = fromOnnx(bytes);
    expect(m.inputs.map((i) => i.dtype)).toEqual(["bool", "int32"]);
    expect(Object.keys(m.params)).toEqual([]);
    const inputs = { m: tensor([1, 1, 0], { dtype: "bool" }), i: tensor([1, 2, 3], { dtype: "int32" }) };
    const out = m.run(inputs);
    expect(out.both!.dtype).toBe("bool");
    expect(Array.from(out.both!.data)).toEqual([1, 0, 0]);
    expect(out.s!.dtype).toBe("int32");
    expect(Array.from(out.s!.data)).toEqual([11, -18, 33]);
    const ort = await runOrt(bytes, inputs);
    expectClose(ort.both, out.both!, "both");
    expectClose(ort.s, out.s!, "s");
    // plain numbers for an INT32 input
    expect(Array.from(m.run({ m: [1, 0, 1], i: [4, 5, 6] }).s!.data)).toEqual([14, -15, 36]);
    expect(() => m.run({ m: [1, 0, 1], i: [4.5, 5, 6] })).toThrow(/INT32 and takes int32 integers/);
  });

  it("Cast to INT32 truncates toward zero, to BOOL reads nonzero as true, INT64 results are read as int32", async () => {
    const bytes = model(
      [
        ["ci", "Cast", ["x"], ["i"], [attributeProto("to", TensorProto_DataType.INT32)]],
        ["cb", "Cast", ["x"], ["b"], [attributeProto("to", TensorProto_DataType.BOOL)]],
        ["am", "ArgMax", ["x"], ["a64"], [attributeProto("axis", 0), attributeProto("keepdims", 0)]],
        ["c64", "Cast", ["a64"], ["a"], [attributeProto("to", TensorProto_DataType.INT32)]],
        ["cf", "Cast", ["b"], ["f"], [attributeProto("to", TensorProto_DataType.DOUBLE)]],
      ],
      [["x", "float32", [5]]],
      [
        ["i", "int32", [5]],
        ["b", "bool", [5]],
        ["a", "int32", []],
        ["f", "float64", [5]],
      ],
    );
    const x = tensor([-2.7, -0.5, 0, 0.5, 3.9]);
    const out = fromOnnx(bytes).run({ x });
    expect(Array.from(out.i!.data)).toEqual([-2, 0, 0, 0, 3]);
    expect(Array.from(out.b!.data)).toEqual([1, 1, 0, 1, 1]);
    expect([out.a!.dtype, out.a!.data[0]]).toEqual(["int32", 4]);
    expect(out.f!.dtype).toBe("float64");
    const ort = await runOrt(bytes, { x });
    for (const k of ["i", "b", "a", "f"]) expectClose(ort[k], out[k]!, k);
  });

  it("Mod: fmod 0 (the divisor's sign) and fmod 1 (the dividend's), on int32 and floats; Floor alone and of a Div; Div of int32", async () => {
    const a = [-7, -7, 7, 7, 0, 5];
    const d = [3, -3, 3, -3, 2, 5];
    const bytes = model(
      [
        ["m0", "Mod", ["ai", "di"], ["m0"], [attributeProto("fmod", 0)]],
        ["m1", "Mod", ["ai", "di"], ["m1"], [attributeProto("fmod", 1)]],
        ["mf", "Mod", ["af", "df"], ["mf"], [attributeProto("fmod", 1)]],
        ["div", "Div", ["af", "df"], ["q"], []],
        ["floor", "Floor", ["q"], ["fq"], []],
        ["floor2", "Floor", ["af"], ["fa"], []],
        ["divi", "Div", ["ai", "di"], ["qi"], []],
      ],
      [
        ["ai", "int32", [6]],
        ["di", "int32", [6]],
        ["af", "float64", [6]],
        ["df", "float64", [6]],
      ],
      [
        ["m0", "int32", [6]],
        ["m1", "int32", [6]],
        ["mf", "float64", [6]],
        ["fq", "float64", [6]],
        ["fa", "float64", [6]],
        ["qi", "int32", [6]],
      ],
    );
    const inputs = {
      ai: tensor(a, { dtype: "int32" }),
      di: tensor(d, { dtype: "int32" }),
      af: tensor(
        a.map((v) => v + 0.5),
        { dtype: "float64", requiresGrad: true },
      ),
      df: tensor(d, { dtype: "float64" }),
    };
    const out = fromOnnx(bytes).run(inputs);
    expect(Array.from(out.m0!.data)).toEqual([2, -1, 1, -2, 0, 0]);
    expect(Array.from(out.m1!.data)).toEqual([-1, -1, 1, 1, 0, 0]);
    expect(out.m1!.dtype).toBe("int32");
    // Floor of a Div: the floor of the rounded quotient, as ONNX computes it
    expect(Array.from(out.fq!.data)).toEqual(Array.from(inputs.af.data, (v, i) => Math.floor(v / d[i]!)));
    // ONNX's Div of integers truncates toward zero
    expect([out.qi!.dtype, ...out.qi!.data]).toEqual(["int32", -2, 2, 2, -2, 0, 1]);
    const ort = await runOrt(bytes, inputs);
    for (const k of ["m0", "m1", "mf", "fq", "fa", "qi"]) expectClose(ort[k], out[k]!, k);
  });

  it("Floor keeps ONNX's meaning: of a rounded Div (Floor(Div(1, 0.1)) is 10, Python's 1 // 0.1 is 9) and of ±inf", async () => {
    const inf = Number.POSITIVE_INFINITY;
    const bytes = model(
      [
        ["div", "Div", ["a", "b"], ["q"], []],
        ["floor", "Floor", ["q"], ["fq"], []],
        ["floor2", "Floor", ["a"], ["fa"], []],
      ],
      [
        ["a", "float64", [4]],
        ["b", "float64", [4]],
      ],
      [
        ["fq", "float64", [4]],
        ["fa", "float64", [4]],
      ],
    );
    const inputs = {
      a: tensor([1, inf, -inf, -2.5], { dtype: "float64", requiresGrad: true }),
      b: tensor([0.1, 1, 2, 1], { dtype: "float64" }),
    };
    const out = fromOnnx(bytes).run(inputs);
    expect(Array.from(out.fq!.data)).toEqual([10, inf, -inf, -3]);
    expect(Array.from(out.fa!.data)).toEqual([1, inf, -inf, -3]);
    const ort = await runOrt(bytes, inputs);
    for (const k of ["fq", "fa"]) expectClose(ort[k], out[k]!, k);
    // piecewise constant: no gradient flows through Floor, at the infinities either
    const [g] = grad(sum(assertFloatTensor("test", "fa", out.fa)), [inputs.a], { allowUnused: true });
    expect(g === null || g === undefined || Array.from(g.data).every((v) => v === 0)).toBe(true);
  });

  it("comparisons and Where of an INT64 input (integers read as int32)", async () => {
    const bytes = model(
      [
        ["eq", "Equal", ["i", "c"], ["e"], []],
        ["w", "Where", ["e", "x", "z"], ["y"], []],
      ],
      [
        ["i", "int64", [4]],
        ["x", "float32", [4]],
      ],
      [["y", "float32", [4]]],
      [
        ["c", "int64", [2], []],
        ["z", "float32", [0], []],
      ],
    );
    const m = fromOnnx(bytes);
    expect(m.inputs.map((i) => i.dtype)).toEqual(["int64", "float32"]);
    const y = m.run({ i: [1, 2, 2, 3], x: tensor([1, 2, 3, 4]) }).y!;
    expect(y.dtype).toBe("float32");
    expect(Array.from(y.data)).toEqual([0, 2, 3, 0]);
  });
});
