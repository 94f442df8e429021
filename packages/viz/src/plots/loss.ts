/** The training-loss curve (the seed's `trainer.plot()`), as SVG. */
import { ArgumentError, describeValue } from "@gradgraph/core";
import type { TopLevelSpec } from "vega-lite";
import { isArray } from "../checks.js";
import { checkSize, checkTitle, renderVegaLiteSvg, vegaText } from "./vega.js";

/**
 * @internal The indices of the entries to draw: all of them when there are at most `4 · columns`; else, per
 * run of consecutive entries that falls in one of `columns` pixel columns, the first, last,
 * smallest and largest (M4 decimation, Jugel et al., VLDB 2014), in increasing order.
 */
export function decimate(values: readonly number[], columns: number): number[] {
  const n = values.length;
  if (n <= 4 * columns) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let b = 0; b < columns; b++) {
    const s = Math.floor((b * n) / columns);
    const e = Math.floor(((b + 1) * n) / columns);
    if (e <= s) continue;
    let lo = s;
    let hi = s;
    for (let i = s + 1; i < e; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    const picked = [s, lo, hi, e - 1].sort((a, c) => a - c);
    for (let k = 0; k < picked.length; k++) if (k === 0 || picked[k] !== picked[k - 1]) out.push(picked[k]!);
  }
  return out;
}

/** Options of {@link lossPlotSvg}. */
export interface LossPlotOptions {
  /**
   * Iterations between two entries of the loss list (the Trainer's `evalInterval`); entry `i` is
   * drawn at iteration `i · evalInterval`. A positive integer, default 1.
   */
  evalInterval?: number;
  /** Figure title (default `"Training loss"`); also the SVG's `<title>`. */
  title?: string;
  /** Width of the plot area in pixels (default 480; axes, labels and title add to it). */
  width?: number;
  /** Height of the plot area in pixels (default 300). */
  height?: number;
}

/**
 * Draws a loss curve: x is the iteration (`index · evalInterval`), y the loss, with axes, ticks,
 * axis titles ("iteration", "loss") and a title. Rendered by vega-lite → vega without a browser;
 * the same input gives the same SVG, byte for byte. Element ids are prefixed `gg-loss-`.
 *
 * A list longer than four entries per pixel column of the plot (`4 · width`, 1,920 by default) is
 * decimated before drawing, as the M4 method does: in each of `width` equal runs of consecutive
 * entries, the first, the last, the smallest and the largest are kept, in order. A line through
 * those covers the same pixels as the line through every entry, so the figure looks the same, and
 * a million entries draw in about as long as two thousand (vega needs some 10 µs per point).
 * @param lossList - the losses, e.g. `Trainer.lossList` (averages every `evalInterval` iterations).
 * @returns SVG markup (`<svg …>…</svg>`) whose first child is `<title>` with the title.
 * @throws ArgumentError naming `lossPlotSvg` and the argument when `lossList` is not a non-empty
 *   array of finite numbers, `evalInterval` is not a positive integer, a size is not a number in
 *   [10, 10000], the title is not a string, or `options` is neither an object nor null/undefined.
 * @throws RenderError naming `lossPlotSvg` when vega fails to render the figure.
 */
export async function lossPlotSvg(lossList: readonly number[], options: LossPlotOptions = {}): Promise<string> {
  const fn = "lossPlotSvg";
  // null means no options, as elsewhere in gradgraph
  options ??= {};
  if (typeof options !== "object" || isArray(options)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  if (!isArray(lossList)) {
    throw new ArgumentError(fn, `${fn}: lossList must be an array of numbers, got ${describeValue(lossList)}`);
  }
  if (lossList.length === 0) throw new ArgumentError(fn, `${fn}: lossList must not be empty`);
  // an index loop, not forEach: a hole of a sparse array must fail at once, not be skipped
  for (let i = 0; i < lossList.length; i++) {
    const v: unknown = lossList[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(fn, `${fn}: lossList[${i}] must be a finite number, got ${describeValue(v)}`);
    }
  }
  const evalInterval = options.evalInterval ?? 1;
  if (!Number.isSafeInteger(evalInterval) || evalInterval < 1) {
    throw new ArgumentError(fn, `${fn}: evalInterval must be a positive integer, got ${describeValue(evalInterval)}`);
  }
  const title = checkTitle(fn, "title", options.title, "Training loss");
  const width = checkSize(fn, "width", options.width, 480);
  const height = checkSize(fn, "height", options.height, 300);
  const values = decimate(lossList, width).map((i) => ({ iteration: i * evalInterval, loss: lossList[i]! }));
  // a span too small for axis ticks (subnormal steps underflow in d3 and break vega) is drawn
  // around its middle instead
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of lossList) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const flat = hi > lo && hi - lo < 1e-290;
  const yScale = flat ? { zero: false, domain: [lo / 2 + hi / 2 - 1, lo / 2 + hi / 2 + 1] } : { zero: false };
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: vegaText(title), anchor: "middle", fontSize: 14 },
    width,
    height,
    data: { values },
    // A single entry has no line to draw: mark it with a point.
    mark: {
      type: "line",
      point: lossList.length === 1 ? { color: "#1f77b4" } : false,
      strokeWidth: 1.5,
      color: "#1f77b4",
    },
    encoding: {
      x: {
        field: "iteration",
        type: "quantitative",
        title: "iteration",
        scale: { nice: true },
        axis: { tickMinStep: 1, format: "d" },
      },
      y: { field: "loss", type: "quantitative", title: "loss", scale: yScale },
    },
    config: { view: { stroke: "#bbb" }, axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
  return renderVegaLiteSvg(spec, { title, idPrefix: "gg-loss", fn });
}
