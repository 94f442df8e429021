/**
 * @gradgraph/core: tensors, the define-by-run graph, reverse-mode autodiff, `defineOp` and
 * gradient checking. Ops live in `@gradgraph/nodes`; fast-check helpers in `@gradgraph/core/testing`;
 * the raw numeric kernels (trusted input only) in `@gradgraph/core/kernels`.
 *
 * @module @gradgraph/core
 */
export { cloneOp } from "./clone.js";
export {
  type ArrayOf,
  allocArray,
  DEFAULT_DTYPE,
  DTYPES,
  type DType,
  type DTypeArrays,
  type FloatArray,
  type FloatDType,
  type IntegralDType,
  isFloatDType,
  type Promoted,
  promoteTypes,
  type TensorData,
} from "./dtype.js";
export {
  AnomalyError,
  ArgumentError,
  DTypeError,
  describeValue,
  fmtShape,
  GradcheckError,
  GradgraphError,
  GraphError,
  ShapeError,
} from "./errors.js";
export { FileError, writeFileAtomic } from "./fs.js";
export {
  assertGradcheck,
  formatFault,
  formatGradcheckFailure,
  type GradcheckElement,
  type GradcheckFault,
  type GradcheckOptions,
  type GradcheckReport,
  type GradcheckRoute,
  type GradRoute,
  gradcheck,
  type NumericalGradOptions,
  numericalGrad,
  type TensorFunction,
} from "./gradcheck.js";
export {
  type BackwardContext,
  broadcastTo,
  cast,
  detectAnomaly,
  enableGrad,
  type ForwardContext,
  type GradDestinations,
  type GradOptions,
  grad,
  isAnomalyDetectionEnabled,
  isGradEnabled,
  isNode,
  Node,
  noGrad,
  type OpCore,
  type RawArray,
  reachableNodes,
  type SavedEntry,
  setAnomalyDetection,
  sumTo,
  userFrame,
  withCreationSites,
  withDebugRecording,
} from "./graph.js";
export { type GradgradcheckOptions, gradgradcheck, hvp, jvp } from "./higher-order.js";
export { type Storage, type StorageInfo, storageInfo } from "./kernels/runtime/heap.js";
export {
  DEFAULT_THREADS,
  MAX_THREADS,
  setThreads,
  shutdownThreads,
  THREAD_THRESHOLD,
  type ThreadInfo,
  type ThreadOptions,
} from "./kernels/runtime/threads.js";
export {
  type KernelBackend,
  type KernelBackendOption,
  type KernelInfo,
  kernelInfo,
  ready,
  setKernelBackend,
} from "./kernels/runtime/wasm.js";
export { setPoisonRecycled } from "./memory.js";
export type { OnnxAttribute, OnnxGraphBuilder, OnnxMapping, OnnxValue } from "./onnx.js";
export {
  type AttrArgs,
  defineMultiOutputOp,
  defineOp,
  type InputTensors,
  type Kept,
  type MultiOp,
  type MultiOpSpec,
  type Op,
  type OpSpec,
  type OpTestSpec,
  type Picker,
} from "./op.js";
export { type OpCall, originOf, type TensorOrigin } from "./origin.js";
export { checkSeed, MAX_PERMUTATION, permutationFrom, Rng, type Seed } from "./random.js";
export {
  broadcastShapes,
  checkShape,
  isBroadcastableTo,
  MAX_RANK,
  MAX_TENSOR_SIZE,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  shapeSize,
  shapesEqual,
  stridesOf,
} from "./shape.js";
export {
  type AnyTensor,
  assertFloatTensor,
  assertTensor,
  type BackwardOptions,
  full,
  isFloatTensor,
  isTensor,
  type NestedArray,
  type NestedBooleans,
  type NestedNumbers,
  type NumericArray,
  ones,
  randn,
  resultDType,
  Tensor,
  type TensorLike,
  type TensorMethods,
  type TensorOf,
  type TensorOptions,
  tensor,
  tensorLabel,
  toTensor,
  toTensors,
  zeros,
} from "./tensor.js";
