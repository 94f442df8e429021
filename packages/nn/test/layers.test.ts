/**
 * Autodiff-derived layer gradients equal the book's hand-written ones (reference.ts), on random
 * inputs, to 1e-12 in float64.
 */
import { type Tensor, tensor } from "@gradgraph/core";
import { tensorArb } from "@gradgraph/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Affine, Dropout, MatMul, ReLU, Sigmoid, SoftmaxWithLoss, Tanh, TwoLayerNet } from "../src/index.js";
import { type Mat, RefAffine, RefMatMul, RefSigmoid, RefSoftmaxWithLoss, RefTwoLayerNet } from "./reference.js";

const f64 = { dtype: "float64" as const };
const dims = fc.integer({ min: 1, max: 6 });
const mat = (t: Tensor): Mat => ({ data: t.data.slice(), rows: t.shape[0]!, cols: t.shape[1] ?? t.size });
const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i]!;
    expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
};
/** x requires grad so that backward returns dx. */
const input = (t: Tensor) => tensor(t.data, { shape: [...t.shape], ...f64, requiresGrad: true });

describe("layers: autodiff backward equals the book's backward", () => {
  it("MatMul", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, dims, dims)
          .chain(([n, d, h]) => fc.tuple(tensorArb([n, d]), tensorArb([d, h]), tensorArb([n, h]))),
        ([x, W, dout]) => {
          const layer = new MatMul(W.clone());
          const ref = new RefMatMul(mat(W));
          close(layer.forward(input(x)).data, ref.forward(mat(x)).data);
          const dx = layer.backward(dout)!;
          const rdx = ref.backward(mat(dout));
          close(dx.data, rdx.data);
          close(layer.grads[0]!.data, ref.grads[0]!.data);
        },
      ),
    );
  });

  it("Affine", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, dims, dims)
          .chain(([n, d, h]) => fc.tuple(tensorArb([n, d]), tensorArb([d, h]), tensorArb([h]), tensorArb([n, h]))),
        ([x, W, b, dout]) => {
          const layer = new Affine(W.clone(), b.clone());
          const ref = new RefAffine(mat(W), { data: b.data.slice(), rows: 1, cols: b.size });
          close(layer.forward(input(x)).data, ref.forward(mat(x)).data);
          const gradsBefore = layer.grads.map((g) => g.data);
          close(layer.backward(dout)!.data, ref.backward(mat(dout)).data);
          close(layer.grads[0]!.data, ref.grads[0]!.data);
          close(layer.grads[1]!.data, ref.grads[1]!.data);
          // written into the existing grads, not re-assigned
          layer.grads.forEach((g, i) => {
            expect(g.data).toBe(gradsBefore[i]);
          });
        },
      ),
    );
  });

  it("Sigmoid", () => {
    fc.assert(
      fc.property(
        fc.tuple(dims, dims).chain(([n, d]) => fc.tuple(tensorArb([n, d], { min: -6, max: 6 }), tensorArb([n, d]))),
        ([x, dout]) => {
          const layer = new Sigmoid();
          const ref = new RefSigmoid();
          close(layer.forward(input(x)).data, ref.forward(mat(x)).data);
          close(layer.backward(dout)!.data, ref.backward(mat(dout)).data);
        },
      ),
    );
  });

  it("SoftmaxWithLoss, labels as indices or one-hot", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, fc.integer({ min: 2, max: 5 }))
          .chain(([n, c]) =>
            fc.tuple(
              tensorArb([n, c], { min: -5, max: 5 }),
              fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
            ),
          ),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        ([x, labels], dout) => {
          const ref = new RefSoftmaxWithLoss();
          const refLoss = ref.forward(mat(x), Int32Array.from(labels));
          const rdx = ref.backward(dout);
          for (const t of [labels, oneHot(labels, x.shape[1]!)]) {
            const layer = new SoftmaxWithLoss();
            const loss = layer.forward(input(x), t);
            close([loss.item()], [refLoss]);
            close(layer.backward(tensor(dout, f64))!.data, rdx.data);
          }
        },
      ),
    );
  });

  it("TwoLayerNet: the whole model's gradients equal the hand-written net's", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, dims, dims, fc.integer({ min: 2, max: 4 }))
          .chain(([n, d, h, c]) =>
            fc.tuple(
              tensorArb([n, d]),
              tensorArb([d, h]),
              tensorArb([h]),
              tensorArb([h, c]),
              tensorArb([c]),
              fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
            ),
          ),
        ([x, W1, b1, W2, b2, labels]) => {
          const [, d] = x.shape as [number, number];
          const net = new TwoLayerNet(d, W1.shape[1]!, W2.shape[1]!, { dtype: "float64", init: { W1, b1, W2, b2 } });
          const ref = new RefTwoLayerNet(mat(W1), { data: b1.data.slice(), rows: 1, cols: b1.size }, mat(W2), {
            data: b2.data.slice(),
            rows: 1,
            cols: b2.size,
          });
          close([net.forward(x, labels).item()], [ref.forward(mat(x), Int32Array.from(labels))]);
          net.backward();
          ref.backward();
          net.grads.forEach((g, i) => {
            close(g.data, ref.grads[i]!.data);
          });
          // a second step accumulates nothing stale: grads are zeroed before each backward
          net.forward(x, labels);
          net.backward();
          net.grads.forEach((g, i) => {
            close(g.data, ref.grads[i]!.data);
          });
        },
      ),
    );
  });
});

function oneHot(labels: number[], c: number): Tensor {
  const d = new Float64Array(labels.length * c);
  labels.forEach((k, i) => {
    d[i * c + k] = 1;
  });
  return tensor(d, { shape: [labels.length, c], ...f64 });
}

describe("other layers", () => {
  it("ReLU and Tanh backward", () => {
    const x = tensor([[-1, 0.5, 2]], { ...f64, requiresGrad: true });
    const r = new ReLU();
    r.forward(x);
    expect(Array.from(r.backward(tensor([[1, 1, 1]], f64))!.data)).toEqual([0, 1, 1]);
    const t = new Tanh();
    const y = t.forward(x);
    const dx = t.backward(tensor([[1, 1, 1]], f64))!;
    close(
      dx.data,
      Array.from(y.data, (v) => 1 - v * v),
    );
  });

  it("Dropout: seeded masks, inverted scaling, identity in evaluation", () => {
    const x = tensor(new Float64Array(1000).fill(1), { shape: [10, 100], ...f64, requiresGrad: true });
    const a = new Dropout({ ratio: 0.3, seed: 5 }).forward(x);
    const b = new Dropout({ ratio: 0.3, seed: 5 }).forward(x);
    expect(a.data).toEqual(b.data);
    const kept = Array.from(a.data).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-12)).toBe(true);
    expect(kept.length / 1000).toBeGreaterThan(0.62);
    expect(kept.length / 1000).toBeLessThan(0.78);
    const d = new Dropout({ ratio: 0.3, seed: 5 });
    d.train = false;
    expect(Array.from(d.forward(x).data)).toEqual(Array.from(x.data));
    expect(() => new Dropout({ ratio: 1 })).toThrow(/Dropout: ratio must be a number in \[0, 1\), got number 1/);
  });

  it("errors name the layer", () => {
    expect(() => new Sigmoid().backward()).toThrow(/Sigmoid.backward: call forward first/);
    expect(() => new Affine(tensor([1, 2]), tensor([1]))).toThrow(/Affine: W must be 2-D, got shape \[2\]/);
    expect(() => new Affine(tensor([[1, 2]]), tensor([1]))).toThrow(
      /Affine: b of shape \[1\] does not match W of shape \[1, 2\]/,
    );
    expect(() => new MatMul(tensor([[1]])).forward("x" as never)).toThrow(
      /MatMul.forward: x must be a Tensor, got string "x"/,
    );
    expect(() => new TwoLayerNet(2, 0, 3)).toThrow(/TwoLayerNet: hiddenSize must be a positive integer, got number 0/);
  });
});

describe("SoftmaxWithLoss's options: PyTorch's CrossEntropyLoss", () => {
  const S = [
    [0.2, 1.5, -0.3],
    [2.0, -1.0, 0.1],
    [-0.5, 0.3, 0.8],
    [1.0, 1.0, -2.0],
  ];

  it("gives PyTorch's loss and gradient (torch 2.14.1, float64)", () => {
    // nn.CrossEntropyLoss(weight=[0.5, 2, 1.5], label_smoothing=0.1)(S, [1, 0, 2, 1])
    const layer = new SoftmaxWithLoss({ weights: [0.5, 2, 1.5], labelSmoothing: 0.1 });
    const x = tensor(S, { ...f64, requiresGrad: true });
    close([layer.forward(x, [1, 0, 2, 1]).item()], [0.6238398207834103]);
    close(
      Array.from(layer.backward()!.data).slice(0, 3),
      [0.058297424693865355, -0.08700807420774033, 0.028710649513875034],
    );
    // ignore_index=0, weight, label_smoothing=0.3, reduction="sum"
    const summed = new SoftmaxWithLoss({
      weights: tensor([0.5, 2, 1.5]),
      ignoreIndex: 0,
      labelSmoothing: 0.3,
      reduction: "sum",
    });
    close([summed.forward(tensor(S, f64), [1, 0, 2, 1]).item()], [3.8101893528652697]);
    // ignore_index 255 (outside the classes), as a Trainer can use it: the mean over the rows left
    const ignored = new SoftmaxWithLoss({ ignoreIndex: 255 });
    close([ignored.forward(tensor(S, f64), [1, 255, 2, 1]).item()], [0.5705481273799679]);
  });

  it("without options, or with none given, is the seed's loss through the same op", () => {
    for (const layer of [new SoftmaxWithLoss(), new SoftmaxWithLoss({}), new SoftmaxWithLoss(null as never)]) {
      const loss = layer.forward(tensor(S, f64), [1, 0, 2, 1]);
      expect(loss.creator?.attrs).toBeUndefined();
      close([loss.item()], [0.47335721693225424]);
    }
  });

  it("names itself and the option for bad options, and forward for weights that do not fit x", () => {
    const make = (o: unknown) => () => new SoftmaxWithLoss(o as never);
    expect(make({ reduction: "none" })).toThrow(
      /^SoftmaxWithLoss: reduction must be "mean" or "sum" \(a loss layer returns one number\), got string "none"/,
    );
    expect(make({ labelSmoothing: 2 })).toThrow(
      /^SoftmaxWithLoss: labelSmoothing must be a number in \[0, 1\], got number 2/,
    );
    expect(make({ ignoreIndex: 0.5 })).toThrow(/^SoftmaxWithLoss: ignoreIndex must be an integer, got number 0.5/);
    expect(make({ weights: [1, Number.NaN] })).toThrow(
      /^SoftmaxWithLoss: weights\[1\] is number NaN; weights must be finite numbers/,
    );
    expect(make({ weights: tensor([[1, 2]]) })).toThrow(/^SoftmaxWithLoss: weights of shape \[1, 2\] must be 1-D/);
    expect(make({ weight: [1] })).toThrow(/^SoftmaxWithLoss: unknown option "weight"/);
    expect(make(5)).toThrow(/^SoftmaxWithLoss: options must be an object/);
    const layer = new SoftmaxWithLoss({ weights: [1, 2], ignoreIndex: 1 });
    expect(() => layer.forward(tensor(S, f64), [1, 0, 2, 1])).toThrow(
      /^SoftmaxWithLoss\.forward: the layer's 2 weights do not fit the 3 classes of x of shape \[4, 3\]/,
    );
    expect(() => new SoftmaxWithLoss({ ignoreIndex: -100 }).forward(tensor(S, f64), [1, 3, 2, 1])).toThrow(
      /^SoftmaxWithLoss\.forward: t\[1\] is number 3; class indices must be integers in \[0, 3\) or ignoreIndex \(-100\)/,
    );
    expect(() => new SoftmaxWithLoss({ ignoreIndex: 1 }).forward(tensor(S, f64), tensor(S, f64))).toThrow(
      /^SoftmaxWithLoss\.forward: the layer's ignoreIndex 1 applies to class indices only/,
    );
  });
});
