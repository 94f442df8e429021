/**
 * SVG rendering of DOT text with `@viz-js/viz`: Graphviz compiled to WebAssembly, so no system
 * Graphviz is needed. One instance is created on first use and reused.
 */
import { ArgumentError, describeValue, GradgraphError } from "@gradgraph/core";
import { instance, type Viz } from "@viz-js/viz";

/** Graphviz failed to lay out or render a graph (invalid DOT, or an internal Graphviz error). */
export class RenderError extends GradgraphError {}

/** Options of `renderSvg`. */
export interface RenderSvgOptions {
  /** The Graphviz layout engine (default `"dot"`, the layered layout for graphs like these). */
  engine?: string;
}

let vizPromise: Promise<Viz> | null = null;

/** The shared Graphviz instance, created on first use; a failed start is retried next time. */
function graphviz(): Promise<Viz> {
  if (vizPromise === null) {
    vizPromise = instance().catch((err: unknown) => {
      vizPromise = null;
      throw new RenderError("renderSvg", `renderSvg: could not start Graphviz (WebAssembly): ${String(err)}`, {
        cause: err,
      });
    });
  }
  return vizPromise;
}

/**
 * Renders DOT text (from `toDot`, or any DOT) to an SVG document with Graphviz.
 * @param dot - the graph in DOT syntax.
 * @returns the SVG text (`<?xml ...?><svg ...>...</svg>`); each node is a `<g class="node">`.
 * @throws ArgumentError naming `renderSvg` when `dot` is not a string or `options.engine` is
 *   not a supported engine name.
 * @throws RenderError naming `renderSvg` with Graphviz's messages when the DOT does not parse or
 *   Graphviz fails.
 */
export async function renderSvg(dot: string, options: RenderSvgOptions = {}): Promise<string> {
  const fn = "renderSvg";
  if (typeof dot !== "string") {
    throw new ArgumentError(fn, `${fn}: dot must be a string of DOT text, got ${describeValue(dot)}`);
  }
  if (options === null || typeof options !== "object") {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  const viz = await graphviz();
  const engine = options.engine ?? "dot";
  if (typeof engine !== "string" || !viz.engines.includes(engine)) {
    throw new ArgumentError(
      fn,
      `${fn}: options.engine must be one of ${viz.engines.map((e) => JSON.stringify(e)).join(", ")}, got ${describeValue(engine)}`,
    );
  }
  let result: ReturnType<Viz["render"]>;
  try {
    result = viz.render(dot, { format: "svg", engine });
  } catch (err) {
    // a WebAssembly trap may leave the instance's memory in any state: start a fresh one next time
    vizPromise = null;
    throw new RenderError(fn, `${fn}: Graphviz failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (result.status !== "success") {
    const messages = result.errors.filter((e) => e.level !== "warning").map((e) => e.message.trim());
    const all = messages.length > 0 ? messages : result.errors.map((e) => e.message.trim());
    throw new RenderError(
      fn,
      `${fn}: Graphviz could not render the graph: ${all.length > 0 ? all.join("; ") : "no message"}`,
    );
  }
  return result.output;
}
