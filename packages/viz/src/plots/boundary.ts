/** The decision-boundary figure of the seed (figure 1-33), as SVG. */
import {
  ArgumentError,
  allocArray,
  assertFloatTensor,
  describeValue,
  fmtShape,
  isTensor,
  noGrad,
  ShapeError,
  Tensor,
} from "@gradgraph/core";
import type { TopLevelSpec } from "vega-lite";
import { isArray, isConstructorOnly, isObject } from "../checks.js";
import { checkSize, checkTitle, renderVegaLiteSvg, vegaText } from "./vega.js";

/** Options of {@link decisionBoundarySvg}. */
export interface DecisionBoundaryOptions {
  /**
   * The classifier: scores for a batch of points. Called once (without recording a graph) with the
   * grid's cell centres, an (R·R)×2 tensor of `x`'s dtype, row-major with x varying fastest and y
   * from bottom to top; it must return an (R·R)×C tensor of finite scores (C ≥ 1 classes; the
   * cell's class is the arg-max of its row, the first maximum on ties). E.g. `(g) => model.predict(g)`.
   */
  predict: (gridPoints: Tensor) => Tensor;
  /** The data points, an N×2 tensor (N ≥ 1) of finite coordinates. */
  x: Tensor;
  /** Class index of each point, N integers in [0, C). */
  labels: ArrayLike<number>;
  /** Grid cells per axis, an integer in [2, 400] (default 100). */
  resolution?: number;
  /** Margin around the data's range on each side, as a fraction of that range (default 0.05). */
  margin?: number;
  /** Figure title (default `"Decision boundary"`); also the SVG's `<title>`. */
  title?: string;
  /** Names of the classes in the legend (default `"class 0"`, `"class 1"`, …); at least C names. */
  classNames?: readonly string[];
  /** Width of the plot area in pixels (default 400). */
  width?: number;
  /** Height of the plot area in pixels (default 400). */
  height?: number;
}

/** Smallest data span drawn as such; below it (near the subnormal range) an axis is flat ±0.5. */
const MIN_SPAN = 1e-290;

/** Point colours per class (Tableau 10); the regions use the same hues, lightened. */
const POINT_COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
/** Point shapes per class, as in the seed's figure (o, x, ^, …). */
const POINT_SHAPES = ["circle", "cross", "triangle-up", "square", "diamond", "triangle-down", "triangle-left"];

/**
 * Draws the plane around the data (its range plus a margin) as a grid of `resolution` ×
 * `resolution` cells, each shaded in a light colour of the class `predict` gives its centre (cells
 * of one class that are adjacent in a row are merged into one rectangle), and the data points on
 * top, one symbol per point with a shape and colour per class; with axes, ticks, axis titles
 * ("x₁", "x₂"), a class legend and a title. Rendered by vega-lite (a rect layer and a point layer)
 * → vega without a browser; the same input gives the same SVG. Element ids are prefixed `gg-boundary-`.
 * @returns SVG markup (`<svg …>…</svg>`) whose first child is `<title>` with the title.
 * @throws ArgumentError naming `decisionBoundarySvg` and the argument for a non-function
 *   `predict`, non-finite coordinates or scores, labels that are not class indices of the scores,
 *   a bad resolution, margin, size, title or too few class names; ShapeError when `x` is not N×2,
 *   the labels are not N, or `predict` returns anything but a (R·R)×C tensor; RenderError naming
 *   `decisionBoundarySvg` when vega fails to render the figure.
 */
export async function decisionBoundarySvg(options: DecisionBoundaryOptions): Promise<string> {
  const fn = "decisionBoundarySvg";
  if (!isObject(options)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  const { predict, labels } = options;
  if (typeof predict !== "function" || isConstructorOnly(predict)) {
    throw new ArgumentError(fn, `${fn}: predict must be a function, got ${describeValue(predict)}`);
  }
  const x = assertFloatTensor(fn, "x", options.x);
  if (x.rank !== 2 || x.shape[1] !== 2 || x.shape[0] === 0) {
    throw new ShapeError(fn, `${fn}: x must be N×2 with N ≥ 1, got shape ${fmtShape(x.shape)}`);
  }
  const n = x.shape[0]!;
  for (let i = 0; i < 2 * n; i++) {
    if (!Number.isFinite(x.data[i]!)) {
      throw new ArgumentError(fn, `${fn}: x[${i >> 1}, ${i & 1}] must be finite, got ${x.data[i]}`);
    }
  }
  if (!isObject(labels) || typeof labels.length !== "number") {
    throw new ArgumentError(fn, `${fn}: labels must be an array of class indices, got ${describeValue(labels)}`);
  }
  if (labels.length !== n) throw new ShapeError(fn, `${fn}: ${labels.length} labels for ${n} points of x`);
  const resolution = options.resolution ?? 100;
  if (!Number.isInteger(resolution) || resolution < 2 || resolution > 400) {
    throw new ArgumentError(fn, `${fn}: resolution must be an integer in [2, 400], got ${describeValue(resolution)}`);
  }
  const margin = options.margin ?? 0.05;
  if (typeof margin !== "number" || !Number.isFinite(margin) || margin < 0) {
    throw new ArgumentError(fn, `${fn}: margin must be a finite number ≥ 0, got ${describeValue(margin)}`);
  }
  const title = checkTitle(fn, "title", options.title, "Decision boundary");
  const width = checkSize(fn, "width", options.width, 400);
  const height = checkSize(fn, "height", options.height, 400);

  // The plane: the data's range per axis, widened by the margin (a flat axis gets ±0.5).
  const extent = (axis: number): [number, number] => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = x.data[2 * i + axis]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // a span too small for axis ticks (subnormal steps underflow in d3) counts as flat
    const pad = hi - lo > MIN_SPAN ? (hi - lo) * margin : 0.5;
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = extent(0);
  const [y0, y1] = extent(1);
  const dx = (x1 - x0) / resolution;
  const dy = (y1 - y0) / resolution;
  const cells = resolution * resolution;
  const grid = allocArray(x.dtype, 2 * cells);
  for (let r = 0; r < resolution; r++) {
    for (let c = 0; c < resolution; c++) {
      const k = r * resolution + c;
      grid[2 * k] = x0 + (c + 0.5) * dx;
      grid[2 * k + 1] = y0 + (r + 0.5) * dy;
    }
  }
  const scores: unknown = noGrad(() => predict(new Tensor(grid, [cells, 2])));
  if (!isTensor(scores)) {
    throw new ArgumentError(fn, `${fn}: predict must return a Tensor, got ${describeValue(scores)}`);
  }
  if (scores.rank !== 2 || scores.shape[0] !== cells || scores.shape[1] === 0) {
    throw new ShapeError(
      fn,
      `${fn}: predict must return ${cells}×C scores for the ${cells} grid points, got shape ${fmtShape(scores.shape)}`,
    );
  }
  const classes = scores.shape[1]!;
  const cellClass = new Int32Array(cells);
  for (let k = 0; k < cells; k++) {
    let best = 0;
    for (let j = 0; j < classes; j++) {
      const s = scores.data[k * classes + j]!;
      if (!Number.isFinite(s)) {
        throw new ArgumentError(fn, `${fn}: predict returned a non-finite score ${s} at row ${k}, column ${j}`);
      }
      if (s > scores.data[k * classes + best]!) best = j;
    }
    cellClass[k] = best;
  }
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ArgumentError(
        fn,
        `${fn}: labels[${i}] must be a class index in [0, ${classes}) (predict gives ${classes} scores), got ${describeValue(v)}`,
      );
    }
  }
  const names = options.classNames ?? Array.from({ length: classes }, (_, j) => `class ${j}`);
  if (!isArray(names) || names.length < classes) {
    throw new ArgumentError(fn, `${fn}: classNames must be at least ${classes} strings, got ${describeValue(names)}`);
  }
  // an index loop over the names used, not some(): a hole of a sparse array must fail, not be skipped
  for (let j = 0; j < classes; j++) {
    if (typeof names[j] !== "string") {
      throw new ArgumentError(fn, `${fn}: classNames[${j}] must be a string, got ${describeValue(names[j])}`);
    }
  }
  const domain = names.slice(0, classes).map(vegaText);
  if (new Set(domain).size !== classes) {
    throw new ArgumentError(fn, `${fn}: classNames must be distinct`);
  }

  // Regions: runs of equal class along each grid row, one rectangle per run.
  const regions: { x: number; x2: number; y: number; y2: number; class: string }[] = [];
  for (let r = 0; r < resolution; r++) {
    let start = 0;
    for (let c = 1; c <= resolution; c++) {
      const k = r * resolution + c;
      if (c === resolution || cellClass[k] !== cellClass[k - 1]) {
        regions.push({
          x: x0 + start * dx,
          x2: c === resolution ? x1 : x0 + c * dx,
          y: y0 + r * dy,
          y2: r === resolution - 1 ? y1 : y0 + (r + 1) * dy,
          class: domain[cellClass[k - 1]!]!,
        });
        start = c;
      }
    }
  }
  const points = Array.from({ length: n }, (_, i) => ({
    x: x.data[2 * i]!,
    y: x.data[2 * i + 1]!,
    class: domain[labels[i]!]!,
  }));
  const colors = domain.map((_, j) => POINT_COLORS[j % POINT_COLORS.length]!);
  const shapes = domain.map((_, j) => POINT_SHAPES[j % POINT_SHAPES.length]!);
  const xScale = { domain: [x0, x1], nice: false, zero: false };
  const yScale = { domain: [y0, y1], nice: false, zero: false };
  const color = { field: "class", type: "nominal", title: "class", scale: { domain, range: colors } } as const;
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: vegaText(title), anchor: "middle", fontSize: 14 },
    width,
    height,
    layer: [
      {
        data: { values: regions },
        mark: { type: "rect", opacity: 0.22, strokeWidth: 0, aria: false },
        encoding: {
          x: { field: "x", type: "quantitative", title: "x₁", scale: xScale },
          x2: { field: "x2" },
          y: { field: "y", type: "quantitative", title: "x₂", scale: yScale },
          y2: { field: "y2" },
          color,
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 28, opacity: 0.9, aria: false },
        encoding: {
          x: { field: "x", type: "quantitative", scale: xScale },
          y: { field: "y", type: "quantitative", scale: yScale },
          color,
          shape: { field: "class", type: "nominal", title: "class", scale: { domain, range: shapes } },
        },
      },
    ],
    config: {
      view: { stroke: "#bbb" },
      axis: { labelFontSize: 11, titleFontSize: 12, grid: false },
      legend: { symbolOpacity: 1 },
    },
  };
  return renderVegaLiteSvg(spec, { title, idPrefix: "gg-boundary", fn });
}
