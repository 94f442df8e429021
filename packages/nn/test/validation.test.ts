/**
 * Issue 1, "fail fast and cleanly", for @gradgraph/nn: frozen and fake tensors, and methods
 * called on something that is not their object, end in an ArgumentError naming the class and
 * method, raised before anything is modified.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArgumentError, Tensor, tensor, zeros } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  Adam,
  Affine,
  clipGradNorm,
  MatMul,
  ReLU,
  Sequential,
  SGD,
  SoftmaxWithLoss,
  Trainer,
  TwoLayerNet,
  writeFileAtomic,
} from "../src/index.js";

const W = () =>
  tensor([
    [0.1, 0.2],
    [0.3, 0.4],
  ]);
const b = () => tensor([0.5, 0.6]);
/** Object.freeze types its result Readonly<Tensor>, which lacks Tensor's private brand: a cast. */
const frozen = (t: Tensor): Tensor => Object.freeze(t) as Tensor;

describe("frozen tensors", () => {
  it("are refused as layer parameters (new Affine(frozenW, b) was 'Cannot assign to read only property')", () => {
    expect(() => new Affine(frozen(W()), b())).toThrow(ArgumentError);
    expect(() => new Affine(frozen(W()), b())).toThrow(/^Affine: W Tensor\(float32, \[2, 2\]\) is frozen/);
    expect(() => new MatMul(frozen(W()))).toThrow(/^MatMul: W .* is frozen/);
  });

  it("are refused by the optimizers and clipGradNorm before any parameter changes", () => {
    const p = [W(), frozen(W())];
    const g = [W(), W()];
    for (const opt of [new SGD({ lr: 1 }), new Adam()]) {
      expect(() => opt.update(p, g)).toThrow(new RegExp(`^${opt.name}\\.update: params\\[1\\] .* is frozen`));
      expect(p[0]!.toArray()).toEqual(W().toArray());
    }
    const grads = [W(), frozen(W())];
    expect(() => clipGradNorm(grads, 1e-3)).toThrow(/^clipGradNorm: grads\[1\] Tensor\(float32, \[2, 2\]\) is frozen/);
    expect(grads[0]!.toArray()).toEqual(W().toArray());
  });

  it("a frozen layer cannot keep its last input: its forward says so", () => {
    const layer = Object.freeze(new ReLU());
    expect(() => layer.forward(tensor([1, -1]))).toThrow(/^ReLU\.forward: the layer is frozen/);
  });
});

describe("fake tensors", () => {
  it("are refused as parameters, inputs and options (checkParam crashed on creator.op)", () => {
    const fake = Object.create(Tensor.prototype) as Tensor;
    expect(() => new MatMul(fake)).toThrow(/^MatMul: W must be a Tensor, got an object with Tensor's prototype/);
    expect(() => new Affine(W(), fake)).toThrow(/^Affine: b must be a Tensor/);
    expect(() => new ReLU().forward(fake)).toThrow(/^ReLU\.forward: x must be a Tensor/);
    expect(() => new TwoLayerNet(2, 2, 2, tensor([1]) as never)).toThrow(/^TwoLayerNet: options must be an object/);
    expect(() => new TwoLayerNet(2, 2, 2, fake as never)).toThrow(/^TwoLayerNet: options must be an object/);
  });
});

describe("methods called on something that is not their object", () => {
  it("say which method and class, instead of 'Cannot read private member' or 'x is not a function'", () => {
    const layer = new Affine(W(), b());
    const { forward, backward } = layer;
    expect(() => forward(tensor([[1, 2]]))).toThrow(/^BaseLayer\.forward: this must be a layer/);
    expect(() => backward.call(Object.create(Affine.prototype))).toThrow(/^BaseLayer\.backward: this must be a layer/);
    expect(() => SGD.prototype.update.call({} as SGD, [], [])).toThrow(/^SGD\.update: this must be a SGD/);
    expect(() => Adam.prototype.update.call(new SGD(), [], [])).toThrow(/^Adam\.update: this must be an Adam/);
    const lr = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(SGD.prototype), "lr")!;
    expect(() => lr.get!.call(5)).toThrow(/^Optimizer\.lr: this must be an Optimizer/);
    expect(() => lr.set!.call(null, 1)).toThrow(ArgumentError);
    const iter = Object.getOwnPropertyDescriptor(Adam.prototype, "iter")!;
    expect(() => iter.get!.call(new SGD())).toThrow(/^Adam\.iter: this must be an Adam/);
    expect(() => SoftmaxWithLoss.prototype.forward.call(undefined as never, tensor([[1, 2]]), [0])).toThrow(
      /^SoftmaxWithLoss\.forward: this must be a SoftmaxWithLoss/,
    );
    const net = new Sequential([new ReLU()]);
    expect(() => Sequential.prototype.backward.call(null as never)).toThrow(/^Sequential\.backward: this must be/);
    expect(() => net.predict.call({} as never, tensor([1]))).toThrow(/^Sequential\.predict: this must be/);
  });

  it("a BaseLayer made with new (it is abstract) has no compute: its forward says so", () => {
    const Base = Object.getPrototypeOf(ReLU) as new () => ReLU;
    expect(() => new Base().forward(tensor([1]))).toThrow(/forward: the layer has no compute method/);
  });
});

describe("Sequential.backward", () => {
  it("refuses a frozen parameter before re-pointing any .grad, and a dout that is not a number or tensor", () => {
    const net = new TwoLayerNet(2, 3, 2);
    net.forward(zeros([1, 2]), [0]);
    Object.freeze(net.params[3]!);
    expect(() => net.backward()).toThrow(/^backward: params\[3\] .* frozen/);
    const other = new TwoLayerNet(2, 3, 2);
    other.forward(zeros([1, 2]), [0]);
    expect(() => other.backward("1" as never)).toThrow(/^backward: dout must be a number or a one-element Tensor/);
  });
});

describe("Trainer.fit and writeFileAtomic (the probe's last findings in nn)", () => {
  const data = () => ({
    x: tensor([
      [0.1, 0.2],
      [0.3, 0.4],
      [0.5, 0.6],
      [0.7, 0.8],
    ]),
    t: [0, 1, 0, 1],
  });
  const trainer = () => new Trainer(new TwoLayerNet(2, 3, 2, { seed: 1 }), new SGD());
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };

  it("refuses a receiver that is not a Trainer, a Proxy of one included", () => {
    const tr = trainer();
    const { x, t } = data();
    expect(() => Reflect.apply(tr.fit, {}, [x, t])).toThrow(/^Trainer\.fit: this must be a Trainer/);
    expect(() => Reflect.apply(tr.fit, new Proxy(tr, {}), [x, t])).toThrow(/^Trainer\.fit: this must be a Trainer/);
  });

  it("refuses a frozen trainer, or frozen loss records, before training (the model is not touched)", () => {
    const { x, t } = data();
    const tr = trainer();
    const before = tr.model.params.map((p) => p.toArray());
    Object.freeze(tr);
    expect(() => tr.fit(x, t, { batchSize: 2, maxEpoch: 1, output: null })).toThrow(
      /^Trainer\.fit: the trainer is frozen/,
    );
    expect(tr.model.params.map((p) => p.toArray())).toEqual(before);
    const tr2 = trainer();
    Object.freeze(tr2.batchLosses);
    expect(() => tr2.fit(x, t, { batchSize: 2, maxEpoch: 1, output: null })).toThrow(
      /^Trainer\.fit: the trainer's batchLosses must be an array it can append to/,
    );
  });

  it("refuses fake tensors and revoked Proxies as labels with a gradgraph error", () => {
    const { x } = data();
    const fake = Object.create(Tensor.prototype);
    for (const t of [fake, revoked(), { length: 4 }]) {
      expect(() => trainer().fit(x, t as never, { batchSize: 2, maxEpoch: 1, output: null })).toThrow(
        /^Trainer\.fit: t must be a Tensor, an array or an Int32Array/,
      );
    }
  });

  it("writeFileAtomic refuses a revoked Proxy and a detached Uint8Array (which would write an empty file)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-wfa-"));
    try {
      const path = join(dir, "f.bin");
      expect(() => writeFileAtomic(path, revoked() as never)).toThrow(
        /^writeFileAtomic: data must be a string or a Uint8Array, got revoked Proxy/,
      );
      const bytes = new Uint8Array(8);
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      expect(() => writeFileAtomic(path, bytes)).toThrow(/^writeFileAtomic: data's ArrayBuffer was detached/);
      expect(existsSync(path)).toBe(false);
      writeFileAtomic(path, new Uint8Array(0));
      expect(readFileSync(path).length).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
