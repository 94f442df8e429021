/**
 * Reproduces the book exactly: the spiral run of "Deep Learning from Scratch 2", chapter 1,
 * computed by the book's own numpy code (fixtures/spiral-book-trajectory.json, a copy of
 * shared/data): same data, initial weights and shuffle orders, float64, TwoLayerNet + SGD(1.0),
 * batch 30, 300 epochs. Every one of the 3,000 batch losses must match to 1e-9 relative.
 */
import { readFileSync } from "node:fs";
import { tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { accuracy, SGD, Trainer, TwoLayerNet } from "../src/index.js";

interface Stored {
  shape: number[];
  data: number[];
}

interface Trajectory {
  hyper: { inputSize: number; hiddenSize: number; outputSize: number; lr: number; batchSize: number; maxEpoch: number };
  x: Stored;
  labels: number[];
  init: { W1: Stored; b1: Stored; W2: Stored; b2: Stored };
  orders: number[][];
  batchLosses: number[];
  final: { W1: number[]; b1: number[]; W2: number[]; b2: number[]; fullDataLoss: number; accuracy: number };
}

const book = JSON.parse(
  readFileSync(new URL("./fixtures/spiral-book-trajectory.json", import.meta.url), "utf8"),
) as Trajectory;
const f64 = { dtype: "float64" as const };
const load = (s: Stored) => tensor(Float64Array.from(s.data), { shape: s.shape, ...f64 });

describe("the book's spiral run, reproduced", () => {
  const { hyper } = book;
  const x = load(book.x);
  const { W1, b1, W2, b2 } = book.init;
  const net = new TwoLayerNet(hyper.inputSize, hyper.hiddenSize, hyper.outputSize, {
    dtype: "float64",
    init: { W1: load(W1), b1: load(b1), W2: load(W2), b2: load(b2) },
  });
  const trainer = new Trainer(net, new SGD({ lr: hyper.lr }));
  trainer.fit(x, book.labels, {
    maxEpoch: hyper.maxEpoch,
    batchSize: hyper.batchSize,
    evalInterval: 10,
    shuffle: (epoch) => book.orders[epoch]!,
    output: null,
  });

  it("matches all 3,000 batch losses to 1e-9 relative", () => {
    expect(trainer.batchLosses).toHaveLength(3000);
    let worst = 0;
    trainer.batchLosses.forEach((l, i) => {
      worst = Math.max(worst, Math.abs(l - book.batchLosses[i]!) / Math.abs(book.batchLosses[i]!));
    });
    expect(worst).toBeLessThan(1e-9);
  });

  it("ends at the book's parameters, full-data loss and accuracy", () => {
    const [W1, b1, W2, b2] = net.params;
    const cmp = (got: ArrayLike<number>, want: number[]) => {
      want.forEach((w, i) => {
        expect(Math.abs(got[i]! - w)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
      });
    };
    cmp(W1!.data, book.final.W1);
    cmp(b1!.data, book.final.b1);
    cmp(W2!.data, book.final.W2);
    cmp(b2!.data, book.final.b2);
    const full = net.forward(x, book.labels).item();
    expect(full).toBeCloseTo(book.final.fullDataLoss, 9);
    expect(full.toFixed(5)).toBe("0.10405");
    expect(accuracy(net, x, book.labels)).toBe(book.final.accuracy);
    expect(book.final.accuracy).toBe(0.97);
  });
});
