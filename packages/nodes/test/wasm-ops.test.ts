/**
 * The ops whose forward or backward calls the WebAssembly kernels (unary functions and their fused
 * backward, softmax, logSoftmax, logSumExp, sum, max, softmaxCrossEntropy, broadcasting
 * arithmetic), run under setKernelBackend("js") and setKernelBackend("wasm") on small odd shapes
 * and shapes above the "auto" thresholds, in both dtypes: values and gradients agree (within
 * 1e-5 relative in float32 and 1e-11 in float64; the kernel-level bounds are tighter, see
 * packages/core/test/wasm-ops.test.ts).
 */
import { type FloatDType, grad, noGrad, randn, setKernelBackend, type Tensor } from "@gradgraph/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  abs,
  add,
  exp,
  log,
  logSoftmax,
  logSumExp,
  max,
  mul,
  neg,
  relu,
  sigmoid,
  softmax,
  softmaxCrossEntropy,
  sqrt,
  sum,
  tanh,
} from "../src/index.js";

afterEach(() => setKernelBackend("auto"));

type Case = { name: string; f: (x: Tensor) => Tensor; positive?: boolean };

const CASES: Case[] = [
  { name: "exp", f: exp },
  { name: "sigmoid", f: sigmoid },
  { name: "tanh", f: tanh },
  { name: "relu", f: relu },
  { name: "abs", f: abs },
  { name: "sqrt", f: sqrt, positive: true },
  { name: "log", f: log, positive: true },
  { name: "neg", f: neg },
  { name: "softmax", f: (x) => softmax(x) },
  { name: "softmax axis 0", f: (x) => softmax(x, 0) },
  { name: "logSoftmax", f: (x) => logSoftmax(x) },
  { name: "logSumExp last", f: (x) => logSumExp(x, { axis: -1 }) },
  { name: "logSumExp all", f: (x) => logSumExp(x) },
  { name: "sum axis 0", f: (x) => sum(x, { axis: 0 }) },
  { name: "sum axis 1", f: (x) => sum(x, { axis: 1, keepdims: true }) },
  { name: "max axis 1", f: (x) => max(x, { axis: 1 }) },
  { name: "max axis 0", f: (x) => max(x, { axis: 0 }) },
  { name: "bias add", f: (x) => add(x, sum(x, { axis: 0 })) },
  {
    name: "softmaxCrossEntropy",
    f: (x) =>
      softmaxCrossEntropy(
        x,
        Array.from({ length: x.shape[0]! }, (_, i) => i % x.shape[1]!),
      ),
  },
];

const SHAPES: [number, number][] = [
  [1, 1],
  [3, 5],
  [7, 13],
  [64, 130],
  [301, 10],
];

/** Forward values and the gradient of Σ w·f(x) for a fixed random w, under one backend. */
function run(backend: "js" | "wasm", c: Case, shape: [number, number], dtype: FloatDType) {
  setKernelBackend(backend);
  try {
    let x = randn(shape, { dtype, seed: 11 });
    if (c.positive) x = noGrad(() => add(abs(x), 0.1));
    x.requiresGrad = true;
    const y = c.f(x);
    const w = randn(y.shape, { dtype, seed: 12 });
    const [g] = grad(sum(mul(y, w)), [x]);
    return { y: Array.from(y.data), g: Array.from(g!.data) };
  } finally {
    setKernelBackend("auto");
  }
}

function close(w: number[], t: number[], rtol: number, what: string): void {
  expect(w.length).toBe(t.length);
  for (let i = 0; i < t.length; i++) {
    if (Object.is(w[i], t[i])) continue;
    const tol = rtol * Math.max(1, Math.abs(t[i]!));
    if (!(Math.abs(w[i]! - t[i]!) <= tol)) throw new Error(`${what} [${i}]: wasm ${w[i]} js ${t[i]}`);
  }
}

describe("ops on the WASM kernels agree with the TypeScript kernels", () => {
  for (const c of CASES) {
    it(`${c.name}: forward and gradient, both dtypes, small and large shapes`, () => {
      for (const dtype of ["float32", "float64"] as const) {
        const rtol = dtype === "float32" ? 1e-5 : 1e-11;
        for (const shape of SHAPES) {
          const w = run("wasm", c, shape, dtype);
          const t = run("js", c, shape, dtype);
          close(w.y, t.y, rtol, `${c.name} ${dtype} ${shape} value`);
          close(w.g, t.g, rtol, `${c.name} ${dtype} ${shape} grad`);
        }
      }
    });
  }

  it("the fused relu backward keeps the product semantics: 0 at x ≤ 0, NaN·0 = NaN", () => {
    for (const backend of ["js", "wasm"] as const) {
      setKernelBackend(backend);
      const x = randn([40, 50], { dtype: "float32", seed: 3 });
      x.data[0] = 0;
      x.data[1] = -0;
      x.data[2] = -1;
      x.requiresGrad = true;
      const y = relu(x);
      const gy = randn([40, 50], { dtype: "float32", seed: 4 });
      gy.data[2] = Number.NaN;
      const [g] = grad(sum(mul(y, gy)), [x]);
      // gy · 0: +0 or −0 by the sign of gy, as the product dy · (x > 0) gives
      expect(g!.data[0]).toBe(gy.data[0]! * 0);
      expect(g!.data[1]).toBe(gy.data[1]! * 0);
      expect(Number.isNaN(g!.data[2]!)).toBe(true);
    }
  });
});
