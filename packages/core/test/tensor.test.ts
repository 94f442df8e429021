import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  cloneOp,
  DTypeError,
  full,
  GraphError,
  grad,
  noGrad,
  ones,
  Rng,
  randn,
  ShapeError,
  Tensor,
  tensor,
  zeros,
} from "../src/index.js";

describe("tensor factory", () => {
  it("infers shapes from nested arrays and defaults to float32", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it("makes 0-d scalars from numbers, and item() reads them", () => {
    const t = tensor(2.5, { dtype: "float64" });
    expect(t.shape).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.item()).toBe(2.5);
    expect(t.toArray()).toBe(2.5);
  });

  it("accepts typed arrays with a shape, copying them", () => {
    const src = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, { shape: [3, 2] });
    expect(t.dtype).toBe("float64");
    src[0] = 99;
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(tensor(src, { shape: [6], dtype: "float32" }).dtype).toBe("float32");
  });

  it("supports zero-size dimensions", () => {
    const t = zeros([2, 0, 3]);
    expect(t.size).toBe(0);
    expect(t.toArray()).toEqual([[], []]);
    expect(tensor([]).shape).toEqual([0]);
  });

  it("rejects ragged arrays, mismatched shapes, bad dtypes and non-numbers by message", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: nested arrays are ragged/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([1], { dtype: "int64" as never })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: "int64" as never })).toThrow(
      /tensor: dtype must be 'float32', 'float64', 'int32' or 'bool', got string "int64"/,
    );
    expect(() => tensor(["a"] as never)).toThrow(/tensor: element 0 must be a number or a boolean, got string "a"/);
    expect(() => tensor("abc" as never)).toThrow(ArgumentError);
    expect(() => zeros([2, -1])).toThrow(/zeros: shape\[1\] must be a non-negative integer, got number -1/);
    expect(() => full([2], "x" as never)).toThrow(/full: value must be a number/);
  });

  it("constructor checks data type and size", () => {
    expect(() => new Tensor([1, 2] as never, [2])).toThrow(
      /data must be a Float32Array, Float64Array, Int32Array or Uint8Array \(bool\), got array\(2\)/,
    );
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(/data has 3 elements but shape \[2, 2\] needs 4/);
  });

  it("item() on a multi-element tensor names the shape", () => {
    expect(() => ones([2, 2]).item()).toThrow(
      /item: only a one-element tensor converts to a number, this one has shape \[2, 2\]/,
    );
  });

  it("detach() shares data but drops the graph; clone() copies, and is recorded (cloneOp) when it requires grad", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.data).toBe(x.data);
    const c = x.clone();
    expect(c.data).not.toBe(x.data);
    expect(c.toArray()).toEqual([1, 2]);
    expect(c.creator?.op.forward).toBe(cloneOp.spec.forward);
    expect(grad(c, [x], { gradOutput: tensor([3, -4]) })[0]!.toArray()).toEqual([3, -4]);
    expect(noGrad(() => x.clone()).isLeaf).toBe(true);
    expect(x.detach().clone().isLeaf).toBe(true);
    expect(tensor([1]).clone().isLeaf).toBe(true);
  });

  it("requiresGrad can be switched on a leaf but not on a produced tensor", () => {
    const x = zeros([2]);
    x.requiresGrad = true;
    expect(x.requiresGrad).toBe(true);
    expect(x.isLeaf).toBe(true);
  });

  it("backward on a leaf sets its gradient, and on a non-grad leaf explains itself", () => {
    const x = tensor(3, { requiresGrad: true });
    x.backward();
    expect(x.grad?.item()).toBe(1);
    x.backward();
    expect(x.grad?.item()).toBe(2);
    expect(() => tensor(1).backward()).toThrow(GraphError);
  });
});

describe("random", () => {
  it("randn is deterministic for a seed and roughly standard normal", () => {
    const a = randn([10000], { seed: 7, dtype: "float64" });
    const b = randn([10000], { seed: 7, dtype: "float64" });
    expect(a.data).toEqual(b.data);
    const c = randn([10000], { seed: 8, dtype: "float64" });
    expect(c.data).not.toEqual(a.data);
    let mean = 0;
    for (const v of a.data) mean += v;
    mean /= a.size;
    let variance = 0;
    for (const v of a.data) variance += (v - mean) ** 2;
    variance /= a.size;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it("an Rng continues its stream across calls", () => {
    const rng = new Rng(1);
    const a = randn([3], { rng });
    const b = randn([3], { rng });
    expect(a.data).not.toEqual(b.data);
    const both = randn([6], { seed: 1 });
    expect([...both.data]).toEqual([...a.data, ...b.data]);
  });

  it("randn demands a seed or an rng, never Math.random", () => {
    expect(() => randn([2], {} as never)).toThrow(/randn: a seed or an rng is required/);
    expect(() => randn([2], { seed: 1.5 })).toThrow(/randn: seed must be an integer, got number 1.5/);
  });

  it("permutation is a permutation", () => {
    const p = new Rng(3).permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe("in-place changes", () => {
  it("copy_, fill_ and markModified change data and bump the version", () => {
    const t = tensor([1, 2, 3]);
    expect(t.version).toBe(0);
    t.copy_(tensor([4, 5, 6], { dtype: "float64" }));
    expect(t.toArray()).toEqual([4, 5, 6]);
    expect(t.dtype).toBe("float32");
    t.fill_(7);
    expect(t.toArray()).toEqual([7, 7, 7]);
    t.markModified();
    expect(t.version).toBe(3);
    expect(() => t.copy_(tensor([1, 2]))).toThrow(/copy_: src has shape \[2\] but this tensor has shape \[3\]/);
    expect(() => t.fill_("1" as never)).toThrow(/fill_: value must be a number, got string "1"/);
  });
});
