/**
 * The define-by-run graph, one module per idea (read them in this order):
 * - `grad-mode.ts`: the switches (`noGrad`, `enableGrad`, anomaly mode, debug recording);
 * - `node.ts`: what an op is to the engine (`OpCore`), its forward and backward contexts, the
 *   recorded `Node`, and `reachableNodes`, the one walk over a graph;
 * - `apply-op.ts`: `applyOp`, which runs an op and records its node;
 * - `engine.ts`: the reverse-mode engine (`Tensor.backward`, `grad`), with `destinations.ts`,
 *   where a first-order `backward()` writes gradients into zeroed `.grad`s in place;
 * - `structural.ts`: `sumTo`, `broadcastTo` and `cast`, the ops the engine itself uses;
 * - `memory.ts`: allocation and the reuse of dead gradient buffers.
 * This module gathers them for the rest of the package.
 */
export { applyOp } from "./apply-op.js";
export { type GradOptions, grad } from "./engine.js";
export {
  detectAnomaly,
  enableGrad,
  isAnomalyDetectionEnabled,
  isGradEnabled,
  noGrad,
  setAnomalyDetection,
  withCreationSites,
  withDebugRecording,
} from "./grad-mode.js";
export {
  type BackwardContext,
  type ForwardContext,
  type GradDestinations,
  inputLabel,
  isNode,
  NO_DESTINATIONS,
  Node,
  type OpCore,
  type RawArray,
  reachableNodes,
  type SavedEntry,
  userFrame,
} from "./node.js";
export { broadcastTo, cast, sumTo } from "./structural.js";
