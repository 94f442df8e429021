/**
 * Graph snapshots, DOT export and SVG rendering: golden DOT files for the seed's graphs,
 * determinism, escaping of hostile names, every op kind rendered to well-formed SVG, immutability,
 * graphlib queries, gradcheck fault highlighting, and a 3,000-node graph.
 *
 * Golden files live in test/golden/; run with UPDATE_GOLDEN=1 to rewrite them (review the diff).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { alg } from "@dagrejs/graphlib";
import {
  ArgumentError,
  defineOp,
  GradgraphError,
  gradcheck,
  randn,
  type Tensor,
  tensor,
  withCreationSites,
} from "@gradgraph/core";
import { TwoLayerNet } from "@gradgraph/nn";
import {
  abs,
  add,
  affine,
  branch,
  concat,
  div,
  exp,
  getItem,
  greater,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maximum,
  minimum,
  mul,
  neg,
  ops,
  padSliceOp,
  pow,
  powScalarOp,
  relu,
  repeat,
  reshape,
  scatterRowsOp,
  sigmoid,
  slice,
  s as sliceIndex,
  softmax,
  softmaxCrossEntropy,
  split,
  sqrt,
  sub,
  sum,
  tanh,
  transpose,
  where,
} from "@gradgraph/nodes";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { produce } from "immer";
import { describe, expect, it } from "vitest";
import { toDot } from "../src/dot.js";
import { RenderError, renderSvg } from "../src/render.js";
import {
  type GraphSnapshot,
  groupsFromLayers,
  pathToOutput,
  resolveNode,
  type SnapshotOpNode,
  snapshot,
  toGraphlib,
} from "../src/snapshot.js";

// ---------------------------------------------------------------------------------------------
// helpers

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Compares `dot` byte for byte with golden/<name>.dot (rewrites it under UPDATE_GOLDEN=1). */
function expectGolden(name: string, dot: string): void {
  const file = join(GOLDEN_DIR, `${name}.dot`);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, dot);
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${file}; run the test with UPDATE_GOLDEN=1 once`);
  expect(dot).toBe(readFileSync(file, "utf8"));
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" });

/** Parses SVG text after checking it is well-formed XML. */
function parseSvg(svg: string): unknown {
  expect(XMLValidator.validate(svg)).toBe(true);
  return xml.parse(svg);
}

/** Visits every element object of a fast-xml-parser tree with its tag name. */
function walk(v: unknown, tag: string, visit: (tag: string, el: Record<string, unknown>) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, tag, visit);
    return;
  }
  if (v === null || typeof v !== "object") return;
  const el = v as Record<string, unknown>;
  visit(tag, el);
  for (const [k, x] of Object.entries(el)) if (!k.startsWith("@_") && k !== "#text") walk(x, k, visit);
}

function countNodes(tree: unknown): number {
  let n = 0;
  walk(tree, "", (tag, el) => {
    if (tag === "g" && el["@_class"] === "node") n++;
  });
  return n;
}

function svgTexts(tree: unknown): string[] {
  const out: string[] = [];
  walk(tree, "", (tag, el) => {
    if (tag === "text" && el["#text"] !== undefined) out.push(String(el["#text"]));
  });
  return out;
}

/** The DOT statement line of node `id`. */
function nodeLine(dot: string, id: string): string {
  const line = dot.split("\n").find((l) => l.trimStart().startsWith(`"${id}" [`));
  if (line === undefined) throw new Error(`no node ${id} in DOT`);
  return line;
}

const f64 = { dtype: "float64" as const };

// ---------------------------------------------------------------------------------------------
// the seed's graphs

/** Repeat: x of 1×D repeated N times along axis 0, then summed. */
function repeatGraph(): { out: Tensor; params: Record<string, Tensor> } {
  const x = randn([1, 3], { seed: 1, requiresGrad: true });
  return { out: sum(repeat(x, 4, 0)), params: { x } };
}

/** Sum: x of N×D summed over axis 0 with keepdims. */
function sumGraph(): { out: Tensor; params: Record<string, Tensor> } {
  const x = randn([4, 3], { seed: 2, requiresGrad: true });
  return { out: sum(x, { axis: 0, keepdims: true }), params: { x } };
}

/** MatMul: x·W. */
function matmulGraph(): { out: Tensor; params: Record<string, Tensor> } {
  const x = randn([2, 4], { seed: 3, requiresGrad: true });
  const W = randn([4, 3], { seed: 4, requiresGrad: true });
  return { out: matmul(x, W), params: { x, W } };
}

/** The two-layer net on a batch of 2, every layer's output recorded for its group. */
function twoLayerNet() {
  const net = new TwoLayerNet(4, 5, 3, { seed: 0 });
  const x = randn([2, 4], { seed: 7 });
  const layers = [...net.layers, net.lossLayer];
  const outputs: Tensor[] = [];
  let h = x;
  for (const layer of net.layers) {
    h = layer.forward(h);
    outputs.push(h);
  }
  const loss = net.lossLayer.forward(h, [0, 2]);
  outputs.push(loss);
  const [W1, b1, W2, b2] = net.params as [Tensor, Tensor, Tensor, Tensor];
  return { loss, params: { W1, b1, W2, b2 }, groups: groupsFromLayers(layers, outputs) };
}

describe("golden DOT files", () => {
  it("Repeat", () => {
    const g = repeatGraph();
    expectGolden("repeat", toDot(g.out, { params: g.params }));
  });

  it("Sum", () => {
    const g = sumGraph();
    expectGolden("sum", toDot(g.out, { params: g.params }));
  });

  it("MatMul", () => {
    const g = matmulGraph();
    expectGolden("matmul", toDot(g.out, { params: g.params, rankdir: "LR" }));
  });

  it("the two-layer net, its layers as clusters", () => {
    const g = twoLayerNet();
    expectGolden("two-layer-net", toDot(g.loss, { params: g.params, groups: g.groups }));
  });

  it("the two-layer net after backward, with saved tensors and gradients", () => {
    const g = twoLayerNet();
    const s = snapshot(g.loss, { params: g.params, groups: g.groups });
    expectGolden("two-layer-net-saved", toDot(s, { showSaved: true }));
    g.loss.backward();
    const after = snapshot(g.loss, { params: g.params, groups: g.groups });
    expect(after.nodes.filter((n) => n.kind === "op").every((n) => (n as SnapshotOpNode).released)).toBe(true);
    expectGolden("two-layer-net-backward", toDot(after, { showSaved: true, showGrad: true }));
  });

  it("gives byte-identical DOT and equal snapshots when the same program runs twice", () => {
    for (const build of [repeatGraph, sumGraph, matmulGraph]) {
      const a = build();
      const b = build();
      expect(toDot(a.out, { params: a.params })).toBe(toDot(b.out, { params: b.params }));
      expect(JSON.stringify(snapshot(a.out, { params: a.params }))).toBe(
        JSON.stringify(snapshot(b.out, { params: b.params })),
      );
    }
    const a = twoLayerNet();
    const b = twoLayerNet();
    const opts = { showSaved: true, showGrad: true, highlight: ["W1", "op2"] };
    expect(toDot(a.loss, { params: a.params, groups: a.groups, ...opts })).toBe(
      toDot(b.loss, { params: b.params, groups: b.groups, ...opts }),
    );
    expect(snapshot(a.loss, { params: a.params, groups: a.groups })).toEqual(
      snapshot(b.loss, { params: b.params, groups: b.groups }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("snapshot", () => {
  it("describes ops, leaves, outputs and edges with ids from graph order", () => {
    const g = twoLayerNet();
    const s = snapshot(g.loss, { params: g.params, groups: g.groups });
    // the Affine layers record one fused `affine` op each (x·W + b)
    expect(s.nodes.map((n) => n.id)).toEqual(["leaf0", "leaf1", "op0", "op1", "leaf2", "leaf3", "op2", "op3", "out0"]);
    const ops = s.nodes.filter((n): n is SnapshotOpNode => n.kind === "op");
    expect(ops.map((n) => n.op)).toEqual(["affine", "sigmoid", "affine", "softmaxCrossEntropy"]);
    expect(ops[0]).toMatchObject({
      outShapes: [[2, 5]],
      dtype: "float32",
      attrs: null,
      inputs: [
        { index: 0, name: "x", tracked: false, shape: null },
        { index: 1, name: "W", tracked: true, shape: [4, 5] },
        { index: 2, name: "b", tracked: true, shape: [5] },
      ],
      released: false,
      group: "group0",
    });
    expect(ops[0]!.saved.map((e) => [e.name, e.shape])).toEqual([
      ["x", [2, 4]],
      ["W", [4, 5]],
    ]);
    expect(s.nodes.filter((n) => n.kind === "leaf").map((n) => (n.kind === "leaf" ? n.name : ""))).toEqual([
      "W1",
      "b1",
      "W2",
      "b2",
    ]);
    expect(s.groups.map((gr) => [gr.name, gr.members])).toEqual([
      ["Affine[0]", ["leaf0", "leaf1", "op0"]],
      ["Sigmoid[1]", ["op1"]],
      ["Affine[2]", ["leaf2", "leaf3", "op2"]],
      ["SoftmaxWithLoss[3]", ["op3"]],
    ]);
    expect(s.edges[0]).toEqual({
      id: "e0",
      from: "leaf0",
      fromSlot: 0,
      to: "op0",
      input: 1,
      inputName: "W",
      shape: [4, 5],
      dtype: "float32",
    });
    expect(s.outputs).toEqual(["out0"]);
    expect(s.nodes.at(-1)).toMatchObject({ kind: "output", source: "op3", slot: 0, shape: [] });
    expect(s.unreachedParams).toEqual([]);
    // plain data: a JSON round trip gives the same value
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it("summarises gradients and lists params the outputs do not depend on", () => {
    const x = tensor([3, 4], { requiresGrad: true });
    const unused = tensor([1], { requiresGrad: true });
    const y = sum(mul(x, x));
    y.backward();
    const s = snapshot(y, { params: { x, unused } });
    const leaf = s.nodes.find((n) => n.kind === "leaf");
    expect(leaf).toMatchObject({ name: "x", grad: { shape: [2], dtype: "float32", norm: 10 } });
    expect(s.unreachedParams).toEqual(["unused"]);
    // mul(x, x): two edges from one leaf, told apart by input position
    expect(s.edges.filter((e) => e.to === "op0").map((e) => [e.from, e.input])).toEqual([
      ["leaf0", 0],
      ["leaf0", 1],
    ]);
    expect(toDot(s, { showGrad: true })).toContain('label="x\\n[2] float32\\ngrad [2], norm 10"');
  });

  it("is deep-frozen: mutation throws, produce gives an edited copy, the live graph is untouched", () => {
    const g = twoLayerNet();
    const s = snapshot(g.loss, { params: g.params, groups: g.groups });
    const before = toDot(s);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.nodes)).toBe(true);
    expect(Object.isFrozen(s.nodes[0])).toBe(true);
    expect(Object.isFrozen((s.nodes[0] as { shape: readonly number[] }).shape)).toBe(true);
    expect(Object.isFrozen(s.edges[0])).toBe(true);
    // ES modules are strict: writes to frozen objects throw
    expect(() => {
      (s as { version: number }).version = 2;
    }).toThrow(TypeError);
    expect(() => {
      (s.nodes as unknown[]).push({});
    }).toThrow(TypeError);
    expect(() => {
      (s.nodes[0] as { name: string }).name = "hacked";
    }).toThrow(TypeError);
    expect(() => {
      (s.groups[0]!.members as string[])[0] = "x";
    }).toThrow(TypeError);
    expect(() => {
      (s.nodes[1] as unknown as { outShapes: number[][] }).outShapes[0]![0] = 99;
    }).toThrow(TypeError);

    const edited = produce(s, (draft) => {
      const w1 = draft.nodes[0]!;
      if (w1.kind === "leaf") w1.name = "W1 (edited)";
      draft.groups[1]!.name = "activation";
    });
    expect(edited).not.toBe(s);
    expect(Object.isFrozen(edited)).toBe(true);
    expect(s.nodes[0]).toMatchObject({ name: "W1" });
    expect(s.groups[1]!.name).toBe("Sigmoid[1]");
    expect(toDot(s)).toBe(before);
    const dot = toDot(edited);
    expect(dot).toContain('label="W1 (edited)\\n[4, 5] float32"');
    expect(dot).toContain('label="activation"');
    // unchanged parts are shared, as immer does
    expect(edited.edges).toBe(s.edges);
    // an edited copy knows nothing of the live graph: snapshot ids and names still resolve
    expect(() => toDot(edited, { highlight: g.loss.creator! })).toThrow(ArgumentError);
    expect(toDot(edited, { highlight: ["op2", "W1 (edited)"] })).toContain('fillcolor="mistyrose"');

    // the live graph: shapes not frozen, and backward still runs
    const W1 = g.params.W1;
    expect(Object.isFrozen(W1.shape)).toBe(false);
    expect(Object.isFrozen(g.loss.creator!.outShapes)).toBe(false);
    expect(Object.isFrozen(g.loss.creator!.outShapes[0])).toBe(false);
    g.loss.backward();
    expect(W1.grad!.data.some((v) => v !== 0)).toBe(true);
    expect(s.nodes.some((n) => n.kind === "op" && n.released)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe("graphlib", () => {
  it("answers predecessors, topological order and the path from W1 to the loss", () => {
    const g = twoLayerNet();
    const s = snapshot(g.loss, { params: g.params, groups: g.groups });
    const gl = toGraphlib(s);
    expect(gl.isDirected() && gl.isMultigraph() && gl.isCompound()).toBe(true);
    expect(gl.nodeCount()).toBe(s.nodes.length + s.groups.length);
    expect(gl.edgeCount()).toBe(s.edges.length);

    const out = s.outputs[0]!;
    expect(gl.predecessors(out)).toEqual(["op3"]);
    const lossOp = gl.node("op3");
    expect(lossOp).toMatchObject({ kind: "op", op: "softmaxCrossEntropy" });
    expect(gl.predecessors("op3")).toEqual(["op2"]);
    expect([...(gl.predecessors("op2") ?? [])].sort()).toEqual(["leaf2", "leaf3", "op1"]);
    expect(gl.node("leaf0")).toBe(s.nodes[0]);
    expect(gl.edge("leaf0", "op0", "e0")).toBe(s.edges[0]);

    const order = alg.topsort(gl);
    expect(order.length).toBe(gl.nodeCount());
    const pos = new Map(order.map((v, i) => [v, i]));
    for (const e of gl.edges()) expect(pos.get(e.v)!).toBeLessThan(pos.get(e.w)!);
    expect(alg.isAcyclic(gl)).toBe(true);

    expect([...gl.children("group0")].sort()).toEqual(["leaf0", "leaf1", "op0"]);
    expect(gl.parent("op1")).toBe("group1");

    const path = pathToOutput(s, "W1");
    expect(path).toEqual(["leaf0", "op0", "op1", "op2", "op3", "out0"]);
    expect(path!.map((id) => (gl.node(id) as { op?: string }).op ?? id)).toEqual([
      "leaf0",
      "affine",
      "sigmoid",
      "affine",
      "softmaxCrossEntropy",
      "out0",
    ]);
    expect(pathToOutput(s, "b2", "out0")).toEqual(["leaf3", "op2", "op3", "out0"]);
    expect(() => pathToOutput(s, "W9")).toThrow(ArgumentError);
    expect(() => pathToOutput(s, "W1", 3)).toThrow(/pathToOutput: output must be/);
  });

  it("returns null when the output does not depend on the parameter", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = tensor([3, 4], { requiresGrad: true });
    const s = snapshot([sum(x), sum(y)], { params: { x, y } });
    expect(pathToOutput(s, "x", 0)).toEqual(["leaf0", "op0", "out0"]);
    expect(pathToOutput(s, "x", 1)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------

describe("toDot and renderSvg", () => {
  it("escapes hostile names so Graphviz renders them as written", async () => {
    const hostile = ['a"b', "<x>", "x\ny", "}{", "back\\slash", "\\N", "tab\there", "é ∑ 🙂"];
    const params = new Map<string, Tensor>();
    let acc: Tensor | null = null;
    hostile.forEach((name, i) => {
      const t = tensor([i + 1, 2], { requiresGrad: true });
      params.set(name, t);
      acc = acc === null ? t : add(acc, t);
    });
    const out = sum(acc!);
    const dot = toDot(out, {
      params,
      groups: [{ name: 'layer "}{" <1>\n', params: [params.get('a"b')!] }],
      highlight: ["<x>", "}{"],
      title: 'title "quoted" \\ {}',
    });
    // only the escapes we wrote: no raw newline inside a line, quotes balanced per statement
    for (const line of dot.split("\n")) {
      const unescaped = line.replace(/\\\\/g, "").replace(/\\"/g, "");
      expect((unescaped.match(/"/g) ?? []).length % 2).toBe(0);
    }
    expect(dot).toContain('"a\\"b\\n[2] float32"');
    expect(dot).toContain('"x\\\\ny\\n[2] float32"');
    expect(dot).toContain('"back\\\\slash\\n[2] float32"');

    const svg = await renderSvg(dot);
    const tree = parseSvg(svg);
    const texts = svgTexts(tree);
    expect(texts).toContain('a"b');
    expect(texts).toContain("<x>");
    expect(texts).toContain("x\\ny");
    expect(texts).toContain("}{");
    expect(texts).toContain("back\\slash");
    expect(texts).toContain("\\N");
    expect(texts).toContain("tab\\there");
    expect(texts).toContain("é ∑ 🙂");
    expect(texts).toContain('layer "}{" <1>\\n');
    expect(texts).toContain('title "quoted" \\ {}');
    expect(countNodes(tree)).toBe(snapshot(out, { params }).nodes.length);
  });

  it("renders every op kind (single- and multi-output) to well-formed SVG with one <g class=node> per node", async () => {
    const x = randn([2, 3], { seed: 11, requiresGrad: true, ...f64 });
    const y = randn([2, 3], { seed: 12, requiresGrad: true, ...f64 });
    const W = randn([3, 4], { seed: 13, requiresGrad: true, ...f64 });
    const pos = exp(x);
    const [b0, b1] = branch(y, 2) as [Tensor, Tensor];
    const [s0, s1] = split(x, [1, 2], 1) as [Tensor, Tensor];
    const parts: Tensor[] = [
      log(pos),
      sqrt(pos),
      abs(x),
      sigmoid(x),
      tanh(x),
      relu(x),
      neg(x),
      sub(x, y),
      div(x, pos),
      maximum(x, b0),
      minimum(x, b1),
      pow(pos, y),
      powScalarOp([x], { p: 3 }),
      repeat(x, 2, 0),
      max(x, { axis: 1 }),
      logSumExp(x, { axis: 1 }),
      softmax(x),
      logSoftmax(x),
      softmaxCrossEntropy(x, [0, 2]),
      // class indices with options take an op of their own
      softmaxCrossEntropy(x, [0, -100], { ignoreIndex: -100, labelSmoothing: 0.1, weights: [1, 2, 0.5] }),
      reshape(x, [3, 2]),
      transpose(x),
      getItem(x, [1, 0, 1]),
      scatterRowsOp([x], { indices: [2, 0], drop: false, rows: 3 }),
      slice(x, 0, 2, 1),
      padSliceOp([x], { axis: 1, start: 1, end: 4, dim: 5 }),
      concat([x, y], 0),
      mul(s0, s1),
      matmul(x, W),
      matmul(x, y, { transposeB: true }),
      x.matmul(W.transpose(), { transposeB: true }),
      affine(x, W, randn([4], { seed: 14, ...f64 })),
      // the derivative ops (what relu, sigmoid and tanh record under createGraph)
      ops.reluGrad([y, x]),
      ops.sigmoidGrad([y, x]),
      ops.tanhGrad([y, x]),
      x.square(),
      x.clone(),
      x.sin(),
      x.cos(),
      x.softplus(),
      x.elu(),
      x.leakyRelu(),
      x.normalCdf(),
      x.gelu(),
      x.clamp(-0.5, 0.5),
      x.cumsum(1),
      x.variance({ axis: 1 }),
      s0.reshape([2]).outer(s1.sum({ axis: 0 })),
      // numpy indexing (stridedSlice, then a reshape), gather, and their adjoints
      x.getItem(1, sliceIndex(null, null, -2), null),
      x.gather([2, 0, 2], 1),
      ops.padStrided([x], { starts: [0, 4], steps: [2, -2], shape: [3, 5] }),
      ops.scatterAdd([x], { indices: [1, 1, 0], indexShape: [3], axis: 1, dim: 2 }),
      // selection by a bool mask, and the floor remainder
      where(greater(x, 0), x, y),
      x.mod(pos),
    ];
    let loss: Tensor = sum(parts[0]!);
    for (const p of parts.slice(1)) loss = add(loss, sum(p));
    const outputs = [loss, b1, x];
    const s = snapshot(outputs, { params: { x, y, W } });
    const opNames = new Set(s.nodes.flatMap((n) => (n.kind === "op" ? [n.op] : [])));
    for (const op of Object.values(ops)) expect(opNames, op.opName).toContain(op.opName);
    expect(s.nodes.filter((n) => n.kind === "output").length).toBe(3);
    expect(s.nodes.find((n) => n.id === "out1")).toMatchObject({ source: "op1", slot: 1 });
    expect(s.nodes.find((n) => n.id === "out2")).toMatchObject({ source: "leaf0" });

    for (const options of [{}, { showSaved: true, showGrad: true, rankdir: "LR" as const, highlight: "op3" }]) {
      const svg = await renderSvg(toDot(s, options));
      const tree = parseSvg(svg);
      expect(countNodes(tree)).toBe(s.nodes.length);
    }
    const texts = svgTexts(parseSvg(await renderSvg(toDot(s))));
    expect(texts).toContain("out 1 → b");
    expect(texts).toContain("[2, 3] | [2, 3] float64"); // branch: two outputs
  });

  it("highlights the op a gradcheck fault names", () => {
    // x², with a backward that forgets the factor 2
    const badSquare = defineOp({
      name: "badSquare",
      inputs: ["x"],
      forward([x], _attrs, ctx) {
        const out = ctx.alloc(x.shape);
        for (let i = 0; i < x.data.length; i++) out.data[i] = x.data[i]! * x.data[i]!;
        ctx.saveInputs(0);
        return out;
      },
      backward(gy, ctx) {
        return [mul(gy, ctx.input(0))];
      },
    });
    const f = (a: Tensor, b: Tensor): Tensor => {
      const h = tanh(mul(a, b));
      const sq = badSquare([h]);
      return sum(add(sq, badSquare([a])));
    };
    const a = randn([2, 3], { seed: 5, ...f64 });
    const b = randn([2, 3], { seed: 6, ...f64 });
    const report = gradcheck(f, [a, b]);
    expect(report.passed).toBe(false);
    expect(report.fault).toMatchObject({ op: "badSquare" });

    // the user's own recording of the same function, with creation sites
    const ua = tensor(a.data.slice(), { shape: a.shape, requiresGrad: true });
    const ub = tensor(b.data.slice(), { shape: b.shape, requiresGrad: true });
    const out = withCreationSites(() => f(ua, ub));
    const s = snapshot(out, { params: { a: ua, b: ub } });
    const squares = s.nodes.filter((n): n is SnapshotOpNode => n.kind === "op" && n.op === "badSquare");
    expect(squares.length).toBe(2);
    const faultId = resolveNode(s, report.fault!);
    expect(faultId).toBe(squares[0]!.id);
    expect(squares[0]!.site).toBe(report.fault!.site);
    expect(squares[0]!.site).toMatch(/graph\.test\.ts/);

    const dot = toDot(s, { highlight: report.fault });
    const hit = nodeLine(dot, faultId);
    expect(hit).toContain('color="red"');
    expect(hit).toContain('fillcolor="mistyrose"');
    expect(hit).toContain('style="filled,bold"');
    for (const n of s.nodes) if (n.id !== faultId) expect(nodeLine(dot, n.id)).not.toContain('color="red"');
    // a passing report's fault is null: nothing highlighted
    expect(toDot(s, { highlight: null })).toBe(toDot(s));
    expect(toDot(s, { highlight: [null] })).toBe(toDot(s));

    // live objects of the graph the snapshot was taken of: a Node, its live id, a Tensor
    const lastOp = s.nodes.filter((n) => n.kind === "op").at(-1)!.id;
    expect(resolveNode(s, out.creator!)).toBe(lastOp);
    expect(resolveNode(s, out.creator!.id)).toBe(lastOp);
    expect(resolveNode(s, out)).toBe(lastOp);
    expect(resolveNode(s, ua)).toBe("leaf0");
    expect(resolveNode(s, "b")).toBe("leaf1");
    const live = toDot(out, { params: { a: ua, b: ub }, highlight: [out.creator!, ub] });
    expect(nodeLine(live, lastOp)).toContain('color="red"');
    expect(nodeLine(live, "leaf1")).toContain('color="red"');
    expect(nodeLine(live, "leaf0")).not.toContain('color="red"');
  });
});

// ---------------------------------------------------------------------------------------------

describe("errors", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = sum(x);

  it("names the function and the argument", async () => {
    expect(() => snapshot("x" as unknown as Tensor)).toThrow(ArgumentError);
    expect(() => snapshot("x" as unknown as Tensor)).toThrow(/^snapshot: outputs must be a Tensor/);
    expect(() => snapshot([y, 3 as unknown as Tensor])).toThrow(
      /snapshot: outputs\[1\] must be a Tensor, got number 3/,
    );
    expect(() => snapshot([])).toThrow(/snapshot: outputs must hold at least one tensor/);
    expect(() => snapshot(y, { params: { W: 3 as unknown as Tensor } })).toThrow(
      /snapshot: options.params\["W"\] must be a Tensor/,
    );
    expect(() => snapshot(y, { params: new Map([["W", null as unknown as Tensor]]) })).toThrow(ArgumentError);
    expect(() => snapshot(y, { groups: [{ name: 1 as unknown as string }] })).toThrow(
      /snapshot: options.groups\[0\].name must be a string/,
    );
    expect(() => toDot(y, { rankdir: "XY" as "TB" })).toThrow(/toDot: options.rankdir must be one of "TB", "LR"/);
    expect(() => toDot(y, { showSaved: "yes" as unknown as boolean })).toThrow(/toDot: options.showSaved/);
    expect(() => toDot(snapshot(y), { params: { x } })).toThrow(/toDot: options.params and options.groups/);
    expect(() => toDot({ nodes: [] } as unknown as GraphSnapshot)).toThrow(/toDot: source must be/);
    expect(() => toDot(y, { params: { x: "x" as unknown as Tensor } })).toThrow(/toDot: options.params\["x"\]/);
    expect(() => toDot(y, { highlight: "nope" })).toThrow(/toDot: "nope" \(neither a node id nor a parameter name\)/);
    expect(() => toDot(y, { highlight: { nodeId: -1 } })).toThrow(/toDot: \{ nodeId: -1 \}/);
    expect(() => groupsFromLayers([{ name: "L" } as unknown as { name: string; params: Tensor[] }])).toThrow(
      /groupsFromLayers: layers\[0\]/,
    );
    const broken = produce(snapshot(y), (d) => {
      d.edges[0]!.from = "ghost";
    });
    expect(() => toDot(broken)).toThrow(/toDot: edge "e0" refers to unknown node "ghost"/);
    await expect(renderSvg(3 as unknown as string)).rejects.toThrow(ArgumentError);
    await expect(renderSvg("digraph { a -> }")).rejects.toThrow(RenderError);
    await expect(renderSvg("digraph { a -> }")).rejects.toThrow(
      /^renderSvg: Graphviz could not render the graph: syntax error/,
    );
    await expect(renderSvg("digraph { a -> }")).rejects.toBeInstanceOf(GradgraphError);
    await expect(renderSvg("digraph { a }", { engine: "nope" })).rejects.toThrow(/renderSvg: options.engine/);
  });
});

// ---------------------------------------------------------------------------------------------

describe("a 3,000-node graph", () => {
  it("snapshots, exports and renders a chain of 1,500 add/mul pairs", async () => {
    const x = randn([2, 2], { seed: 1, requiresGrad: true });
    let h = x;
    for (let i = 0; i < 1500; i++) h = mul(add(h, 0.5), 0.5);
    const t0 = performance.now();
    const s = snapshot(h, { params: { x } });
    const t1 = performance.now();
    const dot = toDot(s);
    const t2 = performance.now();
    const svg = await renderSvg(dot);
    const t3 = performance.now();
    expect(s.nodes.length).toBe(3002);
    expect(svg.match(/<g id="node\d+" class="node">/g)?.length).toBe(3002);
    expect(XMLValidator.validate(svg)).toBe(true);
    console.log(
      `3,002-node chain: snapshot ${(t1 - t0).toFixed(1)} ms, toDot ${(t2 - t1).toFixed(1)} ms (${dot.length} chars), renderSvg ${(t3 - t2).toFixed(1)} ms (${svg.length} chars)`,
    );
  });

  it("snapshots, exports and renders a deep MLP with a cluster per layer", async () => {
    const layers: { name: string; params: Tensor[] }[] = [];
    const outputs: Tensor[] = [];
    let h = randn([2, 4], { seed: 2 });
    // 600 Affine+ReLU blocks: 3 ops and 2 params each, 3,000 nodes in 600 clusters, plus the loss
    for (let i = 0; i < 600; i++) {
      const W = randn([4, 4], { seed: 100 + i, requiresGrad: true });
      const b = randn([4], { seed: 1000 + i, requiresGrad: true });
      h = relu(add(matmul(h, W), b));
      layers.push({ name: "Block", params: [W, b] });
      outputs.push(h);
    }
    const loss = sum(h);
    const t0 = performance.now();
    const s = snapshot(loss, { groups: groupsFromLayers(layers, outputs) });
    const t1 = performance.now();
    const dot = toDot(s);
    const t2 = performance.now();
    const svg = await renderSvg(dot);
    const t3 = performance.now();
    expect(s.nodes.length).toBe(3002);
    expect(s.groups.every((g) => g.members.length === 5)).toBe(true);
    expect(svg.match(/<g id="node\d+" class="node">/g)?.length).toBe(3002);
    console.log(
      `3,002-node MLP, 600 clusters: snapshot ${(t1 - t0).toFixed(1)} ms, toDot ${(t2 - t1).toFixed(1)} ms, renderSvg ${(t3 - t2).toFixed(1)} ms`,
    );
  });
});
