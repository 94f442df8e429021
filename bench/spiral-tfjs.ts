/**
 * The spiral job's training loop on TensorFlow.js, written once for bench/tfjs.ts (Node.js) and
 * the playground's browser benchmark (apps/playground/bench, Chromium). Browser-safe: it imports
 * tfjs-core only, and registers neither a backend nor the gradients; the caller does both (in
 * Node.js the gradients come in through `require`, in a bundle as an ES module) and makes the
 * backend it measures the active one.
 */

import { Rng } from "@gradgraph/core";
import { loadSpiral, TwoLayerNet } from "@gradgraph/nn";
import * as tf from "@tensorflow/tfjs-core";

/** The spiral data set (seed 1984) as float32 tensors on the active backend. */
export interface TfSpiralData {
  readonly x: tf.Tensor2D;
  readonly t: tf.Tensor2D;
}

/** The 300 points and their one-hot labels, as gradgraph's `loadSpiral({ seed: 1984 })` gives them. */
export function tfjsSpiralData(): TfSpiralData {
  const { x: xs, t: ts } = loadSpiral({ seed: 1984, dtype: "float32" });
  return {
    x: tf.tensor2d(xs.data as Float32Array, [300, 2]),
    t: tf.tensor2d(ts.data as Float32Array, [300, 3]),
  };
}

/**
 * One run of the job as gradgraph's Trainer runs it: a fresh 2-10-3 net (the same initial weights,
 * from `TwoLayerNet` with `seed`), Affine → sigmoid → Affine → softmax cross-entropy, SGD lr 1.0,
 * 300 epochs of 10 shuffled mini-batches of 30 (the same shuffles), each batch gathered with
 * `tf.gather`, the loss read back every step and averaged every 10 steps. Leaves no tensor behind.
 * @returns the last averaged loss.
 */
export function tfjsSpiralRun(data: TfSpiralData, seed: number): number {
  const { x, t } = data;
  const batchSize = 30;
  const idx = new Int32Array(batchSize);
  const net = new TwoLayerNet(2, 10, 3, { seed, dtype: "float32" });
  const vars = tf.tidy(() => net.params.map((p) => tf.variable(tf.tensor(p.data, [...p.shape]))));
  const [W1, b1, W2, b2] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const opt = tf.train.sgd(1.0);
  const rng = new Rng(seed);
  let total = 0;
  let last = 0;
  for (let epoch = 0; epoch < 300; epoch++) {
    const order = rng.permutation(300);
    for (let iter = 0; iter < 10; iter++) {
      for (let k = 0; k < batchSize; k++) idx[k] = order[iter * batchSize + k]!;
      total += tf.tidy(() => {
        const rows = tf.tensor1d(idx, "int32");
        const bx = tf.gather(x, rows);
        const bt = tf.gather(t, rows);
        const loss = (): tf.Scalar => {
          const h = tf.sigmoid(tf.add(tf.matMul(bx, W1), b1));
          return tf.losses.softmaxCrossEntropy(bt, tf.add(tf.matMul(h, W2), b2)) as tf.Scalar;
        };
        return opt.minimize(loss, true, vars)!.dataSync()[0]!;
      });
      if ((iter + 1) % 10 === 0) {
        last = total / 10;
        total = 0;
      }
    }
  }
  opt.dispose();
  for (const v of vars) v.dispose();
  return last;
}
