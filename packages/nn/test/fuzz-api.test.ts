/**
 * Issue 7, "bad input never crashes", for @gradgraph/nn: every public export is called with
 * odd-but-valid and invalid arguments (fuzz-api.cases.ts). Each call must return a well-formed
 * result or throw a GradgraphError naming the function and the argument. The cases run in the
 * watchdog's worker thread, so a call that hangs fails its test with the input.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArgumentError, DTypeError, GraphError, type Tensor, tensor, zeros } from "@gradgraph/core";
import { mul } from "@gradgraph/nodes";
import { afterAll, describe, expect, it } from "vitest";
import { RUNS } from "../../core/test/fuzz-helpers.js";
import { FuzzWatchdog } from "../../core/test/watchdog.js";
import * as nn from "../src/index.js";
import { cases, NOT_FUZZED } from "./fuzz-api.cases.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-nn-fuzz-"));
process.env.FUZZ_NN_DIR = dir; // read by the worker's cases (workers copy the environment at start)
const watchdog = new FuzzWatchdog(new URL("./fuzz-api.cases.ts", import.meta.url));
afterAll(async () => {
  await watchdog.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("fuzz: every public export of @gradgraph/nn", () => {
  it("has a case for every exported function and class", () => {
    const exported = Object.entries(nn)
      .filter(([, v]) => typeof v === "function")
      .map(([k]) => k);
    expect(exported.filter((k) => !(k in cases) && !(k in NOT_FUZZED))).toEqual([]);
  });

  for (const name of Object.keys(cases)) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => watchdog.run(name, RUNS));
  }
});

// ------------------------------------------------------------------------------------------------
// one focused assertion per bug the fuzzer found, on the message

const x13 = () => tensor([[1, 2, 3]]);
const W32 = () =>
  tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
const fitData = () =>
  tensor([
    [0, 1],
    [1, 0],
    [1, 1],
    [0, 0],
  ]);
const fit = (options: object, labels: unknown = [0, 1, 2, 0]) =>
  new nn.Trainer(new nn.TwoLayerNet(2, 3, 3), new nn.SGD()).fit(fitData(), labels as number[], {
    batchSize: 2,
    maxEpoch: 1,
    output: null,
    ...options,
  });

describe("fuzz regressions: layers", () => {
  it("a parameter produced by an op is refused by name, not by Tensor.requiresGrad", () => {
    const W = mul(tensor([[1, 2]], { requiresGrad: true }), 2);
    expect(() => new nn.MatMul(W)).toThrow(ArgumentError);
    expect(() => new nn.MatMul(W)).toThrow(/^MatMul: W must be a leaf tensor .*produced by op 'mul'/);
    expect(() => nn.gradBufferFor("" as never)).toThrow(/^gradBufferFor: param must be a Tensor, got string ""/);
  });

  it("a parameter-free layer given junk params says so instead of a TypeError", () => {
    expect(() => new (nn.Sigmoid as unknown as new (p: unknown) => unknown)("")).toThrow(
      /^Sigmoid: params must be an array of tensors, got string ""/,
    );
  });

  it("Dropout treats null options as none and names a bad seed", () => {
    expect(new nn.Dropout(null as never).ratio).toBe(0.5);
    expect(() => new nn.Dropout({ seed: [] as never })).toThrow(/^Dropout: seed must be an integer, got array\(0\)/);
  });

  it("forward names the layer and x for an input of the wrong shape or rank", () => {
    expect(() => new nn.Affine(W32(), tensor([0, 0])).forward(tensor([[1, 2]]))).toThrow(
      /^Affine\.forward: x of shape \[1, 2\] does not fit W of shape \[3, 2\]/,
    );
    expect(() => new nn.Softmax().forward(tensor(1))).toThrow(/^Softmax\.forward: x must have a class axis/);
  });

  it("backward names the layer: missing or misshapen dout, a second backward", () => {
    const a = new nn.Affine(W32(), tensor([0, 0]));
    a.forward(x13());
    expect(() => a.backward()).toThrow(/^Affine\.backward: dout is required .* of shape \[1, 2\]/);
    expect(() => a.backward(tensor([1, 1]))).toThrow(
      /^Affine\.backward: dout of shape \[2\] does not match .*\[1, 2\]/,
    );
    a.backward(tensor([[1, 1]]));
    expect(() => a.backward(tensor([[1, 1]]))).toThrow(GraphError);
    expect(() => a.backward(tensor([[1, 1]]))).toThrow(
      /^Affine\.backward: the last forward was already differentiated/,
    );
  });

  it("SoftmaxWithLoss names itself and t for bad labels, and probabilities() before forward", () => {
    expect(() => new nn.SoftmaxWithLoss().forward(x13(), [5])).toThrow(
      /^SoftmaxWithLoss\.forward: t\[0\] is number 5; class indices must be integers in \[0, 3\)/,
    );
    expect(() => new nn.SoftmaxWithLoss().probabilities()).toThrow(
      /^SoftmaxWithLoss\.probabilities: call forward first/,
    );
  });

  it("autodiffBackward checks its lists before grad sees them", () => {
    const out = mul(tensor(1, { requiresGrad: true }), 2);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => nn.autodiffBackward("L", tensor(1), out, [, 1] as never, [] as never)).toThrow(
      /^L\.backward: params and grads must be arrays of tensors of the same length/,
    );
    expect(() => nn.autodiffBackward("L", tensor(1), out, [tensor(1)], [tensor(1)])).toThrow(
      /^L\.backward: params\[0\] .* does not require grad/,
    );
    expect(() => nn.autodiffBackward(7 as never, null, null, [], [])).toThrow(/^autodiffBackward: layer must be/);
  });

  it("autodiffBackward reports a frozen grads buffer as its own error, before computing (fuzz seed -1774484786)", () => {
    const p = tensor(2, { requiresGrad: true });
    const x = tensor([3]);
    const out = mul(x, p);
    const g = Object.freeze(tensor(0));
    expect(() => nn.autodiffBackward("L", x, out, [p], [g as Tensor], tensor([1]))).toThrow(
      /^L\.backward: grads\[0\] .* is frozen \(Object\.freeze\) and cannot be updated/,
    );
    expect(g.data[0]).toBe(0);
    // an unfrozen buffer takes the gradient
    const h = tensor(0);
    nn.autodiffBackward("L", x, mul(x, p), [p], [h], tensor([1]));
    expect(h.data[0]).toBe(3);
  });
});

describe("fuzz regressions: models, data and metrics", () => {
  it("Sequential names a bad layer instead of a TypeError", () => {
    expect(() => new nn.Sequential([null as never])).toThrow(/^Sequential: layers\[0\] must be a layer .*got null/);
  });

  it("TwoLayerNet names itself for a bad dtype, seed, init or oversized weights", () => {
    expect(() => new nn.TwoLayerNet(1, 1, 1, { dtype: "F32" as never })).toThrow(DTypeError);
    expect(() => new nn.TwoLayerNet(1, 1, 1, { dtype: "F32" as never })).toThrow(/^TwoLayerNet: dtype must be/);
    expect(() => new nn.TwoLayerNet(2, 2, 2, { seed: "x" as never })).toThrow(/^TwoLayerNet: seed must be an integer/);
    expect(() => new nn.TwoLayerNet(2 ** 16, 2 ** 16, 1)).toThrow(/^TwoLayerNet: W1 would be 65536×65536 = 4294967296/);
    expect(() => new nn.TwoLayerNet(2, 2, 2, { init: 5 as never })).toThrow(/^TwoLayerNet: init must be an object/);
    expect(() => new nn.TwoLayerNet(2, 2, 2, { init: { W1: zeros([3, 3]), W2: zeros([2, 2]) } })).toThrow(
      /^TwoLayerNet: init\.W1 of shape \[3, 3\] has 9 elements, but W1 needs 4/,
    );
    expect(() => new nn.TwoLayerNet(2, 2, 2, { sed: 1 } as never)).toThrow(/^TwoLayerNet: unknown option "sed"/);
  });

  it("loadSpiral refuses huge counts, junk options and dtypes instead of a RangeError or a silent default", () => {
    expect(() => nn.loadSpiral({ pointsPerClass: 1e300 })).toThrow(
      /^loadSpiral: pointsPerClass must be a positive integer/,
    );
    expect(() => nn.loadSpiral({ pointsPerClass: 2 ** 30 })).toThrow(
      /^loadSpiral: pointsPerClass 1073741824 × classes 3 is too large/,
    );
    expect(() => nn.loadSpiral(5 as never)).toThrow(/^loadSpiral: options must be an object, got number 5/);
    expect(() => nn.loadSpiral({ dtype: "int32" as never })).toThrow(/^loadSpiral: dtype must be/);
    expect(nn.loadSpiral(null as never).x.shape).toEqual([300, 2]);
  });

  it("accuracy names a bad model or predict result and refuses labels out of range", () => {
    expect(() => nn.accuracy(5 as never, x13(), [0])).toThrow(/^accuracy: model must have a predict\(x\) method/);
    expect(() => nn.accuracy({ predict: class Junk {} } as never, x13(), [0])).toThrow(
      /^accuracy: model must have a predict\(x\) method/,
    );
    expect(() => nn.accuracy({ predict: () => "junk" } as never, x13(), [0])).toThrow(
      /^accuracy: model\.predict must return a Tensor, got string "junk"/,
    );
    // used to count label 99 as a miss
    expect(() => nn.accuracy(new nn.TwoLayerNet(2, 2, 3), tensor([[1, 2]]), [99])).toThrow(
      /^accuracy: t\[0\] is number 99; class indices must be integers in \[0, 3\)/,
    );
  });

  it("argmaxRows and labelIndices check their arguments instead of crashing or coercing", () => {
    expect(() => nn.argmaxRows([] as never)).toThrow(/^argmaxRows: scores must be a Tensor/);
    expect(() => nn.argmaxRows(tensor([1, 2]))).toThrow(/^argmaxRows: scores must be N×C, got shape \[2\]/);
    expect(() => nn.labelIndices(null as never, [], 1)).toThrow(/^labelIndices: fn must be the caller's name/);
    expect(() => nn.labelIndices("f", [0], 1e300)).toThrow(/^labelIndices: rows must be a non-negative integer/);
    expect(() => nn.labelIndices("f", ["1", 1.5] as never, 2)).toThrow(/^f: labels\[0\] is string "1"/);
  });
});

describe("fuzz regressions: Trainer", () => {
  it("the constructor refuses what is not a model or an optimizer", () => {
    expect(() => new nn.Trainer(5 as never, new nn.SGD())).toThrow(/^Trainer: model must be a model/);
    expect(() => new nn.Trainer(new nn.TwoLayerNet(2, 2, 2), {} as never)).toThrow(
      /^Trainer: optimizer must have an update/,
    );
    expect(() => new nn.Trainer(new nn.TwoLayerNet(2, 2, 2), { update: class Junk {} } as never)).toThrow(
      /^Trainer: optimizer must have an update/,
    );
  });

  it("fit names its bad options instead of a TypeError, Rng or clipGradNorm", () => {
    expect(() => fit({ output: 5 })).toThrow(/^Trainer\.fit: output must be null or have a write\(text\) method/);
    expect(() => fit({ shuffle: 5 })).toThrow(/^Trainer\.fit: shuffle must be a function of the epoch/);
    // a class is a function that cannot be called: fit must refuse it before calling it (CI's fuzz find)
    expect(() => fit({ shuffle: class Junk {} })).toThrow(
      /^Trainer\.fit: shuffle must be a function of the epoch, got a class \(it needs new\)/,
    );
    expect(() => fit({ output: { write: class Junk {} } })).toThrow(
      /^Trainer\.fit: output must be null or have a write/,
    );
    expect(() => fit({ shuffle: () => [0, 1, 7, 8] })).toThrow(
      /^Trainer\.fit: shuffle\(0\)\[2\] is number 7; row indices must be integers in \[0, 4\)/,
    );
    expect(() => fit({ seed: "x" })).toThrow(/^Trainer\.fit: seed must be an integer/);
    expect(() => fit({ maxGrad: "x" })).toThrow(/^Trainer\.fit: maxGrad must be a number > 0/);
    expect(() => fit({ epochs: 5 })).toThrow(/^Trainer\.fit: unknown option "epochs"/);
    expect(() => fit({ maxEpoch: 1e300 })).toThrow(/^Trainer\.fit: maxEpoch must be a positive integer/);
  });

  it("fit refuses labels that an Int32Array would coerce silently", () => {
    expect(() => fit({}, ["1", 1.5, 0, 0])).toThrow(/^Trainer\.fit: t\[0\] is string "1"/);
  });
});

describe("fuzz regressions: checkpoints and float16", () => {
  it("a fractional maxHeaderBytes is a limit, not a RangeError from BigInt", () => {
    const bytes = nn.encodeSafetensors({ W: tensor([1]) });
    expect(() => nn.parseSafetensors(bytes, { maxHeaderBytes: 1.5 })).toThrow(
      /^parseSafetensors: header length 56 is more than the limit of 1.5 bytes \(maxHeaderBytes\)/,
    );
    expect(nn.parseSafetensors(bytes, { maxHeaderBytes: 1000.5 }).tensors.get("W")!.toArray()).toEqual([1]);
  });

  it("the float16 helpers refuse non-numbers instead of a TypeError or a silent 0", () => {
    expect(() => nn.toFloat16Bits(10n as never)).toThrow(/^toFloat16Bits: x must be a number, got bigint/);
    expect(() => nn.toFloat16Bits("abc" as never)).toThrow(/^toFloat16Bits: x must be a number/);
    expect(() => nn.fromFloat16Bits("abc" as never)).toThrow(/^fromFloat16Bits: bits must be an integer/);
    expect(nn.fromFloat16Bits(0x3c00)).toBe(1);
  });
});

describe("fuzz regressions: Trainer data from a recorded graph", () => {
  it("fit trains on x detached, instead of backpropagating into x's graph (freed after the first step)", () => {
    const x = mul(fitData(), tensor(1, { requiresGrad: true })); // produced by an op: part of a graph
    const trainer = new nn.Trainer(new nn.TwoLayerNet(2, 3, 3), new nn.SGD());
    trainer.fit(x, [0, 1, 2, 0], { batchSize: 1, maxEpoch: 1, output: null });
    expect(trainer.batchLosses).toHaveLength(4);
  });
});
