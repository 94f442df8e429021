export { ReLU, Sigmoid, Softmax, Tanh } from "./activation.js";
export { Dropout, type DropoutOptions } from "./dropout.js";
export { autodiffBackward, BaseLayer, gradBufferFor, type Layer } from "./layer.js";
export { Affine, MatMul } from "./linear.js";
export { type LossLayer, SoftmaxWithLoss, type SoftmaxWithLossOptions } from "./loss.js";
