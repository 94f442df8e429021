/** Reductions (mean, max, logSumExp), softmax, losses and batched matmul. */
import { grad, setKernelBackend, type Tensor, tensor, zeros } from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { describe, expect, it } from "vitest";
import {
  logSoftmax,
  logSoftmaxOp,
  logSumExp,
  logSumExpOp,
  matmul,
  matmulOp,
  max,
  maxOp,
  mean,
  meanSquaredError,
  softmax,
  softmaxCrossEntropy,
  softmaxCrossEntropyOp,
  softmaxOp,
} from "../src/index.js";

const f64 = { dtype: "float64" as const };
const near = (t: Tensor, expected: number[] | number[][] | number, tol = 1e-12) => {
  const flat = [expected].flat(3) as number[];
  expect(t.size).toBe(flat.length);
  flat.forEach((v, i) => {
    expect(Math.abs(t.data[i]! - v)).toBeLessThanOrEqual(tol);
  });
};

describe.each([
  ["max", maxOp],
  ["logSumExp", logSumExpOp],
  ["softmax", softmaxOp],
  ["logSoftmax", logSoftmaxOp],
  ["softmaxCrossEntropy", softmaxCrossEntropyOp],
  ["matmul (batched, 1-D via reshape)", matmulOp],
] as const)("checkOp(%s)", (_name, op) => {
  it("float64, float32 and second order", () => {
    expect(checkOp(op as never, { numRuns: 40 }).cases).toBe(40);
    expect(checkOp(op as never, { numRuns: 15, dtype: "float32" }).cases).toBe(15);
    expect(checkOp(op as never, { numRuns: 15, secondOrder: true }).cases).toBe(15);
  });
});

describe("reductions", () => {
  const x = tensor(
    [
      [1, 5, 3],
      [4, 2, 6],
    ],
    f64,
  );

  it("mean over axes, with keepdims, like numpy", () => {
    near(mean(x), 3.5);
    near(mean(x, { axis: 0 }), [2.5, 3.5, 4.5]);
    near(mean(x, { axis: -1, keepdims: true }), [[3], [4]]);
    expect(mean(x, { axis: -1, keepdims: true }).shape).toEqual([2, 1]);
    expect(Number.isNaN(mean(zeros([0])).item())).toBe(true);
  });

  it("max and its gradient, split evenly among tied maxima (PyTorch's rule for amax and a full max)", () => {
    near(max(x), 6);
    near(max(x, { axis: 1 }), [5, 6]);
    // the full reduction: [1, 3, 7, 7] with dy = −1 gives [0, 0, −0.5, −0.5]
    const v = tensor([1, 3, 7, 7], { ...f64, requiresGrad: true });
    near(grad(max(v), [v], { gradOutput: -1 })[0]!, [0, 0, -0.5, -0.5]);
    max(v).backward(-1);
    near(v.grad!, [0, 0, -0.5, -0.5]);
    // per axis, the same rule for each reduction: two ties share, three share in thirds
    const t = tensor([[2, 7, 7, 1]], { ...f64, requiresGrad: true });
    const [g] = grad(max(t, { axis: 1 }), [t], { gradOutput: tensor([3], f64) });
    near(g!, [[0, 1.5, 1.5, 0]]);
    const u = tensor(
      [
        [4, 4, 4],
        [1, 9, 2],
      ],
      { ...f64, requiresGrad: true },
    );
    near(grad(max(u, { axis: 1 }), [u], { gradOutput: tensor([3, 1], f64) })[0]!, [
      [1, 1, 1],
      [0, 1, 0],
    ]);
    near(grad(max(u, { axis: 0, keepdims: true }), [u], { gradOutput: tensor([[1, 1, 1]], f64) })[0]!, [
      [1, 0, 1],
      [0, 1, 0],
    ]);
    // and the same numbers through a recorded backward (second order sees the same mask)
    const [gc] = grad(max(v), [v], { gradOutput: -1, createGraph: true });
    near(gc!, [0, 0, -0.5, -0.5]);
    expect(() => max(zeros([2, 0]), { axis: 1 })).toThrow(
      /max: cannot take the maximum over an empty axis: x has shape \[2, 0\]/,
    );
    expect(() => max(zeros([0, 3]), { axis: 0 })).toThrow(/max: cannot take the maximum over an empty axis/);
    expect(max(zeros([3, 0]), { axis: 0 }).shape).toEqual([0]);
  });

  it("logSumExp is stable and its gradient is the softmax", () => {
    const big = tensor([1000, 1000], { ...f64, requiresGrad: true });
    near(logSumExp(big), 1000 + Math.log(2), 1e-9);
    const [g] = grad(logSumExp(big), [big]);
    near(g!, [0.5, 0.5]);
    expect(logSumExp(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], f64)).item()).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });
});

describe("softmax", () => {
  it("rows sum to one, large scores do not overflow, any axis", () => {
    const s = softmax(tensor([[1000, 1001, 1002]], f64));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0]! + e[1]! + e[2]!;
    near(s, [e.map((v) => v / z)]);
    const s0 = softmax(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        f64,
      ),
      0,
    );
    near(s0, [
      [1 / (1 + Math.E ** 2), 1 / (1 + Math.E ** 2)],
      [Math.E ** 2 / (1 + Math.E ** 2), Math.E ** 2 / (1 + Math.E ** 2)],
    ]);
    near(logSoftmax(tensor([0, -2000], f64)), [0, -2000]);
    expect(() => softmax(tensor(1))).toThrow(/softmax: axis -1 is out of range for a tensor of rank 0/);
  });
});

describe("softmax family with infinities (PyTorch's values)", () => {
  const NaN_ = Number.NaN;
  const inf = Number.POSITIVE_INFINITY;
  /** Same values, NaN equal to NaN. */
  const same = (t: Tensor, expected: number[]) => expect(Array.from(t.data)).toEqual(expected);
  it("a row holding +Infinity is NaN throughout; −Infinity entries are 0 (log −Infinity); lse +Infinity", () => {
    for (const backend of ["js", "wasm"] as const) {
      setKernelBackend(backend);
      try {
        for (const dtype of ["float32", "float64"] as const) {
          // torch.softmax(torch.tensor([[inf, 0, 1], [0, -inf, 0], [-inf, -inf, -inf]]), -1)
          const x = tensor(
            [
              [inf, 0, 1],
              [0, -inf, 0],
              [-inf, -inf, -inf],
            ],
            { dtype },
          );
          const r = dtype === "float32" ? Math.fround : (v: number) => v;
          const e1 = Math.E / (1 + Math.E);
          same(softmax(x), [NaN_, NaN_, NaN_, 0.5, 0, 0.5, NaN_, NaN_, NaN_]);
          same(logSoftmax(x), [NaN_, NaN_, NaN_, r(-Math.LN2), -inf, r(-Math.LN2), NaN_, NaN_, NaN_]);
          same(logSumExp(x, { axis: -1 }), [inf, r(Math.LN2), -inf]);
          // along axis 0: the column holding +Infinity is NaN; −Infinity alone gives 0
          same(softmax(x, 0), [NaN_, 1, r(e1), NaN_, 0, r(1 - e1), NaN_, 0, 0]);
          // long rows (the WASM kernel's sizes): the row with +Infinity only
          const long = Array.from({ length: 80 }, (_, i) => (i === 37 ? inf : i / 80));
          const y = softmax(tensor([long, long.map((v) => (v === inf ? 0 : v))], { dtype }));
          expect(y.data.slice(0, 80).every(Number.isNaN)).toBe(true);
          expect(y.data.slice(80).some(Number.isNaN)).toBe(false);
          // cross-entropy: NaN for the row, so the mean (torch.nn.functional.cross_entropy)
          const s = tensor(
            [
              [inf, 0],
              [1, 2],
            ],
            { dtype },
          );
          expect(softmaxCrossEntropy(s, [1, 0]).item()).toBeNaN();
          expect(softmaxCrossEntropy(s, [0, 0]).item()).toBeNaN();
          const none = softmaxCrossEntropy(s, [1, 0], { reduction: "none" });
          expect(none.data[0]).toBeNaN();
          expect(none.data[1]).toBeCloseTo(Math.log(1 + Math.E), 5);
          // an ignored row stays out of it, as with PyTorch's ignore_index
          expect(softmaxCrossEntropy(s, [-100, 0], { ignoreIndex: -100 }).item()).toBeCloseTo(Math.log(1 + Math.E), 5);
          expect(
            softmaxCrossEntropy(
              s,
              tensor(
                [
                  [0, 1],
                  [1, 0],
                ],
                { dtype },
              ),
              { labelSmoothing: 0.1 },
            ).item(),
          ).toBeNaN();
        }
      } finally {
        setKernelBackend("auto");
      }
    }
  });
});

describe("softmaxCrossEntropy", () => {
  const scores = tensor(
    [
      [0.2, 1.5, -0.3],
      [2.0, -1.0, 0.1],
    ],
    { ...f64, requiresGrad: true },
  );

  it("class indices and one-hot give the same loss; backward is (y - t)/N, as in the seed", () => {
    const byIndex = softmaxCrossEntropy(scores, [1, 0]);
    const oneHot = tensor(
      [
        [0, 1, 0],
        [1, 0, 0],
      ],
      f64,
    );
    const byOneHot = softmaxCrossEntropy(scores, oneHot);
    near(byIndex, byOneHot.item());
    const y = softmax(scores).data;
    const ref = -(Math.log(y[1]!) + Math.log(y[3]!)) / 2;
    near(byIndex, ref, 1e-12);
    const [g] = grad(byIndex, [scores]);
    near(
      g!,
      Array.from(y, (v, i) => (v - oneHot.data[i]!) / 2),
    );
    near(softmaxCrossEntropy(scores, new Int32Array([1, 0])), byIndex.item());
    near(softmaxCrossEntropy(scores, tensor([1, 0])), byIndex.item());
  });

  it("is stable for huge scores", () => {
    const s = tensor([[1e4, 0, -1e4]], f64);
    near(softmaxCrossEntropy(s, [0]), 0);
    near(softmaxCrossEntropy(s, [2]), 2e4, 1e-6);
  });

  it("names bad labels", () => {
    expect(() => softmaxCrossEntropy(scores, [1, 3])).toThrow(
      /softmaxCrossEntropy: label 1 is 3; class indices must be integers in \[0, 3\)/,
    );
    expect(() => softmaxCrossEntropy(scores, [1])).toThrow(
      /softmaxCrossEntropy: 1 class indices for 2 rows of scores of shape \[2, 3\]/,
    );
    expect(() => softmaxCrossEntropy(scores, zeros([3, 3]))).toThrow(
      /labels of shape \[3, 3\] fit neither scores \[2, 3\]/,
    );
    expect(() => softmaxCrossEntropy(scores, "x" as never)).toThrow(
      /labels must be a Tensor, an array or an Int32Array/,
    );
  });
});

describe("meanSquaredError", () => {
  it("is mean((p - t)²) with gradient 2(p - t)/n", () => {
    const p = tensor([1, 2, 4], { ...f64, requiresGrad: true });
    const t = tensor([1, 0, 1], f64);
    near(meanSquaredError(p, t), (0 + 4 + 9) / 3);
    const [g] = grad(meanSquaredError(p, t), [p]);
    near(g!, [0, 4 / 3, 2]);
    expect(() => meanSquaredError(p, zeros([2]))).toThrow(
      /meanSquaredError: prediction of shape \[3\] and target of shape \[2\] differ/,
    );
  });
});

describe("matmul, numpy semantics", () => {
  it("batched with broadcast batch dimensions", () => {
    const a = tensor([[[1, 2]], [[3, 4]]], f64); // [2, 1, 2]
    const b = tensor([[1], [1]], f64); // [2, 1]
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 1, 1]);
    near(c, [3, 7]);
    const w = tensor(
      [
        [
          [1, 0],
          [0, 1],
        ],
      ],
      { ...f64, requiresGrad: true },
    ); // [1, 2, 2] broadcast over 2
    const [gw] = grad(matmul(a, w), [w], { gradOutput: tensor([[[1, 1]], [[1, 1]]], f64) });
    expect(gw!.shape).toEqual([1, 2, 2]);
    near(gw!, [
      [4, 4],
      [6, 6],
    ]);
  });

  it("1-D operands: vector·matrix, matrix·vector, dot product", () => {
    const v = tensor([1, 2], { ...f64, requiresGrad: true });
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      f64,
    );
    expect(matmul(v, m).shape).toEqual([3]);
    near(matmul(v, m), [9, 12, 15]);
    near(matmul(tensor([[1, 1]], f64), v), [3]);
    const d = matmul(v, v);
    expect(d.shape).toEqual([]);
    near(d, 5);
    const [g] = grad(d, [v]);
    near(g!, [2, 4]);
  });
});
