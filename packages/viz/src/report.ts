/**
 * The training report: one self-contained HTML page (inline CSS and SVG, no scripts, no external
 * resources) with the run's hyper-parameters, its final loss and accuracy, the run's metadata
 * (date, commit, wall time, versions: whatever the caller gives), and three figures — the loss
 * curve, the decision boundary and the computational graph.
 */
import { ArgumentError, describeValue } from "@gradgraph/core";
import { isArray, isObject } from "./checks.js";
import { escapeXml, insertSvgTitle } from "./plots/vega.js";

/** Captions of the report's figures (plain text; escaped into the page). */
export interface ReportCaptions {
  /** Caption of `#fig-loss` (default `"Training loss"`). */
  loss?: string;
  /** Caption of `#fig-boundary` (default `"Decision boundary"`). */
  boundary?: string;
  /** Caption of `#fig-graph` (default `"Computational graph"`). */
  graph?: string;
}

/** What {@link renderReportHtml} puts on the page. */
export interface ReportInput {
  /** Page title and heading (plain text). */
  title: string;
  /** Hyper-parameters as name → value, shown as a table in insertion order (plain text). */
  hyperParams: Record<string, string | number>;
  /**
   * The run's metadata as name → value (plain text), e.g. date, commit, wall time, kernel backend
   * and versions: shown in insertion order as the `#run` table, each row's `<td>` with the id
   * `run-<name>` (lower case, runs of other characters as `-`). Omitted: no such section.
   */
  metadata?: Record<string, string | number>;
  /** The final loss (a finite number). */
  finalLoss: number;
  /** The accuracy as a fraction in [0, 1], shown as a percentage. */
  accuracy: number;
  /** The loss curve's SVG markup, e.g. from `lossPlotSvg`. */
  lossSvg: string;
  /** The decision boundary's SVG markup, e.g. from `decisionBoundarySvg`. */
  boundarySvg: string;
  /** The computational graph's SVG markup (e.g. Graphviz output; an XML prolog is dropped). */
  graphSvg: string;
  /** Figure captions; each also becomes its SVG's `<title>` when the SVG has none. */
  captions?: ReportCaptions;
}

const DEFAULT_CAPTIONS = {
  loss: "Training loss",
  boundary: "Decision boundary",
  graph: "Computational graph",
} as const;

/**
 * Renders the report as one HTML5 document. Every text value (title, hyper-parameter names and
 * values, captions) is HTML-escaped; the SVGs are inlined as markup after dropping an XML
 * declaration, DOCTYPE and leading comments, and each gets a root `<title>` (its caption) when it
 * has none. The figures are `<figure id="fig-loss">`, `<figure id="fig-boundary">` and
 * `<figure id="fig-graph">`, each with a `<figcaption>`; `metadata`, when given, is the `#run`
 * table after the result. A Content-Security-Policy meta tag forbids scripts and every external
 * load, so the page stays self-contained. The output depends only on the input (no dates of its
 * own, no random ids).
 * @returns the page, starting with `<!DOCTYPE html>`.
 * @throws ArgumentError naming `renderReportHtml` and the argument when the title or a caption is
 *   not a string, a hyper-parameter or metadata value is not a string or finite number,
 *   `hyperParams` or `metadata` is not an object, `finalLoss` is not finite,
 *   `accuracy` is not in [0, 1], or an SVG is not a single `<svg>…</svg>` element or contains a
 *   script, an event handler, `foreignObject`, a `javascript:` URL or an external reference.
 */
export function renderReportHtml(input: ReportInput): string {
  const fn = "renderReportHtml";
  if (!isObject(input)) {
    throw new ArgumentError(fn, `${fn}: input must be an object, got ${describeValue(input)}`);
  }
  const title = text(fn, "title", input.title);
  const hp: unknown = input.hyperParams;
  if (!isObject(hp) || isArray(hp)) {
    throw new ArgumentError(fn, `${fn}: hyperParams must be an object of names to values, got ${describeValue(hp)}`);
  }
  const rows = Object.entries(hp).map(([name, value]: [string, unknown]) => {
    if (typeof value === "number" ? !Number.isFinite(value) : typeof value !== "string") {
      throw new ArgumentError(
        fn,
        `${fn}: hyperParams.${name} must be a string or a finite number, got ${describeValue(value)}`,
      );
    }
    return `<tr><th scope="row">${escapeXml(name)}</th><td>${escapeXml(String(value))}</td></tr>`;
  });
  const meta: unknown = input.metadata;
  if (meta !== undefined && (!isObject(meta) || isArray(meta))) {
    throw new ArgumentError(fn, `${fn}: metadata must be an object of names to values, got ${describeValue(meta)}`);
  }
  const metaRows = Object.entries((meta ?? {}) as Record<string, unknown>).map(([name, value]) => {
    if (typeof value === "number" ? !Number.isFinite(value) : typeof value !== "string") {
      throw new ArgumentError(
        fn,
        `${fn}: metadata.${name} must be a string or a finite number, got ${describeValue(value)}`,
      );
    }
    const id = `run-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    return `<tr><th scope="row">${escapeXml(name)}</th><td id="${escapeXml(id)}">${escapeXml(String(value))}</td></tr>`;
  });
  const finalLoss: unknown = input.finalLoss;
  if (typeof finalLoss !== "number" || !Number.isFinite(finalLoss)) {
    throw new ArgumentError(fn, `${fn}: finalLoss must be a finite number, got ${describeValue(finalLoss)}`);
  }
  const accuracy: unknown = input.accuracy;
  if (typeof accuracy !== "number" || !(accuracy >= 0 && accuracy <= 1)) {
    throw new ArgumentError(fn, `${fn}: accuracy must be a number in [0, 1], got ${describeValue(accuracy)}`);
  }
  const captions: unknown = input.captions ?? {};
  if (typeof captions !== "object" || captions === null) {
    throw new ArgumentError(fn, `${fn}: captions must be an object, got ${describeValue(captions)}`);
  }
  const c = captions as ReportCaptions;
  const figures = [
    { id: "fig-loss", arg: "lossSvg", svg: input.lossSvg, caption: c.loss ?? DEFAULT_CAPTIONS.loss, key: "loss" },
    {
      id: "fig-boundary",
      arg: "boundarySvg",
      svg: input.boundarySvg,
      caption: c.boundary ?? DEFAULT_CAPTIONS.boundary,
      key: "boundary",
    },
    { id: "fig-graph", arg: "graphSvg", svg: input.graphSvg, caption: c.graph ?? DEFAULT_CAPTIONS.graph, key: "graph" },
  ].map((f, i) => {
    const caption = text(fn, `captions.${f.key}`, f.caption);
    const svg = inlineSvg(fn, f.arg, f.svg, caption);
    return [
      `<figure id="${f.id}">`,
      `<div class="plot">${svg}</div>`,
      `<figcaption><span class="fig-no">Figure ${i + 1}.</span> ${escapeXml(caption)}</figcaption>`,
      "</figure>",
    ].join("\n");
  });
  const t = escapeXml(title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="@gradgraph/viz">
<title>${t}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${t}</h1>
<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Result</h2>
<dl>
<dt>Final loss</dt><dd id="final-loss">${escapeXml(formatLoss(finalLoss))}</dd>
<dt>Accuracy</dt><dd id="accuracy">${(100 * accuracy).toFixed(1)}%</dd>
</dl>
</section>
${
  meta === undefined
    ? ""
    : `<section id="run" aria-labelledby="run-h">
<h2 id="run-h">Run</h2>
<table>
<tbody>
${metaRows.length > 0 ? metaRows.join("\n") : '<tr><td colspan="2">(none)</td></tr>'}
</tbody>
</table>
</section>
`
}<section id="hyper-parameters" aria-labelledby="hyper-parameters-h">
<h2 id="hyper-parameters-h">Hyper-parameters</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows.length > 0 ? rows.join("\n") : '<tr><td colspan="2">(none)</td></tr>'}
</tbody>
</table>
</section>
<section id="figures" aria-labelledby="figures-h">
<h2 id="figures-h">Figures</h2>
${figures.join("\n")}
</section>
</main>
</body>
</html>
`;
}

const CSS = `
:root { color-scheme: light; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.6rem; margin: 0.4em 0 0.8em; }
h2 { font-size: 1.15rem; margin: 1.6em 0 0.6em; border-bottom: 1px solid #d9dde4; padding-bottom: 0.2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 0.25em 0.9em; border: 1px solid #d9dde4; }
thead th { background: #eef0f4; }
tbody th { font-weight: 500; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
td { font-variant-numeric: tabular-nums; }
figure { display: inline-block; vertical-align: top; margin: 0 16px 24px 0; padding: 12px; background: #fff; border: 1px solid #d9dde4; border-radius: 6px; max-width: calc(100% - 26px); }
figure .plot { overflow: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { margin-top: 8px; font-size: 0.9rem; color: #4a5263; }
.fig-no { font-weight: 600; color: #1d2330; }
`;

/** A loss for display: four decimals, or scientific notation for very small or large values. */
function formatLoss(v: number): string {
  const a = Math.abs(v);
  return a === 0 || (a >= 1e-3 && a < 1e6) ? v.toFixed(4) : v.toExponential(3);
}

function text(fn: string, arg: string, value: unknown): string {
  if (typeof value !== "string")
    throw new ArgumentError(fn, `${fn}: ${arg} must be a string, got ${describeValue(value)}`);
  return value;
}

/** Prolog before the root element that an HTML page must not carry: XML declaration, DOCTYPE, comments. */
const PROLOG = /^\s*(?:(?:<\?xml[\s\S]*?\?>|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>|<!--[\s\S]*?-->)\s*)*/i;

/** What a figure must not contain: scripts, handlers, embedded HTML, script URLs, external loads. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/<script\b/i, "a <script> element"],
  [/<foreignObject\b/i, "a <foreignObject> element"],
  [/<[^>]*\son[a-z]+\s*=/i, "an event-handler attribute"],
  [/=\s*["']?\s*javascript:/i, "a javascript: URL"],
  [/(?:href|src)\s*=\s*["']?\s*(?!data:)(?:[a-z][a-z0-9+.-]*:|\/\/)/i, "an external reference (href/src with a URL)"],
  [/url\(\s*["']?\s*(?!data:)(?:[a-z][a-z0-9+.-]*:|\/\/)/i, "an external url(...) reference"],
  [/@import\b/i, "a CSS @import"],
];

/** Checks and prepares one figure's SVG for inlining. */
function inlineSvg(fn: string, arg: string, value: unknown, caption: string): string {
  if (typeof value !== "string")
    throw new ArgumentError(fn, `${fn}: ${arg} must be an SVG string, got ${describeValue(value)}`);
  const svg = value.replace(PROLOG, "").trimEnd();
  if (!/^<svg\b/.test(svg) || !svg.endsWith("</svg>")) {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be one <svg>…</svg> element, got ${JSON.stringify(svg.slice(0, 40))}…`,
    );
  }
  for (const [re, what] of FORBIDDEN) {
    if (re.test(svg)) throw new ArgumentError(fn, `${fn}: ${arg} must not contain ${what}`);
  }
  const open = /^<svg\b[^>]*>\s*/.exec(svg)!;
  return /^<title\b/.test(svg.slice(open[0].length)) ? svg : insertSvgTitle(svg, caption);
}
