/**
 * Ops made with defineOp: one that declares its ONNX mapping (spec.onnx) exports and runs in ONNX
 * Runtime; one without fails with an error naming the op and where its node was created. And the
 * other errors of toOnnx: inputs the graph was not recorded from, constants that were not kept.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defineOp,
  FileError,
  type OnnxMapping,
  type Tensor,
  tensor,
  withCreationSites,
  withDebugRecording,
} from "@gradgraph/core";
import { add, matmul, mul, sigmoid } from "@gradgraph/nodes";
import { describe, expect, it } from "vitest";
import { fromOnnx, OnnxError, saveOnnx, toOnnx } from "../src/index.js";
import { expectClose, runOrt } from "./ort.js";

/** softplus(x) = log(1 + exp(x)), with its ONNX mapping (Softplus is a standard operator). */
const softplusOnnx: OnnxMapping<{ beta: number }> = ([x], { beta }, g) => {
  const scaled = g.node("Mul", [x!.name, g.constant([beta], x!.dtype, [])])[0]!;
  const sp = g.node("Softplus", [scaled])[0]!;
  return g.node("Div", [sp, g.constant([beta], x!.dtype, [])])[0]!;
};

const softplus = defineOp<{ beta: number }>({
  name: "softplus",
  inputs: ["x"],
  forward([x], { beta }, ctx) {
    const out = ctx.alloc(x!.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = Math.log1p(Math.exp(beta * x!.data[i]!)) / beta;
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    return [mul(gy, sigmoid(mul(ctx.input(0), ctx.attrs.beta)))];
  },
  onnx: softplusOnnx,
});

const unmapped = defineOp({
  name: "cube",
  inputs: ["x"],
  forward([x], _attrs, ctx) {
    const out = ctx.alloc(x!.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = x!.data[i]! ** 3;
    return out;
  },
  backward(gy) {
    return [gy];
  },
});

describe("ops made with defineOp", () => {
  it("an op whose spec has an onnx field exports through it", async () => {
    const x = tensor([[-1, 0, 2]], { requiresGrad: true });
    const y = withDebugRecording(() => add(softplus([x], { beta: 2 }), 1));
    const bytes = toOnnx(y, { inputs: { x } });
    expectClose((await runOrt(bytes, { x })).output, y, "softplus");
  });

  it("an op without one fails, naming the op and the node's creation site", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = withCreationSites(() => unmapped([x]));
    expect(() => toOnnx(y, { inputs: { x } })).toThrow(OnnxError);
    expect(() => toOnnx(y, { inputs: { x } })).toThrow(
      /^toOnnx: op 'cube' \(node #\d+\) has no ONNX mapping; give its defineOp spec an onnx field .*; created at .*custom\.test\.ts:\d+/,
    );
    // without recorded sites, the message says how to get them
    const z = unmapped([x]);
    expect(() => toOnnx(z, { inputs: { x } })).toThrow(
      /creation site was not recorded \(record the graph under withCreationSites/,
    );
  });

  it("a mapping that returns something else is reported", () => {
    const bad = defineOp({
      name: "bad",
      inputs: ["x"],
      forward: ([x], _a, ctx) => ctx.alloc(x!.shape),
      backward: (gy) => [gy],
      onnx: () => "nonsense",
    });
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => toOnnx(bad([x]), { inputs: { x } })).toThrow(
      /the ONNX mapping of op 'bad' .* must return the name of its output/,
    );
  });
});

describe("what toOnnx needs from the recording", () => {
  it("inputs must require grad (else ops on them were not recorded)", () => {
    const x = tensor([1, 2]);
    const w = tensor([3, 4], { requiresGrad: true });
    expect(() => toOnnx(mul(x, w), { inputs: { x } })).toThrow(/inputs\.x does not require grad/);
  });

  it("a constant not kept by the recording is reported; withDebugRecording keeps it", async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => toOnnx(add(x, 1), { inputs: { x } })).toThrow(
      /input 1 \(b\) of op 'add' \(node #\d+\) needs no gradient and was not kept by the recording/,
    );
    const y = withDebugRecording(() => add(x, 1));
    expectClose((await runOrt(toOnnx(y, { inputs: { x } }), { x })).output, y);
  });

  it("an input the outputs do not depend on is reported", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const other = tensor([1, 2], { requiresGrad: true });
    expect(() => toOnnx(mul(x, x), { inputs: { x, other } })).toThrow(
      /inputs\.other .* is not an input of the outputs' recorded graph/,
    );
  });

  it("params become initializers; other leaves constants; outputs named by a record", async () => {
    const x = tensor([[1, 2]], { requiresGrad: true });
    const w = tensor([[0.5], [-1]], { requiresGrad: true });
    const c = tensor([[3]], { requiresGrad: true });
    const y = mul(matmul(x, w), c);
    const bytes = toOnnx({ y, weight: w }, { inputs: { x }, params: { w } });
    const out = await runOrt(bytes, { x });
    expectClose(out.y, y);
    expectClose(out.weight, w as Tensor);
  });
});

describe("saveOnnx", () => {
  it("writes the model atomically (core's writeFileAtomic); fromOnnx reads it back", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-onnx-"));
    try {
      const x = tensor([[1, 2]], { requiresGrad: true });
      const bytes = toOnnx(
        withDebugRecording(() => mul(x, 2)),
        { inputs: { x } },
      );
      const file = join(dir, "model.onnx");
      saveOnnx(file, bytes);
      expect(readdirSync(dir)).toEqual(["model.onnx"]);
      expect(
        fromOnnx(new Uint8Array(readFileSync(file)))
          .run({ x: [[3, 4]] })
          .output!.toArray(),
      ).toEqual([[6, 8]]);
      expect(() => saveOnnx(join(dir, "missing", "m.onnx"), bytes)).toThrow(FileError);
      expect(() => saveOnnx(file, "bytes" as unknown as Uint8Array)).toThrow(/^saveOnnx: bytes must be a Uint8Array/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
