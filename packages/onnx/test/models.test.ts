/**
 * Exported models run in ONNX Runtime and give gradgraph's values: the seed's TwoLayerNet, an MLP
 * (Sequential), a transformer-style block; with dynamic axes at other batch sizes too.
 */
import { Rng, randn, type Tensor, tensor, withDebugRecording } from "@gradgraph/core";
import { Affine, ReLU, Sequential, Sigmoid, TwoLayerNet } from "@gradgraph/nn";
import { add, affine, div, matmul, mean, mul, relu, reshape, softmax, sqrt, sub, transpose } from "@gradgraph/nodes";
import { describe, expect, it } from "vitest";
import { exportModel, toOnnx } from "../src/index.js";
import { expectClose, runOrt } from "./ort.js";

describe("exportModel in ONNX Runtime", () => {
  it("the TwoLayerNet gives gradgraph's scores", async () => {
    const net = new TwoLayerNet(2, 10, 3, { seed: 1 });
    const x = randn([5, 2], { rng: new Rng(2) });
    const bytes = exportModel(net, x, { paramNames: ["W1", "b1", "W2", "b2"] });
    const out = await runOrt(bytes, { x });
    expectClose(out.scores, net.predict(x), "scores");
  });

  it("with dynamicAxes, runs at batch sizes other than the sample's", async () => {
    const net = new TwoLayerNet(2, 8, 3, { seed: 3, dtype: "float64" });
    const bytes = exportModel(net, randn([4, 2], { rng: new Rng(4), dtype: "float64" }), {
      dynamicAxes: { 0: "batch" },
    });
    for (const n of [1, 7, 33]) {
      const x = randn([n, 2], { rng: new Rng(n), dtype: "float64" });
      const out = await runOrt(bytes, { x });
      expectClose(out.scores, net.predict(x), `batch ${n}`);
    }
  });

  it("an MLP (Sequential of Affine, ReLU, Sigmoid)", async () => {
    const rng = new Rng(5);
    const w = (r: number, c: number) => {
      const t = randn([r, c], { rng });
      return t;
    };
    const model = new Sequential([
      new Affine(w(4, 16), tensor(new Float32Array(16).fill(0.1))),
      new ReLU(),
      new Affine(w(16, 8), tensor(new Float32Array(8).fill(-0.1))),
      new Sigmoid(),
      new Affine(w(8, 3), tensor(new Float32Array(3))),
    ]);
    const x = randn([6, 4], { rng });
    const bytes = exportModel(model, x, { dynamicAxes: { 0: "n" } });
    expectClose((await runOrt(bytes, { x })).scores, model.predict(x), "mlp");
    const x2 = randn([11, 4], { rng });
    expectClose((await runOrt(bytes, { x: x2 })).scores, model.predict(x2), "mlp, batch 11");
  });
});

/**
 * A transformer-style block on x [B, T, D]: single-head attention from matmuls and a softmax, a
 * residual, layer norm from mean/sub/mul/sqrt/div, and a position-wise affine through reshapes.
 */
function block(dtype: "float32" | "float64") {
  const rng = new Rng(11);
  const D = 4;
  const p = (shape: number[], scale = 0.5) => {
    const t = randn(shape, { rng, dtype });
    for (let i = 0; i < t.size; i++) t.data[i] = scale * t.data[i]!;
    t.requiresGrad = true;
    return t;
  };
  const params = { Wq: p([D, D]), Wk: p([D, D]), Wv: p([D, D]), gamma: p([D]), beta: p([D]), W: p([D, D]), b: p([D]) };
  const forward = (x: Tensor): Tensor => {
    const [B, T] = x.shape as [number, number, number];
    const q = matmul(x, params.Wq);
    const k = matmul(x, params.Wk);
    const v = matmul(x, params.Wv);
    const scores = div(matmul(q, transpose(k, [0, 2, 1])), Math.sqrt(D));
    const h = add(x, matmul(softmax(scores, -1), v));
    const mu = mean(h, { axis: -1, keepdims: true });
    const d = sub(h, mu);
    const variance = mean(mul(d, d), { axis: -1, keepdims: true });
    const normed = add(mul(div(d, sqrt(add(variance, 1e-5))), params.gamma), params.beta);
    const ff = relu(affine(reshape(normed, [B * T, D]), params.W, params.b));
    return add(normed, reshape(ff, [B, T, D]));
  };
  return { params, forward, D };
}

describe("a transformer-style block", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`(${dtype}) gives gradgraph's values in ONNX Runtime, at other batch sizes too (dynamicAxes)`, async () => {
      const { params, forward, D } = block(dtype);
      const x = randn([2, 3, D], { rng: new Rng(12), dtype });
      x.requiresGrad = true;
      const y = withDebugRecording(() => forward(x));
      const bytes = toOnnx({ y }, { inputs: { x }, params, dynamicAxes: { x: { 0: "batch" } } });
      expectClose((await runOrt(bytes, { x })).y, y, "block");
      for (const B of [1, 5]) {
        const x2 = randn([B, 3, D], { rng: new Rng(B), dtype });
        expectClose((await runOrt(bytes, { x: x2 })).y, forward(x2), `block, batch ${B}`);
      }
    });
  }
});

export { expect };
