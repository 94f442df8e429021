/**
 * Issue 15, item 4: numpy indexing (`getItem(x, ...index)` with integers, slices `s(...)`, "...",
 * null and one integer-array index) and `gather`. Values and gradients against a small reference
 * written here from numpy's rules (Python's slice.indices, numpy's placement of advanced indices),
 * independent of the implementation; fixed cases checked against numpy's own output; repeated
 * indices adding up; error messages; second order through the adjoint ops.
 */
import {
  ArgumentError,
  GradgraphError,
  grad,
  gradgradcheck,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  gather,
  gatherOp,
  getItem,
  type Index,
  mul,
  ops,
  padStridedOp,
  reshape,
  s,
  scatterAddOp,
  stridedSliceOp,
  sum,
} from "../src/index.js";

// ---------------------------------------------------------------------------------------------
// The reference: numpy's rules, written plainly on flat arrays

/** A reference index entry: an integer, a slice, "...", a new axis, or an integer list. */
type RefEntry =
  | { int: number }
  | { slice: [number | null, number | null, number | null] }
  | { ellipsis: true }
  | { newaxis: true }
  | { list: number[] };

/** Python's `range(*slice(start, stop, step).indices(n))`, as a list of positions. */
function pySlice(start: number | null, stop: number | null, step: number | null, n: number): number[] {
  const st = step ?? 1;
  const out: number[] = [];
  if (st > 0) {
    const lo = start === null ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    const hi = stop === null ? n : stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
    for (let i = lo; i < hi; i += st) out.push(i);
  } else {
    const lo = start === null ? n - 1 : start < 0 ? Math.max(-1, start + n) : Math.min(start, n - 1);
    const hi = stop === null ? -1 : stop < 0 ? Math.max(-1, stop + n) : Math.min(stop, n - 1);
    for (let i = lo; i > hi; i += st) out.push(i);
  }
  return out;
}

/**
 * numpy's `x[index]` for `x` of `shape` (flat `data`): returns the result's shape and, for each
 * element of the result, the flat position in `x` it comes from.
 */
function reference(shape: readonly number[], index: readonly RefEntry[]): { shape: number[]; from: number[] } {
  const consumed = index.filter((e) => !("ellipsis" in e) && !("newaxis" in e)).length;
  // output axes in order: a new axis, or an axis of x with the positions it takes
  type Out = { axis: number; positions: number[]; advanced: boolean } | { axis: -1; positions: [0]; advanced: false };
  const outs: Out[] = [];
  const fixed = new Map<number, number>();
  const advancedAt: number[] = [];
  let axis = 0;
  index.forEach((e, k) => {
    if ("newaxis" in e) outs.push({ axis: -1, positions: [0], advanced: false });
    else if ("ellipsis" in e) {
      for (let i = 0; i < shape.length - consumed; i++, axis++) {
        outs.push({ axis, positions: pySlice(null, null, null, shape[axis]!), advanced: false });
      }
    } else if ("int" in e) {
      fixed.set(axis, e.int < 0 ? e.int + shape[axis]! : e.int);
      advancedAt.push(k);
      axis++;
    } else if ("slice" in e) {
      outs.push({ axis, positions: pySlice(...e.slice, shape[axis]!), advanced: false });
      axis++;
    } else {
      outs.push({ axis, positions: e.list.map((i) => (i < 0 ? i + shape[axis]! : i)), advanced: true });
      advancedAt.push(k);
      axis++;
    }
  });
  for (; axis < shape.length; axis++) {
    outs.push({ axis, positions: pySlice(null, null, null, shape[axis]!), advanced: false });
  }
  const list = outs.findIndex((o) => o.advanced);
  // numpy: with an integer-array index, the integers count as advanced indices; when they are
  // not side by side in the index, the array's axis goes first
  if (list >= 0 && advancedAt.length > 1) {
    const consecutive = advancedAt.every((k, i) => i === 0 || k === advancedAt[i - 1]! + 1);
    if (!consecutive) outs.unshift(...outs.splice(list, 1));
  }
  const outShape = outs.map((o) => o.positions.length);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const total = outShape.reduce((p, d) => p * d, 1);
  const from: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    const at = new Array<number>(outs.length);
    for (let d = outs.length - 1; d >= 0; d--) {
      at[d] = rest % outShape[d]!;
      rest = Math.floor(rest / outShape[d]!);
    }
    let src = 0;
    for (const [a, p] of fixed) src += p * strides[a]!;
    outs.forEach((o, d) => {
      if (o.axis >= 0) src += o.positions[at[d]!]! * strides[o.axis]!;
    });
    from.push(src);
  }
  return { shape: outShape, from };
}

/** A reference entry as getItem's argument. */
function toIndex(e: RefEntry): Index {
  if ("int" in e) return e.int;
  if ("slice" in e) return s(...e.slice);
  if ("ellipsis" in e) return "...";
  if ("newaxis" in e) return null;
  return e.list;
}

/** 0.5, 1.5, ... (distinct values) in `shape`, requiring grad. */
function arange(shape: readonly number[], dtype: "float32" | "float64" = "float64"): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float64Array.from({ length: n }, (_, i) => i + 0.5),
    { shape: [...shape], dtype, requiresGrad: true },
  );
}

/**
 * An index for `shape` drawn with fast-check: one entry per axis (an integer, a slice of either
 * sign, a list at most once, or the whole axis), then a run of them replaced by "..." and the
 * trailing ones left out (both stand for whole axes), and new axes inserted anywhere.
 */
function indexArb(shape: readonly number[]): fc.Arbitrary<RefEntry[]> {
  const rank = shape.length;
  return fc
    .tuple(
      fc.array(fc.constantFrom("int", "slice", "list", "whole"), { minLength: rank, maxLength: rank }),
      fc.integer({ min: 0, max: rank }),
      fc.option(fc.tuple(fc.integer({ min: 0, max: rank }), fc.integer({ min: 0, max: rank })), { nil: undefined }),
      fc.array(fc.integer({ min: 0, max: rank + 1 }), { maxLength: 2 }),
      fc.infiniteStream(fc.integer({ min: -7, max: 7 })),
    )
    .map(([kinds, kept, ellipsis, newAt, numbers]) => {
      const next = () => numbers.next().value as number;
      const inRange = (d: number) => (((next() % d) + d) % d) - (next() > 0 ? d : 0);
      let listUsed = false;
      let entries: RefEntry[] = kinds.map((kind, a) => {
        const d = shape[a]!;
        if (kind === "int" && d > 0) return { int: inRange(d) };
        if (kind === "list" && !listUsed) {
          listUsed = true;
          const k = d === 0 ? 0 : Math.abs(next()) % 4;
          return { list: Array.from({ length: k }, () => inRange(d)) };
        }
        if (kind === "whole") return { slice: [null, null, null] };
        const step = next() === 0 ? null : next() % 3 || -1;
        return { slice: [next() > 3 ? null : next(), next() < -3 ? null : next(), step] };
      });
      // (a "..." stands for every axis the others leave, so only one of the two forms at a time)
      if (ellipsis === undefined) entries = entries.slice(0, kept);
      else {
        const from = Math.min(ellipsis[0], entries.length);
        const to = Math.min(from + ellipsis[1], entries.length);
        entries.splice(from, to - from, { ellipsis: true });
      }
      for (const at of newAt) entries.splice(Math.min(at, entries.length), 0, { newaxis: true });
      return entries;
    });
}

const caseArb = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((shape) => fc.tuple(fc.constant(shape), indexArb(shape)));

describe("getItem against numpy's rules (a reference written here)", () => {
  it("values, shapes and gradients for drawn shapes and indices (slices of both signs, ints, one list, ..., null)", () => {
    fc.assert(
      fc.property(caseArb, ([shape, entries]) => {
        const x = arange(shape);
        const ref = reference(shape, entries);
        const y = getItem(x, ...entries.map(toIndex));
        expect(y.shape).toEqual(ref.shape);
        expect(Array.from(y.data)).toEqual(ref.from.map((i) => x.data[i]!));
        // gradient of Σ w·y: each weight lands where its element came from (repeats add up)
        const w = tensor(
          Float64Array.from(ref.from, (_, j) => j + 1),
          { shape: ref.shape },
        );
        const [g] = grad(sum(mul(y, w)), [x]);
        const expected = new Float64Array(x.size);
        ref.from.forEach((i, j) => {
          expected[i] = expected[i]! + j + 1;
        });
        expect(Array.from(g!.data)).toEqual(Array.from(expected));
      }),
      { numRuns: 400 },
    );
  });

  it("matches numpy's output on fixed cases (printed by numpy 2.4)", () => {
    const x = tensor(
      Array.from({ length: 24 }, (_, i) => i),
      { shape: [2, 3, 4], dtype: "float64" },
    );
    // x[1, :, None]
    expect(getItem(x, 1, s(), null).toArray()).toEqual([[[12, 13, 14, 15]], [[16, 17, 18, 19]], [[20, 21, 22, 23]]]);
    // x[..., ::-1][0]
    expect(getItem(x, "...", s(null, null, -1)).toArray()).toEqual([
      [
        [3, 2, 1, 0],
        [7, 6, 5, 4],
        [11, 10, 9, 8],
      ],
      [
        [15, 14, 13, 12],
        [19, 18, 17, 16],
        [23, 22, 21, 20],
      ],
    ]);
    // x[::-1, 1:, ::2]
    expect(getItem(x, s(null, null, -1), s(1), s(null, null, 2)).toArray()).toEqual([
      [
        [16, 18],
        [20, 22],
      ],
      [
        [4, 6],
        [8, 10],
      ],
    ]);
    // x[:, 0, [1, 2]] (side by side: the list's axis stays in place) and x[:, 0, ..., [1, 2]]
    // (separated by "...", even one standing for no axis: the list's axis goes first)
    expect(getItem(x, s(), 0, [1, 2]).toArray()).toEqual([
      [1, 2],
      [13, 14],
    ]);
    expect(getItem(x, s(), 0, "...", [1, 2]).toArray()).toEqual([
      [1, 13],
      [2, 14],
    ]);
    // x[0, None, [1, 2]]: separated by a new axis
    expect(getItem(x, 0, null, [1, 2]).shape).toEqual([2, 1, 4]);
    // x[:, [0, 2, 2]]
    expect(getItem(x, s(), [0, 2, 2]).shape).toEqual([2, 3, 4]);
    // x[-1, -1, -1], x[1:, :, -1:-5:-2], x[None, ..., None]
    expect(getItem(x, -1, -1, -1).toArray()).toBe(23);
    expect(getItem(x, s(1), s(), s(-1, -5, -2)).toArray()).toEqual([
      [
        [15, 13],
        [19, 17],
        [23, 21],
      ],
    ]);
    expect(getItem(x, null, "...", null).shape).toEqual([1, 2, 3, 4, 1]);
  });

  it("zero-size results: empty slices, empty lists, slices of an empty axis", () => {
    const x = arange([3, 4]);
    expect(getItem(x, s(2, 1)).shape).toEqual([0, 4]);
    expect(getItem(x, s(), s(0, 4, -1)).shape).toEqual([3, 0]);
    expect(getItem(x, s(), []).shape).toEqual([3, 0]);
    expect(getItem(x, s(10, 20), null).shape).toEqual([0, 1, 4]);
    expect(getItem(zeros([0, 3]), s(null, null, -1), 1).shape).toEqual([0]);
    const [g] = grad(sum(getItem(x, s(5), s(null, null, -2))), [x]);
    expect(g!.toArray()).toEqual(zeros([3, 4]).toArray());
  });

  it("a 0-d tensor takes no index, '...', null and s() only where there are axes", () => {
    const c = tensor(7, { dtype: "float64", requiresGrad: true });
    expect(getItem(c).toArray()).toBe(7);
    expect(getItem(c, "...").toArray()).toBe(7);
    expect(getItem(c, null, null).shape).toEqual([1, 1]);
    expect(() => getItem(c, s())).toThrow(/getItem: too many indices for x of shape \[\]/);
  });

  it("the result is a copy recorded in the graph, and the one-argument row forms keep their op", () => {
    const x = arange([3, 2]);
    const y = getItem(x, s());
    expect(y.data).not.toBe(x.data);
    expect(y.toArray()).toEqual(x.toArray());
    expect(y.creator?.opName).toBe("stridedSlice");
    expect(getItem(x, 1).creator?.opName).toBe("getItem");
    expect(getItem(x, [1, 0]).creator?.opName).toBe("getItem");
    expect(getItem(x, s(), [1, 0]).creator?.opName).toBe("gather");
    // a Tensor passed alone is an integer-array index of any shape (numpy's x[idx]), not rows
    expect(getItem(x, tensor([[2, 0]])).toArray()).toEqual([
      [
        [4.5, 5.5],
        [0.5, 1.5],
      ],
    ]);
    expect(getItem(x, s(), 1).creator?.opName).toBe("reshape");
    expect(getItem(x, s(), 1, null).creator?.opName).toBe("stridedSlice");
    // numpy's move of the list's axis to the front is a transpose (before the reshape dropping the 0)
    const moved = getItem(arange([2, 3, 4]), s(), 0, "...", [1, 2]).creator!;
    expect([moved.op.name, (moved.next[0] as { op: { name: string } }).op.name]).toEqual(["reshape", "transpose"]);
  });

  it("repeated list indices add up in the gradient", () => {
    const x = arange([2, 3]);
    const [g] = grad(sum(getItem(x, s(), [2, 0, 2, -1])), [x]);
    expect(g!.toArray()).toEqual([
      [1, 0, 3],
      [1, 0, 3],
    ]);
  });

  it("second order through stridedSlice/padStrided and gather/scatterAdd", () => {
    const x = tensor(
      Float64Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
      { shape: [3, 4], dtype: "float64" },
    );
    const f = (t: Tensor) =>
      mul(
        getItem(t, s(null, null, -1), s(1, null, 2)),
        getItem(t, s(), [3, 1, 3], null).sum({ axis: 2 }).getItem(s(), s(1)),
      );
    expect(gradgradcheck(f, [x]).passed).toBe(true);
    const h = (t: Tensor) => mul(gather(t, [2, 2, 0], 1), gather(t, [-1, 0, 1], 1));
    expect(gradgradcheck(h, [x]).passed).toBe(true);
  });

  it("float32 keeps its dtype", () => {
    const x = arange([2, 3], "float32");
    expect(getItem(x, s(null, null, -1), [0]).dtype).toBe("float32");
    expect(gather(x, [1], 1).dtype).toBe("float32");
  });
});

describe("s(start, stop, step)", () => {
  it("is numpy's start:stop:step, start first", () => {
    expect(String(s())).toBe(":");
    expect(String(s(1))).toBe("1:");
    expect(String(s(null, 3))).toBe(":3");
    expect(String(s(null, null, -1))).toBe("::-1");
    expect(s(1, -1, 2)).toMatchObject({ start: 1, stop: -1, step: 2 });
    expect(Object.isFrozen(s())).toBe(true);
  });

  it("refuses a step of 0 and parts that are not integers or null", () => {
    expect(() => s(0, 3, 0)).toThrow(ArgumentError);
    expect(() => s(0, 3, 0)).toThrow(/s: step must not be 0/);
    expect(() => s(0.5)).toThrow(/s: start must be an integer or null, got number 0.5/);
    expect(() => s(0, Number.NaN)).toThrow(/s: stop must be an integer or null, got number NaN/);
    expect(() => s(0, 1, "2" as never)).toThrow(/s: step must be an integer or null, got string "2"/);
    expect(() => s(Number.POSITIVE_INFINITY)).toThrow(/s: start must be an integer or null/);
  });

  it("huge bounds are clamped as in Python; -0 is 0", () => {
    const x = arange([5]);
    expect(getItem(x, s(-(2 ** 40), 2 ** 40)).shape).toEqual([5]);
    expect(getItem(x, s(2 ** 40, null, -1)).toArray()).toEqual([4.5, 3.5, 2.5, 1.5, 0.5]);
    expect(getItem(x, s(1, null, 2 ** 40)).toArray()).toEqual([1.5]);
    expect(getItem(x, -0, null).toArray()).toEqual([0.5]);
  });
});

describe("getItem errors", () => {
  const x = tensor(
    Array.from({ length: 6 }, (_, i) => i),
    { shape: [2, 3] },
  );

  it("an integer out of range names the entry, the axis, the index and the size", () => {
    expect(() => getItem(x, s(), 3)).toThrow(ArgumentError);
    expect(() => getItem(x, s(), 3)).toThrow(
      "getItem: index[1] 3 is out of range for dimension 1 of size 3 (x of shape [2, 3]; valid: -3 to 2)",
    );
    expect(() => getItem(x, -3, 0)).toThrow("getItem: index[0] -3 is out of range for dimension 0 of size 2");
    expect(() => getItem(x, 0, 2 ** 40)).toThrow("getItem: index[1] 1099511627776 is out of range for dimension 1");
    // the one-argument row forms keep their messages
    expect(() => getItem(x, 2)).toThrow("getItem: index 2 is out of range for dimension 0 of size 2");
  });

  it("list entries out of range or not integers name their position", () => {
    expect(() => getItem(x, s(), [0, 3])).toThrow(
      "getItem: index[1][1] 3 is out of range for dimension 1 of size 3 (valid: -3 to 2)",
    );
    expect(() => getItem(x, s(), [0, 1.5])).toThrow("getItem: index[1][1] must be an integer, got number 1.5");
    expect(() => getItem(x, s(), [[0]] as never)).toThrow(
      "getItem: index[1][0] must be an integer, got array(1); for indices of several dimensions pass a Tensor",
    );
    expect(() => getItem(x, s(), tensor([[0, 7]]))).toThrow("getItem: index[1][0, 1] 7 is out of range");
    expect(() => getItem(x, null, [0, Number.NaN])).toThrow("getItem: index[1][1] must be an integer, got number NaN");
  });

  it("entries of other kinds, two '...' or two lists, too many indices", () => {
    expect(() => getItem(x, 0, "1:" as never)).toThrow(
      'getItem: index[1] must be an integer, a slice s(start, stop, step), "...", null (a new axis) or an array of integers, got string "1:"',
    );
    expect(() => getItem(x, 0, undefined as never)).toThrow(
      /getItem: index\[1\] must be an integer, a slice .* got undefined/,
    );
    expect(() => getItem(x, 0.5, 0)).toThrow("getItem: index[0] must be an integer, got number 0.5");
    expect(() => getItem(x, "...", "...")).toThrow(
      'getItem: an index can have only one "..." (an ellipsis), got index[0] and index[1]',
    );
    expect(() => getItem(x, [0], [1])).toThrow(
      "getItem: only one integer-array index is supported, got index[0] and index[1]; index one axis at a time (or use gather)",
    );
    expect(() => getItem(x, 0, 0, 0)).toThrow(ShapeError);
    expect(() => getItem(x, 0, 0, 0)).toThrow(
      "getItem: too many indices for x of shape [2, 3]: 3 entries index an axis (integers, slices and arrays), but x has 2 dimensions",
    );
    expect(() => getItem(x, ...new Array<null>(70).fill(null))).toThrow(
      "getItem: the result would have 72 dimensions, more than the maximum rank 64",
    );
    // a forged slice is not a slice
    expect(() => getItem(x, { start: 0, stop: 1, step: 1 } as never)).toThrow(
      /getItem: index must be an integer, a slice/,
    );
    expect(() => getItem(x, Object.create(Object.getPrototypeOf(s())) as never, 0)).toThrow(
      /got SliceIndex|got object/,
    );
  });

  it("an array passed alone is rows (numpy's x[[i, j]]); slices inside it get a hint", () => {
    expect(() => getItem(x, [s(), 1] as never)).toThrow(
      /getItem: index\[0\] must be an integer, got .*; an array passed alone is an integer-array index along axis 0 \(numpy's x\[\[i, j\]\]\): give each axis its own argument, e\.g\. getItem\(x, s\(\), \[0, 2\]\)/,
    );
  });

  it("every error is a GradgraphError", () => {
    for (const bad of [[Symbol("s")], [10n], [{}], [() => 1], [new Map()]]) {
      expect(() => getItem(x, 0, ...(bad as never[]))).toThrow(GradgraphError);
    }
  });
});

describe("gather", () => {
  const x = tensor(
    Array.from({ length: 12 }, (_, i) => i),
    { shape: [3, 4], dtype: "float64" },
  );

  it("picks along an axis (numpy's take): 1-D, 0-d and multi-dimensional indices", () => {
    expect(gather(x, [2, 0, 2]).toArray()).toEqual([
      [8, 9, 10, 11],
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ]);
    expect(gather(x, Int32Array.from([3, 0]), 1).toArray()).toEqual([
      [3, 0],
      [7, 4],
      [11, 8],
    ]);
    expect(gather(x, 1, -1).toArray()).toEqual([1, 5, 9]);
    const ids = tensor([
      [0, 1],
      [2, 2],
    ]);
    const y = gather(x, ids, 1);
    expect(y.shape).toEqual([3, 2, 2]);
    expect(y.toArray()).toEqual([
      [
        [0, 1],
        [2, 2],
      ],
      [
        [4, 5],
        [6, 6],
      ],
      [
        [8, 9],
        [10, 10],
      ],
    ]);
    expect(gather(x, [], 0).shape).toEqual([0, 4]);
    expect(gather(x, tensor([[], []]), 1).shape).toEqual([3, 2, 0]);
  });

  it("negative indices count from the end (numpy, ONNX Gather, getItem); PyTorch's index_select refuses them", () => {
    expect(gather(x, [-1, -3], 0).toArray()).toEqual(gather(x, [2, 0], 0).toArray());
    expect(() => gather(x, [-4], 0)).toThrow(
      "gather: indices[0] -4 is out of range for axis 0 of x of shape [3, 4] of size 3 (valid: -3 to 2)",
    );
  });

  it("is an embedding lookup: gather(W, ids) with repeated ids adding up in W's gradient", () => {
    const W = tensor(
      [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
        [0.7, 0.8],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    const ids = tensor([
      [1, 3, 1],
      [0, 1, 1],
    ]);
    const emb = gather(W, ids);
    expect(emb.shape).toEqual([2, 3, 2]);
    expect(emb.toArray()).toEqual([
      [
        [0.3, 0.4],
        [0.7, 0.8],
        [0.3, 0.4],
      ],
      [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.3, 0.4],
      ],
    ]);
    const w = reshape(tensor([1, 2], { dtype: "float64" }), [1, 1, 2]);
    const [g] = grad(sum(mul(emb, w)), [W]);
    expect(g!.toArray()).toEqual([
      [1, 2],
      [4, 8],
      [0, 0],
      [1, 2],
    ]);
    expect(W.gather([3]).toArray()).toEqual([[0.7, 0.8]]);
  });

  it("errors name gather, the index, the axis and the size", () => {
    expect(() => gather(x, [0, 3], 1)).not.toThrow();
    expect(() => gather(x, [0, 4], 1)).toThrow(ArgumentError);
    expect(() => gather(x, [0, 4], 1)).toThrow("gather: indices[1] 4 is out of range for axis 1 of x of shape [3, 4]");
    expect(() => gather(x, [0.5])).toThrow("gather: indices[0] must be an integer, got number 0.5");
    expect(() => gather(x, 0.5)).toThrow("gather: indices must be an integer, got number 0.5");
    expect(() => gather(x, tensor([[0, 1.5]]))).toThrow("gather: indices[0, 1] must be an integer, got number 1.5");
    expect(() => gather(x, "0" as never)).toThrow(
      'gather: indices must be an integer, an array of integers, an Int32Array or a Tensor of integer values, got string "0"',
    );
    expect(() => gather(x, [0], 2)).toThrow(/gather: axis 2 is out of range/);
    expect(() => gather(tensor(1), [0])).toThrow(ShapeError);
    expect(() => gather(tensor(1), [0])).toThrow("gather: x must have at least one dimension, got shape []");
    expect(() => gather(x, new Array(2 ** 32 - 1))).toThrow(
      /gather: indices has 4294967295 entries, more than the maximum/,
    );
    expect(() => gather(x, Object.assign(new Array(1e9), { 0: 0 }))).toThrow(
      "gather: indices[1] must be an integer, got undefined",
    );
  });

  it("copies the indices, so a reused buffer does not change the gradient", () => {
    const W = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const idx = Int32Array.from([0, 0]);
    const y = gather(W, idx);
    idx[0] = 2;
    const [g] = grad(sum(y), [W]);
    expect(g!.toArray()).toEqual([2, 0, 0]);
  });
});

describe("the op objects validate their attributes", () => {
  const x = zeros([2, 3]);
  it("stridedSlice and padStrided", () => {
    expect(() => stridedSliceOp([x], { starts: [0, 0], steps: [1, 0], sizes: [2, 3] })).toThrow(
      /stridedSlice: attrs.steps\[1\] must not be 0/,
    );
    expect(() => stridedSliceOp([x], { starts: [0, 2], steps: [1, 1], sizes: [2, 3] })).toThrow(
      "stridedSlice: along axis 1, start 2, step 1 and size 3 reach 2..4, outside 0..2 for a dimension of size 3 (x of shape [2, 3])",
    );
    expect(() => stridedSliceOp([x], { starts: [0], steps: [1], sizes: [2] })).toThrow(
      /stridedSlice: attrs.sizes must have 2 entries, one per axis/,
    );
    expect(() => padStridedOp([zeros([2, 2])], { starts: [0, 2], steps: [1, -2], shape: [2, 3] })).not.toThrow();
    expect(() => padStridedOp([zeros([2, 2])], { starts: [0, 2], steps: [1, -2], shape: [2] })).toThrow(
      /padStrided: attrs.shape \[2\] must have the rank of g of shape \[2, 2\]/,
    );
  });
  it("gather and scatterAdd", () => {
    expect(() => gatherOp([x], { indices: [0, 1], indexShape: [3], axis: 1 })).toThrow(
      "gather: attrs.indices has 2 entries, but attrs.indexShape [3] holds 3",
    );
    expect(() => scatterAddOp([zeros([2, 2])], { indices: [0, 5], indexShape: [2], axis: 1, dim: 3 })).toThrow(
      "scatterAdd: attrs.indices[1] 5 is out of range for a dimension of size 3 (result of shape [2, 3]",
    );
    expect(() => scatterAddOp([zeros([2, 2])], { indices: [0, 1, 1], indexShape: [3], axis: 1, dim: 3 })).toThrow(
      /scatterAdd: g of shape \[2, 2\] must have the index shape \[3\] at axis 1/,
    );
  });
  it("check the result's size before allocating it", () => {
    const g = zeros([1, 2]);
    expect(() => padStridedOp([g], { starts: [0, 0], steps: [1, 1], shape: [2 ** 31, 2] })).toThrow(ShapeError);
    expect(() => padStridedOp([g], { starts: [0, 0], steps: [1, 1], shape: [2 ** 31, 2] })).toThrow(
      /^padStrided: attrs.shape \[2147483648, 2\] has 4294967296 elements/,
    );
    expect(() => scatterAddOp([g], { indices: [0], indexShape: [1], axis: 0, dim: 2 ** 31 })).toThrow(
      /^scatterAdd: result shape \[2147483648, 2\] has 4294967296 elements/,
    );
  });
  it("are in the package's ops", () => {
    for (const name of ["stridedSlice", "padStrided", "gather", "scatterAdd"]) {
      expect((ops as Record<string, { opName: string }>)[name]!.opName).toBe(name);
    }
  });
});
