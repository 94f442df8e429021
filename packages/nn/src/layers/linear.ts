/** The seed's MatMul and Affine layers (`x·W` and `x·W + b`), with autodiff backward. */
import { fmtShape, ShapeError, type Tensor } from "@gradgraph/core";
import { add, affine, matmul } from "@gradgraph/nodes";
import { checkLinearInput, checkParam } from "../checks.js";
import { BaseLayer, checkLayerThis } from "./layer.js";

/** `MatMul`: `y = x·W` for a mini-batch x (N×D) and W (D×H). */
export class MatMul extends BaseLayer {
  readonly name = "MatMul";

  /**
   * A layer over the given weight, which it trains in place (no copy).
   * @param W - the weight (D×H); it becomes a trainable leaf.
   * @throws ShapeError when W is not 2-D; ArgumentError when it is not a leaf Tensor.
   */
  constructor(W: Tensor) {
    checkParam("MatMul", "W", W);
    super([W]);
    if (W.rank !== 2) throw new ShapeError("MatMul", `MatMul: W must be 2-D, got shape ${fmtShape(W.shape)}`);
  }

  /**
   * `x·W` as {@link matmul} computes it: N×H for x of N×D; any x whose last dimension is D works
   * (a vector gives H elements, a batch [..., N, D] gives [..., N, H]).
   * @throws ShapeError naming `MatMul.forward` when x is not N×D for W of D×H.
   */
  protected compute(x: Tensor): Tensor {
    checkLayerThis("MatMul.compute", this);
    checkLinearInput("MatMul", this.params[0]!, x);
    return matmul(x, this.params[0]!);
  }
}

/** `Affine`: `y = x·W + b`, the fully connected layer, for x (N×D), W (D×H), b (H). */
export class Affine extends BaseLayer {
  readonly name = "Affine";

  /**
   * A layer over the given weight and bias, which it trains in place (no copies).
   * @param W - the weight (D×H).
   * @param b - the bias (H, or 1×H); both become trainable leaves.
   * @throws ShapeError when W is not 2-D or b does not match W's columns; ArgumentError when
   *   either is not a leaf Tensor.
   */
  constructor(W: Tensor, b: Tensor) {
    checkParam("Affine", "W", W);
    checkParam("Affine", "b", b);
    super([W, b]);
    if (W.rank !== 2) throw new ShapeError("Affine", `Affine: W must be 2-D, got shape ${fmtShape(W.shape)}`);
    const H = W.shape[1]!;
    if (b.size !== H || b.rank > 2) {
      throw new ShapeError(
        "Affine",
        `Affine: b of shape ${fmtShape(b.shape)} does not match W of shape ${fmtShape(W.shape)} (needs ${H} elements)`,
      );
    }
  }

  /**
   * `x·W + b`: N×H for x of N×D, in one fused op ({@link affine}); any other x whose last
   * dimension is D goes through `matmul` and a broadcast add of `b`.
   * @throws ShapeError naming `Affine.forward` when x is not N×D for W of D×H.
   */
  protected compute(x: Tensor): Tensor {
    checkLayerThis("Affine.compute", this);
    checkLinearInput("Affine", this.params[0]!, x);
    // a mini-batch (the usual case) takes the fused op: one output array, bias added in place
    if (x.rank === 2) return affine(x, this.params[0]!, this.params[1]!);
    return add(matmul(x, this.params[0]!), this.params[1]!);
  }
}
