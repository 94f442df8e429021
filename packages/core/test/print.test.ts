/**
 * Issue 15, item 8: console.log(t) shows values, shape, dtype and grad status as PyTorch prints a
 * tensor (util.inspect.custom in Node, toString everywhere), long tensors summarised; error
 * messages keep the short label.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ArgumentError, Tensor, tensor, tensorLabel, zeros } from "../src/index.js";

describe("printing a tensor", () => {
  it("shows values with aligned columns, shape, dtype and requiresGrad, as PyTorch", () => {
    expect(
      String(
        tensor(
          [
            [1, 2],
            [3, 40],
          ],
          { requiresGrad: true },
        ),
      ),
    ).toBe("tensor([[ 1,  2],\n        [ 3, 40]], shape=[2, 2], dtype=float32, requiresGrad=true)");
    expect(String(tensor([0.5, -1.25, Math.PI], { dtype: "float64" }))).toBe(
      "tensor([  0.5, -1.25, 3.142], shape=[3], dtype=float64)",
    );
    expect(String(tensor(7))).toBe("tensor(7, shape=[], dtype=float32)");
    expect(String(tensor([Number.NaN, Number.POSITIVE_INFINITY, 1e-9], { dtype: "float64" }))).toBe(
      "tensor([ nan,  inf, 1e-9], shape=[3], dtype=float64)",
    );
    expect(String(zeros([2, 1, 2]))).toBe("tensor([[[0, 0]],\n\n        [[0, 0]]], shape=[2, 1, 2], dtype=float32)");
    expect(String(zeros([0, 3]))).toBe("tensor([], shape=[0, 3], dtype=float32)");
  });

  it("is what console.log shows in Node (util.inspect.custom)", () => {
    const t = tensor([1, 2], { requiresGrad: true });
    expect(inspect(t)).toBe(String(t));
    expect(inspect({ w: t })).toContain("tensor([1, 2], shape=[2], dtype=float32, requiresGrad=true)");
  });

  it("summarises past 1,000 elements: the first and last 3 of each dimension", () => {
    const t = new Tensor(
      Float32Array.from({ length: 2000 }, (_, i) => i),
      [2, 1000],
    );
    expect(String(t)).toBe(
      "tensor([[   0,    1,    2, ...,  997,  998,  999],\n        [1000, 1001, 1002, ..., 1997, 1998, 1999]], shape=[2, 1000], dtype=float32)",
    );
    const long = new Tensor(new Float64Array(5000), [5000]);
    expect(String(long)).toBe("tensor([0, 0, 0, ..., 0, 0, 0], shape=[5000], dtype=float64)");
  });

  it("names the op that made a tensor; errors keep the short label", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(tensorLabel(x)).toBe("Tensor(float32, [2], requiresGrad)");
    expect(() => Object.freeze(x).fill_(0)).toThrow(
      /fill_: this tensor Tensor\(float32, \[2\], requiresGrad\) is frozen/,
    );
    expect(() => Tensor.prototype.toString.call({})).toThrow(ArgumentError);
  });
});
