import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastShapes, defineOp, GradcheckError, shapeSize } from "../src/index.js";
import {
  broadcastableShapesArb,
  checkOp,
  matmulShapesArb,
  shapeArb,
  shapedTensorArb,
  tensorArb,
} from "../src/testing/index.js";
import { addOp, mul, mulOp } from "./helpers.js";

describe("arbitraries", () => {
  it("shapes respect their bounds and include zero-size and size-1 dimensions", () => {
    const seen = new Set<number>();
    fc.assert(
      fc.property(shapeArb({ maxRank: 4, maxDim: 4 }), (s) => {
        expect(s.length).toBeLessThanOrEqual(4);
        for (const d of s) {
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(4);
          seen.add(d);
        }
      }),
      { numRuns: 300 },
    );
    expect(seen.has(0)).toBe(true);
    expect(seen.has(1)).toBe(true);
  });

  it("tensors have the requested shape, dtype and bounds", () => {
    fc.assert(
      fc.property(shapedTensorArb({}, { dtype: "float32", min: -1, max: 1 }), (t) => {
        expect(t.dtype).toBe("float32");
        expect(t.size).toBe(shapeSize(t.shape));
        for (const v of t.data) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      }),
    );
    fc.assert(
      fc.property(tensorArb([2, 3]), (t) => {
        expect(t.shape).toEqual([2, 3]);
      }),
    );
  });

  it("broadcastable shape tuples really broadcast", () => {
    fc.assert(
      fc.property(broadcastableShapesArb(3), (shapes) => {
        expect(shapes).toHaveLength(3);
        broadcastShapes("test", ...shapes);
      }),
      { numRuns: 300 },
    );
  });

  it("matmul pairs share the inner dimension", () => {
    fc.assert(
      fc.property(matmulShapesArb(), ([a, b]) => {
        expect(a[1]).toBe(b[0]);
      }),
    );
  });
});

describe("checkOp", () => {
  it("passes for correct ops", () => {
    expect(checkOp(addOp, { numRuns: 30 }).cases).toBe(30);
    expect(checkOp(mulOp, { numRuns: 30, dtype: "float32" }).cases).toBe(30);
  });

  /** Wrong only where an input broadcasts: forgets nothing in forward but returns gy·a for b. */
  const sneaky = defineOp({
    name: "sneaky",
    inputs: ["a", "b"],
    forward([a, b], _x, ctx) {
      const out = ctx.alloc(broadcastShapes("sneaky", a!.shape, b!.shape));
      for (let i = 0; i < out.data.length; i++) out.data[i] = 0;
      ctx.saveInputs(0, 1);
      const prod = mul(a!, b!);
      out.data.set(prod.data);
      return out;
    },
    backward: (gy, ctx) => [mul(gy, ctx.input(1)), mul(gy, ctx.input(1))],
    test: { shapes: "broadcast" },
  });

  it("finds a wrong derivative, shrinks it and prints a replayable seed", () => {
    let message = "";
    try {
      checkOp(sneaky, { numRuns: 100, seed: 42 });
    } catch (e) {
      expect(e).toBeInstanceOf(GradcheckError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/checkOp\(sneaky\) failed after \d+ case\(s\), shrunk \d+ time\(s\)/);
    expect(message).toMatch(/minimal case: input shapes/);
    expect(message).toMatch(/worst element: input 1 \(b\)/);
    const replay = /replay: checkOp\(op, \{ seed: (-?\d+), numRuns: (\d+) \}\)/.exec(message);
    expect(replay).not.toBeNull();
    // shrinking reaches a tiny case: every input has at most one element
    const shapes = /minimal case: input shapes (.*); attrs/.exec(message)![1]!;
    expect(shapes).toMatch(/^\[[01]?(, [01])*\](, \[[01]?(, [01])*\])*$/);
    // the seed replays the same failure and the same minimal case
    expect(() => checkOp(sneaky, { seed: Number(replay![1]), numRuns: Number(replay![2]) })).toThrow(message);
  });

  it("draws ranks and dimensions 1..4 with an input of two elements, but for a quota of scalar and zero-size cases", () => {
    const seen: number[][][] = [];
    const copy = defineOp({
      name: "copy",
      inputs: ["a", "b"],
      forward([a, b], _x, ctx) {
        const out = ctx.alloc(broadcastShapes("copy", a!.shape, b!.shape));
        const s = addOp([a!, b!]);
        out.data.set(s.data);
        return out;
      },
      backward: (gy) => [gy, gy],
      test: {
        precondition: (inputs) => {
          seen.push(inputs.map((t) => [...t.shape]));
          return true;
        },
      },
    });
    const report = checkOp(copy, { numRuns: 64 });
    expect(report).toMatchObject({
      cases: 64,
      routes: ["grad", "createGraph", "backward"],
      fusedBackward: false,
      secondOrder: false,
    });
    // every regular case, and a zero-size case whose other input has two elements
    expect(report.nonTrivial).toBeGreaterThanOrEqual(56);
    expect(seen).toHaveLength(64);
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const scalar = seen.filter((c) => c.every((s) => size(s) === 1));
    const empty = seen.filter((c) => c.some((s) => size(s) === 0));
    expect(scalar).toHaveLength(4);
    expect(scalar.some((c) => c.every((s) => s.length === 0))).toBe(true);
    expect(empty).toHaveLength(4);
    for (const c of seen.filter((x) => !scalar.includes(x) && !empty.includes(x))) {
      expect(c.some((s) => size(s) >= 2)).toBe(true);
      for (const s of c) for (const d of s) expect(d).toBeGreaterThanOrEqual(1);
      expect(Math.max(...c.map((s) => s.length))).toBeLessThanOrEqual(4);
    }
    // ranks up to 4 are drawn
    expect(seen.some((c) => c.some((s) => s.length === 4))).toBe(true);
  });

  it("keeps the quota of scalar and zero-size cases among the cases run when a precondition refuses many", () => {
    // refuses most cases with many elements (as an op's "no ties" precondition does), and every
    // scalar case: the refused edge slots are skipped, the refused regular cases drawn again
    let refusedEdges = 0;
    const picky = defineOp({
      name: "picky",
      inputs: ["a"],
      forward([a], _x, ctx) {
        const out = ctx.alloc(a!.shape);
        out.data.set(a!.data);
        return out;
      },
      backward: (gy) => [gy],
      test: {
        precondition: ([a]) => {
          const n = a!.size;
          if (n === 1) {
            refusedEdges++;
            return false;
          }
          return n === 0 || a!.data.every((v, i) => i === 0 || v > a!.data[i - 1]!) || n <= 3;
        },
      },
    });
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const report = checkOp(picky, { numRuns: 40, seed });
      expect(report.cases).toBe(40);
      expect(report.nonTrivial / report.cases).toBeGreaterThanOrEqual(0.85);
    }
    expect(refusedEdges).toBeGreaterThan(0);
  });

  it("rejects something that is not an op", () => {
    expect(() => checkOp((() => 1) as never)).toThrow(/checkOp: op must be made by defineOp/);
  });
});

describe("checkOp domains", () => {
  /** a·b that refuses b ≤ 0, so it passes only when the per-input domain is honoured. */
  const positiveB = defineOp({
    name: "positiveB",
    inputs: ["a", "b"],
    forward([a, b], _attrs, ctx) {
      if (b.data.some((v) => v <= 0)) throw new Error("b must be positive");
      const out = ctx.alloc(broadcastShapes("positiveB", a.shape, b.shape));
      const prod = mul(a, b);
      out.data.set(prod.data);
      return out;
    },
    backward: (gy, ctx) => [mul(gy, ctx.input(1)), mul(gy, ctx.input(0))],
    test: { domains: [undefined, [0.5, 2]] },
  });

  it("draws each input from its own interval", () => {
    const withSave = defineOp({
      ...positiveB.spec,
      forward(xs, a, ctx) {
        ctx.saveInputs(0, 1);
        return positiveB.spec.forward(xs, a, ctx);
      },
    });
    expect(checkOp(withSave, { numRuns: 30 }).cases).toBe(30);
    // an option passed as undefined keeps the declaration
    expect(checkOp(withSave, { numRuns: 10, domains: undefined }).cases).toBe(10);
    expect(() => checkOp(withSave, { numRuns: 30, domains: [undefined, [-2, -0.5]] })).toThrow(/b must be positive/);
  });
});
