/**
 * Exported models run in ONNX Runtime and give gradgraph's values: the seed's TwoLayerNet, an MLP
 * (Sequential), a transformer-style block; with dynamic axes at other batch sizes too.
 */
import { randn, Rng, type Tensor, tensor } from "@gradgraph/core";
import { Affine, ReLU, Sequential, Sigmoid, TwoLayerNet } from "@gradgraph/nn";
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
    const bytes = exportModel(net, randn([4, 2], { rng: new Rng(4), dtype: "float64" }), { dynamicAxes: { 0: "batch" } });
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

export type { Tensor };
export { expect, toOnnx };
