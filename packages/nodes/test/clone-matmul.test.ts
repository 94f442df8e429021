/**
 * Issue 15, item 6: `matmul(a, b, { transposeA, transposeB })` (TensorFlow.js's flags, read in
 * place) against the product of explicitly transposed operands, and a differentiable `clone`
 * (recorded, its gradient the identity at every order) with `detach()` for a detached tensor.
 */
import {
  ArgumentError,
  type FloatDType,
  GradgraphError,
  grad,
  gradcheck,
  gradgradcheck,
  isNode,
  noGrad,
  randn,
  ShapeError,
  type Tensor,
  tensor,
} from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import { clone, cloneOp, matmul, matmulOp, mul, ops, pow, sum, transpose } from "../src/index.js";

/** `t` with its last two axes swapped, as an explicit (copying) transpose. */
function swapLast(t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = t.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return transpose(t, perm);
}

/** Every element of `a` within `tol·(1 + |b|)` of `b`'s (and the same shape). */
function expectClose(a: Tensor, b: Tensor, tol: number, what: string): void {
  expect(a.shape, what).toEqual(b.shape);
  for (let i = 0; i < a.size; i++) {
    const [x, y] = [a.data[i]!, b.data[i]!];
    expect(Math.abs(x - y), `${what}, element ${i}: ${x} vs ${y}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y)));
  }
}

/** A value and the gradients of a fixed weighted sum of it with respect to a and b. */
function valueAndGrads(a: Tensor, b: Tensor, f: (a: Tensor, b: Tensor) => Tensor): [Tensor, Tensor, Tensor] {
  const out = f(a, b);
  const w = randn(out.shape, { seed: 99, dtype: out.dtype });
  const [ga, gb] = grad(sum(mul(out, w)), [a, b]);
  return [out, ga!, gb!];
}

describe("matmul(a, b, { transposeA, transposeB })", () => {
  /** [a's shape, b's shape, transposeA, transposeB]: 2-D, batched with broadcast batch dims, 1-D. */
  const CASES: [number[], number[], boolean, boolean][] = [
    [[3, 2], [3, 4], true, false],
    [[2, 3], [4, 3], false, true],
    [[3, 2], [4, 3], true, true],
    [[2, 1, 4, 3], [5, 4, 2], true, false],
    [[3, 4], [2, 5, 4], false, true],
    [[2, 1, 4, 3], [1, 3, 2, 4], true, true],
    [[4], [5, 4], false, true],
    [[3, 4], [3], true, false],
    [[2, 4, 3], [4], true, false],
  ];

  it.each(["float64", "float32"] as const)(
    "equals matmul of explicitly transposed operands: values and gradients (%s, batched and 1-D included)",
    (dtype: FloatDType) => {
      const tol = dtype === "float64" ? 1e-12 : 1e-5;
      for (const [sa, sb, transposeA, transposeB] of CASES) {
        const what = `[${sa}]·[${sb}] transposeA ${transposeA} transposeB ${transposeB} ${dtype}`;
        const a = randn(sa, { seed: 1, dtype, requiresGrad: true });
        const b = randn(sb, { seed: 2, dtype, requiresGrad: true });
        const [y, ga, gb] = valueAndGrads(a, b, (p, q) => matmul(p, q, { transposeA, transposeB }));
        const [y2, ga2, gb2] = valueAndGrads(a, b, (p, q) =>
          matmul(transposeA ? swapLast(p) : p, transposeB ? swapLast(q) : q),
        );
        expect(y.dtype).toBe(dtype);
        expectClose(y, y2, tol, `${what}: value`);
        expectClose(ga, ga2, tol, `${what}: gradient of a`);
        expectClose(gb, gb2, tol, `${what}: gradient of b`);
        // the method form is the same
        expectClose(a.matmul(b, { transposeA, transposeB }), y, 0, `${what}: method`);
      }
    },
  );

  it("records one matmul node that reads the operands in place (no transpose node)", () => {
    const a = randn([3, 2], { seed: 3, requiresGrad: true });
    const b = randn([4, 3], { seed: 4, requiresGrad: true });
    const y = matmul(a, b, { transposeA: true, transposeB: true });
    expect(y.shape).toEqual([2, 4]);
    expect(y.creator?.op.name).toBe("matmul");
    expect(y.creator?.attrs).toEqual({ transA: true, transB: true });
    expect(matmul(a, a, { transposeB: false, transposeA: true }).creator?.attrs).toEqual({
      transA: true,
      transB: false,
    });
    // no flag set: the plain product
    expect(matmul(a, randn([2, 5], { seed: 5 }), {}).creator?.attrs).toEqual({ transA: false, transB: false });
  });

  it("checkOp of the transposed forms passes (float64, float32, second order)", () => {
    const transposed = {
      cases: (pick: { int(min: number, max: number): number; bool(): boolean }) => {
        const [m, k, n] = [pick.int(1, 4), pick.int(1, 4), pick.int(1, 4)];
        const transA = pick.bool();
        const transB = !transA || pick.bool();
        const batch = pick.bool() ? [pick.int(1, 3)] : [];
        return {
          shapes: [
            [...batch, ...(transA ? [k, m] : [m, k])],
            [...(pick.bool() ? batch : []), ...(transB ? [n, k] : [k, n])],
          ],
          attrs: { transA, transB },
        };
      },
    };
    expect(checkOp(matmulOp, { ...transposed, numRuns: 20 }).cases).toBe(20);
    expect(checkOp(matmulOp, { ...transposed, numRuns: 10, dtype: "float32" }).cases).toBe(10);
    expect(checkOp(matmulOp, { ...transposed, numRuns: 8, secondOrder: true }).secondOrder).toBe(true);
  });

  it("the public form passes gradcheck and gradgradcheck, 1-D operands and batches included", () => {
    for (const [sa, sb, transposeA, transposeB] of CASES) {
      const a = randn(sa, { seed: 6, dtype: "float64" });
      const b = randn(sb, { seed: 7, dtype: "float64" });
      const f = (p: Tensor, q: Tensor) => matmul(p, q, { transposeA, transposeB });
      const what = `[${sa}]·[${sb}] ${transposeA} ${transposeB}`;
      expect(gradcheck(f, [a, b]).passed, what).toBe(true);
      expect(gradgradcheck(f, [a, b]).passed, what).toBe(true);
    }
  });

  it("refuses a transpose of a 1-D operand, naming the option and the shape (false is allowed)", () => {
    const v = tensor([1, 2, 3]);
    const m = randn([3, 3], { seed: 8 });
    expect(() => matmul(v, m, { transposeA: true })).toThrow(ShapeError);
    expect(() => matmul(v, m, { transposeA: true })).toThrow(
      "matmul: transposeA needs a of rank >= 2 (it swaps the last two dimensions), got a of shape [3]; reshape a vector to a row or a column first",
    );
    expect(() => matmul(m, v, { transposeB: true })).toThrow(
      "matmul: transposeB needs b of rank >= 2 (it swaps the last two dimensions), got b of shape [3]",
    );
    expect(() => v.matmul(v, { transposeB: true })).toThrow("matmul: transposeB needs b of rank >= 2");
    expect(matmul(v, m, { transposeA: false }).shape).toEqual([3]);
    expect(matmul(v, v, { transposeA: false, transposeB: false }).shape).toEqual([]);
  });

  it("checks the inner dimensions after the transposes, naming them", () => {
    const a = randn([2, 3], { seed: 9 });
    expect(() => matmul(a, a, { transposeA: true, transposeB: true })).toThrow(
      "matmul: inner dimensions differ: a of shape [2, 3] and b of shape [2, 3] with { transposeA: true, transposeB: true } (2 vs 3)",
    );
    expect(() => matmul(a, randn([3, 2], { seed: 10 }), { transposeB: true })).toThrow(
      "matmul: inner dimensions differ: a of shape [2, 3] and b of shape [3, 2] with { transposeB: true } (3 vs 2)",
    );
    // without a transpose the message is as before
    expect(() => matmul(a, randn([4, 5], { seed: 11 }))).toThrow(
      "matmul: inner dimensions differ: a of shape [2, 3] and b of shape [4, 5] (3 vs 4)",
    );
    expect(() => matmul(randn([2], { seed: 12 }), a, { transposeB: true })).toThrow(
      "matmul: inner dimensions differ: a of shape [2] and b of shape [2, 3] with { transposeB: true } (2 vs 3)",
    );
    expect(() => matmul(randn([2, 2, 3], { seed: 13 }), randn([3, 4, 3], { seed: 14 }), { transposeB: true })).toThrow(
      "matmul: batch dimensions [2] of a (shape [2, 2, 3]) and [3] of b (shape [3, 4, 3]) cannot be broadcast together",
    );
  });

  it("validates the options: unknown keys, non-booleans and non-objects are ArgumentErrors naming matmul", () => {
    const a = randn([2, 2], { seed: 15 });
    const bad: [unknown, string][] = [
      [{ transA: true }, 'matmul: unknown option "transA" in options (valid: transposeA, transposeB)'],
      [{ transposeA: true, transposeb: true }, 'matmul: unknown option "transposeb" in options'],
      [{ transposeA: 1 }, "matmul: options.transposeA must be a boolean, got 1"],
      [{ transposeB: "true" }, 'matmul: options.transposeB must be a boolean, got string "true"'],
      [{ transposeB: null }, "matmul: options.transposeB must be a boolean, got null"],
      [null, "matmul: options must be an object like { transposeA, transposeB }, got null"],
      [true, "matmul: options must be an object like { transposeA, transposeB }, got boolean"],
      [[true, false], "matmul: options must be an object like { transposeA, transposeB }, got array(2)"],
      [a, "matmul: options must be an object like { transposeA, transposeB }, got Tensor"],
    ];
    for (const [options, message] of bad) {
      expect(() => matmul(a, a, options as never), message).toThrow(ArgumentError);
      expect(() => matmul(a, a, options as never)).toThrow(message);
      expect(() => a.matmul(a, options as never)).toThrow(message);
    }
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => matmul(a, a, proxy as never)).toThrow(
      /^matmul: options must be an object like \{ transposeA, transposeB \}, got /,
    );
    const throwing = {
      get transposeA(): boolean {
        throw new Error("boom");
      },
    };
    expect(() => matmul(a, a, throwing)).toThrow(ArgumentError);
    // undefined entries are the defaults
    expect(matmul(a, a, { transposeA: undefined }).toArray()).toEqual(matmul(a, a).toArray());
  });
});

describe("clone", () => {
  it("is recorded when the tensor requires grad: op clone, a copy of the data, the same shape and dtype", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = tensor([[1, 2, 3]], { dtype, requiresGrad: true });
      const c = x.clone();
      expect(c.isLeaf).toBe(false);
      expect(c.requiresGrad).toBe(true);
      expect(c.creator?.op.name).toBe("clone");
      expect(c.creator?.op.forward).toBe(cloneOp.spec.forward);
      expect(c.data).not.toBe(x.data);
      expect(c.toArray()).toEqual([[1, 2, 3]]);
      expect(c.shape).toEqual([1, 3]);
      expect(c.dtype).toBe(dtype);
      // a copy: writing to it leaves x alone
      c.data[0] = 7;
      expect(x.toArray()).toEqual([[1, 2, 3]]);
      expect(clone(x).creator?.op.name).toBe("clone");
      expect(ops.clone).toBe(cloneOp);
    }
  });

  it("passes the gradient through unchanged (grad and .backward, both dtypes)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = tensor([1, -2, 3], { dtype, requiresGrad: true });
      const w = tensor([0.5, 2, -1], { dtype });
      const [g] = grad(sum(mul(x.clone(), w)), [x]);
      expect(g!.toArray()).toEqual([0.5, 2, -1]);
      sum(mul(clone(x), w)).backward();
      expect(x.grad!.toArray()).toEqual([0.5, 2, -1]);
      // both paths into x add up: d/dx (x · clone(x)) = 2x
      const [g2] = grad(sum(mul(x, x.clone())), [x]);
      expect(g2!.toArray()).toEqual([2, -4, 6]);
    }
  });

  it("is a leaf copy under noGrad and of a tensor that does not require grad", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const c = noGrad(() => x.clone());
    expect(c.isLeaf).toBe(true);
    expect(c.requiresGrad).toBe(false);
    expect(c.data).not.toBe(x.data);
    const plain = tensor([3, 4]);
    const d = plain.clone();
    expect(d.isLeaf).toBe(true);
    expect(d.requiresGrad).toBe(false);
    expect(d.toArray()).toEqual([3, 4]);
    expect(noGrad(() => clone(x)).isLeaf).toBe(true);
  });

  it("clone of a clone, and of an op's output, stay in the graph", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const cc = x.clone().clone();
    expect(cc.creator?.op.name).toBe("clone");
    const inner = cc.creator?.next[0];
    expect(isNode(inner) && inner.op.name).toBe("clone");
    const y = mul(x, 2).clone();
    const [g] = grad(sum(mul(cc, y)), [x]);
    // d/dx Σ x·2x = 4x
    expect(g!.toArray()).toEqual([4, 8, 12]);
  });

  it("differentiates to second order with createGraph, and passes gradcheck and gradgradcheck", () => {
    const x = tensor([1, -2, 0.5], { dtype: "float64", requiresGrad: true });
    const [g] = grad(sum(pow(x.clone(), 3)), [x], { createGraph: true });
    expect(g!.toArray()).toEqual([3, 12, 0.75]); // 3x²
    expect(g!.requiresGrad).toBe(true);
    const [h] = grad(sum(g!.clone()), [x]);
    expect(h!.toArray()).toEqual([6, -12, 3]); // 6x
    const f = (t: Tensor) => mul(t.clone(), clone(t));
    expect(gradcheck(f, [x]).passed).toBe(true);
    expect(gradgradcheck(f, [x]).passed).toBe(true);
  });

  it("checkOp covers cloneOp in float64, float32 and to second order", () => {
    expect(checkOp(cloneOp, { numRuns: 10 }).cases).toBe(10);
    expect(checkOp(cloneOp, { numRuns: 10, dtype: "float32" }).cases).toBe(10);
    expect(checkOp(cloneOp, { numRuns: 5, secondOrder: true }).secondOrder).toBe(true);
  });

  it("keeps the storage (WebAssembly memory stays resident), recorded or not", () => {
    const w = tensor([1, 2, 3], { storage: "wasm", requiresGrad: true });
    const c = w.clone();
    expect(c.storage).toBe("wasm");
    expect(c.creator?.op.name).toBe("clone");
    expect(noGrad(() => w.clone()).storage).toBe("wasm");
    expect(w.detach().clone().storage).toBe("wasm");
    expect(tensor([1]).clone().storage).toBe("js");
  });

  it("detach().clone() is the detached copy; detach() alone shares the data", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect(d.data).toBe(x.data);
    expect(d.isLeaf).toBe(true);
    const dc = x.detach().clone();
    expect(dc.isLeaf).toBe(true);
    expect(dc.requiresGrad).toBe(false);
    expect(dc.data).not.toBe(x.data);
    dc.fill_(0);
    expect(x.toArray()).toEqual([1, 2]);
  });

  it("a frozen tensor's errors suggest t.detach().clone(), which gives a writable copy", () => {
    const w = Object.freeze(tensor([1, 2], { requiresGrad: true })) as Tensor;
    expect(() => w.fill_(0)).toThrow(
      "fill_: this tensor Tensor(float32, [2], requiresGrad) is frozen (Object.freeze), and fill_ must update it; pass an unfrozen tensor (t.detach().clone() copies one)",
    );
    const copy = w.detach().clone();
    copy.fill_(5);
    copy.requiresGrad = true;
    expect(copy.toArray()).toEqual([5, 5]);
    // clone() of the frozen leaf is recorded, and grad() still reaches the leaf
    const [g] = grad(sum(w.clone()), [w]);
    expect(g!.toArray()).toEqual([1, 1]);
  });

  it("refuses what is not a tensor, naming clone", () => {
    expect(() => clone("x" as never)).toThrow(ArgumentError);
    expect(() => clone("x" as never)).toThrow(
      'clone: x must be a Tensor, a number, nested arrays of numbers or a typed array, got string "x"',
    );
    expect(clone([2, 3]).toArray()).toEqual([2, 3]);
    // the op object takes a number, as every op object does
    expect(cloneOp([2]).toArray()).toBe(2);
    const method = tensor([1]).clone;
    expect(() => method.call({} as Tensor)).toThrow(GradgraphError);
    expect(() => method.call({} as Tensor)).toThrow("Tensor.clone: this must be a Tensor");
  });
});
