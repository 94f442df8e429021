/**
 * Fuzz cases for every public export of @gradgraph/nn (issue 7, "bad input never crashes"):
 * layers and their forward/backward, Sequential and TwoLayerNet, the optimizers, clipGradNorm,
 * the Trainer, the spiral data, the metrics, the checkpoint functions and the float16 helpers,
 * each called with odd-but-valid and invalid arguments. Run by fuzz-api.test.ts in the watchdog's
 * worker thread (a hang fails its test with the input), so this module must not import vitest.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FloatDType, isFloatTensor, isTensor, noGrad, type Tensor, tensor, zeros } from "@gradgraph/core";
import { type Labels, mul } from "@gradgraph/nodes";
import fc from "fast-check";
import {
  argArb,
  checkTensorResult,
  junkArb,
  oddTensor,
  oddTensorArb,
  sparseArb,
} from "../../core/test/fuzz-helpers.js";
import type { FuzzCase, FuzzCases } from "../../core/test/watchdog.js";
import * as nn from "../src/index.js";

type AnyFn = (...args: unknown[]) => unknown;
type AnyCtor = new (...args: unknown[]) => unknown;

// ------------------------------------------------------------------------------------------------
// generators

/** A tensor produced by an op (not a leaf): layers and optimizers must not mistake it for a leaf. */
const nonLeafArb: fc.Arbitrary<Tensor> = fc
  .array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })
  .chain((s) => oddTensorArb(s, true))
  .map((t) => mul(t, 2));

/** Tensors of rank 2 with small dimensions (0..3). */
const matrixArb: fc.Arbitrary<Tensor> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
  .chain(([a, b]) => oddTensorArb([a, b]));

/** A tensor of the given shape, or something near it: other shapes, ranks, non-leaves, junk. */
function nearArb(shape: readonly number[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: oddTensorArb(shape) },
    { weight: 2, arbitrary: matrixArb },
    { weight: 1, arbitrary: oddTensor },
    { weight: 1, arbitrary: nonLeafArb },
    { weight: 1, arbitrary: junkArb },
  );
}

/** Tensor arguments in general: mostly tensors, sometimes junk or non-leaves. */
const tensorArgArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: argArb },
  { weight: 1, arbitrary: nonLeafArb },
  { weight: 1, arbitrary: matrixArb },
);

/** Sizes: valid small ones, zero, negative, fractional, non-finite, too large, junk. */
const sizeArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 24, arbitrary: fc.integer({ min: 1, max: 4 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      0,
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 31,
      2 ** 40,
      1e12,
      1e300,
    ),
  },
  { weight: 2, arbitrary: junkArb },
);

/** Class labels for `n` rows of `c` classes: valid, out of range, non-integer, wrong length, junk. */
function labelsArb(n: number, c: number): fc.Arbitrary<unknown> {
  const idx = fc.integer({ min: 0, max: Math.max(c - 1, 0) });
  const bad = fc.constantFrom<unknown>(-1, c, 1e9, 2 ** 40, 0.5, Number.NaN, Number.POSITIVE_INFINITY, "0", null);
  return fc.oneof(
    { weight: 10, arbitrary: fc.array(idx, { minLength: n, maxLength: n }) },
    { weight: 2, arbitrary: fc.array(idx, { minLength: n, maxLength: n }).map((a) => Int32Array.from(a)) },
    {
      weight: 2,
      arbitrary: fc.array(idx, { minLength: n, maxLength: n }).map((a) =>
        tensor(Float32Array.from(a.flatMap((k) => Array.from({ length: c }, (_, j) => (j === k ? 1 : 0)))), {
          shape: [n, c],
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.array(idx, { minLength: n, maxLength: n }).map((a) => tensor(Float64Array.from(a), { shape: [n] })),
    },
    { weight: 2, arbitrary: fc.array(mostly(idx, bad), { minLength: n, maxLength: n }) },
    {
      weight: 1,
      arbitrary: fc
        .array(idx, { minLength: n, maxLength: n })
        .map((a) => tensor(Float32Array.from(a.map((k) => k + 0.5)), { shape: [n] })),
    },
    { weight: 1, arbitrary: fc.array(fc.oneof(idx, bad), { maxLength: n + 2 }) },
    { weight: 1, arbitrary: sparseArb },
    { weight: 1, arbitrary: tensorArgArb },
  );
}

/** Mostly `valid`, sometimes `bad`: so that one bad field at a time gets through to the body. */
function mostly(valid: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: bad });
}

/**
 * Options objects of `fields` (each field's arbitrary should be mostly valid: see `mostly`), or
 * no options, an unknown key, or junk in place of the object.
 */
function optionsArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 10, arbitrary: fc.record(fields, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.constant({ unknownOption: 1 }) },
    { weight: 1, arbitrary: junkArb },
  );
}

/** SoftmaxWithLoss's options: weights for 3 classes (or not), a reduction, a smoothing, an ignored index. */
const lossOptionsArb: fc.Arbitrary<unknown> = optionsArb({
  weights: mostly(
    fc.oneof(
      fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
      fc.constant(tensor([1, 2, 0.5])),
    ),
    fc.oneof(fc.array(fc.double(), { maxLength: 4 }), junkArb, sparseArb, tensorArgArb),
  ),
  reduction: mostly(fc.constantFrom("mean", "sum"), fc.oneof(fc.constant("none"), junkArb)),
  labelSmoothing: mostly(fc.double({ min: 0, max: 1, noNaN: true }), fc.oneof(fc.double(), junkArb)),
  ignoreIndex: mostly(fc.constantFrom(-100, 0, 255), fc.oneof(fc.double(), junkArb)),
});

const dtypeArb: fc.Arbitrary<unknown> = mostly(
  fc.constantFrom<unknown>("float32", "float64"),
  fc.oneof(fc.constantFrom<unknown>("int32", "F32"), junkArb),
);
const seedArb: fc.Arbitrary<unknown> = mostly(
  fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  fc.oneof(junkArb, fc.constantFrom(2 ** 53, -1e300, 2n ** 63n, -(2n ** 63n) - 1n)),
);
const hyperArb: fc.Arbitrary<unknown> = mostly(
  fc.oneof(fc.double({ min: 0, max: 0.99, noNaN: true }), fc.constant(0)),
  fc.oneof(fc.constantFrom<unknown>(-1, 1, 2, Number.NaN, Number.POSITIVE_INFINITY), junkArb),
);

// ------------------------------------------------------------------------------------------------
// result checks

const anyResult = (): void => {};
const isTensorOrNull = (fn: string) => (v: unknown, args: unknown[]) => {
  if (v !== null) checkTensorResult(fn, args, v);
};

/** Every param has a grad buffer of its own shape and dtype. */
function checkParamsGrads(fn: string, m: { params: readonly Tensor[]; grads: readonly Tensor[] }): void {
  if (!Array.isArray(m.params) || !Array.isArray(m.grads) || m.params.length !== m.grads.length) {
    throw new Error(`${fn}: params and grads do not line up`);
  }
  m.params.forEach((p, i) => {
    const g = m.grads[i]!;
    if (!isTensor(p) || !isTensor(g) || p.shape.join() !== g.shape.join() || p.dtype !== g.dtype) {
      throw new Error(`${fn}: params[${i}] and grads[${i}] differ`);
    }
  });
}

/** A loss: a 0-d tensor that is finite when the scores are (bad labels must throw, not give NaN). */
function checkLoss(fn: string, x: unknown, t: unknown) {
  return (v: unknown, args: unknown[]) => {
    checkTensorResult(fn, args, v);
    const loss = v as Tensor;
    if (loss.size !== 1) throw new Error(`${fn} returned a loss of shape [${loss.shape}]`);
    // NaN or infinite scores, or targets (a tensor of probabilities), may give a NaN loss
    const finite =
      isTensor(x) && x.size > 0 && x.data.every(Number.isFinite) && !(isTensor(t) && !t.data.every(Number.isFinite));
    if (finite && !Number.isFinite(loss.item())) {
      throw new Error(`${fn} returned a non-finite loss ${loss.item()} for finite scores`);
    }
  };
}

// ------------------------------------------------------------------------------------------------
// layers

/** A layer scenario: construct, then forward and/or backward in some order. */
const modeArb = fc.constantFrom(
  "forward",
  "forward+backward",
  "backward",
  "forward+backward+backward",
  "noGrad+backward",
);

function layerScenario(
  name: string,
  make: () => nn.Layer,
  xArb: fc.Arbitrary<unknown>,
  doutArb: fc.Arbitrary<unknown>,
): FuzzCase {
  return {
    arb: fc.tuple(xArb, doutArb, modeArb, fc.boolean()),
    call: ([x, dout, mode, requiresGrad]) => {
      const layer = make();
      if (requiresGrad === true && isFloatTensor(x) && x.isLeaf && !Object.isFrozen(x)) x.requiresGrad = true;
      let out: unknown;
      if (mode === "noGrad+backward") noGrad(() => layer.forward(x as Tensor));
      else if (mode !== "backward") out = layer.forward(x as Tensor);
      if (mode !== "forward") {
        out = layer.backward(dout as Tensor);
        if (mode === "forward+backward+backward") out = layer.backward(dout as Tensor);
      }
      checkParamsGrads(name, layer);
      return out;
    },
    check: (v, args) => {
      if (v === null) return;
      checkTensorResult(name, args, v);
    },
    names: [`${name}.forward`, `${name}.backward`],
  };
}

const W32 = () =>
  tensor([
    [0.1, -0.2],
    [0.3, 0.4],
    [-0.5, 0.6],
  ]);
const b2 = () => tensor([0.01, -0.02]);
const doutArb: fc.Arbitrary<unknown> = fc.oneof(fc.constant(undefined), nearArb([2, 2]), nearArb([]));

// ------------------------------------------------------------------------------------------------
// optimizers

const OPTIMIZERS: Record<string, { ctor: AnyCtor; keys: readonly string[] }> = {
  SGD: { ctor: nn.SGD as unknown as AnyCtor, keys: ["lr"] },
  Momentum: { ctor: nn.Momentum as unknown as AnyCtor, keys: ["lr", "momentum"] },
  Nesterov: { ctor: nn.Nesterov as unknown as AnyCtor, keys: ["lr", "momentum"] },
  AdaGrad: { ctor: nn.AdaGrad as unknown as AnyCtor, keys: ["lr", "eps"] },
  RMSprop: { ctor: nn.RMSprop as unknown as AnyCtor, keys: ["lr", "decayRate", "eps"] },
  Adam: { ctor: nn.Adam as unknown as AnyCtor, keys: ["lr", "beta1", "beta2", "eps"] },
};

/** Options for an optimizer with `keys`: mostly its own keys with mostly valid values. */
function optimizerOptionsArb(keys: readonly string[]): fc.Arbitrary<unknown> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of keys) fields[k] = k === "eps" ? mostly(fc.constantFrom(1e-7, 1e-3), hyperArb) : hyperArb;
  return optionsArb(fields);
}

/** A tensor of `t`'s shape and dtype with other values (a gradient for a parameter `t`). */
const gradFor = (t: Tensor): fc.Arbitrary<Tensor> =>
  oddTensorArb(t.shape).map((g) => tensor(g.data, { shape: [...t.shape], dtype: t.dtype }));

/** Lists of params and grads that often line up (same shapes) and sometimes do not. */
const paramsGradsArb: fc.Arbitrary<[unknown, unknown]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), { maxLength: 3 })
      .chain((shapes) =>
        fc
          .tuple(fc.tuple(...shapes.map((s) => oddTensorArb(s))), fc.constant(0))
          .chain(([ps]) =>
            fc.tuple(
              fc.constant(ps as unknown[]),
              fc.tuple(...ps.map((p) => mostly(gradFor(p), fc.oneof(oddTensorArb(p.shape), tensorArgArb)))),
            ),
          ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.oneof(fc.array(tensorArgArb, { maxLength: 2 }), junkArb, sparseArb),
      fc.oneof(fc.array(tensorArgArb, { maxLength: 2 }), junkArb, sparseArb),
    ),
  },
);

function optimizerCases(): Record<string, FuzzCase> {
  const out: Record<string, FuzzCase> = {};
  for (const [name, { ctor, keys }] of Object.entries(OPTIMIZERS)) {
    out[name] = {
      arb: fc.tuple(optimizerOptionsArb(keys)),
      call: ([o]) => new ctor(o),
      argNames: ["options", "option", ...keys],
      check: (v) => {
        const opt = v as nn.Optimizer;
        if (!(Number.isFinite(opt.lr) && opt.lr >= 0)) throw new Error(`${name} accepted lr ${opt.lr}`);
      },
    };
    out[`${name}.update`] = {
      // a second update: mostly the same params (the optimizer's state is keyed by position)
      arb: fc.tuple(
        paramsGradsArb,
        mostly(fc.constant("same"), paramsGradsArb),
        mostly(fc.constant(undefined), hyperArb),
      ),
      call: ([first, second, lr]) => {
        const opt = new ctor() as nn.Optimizer;
        if (lr !== undefined) opt.lr = lr as number;
        const [p1, g1] = first as [Tensor[], Tensor[]];
        opt.update(p1, g1);
        const [p2, g2] = second === "same" ? [p1, g1] : (second as [Tensor[], Tensor[]]);
        opt.update(p2, g2);
        return undefined;
      },
      check: anyResult,
      names: [`${name}.update`, `${name}:`],
      argNames: ["params", "grads", "lr"],
    };
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// models and training

const trainerFitOptionsArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        maxEpoch: mostly(
          fc.integer({ min: 1, max: 2 }),
          fc.oneof(
            fc.constantFrom<unknown>(0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e300, 2 ** 53),
            // a huge but valid count (junk's 2^40) is a legitimately endless run, not bad input
            junkArb.filter((v) => !(Number.isSafeInteger(v) && (v as number) > 2)),
          ),
        ),
        batchSize: mostly(
          fc.integer({ min: 1, max: 4 }),
          fc.oneof(fc.constantFrom<unknown>(0, -2, 0.5, Number.NaN, 2 ** 40), junkArb),
        ),
        evalInterval: mostly(
          fc.integer({ min: 1, max: 3 }),
          fc.oneof(fc.constantFrom<unknown>(0, Number.NaN, 1e300), junkArb),
        ),
        seed: mostly(fc.integer(), junkArb),
        maxGrad: mostly(
          fc.constantFrom<unknown>(1, 0.1, Number.POSITIVE_INFINITY),
          fc.oneof(fc.constantFrom<unknown>(0, -1, Number.NaN), junkArb),
        ),
        shuffle: mostly(
          fc.constantFrom(
            (_e: number) => [0, 1, 2, 3],
            (_e: number) => Int32Array.from([3, 2, 1, 0]),
          ),
          fc.oneof(
            fc.constantFrom(
              (_e: number) => [5, 6, 7, 8],
              (_e: number) => [-1, 0, 1, 2],
              (_e: number) => [0.5, 1, 2, 3],
              (_e: number) => "abcd",
              (_e: number) => new Array(4),
              (_e: number) => null,
              (_e: number) => [0],
            ),
            junkArb,
          ),
        ),
        output: mostly(
          fc.constantFrom(null, { write: () => true }, { write: () => true, isTTY: true }),
          fc.oneof(fc.constant({ write: 5 }), junkArb),
        ),
      },
      { requiredKeys: ["output", "batchSize"] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ unknownOption: 1, output: null }) },
  { weight: 1, arbitrary: junkArb },
);

/** x of N×2 and labels for 3 classes, where N is 0..5 (often 4). */
const fitDataArb: fc.Arbitrary<[unknown, unknown]> = fc
  .oneof({ weight: 4, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }) })
  .chain((n) => fc.tuple(nearArb([n, 2]), labelsArb(n, 3)));

// ------------------------------------------------------------------------------------------------
// checkpoints: paths inside a scratch directory only (FUZZ_NN_DIR from the test, else a tmp dir)

function scratch(): string {
  const dir = process.env.FUZZ_NN_DIR ?? join(tmpdir(), `gradgraph-nn-fuzz-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const valid = join(dir, "valid.safetensors");
  if (!existsSync(valid)) writeFileSync(valid, nn.encodeSafetensors({ W: tensor([[1, 2]]), b: tensor([3]) }));
  return dir;
}

/** Path placeholders resolved in the scratch directory at call time, and junk. */
const pathArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("@valid.safetensors", "@out.safetensors") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "@missing/dir/x.safetensors",
      "@",
      `@${"x".repeat(300)}`,
      "@new\nline\u0000.safetensors",
      "@a\u0000b",
      "@\ud800.safetensors",
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>("", "\u0000") },
  { weight: 2, arbitrary: junkArb.filter((v) => typeof v !== "string") },
);
const resolvePath = (p: unknown): unknown =>
  typeof p === "string" && p.startsWith("@") ? join(scratch(), p.slice(1)) : p;

const namedTensorsArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ W: nearArb([1, 2]), b: nearArb([1]) }) },
  { weight: 2, arbitrary: fc.record({ W: nearArb([1, 2]), b: nearArb([1]) }, { requiredKeys: [] }) },
  {
    weight: 1,
    arbitrary: fc.constant(0).map(
      () =>
        new Map<unknown, unknown>([
          ["W", tensor([[1, 2]])],
          [7, tensor(1)],
        ]),
    ),
  },
  { weight: 1, arbitrary: fc.constant(0).map(() => new Map([["W", "junk"]])) },
  { weight: 1, arbitrary: fc.constant({ __metadata__: tensor(1) }) },
  { weight: 1, arbitrary: fc.constant({ "\ud800": tensor(1) }) },
  { weight: 2, arbitrary: junkArb },
);
const encodeOptionsArb = optionsArb({
  dtype: mostly(
    fc.constantFrom<unknown>("F16", "F32", "F64"),
    fc.oneof(fc.constantFrom<unknown>("f32", "BF16"), junkArb),
  ),
  metadata: mostly(
    fc.oneof(fc.constant({ a: "b" }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 })),
    fc.oneof(
      fc.constant({ a: 1 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), junkArb), { maxKeys: 2 }),
      junkArb,
    ),
  ),
});
const decodeOptionsArb = optionsArb({
  maxBytes: mostly(
    fc.constantFrom<unknown>(0, 10, 1e9, 1.5, Number.POSITIVE_INFINITY),
    fc.oneof(fc.constantFrom<unknown>(-1, Number.NaN), junkArb),
  ),
  maxHeaderBytes: mostly(
    fc.constantFrom<unknown>(0, 10, 1e9, 1.5, Number.POSITIVE_INFINITY),
    fc.oneof(fc.constantFrom<unknown>(-1, Number.NaN), junkArb),
  ),
});
const bytesArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0).map(() => nn.encodeSafetensors({ W: tensor([[1, 2]]) })) },
  fc.uint8Array({ maxLength: 24 }),
  fc.constant(new Uint8Array(0)),
  fc.constant(new Float32Array(4)),
  junkArb,
);
const namedResult = (fn: string) => (v: unknown, args: unknown[]) => {
  if (!(v instanceof Map)) throw new Error(`${fn} returned ${String(v)}`);
  for (const t of v.values()) checkTensorResult(fn, args, t);
};

// ------------------------------------------------------------------------------------------------
// a small subclass of the abstract BaseLayer, to fuzz its constructor

class Identity extends nn.BaseLayer {
  readonly name = "Identity";
  protected compute(x: Tensor): Tensor {
    return mul(x, 1);
  }
}

const smallNet = () => new nn.TwoLayerNet(2, 3, 3, { seed: 1 });

export const cases: FuzzCases = {
  // --- layers: constructors
  MatMul: {
    argNames: ["W"],
    arb: fc.tuple(nearArb([3, 2])),
    call: ([W]) => new nn.MatMul(W as Tensor),
    check: (v) => checkParamsGrads("MatMul", v as nn.Layer),
  },
  Affine: {
    argNames: ["W", "b"],
    arb: fc.tuple(nearArb([3, 2]), fc.oneof(nearArb([2]), nearArb([1, 2]))),
    call: ([W, b]) => new nn.Affine(W as Tensor, b as Tensor),
    check: (v) => checkParamsGrads("Affine", v as nn.Layer),
  },
  Sigmoid: {
    arb: fc.array(junkArb, { maxLength: 1 }),
    call: (a) => new (nn.Sigmoid as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  ReLU: {
    arb: fc.array(junkArb, { maxLength: 1 }),
    call: (a) => new (nn.ReLU as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  Tanh: {
    arb: fc.array(junkArb, { maxLength: 1 }),
    call: (a) => new (nn.Tanh as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  Softmax: {
    arb: fc.array(junkArb, { maxLength: 1 }),
    call: (a) => new (nn.Softmax as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  SoftmaxWithLoss: {
    argNames: ["options", "option", "weights", "reduction", "labelSmoothing", "ignoreIndex"],
    arb: fc.oneof(fc.array(junkArb, { maxLength: 1 }), fc.tuple(lossOptionsArb)),
    call: (a) => new (nn.SoftmaxWithLoss as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  Dropout: {
    argNames: ["options", "option", "ratio", "seed"],
    arb: fc.tuple(optionsArb({ ratio: fc.oneof(hyperArb, fc.constant(0.5)), seed: seedArb })),
    call: ([o]) => new nn.Dropout(o as nn.DropoutOptions),
    check: anyResult,
  },
  BaseLayer: {
    arb: fc.tuple(fc.oneof(fc.array(tensorArgArb, { maxLength: 2 }), junkArb, sparseArb)),
    call: ([p]) => new Identity(p as Tensor[]),
    check: (v) => checkParamsGrads("Identity", v as nn.Layer),
    names: ["Identity", "BaseLayer"],
  },
  // --- layers: forward and backward
  "MatMul.forward": layerScenario("MatMul", () => new nn.MatMul(W32()), nearArb([2, 3]), doutArb),
  "Affine.forward": layerScenario("Affine", () => new nn.Affine(W32(), b2()), nearArb([2, 3]), doutArb),
  "Sigmoid.forward": layerScenario("Sigmoid", () => new nn.Sigmoid(), nearArb([2, 2]), doutArb),
  "ReLU.forward": layerScenario("ReLU", () => new nn.ReLU(), nearArb([2, 2]), doutArb),
  "Tanh.forward": layerScenario("Tanh", () => new nn.Tanh(), nearArb([2, 2]), doutArb),
  "Softmax.forward": layerScenario("Softmax", () => new nn.Softmax(), nearArb([2, 2]), doutArb),
  "Dropout.forward": layerScenario("Dropout", () => new nn.Dropout({ ratio: 0.5, seed: 3 }), nearArb([2, 2]), doutArb),
  "SoftmaxWithLoss.forward": {
    argNames: ["x", "t", "dout", "forward"],
    arb: fc
      .oneof(fc.constant(3), fc.integer({ min: 0, max: 4 }))
      .chain((n) =>
        fc.tuple(
          mostly(nearArb([n, 3]), nearArb([n, 1])),
          labelsArb(n, 3),
          mostly(fc.constant(undefined), fc.oneof(nearArb([]), junkArb)),
          mostly(fc.constantFrom("forward", "forward+backward"), fc.constantFrom("backward", "twice", "probabilities")),
        ),
      ),
    call: ([x, t, dout, mode]) => {
      const layer = new nn.SoftmaxWithLoss();
      if (mode === "backward") return layer.backward(dout as Tensor);
      if (mode === "probabilities") return layer.probabilities();
      if (isFloatTensor(x) && x.isLeaf && !Object.isFrozen(x)) x.requiresGrad = true;
      const loss = layer.forward(x as Tensor, t as Labels);
      checkLoss("SoftmaxWithLoss.forward", x, t)(loss, [x, t]);
      if (mode === "forward") return loss;
      layer.backward(dout as Tensor);
      return mode === "twice" ? layer.backward(dout as Tensor) : layer.probabilities();
    },
    check: isTensorOrNull("SoftmaxWithLoss.forward"),
    names: ["SoftmaxWithLoss.forward", "SoftmaxWithLoss.backward", "SoftmaxWithLoss.probabilities"],
  },
  "SoftmaxWithLoss.forward with options": {
    argNames: ["x", "t", "options", "option", "weights", "reduction", "labelSmoothing", "ignoreIndex"],
    arb: fc
      .oneof(fc.constant(3), fc.integer({ min: 0, max: 4 }))
      .chain((n) =>
        fc.tuple(
          mostly(nearArb([n, 3]), nearArb([n, 1])),
          mostly(labelsArb(n, 3), fc.array(fc.constantFrom(0, 1, 255, -100), { minLength: n, maxLength: n })),
          lossOptionsArb,
        ),
      ),
    call: ([x, t, options]) => {
      const layer = new nn.SoftmaxWithLoss(options as nn.SoftmaxWithLossOptions);
      if (isFloatTensor(x) && x.isLeaf && !Object.isFrozen(x)) x.requiresGrad = true;
      const loss = layer.forward(x as Tensor, t as Labels);
      if (loss.size !== 1) throw new Error(`SoftmaxWithLoss.forward returned a loss of shape [${loss.shape}]`);
      return layer.backward();
    },
    check: isTensorOrNull("SoftmaxWithLoss.forward"),
    names: ["SoftmaxWithLoss", "SoftmaxWithLoss.forward", "SoftmaxWithLoss.backward"],
  },
  autodiffBackward: {
    // mostly a coherent call, as a layer makes it: output = x·p recorded, grads line up with params
    arb: fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.boolean()).chain(([shape, xGrad]) =>
      fc.tuple(oddTensorArb(shape, xGrad), oddTensorArb([], false)).chain(([x, p]) => {
        const grads = [nn.gradBufferFor(p)];
        const out = mul(x, p);
        return fc.tuple(
          mostly(fc.constant("Layer"), junkArb),
          mostly(fc.constant(x), fc.oneof(tensorArgArb, fc.constant(null))),
          mostly(fc.constant(out), fc.oneof(tensorArgArb, fc.constant(null))),
          mostly(fc.constant([p]), fc.oneof(fc.array(tensorArgArb, { maxLength: 2 }), junkArb, sparseArb)),
          mostly(fc.constant(grads), fc.oneof(fc.array(tensorArgArb, { maxLength: 2 }), junkArb, sparseArb)),
          mostly(fc.oneof(fc.constant(undefined), gradFor(out)), tensorArgArb),
        );
      }),
    ),
    call: (a) => (nn.autodiffBackward as AnyFn)(...a),
    check: isTensorOrNull("autodiffBackward"),
    // errors name the layer's backward, `${layer}.backward`, once layer is a usable name
    names: ([layer]) => [
      "autodiffBackward",
      ...(typeof layer === "string" && layer !== "" ? [`${layer}.backward`] : []),
    ],
  },
  gradBufferFor: {
    argNames: ["param"],
    arb: fc.tuple(tensorArgArb),
    call: ([p]) => nn.gradBufferFor(p as Tensor),
  },
  // --- models
  Sequential: {
    argNames: ["layers", "lossLayer"],
    arb: fc.tuple(
      fc.oneof(
        fc.constant(0).map(() => [new nn.Affine(W32(), b2()), new nn.ReLU()]),
        fc.array(
          fc.oneof(
            fc.constant(0).map(() => new nn.Sigmoid()),
            junkArb,
          ),
          { maxLength: 2 },
        ),
        junkArb,
        sparseArb,
      ),
      fc.oneof(
        fc.constant(undefined),
        fc.constant(0).map(() => new nn.SoftmaxWithLoss()),
        junkArb,
      ),
    ),
    call: (a) => new (nn.Sequential as unknown as AnyCtor)(...a),
    check: (v) => checkParamsGrads("Sequential", v as nn.Model),
  },
  "Sequential.forward": {
    argNames: ["x", "t", "dout", "gradOutput", "forward", "W"],
    arb: fc
      .oneof(fc.constant(2), fc.integer({ min: 0, max: 3 }))
      .chain((n) =>
        fc.tuple(
          nearArb([n, 3]),
          labelsArb(n, 2),
          fc.oneof(fc.constant(undefined), fc.constantFrom<unknown>(1, 0.5, Number.NaN), junkArb),
          fc.constantFrom("predict", "forward", "forward+backward", "backward", "twice"),
        ),
      ),
    call: ([x, t, dout, mode]) => {
      const model = new nn.Sequential([new nn.Affine(W32(), b2()), new nn.Tanh()]);
      if (mode === "predict") return model.predict(x as Tensor);
      if (mode !== "backward") {
        const loss = model.forward(x as Tensor, t as Labels);
        checkLoss("Sequential.forward", x, t)(loss, [x, t]);
        if (mode === "forward") return loss;
      }
      model.backward(dout as number);
      if (mode === "twice") model.backward(dout as number);
      checkParamsGrads("Sequential", model);
      return null;
    },
    check: isTensorOrNull("Sequential.forward"),
    names: ["Sequential.forward", "Sequential.backward", "Sequential.predict", "predict", ".forward", "backward"],
  },
  TwoLayerNet: {
    argNames: [
      "inputSize",
      "hiddenSize",
      "outputSize",
      "options",
      "option",
      "seed",
      "dtype",
      "storage",
      "init",
      "W1",
      "W2",
    ],
    arb: fc.tuple(sizeArb, sizeArb, sizeArb).chain(([i, h, o]) => {
      const ok = [i, h, o].every((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 4);
      const [I, H, O] = ok ? ([i, h, o] as number[]) : [2, 2, 2];
      const init = mostly(
        fc.record(
          { W1: nearArb([I!, H!]), b1: nearArb([H!]), W2: nearArb([H!, O!]), b2: nearArb([1, O!]) },
          { requiredKeys: ["W1", "W2"] },
        ),
        fc.oneof(
          fc.record({ W1: tensorArgArb, b1: tensorArgArb, W2: tensorArgArb, b2: tensorArgArb }, { requiredKeys: [] }),
          junkArb,
        ),
      );
      return fc.tuple(
        fc.constant(i),
        fc.constant(h),
        fc.constant(o),
        optionsArb({
          seed: seedArb,
          dtype: dtypeArb,
          storage: fc.oneof(fc.constantFrom("js", "wasm", "WASM"), junkArb),
          init,
        }),
      );
    }),
    call: (a) => new (nn.TwoLayerNet as unknown as AnyCtor)(...a),
    check: (v, args) => {
      const net = v as nn.TwoLayerNet;
      checkParamsGrads("TwoLayerNet", net);
      const [i, h, o] = args as number[];
      const shapes = net.params.map((p) => p.shape.join("x")).join(" ");
      if (shapes !== `${i}x${h} ${h} ${h}x${o} ${o}`) throw new Error(`TwoLayerNet made params ${shapes}`);
      const dtype = (args[3] as { dtype?: FloatDType } | undefined)?.dtype ?? "float32";
      if (net.params.some((p) => p.dtype !== dtype)) throw new Error(`TwoLayerNet ignored dtype ${dtype}`);
      const storage = (args[3] as { storage?: string } | undefined)?.storage ?? "js";
      if ([...net.params, ...net.grads].some((p) => p.storage !== storage)) {
        throw new Error(`TwoLayerNet ignored storage ${storage}`);
      }
    },
  },
  "TwoLayerNet.forward": {
    arb: fc
      .oneof(fc.constant(3), fc.integer({ min: 0, max: 4 }))
      .chain((n) => fc.tuple(nearArb([n, 2]), labelsArb(n, 3))),
    call: ([x, t]) => {
      const net = smallNet();
      const loss = net.forward(x as Tensor, t as Labels);
      checkLoss("TwoLayerNet.forward", x, t)(loss, [x, t]);
      net.backward();
      checkParamsGrads("TwoLayerNet", net);
      return net.predict(x as Tensor);
    },
    names: [".forward", "predict"],
  },
  // --- optimizers
  ...optimizerCases(),
  createOptimizer: {
    argNames: ["name", "options", "option", "lr", "momentum", "eps", "decayRate", "beta1", "beta2"],
    arb: fc
      .tuple(
        mostly(
          fc.constantFrom<unknown>(...nn.OPTIMIZER_NAMES),
          fc.oneof(fc.constantFrom<unknown>("SGD", "adamw", "__proto__", "constructor"), junkArb),
        ),
        fc.constant(0),
      )
      .chain(([name]) => {
        const cls = Object.keys(OPTIMIZERS).find((k) => k.toLowerCase() === name);
        return fc.tuple(fc.constant(name), optimizerOptionsArb(cls === undefined ? ["lr"] : OPTIMIZERS[cls]!.keys));
      }),
    call: (a) => (nn.createOptimizer as AnyFn)(...a),
    check: anyResult,
    names: ["createOptimizer", ...Object.keys(OPTIMIZERS)],
  },
  clipGradNorm: {
    argNames: ["grads", "maxNorm"],
    arb: fc.tuple(
      mostly(
        fc.array(oddTensor, { maxLength: 3 }),
        fc.oneof(fc.array(tensorArgArb, { maxLength: 3 }), junkArb, sparseArb),
      ),
      fc.oneof(fc.constantFrom<unknown>(1, 0.01, Number.POSITIVE_INFINITY, 0, -1, Number.NaN), junkArb),
    ),
    call: (a) => (nn.clipGradNorm as AnyFn)(...a),
    check: (v) => {
      if (typeof v !== "number" || v < 0) throw new Error(`clipGradNorm returned ${String(v)}`);
    },
  },
  // --- training
  Trainer: {
    argNames: ["model", "optimizer"],
    arb: fc.tuple(
      fc.oneof(fc.constant(0).map(smallNet), junkArb),
      fc.oneof(
        fc.constant(0).map(() => new nn.SGD()),
        junkArb,
      ),
    ),
    call: (a) => new (nn.Trainer as unknown as AnyCtor)(...a),
    check: anyResult,
  },
  "Trainer.fit": {
    argNames: [
      "x",
      "t[",
      "labels",
      "options",
      "option",
      "maxEpoch",
      "batchSize",
      "evalInterval",
      "seed",
      "maxGrad",
      "shuffle",
      "output",
    ],
    arb: fc.tuple(fitDataArb, trainerFitOptionsArb).map(([[x, t], o]) => [x, t, o]),
    call: ([x, t, options]) =>
      new nn.Trainer(smallNet(), new nn.SGD({ lr: 0.1 })).fit(x as Tensor, t as Labels, options as nn.FitOptions),
    check: (v) => {
      const tr = v as nn.Trainer;
      if (!(tr instanceof nn.Trainer) || tr.batchLosses.length === 0) throw new Error("Trainer.fit did not train");
    },
    names: ["Trainer.fit", ".forward"],
  },
  // --- data and metrics
  loadSpiral: {
    argNames: ["options", "pointsPerClass", "classes", "seed", "dtype"],
    arb: fc.tuple(optionsArb({ seed: seedArb, pointsPerClass: sizeArb, classes: sizeArb, dtype: dtypeArb })),
    call: ([o]) => nn.loadSpiral(o as nn.SpiralOptions),
    check: (v, args) => {
      const d = v as nn.SpiralData;
      checkTensorResult("loadSpiral", args, d.x);
      checkTensorResult("loadSpiral", args, d.t);
      const n = d.x.shape[0]!;
      if (d.labels.length !== n || d.t.shape[0] !== n || d.x.shape[1] !== 2)
        throw new Error("loadSpiral: parts disagree");
    },
  },
  accuracy: {
    argNames: ["model", "x", "t", "labels", "predictions"],
    arb: fc
      .oneof(fc.constant(3), fc.integer({ min: 0, max: 4 }))
      .chain((n) =>
        fc.tuple(
          fc.oneof(
            fc.constant(0).map(smallNet),
            fc.constant({ predict: () => "junk" }),
            fc.constant({ predict: (x: Tensor) => x }),
            fc.constant({ predict: () => zeros([2]) }),
            junkArb,
          ),
          nearArb([n, 2]),
          labelsArb(n, 3),
        ),
      ),
    call: (a) => (nn.accuracy as AnyFn)(...a),
    // the model's own errors for an x it rejects name its layer
    names: ["accuracy", ".forward", "predict"],
    check: (v) => {
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new Error(`accuracy returned ${String(v)}`);
    },
  },
  argmaxRows: {
    argNames: ["scores"],
    arb: fc.tuple(tensorArgArb),
    call: ([s]) => nn.argmaxRows(s as Tensor),
    check: (v) => {
      if (!(v instanceof Int32Array)) throw new Error("argmaxRows returned a non-Int32Array");
    },
  },
  labelIndices: {
    arb: fc
      .oneof(fc.constant(3), fc.integer({ min: 0, max: 4 }))
      .chain((n) =>
        fc.tuple(fc.oneof(fc.constant("caller"), junkArb), labelsArb(n, 3), fc.oneof(fc.constant(n), sizeArb)),
      ),
    call: (a) => (nn.labelIndices as AnyFn)(...a),
    check: (v, args) => {
      if (!(v instanceof Int32Array) || v.length !== args[2]) throw new Error("labelIndices returned the wrong count");
    },
    names: ([fn]) => ["labelIndices", ...(typeof fn === "string" && fn !== "" ? [`${fn}:`] : [])],
  },
  // --- checkpoints (the bytes themselves are fuzzed by checkpoint-fuzz.test.ts)
  saveParams: {
    arb: fc.tuple(pathArb, namedTensorsArb, encodeOptionsArb),
    call: ([p, t, o]) => (nn.saveParams as AnyFn)(resolvePath(p), t, o),
    check: anyResult,
    runs: 0.5,
  },
  loadParams: {
    arb: fc.tuple(pathArb, decodeOptionsArb),
    call: ([p, o]) => (nn.loadParams as AnyFn)(resolvePath(p), o),
    check: namedResult("loadParams"),
    runs: 0.5,
  },
  loadParamsInto: {
    arb: fc.tuple(
      mostly(fc.constant("@valid.safetensors"), pathArb),
      mostly(
        fc.constant(0).map(() => ({ W: zeros([1, 2]), b: zeros([1]) })),
        namedTensorsArb,
      ),
      mostly(fc.constant(undefined), decodeOptionsArb),
    ),
    call: ([p, t, o]) => (nn.loadParamsInto as AnyFn)(resolvePath(p), t, o),
    check: anyResult,
    runs: 0.5,
  },
  writeFileAtomic: {
    // never over @valid.safetensors, which the loadParamsInto cases read
    arb: fc.tuple(
      mostly(
        fc.constant("@out.txt"),
        pathArb.filter((p) => p !== "@valid.safetensors"),
      ),
      mostly(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 })), junkArb),
    ),
    call: ([p, d]) => (nn.writeFileAtomic as AnyFn)(resolvePath(p), d),
    check: anyResult,
    runs: 0.5,
  },
  encodeSafetensors: {
    arb: fc.tuple(namedTensorsArb, encodeOptionsArb),
    call: (a) => (nn.encodeSafetensors as AnyFn)(...a),
    check: (v) => {
      if (!(v instanceof Uint8Array)) throw new Error("encodeSafetensors returned no bytes");
    },
  },
  decodeSafetensors: {
    arb: fc.tuple(bytesArb, decodeOptionsArb),
    call: (a) => (nn.decodeSafetensors as AnyFn)(...a),
    check: namedResult("decodeSafetensors"),
  },
  parseSafetensors: {
    arb: fc.tuple(bytesArb, decodeOptionsArb),
    call: (a) => (nn.parseSafetensors as AnyFn)(...a),
    check: (v, args) => namedResult("parseSafetensors")((v as nn.SafetensorsContents).tensors, args),
  },
  // --- float16
  toFloat16Bits: {
    argNames: ["x"],
    arb: fc.tuple(fc.oneof(fc.double(), junkArb)),
    call: (a) => (nn.toFloat16Bits as AnyFn)(...a),
    check: (v) => {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff)
        throw new Error(`toFloat16Bits returned ${String(v)}`);
    },
  },
  fromFloat16Bits: {
    argNames: ["bits"],
    arb: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer(), fc.double(), junkArb)),
    call: (a) => (nn.fromFloat16Bits as AnyFn)(...a),
    check: (v) => {
      if (typeof v !== "number") throw new Error(`fromFloat16Bits returned ${String(v)}`);
    },
  },
  // --- bfloat16
  toBfloat16Bits: {
    argNames: ["x"],
    arb: fc.tuple(fc.oneof(fc.double(), junkArb)),
    call: (a) => (nn.toBfloat16Bits as AnyFn)(...a),
    check: (v) => {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff)
        throw new Error(`toBfloat16Bits returned ${String(v)}`);
    },
  },
  fromBfloat16Bits: {
    argNames: ["bits"],
    arb: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer(), fc.double(), junkArb)),
    call: (a) => (nn.fromBfloat16Bits as AnyFn)(...a),
    check: (v) => {
      if (typeof v !== "number") throw new Error(`fromBfloat16Bits returned ${String(v)}`);
    },
  },
};

/** Exports that are not fuzzed, and why. */
export const NOT_FUZZED: Readonly<Record<string, string>> = {
  CheckpointError: "an error class",
};
