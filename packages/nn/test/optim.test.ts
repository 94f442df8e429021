/** Optimizers against the book's formulas (common/optimizer.py), their in-place contract and errors. */
import { ArgumentError, DTypeError, type FloatDType, ShapeError, type Tensor, tensor, zeros } from "@gradgraph/core";
import { shapeArb } from "@gradgraph/core/testing";
import { mul, sub, sum } from "@gradgraph/nodes";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AdaGrad,
  Adam,
  clipGradNorm,
  createOptimizer,
  DEFAULT_EPS,
  Momentum,
  Nesterov,
  OPTIMIZER_NAMES,
  type Optimizer,
  type OptimizerName,
  RMSprop,
  SGD,
} from "../src/optim/index.js";

// ---------------------------------------------------------------------------------------------
// Reference implementations: the book's update rules, element by element over number arrays.
// `r` models the storage dtype: the identity for float64, Math.fround for float32 (every value
// written back to a parameter or a state array is rounded, as a Float32Array would).
// ---------------------------------------------------------------------------------------------

type Arr = number[][];
type Round = (x: number) => number;
interface Reference {
  step(params: Arr, grads: Arr): void;
}
type Hyper = Record<string, number>;

const zerosLike = (params: Arr): Arr => params.map((p) => p.map(() => 0));

const references: Record<OptimizerName, (h: Hyper, r: Round) => Reference> = {
  sgd: ({ lr }, r) => ({
    step(params, grads) {
      params.forEach((p, i) => {
        p.forEach((_, j) => {
          p[j] = r(p[j]! - lr! * grads[i]![j]!);
        });
      });
    },
  }),
  momentum: ({ lr, momentum }, r) => {
    let v: Arr | null = null;
    return {
      step(params, grads) {
        v ??= zerosLike(params);
        params.forEach((p, i) => {
          p.forEach((_, j) => {
            v![i]![j] = r(momentum! * v![i]![j]! - lr! * grads[i]![j]!);
            p[j] = r(p[j]! + v![i]![j]!);
          });
        });
      },
    };
  },
  nesterov: ({ lr, momentum }, r) => {
    let v: Arr | null = null;
    return {
      step(params, grads) {
        v ??= zerosLike(params);
        params.forEach((p, i) => {
          p.forEach((_, j) => {
            const g = grads[i]![j]!;
            // v *= momentum; v -= lr * g; p += momentum² v; p -= (1 + momentum) lr g
            v![i]![j] = r(r(v![i]![j]! * momentum!) - lr! * g);
            p[j] = r(p[j]! + momentum! * momentum! * v![i]![j]!);
            p[j] = r(p[j]! - (1 + momentum!) * lr! * g);
          });
        });
      },
    };
  },
  adagrad: ({ lr, eps }, r) => {
    let h: Arr | null = null;
    return {
      step(params, grads) {
        h ??= zerosLike(params);
        params.forEach((p, i) => {
          p.forEach((_, j) => {
            const g = grads[i]![j]!;
            h![i]![j] = r(h![i]![j]! + g * g);
            p[j] = r(p[j]! - (lr! * g) / (Math.sqrt(h![i]![j]!) + eps!));
          });
        });
      },
    };
  },
  rmsprop: ({ lr, decayRate, eps }, r) => {
    let h: Arr | null = null;
    return {
      step(params, grads) {
        h ??= zerosLike(params);
        params.forEach((p, i) => {
          p.forEach((_, j) => {
            const g = grads[i]![j]!;
            h![i]![j] = r(r(h![i]![j]! * decayRate!) + (1 - decayRate!) * g * g);
            p[j] = r(p[j]! - (lr! * g) / (Math.sqrt(h![i]![j]!) + eps!));
          });
        });
      },
    };
  },
  adam: ({ lr, beta1, beta2, eps }, r) => {
    let m: Arr | null = null;
    let v: Arr | null = null;
    let iter = 0;
    return {
      step(params, grads) {
        m ??= zerosLike(params);
        v ??= zerosLike(params);
        iter += 1;
        const lrT = (lr! * Math.sqrt(1 - beta2! ** iter)) / (1 - beta1! ** iter);
        params.forEach((p, i) => {
          p.forEach((_, j) => {
            const g = grads[i]![j]!;
            m![i]![j] = r(m![i]![j]! + (1 - beta1!) * (g - m![i]![j]!));
            v![i]![j] = r(v![i]![j]! + (1 - beta2!) * (g ** 2 - v![i]![j]!));
            p[j] = r(p[j]! - (lrT * m![i]![j]!) / (Math.sqrt(v![i]![j]!) + eps!));
          });
        });
      },
    };
  },
};

const lr = fc.double({ min: 1e-4, max: 0.5, noNaN: true });
const unitOpen = (max: number) => fc.double({ min: 0, max, noNaN: true });
const eps = fc.double({ min: 1e-9, max: 1e-3, noNaN: true });

/** Random hyper-parameters in each optimizer's option names. */
const hyperArbs: Record<OptimizerName, fc.Arbitrary<Hyper>> = {
  sgd: fc.record({ lr }),
  momentum: fc.record({ lr, momentum: unitOpen(0.99) }),
  nesterov: fc.record({ lr, momentum: unitOpen(0.99) }),
  adagrad: fc.record({ lr, eps }),
  rmsprop: fc.record({ lr, decayRate: unitOpen(0.999), eps }),
  adam: fc.record({ lr, beta1: unitOpen(0.99), beta2: unitOpen(0.9999), eps }),
};

/** 1–3 parameters of random shapes (zero-size ones included), initial values and 1–6 steps of grads. */
const problemArb = fc.array(shapeArb({ maxRank: 3, maxDim: 4 }), { minLength: 1, maxLength: 3 }).chain((shapes) => {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const values = fc.tuple(
    ...sizes.map((n) =>
      fc.array(fc.double({ min: -5, max: 5, noNaN: true }), {
        minLength: n,
        maxLength: n,
      }),
    ),
  );
  return fc.record({
    shapes: fc.constant(shapes),
    params: values,
    steps: fc.array(values, { minLength: 1, maxLength: 6 }),
  });
});

const toTensors = (values: readonly number[][], shapes: readonly number[][], dtype: FloatDType): Tensor[] =>
  values.map((v, i) => tensor(v, { shape: shapes[i]!, dtype }));

/** `|actual − expected| <= tol·max(1, |expected|)` element by element. */
function expectClose(actual: Tensor, expected: readonly number[], tol: number): void {
  expect(actual.size).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    const e = expected[j]!;
    const err = Math.abs(actual.data[j]! - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${j}: got ${actual.data[j]}, expected ${e} (error ${err}, tolerance ${tol})`);
    }
  }
}

describe("each optimizer follows the book's formula (fast-check)", () => {
  const cases: [FloatDType, number][] = [
    ["float64", 1e-12],
    ["float32", 1e-6],
  ];
  for (const name of OPTIMIZER_NAMES) {
    for (const [dtype, tol] of cases) {
      it(`${name}, ${dtype}: several steps match the reference to ${tol}`, () => {
        const round: Round = dtype === "float64" ? (x) => x : Math.fround;
        fc.assert(
          fc.property(hyperArbs[name], problemArb, (hyper, problem) => {
            const opt = createOptimizer(name, hyper);
            const ref = references[name](hyper, round);
            const params = toTensors(problem.params, problem.shapes, dtype);
            const datas = params.map((p) => p.data);
            const expected = params.map((p) => Array.from(p.data)); // already rounded to dtype
            for (const step of problem.steps) {
              const grads = toTensors(step, problem.shapes, dtype);
              opt.update(params, grads);
              ref.step(
                expected,
                grads.map((g) => Array.from(g.data)),
              );
              params.forEach((p, i) => {
                expect(p.dtype).toBe(dtype);
                expect(p.data).toBe(datas[i]);
                expectClose(p, expected[i]!, tol);
              });
            }
            params.forEach((p) => {
              expect(p.version).toBe(problem.steps.length);
            });
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  it("the default eps is the book's 1e-7, and defaults match the book's", () => {
    expect(DEFAULT_EPS).toBe(1e-7);
    expect(new SGD().lr).toBe(0.01);
    expect(new Momentum()).toMatchObject({ lr: 0.01, momentum: 0.9 });
    expect(new Nesterov()).toMatchObject({ lr: 0.01, momentum: 0.9 });
    expect(new AdaGrad()).toMatchObject({ lr: 0.01, eps: 1e-7 });
    expect(new RMSprop()).toMatchObject({ lr: 0.01, decayRate: 0.99, eps: 1e-7 });
    expect(new Adam()).toMatchObject({ lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-7, iter: 0 });
  });
});

describe("SGD and state", () => {
  it("SGD: one step is exactly p − lr·g", () => {
    const p = tensor([1, -2, 3.25, 0], { dtype: "float64" });
    const g = tensor([0.5, -1, 2, 7], { dtype: "float64" });
    new SGD({ lr: 0.1 }).update([p], [g]);
    expect(Array.from(p.data)).toEqual([1 - 0.1 * 0.5, -2 - 0.1 * -1, 3.25 - 0.1 * 2, 0 - 0.1 * 7]);
    expect(Array.from(g.data)).toEqual([0.5, -1, 2, 7]);
  });

  it("Momentum: the velocity persists across calls", () => {
    const opt = new Momentum({ lr: 0.1, momentum: 0.5 });
    const p = tensor([1, 2], { dtype: "float64" });
    const g = tensor([1, -4], { dtype: "float64" });
    opt.update([p], [g]); // v = −lr·g = [−0.1, 0.4]; p = [0.9, 2.4]
    opt.update([p], [g]); // v = 0.5·v − lr·g = [−0.15, 0.6]; p = [0.75, 3.0]
    expectClose(p, [0.75, 3.0], 1e-15);
    // A fresh optimizer on the same tensor starts from zero velocity again.
    new Momentum({ lr: 0.1, momentum: 0.5 }).update([p], [g]);
    expectClose(p, [0.65, 3.4], 1e-15);
  });

  it("Adam counts its steps, and the state is per position", () => {
    const opt = new Adam({ lr: 0.1 });
    const a = tensor([0, 0], { dtype: "float64" });
    const b = tensor([0], { dtype: "float64" });
    opt.update([a, b], [tensor([1, -1], { dtype: "float64" }), tensor([3], { dtype: "float64" })]);
    expect(opt.iter).toBe(1);
    // Step 1 of Adam moves every element by lr·sign(g) up to eps.
    expectClose(a, [-0.1, 0.1], 1e-6);
    expectClose(b, [-0.1], 1e-6);
    opt.update([a, b], [tensor([0, 0], { dtype: "float64" }), tensor([0], { dtype: "float64" })]);
    expect(opt.iter).toBe(2);
  });

  it("lr can be changed between updates", () => {
    const opt = new SGD({ lr: 1 });
    const p = tensor([1], { dtype: "float64" });
    const g = tensor([1], { dtype: "float64" });
    opt.update([p], [g]);
    opt.lr = 0.5;
    opt.update([p], [g]);
    expect(p.data[0]).toBe(-0.5);
  });

  it("SGD is stateless: any parameter list is fine on a later call", () => {
    const opt = new SGD({ lr: 1 });
    opt.update([zeros([2])], [zeros([2])]);
    expect(() => opt.update([zeros([3]), zeros([1])], [zeros([3]), zeros([1])])).not.toThrow();
    expect(() => opt.update([], [])).not.toThrow();
  });
});

describe("in place", () => {
  for (const name of OPTIMIZER_NAMES) {
    it(`${name}: writes into the same data arrays, bumps each param's version, leaves grads alone`, () => {
      const opt = createOptimizer(name, { lr: 0.1 });
      const params = [tensor([[1, 2, 3]]), tensor(0.5), tensor([4, 5], { dtype: "float64" })];
      const grads = [tensor([[0.1, -0.2, 0.3]]), tensor(2), tensor([-1, 1], { dtype: "float64" })];
      const datas = params.map((p) => p.data);
      const before = params.map((p) => Array.from(p.data));
      const gradsBefore = grads.map((g) => Array.from(g.data));
      for (let step = 1; step <= 3; step++) {
        opt.update(params, grads);
        params.forEach((p, i) => {
          expect(p.data).toBe(datas[i]);
          expect(p.version).toBe(step);
        });
      }
      expect(params.map((p) => p.dtype)).toEqual(["float32", "float32", "float64"]);
      expect(params[0]!.data).toBeInstanceOf(Float32Array);
      params.forEach((p, i) => {
        expect(Array.from(p.data)).not.toEqual(before[i]);
      });
      grads.forEach((g, i) => {
        expect(Array.from(g.data)).toEqual(gradsBefore[i]);
        expect(g.version).toBe(0);
      });
    });
  }

  it("an update between forward and backward is caught by backward (the version check)", () => {
    const p = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const loss = sum(mul(p, p));
    new SGD().update([p], [tensor([1, 1], { dtype: "float64" })]);
    expect(() => loss.backward()).toThrow(/modified in place/);
  });
});

describe("each optimizer minimises a quadratic", () => {
  const c = [1.5, -2, 0.25, 3];
  const settings: Record<OptimizerName, Hyper> = {
    sgd: { lr: 0.1 },
    momentum: { lr: 0.05 },
    nesterov: { lr: 0.05 },
    adagrad: { lr: 1 },
    rmsprop: { lr: 0.02 },
    adam: { lr: 0.1 },
  };
  for (const name of OPTIMIZER_NAMES) {
    for (const dtype of ["float64", "float32"] as const) {
      it(`${name} (${JSON.stringify(settings[name])}), ${dtype}: f(p) = Σ(p − c)² reaches c within 1e-3 in 500 steps`, () => {
        const opt = createOptimizer(name, settings[name]);
        const p = zeros([4], { dtype });
        const g = zeros([4], { dtype });
        for (let step = 0; step < 500; step++) {
          for (let j = 0; j < 4; j++) g.data[j] = 2 * (p.data[j]! - c[j]!);
          opt.update([p], [g]);
        }
        for (let j = 0; j < 4; j++) expect(Math.abs(p.data[j]! - c[j]!)).toBeLessThan(1e-3);
      });
    }
  }

  it("Adam with gradients from backward(): params/grads from a define-by-run graph", () => {
    const target = tensor(c, { dtype: "float64" });
    const p = zeros([4], { dtype: "float64", requiresGrad: true });
    const opt = new Adam({ lr: 0.1 });
    let last = Number.POSITIVE_INFINITY;
    for (let step = 0; step < 500; step++) {
      const d = sub(p, target);
      const loss = sum(mul(d, d));
      p.grad = null;
      loss.backward();
      opt.update([p], [p.grad!]);
      last = loss.item();
    }
    expect(last).toBeLessThan(1e-6);
    expectClose(p, c, 1e-3);
  });
});

describe("clipGradNorm", () => {
  const gradsArb = fc
    .array(shapeArb({ minRank: 1, maxRank: 2, minDim: 1, maxDim: 4 }), { minLength: 1, maxLength: 3 })
    .chain((shapes) =>
      fc.tuple(
        fc.constant(shapes),
        fc.tuple(
          ...shapes.map((s) => {
            const n = s.reduce((a, b) => a * b, 1);
            return fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n });
          }),
        ),
        fc.constantFrom<FloatDType>("float32", "float64"),
      ),
    );
  const l2 = (grads: readonly Tensor[]) => Math.hypot(...grads.flatMap((g) => Array.from(g.data)));

  it("returns the global norm; above maxNorm the clipped norm is maxNorm, below it nothing changes", () => {
    fc.assert(
      fc.property(gradsArb, fc.double({ min: 1e-3, max: 50, noNaN: true }), ([shapes, values, dtype], maxNorm) => {
        const grads = toTensors(values, shapes, dtype);
        const datas = grads.map((g) => g.data);
        const before = grads.map((g) => Array.from(g.data));
        const norm0 = l2(grads);
        const norm = clipGradNorm(grads, maxNorm);
        expect(Math.abs(norm - norm0)).toBeLessThanOrEqual(1e-12 * Math.max(1, norm0));
        grads.forEach((g, i) => {
          expect(g.data).toBe(datas[i]);
          expect(g.dtype).toBe(dtype);
        });
        if (norm0 > maxNorm) {
          const after = l2(grads);
          expect(Math.abs(after - maxNorm)).toBeLessThanOrEqual(1e-5 * maxNorm + 1e-6);
          expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
          const rate = maxNorm / (norm + 1e-6);
          grads.forEach((g, i) => {
            expect(g.version).toBe(1);
            expect(Array.from(g.data)).toEqual(
              before[i]!.map((x) => (dtype === "float32" ? Math.fround(x * rate) : x * rate)),
            );
          });
        } else {
          grads.forEach((g, i) => {
            expect(Array.from(g.data)).toEqual(before[i]);
            expect(g.version).toBe(0);
          });
        }
      }),
      { numRuns: 200 },
    );
  });

  it("a worked example: [3, 4] has norm 5, clipped to norm 1", () => {
    const g = tensor([3, 4], { dtype: "float64" });
    expect(clipGradNorm([g], 1)).toBe(5);
    expectClose(g, [3 / (5 + 1e-6), 4 / (5 + 1e-6)], 1e-15);
    const h = tensor([3, 4], { dtype: "float64" });
    expect(clipGradNorm([h], 5)).toBe(5);
    expect(Array.from(h.data)).toEqual([3, 4]);
    expect(h.version).toBe(0);
    expect(clipGradNorm([], 1)).toBe(0);
  });

  it("sums over all tensors; survives a sum of squares that overflows float64", () => {
    expect(clipGradNorm([tensor([3]), tensor([[4]])], 100)).toBe(5);
    const big = tensor([3e200, 4e200], { dtype: "float64" });
    const norm = clipGradNorm([big], 1);
    expect(norm / 5e200).toBeCloseTo(1, 12);
    expectClose(big, [0.6, 0.8], 1e-12);
  });

  it("a non-finite norm is returned and nothing is scaled", () => {
    const g = tensor([Number.NaN, 1], { dtype: "float64" });
    expect(clipGradNorm([g], 1)).toBeNaN();
    expect(g.data[1]).toBe(1);
    const h = tensor([Number.POSITIVE_INFINITY, 1], { dtype: "float64" });
    expect(clipGradNorm([h], 1)).toBe(Number.POSITIVE_INFINITY);
    expect(h.data[1]).toBe(1);
    expect(h.version).toBe(0);
  });
});

describe("createOptimizer", () => {
  it("creates each optimizer by name with its options", () => {
    const expected = {
      sgd: SGD,
      momentum: Momentum,
      nesterov: Nesterov,
      adagrad: AdaGrad,
      rmsprop: RMSprop,
      adam: Adam,
    };
    for (const name of OPTIMIZER_NAMES) {
      const opt: Optimizer = createOptimizer(name, { lr: 0.25 });
      expect(opt).toBeInstanceOf(expected[name]);
      expect(opt.lr).toBe(0.25);
      expect(opt.name).toBe(expected[name].name);
    }
    expect(createOptimizer("adam", { beta1: 0.5 })).toMatchObject({ beta1: 0.5, lr: 0.001 });
    expect(createOptimizer("momentum")).toMatchObject({ momentum: 0.9, lr: 0.01 });
  });

  it("rejects an unknown name, listing the valid ones", () => {
    const bad = (name: unknown) => () => createOptimizer(name as OptimizerName);
    expect(bad("adamw")).toThrow(ArgumentError);
    expect(bad("adamw")).toThrow(
      'createOptimizer: unknown optimizer name string "adamw" (valid names: sgd, momentum, nesterov, adagrad, rmsprop, adam)',
    );
    expect(bad("Adam")).toThrow(/unknown optimizer name string "Adam"/);
    expect(bad(undefined)).toThrow(/unknown optimizer name undefined/);
  });

  it("passes option errors through", () => {
    expect(() => createOptimizer("sgd", { momentum: 0.9 } as never)).toThrow(
      "SGD: unknown option 'momentum' (valid options: lr)",
    );
  });
});

describe("errors name the optimizer, the argument and the shapes or values", () => {
  it("params and grads of different lengths", () => {
    expect(() => new Adam().update([zeros([2]), zeros([3])], [zeros([2])])).toThrow(ArgumentError);
    expect(() => new Adam().update([zeros([2]), zeros([3])], [zeros([2])])).toThrow(
      "Adam.update: params has 2 entries but grads has 1; they must line up one to one",
    );
  });

  it("a shape mismatch names the index and both shapes", () => {
    const run = () => new Momentum().update([zeros([2]), zeros([2, 3])], [zeros([2]), zeros([3, 2])]);
    expect(run).toThrow(ShapeError);
    expect(run).toThrow("Momentum.update: params[1] has shape [2, 3] but grads[1] has shape [3, 2]");
  });

  it("a dtype mismatch names the index, both dtypes and the shape", () => {
    const run = () => new SGD().update([zeros([2, 2])], [zeros([2, 2], { dtype: "float64" })]);
    expect(run).toThrow(DTypeError);
    expect(run).toThrow("SGD.update: params[0] (shape [2, 2]) is float32 but grads[0] (shape [2, 2]) is float64");
  });

  it("non-Tensor entries and non-arrays", () => {
    const opt = new RMSprop();
    expect(() => opt.update([zeros([1]), [1] as never], [zeros([1]), zeros([1])])).toThrow(
      "RMSprop.update: params[1] must be a Tensor, got array(1)",
    );
    expect(() => opt.update([zeros([1])], [null as never])).toThrow(
      "RMSprop.update: grads[0] must be a Tensor, got null (has backward() reached params[0]?)",
    );
    expect(() => opt.update([zeros([1])], [new Float32Array(1) as never])).toThrow(
      "RMSprop.update: grads[0] must be a Tensor, got Float32Array",
    );
    expect(() => opt.update(zeros([1]) as never, [])).toThrow(
      "RMSprop.update: params must be an array of Tensors, got Tensor",
    );
    expect(() => opt.update([], { a: 1 } as never)).toThrow(
      "RMSprop.update: grads must be an array of Tensors, got object",
    );
  });

  it("a different parameter list on a later call than on the first", () => {
    const opt = new Nesterov();
    opt.update([zeros([2]), zeros([3])], [zeros([2]), zeros([3])]);
    expect(() => opt.update([zeros([2])], [zeros([2])])).toThrow(ArgumentError);
    expect(() => opt.update([zeros([2])], [zeros([2])])).toThrow(
      "Nesterov.update: got 1 params but the first update had 2; the per-parameter state is keyed by position",
    );
    expect(() => opt.update([zeros([3]), zeros([2])], [zeros([3]), zeros([2])])).toThrow(ShapeError);
    expect(() => opt.update([zeros([3]), zeros([2])], [zeros([3]), zeros([2])])).toThrow(
      "Nesterov.update: params[0] has shape [3] but the state from the first update has shape [2] at that position",
    );
    const f64 = { dtype: "float64" } as const;
    expect(() => opt.update([zeros([2], f64), zeros([3])], [zeros([2], f64), zeros([3])])).toThrow(
      "Nesterov.update: params[0] (shape [2]) is float64 but the state from the first update is float32 at that position",
    );
  });

  it("a failed update changes nothing, and a failed first update does not fix the parameter count", () => {
    const opt = new Adam();
    const a = tensor([1, 2]);
    expect(() => opt.update([a, zeros([2])], [zeros([2]), zeros([3])])).toThrow(ShapeError);
    expect(Array.from(a.data)).toEqual([1, 2]);
    expect(a.version).toBe(0);
    expect(opt.iter).toBe(0);
    opt.update([a], [tensor([1, 1])]);
    expect(opt.iter).toBe(1);
    expect(a.version).toBe(1);
  });

  it("hyper-parameters: negative, non-finite or out of range", () => {
    expect(() => new SGD({ lr: -0.1 })).toThrow(ArgumentError);
    expect(() => new SGD({ lr: -0.1 })).toThrow("SGD: lr must be a finite number >= 0, got number -0.1");
    expect(() => new Momentum({ lr: Number.NaN })).toThrow("Momentum: lr must be a finite number >= 0, got number NaN");
    expect(() => new Momentum({ momentum: -1 })).toThrow(
      "Momentum: momentum must be a finite number >= 0, got number -1",
    );
    expect(() => new Nesterov({ momentum: Number.POSITIVE_INFINITY })).toThrow(
      "Nesterov: momentum must be a finite number >= 0, got number Infinity",
    );
    expect(() => new AdaGrad({ eps: 0 })).toThrow("AdaGrad: eps must be a finite number > 0, got number 0");
    expect(() => new RMSprop({ decayRate: 1 })).toThrow(
      "RMSprop: decayRate must be a finite number in [0, 1), got number 1",
    );
    expect(() => new Adam({ beta1: 1 })).toThrow("Adam: beta1 must be a finite number in [0, 1), got number 1");
    expect(() => new Adam({ beta2: -0.5 })).toThrow("Adam: beta2 must be a finite number in [0, 1), got number -0.5");
    expect(() => new Adam({ lr: "0.1" as never })).toThrow('Adam: lr must be a finite number >= 0, got string "0.1"');
    expect(new SGD({ lr: 0 }).lr).toBe(0);
  });

  it("setting lr is checked too", () => {
    const opt = new Adam();
    expect(() => {
      opt.lr = -1;
    }).toThrow("Adam: lr must be a finite number >= 0, got number -1");
    expect(opt.lr).toBe(0.001);
  });

  it("options: the book's positional style, unknown keys", () => {
    expect(() => new SGD(0.1 as never)).toThrow("SGD: options must be an object such as { lr: 0.01 }, got number 0.1");
    expect(() => new Adam({ learningRate: 0.1 } as never)).toThrow(
      "Adam: unknown option 'learningRate' (valid options: lr, beta1, beta2, eps)",
    );
    expect(() => new RMSprop({ decay_rate: 0.9 } as never)).toThrow(
      "RMSprop: unknown option 'decay_rate' (valid options: lr, decayRate, eps)",
    );
    expect(new Momentum({ lr: undefined }).lr).toBe(0.01);
  });

  it("clipGradNorm: maxNorm > 0 and Tensor entries", () => {
    expect(() => clipGradNorm([zeros([2])], 0)).toThrow(ArgumentError);
    expect(() => clipGradNorm([zeros([2])], 0)).toThrow("clipGradNorm: maxNorm must be a number > 0, got number 0");
    expect(() => clipGradNorm([zeros([2])], -1)).toThrow("clipGradNorm: maxNorm must be a number > 0, got number -1");
    expect(() => clipGradNorm([zeros([2])], Number.NaN)).toThrow(
      "clipGradNorm: maxNorm must be a number > 0, got number NaN",
    );
    expect(() => clipGradNorm([zeros([2]), 3 as never], 1)).toThrow(
      "clipGradNorm: grads[1] must be a Tensor, got number 3",
    );
    expect(() => clipGradNorm(zeros([2]) as never, 1)).toThrow(
      "clipGradNorm: grads must be an array of Tensors, got Tensor",
    );
  });
});
