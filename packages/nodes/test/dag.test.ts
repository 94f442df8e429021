/**
 * Random DAGs built from the six seed nodes (add, mul, branch, repeat, sum, matmul), checked
 * against numerical gradients in float64. Values fan out and broadcast freely, so the engine's
 * accumulation, ordering and un-broadcasting are all exercised.
 */
import { assertGradcheck, broadcastShapes, type Tensor, tensor } from "@gradgraph/core";
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  add,
  branch,
  concat,
  div,
  exp,
  getItem,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  mean,
  meanSquaredError,
  mul,
  neg,
  pow,
  repeat,
  reshape,
  sigmoid,
  slice,
  softmax,
  softmaxCrossEntropy,
  sqrt,
  stack,
  sub,
  sum,
  tanh,
  transpose,
} from "../src/index.js";

type Instr =
  | { kind: "add" | "mul"; i: number; j: number }
  | { kind: "branch"; i: number; n: number }
  | { kind: "repeat"; i: number; n: number }
  | { kind: "sum"; i: number }
  | { kind: "matmul"; i: number; j: number };

const instrArb: fc.Arbitrary<Instr> = fc.oneof(
  fc.record({ kind: fc.constantFrom("add" as const, "mul" as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant("branch" as const), i: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("repeat" as const), i: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("sum" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("matmul" as const), i: fc.nat(), j: fc.nat() }),
);

const pickFrom = <T>(xs: readonly T[], k: number): T => xs[k % xs.length]!;

/** Runs a program over a pool of values (leaves first); each instruction adds its results to the pool. */
function run(program: readonly Instr[], leaves: readonly Tensor[]): Tensor {
  const pool: Tensor[] = [...leaves];
  for (const ins of program) {
    const a = pickFrom(pool, ins.i);
    switch (ins.kind) {
      case "add":
      case "mul": {
        const b = pickFrom(pool, ins.j);
        try {
          broadcastShapes("dag", a.shape, b.shape);
        } catch {
          continue; // not broadcastable: skip, as a generator of valid programs would
        }
        pool.push(ins.kind === "add" ? add(a, b) : mul(a, b));
        break;
      }
      case "branch":
        pool.push(...branch(a, ins.n));
        break;
      case "repeat":
        if (a.rank > 0 && a.size <= 12) pool.push(repeat(a, ins.n, 0));
        break;
      case "sum":
        if (a.rank > 0) pool.push(sum(a, { axis: 0, keepdims: true }));
        break;
      case "matmul": {
        const b = pickFrom(pool, ins.j);
        if (a.rank === 2 && b.rank === 2 && a.shape[1] === b.shape[0]) pool.push(matmul(a, b));
        break;
      }
    }
  }
  // every value produced contributes to the output, so every path is differentiated
  let out = sum(pool[leaves.length] ?? pool[0]!);
  for (let k = leaves.length + 1; k < pool.length; k++) out = add(out, sum(mul(pool[k]!, 0.5 + (k % 3))));
  return out;
}

describe("random DAGs of the six seed nodes", () => {
  it("match numerical gradients in float64", () => {
    const leafShapes = [[2, 3], [1, 3], [3, 3], [3], [2, 1]];
    fc.assert(
      fc.property(
        fc.array(instrArb, { minLength: 1, maxLength: 14 }),
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 24, maxLength: 24 }),
        (program, values) => {
          let v = 0;
          const leaves = leafShapes.map((s) => {
            const n = s.reduce((a, b) => a * b, 1);
            const data = Float64Array.from({ length: n }, () => values[v++ % values.length]!);
            return tensor(data, { shape: s, dtype: "float64" });
          });
          assertGradcheck((...xs) => run(program, xs), leaves);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Every unary transformation a random program may apply (each safe on any real input). */
const unaryKinds = [
  (a: Tensor) => sigmoid(a),
  (a: Tensor) => tanh(a),
  (a: Tensor) => exp(tanh(a)),
  (a: Tensor) => log(add(sigmoid(a), 0.5)),
  (a: Tensor) => sqrt(add(mul(a, a), 0.5)),
  (a: Tensor) => neg(a),
  (a: Tensor) => pow(a, 3),
  (a: Tensor) => pow(add(sigmoid(a), 0.5), tanh(a)),
  (a: Tensor) => (a.rank > 0 ? softmax(a) : a),
  (a: Tensor) => (a.rank > 0 ? logSoftmax(a) : a),
  (a: Tensor) => (a.rank > 0 ? logSumExp(a, { axis: -1, keepdims: true }) : a),
  (a: Tensor) => mean(a, { axis: a.rank > 0 ? 0 : undefined, keepdims: a.rank > 0 }),
  (a: Tensor) => (a.rank === 2 ? transpose(a) : a),
  (a: Tensor) => reshape(a, [a.size]),
  (a: Tensor) => (a.rank > 0 && a.shape[0]! > 1 ? getItem(a, [1, 0, 1]) : a),
  (a: Tensor) => (a.rank > 0 && a.shape[0]! > 1 ? slice(a, 1) : a),
  (a: Tensor) => (a.rank > 0 ? concat([a, a], -1) : stack([a, a])),
  (a: Tensor) => stack([a, mul(a, 2)]),
  (a: Tensor) =>
    a.rank === 2 && a.shape[1]! >= 2
      ? mul(softmaxCrossEntropy(a, a.shape[0] === 2 ? [1, 0] : new Array(a.shape[0]).fill(0)), 1)
      : a,
  (a: Tensor) => meanSquaredError(a, mul(tanh(a), 0.5)),
];

const binaryKinds = [
  (a: Tensor, b: Tensor) => sub(a, b),
  (a: Tensor, b: Tensor) => div(a, add(mul(b, b), 0.5)),
  (a: Tensor, b: Tensor) => mul(a, b),
];

describe("random DAGs mixing all nodes", () => {
  it("match numerical gradients in float64", () => {
    const leafShapes = [[2, 3], [1, 3], [3, 3], [3]];
    fc.assert(
      fc.property(
        fc.array(fc.record({ unary: fc.boolean(), k: fc.nat(), i: fc.nat(), j: fc.nat() }), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 24, maxLength: 24 }),
        (program, values) => {
          let v = 0;
          const leaves = leafShapes.map((s) => {
            const n = s.reduce((a, b) => a * b, 1);
            return tensor(
              Float64Array.from({ length: n }, () => values[v++ % values.length]!),
              { shape: s, dtype: "float64" },
            );
          });
          const runAll = (...xs: Tensor[]) => {
            const pool: Tensor[] = [...xs];
            for (const ins of program) {
              const a = pickFrom(pool, ins.i);
              if (ins.unary) pool.push(pickFrom(unaryKinds, ins.k)(a));
              else {
                const b = pickFrom(pool, ins.j);
                try {
                  broadcastShapes("dag", a.shape, b.shape);
                } catch {
                  if (a.rank === 2 && b.rank === 2 && a.shape[1] === b.shape[0]) pool.push(matmul(a, b));
                  continue;
                }
                pool.push(pickFrom(binaryKinds, ins.k)(a, b));
              }
            }
            let out = sum(pool[xs.length] ?? pool[0]!);
            for (let k = xs.length + 1; k < pool.length; k++) out = add(out, sum(mul(pool[k]!, 0.5 + (k % 3))));
            return out;
          };
          assertGradcheck(runAll, leaves);
        },
      ),
      { numRuns: 150 },
    );
  });
});
