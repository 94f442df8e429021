import { randn, tensor, zeros } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  Affine,
  accuracy,
  loadSpiral,
  Sequential,
  SGD,
  Sigmoid,
  SoftmaxWithLoss,
  Trainer,
  TwoLayerNet,
} from "../src/index.js";

/** Collects what the trainer prints. */
function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, out: { write: (s: string) => chunks.push(s), isTTY } };
}

describe("loadSpiral", () => {
  it("is the book's generator: 3 classes × 100 points, radius i/N, one-hot labels", () => {
    const { x, t, labels } = loadSpiral({ seed: 1 });
    expect(x.shape).toEqual([300, 2]);
    expect(t.shape).toEqual([300, 3]);
    for (let ix = 0; ix < 300; ix++) {
      const r = Math.hypot(x.data[2 * ix]!, x.data[2 * ix + 1]!);
      expect(r).toBeCloseTo((ix % 100) / 100, 5);
      expect(t.data[ix * 3 + labels[ix]!]).toBe(1);
      expect(labels[ix]).toBe(Math.floor(ix / 100));
    }
    expect(loadSpiral({ seed: 1 }).x.data).toEqual(x.data);
    expect(loadSpiral({ seed: 2 }).x.data).not.toEqual(x.data);
    expect(() => loadSpiral({ classes: 0 })).toThrow(/loadSpiral: classes must be a positive integer, got number 0/);
  });
});

describe("Trainer", () => {
  const run = (seed: number) => {
    const { x, t } = loadSpiral({ seed: 1984 });
    const net = new TwoLayerNet(2, 10, 3, { seed });
    const trainer = new Trainer(net, new SGD({ lr: 1.0 }));
    const { chunks, out } = sink();
    trainer.fit(x, t, { maxEpoch: 300, batchSize: 30, evalInterval: 10, seed, output: out });
    return { trainer, net, x, t, chunks };
  };

  it("learns the spiral: accuracy >= 0.95 and final loss < 0.15, with the seed's hyper-parameters", () => {
    const { trainer, net, x, t } = run(0);
    expect(accuracy(net, x, t)).toBeGreaterThanOrEqual(0.95);
    expect(trainer.lossList.at(-1)!).toBeLessThan(0.15);
    expect(trainer.lossList).toHaveLength(300);
    expect(trainer.batchLosses).toHaveLength(3000);
  });

  it("is deterministic: the same seed gives bit-identical loss lists", () => {
    const a = run(7).trainer;
    const b = run(7).trainer;
    expect(b.batchLosses).toEqual(a.batchLosses);
    expect(Object.is(a.lossList.at(-1), b.lossList.at(-1))).toBe(true);
    expect(run(8).trainer.batchLosses).not.toEqual(a.batchLosses);
  });

  it("prints the seed's progress line; plain lines off a terminal, a progress bar on one", () => {
    const { x, t } = loadSpiral();
    const plain = sink(false);
    new Trainer(new TwoLayerNet(2, 10, 3), new SGD({ lr: 1 })).fit(x, t, {
      maxEpoch: 1,
      batchSize: 30,
      evalInterval: 10,
      output: plain.out,
    });
    expect(plain.chunks.join("")).toMatch(/^\| epoch 1 \| iter 10 \/ 10 \| time 0\[s\] \| loss \d\.\d\d\n$/);
    const tty = sink(true);
    new Trainer(new TwoLayerNet(2, 10, 3), new SGD({ lr: 1 })).fit(x, t, {
      maxEpoch: 2,
      batchSize: 30,
      evalInterval: 10,
      output: tty.out,
    });
    const shown = tty.chunks.join("");
    expect(shown).toMatch(/\[#+-*\] +\d+% epoch 1\/2/);
    expect(shown).toMatch(/\| epoch 2 \| iter 10 \/ 10 \| time 0\[s\] \| loss/);
  });

  it("accepts class indices and checks its arguments", () => {
    const { x, labels } = loadSpiral();
    const tr = new Trainer(new TwoLayerNet(2, 4, 3), new SGD());
    tr.fit(x, labels, { maxEpoch: 1, batchSize: 100, evalInterval: 1, output: null });
    expect(tr.lossList).toHaveLength(3);
    expect(() => tr.fit(x, labels, { batchSize: 301, output: null })).toThrow(
      /batchSize 301 is larger than the 300 rows of x/,
    );
    expect(() => tr.fit(x, [1, 2], { output: null })).toThrow(/Trainer.fit: 2 labels for 300 rows of x/);
    expect(() => tr.fit(x, labels, { maxEpoch: 0, output: null })).toThrow(
      /maxEpoch must be a positive integer, got number 0/,
    );
    expect(() => tr.fit(tensor([1]) as never, labels, { output: null })).toThrow(/1 labels|300 labels/);
  });
});

describe("labels the loss layer ignores", () => {
  const model = () =>
    new Sequential(
      [
        new Affine(randn([2, 5], { seed: 11, dtype: "float64" }), zeros([5], { dtype: "float64" })),
        new Sigmoid(),
        new Affine(randn([5, 3], { seed: 12, dtype: "float64" }), zeros([3], { dtype: "float64" })),
      ],
      new SoftmaxWithLoss({ ignoreIndex: -100 }),
    );
  const { x, labels } = loadSpiral({ seed: 2, dtype: "float64" });
  const t = Array.from(labels, (y, i) => (i % 7 === 0 ? -100 : y));
  const inOrder = () => Array.from({ length: 300 }, (_, i) => i);

  it("reach the model: an ignoreIndex of −100 trains through Trainer.fit, from an array as from a tensor", () => {
    const viaArray = new Trainer(model(), new SGD());
    viaArray.fit(x, t, { maxEpoch: 1, batchSize: 30, shuffle: inOrder, output: null });
    // the first batch's loss is the layer's own on rows 0..29, rows 0, 7, 14, 21 and 28 left out
    const first = model().forward(tensor(x.data.slice(0, 60), { shape: [30, 2] }), t.slice(0, 30));
    expect(viaArray.batchLosses[0]).toBe(first.item());
    const viaTensor = new Trainer(model(), new SGD());
    viaTensor.fit(x, tensor(Int32Array.from(t)), { maxEpoch: 1, batchSize: 30, shuffle: inOrder, output: null });
    expect(viaTensor.batchLosses).toEqual(viaArray.batchLosses);
  });

  it("are refused by a model without that ignoreIndex, naming its loss layer", () => {
    const tr = new Trainer(new TwoLayerNet(2, 4, 3), new SGD());
    expect(() => tr.fit(x, t, { maxEpoch: 1, batchSize: 30, shuffle: inOrder, output: null })).toThrow(
      /^SoftmaxWithLoss\.forward: t\[0\] is number -100; class indices must be integers in \[0, 3\)/,
    );
    expect(tr.batchLosses).toHaveLength(0);
    expect(() => tr.fit(x, [...t.slice(0, 299), 2 ** 31], { output: null })).toThrow(
      /^Trainer\.fit: t\[299\] is number 2147483648; class indices must be integers \(32-bit\)/,
    );
  });
});

describe("int32 labels", () => {
  it("train and score exactly as one-hot targets and plain arrays of class indices do", () => {
    const { x, t, labels } = loadSpiral({ seed: 7 });
    const fit = (targets: Parameters<Trainer["fit"]>[1]) => {
      const net = new TwoLayerNet(2, 6, 3, { seed: 3 });
      const trainer = new Trainer(net, new SGD({ lr: 1.0 }));
      trainer.fit(x, targets, { maxEpoch: 3, batchSize: 30, evalInterval: 5, seed: 5 });
      return { losses: trainer.lossList, net };
    };
    const asInt = tensor(Int32Array.from(labels));
    expect(asInt.dtype).toBe("int32");
    const viaInt = fit(asInt);
    const viaArray = fit(Array.from(labels));
    expect(viaInt.losses).toEqual(viaArray.losses);
    expect(viaInt.losses.length).toBeGreaterThan(0);
    expect(accuracy(viaInt.net, x, asInt)).toBe(accuracy(viaInt.net, x, t));
  });
});
