/**
 * Issue 15, item 5: the shape conveniences (squeeze, unsqueeze/expandDims, flatten, tile,
 * unstack, split with -1), built from checked ops and here gradient-checked as compositions, and
 * the values and conventions of cumsum, variance/std and outer (their derivatives are
 * property-checked with every other op in ops.test.ts). Expected values from numpy/PyTorch.
 */
import { ArgumentError, assertGradcheck, ShapeError, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import {
  cumsum,
  expandDims,
  flatten,
  outer,
  split,
  squeeze,
  std,
  sum,
  tile,
  unsqueeze,
  unstack,
  variance,
} from "../src/index.js";

const f64 = (v: number[], shape?: number[]) => {
  const t = tensor(v, { dtype: "float64" });
  return shape ? tensor(t.toArray() as number[], { dtype: "float64" }).reshape(shape) : t;
};
const grid = (shape: readonly number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, (_, i) => 0.25 * i - 1),
    { dtype: "float64" },
  ).reshape(shape);
};

describe("shape conveniences", () => {
  it("squeeze drops size-1 axes (all, or the ones named; a named axis of another size stays, as PyTorch)", () => {
    const x = grid([1, 3, 1]);
    expect(squeeze(x).shape).toEqual([3]);
    expect(squeeze(x, 0).shape).toEqual([3, 1]);
    expect(squeeze(x, [1, -1]).shape).toEqual([1, 3]);
    expect(() => squeeze(x, 3)).toThrow(/^squeeze: axis 3 is out of range/);
  });

  it("unsqueeze / expandDims insert an axis anywhere in -rank-1..rank", () => {
    const x = grid([2, 3]);
    expect(unsqueeze(x, 0).shape).toEqual([1, 2, 3]);
    expect(unsqueeze(x, -1).shape).toEqual([2, 3, 1]);
    expect(expandDims(x, 1).shape).toEqual([2, 1, 3]);
    expect(() => unsqueeze(x, 3)).toThrow(/^unsqueeze: axis 3 is out of range for a tensor of rank 3/);
  });

  it("flatten merges startAxis..endAxis, as PyTorch", () => {
    const x = grid([2, 3, 4]);
    expect(flatten(x).shape).toEqual([24]);
    expect(flatten(x, 1).shape).toEqual([2, 12]);
    expect(flatten(x, 0, 1).shape).toEqual([6, 4]);
    expect(flatten(tensor(5)).shape).toEqual([1]);
    expect(() => flatten(x, 2, 1)).toThrow(/^flatten: startAxis 2 comes after endAxis 1/);
  });

  it("tile follows numpy (reps or shape padded with leading 1s), and its gradient counts the copies", () => {
    const x = f64([1, 2, 3, 4]).reshape([2, 2]);
    expect(tile(x, [2, 1]).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [1, 2],
      [3, 4],
    ]);
    expect(tile(f64([1, 2]), [2, 2]).toArray()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    expect(tile(x, [3]).shape).toEqual([2, 6]);
    expect(tile(x, [0, 1]).shape).toEqual([0, 2]);
    const w = grid([2, 3]);
    w.requiresGrad = true;
    sum(tile(w, [2, 1, 3])).backward();
    expect(w.grad!.toArray()).toEqual([
      [6, 6, 6],
      [6, 6, 6],
    ]);
    expect(() => tile(x, [1.5])).toThrow(/^tile: reps\[0\] must be a non-negative safe integer, got number 1.5/);
  });

  it("an empty tensor tiled or flattened to a dimension beyond 2^53 - 1 is refused naming tile / flatten", () => {
    // the result has 0 elements, so only the dimension check stands between it and reshape's error
    const empty = f64([]);
    expect(tile(empty, [2 ** 52]).shape).toEqual([0]);
    expect(() => tile(empty, [2 ** 53])).toThrow(ArgumentError);
    expect(() => tile(empty, [2 ** 53])).toThrow(/^tile: reps\[0\] must be a non-negative safe integer/);
    const wide = f64([]).reshape([0, 3]);
    expect(() => tile(wide, [1, 2 ** 52])).toThrow(ShapeError);
    expect(() => tile(wide, [1, 2 ** 52])).toThrow(/^tile: x of shape \[0, 3\] tiled by \[1, 4503599627370496\]/);
    const flat = f64([]).reshape([0, 2 ** 26, 2 ** 26]);
    expect(flatten(flat, 1, 2).shape).toEqual([0, 2 ** 52]);
    const big = f64([]).reshape([0, 2 ** 40, 2 ** 40]);
    expect(() => flatten(big, 1, 2)).toThrow(ShapeError);
    expect(() => flatten(big, 1, 2)).toThrow(
      /^flatten: merging axes 1\.\.2 of shape \[0, 1099511627776, 1099511627776\]/,
    );
  });

  it("unstack is the inverse of stack, and split takes one -1 size", () => {
    const x = grid([2, 3]);
    const cols = unstack(x, 1);
    expect(cols.map((c) => c.toArray())).toEqual([
      [-1, -0.25],
      [-0.75, 0],
      [-0.5, 0.25],
    ]);
    expect(split(x, [1, -1], 1).map((p) => p.shape)).toEqual([
      [2, 1],
      [2, 2],
    ]);
    expect(() => split(x, [-1, -1], 1)).toThrow(/^split: only one size can be -1/);
    expect(() => split(x, [4, -1], 1)).toThrow(ShapeError);
    expect(() => unstack(tensor(1))).toThrow(/^unstack: x must have at least one dimension/);
  });

  it("each composition passes gradcheck (float64)", () => {
    const x = grid([2, 3]);
    x.requiresGrad = true;
    const w = (t: ReturnType<typeof grid>) => sum(t.mul(grid(t.shape).add(2)));
    assertGradcheck((a) => w(tile(a, [2, 2])), [x]);
    assertGradcheck((a) => w(flatten(unsqueeze(a, 1))), [x]);
    assertGradcheck((a) => w(squeeze(unsqueeze(a, 0))), [x]);
    assertGradcheck((a) => w(unstack(a, 1)[2]!), [x]);
    assertGradcheck((a) => w(split(a, [-1, 1], 1)[0]!), [x]);
  });
});

describe("cumsum, variance, std, outer", () => {
  it("cumsum along an axis, forwards and reversed", () => {
    const x = f64([1, 2, 3, 4, 5, 6]).reshape([2, 3]);
    expect(cumsum(x, 1).toArray()).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(cumsum(x, 0).toArray()).toEqual([
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expect(cumsum(x, -1, { reverse: true }).toArray()).toEqual([
      [6, 5, 3],
      [15, 11, 6],
    ]);
    expect(() => cumsum(tensor(1), 0)).toThrow(/^cumsum: x must have at least one dimension/);
    expect(() => cumsum(x, 0, { reverse: 1 as never })).toThrow(/^cumsum: reverse must be a boolean/);
  });

  it("variance and std with PyTorch's correction=1 by default, numpy's with correction 0", () => {
    const x = f64([1, 2, 3, 4]);
    expect(variance(x).item()).toBeCloseTo(5 / 3, 15);
    expect(variance(x, { correction: 0 }).item()).toBe(1.25);
    expect(std(x, { correction: 0 }).item()).toBeCloseTo(Math.sqrt(1.25), 15);
    const m = f64([1, 2, 3, 4, 5, 7]).reshape([2, 3]);
    const v = variance(m, { axis: 1, keepdims: true });
    expect(v.shape).toEqual([2, 1]);
    // numpy: np.var([[1, 2, 3], [4, 5, 7]], axis=1, ddof=1, keepdims=True)
    expect(v.toArray()).toEqual([[1], [2.333333333333333]]);
    expect(variance(f64([3]), {}).item()).toBeNaN(); // 0/0, as PyTorch
  });

  it("variance divides by max(0, N - correction), as PyTorch: never a negative variance", () => {
    // N < correction: PyTorch's divisor is 0 (Infinity, or NaN for a zero sum), not N - correction
    const x = f64([1, 2, 4]);
    expect(variance(x, { correction: 5 }).item()).toBe(Number.POSITIVE_INFINITY);
    expect(std(x, { correction: 3 }).item()).toBe(Number.POSITIVE_INFINITY);
    expect(variance(f64([2, 2]), { correction: 3 }).item()).toBeNaN();
    expect(variance(x, { correction: 2.5 }).item()).toBeCloseTo(14 / 3 / 0.5, 12);
    // an empty axis: 0/0 with either correction, as torch.var(torch.zeros(0, 3), dim=0)
    const empty = f64([]).reshape([0, 3]);
    for (const correction of [0, 1]) {
      const v = variance(empty, { axis: 0, correction });
      expect(v.shape).toEqual([3]);
      expect(Array.from(v.data).every(Number.isNaN)).toBe(true);
    }
    // the derivative divides by the same 0: not finite, never of the wrong sign
    const w = f64([1, 2, 4]);
    w.requiresGrad = true;
    sum(variance(w, { correction: 4 })).backward();
    expect(Array.from(w.grad!.data).some(Number.isFinite)).toBe(false);
    expect(() => variance(x, { correction: -1 })).toThrow(/^variance: correction must be a finite number >= 0/);
    expect(() => std(x, null as never)).toThrow(/^std: options must be an object/);
  });

  it("outer of two vectors", () => {
    expect(outer(f64([1, 2]), f64([3, 4, 5])).toArray()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expect(() => outer(f64([1, 2]).reshape([1, 2]), f64([3]))).toThrow(
      /^outer: a and b must be 1-D, got shapes \[1, 2\] and \[1\]/,
    );
    expect(() => outer("a" as never, f64([3]))).toThrow(ArgumentError);
  });
});
