/**
 * The shared rendering path of the training plots: a vega-lite spec is compiled to vega and
 * rendered headless (`renderer: "none"`, no browser, no canvas) to an SVG string, which is then
 * made stable and self-describing: element ids get a caller-chosen prefix and numbers in order of
 * appearance (so the same input always gives the same bytes, and two figures inlined into one
 * HTML page cannot clash), and the figure's title is added as the SVG's `<title>`.
 */
import { ArgumentError, describeValue } from "@gradgraph/core";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { RenderError } from "../render.js";

/** Options of {@link renderVegaLiteSvg}. */
export interface RenderVegaLiteOptions {
  /** Accessible title, written as the SVG's first child `<title>` element (XML-escaped). */
  title: string;
  /** Prefix of every element id in the output, e.g. `"gg-loss"`; ids become `<prefix>-1`, `<prefix>-2`, .... */
  idPrefix: string;
  /** The public function rendering, named by a `RenderError`. */
  fn: string;
}

/**
 * Renders a vega-lite spec to an SVG string without a browser.
 * @param spec - a complete vega-lite specification with inline data.
 * @returns the SVG markup (`<svg ...>...</svg>`, no XML prolog), identical for identical specs.
 * @throws RenderError naming `options.fn`, with vega's message and error as the cause, when
 *   vega-lite or vega fails.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec, options: RenderVegaLiteOptions): Promise<string> {
  let view: vega.View | null = null;
  // vega catches an error inside its dataflow (d3's ticks on an overflowing range, say), logs it
  // and renders what it can: record it and fail instead of returning a partial figure
  const logged: string[] = [];
  const logger = vega.logger(vega.Error, undefined, (_method, _level, input) => {
    logged.push(Array.from(input as ArrayLike<unknown>, (x) => (x instanceof Error ? x.message : String(x))).join(" "));
  });
  try {
    const compiled = compile(spec).spec;
    view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
    const svg = await view.toSVG();
    if (logged.length > 0) throw new Error(logged.join("; "));
    return insertSvgTitle(stabilizeSvgIds(roundSvgNumbers(svg), options.idPrefix), options.title);
  } catch (err) {
    const fn = options.fn;
    throw new RenderError(
      fn,
      `${fn}: vega could not render the figure: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    view?.finalize();
  }
}

const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Text for vega: a string equal to the name of an `Object.prototype` member (`"valueOf"`,
 * `"constructor"`, `"toString"`, …) makes vega 6 fail with "Operator not defined" (it looks the
 * text up in a plain object), so such a string gets a zero-width space appended. Other strings
 * are returned as they are.
 */
export function vegaText(text: string): string {
  return PROTOTYPE_NAMES.has(text) ? `${text}\u200b` : text;
}

/**
 * Renames every `id="…"` of an SVG document to `<prefix>-<n>` (n counting from 1 in order of
 * appearance) and rewrites the references to them (`url(#…)`, `href="#…"`, `xlink:href="#…"`).
 * Vega numbers clip paths and gradients with process-wide counters; this makes the output
 * independent of what was rendered before.
 */
export function stabilizeSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]*)"/g)) {
    const id = m[1]!;
    if (!ids.has(id)) ids.set(id, `${prefix}-${ids.size + 1}`);
  }
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]*)(")/g, (_, a: string, id: string, b: string) => `${a}${ids.get(id) ?? id}${b}`)
    .replace(/url\(#([^)]*)\)/g, (whole: string, id: string) => {
      const to = ids.get(id);
      return to === undefined ? whole : `url(#${to})`;
    })
    .replace(/(href=")#([^"]*)(")/g, (whole: string, a: string, id: string, b: string) => {
      const to = ids.get(id);
      return to === undefined ? whole : `${a}#${to}${b}`;
    });
}

/**
 * Rounds the decimals in geometry attributes (`d`, `transform`, `x`, `y`, `x1`, `x2`, `y1`, `y2`)
 * to `digits` places (default 2, a hundredth of a pixel): vega writes full doubles such as
 * `42.99999999999999`, a third of a scatter plot's bytes. Text content is left alone.
 */
export function roundSvgNumbers(svg: string, digits = 2): string {
  const scale = 10 ** digits;
  const round = (s: string): string => {
    const r = Math.round(Number(s) * scale) / scale;
    return String(r === 0 ? 0 : r);
  };
  return svg.replace(
    /(\s(?:d|transform|x|y|x1|x2|y1|y2)=")([^"]*)(")/g,
    (_, a: string, value: string, b: string) => `${a}${value.replace(/-?\d*\.\d+(?:e[-+]?\d+)?/g, round)}${b}`,
  );
}

/** Inserts `<title>text</title>` (XML-escaped) as the first child of the root `<svg>` element. */
export function insertSvgTitle(svg: string, title: string): string {
  const open = /<svg\b[^>]*>/.exec(svg);
  if (open === null) throw new Error("insertSvgTitle: no <svg> element in the renderer's output");
  const at = open.index + open[0].length;
  return `${svg.slice(0, at)}<title>${escapeXml(title)}</title>${svg.slice(at)}`;
}

/** Escapes `& < > " '` for XML and HTML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Checks a figure size option: `undefined` (→ `fallback`) or a finite number in [10, 10000].
 * @throws ArgumentError naming `fn` and `arg`.
 */
export function checkSize(fn: string, arg: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 10 || value > 10_000) {
    throw new ArgumentError(fn, `${fn}: ${arg} must be a number of pixels in [10, 10000], got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Checks a title option: `undefined` (→ `fallback`) or a string.
 * @throws ArgumentError naming `fn` and `arg`.
 */
export function checkTitle(fn: string, arg: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string") {
    throw new ArgumentError(fn, `${fn}: ${arg} must be a string, got ${describeValue(value)}`);
  }
  return value;
}
