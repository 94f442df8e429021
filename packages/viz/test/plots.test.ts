import { ArgumentError, isGradEnabled, ShapeError, Tensor, tensor } from "@gradgraph/core";
import { loadSpiral, TwoLayerNet } from "@gradgraph/nn";
import { instance } from "@viz-js/viz";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { decisionBoundarySvg, lossPlotSvg } from "../src/plots/index.js";
import { roundSvgNumbers, stabilizeSvgIds } from "../src/plots/vega.js";
import { renderReportHtml } from "../src/report.js";

/** An XML element as fast-xml-parser gives it here: child elements in arrays by tag, attributes as `@_name`, text as `#text`. */
type XmlNode = { [key: string]: XmlNode[] | string | undefined };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  alwaysCreateTextNode: true,
  textNodeName: "#text",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
});

/** Parses an SVG string after checking it is well-formed XML; returns the root `<svg>` element. */
function parseSvg(svg: string): XmlNode {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = parser.parse(svg) as XmlNode;
  const roots = doc.svg as XmlNode[] | undefined;
  expect(roots).toHaveLength(1);
  return roots![0]!;
}

/** Every element named `tag` under `node` (depth first), with its own children. */
function findAll(node: XmlNode, tag: string, out: XmlNode[] = []): XmlNode[] {
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("@_") || key === "#text" || !Array.isArray(value)) continue;
    for (const child of value) {
      if (key === tag) out.push(child);
      findAll(child, tag, out);
    }
  }
  return out;
}

/** The `<g>` groups whose class list contains all of `classes`. */
function groups(root: XmlNode, ...classes: string[]): XmlNode[] {
  return findAll(root, "g").filter((g) => {
    const cls = String(g["@_class"] ?? "").split(/\s+/);
    return classes.every((c) => cls.includes(c));
  });
}

/** The text content of the `<text>` elements under `node`, in document order. */
function texts(node: XmlNode): string[] {
  return findAll(node, "text").map(textOf);
}

/** The text content of an element without child elements (entities decoded). */
function textOf(node: XmlNode): string {
  const v = node["#text"];
  return Array.isArray(v) ? v.join("") : String(v ?? "");
}

/** The root's `<title>` text. */
function titleOf(root: XmlNode): string {
  return textOf((root.title as XmlNode[])[0]!);
}

/** The `<path>` children of a group. */
function paths(g: XmlNode): XmlNode[] {
  return (g.path as XmlNode[] | undefined) ?? [];
}

describe("lossPlotSvg", () => {
  const losses = Array.from({ length: 30 }, (_, i) => 1.1 * Math.exp(-i / 8) + 0.05);

  it("draws one line with a vertex per entry, axes with ticks and titles, and the title", async () => {
    const svg = await lossPlotSvg(losses, { evalInterval: 10 });
    const root = parseSvg(svg);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(titleOf(root)).toBe("Training loss");
    const line = groups(root, "mark-line", "role-mark");
    expect(line).toHaveLength(1);
    expect(paths(line[0]!)).toHaveLength(1);
    const d = String(paths(line[0]!)[0]!["@_d"]);
    expect(d.match(/[ML]/g)).toHaveLength(30);
    expect(texts(groups(root, "role-title-text")[0]!)).toEqual(["Training loss"]);
    const axisTitles = groups(root, "role-axis-title").flatMap(texts);
    expect(axisTitles).toEqual(["iteration", "loss"]);
    const [xLabels, yLabels] = groups(root, "role-axis-label").map(texts) as [string[], string[]];
    // x is index · evalInterval: 0 … 290, ticks in whole iterations.
    expect(xLabels[0]).toBe("0");
    expect(xLabels).toContain("100");
    expect(xLabels.every((s) => /^\d+$/.test(s))).toBe(true);
    expect(Number(xLabels.at(-1))).toBeGreaterThanOrEqual(290);
    expect(yLabels.length).toBeGreaterThanOrEqual(3);
    expect(yLabels.every((s) => Number.isFinite(Number(s)))).toBe(true);
    expect(groups(root, "role-axis-tick")).toHaveLength(2);
    expect(svg.length).toBeLessThan(40_000);
  });

  it("is deterministic, whatever was rendered before", async () => {
    const a = await lossPlotSvg(losses, { evalInterval: 10, title: "run A" });
    await decisionBoundarySvg({ predict: halfPlanes, x: tensor([[0, 0]]), labels: [0], resolution: 4 });
    const b = await lossPlotSvg(losses, { evalInterval: 10, title: "run A" });
    expect(b).toBe(a);
  });

  it("takes a title, sizes, and marks a single entry with a point", async () => {
    const svg = await lossPlotSvg([0.7], { title: "One <step> & more", width: 200, height: 120 });
    const root = parseSvg(svg);
    expect(titleOf(root)).toBe("One <step> & more");
    expect(texts(groups(root, "role-title-text")[0]!)).toEqual(["One <step> & more"]);
    expect(svg).toContain("<title>One &lt;step&gt; &amp; more</title>");
    expect(paths(groups(root, "mark-symbol", "role-mark")[0]!)).toHaveLength(1);
    expect(svg).toContain('<path class="background" aria-hidden="true" d="M0.5,0.5h200v120h-200Z"');
  });

  it("rejects bad input with ArgumentErrors naming the function and the argument", async () => {
    const bad: [unknown, unknown, RegExp][] = [
      [[], undefined, /^lossPlotSvg: lossList must not be empty$/],
      ["1,2", undefined, /^lossPlotSvg: lossList must be an array of numbers, got string/],
      [[1, Number.NaN], undefined, /^lossPlotSvg: lossList\[1\] must be a finite number, got number NaN/],
      [[1, "2"], undefined, /^lossPlotSvg: lossList\[1\] must be a finite number, got string/],
      [[1, Number.POSITIVE_INFINITY], undefined, /lossList\[1\] must be a finite number/],
      [[1], { evalInterval: 0 }, /^lossPlotSvg: evalInterval must be a positive integer, got number 0/],
      [[1], { evalInterval: 2.5 }, /evalInterval must be a positive integer/],
      [[1], { width: -3 }, /^lossPlotSvg: width must be a number of pixels in \[10, 10000\]/],
      [[1], { height: Number.NaN }, /^lossPlotSvg: height must be a number of pixels/],
      [[1], { title: 42 }, /^lossPlotSvg: title must be a string, got number 42/],
    ];
    for (const [list, options, message] of bad) {
      const call = lossPlotSvg(list as number[], options as object);
      await expect(call).rejects.toThrow(message);
      await expect(call).rejects.toBeInstanceOf(ArgumentError);
    }
  });
});

/** Two classes split at x = 0: scores (−x, x). */
function halfPlanes(g: Tensor): Tensor {
  const n = g.shape[0]!;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = -g.data[2 * i]!;
    out[2 * i + 1] = g.data[2 * i]!;
  }
  return new Tensor(out, [n, 2]);
}

describe("decisionBoundarySvg", () => {
  const x = tensor([
    [-1, -1],
    [-0.5, 0.5],
    [0.5, -0.5],
    [1, 1],
    [0.8, 0.1],
  ]);
  const labels = [0, 0, 1, 1, 1];

  it("shades the grid by arg-max class and marks one symbol per point, shape and colour by class", async () => {
    const calls: { shape: number[]; dtype: string; grad: boolean }[] = [];
    const predict = (g: Tensor) => {
      calls.push({ shape: [...g.shape], dtype: g.dtype, grad: isGradEnabled() });
      return halfPlanes(g);
    };
    const svg = await decisionBoundarySvg({ predict, x, labels, resolution: 20 });
    expect(calls).toEqual([{ shape: [400, 2], dtype: "float32", grad: false }]);
    const root = parseSvg(svg);
    expect(titleOf(root)).toBe("Decision boundary");
    expect(texts(groups(root, "role-title-text")[0]!)).toEqual(["Decision boundary"]);
    expect(groups(root, "role-axis-title").flatMap(texts)).toEqual(["x₁", "x₂"]);
    const [xLabels, yLabels] = groups(root, "role-axis-label").map(texts) as [string[], string[]];
    expect(xLabels).toContain("0.0");
    expect(yLabels).toContain("0.0");
    expect(xLabels.map((s) => Number(s.replace("−", "-"))).every(Number.isFinite)).toBe(true);
    // Regions: each of the 20 rows is one run of class 0 (x < 0) and one of class 1.
    const rects = paths(groups(root, "mark-rect", "role-mark")[0]!);
    expect(rects).toHaveLength(40);
    const regionFills = rects.map((p) => String(p["@_fill"]));
    expect(new Set(regionFills).size).toBe(2);
    expect(rects.every((p) => Number(p["@_opacity"]) < 0.5)).toBe(true);
    // Points: one symbol each, coloured and shaped by label.
    const symbols = paths(groups(root, "mark-symbol", "role-mark")[0]!);
    expect(symbols).toHaveLength(5);
    const fills = symbols.map((p) => String(p["@_fill"]));
    const shapes = symbols.map((p) => String(p["@_d"]));
    expect(fills[0]).toBe(fills[1]);
    expect(fills[2]).toBe(fills[3]);
    expect(fills[0]).not.toBe(fills[2]);
    expect(shapes[0]).toBe(shapes[1]);
    expect(shapes[0]).not.toBe(shapes[2]);
    expect(new Set(regionFills)).toEqual(new Set(fills));
    // The legend names the classes.
    expect(groups(root, "role-legend-label").flatMap(texts)).toEqual(["class 0", "class 1"]);
  });

  it("covers the data's range plus the margin, and is deterministic", async () => {
    const seen: number[][] = [];
    const predict = (g: Tensor) => {
      seen.push(Array.from(g.data));
      return halfPlanes(g);
    };
    const a = await decisionBoundarySvg({ predict, x, labels, resolution: 4, margin: 0.25, title: "t", width: 120 });
    const b = await decisionBoundarySvg({ predict, x, labels, resolution: 4, margin: 0.25, title: "t", width: 120 });
    expect(b).toBe(a);
    // x spans [-1, 1] → [-1.5, 1.5] in 4 cells of 0.75: centres -1.125, -0.375, 0.375, 1.125.
    expect(seen[0]!.filter((_, i) => i % 2 === 0 && i < 8)).toEqual([-1.125, -0.375, 0.375, 1.125]);
    expect(seen[0]!.filter((_, i) => i % 8 === 1)).toEqual([-1.125, -0.375, 0.375, 1.125]);
  });

  it("draws the trained spiral net over the 300 spiral points with three classes and shapes", async () => {
    const { x: sx, labels: sl } = loadSpiral({ seed: 1984 });
    const model = new TwoLayerNet(2, 10, 3, { seed: 1 });
    const t0 = performance.now();
    const svg = await decisionBoundarySvg({
      predict: (g) => model.predict(g),
      x: sx,
      labels: sl,
      classNames: ["arm A", "arm B", "arm C"],
    });
    const ms = performance.now() - t0;
    const root = parseSvg(svg);
    const symbols = paths(groups(root, "mark-symbol", "role-mark")[0]!);
    expect(symbols).toHaveLength(300);
    expect(new Set(symbols.map((p) => String(p["@_fill"]))).size).toBe(3);
    expect(new Set(symbols.map((p) => String(p["@_d"]))).size).toBeGreaterThanOrEqual(3);
    expect(groups(root, "role-legend-label").flatMap(texts)).toEqual(["arm A", "arm B", "arm C"]);
    expect(paths(groups(root, "mark-rect", "role-mark")[0]!).length).toBeGreaterThanOrEqual(100);
    expect(svg.length).toBeLessThan(400_000);
    expect(ms).toBeLessThan(10_000);
  });

  it("rejects bad input with gradgraph errors by message", async () => {
    const ok = { predict: halfPlanes, x, labels, resolution: 4 };
    const bad: [Record<string, unknown>, typeof ArgumentError, RegExp][] = [
      [{ predict: 3 }, ArgumentError, /^decisionBoundarySvg: predict must be a function, got number 3/],
      [{ x: [[0, 0]] }, ArgumentError, /^decisionBoundarySvg: x must be a Tensor, got array\(1\)/],
      [{ x: tensor([[1, 2, 3]]) }, ShapeError, /^decisionBoundarySvg: x must be N×2 with N ≥ 1, got shape \[1, 3\]/],
      [{ x: tensor([[0, Number.NaN]]), labels: [0] }, ArgumentError, /x\[0, 1\] must be finite, got NaN/],
      [{ labels: [0, 1] }, ShapeError, /^decisionBoundarySvg: 2 labels for 5 points of x/],
      [{ labels: 7 }, ArgumentError, /labels must be an array of class indices, got number 7/],
      [{ labels: [0, 0, 2, 1, 1] }, ArgumentError, /labels\[2\] must be a class index in \[0, 2\) .*got number 2/],
      [{ labels: [0, 0, 0.5, 1, 1] }, ArgumentError, /labels\[2\] must be a class index/],
      [{ resolution: 1 }, ArgumentError, /resolution must be an integer in \[2, 400\], got number 1/],
      [{ resolution: 2.5 }, ArgumentError, /resolution must be an integer/],
      [{ margin: -1 }, ArgumentError, /margin must be a finite number ≥ 0, got number -1/],
      [{ width: 0 }, ArgumentError, /width must be a number of pixels/],
      [{ title: null }, ArgumentError, /title must be a string, got null/],
      [{ classNames: ["a"] }, ArgumentError, /classNames must be at least 2 strings/],
      [{ classNames: ["a", "a"] }, ArgumentError, /classNames must be distinct/],
      [{ predict: () => "no" }, ArgumentError, /predict must return a Tensor, got string/],
      [
        { predict: () => tensor([[1, 2]]) },
        ShapeError,
        /predict must return 16×C scores for the 16 grid points, got shape \[1, 2\]/,
      ],
      [
        { predict: (g: Tensor) => new Tensor(new Float32Array(g.shape[0]! * 2).fill(Number.NaN), [g.shape[0]!, 2]) },
        ArgumentError,
        /predict returned a non-finite score NaN at row 0, column 0/,
      ],
    ];
    for (const [patch, type, message] of bad) {
      const call = decisionBoundarySvg({ ...ok, ...patch } as never);
      await expect(call).rejects.toThrow(message);
      await expect(call).rejects.toBeInstanceOf(type);
    }
    await expect(decisionBoundarySvg(null as never)).rejects.toThrow(/options must be an object, got null/);
  });
});

describe("svg helpers", () => {
  it("stabilizeSvgIds renames ids in order and rewrites their references", () => {
    const svg =
      '<svg><defs><clipPath id="clip7"><rect/></clipPath><linearGradient id="g"/></defs>' +
      '<g clip-path="url(#clip7)"><rect fill="url(#g)"/><use href="#clip7"/><use href="#other"/></g></svg>';
    expect(stabilizeSvgIds(svg, "p")).toBe(
      '<svg><defs><clipPath id="p-1"><rect/></clipPath><linearGradient id="p-2"/></defs>' +
        '<g clip-path="url(#p-1)"><rect fill="url(#p-2)"/><use href="#p-1"/><use href="#other"/></g></svg>',
    );
  });

  it("roundSvgNumbers rounds geometry attributes only", () => {
    expect(
      roundSvgNumbers('<path d="M0.123456,-2.0000001L1e-7,3.999999999" transform="translate(42.99999999999999,0)"/>'),
    ).toBe('<path d="M0.12,-2L1e-7,4" transform="translate(43,0)"/>');
    expect(roundSvgNumbers('<text x="1.23456">0.123456</text>')).toBe('<text x="1.23">0.123456</text>');
  });
});

describe("renderReportHtml", () => {
  const base = async () => ({
    title: "Spiral run",
    hyperParams: { epochs: 300, lr: 1, optimizer: "sgd" } as Record<string, string | number>,
    finalLoss: 0.123456,
    accuracy: 0.9633,
    lossSvg: await lossPlotSvg([1, 0.5, 0.25], { evalInterval: 10 }),
    boundarySvg: await decisionBoundarySvg({ predict: halfPlanes, x: tensor([[0, 1]]), labels: [1], resolution: 4 }),
    graphSvg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>',
  });

  it("has the summary, the hyper-parameters and the three figures with ids and captions", async () => {
    const input = await base();
    const html = renderReportHtml(input);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain("<title>Spiral run</title>");
    expect(html).toContain("<h1>Spiral run</h1>");
    expect(html).toContain('<dd id="final-loss">0.1235</dd>');
    expect(html).toContain('<dd id="accuracy">96.3%</dd>');
    for (const [k, v] of [
      ["epochs", "300"],
      ["lr", "1"],
      ["optimizer", "sgd"],
    ]) {
      expect(html).toContain(`<tr><th scope="row">${k}</th><td>${v}</td></tr>`);
    }
    const figures = [...html.matchAll(/<figure id="([^"]+)">([\s\S]*?)<\/figure>/g)];
    expect(figures.map((m) => m[1])).toEqual(["fig-loss", "fig-boundary", "fig-graph"]);
    const captions = figures.map((m) => /<figcaption>([\s\S]*?)<\/figcaption>/.exec(m[2]!)![1]);
    expect(captions).toEqual([
      '<span class="fig-no">Figure 1.</span> Training loss',
      '<span class="fig-no">Figure 2.</span> Decision boundary',
      '<span class="fig-no">Figure 3.</span> Computational graph',
    ]);
    expect(figures[0]![2]).toContain(input.lossSvg);
    expect(figures[1]![2]).toContain(input.boundarySvg);
    // The graph had no title: its caption becomes one.
    expect(figures[2]![2]).toContain(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Computational graph</title><circle',
    );
    for (const m of figures) parseSvg(/<svg[\s\S]*<\/svg>/.exec(m[2]!)![0]);
    expect(renderReportHtml(input)).toBe(html);
  });

  it("is self-contained: no scripts and no external resources", async () => {
    const html = renderReportHtml(await base());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).toContain("<style>");
    expect(html).toContain("Content-Security-Policy");
  });

  it("escapes every text value", async () => {
    const hostile = "<script>alert(1)</script>";
    const html = renderReportHtml({
      ...(await base()),
      title: hostile,
      hyperParams: { [hostile]: `"quoted" & 'single'`, n: 3 },
      captions: { graph: "<b>bold</b>" },
    });
    expect(html).not.toContain(hostile);
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>");
    expect(html).toContain("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>");
    expect(html).toContain(
      '<tr><th scope="row">&lt;script&gt;alert(1)&lt;/script&gt;</th><td>&quot;quoted&quot; &amp; &#39;single&#39;</td></tr>',
    );
    expect(html).toContain("<title>&lt;b&gt;bold&lt;/b&gt;</title>");
    expect(html).toContain("</span> &lt;b&gt;bold&lt;/b&gt;</figcaption>");
  });

  it("inlines a Graphviz SVG without its XML prolog, titled by its caption", async () => {
    const viz = await instance();
    const dot = 'digraph G { label="Computational graph"; x -> mul; W -> mul; }';
    const graphSvg = viz.renderString(dot, { format: "svg" });
    expect(graphSvg.startsWith("<?xml")).toBe(true);
    const html = renderReportHtml({ ...(await base()), graphSvg });
    const fig = /<figure id="fig-graph">([\s\S]*?)<\/figure>/.exec(html)![1]!;
    expect(fig).not.toContain("<?xml");
    expect(fig).not.toContain("<!DOCTYPE");
    expect(fig).not.toContain("Generated by graphviz");
    expect(fig).toMatch(/^\s*<div class="plot"><svg width="\d+pt"/);
    // The root gets the caption as its title; Graphviz's own <title>G</title> stays inside.
    expect(fig).toContain('xmlns:xlink="http://www.w3.org/1999/xlink"><title>Computational graph</title>');
    expect(fig).toContain("<title>G</title>");
    expect(fig).toContain(">Computational graph</text>");
    parseSvg(/<svg[\s\S]*<\/svg>/.exec(fig)![0]);
  });

  it("rejects bad input with ArgumentErrors by message", async () => {
    const input = await base();
    const svg = '<svg xmlns="http://www.w3.org/2000/svg">';
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ title: 1 }, /^renderReportHtml: title must be a string, got number 1/],
      [{ hyperParams: [] }, /hyperParams must be an object of names to values, got array\(0\)/],
      [{ hyperParams: { lr: Number.NaN } }, /hyperParams\.lr must be a string or a finite number, got number NaN/],
      [{ hyperParams: { lr: { a: 1 } } }, /hyperParams\.lr must be a string or a finite number/],
      [{ finalLoss: Number.POSITIVE_INFINITY }, /finalLoss must be a finite number, got number Infinity/],
      [{ accuracy: 1.5 }, /accuracy must be a number in \[0, 1\], got number 1.5/],
      [{ accuracy: Number.NaN }, /accuracy must be a number in \[0, 1\]/],
      [{ captions: { loss: 3 } }, /captions\.loss must be a string, got number 3/],
      [{ lossSvg: 5 }, /lossSvg must be an SVG string, got number 5/],
      [{ lossSvg: "<div>x</div>" }, /lossSvg must be one <svg>…<\/svg> element/],
      [{ boundarySvg: `${svg}<script>alert(1)</script></svg>` }, /boundarySvg must not contain a <script> element/],
      [{ graphSvg: `${svg}<rect onclick="x()"/></svg>` }, /graphSvg must not contain an event-handler attribute/],
      [{ graphSvg: `${svg}<a href="javascript:x()"/></svg>` }, /graphSvg must not contain a javascript: URL/],
      [{ graphSvg: `${svg}<image href="https://example.com/a.png"/></svg>` }, /graphSvg must not contain an external/],
      [{ graphSvg: `${svg}<image xlink:href="//example.com/a.png"/></svg>` }, /graphSvg must not contain an external/],
      [{ graphSvg: `${svg}<foreignObject/></svg>` }, /graphSvg must not contain a <foreignObject> element/],
    ];
    for (const [patch, message] of bad) {
      const call = () => renderReportHtml({ ...input, ...patch } as never);
      expect(call).toThrow(message);
      expect(call).toThrow(ArgumentError);
    }
    // Internal references and data: URIs are fine.
    const ok = `${svg}<use href="#a"/><image href="data:image/png;base64,AAAA"/></svg>`;
    expect(renderReportHtml({ ...input, graphSvg: ok })).toContain('<use href="#a"/>');
  });
});
