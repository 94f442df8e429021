/** Error messages name the op, the argument and the shapes or values involved. */
import { ArgumentError, ShapeError, type Tensor, tensor, zeros } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  add,
  branch,
  broadcastTo,
  concat,
  cumsum,
  getItem,
  logSumExp,
  matmul,
  max,
  mean,
  mul,
  ops,
  repeat,
  reshape,
  softplus,
  split,
  std,
  sum,
  sumTo,
  transpose,
  variance,
} from "../src/index.js";

describe("shape errors", () => {
  it("add/mul name both shapes and the clashing dimension", () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(
      /add: shapes \[2, 3\] and \[4\] cannot be broadcast together \(dimension -1 is 3 vs 4\)/,
    );
    expect(() => mul(zeros([2]), zeros([3]))).toThrow(/mul: shapes \[2\] and \[3\]/);
  });

  it("matmul names ranks and inner dimensions", () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      /matmul: inner dimensions differ: a of shape \[2, 3\] and b of shape \[4, 5\] \(3 vs 4\)/,
    );
    expect(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow(
      /matmul: batch dimensions \[2\] of a \(shape \[2, 3, 4\]\) and \[3\] of b \(shape \[3, 4, 5\]\) cannot be broadcast together/,
    );
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow(
      /matmul: inner dimensions differ: a of shape \[3\] and b of shape \[4\] \(3 vs 4\)/,
    );
    expect(() => matmul(2, zeros([1, 1]))).toThrow(
      /matmul: operands must have rank >= 1, got a of shape \[\] \(rank 0\)/,
    );
  });

  it("reshape names both shapes", () => {
    expect(() => reshape(zeros([2, 3]), [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => reshape(zeros([2, 3]), [-1, -1])).toThrow(/only one dimension can be -1/);
    expect(reshape(zeros([2, 3]), [3, -1]).shape).toEqual([3, 2]);
  });
});

describe("argument errors", () => {
  it("sum: axes out of range, non-integer or repeated", () => {
    expect(() => sum(zeros([2, 3]), { axis: 2 })).toThrow(ArgumentError);
    expect(() => sum(zeros([2, 3]), { axis: 2 })).toThrow(
      /sum: axis 2 is out of range for a tensor of rank 2 \(valid: -2 to 1\)/,
    );
    expect(() => sum(zeros([2, 3]), { axis: 0.5 })).toThrow(/sum: axis must be an integer, got number 0.5/);
    expect(() => sum(zeros([2, 3]), { axis: [0, -2] })).toThrow(/sum: axis -2 is repeated/);
    expect(sum(zeros([2, 3]), { axis: -1 }).shape).toEqual([2]);
  });

  it("a misspelt option is refused, not ignored (as PyTorch refuses an unknown keyword)", () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    for (const [f, message] of [
      [
        () => sum(x, { axis: 1, keepDims: true } as never),
        'sum: unknown option "keepDims" in options (valid: axis, keepdims)',
      ],
      [() => mean(x, { axes: [0] } as never), 'mean: unknown option "axes" in options (valid: axis, keepdims)'],
      [() => max(x, { dim: 0 } as never), 'max: unknown option "dim" in options (valid: axis, keepdims)'],
      [() => logSumExp(x, { keepdim: true } as never), 'logSumExp: unknown option "keepdim" in options'],
      [() => variance(x, { unbiased: false } as never), 'variance: unknown option "unbiased" in options'],
      [() => std(x, { ddof: 0 } as never), 'std: unknown option "ddof" in options'],
      [
        () => cumsum(x, 0, { reversed: true } as never),
        'cumsum: unknown option "reversed" in options (valid: reverse)',
      ],
      [() => softplus(x, { Beta: 2 } as never), 'softplus: unknown option "Beta" in options (valid: beta, threshold)'],
    ] as const) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(message);
    }
    // the options themselves still work, and so do no options
    expect(sum(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expect(sum(x).item()).toBe(10);
    expect(() => sum(x, null as never)).toThrow("sum: options must be an object like { axis, keepdims }, got null");
  });

  it("repeat and branch: counts and axes", () => {
    expect(() => repeat(zeros([2]), -1, 0)).toThrow(/repeat: n must be a non-negative integer, got -1/);
    expect(() => repeat(zeros([2]), 2, 1)).toThrow(/repeat: axis 1 is out of range for a tensor of rank 1/);
    expect(() => branch(zeros([2]), 0)).toThrow(/branch: n must be an integer >= 1, got 0/);
    expect(() => branch("x" as never)).toThrow(
      /branch: x must be a Tensor, a number, nested arrays of numbers or a typed array, got string "x"/,
    );
  });

  it("operands of the wrong kind, as plain JavaScript might pass", () => {
    expect(() => add("1" as never, 2)).toThrow(
      /add: input 0 \(a\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "1"/,
    );
    expect(() => mul(zeros([1]), null as never)).toThrow(
      /mul: input 1 \(b\) must be a Tensor, a number, nested arrays of numbers or a typed array, got null/,
    );
    expect(() => sum(["1", 2] as never)).toThrow(/sum: element 0 must be a number, got string "1" \(at x\[0\]\)/);
    expect(() => matmul({} as never, zeros([1, 1]))).toThrow(
      /matmul: a must be a Tensor, a number, nested arrays of numbers or a typed array, got object/,
    );
  });

  it("op objects called directly validate their attributes", () => {
    expect(() => ops.sum([zeros([2])], undefined as never)).toThrow(
      /sum: attrs must be \{ axes: number\[\], keepdims: boolean \}/,
    );
    expect(() => ops.reshape([zeros([2])], { shape: "2" } as never)).toThrow(
      /reshape: attrs must be \{ shape: number\[\] \}/,
    );
    expect(() => ops.repeat([zeros([2])], { n: 1.5, axis: null })).toThrow(
      /repeat: n must be a non-negative integer, got 1.5/,
    );
  });
});

describe("values", () => {
  it("numbers work as operands and results are right", () => {
    const x = tensor([1, 2, 3]);
    expect(add(x, 1).toArray()).toEqual([2, 3, 4]);
    expect(mul(2, x).toArray()).toEqual([2, 4, 6]);
    expect(repeat(tensor([[1, 2]]), 2, 1).toArray()).toEqual([[1, 1, 2, 2]]);
    expect(
      repeat(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        2,
      ).toArray(),
    ).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(
      sum(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        { axis: 1, keepdims: true },
      ).toArray(),
    ).toEqual([[3], [7]]);
    expect(matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray()).toEqual([[11]]);
  });
});

describe("huge and sparse array arguments fail at once", () => {
  // new Array(2 ** 32 - 1) has no elements: copying or spreading it used to run out of memory
  const huge = () => new Array<number>(2 ** 32 - 1);
  const x = tensor([1, 2, 3, 4], { shape: [2, 2], requiresGrad: true });

  it("names the function and the argument", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => reshape(x, huge()), /reshape: shape has 4294967295 dimensions, more than the maximum rank 64/],
      [() => broadcastTo(x, huge()), /broadcastTo: shape has 4294967295 dimensions/],
      [() => sumTo(x, huge()), /sumTo: shape has 4294967295 dimensions/],
      [() => split(x, huge(), 0), /split: sizes lists 4294967295 pieces, more than the maximum/],
      [() => transpose(x, huge()), /transpose: axes .* has 4294967295 entries/],
      [() => getItem(x, huge()), /getItem: index\[0\] must be an integer, got undefined/],
      [() => concat(huge() as unknown as Tensor[]), /concat: xs\[0\] must be a Tensor/],
    ];
    // (before the fix, reshape and split ran out of memory here and took the test process down)
    for (const [call, message] of cases) expect(call).toThrow(message);
  });
});
