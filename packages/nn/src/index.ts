/**
 * @gradgraph/nn: chapter 1 of "Deep Learning from Scratch 2" as a library — layers with
 * `params`/`grads` whose gradients reverse-mode autodiff derives, optimizers, a Trainer, the
 * spiral data set and safetensors checkpoints.
 *
 * @module @gradgraph/nn
 */
export { loadSpiral, type SpiralData, type SpiralOptions } from "./datasets/spiral.js";
export {
  CheckpointError,
  DEFAULT_MAX_HEADER_BYTES,
  type DecodeSafetensorsOptions,
  decodeSafetensors,
  type EncodeSafetensorsOptions,
  encodeSafetensors,
  fromBfloat16Bits,
  fromFloat16Bits,
  loadParams,
  loadParamsInto,
  type NamedTensors,
  parseSafetensors,
  type SafetensorsContents,
  type SafetensorsDType,
  saveParams,
  toBfloat16Bits,
  toFloat16Bits,
  writeFileAtomic,
} from "./io/index.js";
export {
  Affine,
  autodiffBackward,
  BaseLayer,
  Dropout,
  type DropoutOptions,
  gradBufferFor,
  type Layer,
  type LossLayer,
  MatMul,
  ReLU,
  Sigmoid,
  Softmax,
  SoftmaxWithLoss,
  type SoftmaxWithLossOptions,
  Tanh,
} from "./layers/index.js";
export { accuracy, argmaxRows, labelIndices } from "./metrics.js";
export { type Model, Sequential, TwoLayerNet, type TwoLayerNetOptions } from "./models.js";
export {
  AdaGrad,
  type AdaGradOptions,
  Adam,
  type AdamOptions,
  clipGradNorm,
  createOptimizer,
  Momentum,
  type MomentumOptions,
  Nesterov,
  OPTIMIZER_NAMES,
  type Optimizer,
  type OptimizerName,
  type OptimizerOptionsByName,
  RMSprop,
  type RMSpropOptions,
  SGD,
  type SGDOptions,
} from "./optim/index.js";
export { type FitOptions, type ProgressOutput, Trainer } from "./trainer.js";
