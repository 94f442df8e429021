/**
 * The seed's hand-written layers, with the book's backward formulas, over raw typed arrays and the
 * same kernels gradgraph uses (gemm). They are the reference the autodiff-derived gradients are
 * tested against, and the baseline of the backward benchmark.
 */
import { allocArray, type FloatArray } from "@gradgraph/core";
import { gemm } from "@gradgraph/core/kernels";

/** A raw matrix: row-major data and its two dimensions. */
export interface Mat {
  data: FloatArray;
  rows: number;
  cols: number;
}

/** A zero array of `a`'s dtype from the allocator gradgraph uses, so the benchmark compares like with like. */
const like = (a: FloatArray, n: number): FloatArray => allocArray(a instanceof Float64Array ? "float64" : "float32", n);

/** MatMul: y = x·W; dx = dy·Wᵀ, dW = xᵀ·dy. */
export class RefMatMul {
  readonly params: Mat[];
  readonly grads: Mat[];
  #x: Mat | null = null;
  constructor(W: Mat) {
    this.params = [W];
    this.grads = [{ data: like(W.data, W.data.length), rows: W.rows, cols: W.cols }];
  }
  forward(x: Mat): Mat {
    const W = this.params[0]!;
    const out = like(x.data, x.rows * W.cols);
    gemm(false, false, x.rows, W.cols, x.cols, x.data, W.data, out);
    this.#x = x;
    return { data: out, rows: x.rows, cols: W.cols };
  }
  backward(dout: Mat): Mat {
    const W = this.params[0]!;
    const x = this.#x!;
    const dx = like(dout.data, x.rows * x.cols);
    gemm(false, true, dout.rows, W.rows, dout.cols, dout.data, W.data, dx);
    gemm(true, false, x.cols, dout.cols, x.rows, x.data, dout.data, this.grads[0]!.data);
    return { data: dx, rows: x.rows, cols: x.cols };
  }
}

/** Affine: y = x·W + b; dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy. */
export class RefAffine {
  readonly params: Mat[];
  readonly grads: Mat[];
  #x: Mat | null = null;
  constructor(W: Mat, b: Mat) {
    this.params = [W, b];
    this.grads = [
      { data: like(W.data, W.data.length), rows: W.rows, cols: W.cols },
      { data: like(b.data, b.data.length), rows: 1, cols: b.cols },
    ];
  }
  forward(x: Mat): Mat {
    const [W, b] = this.params as [Mat, Mat];
    const out = like(x.data, x.rows * W.cols);
    gemm(false, false, x.rows, W.cols, x.cols, x.data, W.data, out);
    for (let i = 0; i < x.rows; i++)
      for (let j = 0; j < W.cols; j++) out[i * W.cols + j] = out[i * W.cols + j]! + b.data[j]!;
    this.#x = x;
    return { data: out, rows: x.rows, cols: W.cols };
  }
  /** With `needDx` false (the input layer, whose input needs no gradient) dx is not computed. */
  backward(dout: Mat, needDx = true): Mat {
    const W = this.params[0]!;
    const x = this.#x!;
    const dx = like(dout.data, needDx ? x.rows * x.cols : 0);
    if (needDx) gemm(false, true, dout.rows, W.rows, dout.cols, dout.data, W.data, dx);
    gemm(true, false, x.cols, dout.cols, x.rows, x.data, dout.data, this.grads[0]!.data);
    const db = this.grads[1]!.data;
    db.fill(0);
    for (let i = 0; i < dout.rows; i++)
      for (let j = 0; j < dout.cols; j++) db[j] = db[j]! + dout.data[i * dout.cols + j]!;
    return { data: dx, rows: x.rows, cols: x.cols };
  }
}

/** Sigmoid: y = 1/(1 + exp(−x)); dx = dy·(1 − y)·y. */
export class RefSigmoid {
  readonly params: Mat[] = [];
  readonly grads: Mat[] = [];
  #y: Mat | null = null;
  forward(x: Mat): Mat {
    const out = like(x.data, x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-x.data[i]!));
    this.#y = { data: out, rows: x.rows, cols: x.cols };
    return this.#y;
  }
  backward(dout: Mat): Mat {
    const y = this.#y!.data;
    const dx = like(dout.data, y.length);
    for (let i = 0; i < dx.length; i++) dx[i] = dout.data[i]! * (1 - y[i]!) * y[i]!;
    return { data: dx, rows: dout.rows, cols: dout.cols };
  }
}

/** SoftmaxWithLoss: loss = −Σ t·log softmax(x) / N; dx = (y − t)/N. */
export class RefSoftmaxWithLoss {
  readonly params: Mat[] = [];
  readonly grads: Mat[] = [];
  #y: Mat | null = null;
  #t: Int32Array | null = null;
  forward(x: Mat, labels: Int32Array): number {
    const { rows, cols } = x;
    const y = like(x.data, rows * cols);
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) m = Math.max(m, x.data[i * cols + j]!);
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x.data[i * cols + j]! - m);
        y[i * cols + j] = e;
        s += e;
      }
      for (let j = 0; j < cols; j++) y[i * cols + j] = y[i * cols + j]! / s;
      loss -= Math.log(y[i * cols + labels[i]!]!);
    }
    this.#y = { data: y, rows, cols };
    this.#t = labels;
    return loss / rows;
  }
  backward(dout = 1): Mat {
    const { data: y, rows, cols } = this.#y!;
    const dx = like(y, y.length);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) dx[i * cols + j] = y[i * cols + j]!;
      dx[i * cols + this.#t![i]!] = dx[i * cols + this.#t![i]!]! - 1;
    }
    for (let k = 0; k < dx.length; k++) dx[k] = (dx[k]! * dout) / rows;
    return { data: dx, rows, cols };
  }
}

/** The book's TwoLayerNet with hand-written backward. */
export class RefTwoLayerNet {
  readonly layers: [RefAffine, RefSigmoid, RefAffine];
  readonly lossLayer = new RefSoftmaxWithLoss();
  readonly params: Mat[];
  readonly grads: Mat[];
  constructor(W1: Mat, b1: Mat, W2: Mat, b2: Mat) {
    this.layers = [new RefAffine(W1, b1), new RefSigmoid(), new RefAffine(W2, b2)];
    this.params = this.layers.flatMap((l) => l.params);
    this.grads = this.layers.flatMap((l) => l.grads);
  }
  forward(x: Mat, labels: Int32Array): number {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return this.lossLayer.forward(h, labels);
  }
  /**
   * The book's backward, except that the input layer skips `dx` (nothing needs the gradient of the
   * data), as the autodiff backward does: the fair baseline of the benchmark.
   */
  backward(): void {
    let d = this.lossLayer.backward(1);
    for (let i = this.layers.length - 1; i > 0; i--) d = this.layers[i]!.backward(d);
    this.layers[0].backward(d, false);
  }
}
