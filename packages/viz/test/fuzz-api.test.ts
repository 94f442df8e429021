/**
 * Issue 7, "bad input never crashes", for @gradgraph/viz: every public export is called with
 * junk outputs and options, hostile strings, forged snapshots and NaN/Inf or empty loss lists
 * (fuzz-api.cases.ts). Each call must return a well-formed result or throw a GradgraphError
 * naming the function and the argument. The cases run in the watchdog's worker thread, so a call
 * that hangs fails its test with the input.
 */
import { tensor } from "@gradgraph/core";
import { mul } from "@gradgraph/nodes";
import { afterAll, describe, expect, it } from "vitest";
import { RUNS } from "../../core/test/fuzz-helpers.js";
import { FuzzWatchdog } from "../../core/test/watchdog.js";
import * as viz from "../src/index.js";
import { cases, NOT_FUZZED } from "./fuzz-api.cases.js";

const watchdog = new FuzzWatchdog(new URL("./fuzz-api.cases.ts", import.meta.url));
afterAll(() => watchdog.close());

describe("fuzz: every public export of @gradgraph/viz", () => {
  it("has a case for every exported function and class", () => {
    const exported = Object.entries(viz)
      .filter(([, v]) => typeof v === "function")
      .map(([k]) => k);
    expect(exported.filter((k) => !(k in cases) && !(k in NOT_FUZZED))).toEqual([]);
  });

  for (const name of Object.keys(cases)) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => watchdog.run(name, RUNS));
  }
});

// ------------------------------------------------------------------------------------------------
// one focused assertion per bug the fuzzer found, on the message

const recorded = () => {
  const W = tensor([[1, 2]], { requiresGrad: true });
  return { W, out: mul(W, 2) };
};

describe("fuzz regressions", () => {
  it("sparse arrays fail at their first hole at once, instead of a TypeError or a minute of skipped holes", () => {
    const t0 = performance.now();
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => viz.snapshot([, recorded().out] as never)).toThrow(
      /^snapshot: outputs\[0\] must be a Tensor, got undefined/,
    );
    expect(() => viz.snapshot(new Array(2 ** 32 - 1))).toThrow(/^snapshot: outputs\[0\] must be a Tensor/);
    expect(() => viz.groupsFromLayers(new Array(2 ** 32 - 1))).toThrow(
      /^groupsFromLayers: layers\[0\] must have a string name/,
    );
    const r = recorded();
    expect(() => viz.toDot(r.out, { highlight: new Array(2 ** 32 - 1) })).toThrow(
      /^toDot: options\.highlight has 4294967295 entries, more than the 1000000 supported/,
    );
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("groupsFromLayers names a non-tensor parameter itself", () => {
    expect(() => viz.groupsFromLayers([{ name: "x", params: ["p" as never] }])).toThrow(
      /^groupsFromLayers: layers\[0\]\.params\[0\] must be a Tensor, got string "p"/,
    );
  });

  it("a malformed snapshot is an ArgumentError naming the entry, not a TypeError or a stack overflow", () => {
    const r = recorded();
    const snap = viz.snapshot(r.out, { params: { W: r.W } });
    const edit = (f: (n: Record<string, unknown>) => object) =>
      ({ ...snap, nodes: snap.nodes.map((n, i) => (i === 0 ? f(n as never) : n)) }) as never;
    expect(() => viz.toDot(edit((n) => ({ ...n, shape: undefined })))).toThrow(
      /^toDot: malformed snapshot: node "leaf0" \(nodes\[0\]\) has a shape that is not an array/,
    );
    expect(() => viz.toDot(edit((n) => ({ ...n, name: 42 })))).toThrow(
      /^toDot: malformed snapshot: node "leaf0" .* name/,
    );
    expect(() => viz.toDot(edit((n) => ({ ...n, kind: "martian" })))).toThrow(/has an unknown kind string "martian"/);
    expect(() => viz.pathToOutput({ ...snap, outputs: null } as never, "W")).toThrow(
      /^pathToOutput: malformed snapshot: outputs must be an array/,
    );
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => viz.toGraphlib({ ...snap, edges: [,] } as never)).toThrow(
      /^toGraphlib: malformed snapshot: edges\[0\]/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const withAttrs = { ...snap, nodes: snap.nodes.map((n) => (n.kind === "op" ? { ...n, attrs: cyclic } : n)) };
    expect(() => viz.toDot(withAttrs as never)).toThrow(/has attrs that are not JSON data of depth at most 8/);
    expect(viz.toDot(JSON.parse(JSON.stringify(snap)))).toBe(viz.toDot(snap));
  });

  it("toDot never writes a label that starts with a line break (Graphviz WASM traps on it)", () => {
    const r = recorded();
    const dot = viz.toDot(r.out, { params: { "": r.W } });
    expect(dot).toContain('"leaf0" [label="\\"\\"\\n[1, 2] float32"');
    expect(dot).not.toMatch(/label="\\n/);
  });

  it("lossPlotSvg: null options mean none; holes are named; vega's failures are RenderErrors", async () => {
    expect(await viz.lossPlotSvg([1, 2], null as never)).toMatch(/^<svg/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    await expect(viz.lossPlotSvg([, 1] as never)).rejects.toThrow(
      /^lossPlotSvg: lossList\[0\] must be a finite number, got undefined/,
    );
    // vega used to fail on these: text equal to an Object.prototype member, a subnormal span
    expect(await viz.lossPlotSvg([1], { title: "valueOf" })).toContain("<title>valueOf</title>");
    expect(await viz.lossPlotSvg([-1e-323, -3e-323])).toMatch(/^<svg/);
    await expect(
      viz.decisionBoundarySvg({
        predict: (g) => mul(g, 1),
        x: tensor([
          [0, 0],
          [1, 1],
        ]),
        labels: [0, 1],
        resolution: 2,
        // biome-ignore lint/suspicious/noSparseArray: the hole is the point
        classNames: [, "b"] as never,
      }),
    ).rejects.toThrow(/^decisionBoundarySvg: classNames\[0\] must be a string, got undefined/);
  });
});
