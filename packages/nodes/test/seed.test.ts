/** The seed's node semantics (chapter 1 of "Deep Learning from Scratch 2"), as properties. */
import { grad, type Tensor, tensor } from "@gradgraph/core";
import { gemm } from "@gradgraph/core/kernels";
import { tensorArb } from "@gradgraph/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, branch, matmul, mul, repeat, sum } from "../src/index.js";

const dims = fc.integer({ min: 1, max: 5 });
const close = (a: Tensor, b: Tensor, tol = 1e-12) => {
  expect(a.shape).toEqual(b.shape);
  for (let i = 0; i < a.size; i++) expect(Math.abs(a.data[i]! - b.data[i]!)).toBeLessThanOrEqual(tol);
};

describe("Repeat and Sum are each other's backward", () => {
  it("Repeat: x (1×D) → N×D; dx = sum(dy, axis 0, keepdims)", () => {
    fc.assert(
      fc.property(
        dims.chain((n) => dims.chain((d) => fc.tuple(tensorArb([1, d], { requiresGrad: true }), tensorArb([n, d])))),
        ([x, dy]) => {
          const n = dy.shape[0]!;
          const y = repeat(x, n, 0);
          expect(y.shape).toEqual(dy.shape);
          for (let i = 0; i < n; i++)
            close(tensor(y.data.slice(i * x.size, (i + 1) * x.size), { shape: x.shape, dtype: "float64" }), x, 0);
          const [dx] = grad(y, [x], { gradOutput: dy });
          close(dx!, sum(dy, { axis: 0, keepdims: true }));
        },
      ),
    );
  });

  it("Sum: x (N×D) → 1×D; dx = repeat(dy, N, 0)", () => {
    fc.assert(
      fc.property(
        dims.chain((n) => dims.chain((d) => fc.tuple(tensorArb([n, d], { requiresGrad: true }), tensorArb([1, d])))),
        ([x, dy]) => {
          const y = sum(x, { axis: 0, keepdims: true });
          const [dx] = grad(y, [x], { gradOutput: dy });
          close(dx!, repeat(dy, x.shape[0]!, 0), 0);
        },
      ),
    );
  });
});

describe("Branch", () => {
  it("an explicit branch gives the same gradients as using a value twice", () => {
    fc.assert(
      fc.property(
        dims.chain((d) => fc.tuple(tensorArb([d], { requiresGrad: true }), tensorArb([d]))),
        ([x, c]) => {
          const [a, b] = branch(x);
          const [viaBranch] = grad(sum(add(mul(a!, c), mul(b!, b!))), [x]);
          const [viaReuse] = grad(sum(add(mul(x, c), mul(x, x))), [x]);
          close(viaBranch!, viaReuse!, 1e-12);
        },
      ),
    );
  });

  it("sums n incoming gradients", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const outs = branch(x, 3);
    expect(outs).toHaveLength(3);
    sum(add(add(mul(outs[0]!, 1), mul(outs[1]!, 10)), mul(outs[2]!, 100))).backward();
    expect(x.grad?.toArray()).toEqual([111, 111]);
  });
});

describe("Add and Mul", () => {
  it("Add passes dy to both inputs; Mul swaps the inputs", () => {
    fc.assert(
      fc.property(
        dims.chain((d) =>
          fc.tuple(tensorArb([d], { requiresGrad: true }), tensorArb([d], { requiresGrad: true }), tensorArb([d])),
        ),
        ([x, y, dy]) => {
          const [ax, ay] = grad(add(x, y), [x, y], { gradOutput: dy });
          close(ax!, dy, 0);
          close(ay!, dy, 0);
          const [mx, my] = grad(mul(x, y), [x, y], { gradOutput: dy });
          close(mx!, mul(dy, y), 0);
          close(my!, mul(dy, x), 0);
        },
      ),
    );
  });
});

describe("MatMul", () => {
  it("y = x·W: dx = dy·Wᵀ and dW = xᵀ·dy", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, dims, dims)
          .chain(([n, d, h]) =>
            fc.tuple(
              tensorArb([n, d], { requiresGrad: true }),
              tensorArb([d, h], { requiresGrad: true }),
              tensorArb([n, h]),
            ),
          ),
        ([x, w, dy]) => {
          const [n, d] = x.shape as [number, number];
          const h = w.shape[1]!;
          const [dx, dw] = grad(matmul(x, w), [x, w], { gradOutput: dy });
          const refDx = new Float64Array(n * d);
          gemm(false, true, n, d, h, dy.data, w.data, refDx);
          const refDw = new Float64Array(d * h);
          gemm(true, false, d, h, n, x.data, dy.data, refDw);
          close(dx!, tensor(refDx, { shape: [n, d], dtype: "float64" }));
          close(dw!, tensor(refDw, { shape: [d, h], dtype: "float64" }));
          // the same against the definition, element by element
          for (let i = 0; i < n; i++)
            for (let k = 0; k < d; k++) {
              let s = 0;
              for (let j = 0; j < h; j++) s += dy.data[i * h + j]! * w.data[k * h + j]!;
              expect(dx!.data[i * d + k]).toBeCloseTo(s, 12);
            }
        },
      ),
    );
  });
});
