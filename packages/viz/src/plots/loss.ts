/** The training-loss curve (the seed's `trainer.plot()`), as SVG. */
import { ArgumentError, describeValue } from "@gradgraph/core";
import type { TopLevelSpec } from "vega-lite";
import { checkSize, checkTitle, renderVegaLiteSvg, vegaText } from "./vega.js";

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
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  if (!Array.isArray(lossList)) {
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
  const values = lossList.map((loss, i) => ({ iteration: i * evalInterval, loss }));
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
