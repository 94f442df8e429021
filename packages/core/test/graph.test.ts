import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  broadcastTo,
  cast,
  defineMultiOutputOp,
  defineOp,
  GraphError,
  grad,
  isGradEnabled,
  noGrad,
  ones,
  ShapeError,
  sumTo,
  Tensor,
  tensor,
} from "../src/index.js";
import { add, mul } from "./helpers.js";

const total = (x: Tensor): Tensor => sumTo(x, []);

describe("recording", () => {
  it("records a node only when an input requires grad", () => {
    const a = tensor([1, 2]);
    const b = tensor([3, 4], { requiresGrad: true });
    expect(add(a, a).creator).toBeNull();
    const y = add(a, b);
    expect(y.creator?.op.name).toBe("add");
    expect(y.requiresGrad).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(/can only be set on a leaf; this tensor was produced by op 'add'/);
  });

  it("noGrad records nothing and restores the mode even when fn throws", () => {
    const b = tensor([3, 4], { requiresGrad: true });
    const y = noGrad(() => add(b, b));
    expect(y.creator).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });

  it("numbers are 0-d constants of the other operand's dtype; mixed dtypes promote to float64", () => {
    const a = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    expect(add(a, 1).dtype).toBe("float32");
    const b = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const y = mul(a, b);
    expect(y.dtype).toBe("float64");
    total(y).backward();
    expect(a.grad?.dtype).toBe("float32");
    expect(b.grad?.dtype).toBe("float64");
    expect(a.grad?.toArray()).toEqual([1, 2]);
  });
});

describe("backward", () => {
  it("computes the seed's Add and Mul gradients", () => {
    const x = tensor([2, 3], { dtype: "float64", requiresGrad: true });
    const y = tensor([5, 7], { dtype: "float64", requiresGrad: true });
    total(add(mul(x, y), x)).backward();
    expect(x.grad?.toArray()).toEqual([6, 8]);
    expect(y.grad?.toArray()).toEqual([2, 3]);
  });

  it("sums gradients where a value fans out, and accumulates .grad across calls", () => {
    const x = tensor(3, { dtype: "float64", requiresGrad: true });
    const y = mul(mul(x, x), x); // x³
    y.backward(undefined, { retainGraph: true });
    expect(x.grad?.item()).toBe(27);
    y.backward();
    expect(x.grad?.item()).toBe(54);
  });

  it("sums a broadcast gradient back to the input's shape in one central place", () => {
    const x = tensor([[1], [2]], { requiresGrad: true }); // 2×1
    const b = tensor([10, 20, 30], { requiresGrad: true }); // 3
    const y = add(x, b); // 2×3
    total(y).backward();
    expect(x.grad?.toArray()).toEqual([[3], [3]]);
    expect(b.grad?.toArray()).toEqual([2, 2, 2]);
  });

  it("requires gradOutput for a non-scalar output and checks its shape", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/gradOutput is required for a non-scalar output of shape \[2\]/);
    expect(() => y.backward(ones([3]))).toThrow(ShapeError);
    expect(() => y.backward(ones([3]))).toThrow(/gradOutput has shape \[3\] but the output has shape \[2\]/);
    y.backward(tensor([1, 10]));
    expect(x.grad?.toArray()).toEqual([2, 20]);
  });

  it("releases saved tensors after backward; a second pass says so", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = total(mul(x, x));
    y.backward();
    expect(y.creator?.released).toBe(true);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/backward through a released graph: node #\d+ 'mul' already freed/);
    expect(() => y.backward()).toThrow(/retainGraph: true/);
  });

  it("retainGraph keeps the graph for another pass", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = total(mul(x, x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad?.toArray()).toEqual([4, 8]);
  });

  it("is iterative: a chain of 100,000 ops does not overflow the stack", () => {
    const x = tensor(1, { dtype: "float64", requiresGrad: true });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = add(y, 1e-6);
    y.backward();
    expect(x.grad?.item()).toBe(1);
    expect(y.item()).toBeCloseTo(1.1, 6);
  });

  it("runs every node once, after all of its consumers (diamond)", () => {
    let calls = 0;
    const counted = defineOp({
      name: "counted",
      inputs: ["x"],
      forward([x], _a, ctx) {
        const o = ctx.alloc(x!.shape);
        o.data.set(x!.data);
        return o;
      },
      backward(gy) {
        calls++;
        return [gy];
      },
    });
    const x = tensor([1, 2], { requiresGrad: true });
    const h = counted([x]);
    const y = total(add(mul(h, 2), mul(h, 3)));
    y.backward();
    expect(calls).toBe(1);
    expect(x.grad?.toArray()).toEqual([5, 5]);
  });

  it("detects a saved input modified in place since forward", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], { requiresGrad: true });
    const y = total(mul(x, w));
    w._version++; // what an in-place update does
    expect(() => y.backward()).toThrow(
      /mul: input 1 \(b\) saved for backward was modified in place: it is at version 1, but version 0 was saved/,
    );
  });
});

describe("grad (functional)", () => {
  it("returns gradients without touching .grad, for leaves and intermediates", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const h = mul(x, x);
    const y = total(mul(h, 3));
    const [gx, gh] = grad(y, [x, h]);
    expect(gx?.toArray()).toEqual([6, 12]);
    expect(gh?.toArray()).toEqual([3, 3]);
    expect(x.grad).toBeNull();
  });

  it("throws for an unreachable input unless allowUnused", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const z = tensor([1], { requiresGrad: true });
    const y = total(mul(x, x));
    expect(() => grad(y, [z], { retainGraph: true })).toThrow(
      /grad: input 0 Tensor\(float32, \[1\], requiresGrad\) is not reachable/,
    );
    expect(grad(y, [x, z], { allowUnused: true })[1]?.toArray()).toEqual([0]);
  });

  it("checks its arguments", () => {
    const x = tensor([1, 2]);
    expect(() => grad(total(x), [x])).toThrow(/grad: input 0 .* does not require grad/);
    expect(() => grad(x, ["a" as never])).toThrow(ArgumentError);
  });

  it("sums the contributions of several outputs", () => {
    const x = tensor(2, { dtype: "float64", requiresGrad: true });
    const [g] = grad([mul(x, x), mul(x, 3)], [x]);
    expect(g?.item()).toBe(7);
  });
});

describe("defineOp contract", () => {
  const double = defineOp({
    name: "double",
    inputs: ["x"],
    forward([x], _a, ctx) {
      const o = ctx.alloc(x!.shape);
      for (let i = 0; i < o.data.length; i++) o.data[i] = 2 * x!.data[i]!;
      return o;
    },
    backward: (gy) => [mul(gy, 2)],
  });

  it("checks arity and operand types, naming the op and the input", () => {
    expect(() => double([])).toThrow(/double: expects 1 input \(x\), got 0/);
    expect(() => double(["a" as never])).toThrow(
      /double: input 0 \(x\) must be a Tensor, a number, nested arrays of numbers or a typed array, got string "a"/,
    );
    expect(() => double("x" as never)).toThrow(/double: inputs must be an array/);
  });

  it("rejects malformed definitions", () => {
    expect(() =>
      defineOp({
        name: "",
        inputs: [],
        forward: () => ({ data: new Float32Array(0), shape: [0] }),
        backward: () => [],
      }),
    ).toThrow(/spec.name must be a non-empty string/);
    expect(() => defineOp({ name: "f", inputs: ["x"], forward: 1 as never, backward: () => [] })).toThrow(
      /defineOp\(f\): spec.forward must be a function/,
    );
  });

  it("reports a forward that returns garbage", () => {
    const bad = defineOp({
      name: "bad",
      inputs: ["x"],
      forward: () => ({ data: new Float32Array(3), shape: [2] }),
      backward: (gy) => [gy],
    });
    expect(() => bad([tensor([1, 2])])).toThrow(
      /bad: forward output 0 must be \{ data: Float32Array \| Float64Array \| Int32Array \| Uint8Array, shape \} with matching size/,
    );
  });

  it("reports a backward with the wrong count or shape of gradients", () => {
    const wrongCount = defineOp({
      name: "wrongCount",
      inputs: ["x"],
      forward([x], _a, ctx) {
        return ctx.alloc(x!.shape);
      },
      backward: (gy) => [gy, gy],
    });
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => total(wrongCount([x])).backward()).toThrow(
      /wrongCount: backward must return an array of 1 gradients .* got 2 entries/,
    );
    const wrongShape = defineOp({
      name: "wrongShape",
      inputs: ["x"],
      forward([x], _a, ctx) {
        return ctx.alloc(x!.shape);
      },
      backward: () => [ones([3])],
    });
    expect(() => total(wrongShape([x])).backward()).toThrow(
      /wrongShape: backward returned a gradient of shape \[3\] for input 0 \(x\) of shape \[2\]/,
    );
  });

  it("refuses to read an input that forward did not save", () => {
    const forgetful = defineOp({
      name: "forgetful",
      inputs: ["x"],
      forward([x], _a, ctx) {
        return ctx.alloc(x!.shape);
      },
      backward: (gy, ctx) => [mul(gy, ctx.input(0))],
    });
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => total(forgetful([x])).backward()).toThrow(
      /forgetful: backward reads input 0 \(x\), which forward did not save; call ctx.saveInputs\(0\)/,
    );
  });

  it("supports multi-output ops, with zeros for outputs that got no gradient", () => {
    const split2 = defineMultiOutputOp({
      name: "split2",
      inputs: ["x"],
      forward([x]) {
        const h = x!.size / 2;
        return [
          { data: x!.data.slice(0, h), shape: [h] },
          { data: x!.data.slice(h), shape: [h] },
        ];
      },
      backward(gys) {
        const out = new Float32Array(gys[0]!.size * 2);
        out.set(gys[0]!.data);
        out.set(gys[1]!.data, gys[0]!.size);
        return [new Tensor(out, [out.length])];
      },
    });
    const x = tensor([1, 2, 3, 4], { requiresGrad: true });
    const [, b] = split2([x]);
    total(mul(b!, 5)).backward();
    expect(x.grad?.toArray()).toEqual([0, 0, 5, 5]);
  });
});

describe("structural primitives", () => {
  it("sumTo and broadcastTo undo each other and check shapes", () => {
    const x = tensor([[1, 2, 3]], { requiresGrad: true });
    const b = broadcastTo(x, [2, 1, 3]);
    expect(b.shape).toEqual([2, 1, 3]);
    expect(sumTo(b, [1, 3]).toArray()).toEqual([[2, 4, 6]]);
    expect(() => broadcastTo(x, [2, 2])).toThrow(/broadcastTo: shape \[1, 3\] cannot be broadcast to \[2, 2\]/);
    expect(() => sumTo(x, [2])).toThrow(/sumTo: cannot sum shape \[1, 3\] to \[2\]/);
    total(b).backward();
    expect(x.grad?.toArray()).toEqual([[2, 2, 2]]);
  });

  it("cast converts and casts the gradient back", () => {
    const x = tensor([1.5], { requiresGrad: true });
    const y = cast(x, "float64");
    expect(y.dtype).toBe("float64");
    total(mul(y, y)).backward();
    expect(x.grad?.dtype).toBe("float32");
    expect(x.grad?.toArray()).toEqual([3]);
    expect(() => cast(x, "int8" as never)).toThrow(/cast: dtype must be 'float32', 'float64', 'int32' or 'bool'/);
  });
});

describe("inspection", () => {
  it("a node lists what it saved, until a backward releases it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], { requiresGrad: true });
    const y = mul(x, w);
    expect(y.creator!.saved.map((s) => [s.role, s.index, s.name, s.shape])).toEqual([
      ["input", 0, "a", [2]],
      ["input", 1, "b", [2]],
    ]);
    total(y).backward();
    expect(y.creator!.saved).toEqual([]);
  });
});

describe("null options", () => {
  it("grad and backward treat null options as none, and name other junk", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(grad(total(mul(x, x)), [x], null as never)[0]?.toArray()).toEqual([2, 4]);
    total(mul(x, x)).backward(undefined, null as never);
    expect(x.grad?.toArray()).toEqual([2, 4]);
    expect(() => grad(total(mul(x, x)), [x], 3 as never)).toThrow(/grad: options must be an object, got number 3/);
  });
});
