/**
 * @gradgraph/viz: graph snapshots (immutable, graphlib-backed), Graphviz DOT export and SVG
 * rendering, training plots (vega-lite), and a self-contained report page. Depends on core only;
 * layers and parameter names come in through plain options.
 *
 * @module @gradgraph/viz
 */
export { type DotOptions, type Rankdir, toDot } from "./dot.js";
export {
  type DecisionBoundaryOptions,
  decisionBoundarySvg,
  type LossPlotOptions,
  lossPlotSvg,
} from "./plots/index.js";
export { RenderError, type RenderSvgOptions, renderSvg } from "./render.js";
export { type ReportCaptions, type ReportInput, renderReportHtml } from "./report.js";
export {
  type GraphSnapshot,
  groupsFromLayers,
  isGraphSnapshot,
  type JsonValue,
  type NodeRef,
  pathToOutput,
  resolveNode,
  SNAPSHOT_FORMAT,
  type SnapshotEdge,
  type SnapshotGrad,
  type SnapshotGraph,
  type SnapshotGraphLabel,
  type SnapshotGroup,
  type SnapshotGroupSpec,
  type SnapshotLeafNode,
  type SnapshotNode,
  type SnapshotOpInput,
  type SnapshotOpNode,
  type SnapshotOptions,
  type SnapshotOutputNode,
  type SnapshotSaved,
  snapshot,
  toGraphlib,
} from "./snapshot.js";
