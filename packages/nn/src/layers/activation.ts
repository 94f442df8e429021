/** Parameter-free layers: Sigmoid, ReLU, Tanh and Softmax, with autodiff backward. */
import { assertFloatTensor, type Tensor } from "@gradgraph/core";
import { relu, sigmoid, softmax, tanh } from "@gradgraph/nodes";
import { checkClassAxis } from "../checks.js";
import { BaseLayer } from "./layer.js";

/** `Sigmoid`: `1 / (1 + exp(−x))`; its derivative `y·(1 − y)` comes from the saved output. */
export class Sigmoid extends BaseLayer {
  readonly name = "Sigmoid";
  protected compute(x: Tensor): Tensor {
    return sigmoid(assertFloatTensor("Sigmoid.forward", "x", x));
  }
}

/** `ReLU`: `max(x, 0)`; derivative 1 for x > 0, else 0 (0 at x = 0, as PyTorch). */
export class ReLU extends BaseLayer {
  readonly name = "ReLU";
  protected compute(x: Tensor): Tensor {
    return relu(assertFloatTensor("ReLU.forward", "x", x));
  }
}

/** `Tanh`: hyperbolic tangent; derivative `1 − y²`. */
export class Tanh extends BaseLayer {
  readonly name = "Tanh";
  protected compute(x: Tensor): Tensor {
    return tanh(assertFloatTensor("Tanh.forward", "x", x));
  }
}

/** `Softmax` over the last axis (class scores to probabilities). */
export class Softmax extends BaseLayer {
  readonly name = "Softmax";
  /**
   * Softmax along the last axis: each slice of x along it becomes probabilities summing to 1.
   * @throws ShapeError naming `Softmax.forward` for a 0-d x (no class axis).
   */
  protected compute(x: Tensor): Tensor {
    checkClassAxis("Softmax.forward", "x", x);
    return softmax(x, -1);
  }
}
