/**
 * Fuzz cases for every public export of @gradgraph/viz (issue 7, "bad input never crashes"):
 * snapshots, DOT export, graphlib queries, SVG rendering, the plots and the report page, called
 * with junk outputs and options, hostile strings, forged or edited snapshots, NaN/Inf and empty
 * loss lists. Run by fuzz-api.test.ts in the watchdog's worker thread (a hang fails its test with
 * the input), so this module must not import vitest. Rendering is slow: those cases run a few times.
 */
import { Graph } from "@dagrejs/graphlib";
import { type Tensor, tensor } from "@gradgraph/core";
import { add, branch, matmul, mul, sigmoid, softmaxCrossEntropy, sum } from "@gradgraph/nodes";
import fc from "fast-check";
import { produce } from "immer";
import { junkArb, oddTensor, sparseArb } from "../../core/test/fuzz-helpers.js";
import type { FuzzCases } from "../../core/test/watchdog.js";
import * as viz from "../src/index.js";

type AnyFn = (...args: unknown[]) => unknown;

/** Mostly `valid`, sometimes `bad`. */
function mostly(valid: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: bad });
}

// ------------------------------------------------------------------------------------------------
// graphs

/** A recorded graph: its outputs, named params and layer-like groups. */
interface Recorded {
  readonly outputs: Tensor[];
  readonly params: Record<string, Tensor>;
  readonly layers: { name: string; params: Tensor[] }[];
  readonly hidden: Tensor;
}

function recordGraph(kind: number, released: boolean): Recorded {
  const W = tensor(
    [
      [0.1, -0.2],
      [0.3, 0.4],
    ],
    { requiresGrad: true },
  );
  const b = tensor([0.5, -0.5], { requiresGrad: true });
  const x = tensor([
    [1, 2],
    [3, 4],
  ]);
  const h = add(matmul(x, W), b);
  let outputs: Tensor[];
  switch (kind) {
    case 0:
      outputs = [softmaxCrossEntropy(sigmoid(h), [0, 1])];
      break;
    case 1: {
      const [p, q] = branch(h, 2) as [Tensor, Tensor];
      outputs = [sum(mul(p, q)), q];
      break;
    }
    case 2:
      outputs = [W]; // a leaf as the output
      break;
    default:
      outputs = [sum(h)];
  }
  if (released && outputs[0]!.creator !== null) outputs[0]!.backward();
  return { outputs, params: { W, b }, layers: [{ name: "Affine", params: [W, b] }], hidden: h };
}

const recordedArb: fc.Arbitrary<Recorded> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.boolean())
  .map(([k, r]) => recordGraph(k, r));

/** Strings meant to break DOT, HTML or SVG output. */
const hostileArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    '"; evil [label="x"] //',
    "\\N\\G\\L\\",
    "line\nbreak\r\ttab\u0000nul",
    "\ud800lone surrogate",
    "<script>alert(1)</script>",
    "]]></svg><svg onload=alert(1)>",
    "{}[]=;->--",
    "x".repeat(5000),
    "valueOf",
    "constructor",
    "__proto__",
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
);

/** A snapshot's options: mostly params and groups from the recorded graph. */
function snapshotOptionsArb(r: Recorded): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 8,
      arbitrary: fc.record(
        {
          params: mostly(
            fc.constantFrom<unknown>(r.params, new Map(Object.entries(r.params))),
            fc.oneof(
              fc.constant({ W: "junk" }),
              fc.constant(new Map<unknown, unknown>([[7, r.params.W]])),
              fc.constant({ [String.fromCharCode(0xd800)]: r.params.W, "a\nb": r.params.b }),
              junkArb,
            ),
          ),
          groups: mostly(
            fc.constant(viz.groupsFromLayers(r.layers, [r.hidden])),
            fc.oneof(
              fc.constant([{ name: 5 }]),
              fc.constant([{ name: "g", params: ["x"] }]),
              fc.constant([null]),
              hostileArb.map((name) => [{ name, params: [r.params.W] }]),
              junkArb,
              sparseArb,
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: junkArb },
  );
}

/** Outputs for `snapshot`/`toDot`: mostly the recorded graph's, sometimes junk. */
function outputsArb(r: Recorded): fc.Arbitrary<unknown> {
  return mostly(
    fc.constantFrom<unknown>(r.outputs[0], r.outputs),
    fc.oneof(fc.constant([]), fc.constant([r.outputs[0], "junk"]), sparseArb, junkArb, oddTensor),
  );
}

/** Edits of a valid snapshot that a user (or a JSON round trip) might make. */
const EDITS: readonly ((s: viz.GraphSnapshot) => unknown)[] = [
  (s) => s,
  (s) => JSON.parse(JSON.stringify(s)),
  (s) =>
    produce(s, (d: { nodes: unknown[] }) => {
      d.nodes.pop();
    }),
  (s) =>
    produce(s, (d: { nodes: { id: unknown }[] }) => {
      d.nodes[0]!.id = 7;
    }),
  (s) =>
    produce(s, (d: { nodes: { id: unknown }[] }) => {
      d.nodes[0]!.id = d.nodes[1]?.id ?? "x";
    }),
  (s) =>
    produce(s, (d: { nodes: unknown[] }) => {
      d.nodes[0] = null;
    }),
  (s) =>
    produce(s, (d: { nodes: { kind: unknown }[] }) => {
      d.nodes[0]!.kind = "martian";
    }),
  (s) => produce(s, (d: { nodes: Record<string, unknown>[] }) => void delete d.nodes[d.nodes.length - 1]!.shape),
  (s) =>
    produce(s, (d: { nodes: Record<string, unknown>[] }) => {
      d.nodes[0]!.group = "group99";
    }),
  (s) =>
    produce(s, (d: { nodes: Record<string, unknown>[] }) => {
      d.nodes[0]!.name = 42;
    }),
  (s) =>
    produce(s, (d: { edges: Record<string, unknown>[] }) => {
      d.edges[0] = { id: "e0", from: "nowhere" };
    }),
  (s) =>
    produce(s, (d: { edges: unknown[] }) => {
      d.edges.length = 0;
    }),
  (s) => produce(s, (d: { groups: unknown[] }) => void d.groups.push("junk")),
  (s) =>
    produce(s, (d: { outputs: unknown[] }) => {
      d.outputs = ["leaf0", 3];
    }),
  (s) => ({ ...s, nodes: "junk" }),
  (s) => ({ ...s, edges: null }),
  (s) => ({ format: s.format }),
  (s) => ({ ...s, nodes: [...s.nodes, ...s.nodes] }),
  (s) => ({ ...s, nodes: new Array(2 ** 32 - 1) }),
  (s) => ({ ...s, edges: new Array(2 ** 32 - 1) }),
  (s) => ({ ...s, groups: [{ id: "group0", kind: "group", name: 5, members: null }] }),
];

/** A snapshot, mostly valid, sometimes edited into a malformed one. */
const snapArb: fc.Arbitrary<unknown> = fc
  .tuple(recordedArb, fc.integer({ min: 0, max: EDITS.length - 1 }), fc.boolean())
  .map(([r, k, edit]) => {
    const s = viz.snapshot(r.outputs, { params: r.params, groups: viz.groupsFromLayers(r.layers, [r.hidden]) });
    return edit ? EDITS[k]!(s) : s;
  });

/** Node references for `highlight`/`resolveNode`: ids, names, nodes, tensors, live ids, junk. */
const refArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>("op0", "leaf0", "out0", "W", "b", "nope", 0, -1, 1e9, Number.NaN, null),
  fc.constant(0).map(() => recordGraph(3, false).outputs[0]), // a tensor of another graph
  fc.constant(0).map(() => recordGraph(0, false).outputs[0]!.creator), // a Node of another graph
  fc.constantFrom<unknown>(
    { nodeId: 0 },
    { nodeId: null, op: "matmul" },
    { nodeId: "x" },
    { nodeId: 1, op: 5, site: 7 },
  ),
  hostileArb,
  junkArb,
);

const dotOptionsArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 8,
    arbitrary: fc.record(
      {
        rankdir: mostly(fc.constantFrom<unknown>("TB", "LR", "BT", "RL"), fc.oneof(fc.constant("tb"), junkArb)),
        showSaved: mostly(fc.boolean(), junkArb),
        showGrad: mostly(fc.boolean(), junkArb),
        showAttrs: mostly(fc.boolean(), junkArb),
        edgeLabels: mostly(fc.boolean(), junkArb),
        showSites: mostly(fc.boolean(), junkArb),
        highlight: fc.oneof(refArb, fc.array(refArb, { maxLength: 3 }), sparseArb),
        title: mostly(hostileArb, junkArb),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junkArb },
);

// ------------------------------------------------------------------------------------------------
// results

const isString =
  (fn: string, prefix: string) =>
  (v: unknown): void => {
    if (typeof v !== "string" || !v.startsWith(prefix)) throw new Error(`${fn} returned ${String(v).slice(0, 80)}`);
  };

function checkSnapshotResult(v: unknown): void {
  if (!viz.isGraphSnapshot(v)) throw new Error("snapshot returned a non-snapshot");
  // what toDot and toGraphlib read must be well formed
  viz.toDot(v);
  viz.toGraphlib(v);
}

/** A loss list: mostly finite numbers, sometimes NaN/Inf, junk entries, empty or sparse. */
const lossListArb: fc.Arbitrary<unknown> = mostly(
  fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 20 }),
  fc.oneof(
    fc.constant([]),
    fc.array(fc.oneof(fc.double(), fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, "1", null)), {
      maxLength: 4,
    }),
    sparseArb,
    junkArb,
  ),
);

const sizeOptArb: fc.Arbitrary<unknown> = mostly(
  fc.constantFrom<unknown>(undefined, 10, 100, 10_000),
  fc.oneof(fc.constantFrom<unknown>(9, 10_001, 0, -1, Number.NaN, Number.POSITIVE_INFINITY), junkArb),
);

const spiralX = tensor([
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
]);
const svgArb: fc.Arbitrary<unknown> = mostly(
  fc.constantFrom<unknown>(
    '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
    '<?xml version="1.0"?><!DOCTYPE svg><svg><title>t</title></svg>',
  ),
  fc.oneof(
    fc.constantFrom<unknown>(
      "<svg><script>alert(1)</script></svg>",
      '<svg onload="x()"></svg>',
      '<svg><a href="https://example.com"/></svg>',
      "<svg><foreignObject/></svg>",
      '<svg style="background:url(//evil)"></svg>',
      "<div></div>",
      "",
    ),
    hostileArb,
    junkArb,
  ),
);

export const cases: FuzzCases = {
  snapshot: {
    argNames: ["outputs", "options", "params", "groups"],
    arb: recordedArb.chain((r) => fc.tuple(outputsArb(r), snapshotOptionsArb(r))),
    call: (a) => (viz.snapshot as AnyFn)(...a),
    check: checkSnapshotResult,
  },
  toDot: {
    argNames: [
      "source",
      "options",
      "snapshot",
      "outputs",
      "params",
      "groups",
      "rankdir",
      "title",
      "highlight",
      "show",
      "edgeLabels",
      "node",
    ],
    arb: fc.oneof(
      fc.tuple(snapArb, dotOptionsArb),
      recordedArb.chain((r) => fc.tuple(outputsArb(r), fc.oneof(dotOptionsArb, snapshotOptionsArb(r)))),
      fc.tuple(junkArb, dotOptionsArb),
    ),
    call: (a) => (viz.toDot as AnyFn)(...a),
    check: isString("toDot", "digraph gradgraph {\n"),
  },
  toGraphlib: {
    argNames: ["snap", "snapshot", "node", "edge"],
    arb: fc.tuple(fc.oneof(snapArb, junkArb)),
    call: (a) => (viz.toGraphlib as AnyFn)(...a),
    check: (v) => {
      if (!(v instanceof Graph)) throw new Error("toGraphlib returned a non-Graph");
    },
  },
  pathToOutput: {
    argNames: ["snap", "snapshot", "param", "output", "node", "edge"],
    arb: fc.tuple(
      fc.oneof(snapArb, junkArb),
      mostly(fc.constantFrom<unknown>("W", "b", "leaf0", "leaf1"), fc.oneof(refArb, hostileArb)),
      fc.oneof(fc.constant(undefined), fc.constantFrom<unknown>(0, 1, 2, -1, 0.5, Number.NaN, "out0", "out1", "op0")),
    ),
    call: (a) => (viz.pathToOutput as AnyFn)(...a),
    check: (v) => {
      if (v !== null && !(Array.isArray(v) && v.every((s) => typeof s === "string"))) {
        throw new Error("pathToOutput returned neither a path nor null");
      }
    },
  },
  resolveNode: {
    argNames: ["snap", "snapshot", "node", "edge", "ref"],
    arb: fc.tuple(fc.oneof(snapArb, junkArb), refArb),
    call: (a) => (viz.resolveNode as AnyFn)(...a),
    check: (v, args) => {
      const s = args[0] as viz.GraphSnapshot;
      if (typeof v !== "string" || !s.nodes.some((n) => n?.id === v))
        throw new Error(`resolveNode returned ${String(v)}`);
    },
  },
  isGraphSnapshot: {
    arb: fc.tuple(fc.oneof(snapArb, junkArb)),
    call: (a) => (viz.isGraphSnapshot as AnyFn)(...a),
    check: (v) => {
      if (typeof v !== "boolean") throw new Error("isGraphSnapshot returned a non-boolean");
    },
  },
  groupsFromLayers: {
    argNames: ["layers", "outputs"],
    arb: recordedArb.chain((r) =>
      fc.tuple(
        mostly(
          fc.constant<unknown>(r.layers),
          fc.oneof(
            fc.constant([{ name: 5, params: [] }]),
            fc.constant([{ name: "x", params: "p" }]),
            fc.constant([null]),
            sparseArb,
            junkArb,
          ),
        ),
        fc.oneof(
          fc.constant(undefined),
          fc.constant([r.hidden]),
          fc.constant([null, undefined]),
          fc.constant(["junk"]),
          sparseArb,
          junkArb,
        ),
      ),
    ),
    call: (a) => (viz.groupsFromLayers as AnyFn)(...a),
    check: (v) => {
      if (!Array.isArray(v) || v.some((g) => typeof g?.name !== "string")) throw new Error("malformed groups");
    },
  },
  renderReportHtml: {
    argNames: [
      "input",
      "title",
      "hyperParams",
      "metadata",
      "finalLoss",
      "accuracy",
      "lossSvg",
      "boundarySvg",
      "graphSvg",
      "captions",
    ],
    arb: fc
      .oneof(
        {
          weight: 8,
          arbitrary: fc.record(
            {
              title: mostly(hostileArb, junkArb),
              hyperParams: mostly(
                fc.dictionary(hostileArb, fc.oneof(hostileArb, fc.double({ noNaN: true, noDefaultInfinity: true })), {
                  maxKeys: 3,
                }),
                fc.oneof(fc.constant({ lr: Number.NaN }), fc.constant({ x: null }), junkArb),
              ),
              metadata: fc.oneof(
                fc.constant(undefined),
                fc.dictionary(hostileArb, fc.oneof(hostileArb, fc.double({ noNaN: true, noDefaultInfinity: true })), {
                  maxKeys: 3,
                }),
                fc.oneof(fc.constant({ date: Number.POSITIVE_INFINITY }), fc.constant({ commit: null }), junkArb),
              ),
              finalLoss: mostly(
                fc.double({ noNaN: true, noDefaultInfinity: true }),
                fc.oneof(fc.constant(Number.NaN), junkArb),
              ),
              accuracy: mostly(
                fc.double({ min: 0, max: 1, noNaN: true }),
                fc.oneof(fc.constantFrom(-0.1, 1.1, Number.NaN), junkArb),
              ),
              lossSvg: svgArb,
              boundarySvg: svgArb,
              graphSvg: svgArb,
              captions: fc.oneof(
                fc.constant(undefined),
                fc.record(
                  { loss: mostly(hostileArb, junkArb), graph: mostly(hostileArb, junkArb) },
                  { requiredKeys: [] },
                ),
                junkArb,
              ),
            },
            { requiredKeys: ["title", "hyperParams", "finalLoss", "accuracy", "lossSvg", "boundarySvg", "graphSvg"] },
          ),
        },
        { weight: 1, arbitrary: junkArb },
      )
      .map((input) => [input]),
    call: (a) => (viz.renderReportHtml as AnyFn)(...a),
    check: (v) => {
      isString("renderReportHtml", "<!DOCTYPE html>")(v);
      if (/<script/i.test(v as string)) throw new Error("renderReportHtml let a script through");
    },
  },
  // --- rendering: slow, so a few runs each (but every branch of the arguments is reachable)
  renderSvg: {
    argNames: ["dot", "options", "engine", "Graphviz"],
    arb: fc.tuple(
      fc.oneof(
        fc.constant(0).map(() => viz.toDot(recordGraph(0, false).outputs)),
        hostileArb.map((title) => viz.toDot(recordGraph(1, true).outputs, { title })),
        fc.constantFrom<unknown>("digraph {", "graph { a -- }", "", "strict digraph { a -> b }"),
        hostileArb,
        junkArb,
      ),
      fc.oneof(
        fc.constant(undefined),
        fc.record({ engine: mostly(fc.constantFrom<unknown>("dot", "neato"), fc.oneof(fc.constant("nope"), junkArb)) }),
        junkArb,
      ),
    ),
    call: (a) => (viz.renderSvg as AnyFn)(...a),
    check: (v) => {
      if (typeof v !== "string" || !v.includes("<svg")) throw new Error("renderSvg returned no SVG");
    },
    runs: 0.1,
  },
  "toDot→renderSvg": {
    // DOT made by toDot from hostile names must always render
    arb: fc.tuple(hostileArb, hostileArb),
    call: async ([title, name]) => {
      const r = recordGraph(0, false);
      const dot = viz.toDot(r.outputs, {
        title: title as string,
        params: { [name as string]: r.params.W! },
        groups: [{ name: name as string, params: [r.params.b!] }],
      });
      return viz.renderSvg(dot);
    },
    check: (v) => {
      if (typeof v !== "string" || !v.includes("<svg")) throw new Error("renderSvg returned no SVG");
    },
    names: ["toDot"],
    runs: 0.05,
  },
  lossPlotSvg: {
    argNames: ["lossList", "options", "evalInterval", "title", "width", "height"],
    arb: fc.tuple(
      lossListArb,
      fc.oneof(
        fc.constant(undefined),
        fc.record(
          {
            evalInterval: mostly(
              fc.integer({ min: 1, max: 100 }),
              fc.oneof(fc.constantFrom<unknown>(0, 1.5, 2 ** 60), junkArb),
            ),
            title: mostly(hostileArb, junkArb),
            width: sizeOptArb,
            height: sizeOptArb,
          },
          { requiredKeys: [] },
        ),
        junkArb,
      ),
    ),
    call: (a) => (viz.lossPlotSvg as AnyFn)(...a),
    check: isString("lossPlotSvg", "<svg"),
    runs: 0.1,
  },
  decisionBoundarySvg: {
    arb: fc
      .record(
        {
          predict: mostly(
            fc.constantFrom<unknown>(
              (g: Tensor) =>
                matmul(
                  g,
                  tensor([
                    [1, -1, 0],
                    [0, 1, -1],
                  ]),
                ),
              (g: Tensor) => matmul(g, tensor([[1], [2]])),
            ),
            fc.constantFrom<unknown>(
              () => "junk",
              () => tensor([1, 2]),
              (g: Tensor) => mul(g, Number.NaN),
              (g: Tensor) => g.toArray(),
              5,
            ),
          ),
          x: mostly(fc.constant(spiralX), fc.oneof(oddTensor, fc.constant(tensor([[Number.NaN, 0]])), junkArb)),
          labels: mostly(
            fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }),
            fc.oneof(
              fc.constant([0, 1, 2, 9]),
              fc.constant([0.5, 0, 0, 0]),
              fc.constant(["0", 0, 0, 0]),
              sparseArb,
              junkArb,
            ),
          ),
          resolution: mostly(
            fc.integer({ min: 2, max: 6 }),
            fc.oneof(fc.constantFrom<unknown>(1, 401, 2.5, Number.NaN), junkArb),
          ),
          margin: mostly(
            fc.constantFrom<unknown>(0, 0.1, 3),
            fc.oneof(fc.constantFrom<unknown>(-1, Number.NaN, Number.POSITIVE_INFINITY), junkArb),
          ),
          title: mostly(hostileArb, junkArb),
          classNames: mostly(
            fc.constant(undefined),
            fc.oneof(fc.constant(["a"]), fc.constant(["a", "a", "a"]), fc.constant([1, 2, 3]), sparseArb, junkArb),
          ),
          width: sizeOptArb,
          height: sizeOptArb,
        },
        { requiredKeys: ["predict", "x", "labels"] },
      )
      .map((o) => [o]),
    call: (a) => (viz.decisionBoundarySvg as AnyFn)(...a),
    check: isString("decisionBoundarySvg", "<svg"),
    runs: 0.1,
  },
  "decisionBoundarySvg (junk options)": {
    arb: fc.tuple(junkArb),
    call: (a) => (viz.decisionBoundarySvg as AnyFn)(...a),
    check: isString("decisionBoundarySvg", "<svg"),
    names: ["decisionBoundarySvg"],
  },
};

/** Exports that are not fuzzed, and why. */
export const NOT_FUZZED: Readonly<Record<string, string>> = {
  RenderError: "an error class",
};
