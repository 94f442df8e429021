/**
 * softmaxCrossEntropy's options (issue 15, item 7): PyTorch's `cross_entropy` weight, reduction,
 * label_smoothing and ignore_index. Values against PyTorch's own (literal numbers from
 * torch 2.14.1 in float64) and against an independent plain-JS transcription of PyTorch's
 * formulas over random inputs; gradients by gradcheck and gradgradcheck; the messages of bad
 * options. (checkOp of both ops, with the options drawn, and their 1%-wrong twins are in
 * ops.test.ts; fusedBackward against backward in fused.test.ts; ONNX in packages/onnx.)
 */
import { ArgumentError, grad, gradcheck, gradgradcheck, ShapeError, type Tensor, tensor } from "@gradgraph/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CrossEntropyReduction,
  type SoftmaxCrossEntropyOptions,
  softmaxCrossEntropy,
  softmaxCrossEntropyIndicesOp,
  softmaxCrossEntropyOp,
  sum,
} from "../src/index.js";

const f64 = { dtype: "float64" as const };

/** |a − b| ≤ tol elementwise, and the same number of elements; NaN only where NaN is expected. */
function near(actual: Tensor | readonly number[], expected: number | readonly number[], tol = 1e-12): void {
  const a = Array.from("data" in actual ? actual.data : actual);
  const e = typeof expected === "number" ? [expected] : [...expected];
  expect(a.length).toBe(e.length);
  e.forEach((v, i) => {
    if (Number.isNaN(v)) expect(a[i]).toBeNaN();
    else expect(Math.abs(a[i]! - v), `element ${i}: ${a[i]} vs ${v}`).toBeLessThanOrEqual(tol);
  });
}

// ---------------------------------------------------------------------------------------------
// PyTorch's values

// F.cross_entropy(S, target, ...) in torch 2.14.1, float64, and S's gradient of the loss (of its
// sum for reduction "none")
const S = [
  [0.2, 1.5, -0.3],
  [2.0, -1.0, 0.1],
  [-0.5, 0.3, 0.8],
  [1.0, 1.0, -2.0],
];
const Y = [1, 0, 2, 1];
const W = [0.5, 2.0, 1.5];
const P = [
  [0.1, 0.7, 0.2],
  [1.0, 0.0, 0.0],
  [0.25, 0.25, 0.5],
  [0.0, 0.4, 0.6],
];

interface TorchCase {
  readonly what: string;
  readonly target: "Y" | "P" | readonly number[];
  readonly options: SoftmaxCrossEntropyOptions;
  readonly loss: number | readonly number[];
  /** The first row of the gradient. */
  readonly grad0: readonly number[];
}

const TORCH: readonly TorchCase[] = [
  {
    what: "defaults",
    target: "Y",
    options: {},
    loss: 0.47335721693225424,
    grad0: [0.04738593295213691, -0.0761269541266951, 0.028741021174558214],
  },
  {
    what: "weight, mean (÷ Σ w[y] = 6)",
    target: "Y",
    options: { weights: W },
    loss: 0.5331324214203567,
    grad0: [0.06318124393618255, -0.10150260550226012, 0.038321361566077614],
  },
  {
    what: "weight, sum",
    target: "Y",
    options: { weights: W, reduction: "sum" },
    loss: 3.19879452852214,
    grad0: [0.3790874636170953, -0.6090156330135608, 0.2299281693964657],
  },
  {
    what: "weight, none",
    target: "Y",
    options: { weights: W, reduction: "none" },
    loss: [0.726271012737507, 0.09089224279455668, 0.9461594356566712, 1.4354718373334052],
    grad0: [0.3790874636170953, -0.6090156330135608, 0.2299281693964657],
  },
  {
    what: "label_smoothing 0.1",
    target: "Y",
    options: { labelSmoothing: 0.1 },
    loss: 0.5800238835989209,
    grad0: [0.03905259961880358, -0.05946028746002843, 0.020407687841224882],
  },
  {
    what: "weight, label_smoothing 0.1, mean",
    target: "Y",
    options: { weights: W, labelSmoothing: 0.1 },
    loss: 0.6238398207834103,
    grad0: [0.058297424693865355, -0.08700807420774033, 0.028710649513875034],
  },
  {
    what: "weight, label_smoothing 0.1, none",
    target: "Y",
    options: { weights: W, labelSmoothing: 0.1, reduction: "none" },
    loss: [0.8137286456462568, 0.40104094992698286, 0.9906465530382638, 1.5376227760889585],
    grad0: [0.3497845481631921, -0.5220484452464421, 0.17226389708325018],
  },
  {
    what: "ignore_index -100 (PyTorch's default), mean over the 3 rows left",
    target: [1, -100, 2, 1],
    options: { ignoreIndex: -100 },
    loss: 0.5705481273799679,
    grad0: [0.06318124393618255, -0.10150260550226012, 0.038321361566077614],
  },
  {
    what: "ignore_index -100, weight, label_smoothing 0.2",
    target: [1, -100, 2, 1],
    options: { ignoreIndex: -100, weights: W, labelSmoothing: 0.2 },
    loss: 0.650198847967159,
    grad0: [0.05826938776532526, -0.07910568317805881, 0.020836295412733578],
  },
  {
    what: "ignore_index 0 (a class), weight",
    target: "Y",
    options: { ignoreIndex: 0, weights: W },
    loss: 0.5650731428595607,
    grad0: [0.06892499338492641, -0.11073011509337469, 0.041805121708448315],
  },
  {
    what: "ignore_index 0, weight, label_smoothing 0.3, sum",
    target: "Y",
    options: { ignoreIndex: 0, weights: W, labelSmoothing: 0.3, reduction: "sum" },
    loss: 3.8101893528652697,
    grad0: [0.29117871725538574, -0.34811406971220465, 0.056935352456819126],
  },
  {
    what: "ignore_index 0, none",
    target: "Y",
    options: { ignoreIndex: 0, reduction: "none" },
    loss: [0.3631355063687535, 0.0, 0.6307729571044475, 0.7177359186667026],
    grad0: [0.18954373180854764, -0.3045078165067804, 0.11496408469823285],
  },
  {
    what: "label_smoothing 1 with weight",
    target: "Y",
    options: { weights: W, labelSmoothing: 1 },
    loss: 1.4402064150508926,
    grad0: [0.014343051513010586, 0.04344270744293769, -0.05778575895594825],
  },
  {
    what: "every row ignored: mean NaN (its gradient 0)",
    target: [-100, -100, -100, -100],
    options: { ignoreIndex: -100 },
    loss: Number.NaN,
    grad0: [0, 0, 0],
  },
  {
    what: "every row ignored: sum 0",
    target: [-100, -100, -100, -100],
    options: { ignoreIndex: -100, reduction: "sum" },
    loss: 0,
    grad0: [0, 0, 0],
  },
  {
    what: "probabilities, weight (mean ÷ N)",
    target: "P",
    options: { weights: W },
    loss: 1.6328358141729713,
    grad0: [0.07042538266623959, -0.045722169721716395, -0.024703212944523135],
  },
  {
    what: "probabilities, weight, label_smoothing 0.1",
    target: "P",
    options: { weights: W, labelSmoothing: 0.1 },
    loss: 1.6855831950133082,
    grad0: [0.06553430212656723, -0.03463354663310409, -0.03090075549346305],
  },
  {
    what: "probabilities, weight, label_smoothing 0.1, none",
    target: "P",
    options: { weights: W, labelSmoothing: 0.1, reduction: "none" },
    loss: [1.2765231567132873, 0.4010409499269828, 1.2909345953640137, 3.773834078048949],
    grad0: [0.2621372085062689, -0.13853418653241636, -0.1236030219738522],
  },
  {
    what: "probabilities, label_smoothing 0.25, sum",
    target: "P",
    options: { labelSmoothing: 0.25, reduction: "sum" },
    loss: 5.015095534395684,
    grad0: [0.031210398475214313, 0.08715885015988634, -0.11836924863510048],
  },
  {
    what: "probabilities, a negative ignore_index has no effect",
    target: "P",
    options: { weights: W, ignoreIndex: -100 },
    loss: 1.6328358141729713,
    grad0: [0.07042538266623959, -0.045722169721716395, -0.024703212944523135],
  },
];

describe("softmaxCrossEntropy's options give PyTorch's cross_entropy", () => {
  it.each(TORCH)("$what", ({ target, options, loss, grad0 }) => {
    const s = tensor(S, { ...f64, requiresGrad: true });
    const labels = target === "Y" ? Y : target === "P" ? tensor(P, f64) : [...target];
    const out = softmaxCrossEntropy(s, labels, options);
    expect(out.shape).toEqual(options.reduction === "none" ? [4] : []);
    near(out, loss);
    const [g] = grad(out.size === 1 ? out : sum(out), [s]);
    near(Array.from(g!.data).slice(0, 3), grad0);
  });

  it("scores of rank 3 (PyTorch's (N, C, d) with the classes moved last)", () => {
    // F.cross_entropy(S3, [[2, 0]], weight=W, label_smoothing=0.1), S3 of shape (1, 3, 2)
    const s = tensor(
      [
        [
          [0.1, 0.9, -1.2],
          [-0.4, 0.3, 0.5],
        ],
      ],
      f64,
    );
    const options = { weights: W, labelSmoothing: 0.1 };
    near(
      softmaxCrossEntropy(s, tensor([[2, 0]]), { ...options, reduction: "none" }),
      [3.6241147126611795, 0.8999369553757841],
    );
    expect(softmaxCrossEntropy(s, [2, 0], { ...options, reduction: "none" }).shape).toEqual([1, 2]);
    near(softmaxCrossEntropy(s, [2, 0], options), 2.2620258340184822);
  });

  it("scores of rank 1: one row, reduction none gives a 0-d loss", () => {
    const s = tensor([0.2, 1.5, -0.3], f64);
    const none = softmaxCrossEntropy(s, [1], { weights: W, reduction: "none" });
    expect(none.shape).toEqual([]);
    near(none, 0.726271012737507);
    // the mean divides by w[1] = 2: the unweighted loss
    near(softmaxCrossEntropy(s, [1], { weights: W }), 0.726271012737507 / 2);
  });
});

// ---------------------------------------------------------------------------------------------
// An independent transcription of PyTorch's formulas

interface RefOptions {
  weights?: number[];
  reduction?: CrossEntropyReduction;
  labelSmoothing?: number;
  ignoreIndex?: number;
}

/**
 * PyTorch's cross_entropy over rows (classes last), as its source composes it: for class indices
 * `(1 − ε)·nll_loss(weight, ignore_index, reduction) + ε/C·smooth`, the smoothing term
 * `−Σ_c w_c·log p_c` per row, zeroed where ignored and reduced with nll's denominator; for
 * probabilities `−Σ_c w_c·((1 − ε)·t_c + ε/C)·log p_c` per row, the mean over N.
 */
function torchCrossEntropy(rows: number[][], target: number[] | number[][], o: RefOptions): number | number[] {
  const C = rows[0]!.length;
  const eps = o.labelSmoothing ?? 0;
  const w = o.weights ?? new Array<number>(C).fill(1);
  const reduction = o.reduction ?? "mean";
  const logp = rows.map((r) => {
    const m = Math.max(...r);
    const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
    return r.map((v) => v - lse);
  });
  const total = (xs: number[]) => xs.reduce((a, v) => a + v, 0);
  if (typeof target[0] === "number") {
    const y = target as number[];
    const kept = y.map((v) => v !== o.ignoreIndex);
    const nll = y.map((v, n) => (kept[n] ? -w[v]! * logp[n]![v]! : 0));
    const smooth = logp.map((lp, n) => (kept[n] ? -total(lp.map((v, c) => w[c]! * v)) : 0));
    if (reduction === "none") return nll.map((v, n) => (1 - eps) * v + (eps / C) * smooth[n]!);
    const weightSum = total(y.map((v, n) => (kept[n] ? w[v]! : 0)));
    const d = reduction === "mean" ? weightSum : 1;
    return (1 - eps) * (total(nll) / d) + (eps / C) * (total(smooth) / d);
  }
  const t = (target as number[][]).map((r) => r.map((v) => (1 - eps) * v + eps / C));
  const perRow = logp.map((lp, n) => -total(lp.map((v, c) => w[c]! * t[n]![c]! * v)));
  if (reduction === "none") return perRow;
  return reduction === "sum" ? total(perRow) : total(perRow) / rows.length;
}

/** A random case: scores [...batch, C], class indices or probabilities, and options. */
const caseArb = fc
  .record({
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    C: fc.integer({ min: 1, max: 5 }),
    probabilities: fc.boolean(),
    weighted: fc.boolean(),
    reduction: fc.constantFrom<CrossEntropyReduction | undefined>("mean", "sum", "none", undefined),
    labelSmoothing: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    ignore: fc.constantFrom<"none" | "negative" | "class">("none", "negative", "class"),
    seed: fc.nat(),
  })
  .map((c) => {
    let state = c.seed + 1;
    const rand = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const R = c.batch.reduce((a, d) => a * d, 1);
    const rows = Array.from({ length: R }, () => Array.from({ length: c.C }, () => 6 * rand() - 3));
    const ignoreIndex = c.ignore === "none" ? undefined : c.ignore === "negative" ? -100 : Math.floor(rand() * c.C);
    const indices = Array.from({ length: R }, () =>
      c.ignore === "negative" && rand() < 0.3 ? -100 : Math.floor(rand() * c.C),
    );
    const probs = rows.map((r) => r.map(() => rand()));
    const options: RefOptions = {
      ...(c.weighted ? { weights: Array.from({ length: c.C }, () => 0.25 + 2 * rand()) } : {}),
      ...(c.reduction === undefined ? {} : { reduction: c.reduction }),
      ...(c.labelSmoothing === undefined ? {} : { labelSmoothing: c.labelSmoothing }),
      // a negative ignoreIndex is allowed (and has no effect) with probabilities; one ≥ 0 is not
      ...(ignoreIndex === undefined || (c.probabilities && ignoreIndex >= 0) ? {} : { ignoreIndex }),
    };
    return { ...c, rows, indices, probs: c.probabilities ? probs : null, options };
  });

describe("softmaxCrossEntropy's options against PyTorch's formulas, random cases", () => {
  it("the transcription itself gives PyTorch's values of the table above", () => {
    for (const { target, options, loss } of TORCH) {
      const t = target === "Y" ? Y : target === "P" ? P : [...target];
      const o: RefOptions = { ...(options as RefOptions), weights: options.weights ? W : undefined };
      near(
        typeof loss === "number" ? [torchCrossEntropy(S, t, o) as number] : (torchCrossEntropy(S, t, o) as number[]),
        loss,
      );
    }
  });

  it("values (float64, 1e-12 relative) for every combination, class indices and probabilities", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const shape = [...c.batch, c.C];
        const s = tensor(c.rows.flat(), { ...f64, shape });
        const labels = c.probs ? tensor(c.probs.flat(), { ...f64, shape }) : c.indices;
        const out = softmaxCrossEntropy(s, labels, c.options);
        const expected = torchCrossEntropy(c.rows, c.probs ?? c.indices, c.options);
        expect(out.shape).toEqual(c.options.reduction === "none" ? c.batch : []);
        const e = typeof expected === "number" ? [expected] : expected;
        near(out, e, 1e-12 * Math.max(1, ...e.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0))));
      }),
      { numRuns: 300 },
    );
  });

  it("gradients of the scores (and of probability targets) by gradcheck, and second order", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const shape = [...c.batch, c.C];
        const s = tensor(c.rows.flat(), { ...f64, shape });
        const options = c.options as SoftmaxCrossEntropyOptions;
        if (c.probs) {
          const t = tensor(c.probs.flat(), { ...f64, shape });
          const f = (a: Tensor, b: Tensor) => softmaxCrossEntropy(a, b, options);
          expect(gradcheck(f, [s, t]).passed).toBe(true);
          expect(gradgradcheck(f, [s, t]).passed).toBe(true);
        } else {
          // a mean over no row is NaN
          if ((c.options.reduction ?? "mean") === "mean" && c.indices.every((y) => y === c.options.ignoreIndex)) return;
          const f = (a: Tensor) => softmaxCrossEntropy(a, c.indices, options);
          expect(gradcheck(f, [s]).passed).toBe(true);
          expect(gradgradcheck(f, [s]).passed).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("float32 agrees with float64 to float32 rounding", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const shape = [...c.batch, c.C];
        const call = (dtype: "float32" | "float64") =>
          softmaxCrossEntropy(
            tensor(c.rows.flat(), { dtype, shape }),
            c.probs ? tensor(c.probs.flat(), { dtype, shape }) : c.indices,
            c.options,
          );
        const single = call("float32");
        expect(single.dtype).toBe("float32");
        const double = Array.from(call("float64").data);
        near(single, double, 1e-5 * Math.max(1, ...double.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0))));
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Which op, the default path, constants

describe("softmaxCrossEntropy's paths", () => {
  const s = () => tensor(S, { ...f64, requiresGrad: true });

  it("no options, {} or the defaults spelt out: the seed's op without attributes (its fused backward), the same numbers", () => {
    const base = softmaxCrossEntropy(s(), Y);
    expect(base.creator?.opName).toBe("softmaxCrossEntropy");
    expect(base.creator?.attrs).toBeUndefined();
    for (const options of [{}, { reduction: "mean" }, { weights: null, labelSmoothing: 0 }] as const) {
      const y = softmaxCrossEntropy(s(), Y, options);
      expect(y.creator?.opName).toBe("softmaxCrossEntropy");
      expect(y.creator?.attrs).toBeUndefined();
      expect(y.item()).toBe(base.item());
    }
    // probabilities too; direct op calls with default attributes normalise to none
    expect(softmaxCrossEntropy(s(), tensor(P, f64), { reduction: "mean" }).creator?.attrs).toBeUndefined();
    expect(softmaxCrossEntropyOp([s(), tensor(P, f64)], { reduction: "mean" }).creator?.attrs).toBeUndefined();
  });

  it("class indices with options take softmaxCrossEntropyIndices; probabilities take softmaxCrossEntropy's attributes", () => {
    const y = softmaxCrossEntropy(s(), Y, { ignoreIndex: -100 });
    expect(y.creator?.opName).toBe("softmaxCrossEntropyIndices");
    expect(y.creator?.attrs).toEqual({
      labels: Y,
      reduction: "mean",
      weights: null,
      labelSmoothing: 0,
      ignoreIndex: -100,
    });
    const p = softmaxCrossEntropy(s(), tensor(P, f64), { weights: tensor(W), reduction: "sum" });
    expect(p.creator?.opName).toBe("softmaxCrossEntropy");
    expect(p.creator?.attrs).toEqual({ reduction: "sum", weights: W, labelSmoothing: 0 });
    // with no row ignored, the same loss as without ignoreIndex
    near(y, softmaxCrossEntropy(s(), Y).item());
  });

  it("copies the labels and weights: changing them after the call changes neither the loss's backward nor its value", () => {
    const labels = [1, 0, 2, 1];
    const weights = [...W];
    const a = s();
    const y = softmaxCrossEntropy(a, labels, { weights, labelSmoothing: 0.1 });
    labels[0] = 2;
    weights[1] = 100;
    const [g] = grad(y, [a]);
    near(y, 0.6238398207834103);
    near(Array.from(g!.data).slice(0, 3), [0.058297424693865355, -0.08700807420774033, 0.028710649513875034]);
  });

  it("weights are constants, as PyTorch's weight: a weights tensor that requires grad gets no gradient", () => {
    const w = tensor(W, { ...f64, requiresGrad: true });
    const a = s();
    softmaxCrossEntropy(a, Y, { weights: w }).backward();
    expect(w.grad).toBeNull();
    expect(a.grad).not.toBeNull();
  });

  it("probability targets that require grad get −(1 − ε)·w·log softmax(s)·g", () => {
    const t = tensor(P, { ...f64, requiresGrad: true });
    const a = s();
    const y = softmaxCrossEntropy(a, t, { weights: W, labelSmoothing: 0.1, reduction: "sum" });
    const [gt] = grad(y, [t]);
    const lp = S.map((r) => {
      const lse = Math.log(r.reduce((acc, v) => acc + Math.exp(v), 0));
      return r.map((v) => v - lse);
    });
    near(
      gt!,
      lp.flatMap((r) => r.map((v, c) => -0.9 * W[c]! * v)),
    );
  });

  it("the method form takes the options and is typed", () => {
    const a = s();
    const byMethod = a.softmaxCrossEntropy(Y, { weights: W, reduction: "none" });
    near(byMethod, [0.726271012737507, 0.09089224279455668, 0.9461594356566712, 1.4354718373334052]);
    expect(() => a.softmaxCrossEntropy(Y, { reduction: "avg" as "mean" })).toThrow(
      /softmaxCrossEntropy: reduction must be "mean", "sum" or "none", got "avg"/,
    );
  });

  it("the ops called directly check their attributes and name themselves", () => {
    const a = tensor(S, f64);
    expect(() => softmaxCrossEntropyIndicesOp([a], undefined as never)).toThrow(
      /softmaxCrossEntropyIndices: attrs must be an object like \{ labels, reduction, weights, labelSmoothing, ignoreIndex \}, got undefined/,
    );
    expect(() => softmaxCrossEntropyIndicesOp([a], { labels: [0, 1] })).toThrow(
      /softmaxCrossEntropyIndices: 2 class indices for 4 rows of scores of shape \[4, 3\]/,
    );
    expect(() => softmaxCrossEntropyIndicesOp([a], { labels: [0, 1, 2, 5] })).toThrow(
      /softmaxCrossEntropyIndices: label 3 is 5; class indices must be integers in \[0, 3\)/,
    );
    expect(() => softmaxCrossEntropyOp([a, a], { reduction: "all" as "sum" })).toThrow(
      /softmaxCrossEntropy: reduction must be "mean", "sum" or "none", got "all"/,
    );
    expect(() => softmaxCrossEntropyOp([a, a], { axis: 1 } as never)).toThrow(
      /softmaxCrossEntropy: unknown attribute "axis" in attrs \(valid: reduction, weights, labelSmoothing\)/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Errors

describe("softmaxCrossEntropy's bad options", () => {
  const s = tensor(S, f64);
  const bad =
    (options: unknown, labels: unknown = Y) =>
    () =>
      softmaxCrossEntropy(s, labels as number[], options as SoftmaxCrossEntropyOptions);

  it("an unknown key or a non-object", () => {
    expect(bad({ weight: W })).toThrow(ArgumentError);
    expect(bad({ weight: W })).toThrow(
      'softmaxCrossEntropy: unknown option "weight" in options (valid: weights, reduction, labelSmoothing, ignoreIndex)',
    );
    expect(bad(3)).toThrow(
      "softmaxCrossEntropy: options must be an object like { weights, reduction, labelSmoothing, ignoreIndex }, got number 3",
    );
    expect(bad(null)).toThrow(/softmaxCrossEntropy: options must be an object like .*, got null/);
    expect(bad([1])).toThrow(/softmaxCrossEntropy: options must be an object like .*, got array\(1\)/);
    expect(bad(tensor([1]))).toThrow(/softmaxCrossEntropy: options must be an object like/);
  });

  it("weights of the wrong length or shape, not finite, or not numbers", () => {
    expect(bad({ weights: [1, 2] })).toThrow(ShapeError);
    expect(bad({ weights: [1, 2] })).toThrow(
      "softmaxCrossEntropy: 2 weights for the 3 classes of scores of shape [4, 3]; weights must have one entry per class",
    );
    expect(bad({ weights: tensor([[1, 2, 3]]) })).toThrow(ShapeError);
    expect(bad({ weights: tensor([[1, 2, 3]]) })).toThrow(
      "softmaxCrossEntropy: weights of shape [1, 3] must have shape [3], one per class of scores of shape [4, 3]",
    );
    expect(bad({ weights: [1, Number.NaN, 3] })).toThrow(ArgumentError);
    expect(bad({ weights: [1, Number.NaN, 3] })).toThrow(
      "softmaxCrossEntropy: weights[1] is NaN; weights must be finite numbers",
    );
    expect(bad({ weights: tensor([1, 2, Number.POSITIVE_INFINITY]) })).toThrow(
      "softmaxCrossEntropy: weights[2] is Infinity; weights must be finite numbers",
    );
    expect(bad({ weights: [1, "2", 3] })).toThrow('softmaxCrossEntropy: weights[1] is string "2"');
    expect(bad({ weights: new Array(3) })).toThrow("softmaxCrossEntropy: weights[0] is undefined");
    expect(bad({ weights: "abc" })).toThrow(
      'softmaxCrossEntropy: weights must be a Tensor of shape [3] or an array of 3 numbers, got string "abc"',
    );
    expect(bad({ weights: [1, 2] }, tensor(P, f64))).toThrow(/2 weights for the 3 classes/);
  });

  it("a reduction other than the three", () => {
    for (const [v, shown] of [
      ["avg", '"avg"'],
      ["Mean", '"Mean"'],
      [1, "1"],
      [null, "null"],
    ] as const) {
      expect(bad({ reduction: v })).toThrow(ArgumentError);
      expect(bad({ reduction: v })).toThrow(
        `softmaxCrossEntropy: reduction must be "mean", "sum" or "none", got ${shown}`,
      );
    }
  });

  it("a labelSmoothing outside [0, 1], NaN or not a number", () => {
    for (const [v, shown] of [
      [1.5, "1.5"],
      [-0.1, "-0.1"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      ["0.1", 'string "0.1"'],
    ] as const) {
      expect(bad({ labelSmoothing: v })).toThrow(ArgumentError);
      expect(bad({ labelSmoothing: v })).toThrow(
        `softmaxCrossEntropy: labelSmoothing must be a number in [0, 1], got ${shown}`,
      );
    }
  });

  it("an ignoreIndex that is not an integer, or one ≥ 0 with probability targets", () => {
    for (const [v, shown] of [
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
      [2 ** 60, String(2 ** 60)],
      ["0", 'string "0"'],
    ] as const) {
      expect(bad({ ignoreIndex: v })).toThrow(ArgumentError);
      expect(bad({ ignoreIndex: v })).toThrow(`softmaxCrossEntropy: ignoreIndex must be an integer, got ${shown}`);
    }
    expect(bad({ ignoreIndex: 1 }, tensor(P, f64))).toThrow(ArgumentError);
    expect(bad({ ignoreIndex: 1 }, tensor(P, f64))).toThrow(
      "softmaxCrossEntropy: ignoreIndex 1 applies to class indices only, not to probability targets of shape [4, 3]",
    );
  });

  it("class indices neither in [0, C) nor ignoreIndex; ignoreIndex may be outside [0, C)", () => {
    expect(bad({ ignoreIndex: -100 }, [1, 0, 3, 1])).toThrow(
      "softmaxCrossEntropy: label 2 is 3; class indices must be integers in [0, 3) or ignoreIndex (-100)",
    );
    expect(bad({ ignoreIndex: 7 }, [1, -1, 2, 1])).toThrow(/label 1 is -1; .* or ignoreIndex \(7\)/);
    expect(bad({ reduction: "sum" }, [1, 0, 2, 1.5])).toThrow(
      "softmaxCrossEntropy: label 3 is 1.5; class indices must be integers in [0, 3)",
    );
    expect(bad({ reduction: "sum" }, [1, 0])).toThrow(
      "softmaxCrossEntropy: 2 class indices for 4 rows of scores of shape [4, 3]",
    );
    expect(softmaxCrossEntropy(s, [1, 7, 2, 1], { ignoreIndex: 7, reduction: "none" }).data[1]).toBe(0);
    near(softmaxCrossEntropy(s, new Int32Array([1, -5, 2, 1]), { ignoreIndex: -5 }), 0.5705481273799679);
  });
});
