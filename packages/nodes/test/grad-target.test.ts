/**
 * The engine's business in a first-order backward: writing into leaf gradients zeroed by
 * `fill_(0)` (a copy, or a bias summed straight into it), reusing dead gradient buffers, and the
 * NaN poisoning that catches an op breaking its `ownsGradients` promise. A `.grad` zeroed by
 * `fill_(0)` receives exactly what a fresh backward would give, a `.grad` holding values still
 * accumulates, and aliasing never corrupts a result. Op authors see none of it.
 */
import { defineOp, grad, type OpSpec, randn, Tensor, tensor } from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { poolStats } from "../../core/src/memory.js";
import { add, affine, matmul, mul, ops, relu, sigmoid, softmaxCrossEntropy, sum, tanh } from "../src/index.js";

type Grads = Float64Array[];

/** loss = Σ sigmoid(x·W + b)·c for random shapes; returns W, b and the loss. */
function program(n: number, d: number, h: number, seed: number) {
  const x = randn([n, d], { seed, dtype: "float64" });
  const W = randn([d, h], { seed: seed + 1, dtype: "float64", requiresGrad: true });
  const b = randn([h], { seed: seed + 2, dtype: "float64", requiresGrad: true });
  const c = randn([n, h], { seed: seed + 3, dtype: "float64" });
  const loss = () => sum(mul(sigmoid(add(matmul(x, W), b)), c));
  return { W, b, loss };
}

const grads = (ps: Tensor[]): Grads => ps.map((p) => Float64Array.from(p.grad!.data));

describe("backward into zeroed leaf gradients", () => {
  it("a zeroed .grad gets what a fresh backward gives; a filled one accumulates", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        (n, d, h, seed) => {
          const { W, b, loss } = program(n, d, h, seed);
          loss().backward();
          const fresh = grads([W, b]);
          // zeroed grads (as Sequential.backward leaves them): the fast paths write in place
          const gW = W.grad!;
          const gb = b.grad!;
          gW.fill_(0);
          gb.fill_(0);
          const before = [gW.version, gb.version];
          loss().backward();
          expect(W.grad).toBe(gW);
          expect(b.grad).toBe(gb);
          expect(grads([W, b])).toEqual(fresh);
          expect(gW.version).toBeGreaterThan(before[0]!);
          expect(gb.version).toBeGreaterThan(before[1]!);
          // not zeroed any more: a second backward adds
          loss().backward();
          const twice = grads([W, b]);
          for (let k = 0; k < 2; k++) {
            for (let i = 0; i < fresh[k]!.length; i++) expect(twice[k]![i]).toBeCloseTo(2 * fresh[k]![i]!, 12);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a grad zeroed and then changed through copy_ or markModified accumulates, not overwrites", () => {
    const { W, b, loss } = program(4, 3, 2, 7);
    loss().backward();
    const fresh = grads([W, b]);
    W.grad!.fill_(0);
    W.grad!.copy_(tensor(new Float64Array(6).fill(1), { shape: [3, 2], dtype: "float64" }));
    b.grad!.fill_(0);
    b.grad!.data[0] = 5;
    b.grad!.markModified();
    loss().backward();
    const got = grads([W, b]);
    for (let i = 0; i < 6; i++) expect(got[0]![i]).toBeCloseTo(1 + fresh[0]![i]!, 12);
    expect(got[1]![0]).toBeCloseTo(5 + fresh[1]![0]!, 12);
    expect(got[1]![1]).toBeCloseTo(fresh[1]![1]!, 12);
  });

  it("a leaf used twice by one node, or twice in the graph, gets both contributions", () => {
    const W = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64", requiresGrad: true });
    const run = () => sum(add(matmul(W, W), matmul(W, randn([2, 2], { seed: 3, dtype: "float64" }))));
    run().backward();
    const fresh = Float64Array.from(W.grad!.data);
    W.grad!.fill_(0);
    run().backward();
    expect(Float64Array.from(W.grad!.data)).toEqual(fresh);
  });

  it("a zeroed .grad that is an input of the product is not handed out as its target", () => {
    const W = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64", requiresGrad: true });
    W.grad = tensor([0, 0, 0, 0], { shape: [2, 2], dtype: "float64" });
    const g = W.grad;
    g.fill_(0);
    const gy = tensor([1, -2, 3, 0.5], { shape: [2, 2], dtype: "float64" });
    // d/dW Σ gy ⊙ (G·W) = Gᵀ·gy = 0 with G = W.grad = 0, whatever the target aliasing
    matmul(g, W).backward(gy);
    expect(Array.from(W.grad!.data)).toEqual([0, 0, 0, 0]);
    expect(W.grad).toBe(g);
    // another product that saved W.grad runs after the grad was written: a loud version error,
    // not a silently wrong gradient (leaf gradients are delivered node by node)
    g.fill_(0);
    const base = tensor([0.5, -1, 2, 0.25], { shape: [2, 2], dtype: "float64" });
    const loss = sum(add(matmul(g, W), matmul(base, W)));
    expect(() => loss.backward()).toThrow(/modified in place|version/);
  });

  it("an op that drops or rescales a gradient leaves exactly that in a zeroed .grad", () => {
    // ops built on matmul's rules: one drops B's gradient, one scales both (no op writes a .grad:
    // whatever reaches B.grad went through the engine)
    const spec = ops.matmul.spec as OpSpec<unknown>;
    const dropB = defineOp<unknown>({
      ...spec,
      name: "matmulDropB",
      fusedBackward: undefined,
      backward: (g, c) => [spec.backward(g, c)[0], null],
    });
    const A = randn([3, 4], { seed: 1, dtype: "float64", requiresGrad: true });
    const B = randn([4, 2], { seed: 2, dtype: "float64", requiresGrad: true });
    B.grad = tensor(new Float64Array(8), { shape: [4, 2], dtype: "float64" });
    B.grad.fill_(0);
    sum(dropB([A, B])).backward();
    expect(Array.from(B.grad.data)).toEqual(new Array(8).fill(0));
    const scaled = defineOp<unknown>({
      ...spec,
      name: "matmulScaled",
      fusedBackward: undefined,
      backward: (g, c) => spec.backward(g, c).map((t) => (t ? mul(t, 2) : t)),
    });
    sum(matmul(A, B)).backward();
    const once = Float64Array.from(B.grad.data);
    B.grad.fill_(0);
    sum(scaled([A, B])).backward();
    expect(Array.from(B.grad.data)).toEqual(Array.from(once, (v) => 2 * v));
  });

  it("a bias gradient is summed by the engine straight into a zeroed .grad", () => {
    const x = randn([5, 3], { seed: 4, dtype: "float64" });
    const W = randn([3, 2], { seed: 5, dtype: "float64", requiresGrad: true });
    const b = randn([2], { seed: 6, dtype: "float64", requiresGrad: true });
    sum(mul(affine(x, W, b), randn([5, 2], { seed: 7, dtype: "float64" }))).backward();
    const fresh = Float64Array.from(b.grad!.data);
    const g = b.grad!;
    g.fill_(0);
    const v = g.version;
    sum(mul(affine(x, W, b), randn([5, 2], { seed: 7, dtype: "float64" }))).backward();
    expect(b.grad).toBe(g);
    expect(g.version).toBeGreaterThan(v);
    expect(Float64Array.from(g.data)).toEqual(fresh);
  });

  it("createGraph and anomaly mode keep the general path (same values)", () => {
    const { W, b, loss } = program(3, 2, 4, 11);
    loss().backward();
    const fresh = grads([W, b]);
    W.grad!.fill_(0);
    b.grad!.fill_(0);
    loss().backward(undefined, { createGraph: true });
    expect(W.grad!.creator).not.toBeNull();
    const got = grads([W, b]);
    for (let k = 0; k < 2; k++)
      for (let i = 0; i < got[k]!.length; i++) expect(got[k]![i]).toBeCloseTo(fresh[k]![i]!, 12);
  });
});

describe("destinations offered to fusedBackward", () => {
  /**
   * `2·a + 3·b` (a [2, 3], b [3] broadcast over the rows) whose fusedBackward records what the
   * engine offered, then does what `misuse` says: "use" writes each gradient into its destination
   * and returns it; "garbage" writes 999 into both and returns fresh gradients ([2, 3] for b,
   * which the engine sums into b's .grad); "null" writes 999 and returns none; "swap" returns a's
   * destination, holding 3·gy, as b's (unreduced) gradient, and a fresh one for a; "bump" does as
   * "use" but marks the destinations modified (so they no longer read as zeroed); "throw" writes
   * 999 and throws.
   */
  function probe(misuse: "use" | "garbage" | "null" | "swap" | "bump" | "throw") {
    const offered: (boolean | null)[][] = [];
    const op = defineOp<unknown>({
      name: `probe_${misuse}`,
      inputs: ["a", "b"],
      forward([a, b], _attrs, ctx) {
        const o = ctx.alloc(a!.shape);
        for (let i = 0; i < o.data.length; i++) o.data[i] = 2 * a!.data[i]! + 3 * b!.data[i % 3]!;
        return o;
      },
      backward: (gy) => [mul(gy, 2), mul(gy, 3)],
      fusedBackward(gy, _ctx, out) {
        const g = gy as Tensor;
        const [ta, tb] = [out.take(0), out.take(1)];
        offered.push([ta, tb].map((t) => (t === null ? null : t.data.every((v) => v === 0))));
        const fresh = (k: number) =>
          tensor(
            Array.from(g.data, (v) => k * v),
            { shape: g.shape, dtype: g.dtype },
          );
        const da = ta?.data;
        const db = tb?.data;
        if (misuse === "use" || misuse === "bump") {
          if (da) for (let i = 0; i < 6; i++) da[i] = 2 * g.data[i]!;
          if (db) for (let i = 0; i < 6; i++) db[i % 3] = db[i % 3]! + 3 * g.data[i]!;
          // (bump: marks them changed, so they no longer read as zeroed)
          if (misuse === "bump") for (const t of [ta, tb]) t?.markModified();
          return [ta ?? fresh(2), tb ?? fresh(3)];
        }
        if (misuse === "swap" && da) {
          for (let i = 0; i < 6; i++) da[i] = 3 * g.data[i]!;
          return [fresh(2), new Tensor(da, [2, 3])];
        }
        da?.fill(999);
        db?.fill(999);
        if (misuse === "throw") throw new Error("probe failed");
        if (misuse === "null") return [null, null];
        return [fresh(2), fresh(3)];
      },
    });
    return { op, offered };
  }

  const leaves = () => {
    const a = randn([2, 3], { seed: 1, dtype: "float64", requiresGrad: true });
    const b = randn([3], { seed: 2, dtype: "float64", requiresGrad: true });
    a.grad = tensor(new Float64Array(6), { shape: [2, 3], dtype: "float64" });
    b.grad = tensor(new Float64Array(3), { shape: [3], dtype: "float64" });
    return { a, b };
  };

  it("offers a leaf's zeroed .grad (zero-filled), and nothing in grad(), createGraph, anomaly mode or to a .grad holding values", () => {
    const { op, offered } = probe("use");
    const { a, b } = leaves();
    a.grad!.fill_(0);
    b.grad!.fill_(0);
    sum(op([a, b])).backward();
    expect(offered.pop()).toEqual([true, true]);
    expect(Array.from(a.grad!.data)).toEqual(new Array(6).fill(2));
    expect(Array.from(b.grad!.data)).toEqual(new Array(3).fill(6));
    // b's .grad now holds values: only a's is offered, b's accumulates
    a.grad!.fill_(0);
    sum(op([a, b])).backward();
    expect(offered.pop()).toEqual([true, null]);
    expect(Array.from(b.grad!.data)).toEqual(new Array(3).fill(12));
    grad(sum(op([a, b])), [a, b]);
    expect(offered.pop()).toEqual([null, null]);
    a.grad!.fill_(0);
    b.grad!.fill_(0);
    sum(op([a, b])).backward(undefined, { createGraph: true });
    expect(offered).toEqual([]); // backward ran, not fusedBackward
  });

  it("never offers one array twice, nor a .grad sharing memory with an input", () => {
    const { op, offered } = probe("use");
    // b's .grad over a's memory (a view of the same buffer): not offered
    const buf = new Float64Array(12);
    const { a, b } = leaves();
    a.grad!.fill_(0);
    b.grad = tensor(buf.subarray(0, 3), { shape: [3], dtype: "float64" });
    const a2 = tensor(buf.subarray(0, 6), { shape: [2, 3], dtype: "float64", requiresGrad: true });
    if (b.grad.data.buffer === buf.buffer && a2.data.buffer === buf.buffer) {
      b.grad.fill_(0);
      sum(op([a2, b])).backward();
      expect(offered.pop()).toEqual([null, null]);
      expect(Array.from(b.grad.data)).toEqual(new Array(3).fill(6));
    }
    // one .grad tensor for two leaves: offered once
    const w = randn([3], { seed: 5, dtype: "float64", requiresGrad: true });
    const shared = tensor(new Float64Array(3), { shape: [3], dtype: "float64" });
    const sq = defineOp<unknown>({
      name: "twoRows",
      inputs: ["u", "v"],
      forward([u, v], _attrs, ctx) {
        const o = ctx.alloc([3]);
        for (let i = 0; i < 3; i++) o.data[i] = u!.data[i]! + 2 * v!.data[i]!;
        return o;
      },
      backward: (gy) => [gy, mul(gy, 2)],
      fusedBackward(gy, _ctx, out) {
        offered.push([out.take(0), out.take(1)].map((d) => (d === null ? null : true)));
        return [gy as Tensor, mul(gy as Tensor, 2)];
      },
    });
    w.grad = shared;
    const v = randn([3], { seed: 6, dtype: "float64", requiresGrad: true });
    v.grad = shared;
    shared.fill_(0);
    sum(sq([w, v])).backward();
    expect(offered.pop()!.filter((o) => o !== null)).toHaveLength(1);
    expect(Array.from(shared.data)).toEqual([3, 3, 3]);
    // the same leaf as both inputs: one destination, both contributions
    shared.fill_(0);
    sum(sq([w, w])).backward();
    expect(offered.pop()!.filter((o) => o !== null)).toHaveLength(1);
    expect(Array.from(shared.data)).toEqual([3, 3, 3]);
  });

  it.each(["garbage", "null", "swap", "bump", "throw"] as const)(
    "an op that misuses them (%s) cannot leave a wrong value in a .grad",
    (misuse) => {
      const { op } = probe(misuse);
      const { a, b } = leaves();
      a.grad!.fill_(0);
      b.grad!.fill_(0);
      const run = () => sum(op([a, b])).backward();
      if (misuse === "throw") {
        expect(run).toThrow(/probe failed/);
        // zero again, and still known to be zero
        expect(Array.from(a.grad!.data)).toEqual(new Array(6).fill(0));
        expect(Array.from(b.grad!.data)).toEqual(new Array(3).fill(0));
        expect(a.grad!._zeroAt).toBe(a.grad!.version);
        return;
      }
      run();
      const [ga, gb] = misuse === "null" ? [0, 0] : [2, 6];
      expect(Array.from(a.grad!.data)).toEqual(new Array(6).fill(ga));
      expect(Array.from(b.grad!.data)).toEqual(new Array(3).fill(gb));
    },
  );

  it("affine and matmul write a weight's gradient straight into its zeroed .grad", () => {
    const x = randn([5, 3], { seed: 8, dtype: "float64" });
    const W = randn([3, 2], { seed: 9, dtype: "float64", requiresGrad: true });
    const b = randn([2], { seed: 10, dtype: "float64", requiresGrad: true });
    const c = randn([5, 2], { seed: 11, dtype: "float64" });
    // the ops' own fusedBackward, watched: did W's gradient come back in W's .grad array?
    let used = false;
    const spy = (spec: OpSpec<unknown>) =>
      defineOp<unknown>({
        ...spec,
        name: `${spec.name}Spy`,
        fusedBackward(g, ctx, out) {
          const r = spec.fusedBackward!(g, ctx, out);
          const t = out.take(1);
          used = t !== null && r[1] === t;
          return r;
        },
      });
    const affineSpy = spy(ops.affine.spec as OpSpec<unknown>);
    const matmulSpy = spy(ops.matmul.spec as OpSpec<unknown>);
    for (const f of [() => affineSpy([x, W, b]) as Tensor, () => add(matmulSpy([x, W]), b) as Tensor]) {
      const [dW] = grad(sum(mul(f(), c)), [W]);
      W.grad = tensor(new Float64Array(6), { shape: [3, 2], dtype: "float64" });
      const g = W.grad;
      g.fill_(0);
      const data = g.data;
      used = false;
      sum(mul(f(), c)).backward();
      expect(used).toBe(true);
      expect(W.grad).toBe(g);
      expect(W.grad.data).toBe(data);
      for (let i = 0; i < 6; i++) expect(g.data[i]).toBeCloseTo(dW!.data[i]!, 12);
      // not zeroed any more: no destination, the gradient is added
      used = false;
      sum(mul(f(), c)).backward();
      expect(used).toBe(false);
      for (let i = 0; i < 6; i++) expect(g.data[i]).toBeCloseTo(2 * dW!.data[i]!, 12);
    }
  });
});

describe("reuse of large backward temporaries", () => {
  /** A ReLU/sigmoid MLP on 128×200 inputs: every hidden activation and its gradient is ≥ 64 KiB. */
  function mlp(seed: number, dtype: "float32" | "float64") {
    const x = randn([128, 200], { seed, dtype });
    const W1 = randn([200, 256], { seed: seed + 1, dtype, requiresGrad: true });
    const b1 = randn([256], { seed: seed + 2, dtype, requiresGrad: true });
    const W2 = randn([256, 256], { seed: seed + 3, dtype, requiresGrad: true });
    const b2 = randn([256], { seed: seed + 4, dtype, requiresGrad: true });
    const W3 = randn([256, 10], { seed: seed + 5, dtype, requiresGrad: true });
    const params = [W1, b1, W2, b2, W3];
    const labels = Array.from({ length: 128 }, (_, i) => i % 10);
    const forward = () => {
      const h1 = relu(affine(x, W1, b1));
      const h2 = sigmoid(add(matmul(h1, W2), b2));
      const s = tanh(matmul(add(h2, h1), W3)); // h1 fans out: its gradient is a sum
      return { h1, h2, loss: softmaxCrossEntropy(s, labels) };
    };
    return { params, forward };
  }

  it("gives the gradients of a pass without reuse, step after step, and never touches live tensors", () => {
    const before = poolStats();
    for (const dtype of ["float32", "float64"] as const) {
      const m = mlp(dtype === "float32" ? 5 : 50, dtype);
      let kept: { h1: Tensor; h2: Tensor; copy1: Float64Array; copy2: Float64Array } | null = null;
      for (let step = 0; step < 3; step++) {
        // reference: the functional grad, which never reuses memory
        const ref = grad(m.forward().loss, m.params).map((g) => Float64Array.from(g!.data));
        for (const p of m.params) p.grad = null;
        const { h1, h2, loss } = m.forward();
        loss.backward();
        m.params.forEach((p, k) => {
          expect(Float64Array.from(p.grad!.data)).toEqual(ref[k]);
        });
        // activations the user kept from the previous step are untouched by this step's reuse
        if (kept !== null) {
          expect(Float64Array.from(kept.h1.data)).toEqual(kept.copy1);
          expect(Float64Array.from(kept.h2.data)).toEqual(kept.copy2);
        }
        kept = { h1, h2, copy1: Float64Array.from(h1.data), copy2: Float64Array.from(h2.data) };
      }
    }
    // the reuse did happen: arrays went to the pool and came back out as new tensors
    const after = poolStats();
    expect(after.recycled - before.recycled).toBeGreaterThanOrEqual(6);
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(6);
  });

  it("a gradient shared by two consumers is not overwritten in place by the first", () => {
    const x = randn([128, 200], { seed: 9, dtype: "float32" });
    const W = randn([200, 128], { seed: 10, dtype: "float32", requiresGrad: true });
    const V = randn([200, 128], { seed: 11, dtype: "float32", requiresGrad: true });
    const M = randn([128, 16], { seed: 12, dtype: "float32" });
    // matmul's backward makes a large gradient, and add hands that same array to both relu nodes
    const f = () => sum(matmul(add(relu(matmul(x, W)), relu(matmul(x, V))), M));
    const ref = grad(f(), [W, V]).map((g) => Float64Array.from(g!.data));
    f().backward();
    expect(Float64Array.from(W.grad!.data)).toEqual(ref[0]);
    expect(Float64Array.from(V.grad!.data)).toEqual(ref[1]);
  });

  it("an op without ownsGradients that keeps its incoming gradient finds it unchanged", () => {
    const kept: Tensor[] = [];
    const keepOp = defineOp({
      name: "keepGrad",
      inputs: ["x"],
      forward([x], _a, ctx) {
        const out = ctx.alloc(x!.shape);
        out.data.set(x!.data);
        return out;
      },
      backward(gy) {
        kept.push(gy);
        return [mul(gy, 2)];
      },
    });
    const x = randn([128, 200], { seed: 3, dtype: "float32", requiresGrad: true });
    const W = randn([200, 128], { seed: 4, dtype: "float32", requiresGrad: true });
    const c = randn([128, 128], { seed: 5, dtype: "float32" });
    sum(mul(relu(matmul(keepOp([x]), W)), c)).backward();
    const snapshot = Float64Array.from(kept[0]!.data);
    // more passes with large temporaries: the kept gradient's memory must not be handed out
    for (let i = 0; i < 3; i++) sum(mul(relu(matmul(x, W)), mul(c, i + 2))).backward();
    expect(Float64Array.from(kept[0]!.data)).toEqual(snapshot);
  });

  it("a gradient returned by an op without ownsGradients, which keeps it, is never reused", () => {
    const kept: Tensor[] = [];
    const keepOut = defineOp({
      name: "keepOut",
      inputs: ["x"],
      forward([x], _a, ctx) {
        const out = ctx.alloc(x!.shape);
        out.data.set(x!.data);
        return out;
      },
      backward(gy) {
        const g = mul(gy, 2);
        kept.push(g);
        return [g];
      },
    });
    const x = randn([128, 200], { seed: 6, dtype: "float32" });
    const W = randn([200, 128], { seed: 7, dtype: "float32", requiresGrad: true });
    const c = randn([128, 128], { seed: 8, dtype: "float32" });
    // keepOut's gradient flows into relu (which owns its gradients) and dies there
    sum(mul(keepOut([relu(matmul(x, W))]), c)).backward();
    const snapshot = Float64Array.from(kept[0]!.data);
    for (let i = 0; i < 3; i++) sum(mul(relu(matmul(x, W)), mul(c, i + 3))).backward();
    expect(Float64Array.from(kept[0]!.data)).toEqual(snapshot);
  });

  it("an op that breaks its ownsGradients promise reads NaN (poison mode, on in the whole suite)", () => {
    // the promise broken: it keeps the gradient it receives, which the engine then recycles
    const kept: Tensor[] = [];
    const liar = defineOp({
      name: "liar",
      inputs: ["x"],
      ownsGradients: true,
      forward([x], _a, ctx) {
        const out = ctx.alloc(x!.shape);
        out.data.set(x!.data);
        return out;
      },
      backward(gy) {
        kept.push(gy);
        return [mul(gy, 2)];
      },
    });
    const x = randn([128, 200], { seed: 13, dtype: "float32" });
    const W = randn([200, 128], { seed: 14, dtype: "float32", requiresGrad: true });
    const c = randn([128, 128], { seed: 15, dtype: "float32" });
    // matmul's backward hands liar a large fresh gradient; once liar has run, nothing the engine
    // knows of holds it, so it goes back to the pool: poisoned
    sum(matmul(liar([relu(matmul(x, W))]), c)).backward();
    expect(kept[0]!.size).toBe(128 * 128);
    expect(Number.isNaN(kept[0]!.data[0])).toBe(true);
    expect(Array.from(kept[0]!.data).every(Number.isNaN)).toBe(true);
    // with the promise kept (no ownsGradients), the same gradient stays intact
    const honest = defineOp({ ...liar.spec, name: "honest", ownsGradients: false });
    kept.length = 0;
    sum(matmul(honest([relu(matmul(x, W))]), c)).backward();
    expect(Array.from(kept[0]!.data).some(Number.isNaN)).toBe(false);
  });
});
