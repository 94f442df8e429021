/**
 * @gradgraph/nodes: the differentiable ops, each a plain function defined with `defineOp`
 * exactly as a library author outside the project would define one, and also a `Tensor` method
 * once this package is imported (`x.matmul(W).add(b).relu()`; see `TENSOR_METHODS`). `ops` lists the op objects
 * themselves, for `checkOp` and graph tooling.
 *
 * @module @gradgraph/nodes
 */
import { activationOps } from "./activations.js";
import { addOp, elementwiseOps, mulOp } from "./arithmetic.js";
import { branchOp, repeatOp } from "./branch.js";
import { indexingOps } from "./indexing.js";
import { integralOps, selectionOps } from "./logical.js";
import { softmaxCrossEntropyIndicesOp, softmaxCrossEntropyOp } from "./loss.js";
import { affineOp, matmulOp } from "./matmul.js";
import { powerOps } from "./power.js";
import { logSumExpOp, maxOp, sumOp } from "./reduce.js";
import { reshapeOp, shapeOps } from "./shape.js";
import { logSoftmaxOp, softmaxOp } from "./softmax.js";
import { statsOps } from "./stats.js";
import { unaryOps } from "./unary.js";
// installs the ops as Tensor methods (x.add(y).relu().sum()), typed by declaration merging
import "./methods.js";

export {
  type ClampAttrs,
  clamp,
  clampOp,
  cos,
  cosOp,
  type EluAttrs,
  elu,
  eluOp,
  type GeluAttrs,
  gelu,
  geluOp,
  type LeakyReluAttrs,
  leakyRelu,
  leakyReluOp,
  normalCdf,
  normalCdfOp,
  type SoftplusAttrs,
  sin,
  sinOp,
  softplus,
  softplusOp,
  square,
  squareOp,
} from "./activations.js";
export {
  add,
  addOp,
  div,
  divOp,
  maximum,
  maximumOp,
  minimum,
  minimumOp,
  mul,
  mulOp,
  neg,
  negOp,
  sub,
  subOp,
} from "./arithmetic.js";
export { type BranchAttrs, branch, branchOp, type RepeatAttrs, repeat, repeatOp } from "./branch.js";
export { expandDims, flatten, squeeze, tile, unsqueeze, unstack } from "./dims.js";
export {
  type GatherAttrs,
  type GatherIndices,
  gather,
  gatherOp,
  getItem,
  type Index,
  type PadStridedAttrs,
  padStridedOp,
  type ScatterAddAttrs,
  type SliceIndex,
  type StridedSliceAttrs,
  s,
  scatterAddOp,
  stridedSliceOp,
} from "./indexing.js";
export {
  type ArgAttrs,
  type ArgOptions,
  argmax,
  argmaxOp,
  argmin,
  argminOp,
  equal,
  equalOp,
  floorDiv,
  floorDivOp,
  greater,
  greaterEqual,
  greaterEqualOp,
  greaterOp,
  integralOps,
  less,
  lessEqual,
  lessEqualOp,
  lessOp,
  logicalAnd,
  logicalAndOp,
  logicalNot,
  logicalNotOp,
  logicalOr,
  logicalOrOp,
  logicalXor,
  logicalXorOp,
  mod,
  modOp,
  notEqual,
  notEqualOp,
  where,
  whereOp,
} from "./logical.js";
export {
  type CrossEntropyReduction,
  type Labels,
  meanSquaredError,
  type SoftmaxCrossEntropyAttrs,
  type SoftmaxCrossEntropyIndicesAttrs,
  type SoftmaxCrossEntropyOptions,
  softmaxCrossEntropy,
  softmaxCrossEntropyIndicesOp,
  softmaxCrossEntropyOp,
} from "./loss.js";
export { affine, affineOp, type MatmulAttrs, type MatmulOptions, matmul, matmulOp } from "./matmul.js";
export { TENSOR_METHODS } from "./methods.js";
export { type PowScalarAttrs, pow, powOp, powScalarOp } from "./power.js";
export { logSumExp, logSumExpOp, max, maxOp, mean, type ReduceOptions, type SumAttrs, sum, sumOp } from "./reduce.js";
export {
  broadcastTo,
  type ConcatAttrs,
  cast,
  clone,
  cloneOp,
  concat,
  concatOp,
  type GetItemAttrs,
  getItemOp,
  type PadSliceAttrs,
  padSliceOp,
  type ReshapeAttrs,
  type RowIndices,
  reshape,
  reshapeOp,
  type ScatterRowsAttrs,
  type SliceAttrs,
  type SplitAttrs,
  scatterRowsOp,
  slice,
  sliceOp,
  split,
  splitOp,
  stack,
  sumTo,
  type TransposeAttrs,
  transpose,
  transposeOp,
} from "./shape.js";
export { logSoftmax, logSoftmaxInto, logSoftmaxOp, type SoftmaxAttrs, softmax, softmaxOp } from "./softmax.js";
export {
  type CumsumAttrs,
  cumsum,
  cumsumOp,
  outer,
  outerOp,
  std,
  type VarianceAttrs,
  type VarianceOptions,
  variance,
  varianceOp,
} from "./stats.js";
export {
  abs,
  absOp,
  exp,
  expOp,
  log,
  logOp,
  relu,
  reluGradOp,
  reluOp,
  sigmoid,
  sigmoidGradOp,
  sigmoidOp,
  sqrt,
  sqrtOp,
  tanh,
  tanhGradOp,
  tanhOp,
} from "./unary.js";

/**
 * Every differentiable op object of this package, by name (those `checkOp` checks); the ops whose
 * outputs are int32 or bool, through which no gradient flows, are in {@link integralOps}.
 */
export const ops = {
  /** {@link addOp}, behind {@link add}. */
  add: addOp,
  /** {@link mulOp}, behind {@link mul}. */
  mul: mulOp,
  ...elementwiseOps,
  ...powerOps,
  ...unaryOps,
  ...activationOps,
  ...statsOps,
  /** {@link branchOp}, a multi-output op, behind {@link branch}. */
  branch: branchOp,
  /** {@link repeatOp}, behind {@link repeat}. */
  repeat: repeatOp,
  /** {@link sumOp}, behind {@link sum} and {@link mean}. */
  sum: sumOp,
  /** {@link maxOp}, behind {@link max}. */
  max: maxOp,
  /** {@link logSumExpOp}, behind {@link logSumExp}. */
  logSumExp: logSumExpOp,
  /** {@link softmaxOp}, behind {@link softmax}. */
  softmax: softmaxOp,
  /** {@link logSoftmaxOp}, behind {@link logSoftmax}. */
  logSoftmax: logSoftmaxOp,
  /** {@link softmaxCrossEntropyOp}, behind {@link softmaxCrossEntropy}. */
  softmaxCrossEntropy: softmaxCrossEntropyOp,
  /** {@link softmaxCrossEntropyIndicesOp}, behind {@link softmaxCrossEntropy} with class indices and options. */
  softmaxCrossEntropyIndices: softmaxCrossEntropyIndicesOp,
  /** {@link reshapeOp}, behind {@link reshape}. */
  reshape: reshapeOp,
  ...shapeOps,
  ...indexingOps,
  /** {@link matmulOp}, behind {@link matmul}. */
  matmul: matmulOp,
  /** {@link affineOp}, behind {@link affine}. */
  affine: affineOp,
  ...selectionOps,
} as const;
