/**
 * @gradgraph/core/testing: fast-check arbitraries (shapes, tensors, broadcastable shapes, matmul
 * pairs) and `checkOp`, a property-based gradient check for any op made with `defineOp`.
 * Requires the `fast-check` package (a peer dependency).
 *
 * @module @gradgraph/core/testing
 */
export {
  broadcastableShapesArb,
  matmulShapesArb,
  type ShapeConstraints,
  shapeArb,
  shapedTensorArb,
  type TensorArbOptions,
  tensorArb,
  tensorsArb,
} from "./arbitraries.js";
export { type CheckOpOptions, type CheckOpReport, checkOp } from "./check-op.js";
