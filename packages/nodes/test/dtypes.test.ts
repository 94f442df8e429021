/**
 * int32 and bool tensors (issue 15, item 3): factories, cast, PyTorch's type promotion, the
 * comparison and logical ops, where, argmax/argmin, floorDiv/mod, and int32 labels. Expected values
 * are PyTorch 2's (torch.int32 / torch.bool where PyTorch would give int64, which gradgraph lacks).
 */
import {
  type AnyTensor,
  ArgumentError,
  cast,
  DTypeError,
  full,
  GraphError,
  grad,
  ones,
  promoteTypes,
  resultDType,
  ShapeError,
  Tensor,
  tensor,
  zeros,
} from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as n from "../src/index.js";

const i32 = (v: number[] | number[][]) => tensor(v, { dtype: "int32" });
const bool = (v: number[] | number[][]) => tensor(v, { dtype: "bool" });
const f32 = (v: number[] | number[][]) => tensor(v);
const f64 = (v: number[] | number[][]) => tensor(v, { dtype: "float64" });
const vals = (t: AnyTensor) => [t.dtype, t.toArray()];

describe("factories and the Tensor class", () => {
  it("make int32 and bool tensors, converting values as PyTorch does", () => {
    expect(vals(tensor([1.7, -1.7, 2 ** 31, Number.NaN], { dtype: "int32" }))).toEqual([
      "int32",
      [1, -1, -(2 ** 31), 0],
    ]);
    expect(vals(tensor([0, 2, -0.5, Number.NaN], { dtype: "bool" }))).toEqual(["bool", [0, 1, 1, 1]]);
    expect(vals(zeros([2], { dtype: "int32" }))).toEqual(["int32", [0, 0]]);
    expect(vals(ones([2], { dtype: "bool" }))).toEqual(["bool", [1, 1]]);
    expect(vals(full([2], 3.9, { dtype: "int32" }))).toEqual(["int32", [3, 3]]);
    expect(vals(full([1], -2, { dtype: "bool" }))).toEqual(["bool", [1]]);
    // an Int32Array keeps its dtype, as a Float64Array does
    expect(tensor(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(tensor(new Uint8Array([1, 2]), { dtype: "bool" }).toArray()).toEqual([1, 1]);
    expect(tensor(new Uint8Array([1, 2])).dtype).toBe("float32");
  });

  it("read booleans as a bool tensor (or as 1 and 0 in another dtype)", () => {
    const m = tensor([
      [true, false],
      [false, true],
    ]);
    expect(vals(m)).toEqual([
      "bool",
      [
        [1, 0],
        [0, 1],
      ],
    ]);
    expect(vals(tensor(true))).toEqual(["bool", 1]);
    expect(vals(tensor([true, false], { dtype: "float64" }))).toEqual(["float64", [1, 0]]);
    expect(tensor([[], []]).dtype).toBe("float32");
    expect(() => tensor([true, "x"] as never)).toThrow(
      /tensor: element 1 must be a number or a boolean, got string "x"/,
    );
  });

  it("print bool elements as true and false, int32 as integers", () => {
    expect(String(bool([1, 0]))).toBe("tensor([ true, false], shape=[2], dtype=bool)");
    expect(String(i32([[1, -20]]))).toBe("tensor([[  1, -20]], shape=[1, 2], dtype=int32)");
  });

  it("refuse gradients, wasm storage and non-0/1 bool data", () => {
    expect(() => tensor([1], { dtype: "int32", requiresGrad: true })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: "int32", requiresGrad: true })).toThrow(
      /tensor: only float tensors can require gradients, this one is int32/,
    );
    expect(() => zeros([1], { dtype: "bool", requiresGrad: true })).toThrow(
      /zeros: only float tensors can require gradients, this one is bool/,
    );
    const t = i32([1]);
    expect(() => {
      (t as unknown as Tensor).requiresGrad = true;
    }).toThrow(/Tensor.requiresGrad: only float tensors can require gradients, this one is int32/);
    expect(() => zeros([2], { dtype: "bool", storage: "wasm" })).toThrow(
      /zeros: storage 'wasm' holds float32 and float64 tensors only, got dtype 'bool'/,
    );
    expect(() => new Tensor<"bool">(new Uint8Array([0, 2]), [2])).toThrow(
      /Tensor: a bool tensor's Uint8Array must hold 0 or 1, got 2 at element 1/,
    );
    expect(() => (i32([1]) as unknown as Tensor).backward()).toThrow(GraphError);
    expect(() => (i32([1]) as unknown as Tensor).backward()).toThrow(
      /backward: this tensor is int32; gradients flow only through float tensors/,
    );
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => grad(n.greater(x, 1) as unknown as Tensor, [x])).toThrow(
      /grad: output 0 Tensor\(bool, \[2\]\) is bool; only float outputs have gradients/,
    );
  });

  it("copy_ and fill_ convert to the tensor's dtype", () => {
    const t = i32([0, 0, 0]);
    t.copy_(f32([1.5, -2.5, 7]));
    expect(t.toArray()).toEqual([1, -2, 7]);
    const b = bool([0, 0]);
    b.copy_(f32([0, -3]));
    expect(b.toArray()).toEqual([0, 1]);
    b.fill_(0.5);
    expect(b.toArray()).toEqual([1, 1]);
  });
});

describe("cast", () => {
  it("converts between every pair of dtypes as PyTorch's .to(dtype)", () => {
    const x = f32([1.7, -1.7, 0, -0.2]);
    expect(vals(cast(x, "int32"))).toEqual(["int32", [1, -1, 0, 0]]);
    expect(vals(cast(x, "bool"))).toEqual(["bool", [1, 1, 0, 1]]);
    expect(vals(cast(bool([1, 0]), "float64"))).toEqual(["float64", [1, 0]]);
    expect(vals(cast(i32([3, 0]), "bool"))).toEqual(["bool", [1, 0]]);
    expect(vals(cast(bool([1, 0]), "int32"))).toEqual(["int32", [1, 0]]);
    const t = i32([5]);
    expect(cast(t, "int32")).toBe(t);
  });

  it("records and differentiates float to float only", () => {
    const x = tensor([1.5, 2], { requiresGrad: true });
    const [g] = grad(n.sum(n.mul(cast(x, "float64"), 3)), [x]);
    expect(g!.toArray()).toEqual([3, 3]);
    const i = cast(x, "int32");
    expect([i.requiresGrad, i.creator]).toEqual([false, null]);
  });
});

describe("type promotion follows PyTorch", () => {
  it("promoteTypes is torch.promote_types", () => {
    expect(promoteTypes("bool", "int32")).toBe("int32");
    expect(promoteTypes("int32", "float32")).toBe("float32");
    expect(promoteTypes("int32", "float64")).toBe("float64");
    expect(promoteTypes("float32", "float64")).toBe("float64");
    expect(promoteTypes("bool", "bool")).toBe("bool");
    expect(() => promoteTypes("int8" as never, "bool")).toThrow(/promoteTypes: dtype must be/);
  });

  // [a, b, dtype of a + b, value]: PyTorch's results (int64 where PyTorch has it: gradgraph's int32)
  const table: [string, () => unknown, () => unknown, string][] = [
    ["int32 + int32", () => i32([2]), () => i32([3]), "int32"],
    ["int32 + 2", () => i32([2]), () => 2, "int32"],
    ["int32 + 2.5", () => i32([2]), () => 2.5, "float32"],
    ["int32 + float32", () => i32([2]), () => f32([0.5]), "float32"],
    ["int32 + float64", () => i32([2]), () => f64([0.5]), "float64"],
    // (a logical or, as in PyTorch; sum counts bools as int32 instead)
    ["bool + bool", () => bool([1]), () => bool([1]), "bool"],
    ["bool + 1", () => bool([1]), () => 1, "int32"],
    ["bool + 0.5", () => bool([1]), () => 0.5, "float32"],
    ["bool + int32", () => bool([1]), () => i32([4]), "int32"],
    ["bool + float64", () => bool([1]), () => f64([0.5]), "float64"],
    ["float32 + float64", () => f32([1]), () => f64([0.5]), "float64"],
    ["float64 + 2", () => f64([1]), () => 2, "float64"],
    ["int32 + [1, 2]", () => i32([2]), () => [1, 2], "int32"],
    ["int32 + [1, 2.5]", () => i32([2]), () => [1, 2.5], "float32"],
  ];
  it.each(table)("%s", (_name, a, b, dtype) => {
    const r = n.add(a() as never, b() as never) as AnyTensor;
    expect(r.dtype).toBe(dtype);
    expect(resultDType([a() as never, b() as never])).toBe(dtype);
  });

  it("int ops stay exact and wrap as int32 arithmetic; float-only ops give float32", () => {
    expect(vals(n.add(bool([1, 1, 0]), bool([1, 0, 0])))).toEqual(["bool", [1, 1, 0]]);
    expect(vals(n.mul(bool([1, 1, 0]), bool([1, 0, 0])))).toEqual(["bool", [1, 0, 0]]);
    // outer as mul: PyTorch's outer of two bool tensors is bool (a logical and), of bool and int int
    expect(vals(n.outer(bool([1, 0]), bool([1, 1, 0])))).toEqual([
      "bool",
      [
        [1, 1, 0],
        [0, 0, 0],
      ],
    ]);
    expect(vals(n.outer(bool([1, 0]), i32([3, -2])))).toEqual([
      "int32",
      [
        [3, -2],
        [0, 0],
      ],
    ]);
    expect(vals(n.sub(bool([1]), bool([1])))).toEqual(["int32", [0]]);
    expect(vals(n.add(i32([2 ** 30]), 2 ** 30))).toEqual(["int32", [-(2 ** 31)]]);
    expect(vals(n.mul(i32([2 ** 31 - 1]), i32([2 ** 31 - 1])))).toEqual(["int32", [1]]);
    expect(vals(n.mul(i32([46341]), 46341))).toEqual(["int32", [-2147479015]]);
    expect(vals(n.sub(i32([5]), i32([7])))).toEqual(["int32", [-2]]);
    expect(
      vals(
        n.sum(
          i32([
            [1, 2],
            [3, 4],
          ]),
          { axis: 1 },
        ),
      ),
    ).toEqual(["int32", [3, 7]]);
    expect(vals(n.sum(bool([1, 1, 0])))).toEqual(["int32", 2]);
    expect(vals(n.max(i32([3, 9, -1])))).toEqual(["int32", 9]);
    expect(vals(n.matmul(i32([[1, 2]]), i32([[3], [4]])))).toEqual(["int32", [[11]]]);
    expect(vals(n.abs(i32([-3])))).toEqual(["int32", [3]]);
    expect(vals(n.neg(i32([3])))).toEqual(["int32", [-3]]);
    expect(vals(n.div(i32([7]), i32([2])))).toEqual(["float32", [3.5]]);
    expect(vals(n.exp(i32([0])))).toEqual(["float32", [1]]);
    expect(vals(n.mean(i32([1, 2])))).toEqual(["float32", 1.5]);
    expect(n.sigmoid(bool([0])).dtype).toBe("float32");
  });

  describe("int32 results are exact modulo 2^32 where float64 would round (BigInt references)", () => {
    /** The int32 value of an exact integer: BigInt.asIntN(32, ·). */
    const wrap = (v: bigint) => Number(BigInt.asIntN(32, v));
    const int = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 2 ** 31 - 2, -(2 ** 31) + 1, 46341, 65535, 65536, -1, 0),
    );
    const ints = (k: number) => fc.array(int, { minLength: k, maxLength: k });
    const flat = (t: AnyTensor) => Array.from(t.data as Int32Array);

    it("square and outer: products of large values (2^62 in float64) wrap as Math.imul", () => {
      fc.assert(
        fc.property(ints(3), ints(2), (a, b) => {
          expect(n.square(i32(a)).dtype).toBe("int32");
          expect(flat(n.square(i32(a)))).toEqual(a.map((x) => wrap(BigInt(x) * BigInt(x))));
          expect(flat(n.outer(i32(a), i32(b)))).toEqual(a.flatMap((x) => b.map((y) => wrap(BigInt(x) * BigInt(y)))));
        }),
      );
    });

    it("matmul: every dot product wrapped, with transposes and batches", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 4 }),
          fc.boolean(),
          fc.boolean(),
          fc.array(int, { minLength: 2 * 3 * 4, maxLength: 2 * 3 * 4 }),
          fc.array(int, { minLength: 2 * 4 * 3, maxLength: 2 * 4 * 3 }),
          (M, N, K, transA, transB, av, bv) => {
            // a: [2, M, K] (or [2, K, M] read transposed), b: [K, N] (or [N, K])
            const A = av.slice(0, 2 * M * K);
            const B = bv.slice(0, K * N);
            const a = tensor(new Int32Array(A), { shape: transA ? [2, K, M] : [2, M, K] });
            const b = tensor(new Int32Array(B), { shape: transB ? [N, K] : [K, N] });
            const at = (bt: number, i: number, k: number) => A[bt * M * K + (transA ? k * M + i : i * K + k)]!;
            const bt_ = (k: number, j: number) => B[transB ? j * K + k : k * N + j]!;
            const want: number[] = [];
            for (let bt = 0; bt < 2; bt++)
              for (let i = 0; i < M; i++)
                for (let j = 0; j < N; j++) {
                  let s = 0n;
                  for (let k = 0; k < K; k++) s += BigInt(at(bt, i, k)) * BigInt(bt_(k, j));
                  want.push(wrap(s));
                }
            const r = n.matmul(a, b, { transposeA: transA, transposeB: transB });
            expect(r.dtype).toBe("int32");
            expect(flat(r)).toEqual(want);
          },
        ),
      );
    });

    it("sum and cumsum of millions of large terms (partial sums past 2^53)", () => {
      // 5,000,001 · (2^31 − 1) is odd and past 2^53: the nearest float64 is off by one
      const count = 5_000_001;
      const v = 2 ** 31 - 1;
      const want = wrap(BigInt(v) * BigInt(count));
      const x = tensor(new Int32Array(count).fill(v), { dtype: "int32" });
      expect(vals(n.sum(x))).toEqual(["int32", want]);
      expect(flat(n.sum(n.reshape(x, [count, 1]), { axis: 0 }))).toEqual([want]);
      expect(flat(n.sum(n.reshape(x, [1, count]), { axis: 1 }))).toEqual([want]);
      const c = n.cumsum(x, 0);
      expect(c.dtype).toBe("int32");
      expect(c.data[count - 1]).toBe(want);
      expect(c.data[4_194_304]).toBe(wrap(BigInt(v) * 4_194_305n));
      expect(n.cumsum(x, 0, { reverse: true }).data[0]).toBe(want);
    });

    it("matmul with more than 2^21 terms per dot product (beyond the split route)", () => {
      const K = 2 ** 21 + 3;
      const a = new Int32Array(K).map((_, i) => (i % 2 === 0 ? 2 ** 31 - 1 : -(2 ** 31) + 7));
      const b = new Int32Array(K).map((_, i) => (i % 3 === 0 ? 2 ** 31 - 5 : 123457));
      let s = 0n;
      for (let k = 0; k < K; k++) s += BigInt(a[k]!) * BigInt(b[k]!);
      const r = n.matmul(tensor(a, { shape: [1, K] }), tensor(b, { shape: [K, 1] }));
      expect(flat(r)).toEqual([wrap(s)]);
    });

    it("sum over any axes of small tensors, with keepdims", () => {
      fc.assert(
        fc.property(ints(12), fc.subarray([0, 1, 2], { minLength: 1 }), fc.boolean(), (v, axes, keepdims) => {
          const shape = [2, 3, 2];
          const x = tensor(new Int32Array(v), { shape });
          const r = n.sum(x, { axis: axes, keepdims });
          const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
          const acc = new Array<bigint>(outShape.reduce((p, q) => p * q, 1)).fill(0n);
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 3; j++)
              for (let k = 0; k < 2; k++) {
                const idx = [i, j, k].map((c, d) => (axes.includes(d) ? 0 : c));
                acc[(idx[0]! * outShape[1]! + idx[1]!) * outShape[2]! + idx[2]!]! += BigInt(v[(i * 3 + j) * 2 + k]!);
              }
          expect(r.dtype).toBe("int32");
          expect(r.size === 1 ? [r.item()] : flat(r)).toEqual(acc.map(wrap));
        }),
      );
    });
  });

  it("shape and indexing ops keep int32 and bool", () => {
    const m = bool([
      [1, 0],
      [0, 1],
    ]);
    expect(vals(n.transpose(m))).toEqual([
      "bool",
      [
        [1, 0],
        [0, 1],
      ],
    ]);
    expect(vals(n.reshape(m, [4]))).toEqual(["bool", [1, 0, 0, 1]]);
    expect(vals(n.getItem(m, 1))).toEqual(["bool", [0, 1]]);
    expect(vals(n.concat([i32([1]), i32([2])]))).toEqual(["int32", [1, 2]]);
    expect(vals(n.concat([i32([1]), f32([2.5])]))).toEqual(["float32", [1, 2.5]]);
    expect(vals(n.gather(i32([5, 6, 7]), [2, 0]))).toEqual(["int32", [7, 5]]);
    expect(vals(n.tile(bool([1, 0]), [2]))).toEqual(["bool", [1, 0, 1, 0]]);
    expect(vals(n.broadcastTo(i32([1, 2]), [2, 2]))).toEqual([
      "int32",
      [
        [1, 2],
        [1, 2],
      ],
    ]);
    expect(vals(m.clone())).toEqual([
      "bool",
      [
        [1, 0],
        [0, 1],
      ],
    ]);
  });
});

describe("comparisons and logical ops", () => {
  it("give bool tensors with broadcasting, NaN comparing false (true in notEqual)", () => {
    const a = f32([1, 2, Number.NaN]);
    expect(vals(n.greater(a, 1))).toEqual(["bool", [0, 1, 0]]);
    expect(vals(n.greaterEqual(a, 1))).toEqual(["bool", [1, 1, 0]]);
    expect(vals(n.less(a, [[2], [3]]))).toEqual([
      "bool",
      [
        [1, 0, 0],
        [1, 1, 0],
      ],
    ]);
    expect(vals(n.lessEqual(a, 2))).toEqual(["bool", [1, 1, 0]]);
    expect(vals(n.equal(a, [1, 0, Number.NaN]))).toEqual(["bool", [1, 0, 0]]);
    expect(vals(n.notEqual(a, [1, 0, Number.NaN]))).toEqual(["bool", [0, 1, 1]]);
    // int32 compared exactly: 2^24 + 1 is not 2^24 (it would be in float32)
    expect(vals(n.equal(i32([2 ** 24 + 1]), i32([2 ** 24])))).toEqual(["bool", [0]]);
    expect(() => n.less(f32([1, 2]), f32([1, 2, 3]))).toThrow(ShapeError);
    expect(() => n.less(f32([1, 2]), f32([1, 2, 3]))).toThrow(/less: /);
  });

  it("read their operands as truth values", () => {
    expect(vals(n.logicalAnd(f32([0, 2, Number.NaN]), bool([1, 1, 1])))).toEqual(["bool", [0, 1, 1]]);
    expect(vals(n.logicalOr(i32([0, 0, 3]), [0, 1, 0]))).toEqual(["bool", [0, 1, 1]]);
    expect(vals(n.logicalXor(bool([1, 1, 0]), bool([1, 0, 0])))).toEqual(["bool", [0, 1, 0]]);
    expect(vals(n.logicalNot(f32([0, -1])))).toEqual(["bool", [1, 0]]);
    expect(vals(f32([1, 5]).greater(2).logicalNot())).toEqual(["bool", [1, 0]]);
  });

  it("record nothing, even on inputs that require grad", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const m = n.greater(x, 1);
    expect([m.requiresGrad, m.creator]).toEqual([false, null]);
  });
});

describe("where", () => {
  it("selects elementwise with broadcasting, and promotes a and b", () => {
    const c = bool([1, 0, 1]);
    expect(vals(n.where(c, f32([1, 2, 3]), 0))).toEqual(["float32", [1, 0, 3]]);
    expect(vals(n.where(c, 1, 0))).toEqual(["int32", [1, 0, 1]]);
    expect(vals(n.where(c, 1.5, 0))).toEqual(["float32", [1.5, 0, 1.5]]);
    expect(vals(n.where(c, i32([7, 8, 9]), f64([[0], [1]])))).toEqual([
      "float64",
      [
        [7, 0, 9],
        [7, 1, 9],
      ],
    ]);
    expect(vals(n.where(c, bool([0, 0, 0]), bool([1, 1, 1])))).toEqual(["bool", [0, 1, 0]]);
    // a float condition is read as a truth value (numpy's where)
    expect(vals(n.where(f32([0, -2]), i32([1, 1]), i32([5, 5])))).toEqual(["int32", [5, 1]]);
  });

  it("sends the gradient to the selected input", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([10], { requiresGrad: true });
    const y = n.where(n.greater(a, 1.5), a, b);
    const [ga, gb] = grad(n.sum(n.mul(y, [1, 2, 3])), [a, b]);
    expect([ga!.toArray(), gb!.toArray()]).toEqual([[0, 2, 3], [1]]);
  });

  it("passes checkOp with a drawn bool condition, to second order", () => {
    expect(checkOp(n.whereOp, { numRuns: 30 }).cases).toBe(30);
    expect(checkOp(n.whereOp, { numRuns: 15, dtype: "float32" }).cases).toBe(15);
    expect(checkOp(n.whereOp, { numRuns: 10, secondOrder: true }).cases).toBe(10);
  });
});

describe("argmax and argmin", () => {
  const x = f32([
    [1, 5, 5],
    [7, 0, -2],
  ]);
  it("give int32 indices: along an axis, or into the flattened tensor; the first of ties", () => {
    expect(vals(n.argmax(x, { axis: 1 }))).toEqual(["int32", [1, 0]]);
    expect(vals(n.argmax(x, { axis: 0, keepdims: true }))).toEqual(["int32", [[1, 0, 0]]]);
    expect(vals(n.argmin(x, { axis: -1 }))).toEqual(["int32", [0, 2]]);
    expect(vals(n.argmax(x))).toEqual(["int32", 3]);
    expect(vals(n.argmin(x, { keepdims: true }))).toEqual(["int32", [[5]]]);
    expect(vals(n.argmax(i32([2 ** 24 + 1, 2 ** 24])))).toEqual(["int32", 0]);
    expect(vals(n.argmax(bool([0, 1, 1])))).toEqual(["int32", 1]);
    // NaN counts as the extremum in both, as PyTorch's
    expect(n.argmax(f32([1, Number.NaN, 3])).item()).toBe(1);
    expect(n.argmin(f32([1, Number.NaN, -3])).item()).toBe(1);
  });

  it("refuse empty axes, bad axes and unknown options", () => {
    expect(() => n.argmax(zeros([0]))).toThrow(/argmax: cannot take the argmax of an empty tensor/);
    expect(() => n.argmax(zeros([2, 0]), { axis: 1 })).toThrow(ShapeError);
    expect(() => n.argmin(x, { axis: 2 })).toThrow(/argmin/);
    expect(() => n.argmax(x, { keepDims: true } as never)).toThrow(ArgumentError);
    expect(() => n.argmax(x, { axis: "1" } as never)).toThrow(/argmax: axis must be an integer, got string "1"/);
  });
});

describe("floorDiv and mod", () => {
  it("floor toward −∞ with the divisor's sign, as Python's // and %", () => {
    const a = i32([7, -7, 7, -7]);
    const b = i32([2, 2, -2, -2]);
    expect(vals(n.floorDiv(a, b))).toEqual(["int32", [3, -4, -4, 3]]);
    expect(vals(n.mod(a, b))).toEqual(["int32", [1, 1, -1, -1]]);
    expect(vals(n.floorDiv(f32([7.5, -7.5]), 2))).toEqual(["float32", [3, -4]]);
    expect(vals(n.mod(f64([-3.5, 3.5, 5]), f64([2, -2, 2.5])))).toEqual(["float64", [0.5, -0.5, 0]]);
    expect(vals(n.mod(i32([-3]), 5))).toEqual(["int32", [2]]);
    expect(vals(n.floorDiv(i32([2 ** 31 - 1]), 2 ** 31 - 2))).toEqual(["int32", [1]]);
  });

  it("floorDiv of floats is the floor of the exact quotient, as numpy's and PyTorch's floor_divide", () => {
    // [a, b, numpy.floor_divide(a, b)]: where floor(a / b) rounds first (1 / 0.1 is 10 in float64,
    // but 0.1 is a little above a tenth), infinities, and zeros' signs
    const inf = Number.POSITIVE_INFINITY;
    const cases: [number, number, number][] = [
      [1, 0.1, 9],
      [0.7, 0.1, 6],
      [-1, 0.1, -10],
      [1, -0.1, -10],
      [-1, inf, -1],
      [1, -inf, -1],
      [1, inf, 0],
      [-2.5, inf, -1],
      [inf, 3, Number.NaN],
      [-inf, -2, Number.NaN],
      [5, 0, inf],
      [-5, 0, -inf],
      [0, 0, Number.NaN],
      [0, -3, -0],
      [-0, 3, -0],
      [-0.3, inf, -1],
      [1e308, 1e-308, inf],
    ];
    const q = n.floorDiv(f64(cases.map((c) => c[0])), f64(cases.map((c) => c[1])));
    cases.forEach(([a, b, want], i) => {
      expect(q.data[i], `${a} // ${b}`).toBe(want);
    });
    // exact: k·b ≤ a < (k + 1)·b (b > 0), in BigInt over 2^-1074, for quotients of decimals
    /** A finite double as an integer count of 2^-1074 (every double is one). */
    const scaled = (x: number): bigint => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, x);
      const hi = view.getUint32(0);
      const e = (hi >>> 20) & 0x7ff;
      const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
      const m = (e > 0 ? frac | (1n << 52n) : frac) << BigInt(Math.max(e, 1) - 1);
      return hi >>> 31 ? -m : m;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000, max: 10_000 }),
        fc.integer({ min: -300, max: 300 }).filter((d) => d !== 0),
        fc.constantFrom(1, 3, 7, 10, 100, 1000),
        (m, d, scale) => {
          const a = m / scale;
          const b = d / scale;
          const k = n.floorDiv(f64([a]), f64([b])).data[0]!;
          expect(Number.isInteger(k)).toBe(true);
          const rest = scaled(a) - BigInt(k) * scaled(b);
          const B = scaled(b);
          if (b > 0) expect(rest >= 0n && rest < B, `${a} // ${b} = ${k}`).toBe(true);
          else expect(rest <= 0n && rest > B, `${a} // ${b} = ${k}`).toBe(true);
        },
      ),
    );
  });

  it("refuse integer division by zero (PyTorch's ZeroDivisionError); floats give ±inf and NaN", () => {
    expect(() => n.floorDiv(i32([1]), i32([0]))).toThrow(ArgumentError);
    expect(() => n.mod(i32([1, 2]), 0)).toThrow(/mod: integer division by zero/);
    expect(n.floorDiv(f32([1]), 0).toArray()).toEqual([Number.POSITIVE_INFINITY]);
    expect(n.mod(f32([1]), 0).toArray()).toEqual([Number.NaN]);
  });

  it("floorDiv's zero derivative passes checkOp away from the jumps (mod is in ops.test.ts)", () => {
    expect(checkOp(n.floorDivOp, { numRuns: 20 }).cases).toBe(20);
    expect(checkOp(n.floorDivOp, { numRuns: 10, dtype: "float32" }).cases).toBe(10);
  });

  it("mod is differentiable: 1 for a, −(a // b) for b", () => {
    const a = tensor([7.5, -7.5], { dtype: "float64", requiresGrad: true });
    const b = tensor([2, 2], { dtype: "float64", requiresGrad: true });
    const [ga, gb] = grad(n.sum(n.mod(a, b)), [a, b]);
    expect([ga!.toArray(), gb!.toArray()]).toEqual([
      [1, 1],
      [-3, 4],
    ]);
  });
});

describe("masks and int32 indices", () => {
  it("getItem(x, mask) is numpy's x[mask]: the selected rows or elements, differentiable", () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    );
    const rows = n.getItem(x, bool([1, 0, 1]));
    expect(rows.toArray()).toEqual([
      [1, 2],
      [5, 6],
    ]);
    const elems = n.getItem(x, n.greater(x, 3));
    expect(elems.toArray()).toEqual([4, 5, 6]);
    const [g] = grad(n.add(n.sum(rows), n.sum(elems)), [x]);
    expect(g!.toArray()).toEqual([
      [1, 1],
      [0, 1],
      [2, 2],
    ]);
    expect(() => n.getItem(x, bool([1, 0]))).toThrow(
      /getItem: a boolean mask of shape \[2\] must have the leading dimensions of x of shape \[3, 2\]/,
    );
  });

  it("int32 tensors index; bool tensors are refused as indices", () => {
    const x = f32([10, 20, 30]);
    expect(n.gather(x, i32([2, 0])).toArray()).toEqual([30, 10]);
    expect(n.getItem(x, i32([1])).toArray()).toEqual([20]);
    expect(() => n.gather(x, bool([1, 0]) as never)).toThrow(DTypeError);
    expect(() => n.gather(x, bool([1, 0]) as never)).toThrow(
      /gather: indices must hold integer indices, got a bool tensor/,
    );
  });
});

describe("int32 labels", () => {
  const scores = f32([
    [1, 2, 3],
    [3, 1, 0],
  ]);
  it("are accepted by softmaxCrossEntropy as class indices", () => {
    const viaInt = n.softmaxCrossEntropy(scores, i32([2, 0]));
    const viaArray = n.softmaxCrossEntropy(scores, [2, 0]);
    expect(viaInt.item()).toBe(viaArray.item());
    const withOptions = n.softmaxCrossEntropy(scores, i32([2, -100]), { ignoreIndex: -100 });
    expect(withOptions.item()).toBeCloseTo(n.softmaxCrossEntropy(scores.getItem([0]), [2]).item(), 6);
  });

  it("argmax of the scores compares with int32 labels", () => {
    const hits = n.sum(n.equal(n.argmax(scores, { axis: 1 }), i32([2, 1])));
    expect(vals(hits)).toEqual(["int32", 1]);
  });

  it("int32 scores are promoted to float32 in the loss", () => {
    expect(n.softmaxCrossEntropy(i32([[0, 0]]), [1]).item()).toBeCloseTo(Math.log(2), 6);
  });
});
