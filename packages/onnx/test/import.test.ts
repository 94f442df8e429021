/**
 * fromOnnx: an ONNX model as a trainable gradgraph graph. Its forward equals ONNX Runtime's, its
 * gradients pass gradcheck, the nn optimizers train it; the round trip export → import →
 * fine-tune → export runs in ONNX Runtime; viz draws it; an unsupported operator is named.
 */
import { assertFloatTensor, assertGradcheck, grad, Rng, randn, type Tensor, tensor } from "@gradgraph/core";
import { Adam, loadSpiral, SGD, TwoLayerNet } from "@gradgraph/nn";
import { softmaxCrossEntropy } from "@gradgraph/nodes";
import { snapshot, toDot } from "@gradgraph/viz";
import { describe, expect, it } from "vitest";
import { exportModel, fromOnnx, IMPORTED_OPERATORS, OnnxError } from "../src/index.js";
import { attributeProto, encodeModel, nodeProto, tensorProto, valueInfo } from "../src/proto.js";
import { expectClose, runOrt } from "./ort.js";

describe("fromOnnx", () => {
  it("loads an exported net: params are the initializers (leaves requiring grad), forward equals ONNX Runtime's", async () => {
    const net = new TwoLayerNet(2, 6, 3, { seed: 7 });
    const x = randn([4, 2], { rng: new Rng(8) });
    const bytes = exportModel(net, x, { paramNames: ["W1", "b1", "W2", "b2"], dynamicAxes: { 0: "batch" } });
    const model = fromOnnx(bytes);
    expect(Object.keys(model.params)).toEqual(["W1", "b1", "W2", "b2"]);
    for (const p of Object.values(model.params)) expect(p.requiresGrad).toBe(true);
    expect(model.inputNames).toEqual(["x"]);
    expect(model.outputNames).toEqual(["scores"]);
    expect(model.inputs[0]).toEqual({ name: "x", dtype: "float32", dims: ["batch", 2] });
    for (const n of [4, 9]) {
      const xs = randn([n, 2], { rng: new Rng(n) });
      const ours = model.run({ x: xs }).scores!;
      expectClose((await runOrt(bytes, { x: xs })).scores, ours, `batch ${n}`);
    }
  });

  it("its gradients pass gradcheck (float64), with respect to every param and the input", () => {
    const net = new TwoLayerNet(3, 5, 4, { seed: 9, dtype: "float64" });
    const x = randn([6, 3], { rng: new Rng(10), dtype: "float64" });
    const model = fromOnnx(exportModel(net, x, { paramNames: ["W1", "b1", "W2", "b2"] }));
    const names = Object.keys(model.params);
    const labels = [0, 1, 2, 3, 1, 0];
    const f = (input: Tensor, ...ps: Tensor[]) =>
      softmaxCrossEntropy(
        model.run({ x: input }, { params: Object.fromEntries(names.map((n, i) => [n, ps[i]!])) }).scores!,
        labels,
      );
    assertGradcheck(f, [x, ...names.map((n) => model.params[n]!)]);
  });

  it("trains with the nn optimizers (SGD, Adam): the loss goes down", () => {
    const data = loadSpiral({ pointsPerClass: 30, seed: 1 });
    for (const make of [() => new SGD({ lr: 1 }), () => new Adam({ lr: 0.05 })]) {
      const net = new TwoLayerNet(2, 10, 3, { seed: 2 });
      const model = fromOnnx(exportModel(net, data.x, { dynamicAxes: { 0: "n" } }));
      const params = Object.values(model.params);
      const optimizer = make();
      const losses: number[] = [];
      for (let step = 0; step < 200; step++) {
        const loss = softmaxCrossEntropy(model.run({ x: data.x }).scores!, data.t);
        losses.push(loss.data[0]!);
        const grads = grad(loss, params);
        optimizer.update(params, grads);
      }
      expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.97);
    }
  });

  it("round trip: export → import → fine-tune a few steps → export again → ONNX Runtime runs the fine-tuned model", async () => {
    const data = loadSpiral({ pointsPerClass: 20, seed: 3 });
    const net = new TwoLayerNet(2, 8, 3, { seed: 4 });
    const first = exportModel(net, data.x, { paramNames: ["W1", "b1", "W2", "b2"], dynamicAxes: { 0: "batch" } });
    const model = fromOnnx(first);
    const before = model.run({ x: data.x }).scores!;
    const params = Object.values(model.params);
    const sgd = new SGD({ lr: 1 });
    for (let step = 0; step < 5; step++) {
      const loss = softmaxCrossEntropy(model.run({ x: data.x }).scores!, data.t);
      sgd.update(params, grad(loss, params));
    }
    const after = model.run({ x: data.x }).scores!;
    expect(Math.abs(after.data[0]! - before.data[0]!)).toBeGreaterThan(0);
    const second = model.toOnnx({ x: data.x }, { dynamicAxes: { x: { 0: "batch" } } });
    expectClose((await runOrt(second, { x: data.x })).scores, after, "fine-tuned");
    const few = randn([3, 2], { rng: new Rng(5) });
    expectClose((await runOrt(second, { x: few })).scores, model.run({ x: few }).scores!, "fine-tuned, batch 3");
    // and the first export still gives the original net's scores
    expectClose((await runOrt(first, { x: data.x })).scores, before, "original");
  });

  it("viz draws the loaded graph: after run() it is a recorded graph that snapshots and exports to DOT", () => {
    const net = new TwoLayerNet(2, 4, 3, { seed: 6 });
    const x = tensor([[0.1, 0.2]]);
    const model = fromOnnx(exportModel(net, x, { paramNames: ["W1", "b1", "W2", "b2"] }));
    const y = assertFloatTensor("test", "scores", model.run({ x }).scores);
    const snap = snapshot(y, { params: model.params });
    const recorded = snapshot(net.predict(x), {
      params: { W1: net.params[0]!, b1: net.params[1]!, W2: net.params[2]!, b2: net.params[3]! },
    });
    const ops = (s: typeof snap) => s.nodes.filter((n) => n.kind === "op").map((n) => (n as { op: string }).op);
    expect(ops(snap)).toEqual(ops(recorded));
    const dot = toDot(snap);
    expect(dot).toMatch(/^digraph/);
    for (const name of ["W1", "b1", "W2", "b2", "affine", "sigmoid"]) expect(dot).toContain(name);
  });

  it("imports Slice with steps and ScatterND (reduction none or add, indices of any depth) as ONNX Runtime runs them", async () => {
    const ints = (name: string, values: number[], shape: number[]) => tensorProto(name, values, "int64", shape);
    const bytes = encodeModel({
      graphName: "g",
      opset: 17,
      producerVersion: "test",
      nodes: [
        // x[::-2, 2:-5:-1]: negative steps, an end beyond the start clamped
        nodeProto("slice", "Slice", ["x", "st", "en", "ax", "sp"], ["y"], []),
        // x with x[2, 1] and x[0, 0] replaced by u
        nodeProto("set", "ScatterND", ["x", "at", "u"], ["z"], []),
        // x with rows 1, 1 and 0 added (repeats add up)
        nodeProto("add", "ScatterND", ["x", "rows", "v"], ["w"], [attributeProto("reduction", "add")]),
      ],
      initializers: [
        ints("st", [-1, 2], [2]),
        ints("en", [-(2 ** 40), -5], [2]),
        ints("ax", [0, 1], [2]),
        ints("sp", [-2, -1], [2]),
        ints("at", [2, 1, 0, 0], [2, 2]),
        tensorProto("u", [10, 20], "float32", [2]),
        ints("rows", [1, 1, 0], [3, 1]),
        tensorProto("v", [1, 2, 3, 4, 5, 6, 7, 8, 9], "float32", [3, 3]),
      ],
      inputs: [valueInfo("x", "float32", [3, 3])],
      outputs: [
        valueInfo("y", "float32", [2, 3]),
        valueInfo("z", "float32", [3, 3]),
        valueInfo("w", "float32", [3, 3]),
      ],
    });
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    const model = fromOnnx(bytes);
    const ours = model.run({ x });
    const ort = await runOrt(bytes, { x });
    for (const name of ["y", "z", "w"]) expectClose(ort[name], ours[name]!, name);
    expect(ours.y!.toArray()).toEqual([
      [9, 8, 7],
      [3, 2, 1],
    ]);
    // gradients through the replacement: none to the replaced entries of x, all to u
    const leaf = tensor(x.toArray() as number[][], { requiresGrad: true });
    const [gx, gu] = grad(assertFloatTensor("test", "z", model.run({ x: leaf }).z).sum(), [leaf, model.params.u!]);
    expect(gx!.toArray()).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [1, 0, 1],
    ]);
    expect(gu!.toArray()).toEqual([1, 1]);
  });

  it("an unsupported operator is an error naming it and the node", () => {
    const bytes = encodeModel({
      graphName: "g",
      opset: 17,
      producerVersion: "test",
      nodes: [nodeProto("conv1", "Conv", ["x", "w"], ["y"], [])],
      initializers: [tensorProto("w", [1], "float32", [1, 1, 1, 1])],
      inputs: [valueInfo("x", "float32", [1, 1, 2, 2])],
      outputs: [valueInfo("y", "float32", [1, 1, 2, 2])],
    });
    expect(() => fromOnnx(bytes)).toThrow(OnnxError);
    expect(() => fromOnnx(bytes)).toThrow(
      /^fromOnnx: operator Conv \(node "conv1", #0\) is not supported; gradgraph imports Abs, Add/,
    );
    expect(IMPORTED_OPERATORS).toContain("Gemm");
  });

  it("refuses bytes that are not a model, and run inputs that do not fit", () => {
    expect(() => fromOnnx(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(/^fromOnnx: the bytes are not an ONNX model/);
    const model = fromOnnx(exportModel(new TwoLayerNet(2, 3, 2), tensor([[1, 2]])));
    expect(() => model.run({})).toThrow(/^run: input "x" is missing/);
    expect(() => model.run({ x: tensor([[1, 2, 3]]) })).toThrow(
      /^run: input "x" has shape \[1, 3\], but the model declares \[1, 2\]/,
    );
    expect(() => model.run({ x: tensor([[1, 2]]), y: 1 })).toThrow(/the model has no input "y"/);
    // nested arrays and float64 tensors are converted to the declared dtype
    expect(model.run({ x: [[1, 2]] }).scores!.dtype).toBe("float32");
    expect(model.run({ x: tensor([[1, 2]], { dtype: "float64" }) }).scores!.dtype).toBe("float32");
  });
});
