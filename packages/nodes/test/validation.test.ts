/**
 * Issue 1, "fail fast and cleanly", for @gradgraph/nodes: the op objects called directly
 * (`ops.xxx([inputs], attrs)`) normalise or refuse their attributes, so that no wrong answer and
 * no foreign error comes out of them.
 */
import { ArgumentError, grad, ShapeError, type Tensor, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  logSoftmax,
  logSoftmaxInto,
  logSumExp,
  matmul,
  max,
  ops,
  padSliceOp,
  repeat,
  scatterRowsOp,
  softmax,
  sum,
} from "../src/index.js";

const x = () =>
  tensor(
    [
      [0.5, -1, 2],
      [3, 0.25, -0.5],
    ],
    { requiresGrad: true, dtype: "float64" },
  );

/** The value and the gradient (of the sum) of `f(x)`, for comparing two ways of computing it. */
function valueAndGrad(f: (t: Tensor) => Tensor): [unknown, unknown] {
  const t = x();
  const y = f(t);
  const [g] = grad(sum(y), [t]);
  return [y.toArray(), g!.toArray()];
}

describe("op objects with negative axes compute what their functions compute", () => {
  it("softmax and logSoftmax with axis -1 (softmax used to return exp(x))", () => {
    expect(valueAndGrad((t) => ops.softmax([t], { axis: -1 }))).toEqual(valueAndGrad((t) => softmax(t)));
    expect(valueAndGrad((t) => ops.softmax([t], { axis: -2 }))).toEqual(valueAndGrad((t) => softmax(t, 0)));
    expect(valueAndGrad((t) => ops.logSoftmax([t], { axis: -1 }))).toEqual(valueAndGrad((t) => logSoftmax(t)));
  });

  it("sum, max and logSumExp with axes [-1] (they used to return the input unchanged)", () => {
    for (const keepdims of [false, true]) {
      expect(valueAndGrad((t) => ops.sum([t], { axes: [-1], keepdims }))).toEqual(
        valueAndGrad((t) => sum(t, { axis: -1, keepdims })),
      );
      expect(valueAndGrad((t) => ops.max([t], { axes: [-1], keepdims }))).toEqual(
        valueAndGrad((t) => max(t, { axis: -1, keepdims })),
      );
      expect(valueAndGrad((t) => ops.logSumExp([t], { axes: [-1, -2], keepdims }))).toEqual(
        valueAndGrad((t) => logSumExp(t, { axis: [0, 1], keepdims })),
      );
    }
    expect(ops.sum([x()], { axes: [-1] } as never).shape).toEqual([2]);
  });

  it("repeat with axis -1", () => {
    expect(valueAndGrad((t) => ops.repeat([t], { n: 2, axis: -1 }))).toEqual(valueAndGrad((t) => repeat(t, 2, -1)));
  });

  it("the recorded node keeps the normalised attributes", () => {
    expect(ops.softmax([x()], { axis: -1 }).creator!.attrs).toEqual({ axis: 1 });
    expect(ops.sum([x()], { axes: [-1, 0], keepdims: false }).creator!.attrs).toEqual({
      axes: [0, 1],
      keepdims: false,
    });
  });

  it("junk keepdims or drop flags are refused instead of read as truthy", () => {
    expect(() => ops.sum([x()], { axes: [0], keepdims: "yes" as never })).toThrow(
      /^sum: attrs\.keepdims must be a boolean/,
    );
    expect(() => ops.getItem([x()], { indices: [0], drop: 1 as never })).toThrow(
      /^getItem: attrs\.drop must be a boolean/,
    );
  });
});

describe("matmul's attributes", () => {
  const a = tensor([
    [1, 2],
    [3, 4],
  ]);

  it("transA and transB must be booleans (a Symbol made the op's own message throw)", () => {
    expect(() => ops.matmul([a, a], { transA: Symbol("t") as never, transB: false })).toThrow(ArgumentError);
    expect(() => ops.matmul([a, a], { transA: Symbol("t") as never, transB: false })).toThrow(
      /^matmul: attrs\.transA must be a boolean, got symbol Symbol\(t\)/,
    );
    expect(() => ops.matmul([a, a], { transA: 1 as never, transB: false })).toThrow(/attrs\.transA must be a boolean/);
    expect(() => ops.matmul([a, a], 5 as never)).toThrow(/^matmul: attrs must be/);
  });

  it("valid flags still work, and a partial object means false for the other flag", () => {
    // aᵀ·a
    expect(ops.matmul([a, a], { transA: true } as never).toArray()).toEqual([
      [10, 14],
      [14, 20],
    ]);
    expect(ops.matmul([a, a], undefined).toArray()).toEqual(matmul(a, a).toArray());
  });
});

describe("results too large to allocate are ShapeErrors naming the op", () => {
  it("padSlice's dim and scatterRows's rows of 2**31 (a RangeError from the typed array constructor before)", () => {
    const g = tensor([[1, 2]]);
    expect(() => padSliceOp([g], { axis: 0, start: 0, end: 1, dim: 2 ** 31 })).toThrow(ShapeError);
    expect(() => padSliceOp([g], { axis: 0, start: 0, end: 1, dim: 2 ** 31 })).toThrow(/^padSlice: result shape/);
    expect(() => scatterRowsOp([g], { indices: [0], drop: false, rows: 2 ** 31 })).toThrow(
      /^scatterRows: result shape \[2147483648, 2\] has 4294967296 elements/,
    );
  });
});

describe("logSoftmaxInto checks its arguments", () => {
  it("refuses junk shapes, axes and arrays, and computes logSoftmax otherwise", () => {
    const data = new Float64Array([0.5, -1, 2, 3, 0.25, -0.5]);
    const out = new Float64Array(6);
    expect(() => logSoftmaxInto(data, [2 ** 31, 2 ** 31], 0, out)).toThrow(ShapeError);
    expect(() => logSoftmaxInto(data, { length: 2 ** 32 } as never, 0, out)).toThrow(/^logSoftmaxInto: shape/);
    expect(() => logSoftmaxInto(data, [2, 3], 5, out)).toThrow(/^logSoftmaxInto: axis 5 is out of range/);
    expect(() => logSoftmaxInto(data, [2, 3], 1, new Float64Array(2))).toThrow(/^logSoftmaxInto: out has 2 elements/);
    expect(() => logSoftmaxInto([1, 2] as never, [2], 0, out)).toThrow(/^logSoftmaxInto: x must be a Float32Array/);
    logSoftmaxInto(data, [2, 3], -1, out);
    expect(Array.from(out)).toEqual(Array.from(logSoftmax(tensor(data, { shape: [2, 3] })).data));
  });
});
