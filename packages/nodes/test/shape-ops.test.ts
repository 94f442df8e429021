/**
 * The shape ops of shape.ts: property checks of every op object (first and second order, both
 * dtypes), exact values against numpy semantics, identities between the adjoint pairs, error
 * messages, and proof that the property checks catch a wrong derivative.
 */
import {
  type AnyTensor,
  ArgumentError,
  defineMultiOutputOp,
  defineOp,
  type FloatDType,
  grad,
  gradgradcheck,
  type MultiOpSpec,
  type Op,
  type OpSpec,
  ShapeError,
  Tensor,
  tensor,
  zeros,
} from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
// getItem's one-argument row forms (the ones tested here) run shape.ts's getItem op
import { getItem } from "../src/indexing.js";
import {
  concat,
  concatOp,
  getItemOp,
  padSliceOp,
  reshape,
  scatterRowsOp,
  shapeOps,
  slice,
  sliceOp,
  split,
  splitOp,
  stack,
  transpose,
  transposeOp,
} from "../src/shape.js";

// ---------------------------------------------------------------------------------------------
// helpers (kept local, so this file depends on shape.ts alone)

/** 0, 1, 2, ... in `shape`. */
function arange(shape: readonly number[], dtype: FloatDType = "float64", requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float64Array.from({ length: n }, (_, i) => i),
    { shape, dtype, requiresGrad },
  );
}

/** Elementwise product of two tensors of one shape, with its derivative: a nonlinearity for second-order tests. */
const mulOp: Op = defineOp({
  name: "testMul",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(a!.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = a!.data[i]! * b!.data[i]!;
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    return [mulOp([gy, ctx.input(1)]), mulOp([gy, ctx.input(0)])];
  },
});
const mul = (a: Tensor, b: Tensor): Tensor => mulOp([a, b]);

/** Multiplication by a constant, to break a derivative by 1%. */
const scaleOp: Op<{ c: number }> = defineOp<{ c: number }>({
  name: "testScale",
  inputs: ["x"],
  forward([x], { c }, ctx) {
    const out = ctx.alloc(x!.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = x!.data[i]! * c;
    return out;
  },
  backward(gy, ctx) {
    return [scaleOp([gy], ctx.attrs)];
  },
});

/** numpy's transpose by index arithmetic, element by element. */
function referenceTranspose(x: Tensor, axes: readonly number[]): number[] {
  const shape = x.shape;
  const outShape = axes.map((a) => shape[a]!);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const n = x.size;
  const out: number[] = [];
  for (let o = 0; o < n; o++) {
    let rem = o;
    let src = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const i = rem % outShape[d]!;
      rem = Math.floor(rem / outShape[d]!);
      src += i * strides[axes[d]!]!;
    }
    out.push(x.data[src]!);
  }
  return out;
}

/** The gradient of `sum(w · f(x))` with respect to `x`. */
function gradOf(f: (x: Tensor) => Tensor, x: Tensor, w?: Tensor): Tensor {
  const leaf = new Tensor(x.data.slice(), x.shape, true);
  const y = f(leaf);
  const g = w ?? new Tensor(new Float64Array(y.size).fill(1), y.shape);
  return grad(y, [leaf], { gradOutput: g })[0]!;
}

// ---------------------------------------------------------------------------------------------
// property checks

const allOps = Object.values(shapeOps) as unknown as Op<unknown>[];

describe.each(allOps)("checkOp($opName)", (op) => {
  it("float64", () => {
    expect(checkOp(op, { numRuns: 40 }).cases).toBe(40);
  });

  it("float32", () => {
    expect(checkOp(op, { numRuns: 20, dtype: "float32" }).cases).toBe(20);
  });

  it("second order", () => {
    expect(checkOp(op, { numRuns: 20, secondOrder: true }).cases).toBe(20);
  });
});

describe("shapeOps", () => {
  it("lists every op object of shape.ts, each with its own name", () => {
    expect(Object.keys(shapeOps).sort()).toEqual([
      "clone",
      "concat",
      "getItem",
      "padSlice",
      "scatterRows",
      "slice",
      "split",
      "transpose",
    ]);
    for (const [name, op] of Object.entries(shapeOps)) expect(op.opName).toBe(name);
  });
});

/**
 * The linear ops' second-order checks above are trivially satisfied (their gradient does not
 * depend on the input), so these compose them with a product: the second derivative then flows
 * through each op's backward's backward (scatterRows → getItem, padSlice → slice, split → concat).
 */
describe("second derivatives through the adjoint ops", () => {
  const x = arange([3, 4]);
  const cases: [string, (x: Tensor) => Tensor | Tensor[]][] = [
    ["getItem", (x) => mul(getItem(x, [0, 0, 2]), getItem(x, [1, 2, -1]))],
    ["getItem (int)", (x) => mul(getItem(x, 1), getItem(x, -1))],
    ["slice", (x) => mul(slice(x, 0, 2), slice(x, 1, 3))],
    ["slice axis 1", (x) => mul(slice(x, 1, 3, 1), slice(x, -2, undefined, -1))],
    ["transpose", (x) => mul(transpose(x), transpose(x))],
    ["concat", (x) => mul(concat([x, x], 1), concat([slice(x, 1, undefined, 1), slice(x, 0, 1, 1), x], 1))],
    ["split", (x) => split(mul(x, x), [1, 3], 1).map((p) => mul(p, p))],
    ["stack", (x) => mul(stack([x, x], -1), stack([x, transpose(transpose(x))], 2))],
  ];
  it.each(cases)("%s", (_name, f) => {
    const inputs = [
      tensor(
        x.data.map((v) => (v - 5) / 4),
        { shape: x.shape, dtype: "float64" },
      ),
    ];
    const report = gradgradcheck((t) => f(t), inputs);
    expect(report.passed).toBe(true);
    expect(report.maxAbsError).toBeLessThan(1e-6);
  });
});

// ---------------------------------------------------------------------------------------------
// values

describe("transpose", () => {
  it("swaps the axes of a [2, 3, 4] by [1, 0, 2], as numpy", () => {
    const x = arange([2, 3, 4]);
    const y = transpose(x, [1, 0, 2]);
    expect(y.shape).toEqual([3, 2, 4]);
    expect(y.toArray()).toEqual([
      [
        [0, 1, 2, 3],
        [12, 13, 14, 15],
      ],
      [
        [4, 5, 6, 7],
        [16, 17, 18, 19],
      ],
      [
        [8, 9, 10, 11],
        [20, 21, 22, 23],
      ],
    ]);
  });

  it("reverses the axes by default and accepts negative axes", () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(transpose(m).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const x = arange([2, 3, 4]);
    expect(transpose(x).shape).toEqual([4, 3, 2]);
    expect(Array.from(transpose(x).data)).toEqual(referenceTranspose(x, [2, 1, 0]));
    expect(Array.from(transpose(x, [-1, 0, -2]).data)).toEqual(referenceTranspose(x, [2, 0, 1]));
    expect(transpose(tensor(5)).toArray()).toBe(5);
    expect(transpose(m, [0, 1]).toArray()).toEqual(m.toArray());
    expect(transpose(m, [0, 1]).data).not.toBe(m.data);
  });

  it("agrees with index arithmetic on every kernel path (runs, tiles, strided, size-1 axes)", () => {
    const cases: [number[], number[]][] = [
      [
        [70, 45],
        [1, 0],
      ],
      [
        [3, 40, 50],
        [0, 2, 1],
      ],
      [
        [3, 40, 50],
        [1, 2, 0],
      ],
      [
        [3, 40, 50],
        [2, 0, 1],
      ],
      [
        [2, 3, 4, 5],
        [2, 0, 3, 1],
      ],
      [
        [2, 3, 4, 5],
        [0, 1, 3, 2],
      ],
      [
        [2, 3, 4, 5],
        [2, 3, 0, 1],
      ],
      [
        [4, 1, 5, 1],
        [3, 2, 1, 0],
      ],
      [
        [1, 6, 1, 7],
        [2, 0, 3, 1],
      ],
      [
        [5, 0, 3],
        [2, 1, 0],
      ],
      [
        [33, 2, 65],
        [2, 1, 0],
      ],
    ];
    for (const [shape, axes] of cases) {
      for (const dtype of ["float32", "float64"] as const) {
        const x = arange(shape, dtype);
        const y = transpose(x, axes);
        expect(y.shape).toEqual(axes.map((a) => shape[a]));
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.data)).toEqual(referenceTranspose(x, axes));
      }
    }
  });

  it("has the inverse transpose as its gradient", () => {
    const x = arange([2, 3, 4]);
    const w = arange([4, 2, 3]);
    const g = gradOf((t) => transpose(t, [2, 0, 1]), x, w);
    expect(g.shape).toEqual([2, 3, 4]);
    expect(Array.from(g.data)).toEqual(referenceTranspose(w, [1, 2, 0]));
  });
});

describe("getItem", () => {
  const x = arange([4, 3]);

  it("an integer picks one row and drops dimension 0; negative counts from the end", () => {
    expect(getItem(x, 1).toArray()).toEqual([3, 4, 5]);
    expect(getItem(x, -1).toArray()).toEqual([9, 10, 11]);
    expect(getItem(x, 0).shape).toEqual([3]);
    expect(getItem(tensor([7, 8, 9]), 2).shape).toEqual([]);
    expect(getItem(tensor([7, 8, 9]), -3).item()).toBe(7);
  });

  it("a recorded gather keeps its own copy of the indices; an index array reused afterwards changes nothing", () => {
    const w = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2], dtype: "float64", requiresGrad: true });
    const idx = new Int32Array([2, 0]);
    const y = getItem(w, idx);
    idx[0] = 1; // the Trainer reuses its index array for every batch
    idx[1] = 1;
    y.backward(tensor([1, 1, 10, 10], { shape: [2, 2], dtype: "float64" }));
    expect(Array.from(w.grad!.data)).toEqual([10, 10, 0, 0, 1, 1]);
    // not recorded (no gradient needed): the rows are read at call time
    const z = getItem(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }), idx);
    expect(z.toArray()).toEqual([
      [3, 4],
      [3, 4],
    ]);
  });

  it("an index array gathers rows, repeats and negatives included", () => {
    expect(getItem(x, [2, 0, 2, -1]).toArray()).toEqual([
      [6, 7, 8],
      [0, 1, 2],
      [6, 7, 8],
      [9, 10, 11],
    ]);
    expect(getItem(x, Int32Array.from([3, 1])).toArray()).toEqual([
      [9, 10, 11],
      [3, 4, 5],
    ]);
    expect(getItem(x, []).shape).toEqual([0, 3]);
    expect(getItem(x, [1]).shape).toEqual([1, 3]);
    expect(getItem(arange([3, 2, 2]), [1]).toArray()).toEqual([
      [
        [4, 5],
        [6, 7],
      ],
    ]);
  });

  it("copies runs of consecutive rows as blocks, matching a row-by-row gather", () => {
    const big = arange([50, 40], "float32");
    const idx = [3, 4, 5, 6, 7, 20, 0, 1, 49, 48, 48, 10, 11, -1, -2];
    const y = getItem(big, idx);
    expect(y.shape).toEqual([idx.length, 40]);
    idx.forEach((r, j) => {
      const row = r < 0 ? r + 50 : r;
      expect(Array.from(y.data.subarray(j * 40, (j + 1) * 40))).toEqual(
        Array.from({ length: 40 }, (_, c) => row * 40 + c),
      );
    });
  });

  it("its gradient counts repeated rows: [0, 0, 2] on a [3, 2] gives rows 2, 0, 1", () => {
    const g = gradOf((t) => getItem(t, [0, 0, 2]), zeros([3, 2], { dtype: "float64" }));
    expect(g.toArray()).toEqual([
      [2, 2],
      [0, 0],
      [1, 1],
    ]);
    const w = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: "float64" },
    );
    expect(gradOf((t) => getItem(t, [0, -3, 2]), zeros([3, 2], { dtype: "float64" }), w).toArray()).toEqual([
      [4, 6],
      [0, 0],
      [5, 6],
    ]);
    expect(gradOf((t) => getItem(t, -2), zeros([3, 2], { dtype: "float64" })).toArray()).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
    ]);
  });

  it("keeps its own copy of the index array, so a reused buffer does not change the gradient", () => {
    const idx = Int32Array.from([0, 1]);
    const leaf = arange([3, 2], "float64", true);
    const y = getItem(leaf, idx);
    idx[0] = 2;
    idx[1] = 2;
    y.backward(new Tensor(new Float64Array(4).fill(1), [2, 2]));
    expect(leaf.grad!.toArray()).toEqual([
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
  });

  it("scatterRows is its adjoint: <getItem(x), g> = <x, scatterRows(g)>", () => {
    const xs = arange([5, 3]);
    const idx = [4, 0, 4, 2, -5];
    const g = tensor(
      Float64Array.from({ length: 15 }, (_, i) => Math.sin(i)),
      { shape: [5, 3] },
    );
    const lhs = Array.from(getItemOp([xs], { indices: idx, drop: false }).data).reduce(
      (s, v, i) => s + v * g.data[i]!,
      0,
    );
    const sg = scatterRowsOp([g], { indices: idx, drop: false, rows: 5 });
    expect(sg.shape).toEqual([5, 3]);
    const rhs = Array.from(xs.data).reduce((s, v, i) => s + v * sg.data[i]!, 0);
    expect(lhs).toBeCloseTo(rhs, 12);
  });
});

describe("slice", () => {
  const v = arange([10]);

  it("follows Python's rules for negative and out-of-range bounds", () => {
    expect(slice(v, -3).toArray()).toEqual([7, 8, 9]);
    expect(slice(v, 2, -2).toArray()).toEqual([2, 3, 4, 5, 6, 7]);
    expect(slice(v, -100, 100).toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(slice(v, 5, 2).shape).toEqual([0]);
    expect(slice(v, 12).shape).toEqual([0]);
    expect(slice(v, 3, null).toArray()).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(slice(v, -12, -8).toArray()).toEqual([0, 1]);
  });

  it("slices along axis 1 and -1", () => {
    const m = arange([2, 5]);
    expect(slice(m, 1, 3, 1).toArray()).toEqual([
      [1, 2],
      [6, 7],
    ]);
    expect(slice(m, -2, undefined, -1).toArray()).toEqual([
      [3, 4],
      [8, 9],
    ]);
    const t = arange([2, 3, 2]);
    expect(slice(t, 1, 2, 1).toArray()).toEqual([[[2, 3]], [[8, 9]]]);
    expect(slice(arange([40, 3], "float32"), 5, 30).data).toEqual(Float32Array.from({ length: 75 }, (_, i) => i + 15));
  });

  it("its gradient is zero outside the slice; padSlice is the adjoint", () => {
    expect(gradOf((t) => slice(t, 1, -1, 1), zeros([2, 4], { dtype: "float64" })).toArray()).toEqual([
      [0, 1, 1, 0],
      [0, 1, 1, 0],
    ]);
    const g = tensor([[5], [6]]);
    expect(padSliceOp([g], { axis: -1, start: 2, end: 3, dim: 4 }).toArray()).toEqual([
      [0, 0, 5, 0],
      [0, 0, 6, 0],
    ]);
    expect(sliceOp([arange([2, 4])], { axis: 1, start: 2, end: 3 }).toArray()).toEqual([[2], [6]]);
  });
});

describe("concat, split and stack", () => {
  const a = arange([2, 2]);
  const b = tensor([[10], [11]], { dtype: "float64" });

  it("concat joins along axis 1 and -1, as np.concatenate", () => {
    expect(concat([a, b], 1).toArray()).toEqual([
      [0, 1, 10],
      [2, 3, 11],
    ]);
    expect(concat([b, a, b], -1).toArray()).toEqual([
      [10, 0, 1, 10],
      [11, 2, 3, 11],
    ]);
    expect(concat([a, a]).toArray()).toEqual([
      [0, 1],
      [2, 3],
      [0, 1],
      [2, 3],
    ]);
    expect(concat([a, zeros([2, 0], { dtype: "float64" })], 1).toArray()).toEqual(a.toArray());
    const single = concat([a]);
    expect(single.toArray()).toEqual(a.toArray());
    expect(single.data).not.toBe(a.data);
    const big = concat([arange([3, 40]), arange([3, 50])], 1);
    expect(Array.from(big.data.subarray(90, 180))).toEqual([
      ...Array.from({ length: 40 }, (_, i) => 40 + i),
      ...Array.from({ length: 50 }, (_, i) => 50 + i),
    ]);
  });

  it("concat promotes mixed dtypes and casts each gradient back", () => {
    const f = tensor([[1], [2]], { dtype: "float32", requiresGrad: true });
    const d = arange([2, 2], "float64", true);
    const y = concat([f, d], 1);
    expect(y.dtype).toBe("float64");
    y.backward(arange([2, 3]));
    expect(f.grad!.dtype).toBe("float32");
    expect(f.grad!.toArray()).toEqual([[0], [3]]);
    expect(d.grad!.toArray()).toEqual([
      [1, 2],
      [4, 5],
    ]);
  });

  it("split returns the pieces concat was given, and equal pieces for a count", () => {
    const pieces = [arange([3, 1]), arange([3, 0]), arange([3, 4])];
    const joined = concat(pieces, -1);
    const back = split(joined, [1, 0, 4], -1);
    expect(back.map((p) => p.toArray())).toEqual(pieces.map((p) => p.toArray()));
    expect(split(arange([6]), 3).map((p) => p.toArray())).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    const rows = split(arange([3, 2]), [2, 1]);
    expect(rows.map((p) => p.shape)).toEqual([
      [2, 2],
      [1, 2],
    ]);
    expect(concat(rows).toArray()).toEqual(arange([3, 2]).toArray());
  });

  it("split's gradient is zero for pieces that were not used", () => {
    const x = arange([4, 2], "float64", true);
    const [, second] = split(x, [1, 3]);
    second!.backward(new Tensor(new Float64Array(6).fill(2), [3, 2]));
    expect(x.grad!.toArray()).toEqual([
      [0, 0],
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
  });

  it("concat's gradient gives each input its piece", () => {
    const w = arange([2, 3]);
    const left = arange([2, 2], "float64", true);
    const right = new Tensor(b.data.slice(), b.shape, true);
    const [gl, gr] = grad(concat([left, right], -1), [left, right], { gradOutput: w });
    expect(gl!.toArray()).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(gr!.toArray()).toEqual([[2], [5]]);
  });

  it("stack adds a new axis at 0, 1 and -1, as np.stack", () => {
    const p = tensor([1, 2, 3]);
    const q = tensor([4, 5, 6]);
    expect(stack([p, q]).toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(stack([p, q], 1).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(stack([p, q], -1).toArray()).toEqual(stack([p, q], 1).toArray());
    expect(stack([a, a], -1).shape).toEqual([2, 2, 2]);
    expect(stack([a, a], 1).toArray()).toEqual([
      [
        [0, 1],
        [0, 1],
      ],
      [
        [2, 3],
        [2, 3],
      ],
    ]);
    expect(stack([tensor(1), tensor(2), tensor(3)]).toArray()).toEqual([1, 2, 3]);
  });

  it("stack's gradient gives each input its slice", () => {
    const p = arange([3], "float64", true);
    const q = arange([3], "float64", true);
    stack([p, q], 1).backward(arange([3, 2]));
    expect(p.grad!.toArray()).toEqual([0, 2, 4]);
    expect(q.grad!.toArray()).toEqual([1, 3, 5]);
  });

  it("getItem, slice and reshape compose to numpy's mini-batch indexing", () => {
    const data = arange([6, 2, 2]);
    const batch = getItem(slice(data, 2), [3, 0]);
    expect(batch.toArray()).toEqual(getItem(data, [5, 2]).toArray());
    expect(reshape(batch, [2, 4]).toArray()).toEqual([
      [20, 21, 22, 23],
      [8, 9, 10, 11],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// errors

describe("errors name the function, the argument and the shapes", () => {
  const x = zeros([2, 3]);

  it("transpose rejects non-permutations", () => {
    expect(() => transpose(x, [0, 0])).toThrow(ArgumentError);
    expect(() => transpose(x, [0, 0])).toThrow(
      /transpose: axes \[0,0\] is not a permutation of the axes of x of shape \[2, 3\]: axis 0 appears twice/,
    );
    expect(() => transpose(x, [0, -2])).toThrow(/axis 0 appears twice/);
    expect(() => transpose(x, [0, 2])).toThrow(/axes\[1\] = 2 is not an integer in -2..1/);
    expect(() => transpose(x, [0, 0.5])).toThrow(/axes\[1\] = 0.5 is not an integer/);
    expect(() => transpose(x, [0])).toThrow(ShapeError);
    expect(() => transpose(x, [0])).toThrow(
      /transpose: axes \[0\] has 1 entries, but x of shape \[2, 3\] has rank 2; axes must be a permutation of 0..1/,
    );
    expect(() => transpose(x, 1 as never)).toThrow(/transpose: axes must be an array of integers, got number 1/);
    expect(() => transpose("x" as never)).toThrow(
      /transpose: x must be a Tensor, a number, nested arrays of numbers or a typed array, got string "x"/,
    );
    expect(() => transposeOp([x], { axes: [1, 1] })).toThrow(/transpose: axes \[1,1\] is not a permutation/);
    expect(() => transposeOp([x], undefined as never)).toThrow(/transpose: attrs must be \{ axes: number\[\] \}/);
  });

  it("getItem rejects out-of-range and non-integer indices, naming the index and the dimension", () => {
    expect(() => getItem(x, 2)).toThrow(ArgumentError);
    expect(() => getItem(x, 2)).toThrow(
      /getItem: index 2 is out of range for dimension 0 of size 2 \(x of shape \[2, 3\]; valid: -2 to 1\)/,
    );
    expect(() => getItem(x, -3)).toThrow(/getItem: index -3 is out of range for dimension 0 of size 2/);
    expect(() => getItem(x, [0, 1, 5])).toThrow(
      /getItem: index\[2\] 5 is out of range for dimension 0 of size 2 \(x of shape \[2, 3\]; valid: -2 to 1\)/,
    );
    expect(() => getItem(x, Int32Array.from([-3]))).toThrow(/index\[0\] -3 is out of range/);
    expect(() => getItem(x, 0.5)).toThrow(/getItem: index must be an integer, got number 0.5/);
    expect(() => getItem(x, [0, 1.5])).toThrow(/getItem: index\[1\] must be an integer, got number 1.5/);
    expect(() => getItem(x, ["0"] as never)).toThrow(/getItem: index\[0\] must be an integer, got string "0"/);
    expect(() => getItem(x, "0" as never)).toThrow(
      /getItem: index must be an integer, a slice s\(start, stop, step\), "...", null \(a new axis\) or an array of integers, got string "0"/,
    );
    expect(() => getItem(x, Float64Array.from([0]) as never)).toThrow(/got Float64Array/);
    expect(() => getItem(tensor(1), 0)).toThrow(ShapeError);
    expect(() => getItem(tensor(1), 0)).toThrow(/getItem: x must have at least one dimension to index, got shape \[\]/);
    expect(() => getItem(zeros([0, 2]), [0])).toThrow(/out of range for dimension 0 of size 0/);
    expect(getItem([1, 2], 0).item()).toBe(1);
    expect(() => getItem("12" as never, 0)).toThrow(
      /getItem: x must be a Tensor, a number, nested arrays of numbers or a typed array, got string "12"/,
    );
    expect(() => getItemOp([x], { indices: [0, 1], drop: true })).toThrow(
      /getItem: attrs.drop needs exactly one index/,
    );
  });

  it("scatterRows and padSlice validate their attributes", () => {
    expect(() => scatterRowsOp([zeros([2, 3])], { indices: [0], drop: false, rows: 4 })).toThrow(
      /scatterRows: g of shape \[2, 3\] must have 1 rows, one per index/,
    );
    expect(() => scatterRowsOp([zeros([1, 3])], { indices: [4], drop: false, rows: 4 })).toThrow(
      /scatterRows: index\[0\] 4 is out of range for dimension 0 of size 4 \(result with 4 rows/,
    );
    expect(() => scatterRowsOp([zeros([1])], { indices: [0], drop: false, rows: -1 })).toThrow(
      /scatterRows: attrs.rows must be >= 0, got -1/,
    );
    expect(() => padSliceOp([zeros([2, 3])], { axis: 1, start: 0, end: 2, dim: 4 })).toThrow(
      /padSlice: g of shape \[2, 3\] has 3 entries along axis 1, but start 0 and end 2 span 2/,
    );
    expect(() => padSliceOp([zeros([2, 3])], { axis: 1, start: 2, end: 5, dim: 4 })).toThrow(
      /padSlice: attrs.start 2 and attrs.end 5 must satisfy 0 <= start <= end <= 4/,
    );
  });

  it("slice rejects non-integer bounds, bad axes and 0-d inputs; the op object wants clamped bounds", () => {
    expect(() => slice(x, 0.5)).toThrow(ArgumentError);
    expect(() => slice(x, 0.5)).toThrow(/slice: start must be an integer, got number 0.5/);
    expect(() => slice(x, 0, "2" as never)).toThrow(/slice: end must be an integer, got string "2"/);
    expect(() => slice(x, 0, 1, 2)).toThrow(/slice: axis 2 is out of range for a tensor of rank 2 \(valid: -2 to 1\)/);
    expect(() => slice(tensor(1), 0)).toThrow(/slice: x must have at least one dimension, got shape \[\]/);
    expect(() => slice({} as never, 0)).toThrow(
      /slice: x must be a Tensor, a number, nested arrays of numbers or a typed array, got object/,
    );
    expect(() => sliceOp([x], { axis: 0, start: -1, end: 1 })).toThrow(
      /slice: attrs.start -1 and attrs.end 1 must satisfy 0 <= start <= end <= 2 \(x of shape \[2, 3\], axis 0\)/,
    );
    expect(() => sliceOp([x], { axis: 3, start: 0, end: 1 })).toThrow(/slice: attrs.axis 3 is out of range/);
  });

  it("concat names every shape when ranks or dimensions differ", () => {
    expect(() => concat([zeros([2, 3]), zeros([3, 4])])).toThrow(ShapeError);
    expect(() => concat([zeros([2, 3]), zeros([3, 4])])).toThrow(
      /concat: cannot concatenate shapes \[2, 3\], \[3, 4\] along axis 0: xs\[1\] has 4 at dimension 1 where xs\[0\] has 3/,
    );
    expect(() => concat([zeros([2, 3]), zeros([2, 3]), zeros([3])], 1)).toThrow(
      /concat: all inputs must have the same rank, got shapes \[2, 3\], \[2, 3\], \[3\] \(xs\[2\] has rank 1, xs\[0\] rank 2\)/,
    );
    expect(() => concat([tensor(1), tensor(2)])).toThrow(
      /concat: 0-d inputs cannot be concatenated \(shapes \[\], \[\]\); use stack to join scalars/,
    );
    expect(() => concat([x], 2)).toThrow(/concat: axis 2 is out of range for a tensor of rank 2/);
    expect(() => concat([])).toThrow(/concat: xs must hold at least one tensor, got an empty array/);
    expect(() => concat(x as never)).toThrow(/concat: xs must be an array of tensors, got Tensor/);
    expect(() => concat([x, "1" as never])).toThrow(
      /concat: xs\[1\] must be a Tensor, a number, nested arrays of numbers or a typed array, got string "1"/,
    );
    expect(() => concatOp([], { axis: 0 })).toThrow(/concat: expects at least one input \(xs\), got none/);
    expect(() => concatOp([x, "y" as never], { axis: 0 })).toThrow(
      /concat: input 1 \(xs\[1\]\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "y"/,
    );
  });

  it("split and stack validate sizes and shapes", () => {
    expect(() => split(x, [1, 2])).toThrow(ShapeError);
    expect(() => split(x, [1, 2])).toThrow(/split: sizes \[1,2\] sum to 3, but x of shape \[2, 3\] has 2 along axis 0/);
    expect(() => split(x, [1, -2, 2], 1)).toThrow(/split: sizes\[1\] must be a non-negative integer, got number -2/);
    // one -1 takes what the others leave (PyTorch, TensorFlow.js)
    expect(split(x, [1, -1, 2], 1).map((p) => p.shape)).toEqual([
      [2, 1],
      [2, 0],
      [2, 2],
    ]);
    expect(() => split(x, [])).toThrow(/split: sizes must be a non-empty array/);
    expect(() => split(x, 2, 1)).toThrow(/split: 2 equal pieces do not divide x of shape \[2, 3\] \(3 along axis 1\)/);
    expect(() => split(x, 0)).toThrow(/split: the number of pieces must be an integer >= 1, got number 0/);
    expect(() => split(x, [2], 2)).toThrow(/split: axis 2 is out of range/);
    expect(() => splitOp([x], { axis: 0, sizes: "2" as never })).toThrow(/split: sizes must be a non-empty array/);
    expect(() => stack([zeros([2, 3]), zeros([3, 2])])).toThrow(ShapeError);
    expect(() => stack([zeros([2, 3]), zeros([3, 2])])).toThrow(
      /stack: all inputs must have the same shape, got \[2, 3\], \[3, 2\] \(xs\[1\] differs from xs\[0\]\)/,
    );
    expect(() => stack([x], 3)).toThrow(/stack: axis 3 is out of range for a tensor of rank 3 \(valid: -3 to 2\)/);
    expect(() => stack([])).toThrow(/stack: xs must hold at least one tensor/);
  });
});

// ---------------------------------------------------------------------------------------------
// the checks can fail

/** A copy of `op` whose derivative is 1% off. */
function broken<A>(op: Op<A, AnyTensor | "operands">): Op<A, AnyTensor | "operands"> {
  const spec = op.spec as OpSpec<A>;
  return defineOp<A>({
    ...spec,
    name: `${spec.name}Broken`,
    backward: (g, c) => spec.backward(g, c).map((t) => (t ? scaleOp([t], { c: 1.01 }) : t)),
  });
}

/** checkOp's defaults, in float64, float32 and to second order. */
const MODES = [{}, { dtype: "float32" }, { secondOrder: true }] as const;

describe("checkOp catches a derivative 1% off", () => {
  const ops: [string, Op<unknown>][] = [
    ["transpose", transposeOp as unknown as Op<unknown>],
    ["getItem", getItemOp as unknown as Op<unknown>],
    ["slice", sliceOp as unknown as Op<unknown>],
  ];
  it.each(ops)("%s", (name, op) => {
    for (const options of MODES) {
      expect(() => checkOp(broken(op), options)).toThrow(
        new RegExp(`checkOp\\(${name}Broken\\) failed[\\s\\S]*worst element`),
      );
    }
  });

  it("split (multi-output)", () => {
    const spec = splitOp.spec as MultiOpSpec<unknown>;
    const splitBroken = defineMultiOutputOp<unknown>({
      ...spec,
      name: "splitBroken",
      backward: (gs, c) => spec.backward(gs, c).map((t) => (t ? scaleOp([t], { c: 1.01 }) : t)),
    });
    for (const options of MODES) {
      expect(() => checkOp(splitBroken, options)).toThrow(/checkOp\(splitBroken\) failed[\s\S]*worst element/);
    }
  });

  it("and the unbroken ops pass the same check", () => {
    for (const [, op] of ops) for (const options of MODES) expect(checkOp(op, options).cases).toBe(40);
  });
});
