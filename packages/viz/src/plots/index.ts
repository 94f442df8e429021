/** Training plots as SVG: the loss curve and the decision boundary. */
export { type DecisionBoundaryOptions, decisionBoundarySvg } from "./boundary.js";
export { type LossPlotOptions, lossPlotSvg } from "./loss.js";
