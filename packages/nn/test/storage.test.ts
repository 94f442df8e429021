/**
 * Models whose parameters live in WebAssembly memory (`storage: "wasm"`): they train exactly as
 * with JS storage (same losses and parameters, bit for bit) under every optimizer, keep their
 * parameters and gradients resident and updated in place, and save and load like any other.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArgumentError, randn, type Storage, storageInfo, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  Affine,
  createOptimizer,
  loadParamsInto,
  OPTIMIZER_NAMES,
  ReLU,
  Sequential,
  SoftmaxWithLoss,
  saveParams,
  TwoLayerNet,
} from "../src/index.js";

/** A 40-120-10 ReLU MLP (large enough for the WASM kernels) with parameters in `storage`. */
function mlp(storage: Storage): Sequential {
  const t = (n: number, shape: number[], phase: number) =>
    tensor(
      Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(phase + 0.61 * i)),
      { shape, storage },
    );
  return new Sequential(
    [
      new Affine(t(40 * 120, [40, 120], 1), t(120, [120], 2)),
      new ReLU(),
      new Affine(t(1200, [120, 10], 3), t(10, [10], 4)),
    ],
    new SoftmaxWithLoss(),
  );
}

const x = tensor(
  Float32Array.from({ length: 50 * 40 }, (_, i) => Math.cos(0.37 * i)),
  { shape: [50, 40] },
);
const labels = Array.from({ length: 50 }, (_, i) => (i * 7) % 10);

describe("training with storage 'wasm'", () => {
  for (const name of OPTIMIZER_NAMES) {
    it(`gives the same losses and parameters as JS storage (${name})`, () => {
      const runs = (["js", "wasm"] as const).map((storage) => {
        const model = mlp(storage);
        const opt = createOptimizer(name, { lr: 0.05 });
        const data = model.params.map((p) => p.data);
        const losses: number[] = [];
        for (let step = 0; step < 5; step++) {
          losses.push(model.forward(x, labels).item());
          model.backward();
          opt.update(model.params, model.grads);
        }
        return { model, losses, data };
      });
      const [js, wasm] = runs as [(typeof runs)[0], (typeof runs)[0]];
      expect(wasm.losses).toEqual(js.losses);
      wasm.model.params.forEach((p, i) => {
        expect(p.storage).toBe("wasm");
        expect(wasm.model.grads[i]!.storage).toBe("wasm");
        expect(p.data).toBe(wasm.data[i]); // updated in place
        expect(Array.from(p.data)).toEqual(Array.from(js.model.params[i]!.data));
        expect(Array.from(wasm.model.grads[i]!.data)).toEqual(Array.from(js.model.grads[i]!.data));
      });
      expect(js.model.params.every((p) => p.storage === "js")).toBe(true);
    });
  }

  it("keeps WebAssembly memory flat over a training loop (kernel scratch space is given back)", () => {
    const model = mlp("wasm");
    const opt = createOptimizer("sgd", { lr: 0.05 });
    const step = () => {
      model.forward(x, labels);
      model.backward();
      opt.update(model.params, model.grads);
    };
    for (let i = 0; i < 3; i++) step();
    const before = storageInfo();
    for (let i = 0; i < 40; i++) step();
    expect(storageInfo()).toEqual(before);
  });

  it("runs the README's example: params, grads and randn in storage 'wasm'", () => {
    const net = new TwoLayerNet(784, 1000, 10, { storage: "wasm" });
    expect(net.params.map((p) => p.storage)).toEqual(["wasm", "wasm", "wasm", "wasm"]);
    expect(net.grads.map((g) => g.storage)).toEqual(["wasm", "wasm", "wasm", "wasm"]);
    const W = randn([784, 1000], { seed: 1, storage: "wasm" });
    expect(W.storage).toBe("wasm");
  });

  it("TwoLayerNet takes a storage option and checks it", () => {
    const net = new TwoLayerNet(4, 6, 3, { seed: 3, storage: "wasm" });
    const ref = new TwoLayerNet(4, 6, 3, { seed: 3 });
    expect(net.params.map((p) => p.storage)).toEqual(["wasm", "wasm", "wasm", "wasm"]);
    expect(ref.params.map((p) => p.storage)).toEqual(["js", "js", "js", "js"]);
    expect(net.params.map((p) => Array.from(p.data))).toEqual(ref.params.map((p) => Array.from(p.data)));
    const init = new TwoLayerNet(4, 6, 3, { storage: "wasm", init: { W1: ref.params[0]!, W2: ref.params[2]! } });
    expect(init.params.map((p) => p.storage)).toEqual(["wasm", "wasm", "wasm", "wasm"]);
    expect(() => new TwoLayerNet(4, 6, 3, { storage: "gpu" as Storage })).toThrow(ArgumentError);
    expect(() => new TwoLayerNet(4, 6, 3, { storage: "gpu" as Storage })).toThrow(
      "TwoLayerNet: storage must be 'js' or 'wasm', got string \"gpu\"",
    );
  });

  it("saves resident parameters and loads a checkpoint into them", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-storage-"));
    try {
      const src = mlp("wasm");
      const named = Object.fromEntries(src.params.map((p, i) => [`p${i}`, p]));
      saveParams(join(dir, "m.safetensors"), named);
      const dst = mlp("wasm");
      for (const p of dst.params) p.data.fill(0);
      const target = Object.fromEntries(dst.params.map((p, i) => [`p${i}`, p]));
      loadParamsInto(join(dir, "m.safetensors"), target);
      dst.params.forEach((p, i) => {
        expect(p.storage).toBe("wasm");
        expect(Array.from(p.data)).toEqual(Array.from(src.params[i]!.data));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
