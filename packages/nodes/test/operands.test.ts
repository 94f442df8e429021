/**
 * TensorLike operands (issue 15, item 2): nested arrays and typed arrays are accepted wherever a
 * tensor operand is, as constants; their dtype rules; ragged, cyclic, holey, huge and detached
 * arrays fail with errors naming the op and the path.
 */
import { ArgumentError, grad, ShapeError, type Tensor, tensor, toTensor, toTensors } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  add,
  affine,
  branch,
  cumsum,
  flatten,
  logSoftmax,
  matmul,
  max,
  mean,
  meanSquaredError,
  mul,
  pow,
  relu,
  softmax,
  softmaxCrossEntropy,
  sum,
  tile,
  variance,
} from "../src/index.js";

const x2 = () =>
  tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );

describe("nested arrays and typed arrays as operands", () => {
  it("are constants: the values broadcast, the gradient flows only to the tensor", () => {
    const x = x2();
    const y = mul(x, [
      [10, 20],
      [30, 40],
    ]);
    expect(y.toArray()).toEqual([
      [10, 40],
      [90, 160],
    ]);
    const [g] = grad(sum(y), [x]);
    expect(g!.toArray()).toEqual([
      [10, 20],
      [30, 40],
    ]);
    // a row broadcast against a batch, as a tensor would
    expect(add(x, [100, 200]).toArray()).toEqual([
      [101, 202],
      [103, 204],
    ]);
  });

  it("take the tensor operands' dtype (nested arrays, integer typed arrays), as numbers do", () => {
    const x64 = tensor([1, 2], { dtype: "float64" });
    expect(add(x64, [0.1, 0.2]).dtype).toBe("float64");
    expect(add(x64, [0.1, 0.2]).data[0]).toBe(1.1);
    expect(add(tensor([1, 2]), [0.1, 0.2]).dtype).toBe("float32");
    expect(add(x64, new Int32Array([3, 4])).dtype).toBe("float64");
    expect(add(tensor([1, 2]), new Uint8Array([3, 4])).toArray()).toEqual([4, 6]);
  });

  it("Float32Array and Float64Array bring their own dtype, and mixed dtypes promote", () => {
    expect(add(tensor([1, 2]), new Float64Array([0.5, 0.5])).dtype).toBe("float64");
    expect(add(tensor([1, 2], { dtype: "float64" }), new Float32Array([0.5, 0.5])).dtype).toBe("float64");
    expect(add(new Float64Array([1]), [2]).dtype).toBe("float64");
    expect(add(new Float32Array([1]), [2]).dtype).toBe("float32");
  });

  it("with no tensor at all give a float32 result that records nothing", () => {
    const y = add([1, 2], [[3], [4]]);
    expect(y.dtype).toBe("float32");
    expect(y.shape).toEqual([2, 2]);
    expect(y.requiresGrad).toBe(false);
    expect(y.creator).toBe(null);
  });

  it("work in the reductions, softmax, shape and statistics functions", () => {
    const m = [
      [1, 2],
      [3, 5],
    ];
    expect(sum(m, { axis: 1 }).toArray()).toEqual([3, 8]);
    expect(mean(m).item()).toBe(2.75);
    expect(max(new Float64Array([1, 7, 3])).item()).toBe(7);
    expect(softmax([0, 0]).toArray()).toEqual([0.5, 0.5]);
    expect(logSoftmax([[0, 0]]).shape).toEqual([1, 2]);
    expect(cumsum([1, 2, 3], 0).toArray()).toEqual([1, 3, 6]);
    expect(variance([1, 2, 3, 4]).item()).toBeCloseTo(5 / 3, 6);
    expect(flatten(m).toArray()).toEqual([1, 2, 3, 5]);
    expect(tile([1, 2], [2]).toArray()).toEqual([1, 2, 1, 2]);
    expect(branch([1, 2], 2).map((t) => t.toArray())).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(relu(new Int32Array([-1, 2])).toArray()).toEqual([0, 2]);
    expect(pow([1, 2, 3], 2).toArray()).toEqual([1, 4, 9]);
    expect(pow(2, [1, 2, 3]).toArray()).toEqual([2, 4, 8]);
  });

  it("work in the products and the losses", () => {
    const x = x2();
    expect(matmul(x, [[1], [1]]).toArray()).toEqual([[3], [7]]);
    expect(matmul([1, 2], x).toArray()).toEqual([7, 10]);
    expect(matmul(x, new Float64Array([1, 1])).dtype).toBe("float64");
    expect(matmul(tensor([[1, 2]], { dtype: "float64" }), [[1], [1]]).dtype).toBe("float64");
    expect(() => matmul(2, x)).toThrow("matmul: operands must have rank >= 1, got a of shape [] (rank 0)");
    expect(affine([[1, 2]], x, [0.5, 0.5]).toArray()).toEqual([[7.5, 10.5]]);
    expect(meanSquaredError([1, 2], [1, 4]).item()).toBe(2);
    const [g] = grad(
      meanSquaredError(x, [
        [1, 2],
        [3, 0],
      ]),
      [x],
    );
    expect(g!.toArray()).toEqual([
      [0, 0],
      [0, 2],
    ]);
    // nested labels: one-hot targets of the scores' shape, or class indices of the batch's
    const scores = [
      [0, 0],
      [0, 0],
    ];
    expect(softmaxCrossEntropy(scores, [0, 1]).item()).toBeCloseTo(Math.LN2, 6);
    expect(
      softmaxCrossEntropy(scores, [
        [1, 0],
        [0, 1],
      ]).item(),
    ).toBeCloseTo(Math.LN2, 6);
    expect(softmaxCrossEntropy([[[0, 0, 0]], [[0, 0, 0]]], [[2], [0]]).item()).toBeCloseTo(Math.log(3), 6);
  });

  it("work as the other operand of a method", () => {
    const x = x2();
    const loss = x
      .mul([2, 3])
      .add([[1], [1]])
      .sum();
    loss.backward();
    expect(loss.item()).toBe(1 * 2 + 2 * 3 + 3 * 2 + 4 * 3 + 4);
    expect(x.grad!.toArray()).toEqual([
      [2, 3],
      [2, 3],
    ]);
  });

  it("ragged arrays fail with a ShapeError naming the op and the first ragged path", () => {
    const x = x2();
    expect(() => add(x, [[1, 2], [3]])).toThrow(ShapeError);
    expect(() => add(x, [[1, 2], [3]])).toThrow(
      "add: nested arrays are ragged: b[1] is array(1), expected an array of 2 (dimensions [2, 2])",
    );
    expect(() => mul([[1], 2] as never, x)).toThrow(/^mul: nested arrays are ragged: a\[1\] is number 2/);
    expect(() =>
      sum([
        [1, 2],
        [[3], 4],
      ] as never),
    ).toThrow("sum: nested arrays are ragged: x[1][0] is an array, but a number was expected at that depth");
  });

  it("holes, non-numbers, cycles, huge, BigInt and detached arrays fail with the op's errors", () => {
    const x = x2();
    // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
    expect(() => add(x, [1, , 3] as never)).toThrow("add: element 1 must be a number, got undefined (at b[1])");
    expect(() => add(x, [x] as never)).toThrow(ArgumentError);
    expect(() => add(x, [x] as never)).toThrow(/^add: element 0 must be a number, got Tensor/);
    const cyc: unknown[] = [1];
    cyc[0] = cyc;
    expect(() => add(x, cyc as never)).toThrow(
      "add: the nested arrays contain themselves (b[0] is an array that encloses it)",
    );
    expect(() => add(x, new Array(2 ** 32 - 1) as never)).toThrow(
      /^add: nested arrays of dimensions \[4294967295\] have more than the maximum \d+ elements/,
    );
    expect(() => add(x, new BigInt64Array(2) as never)).toThrow(
      "add: b must be a Tensor, a number, nested arrays of numbers or a typed array, got BigInt64Array(2)",
    );
    const gone = new Float32Array(4);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    expect(() => add(x, gone)).toThrow("add: b is a typed array whose ArrayBuffer was detached (transferred)");
    expect(() => add(x, { 0: 1, length: 1 } as never)).toThrow(
      /^add: input 1 \(b\) must be a Tensor, a number, nested arrays of numbers or a typed array, got object/,
    );
    expect(() => sum("12" as never)).toThrow(
      'sum: x must be a Tensor, a number, nested arrays of numbers or a typed array, got string "12"',
    );
  });
});

describe("toTensor", () => {
  it("returns a tensor as it is and converts constants", () => {
    const x = x2();
    expect(toTensor(x)).toBe(x);
    const t = toTensor([[1], [2]], "f", "v", "float64") as Tensor;
    expect([t.shape, t.dtype, t.requiresGrad]).toEqual([[2, 1], "float64", false]);
    expect(toTensor(3).shape).toEqual([]);
    expect(toTensor(new Float64Array([1, 2]), "f", "v", "float32").dtype).toBe("float64");
    expect(toTensor([]).shape).toEqual([0]);
    expect(() => toTensor([1], "f", "v", "int8" as never)).toThrow(/^f: /);
  });

  it("toTensors converts operands together, in the tensors' dtype, failing at the first non-operand", () => {
    const [a, b, c] = toTensors([[1, 2], tensor([3, 4], { dtype: "float64" }), 5]);
    expect([a!.dtype, b!.dtype, c!.dtype, c!.shape]).toEqual(["float64", "float64", "float64", []]);
    expect(toTensors([[1], new Float32Array([2])]).map((t) => t.dtype)).toEqual(["float32", "float32"]);
    expect(() => toTensors([[1], "2" as never], "f", "xs")).toThrow(
      'f: xs[1] must be a Tensor, a number, nested arrays of numbers or a typed array, got string "2"',
    );
    expect(() => toTensors(new Array(2 ** 32 - 1) as never, "f", "xs")).toThrow(/^f: xs\[0\] must be a Tensor/);
    expect(() => toTensors("ab" as never)).toThrow('toTensors: values must be an array of operands, got string "ab"');
  });
});
