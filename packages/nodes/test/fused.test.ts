/**
 * The declared second routes (`fusedBackward`) give what the op's one `backward` gives: a pass
 * that creates no graph runs the fused route, `createGraph` runs `backward`; both are compared on
 * random shapes, transposes and dtypes. (checkOp makes the same comparison on every drawn case.)
 */
import { type FloatDType, grad, type Op, randn, type Tensor } from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { affineOp, matmulOp, reluOp, sigmoidOp, softmaxCrossEntropyOp, tanhOp } from "../src/index.js";

/** The gradients of `Σ w·f(inputs)` by the fused route (plain) and by `backward` (createGraph). */
function bothRoutes(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number): [number[][], number[][]] {
  const y = f(inputs);
  const w = randn(y.shape, { seed, dtype: y.dtype });
  const plain = grad(f(inputs), inputs, { gradOutput: w });
  const recorded = grad(f(inputs), inputs, { gradOutput: w, createGraph: true });
  return [plain.map((g) => Array.from(g.data)), recorded.map((g) => Array.from(g.data))];
}

function close(a: number[][], b: number[][], dtype: FloatDType): void {
  const tol = dtype === "float64" ? 1e-12 : 1e-5;
  for (let k = 0; k < a.length; k++) {
    expect(a[k]!.length).toBe(b[k]!.length);
    for (let i = 0; i < a[k]!.length; i++) expect(Math.abs(a[k]![i]! - b[k]![i]!)).toBeLessThanOrEqual(tol);
  }
}

const dtypes = fc.constantFrom<FloatDType>("float32", "float64");

describe("fusedBackward gives what backward gives", () => {
  it("declares it on matmul, affine, softmaxCrossEntropy, sigmoid, tanh and relu", () => {
    for (const op of [matmulOp, affineOp, softmaxCrossEntropyOp, sigmoidOp, tanhOp, reluOp] as unknown as Op<unknown>[])
      expect(typeof op.spec.fusedBackward).toBe("function");
  });

  it("sigmoid, tanh and relu, on any shape", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(4), { maxLength: 3 }),
        fc.constantFrom(sigmoidOp, tanhOp, reluOp),
        dtypes,
        fc.nat(999),
        (shape, op, dtype, seed) => {
          const x = randn(shape, { seed, dtype, requiresGrad: true });
          const [p, r] = bothRoutes(([u]) => op([u!]), [x], seed + 1);
          close(p, r, dtype);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("matmul, every transpose", () => {
    fc.assert(
      fc.property(
        fc.nat(5),
        fc.nat(5),
        fc.nat(5),
        fc.boolean(),
        fc.boolean(),
        dtypes,
        fc.nat(999),
        (m, k, n, tA, tB, dtype, seed) => {
          const a = randn(tA ? [k, m] : [m, k], { seed, dtype, requiresGrad: true });
          const b = randn(tB ? [n, k] : [k, n], { seed: seed + 1, dtype, requiresGrad: true });
          const [p, r] = bothRoutes(([x, y]) => matmulOp([x!, y!], { transA: tA, transB: tB }), [a, b], seed + 2);
          close(p, r, dtype);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("affine, with a [H] or [1, H] bias", () => {
    fc.assert(
      fc.property(fc.nat(5), fc.nat(5), fc.nat(5), fc.boolean(), dtypes, fc.nat(999), (n, d, h, row, dtype, seed) => {
        const x = randn([n, d], { seed, dtype, requiresGrad: true });
        const W = randn([d, h], { seed: seed + 1, dtype, requiresGrad: true });
        const b = randn(row ? [1, h] : [h], { seed: seed + 2, dtype, requiresGrad: true });
        const [p, r] = bothRoutes(([u, v, c]) => affineOp([u!, v!, c!]), [x, W, b], seed + 3);
        close(p, r, dtype);
      }),
      { numRuns: 60 },
    );
  });

  it("softmaxCrossEntropy, targets constant or not", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        dtypes,
        fc.nat(999),
        (n, c, tg, dtype, seed) => {
          const s = randn([n, c], { seed, dtype, requiresGrad: true });
          const t = randn([n, c], { seed: seed + 1, dtype, requiresGrad: tg });
          const inputs = tg ? [s, t] : [s];
          const [p, r] = bothRoutes((xs) => softmaxCrossEntropyOp([xs[0]!, tg ? xs[1]! : t]), inputs, seed + 2);
          close(p, r, dtype);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("softmaxCrossEntropy with options (its fused route is backward itself): both routes agree", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.constantFrom("mean", "sum", "none"),
        fc.constantFrom(0, 0.1, 1),
        fc.boolean(),
        dtypes,
        fc.nat(999),
        (n, c, tg, reduction, labelSmoothing, weighted, dtype, seed) => {
          const s = randn([n, c], { seed, dtype, requiresGrad: true });
          const t = randn([n, c], { seed: seed + 1, dtype, requiresGrad: tg });
          const weights = weighted ? Array.from({ length: c }, (_, i) => 0.5 + i) : null;
          const attrs = { reduction, labelSmoothing, weights } as const;
          const inputs = tg ? [s, t] : [s];
          const [p, r] = bothRoutes((xs) => softmaxCrossEntropyOp([xs[0]!, tg ? xs[1]! : t], attrs), inputs, seed + 2);
          close(p, r, dtype);
        },
      ),
      { numRuns: 40 },
    );
  });
});
