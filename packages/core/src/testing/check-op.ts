/**
 * `checkOp`: a property-based gradient check of an op over arbitrary shapes, attributes and
 * values, drawn from the op's own test declaration (`spec.test`) unless overridden. Every case is
 * differentiated by every route (`grad()`, `grad()` with `createGraph`, and `.backward()` into
 * zeroed leaf gradients, twice), in float32 against the op's own float64 gradient, and, for an op
 * that declares a `fusedBackward`, by that rule against `backward`. A failure is shrunk by
 * fast-check to a minimal case and reported with the seed that replays it.
 */
import fc from "fast-check";
import { allocArray, type DType, type FloatArray, type FloatDType } from "../dtype.js";
import { ArgumentError, describeValue, fmtShape, GradcheckError, optionsObject } from "../errors.js";
import {
  GRADCHECK_OPTIONS,
  type GradcheckOptions,
  type GradcheckReport,
  type GradRoute,
  gradcheck,
  resolveRoutes,
  unravel,
} from "../gradcheck.js";
import { enableGrad, type GradDestinations, isNode, NO_DESTINATIONS, noGrad, sumTo } from "../graph.js";
import { gradgradcheck } from "../higher-order.js";
import type { MultiOp, Op, OpTestSpec, Picker } from "../op.js";
import { Rng } from "../random.js";
import { type Shape, shapeSize } from "../shape.js";
import { type AnyTensor, isTensor, Tensor, tensor } from "../tensor.js";
import { type ShapeConstraints, shapeArb } from "./arbitraries.js";

/** The keys of {@link CheckOpOptions}: its own and those of the op's `spec.test` it may override. */
const CHECK_OP_OPTIONS = [
  "dtype",
  "numRuns",
  "seed",
  "shape",
  "gradcheck",
  "secondOrder",
  "shapes",
  "attrs",
  "cases",
  "domain",
  "domains",
  "avoid",
  "precondition",
  "twice",
  "dtypes",
] as const;

/** The keys of `checkOp`'s `gradcheck` option: gradcheck's, except `seed`. */
const CHECK_OP_GRADCHECK_OPTIONS = GRADCHECK_OPTIONS.filter((k) => k !== "seed");

/** Options of `checkOp`; `shapes`, `attrs`, `cases` and `domain` override the op's `spec.test`. */
export interface CheckOpOptions<A> extends OpTestSpec<A> {
  /**
   * dtype the op is checked in (default `'float64'`). In float32 every gradient is compared with
   * the op's own float64 gradient at the same inputs (which is checked against central
   * differences), so a derivative 0.5% off fails in either dtype.
   */
  dtype?: FloatDType;
  /** Number of generated cases (default 40). */
  numRuns?: number;
  /**
   * fast-check's seed, to replay a reported failure: a 32-bit signed integer, as the report prints
   * it (fast-check folds anything wider into 32 bits, so wider seeds are refused). Not an `Rng`
   * seed: the gradient checks' own weights come from `gradcheck`'s default seed.
   */
  seed?: number;
  /**
   * Bounds on generated shapes (default ranks 0..3, dimensions 0..4). Most cases keep ranks and
   * dimensions at 1 or more and have an input of two elements or more; one case in 16 is made of
   * one-element inputs (rank 0 where allowed) and one in 16 has a zero-size dimension (where
   * `minDim` is 0).
   */
  shape?: ShapeConstraints;
  /**
   * Options of each gradcheck (tolerances, `routes`; default every route, see `gradcheck`). Its
   * `crossAtol`/`crossRtol` also bound `fusedBackward` against `backward`.
   */
  gradcheck?: Omit<GradcheckOptions, "seed">;
  /**
   * Check second derivatives too: each case also runs `gradgradcheck` (skipped for ops that
   * declare `test.twice: false`).
   */
  secondOrder?: boolean;
}

/** What `checkOp` ran, when every case passed. */
export interface CheckOpReport {
  /** Cases checked (drawn and not skipped by the op's `precondition`). */
  cases: number;
  /** Cases in which some input has at least two elements. */
  nonTrivial: number;
  /** The routes every case was differentiated by (see `GradRoute`). */
  routes: GradRoute[];
  /** True when the op declares a `fusedBackward`, which was compared with `backward` on every case. */
  fusedBackward: boolean;
  /** True when second derivatives were checked too. */
  secondOrder: boolean;
}

/** How a case draws its shapes: most are regular; a few are edge cases. */
type CaseKind = "regular" | "scalar" | "empty";

/**
 * Of every 16 case slots (the cases run, plus the edge slots whose case a precondition refused),
 * the one made of one-element inputs and the one with a zero-size dimension.
 */
const SCALAR_SLOT = 13;
const EMPTY_SLOT = 5;
const PERIOD = 16;
/**
 * How often a regular case is drawn again when no input has two elements. fast-check biases its
 * integers toward the minimum, so all-ones shapes come up often: with 10, one run in about 200 of
 * 64 cases kept a regular case of one element (seed 46); with 50 that no longer happens.
 */
const MAX_REDRAWS = 50;

function caseKind(run: number): CaseKind {
  const slot = run % PERIOD;
  return slot === SCALAR_SLOT ? "scalar" : slot === EMPTY_SLOT ? "empty" : "regular";
}

/** Where `fusedBackward` and `backward` disagree, for failure reports. */
interface FusedMismatch {
  input: number;
  index: number[];
  backward: number;
  fused: number;
  tolerance: number;
  /** Whether fusedBackward was offered destinations (zeroed arrays) in the disagreeing run. */
  destinations: boolean;
}

/** What one generated case was, for failure reports. */
interface DrawnCase {
  kind: CaseKind;
  shapes: Shape[];
  attrs: unknown;
  inputs: AnyTensor[];
  report: GradcheckReport | null;
  /** 1 for the gradient check, 2 once the second-order check runs. */
  order?: number;
  fused: FusedMismatch | null;
}

/** An op spec as `checkOp` reads it: `fusedBackward` is optional and may be absent from the type. */
interface CheckedSpec {
  name: string;
  inputs: readonly string[];
  variadic?: boolean;
  test?: OpTestSpec<unknown>;
  backward(grads: unknown, ctx: unknown): readonly (Tensor | null | undefined)[];
  fusedBackward?: unknown;
}

/** A declared fusedBackward, as `checkOp` calls it. */
type FusedRule = (grads: unknown, ctx: unknown, out: GradDestinations) => readonly (Tensor | null | undefined)[];

/**
 * Runs a property-based gradcheck of `op` (made by `defineOp` or `defineMultiOutputOp`).
 * @returns what was run: the number of cases, how many had an input of two elements or more, the
 *   routes, and whether `fusedBackward` and second derivatives were checked.
 * @throws GradcheckError with the op's name, the shrunk failing case (shapes, attributes, input
 *   values, worst element and the route it came from) and the `seed` to replay it; `ArgumentError`
 *   for a non-op, a `seed` that is not a 32-bit signed integer, or an options key (or a key of
 *   `options.gradcheck`) that is not one of {@link CheckOpOptions}.
 */
export function checkOp<A>(
  op: Op<A, AnyTensor | "operands"> | MultiOp<A>,
  options: CheckOpOptions<A> = {},
): CheckOpReport {
  if (typeof op !== "function" || typeof (op as { spec?: unknown }).spec !== "object") {
    throw new ArgumentError("checkOp", `checkOp: op must be made by defineOp, got ${describeValue(op)}`);
  }
  options = optionsObject("checkOp", options, CHECK_OP_OPTIONS);
  // (the seed of each gradcheck is checkOp's to choose)
  if (options.gradcheck !== undefined) optionsObject("checkOp", options.gradcheck, CHECK_OP_GRADCHECK_OPTIONS);
  const spec = op.spec as unknown as CheckedSpec;
  // an option given as `undefined` must not hide the op's own declaration
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as CheckOpOptions<A>;
  const test: OpTestSpec<A> = { ...(spec.test as OpTestSpec<A>), ...given };
  const arity = spec.inputs.length;
  const dtype = options.dtype ?? "float64";
  const [lo, hi] = test.domain ?? [-2, 2];
  const shapeC: ShapeConstraints = { maxRank: 4, maxDim: 4, ...options.shape };
  const gcOptions: GradcheckOptions = { routes: "all", ...options.gradcheck, localize: false };
  const routes = resolveRoutes("checkOp", gcOptions.routes);
  const fused = typeof spec.fusedBackward === "function" ? (spec.fusedBackward as FusedRule) : null;
  let lastFailing: DrawnCase | null = null;
  // one instance for the whole run: fc.gen matches replayed values by the arbitrary's identity,
  // so a fresh instance per call would defeat shrinking
  const valueArb = gridValues(lo, hi, test.avoid ?? []);
  const fixedDTypes: readonly (DType | undefined)[] = test.dtypes ?? [];
  const inputArbs = Array.from({ length: Math.max(arity, test.domains?.length ?? 0, fixedDTypes.length) }, (_, k) => {
    const d = test.domains?.[k];
    const [l, h] = d ?? [lo, hi];
    if (fixedDTypes[k] === "bool") return fc.integer({ min: 0, max: 1 });
    if (fixedDTypes[k] === "int32") return fc.integer({ min: Math.ceil(l), max: Math.floor(h) });
    return d === undefined ? valueArb : gridValues(l, h, test.avoid ?? []);
  });
  const second = options.secondOrder === true && test.twice !== false;
  let cases = 0;
  let nonTrivial = 0;
  // edge-case slots whose case the op's precondition refused (they are not drawn again)
  let edgeSkips = 0;

  const property = fc.property(fc.gen(), (g) => {
    // the kind follows the number of cases run so far (plus the edge slots skipped), so a fixed
    // share of the cases run are edge cases even when a precondition refuses many drawn cases
    // (a refused regular case is drawn again as a regular one); shrinking keeps the failing
    // case's kind
    const kind = lastFailing?.kind ?? caseKind(cases + edgeSkips);
    const pick: Picker = {
      int: (min, max) => g(fc.integer, { min, max }),
      bool: () => g(fc.boolean),
      // a copy: fast-check replays its own array when shrinking, so it must never be mutated
      shape: (o) => drawShape(g, kind, { ...shapeC, ...o }),
    };
    let shapes: Shape[] = [];
    let attrs = undefined as A;
    for (let attempt = 0; attempt <= MAX_REDRAWS; attempt++) {
      if (test.cases !== undefined) {
        ({ shapes, attrs } = test.cases(pick));
      } else {
        shapes = drawShapes(test.shapes, arity, pick, kind, shapeC);
        attrs = (test.attrs ? test.attrs(shapes, pick) : undefined) as A;
      }
      if (kind !== "regular" || shapes.some((s) => shapeSize(s) >= 2)) break;
    }
    const inputs = shapes.map((s, k): AnyTensor => {
      const n = shapeSize(s);
      const values = g(fc.array, inputArbs[k] ?? valueArb, { minLength: n, maxLength: n });
      const fixed = fixedDTypes[k];
      return tensor(Float64Array.from(values), { shape: [...s], dtype: fixed ?? dtype });
    });
    if (test.precondition !== undefined && !test.precondition(inputs as Tensor[], attrs)) {
      if (kind !== "regular" && lastFailing === null) edgeSkips++;
      fc.pre(false);
    }
    cases++;
    if (shapes.some((s) => shapeSize(s) >= 2)) nonTrivial++;
    const drawn: DrawnCase = { kind, shapes, attrs, inputs, report: null, fused: null };
    // the int32 and bool inputs are held fixed: the gradient check differentiates the float ones
    const floats = inputs.filter((t): t is Tensor => t.dtype === "float32" || t.dtype === "float64");
    const callAll = (...xs: AnyTensor[]) => (op as (i: AnyTensor[], a: A) => Tensor | Tensor[])(xs, attrs);
    const call =
      floats.length === inputs.length
        ? callAll
        : (...xs: Tensor[]) => {
            let f = 0;
            return callAll(...inputs.map((t) => (t.dtype === "float32" || t.dtype === "float64" ? xs[f++]! : t)));
          };
    let passed = false;
    try {
      // the declared second rule against backward first, on the same node: where they differ, the
      // routes would differ too (a first-order grad() runs fusedBackward, createGraph runs
      // backward), but this names the rule that differs
      if (fused !== null) drawn.fused = compareFused(spec, fused, callAll, inputs, gcOptions);
      if (drawn.fused === null) {
        drawn.report = gradcheck(call, floats, gcOptions);
        if (second && drawn.report.passed) {
          drawn.order = 2;
          drawn.report = gradgradcheck(call, floats, gcOptions);
        }
      }
      passed = drawn.fused === null && drawn.report !== null && drawn.report.passed;
    } finally {
      // the last failing run is the shrunk counterexample: shrinking moves only to failing cases
      if (!passed) lastFailing = drawn;
    }
    return passed;
  });

  const params: fc.Parameters<[fc.GeneratorValue]> = { numRuns: options.numRuns ?? 40 };
  if (options.seed !== undefined) params.seed = fastCheckSeed(options.seed);
  const details = fc.check(property, params);
  if (!details.failed) {
    return {
      cases,
      nonTrivial,
      routes,
      fusedBackward: fused !== null,
      secondOrder: second,
    };
  }
  throw new GradcheckError(spec.name, failureMessage(spec, dtype, details, lastFailing, params.numRuns!));
}

/** The message of a failed `checkOp`: the minimal case, what was wrong in it, and the replay call. */
function failureMessage(
  spec: CheckedSpec,
  dtype: FloatDType,
  details: fc.RunDetails<[fc.GeneratorValue]>,
  c: DrawnCase | null,
  numRuns: number,
): string {
  const label = (i: number) => (spec.variadic ? `${spec.inputs[0]}[${i}]` : (spec.inputs[i] ?? String(i)));
  const lines = [
    `checkOp(${spec.name}) failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s).`,
  ];
  if (c !== null) {
    lines.push(
      `  minimal case: input shapes ${c.shapes.map(fmtShape).join(", ")}; attrs ${JSON.stringify(c.attrs)}; dtype ${dtype}`,
    );
    c.inputs.forEach((t, i) => {
      lines.push(`  input ${i} (${label(i)}) = ${JSON.stringify(t.toArray())}`);
    });
    const f = c.fused;
    const w = c.report?.worst;
    if (f !== null) {
      lines.push(
        `  fusedBackward disagrees with backward: input ${f.input} (${label(f.input)}) at ${fmtShape(f.index)}: fusedBackward${f.destinations ? " (offered destinations)" : ""} ${f.fused} vs backward ${f.backward} (abs error ${Math.abs(f.fused - f.backward).toExponential(3)} > tolerance ${f.tolerance.toExponential(3)})`,
      );
    } else if (c.report && w) {
      const order = c.order === 2 ? "second derivative, " : "";
      const against =
        w.against === "reference"
          ? `vs reference ${w.expected} (the '${c.report.routes[0]}' route${c.report.reference !== null ? " in float64" : ""}; numeric ${w.numeric})`
          : `vs numeric ${w.numeric}`;
      lines.push(
        `  worst element: input ${floatInput(c.inputs, w.input)} (${label(floatInput(c.inputs, w.input))}) at ${fmtShape(w.index)}: ${order}route ${w.route} (${w.dtype}) analytic ${w.analytic} ${against} (abs error ${w.absError.toExponential(3)} > tolerance ${w.tolerance.toExponential(3)}; atol ${c.report.atol}, rtol ${c.report.rtol}, crossAtol ${c.report.crossAtol}, crossRtol ${c.report.crossRtol})`,
      );
    }
  }
  if (details.errorInstance)
    lines.push(`  error: ${String((details.errorInstance as Error).message ?? details.errorInstance)}`);
  // The seed alone replays the run deterministically, shrinking included. (fast-check's `path`
  // shortcut is not replayable through fc.gen's shrinker, so it is not offered.)
  lines.push(`  replay: checkOp(op, { seed: ${details.seed}, numRuns: ${numRuns} })`);
  return lines.join("\n");
}

/**
 * Calls `backward` and `fusedBackward` on the node the op records for `inputs` (recording off, as
 * the engine runs a first-order backward), with the same random output weights, and compares
 * their gradients input by input; returns the worst element outside the cross tolerances, or null.
 */
function compareFused(
  spec: CheckedSpec,
  fused: FusedRule,
  call: (...xs: AnyTensor[]) => Tensor | Tensor[],
  inputs: readonly AnyTensor[],
  options: GradcheckOptions,
): FusedMismatch | null {
  const leaves = inputs.map((t) =>
    t.dtype === "float32" || t.dtype === "float64" ? new Tensor(t.data.slice(), t.shape, true) : t,
  );
  const out = enableGrad(() => call(...leaves));
  const outs = Array.isArray(out) ? out : [out];
  const node = outs[0]?.creator ?? null;
  if (!isNode(node)) return null;
  const rng = new Rng(0);
  const gys = outs.map((o) => {
    const d = allocArray(o.dtype, o.size);
    for (let i = 0; i < d.length; i++) d[i] = Math.fround(2 * rng.uniform() - 1);
    return new Tensor(d, o.shape);
  });
  const grads = Array.isArray(out) ? gys : gys[0];
  // fusedBackward runs twice: offered no destinations, and offered a zeroed array for every
  // input that needs a gradient (as a first-order backward() offers a leaf's zeroed .grad)
  const zeroed: GradDestinations = {
    take(i) {
      const t = inputs[i];
      if (t === undefined || !node.needsInputGrad[i] || (t.dtype !== "float32" && t.dtype !== "float64")) return null;
      return new Tensor(allocArray(t.dtype, t.size), t.shape);
    },
  };
  const [a, b, c] = noGrad(() => [
    spec.backward(grads, node),
    fused.call(spec, grads, node, NO_DESTINATIONS),
    fused.call(spec, grads, node, zeroed),
  ]);
  const f32 = inputs.some((t) => t.dtype === "float32");
  const atol = options.crossAtol ?? (f32 ? 1e-4 : 1e-9);
  const rtol = options.crossRtol ?? (f32 ? 1e-3 : 1e-7);
  const local = (gs: unknown, i: number): FloatArray => {
    const g = Array.isArray(gs) ? gs[i] : undefined;
    const shape = inputs[i]!.shape;
    if (!isTensor(g)) return new Float64Array(inputs[i]!.size);
    return noGrad(() => sumTo(g as Tensor, shape)).data;
  };
  let worst: FusedMismatch | null = null;
  let worstScore = 1;
  for (let i = 0; i < inputs.length * 2; i++) {
    const input = i % inputs.length;
    if (!node.needsInputGrad[input]) continue;
    const ga = local(a, input);
    const gb = local(i < inputs.length ? b : c, input);
    // at least the largest input element, as gradcheck's cross-check (rounding follows the inputs)
    let scale = 0;
    for (const t of inputs) for (let j = 0; j < t.data.length; j++) scale = Math.max(scale, Math.abs(t.data[j]!));
    for (let j = 0; j < ga.length; j++) scale = Math.max(scale, Math.abs(ga[j]!));
    for (let j = 0; j < ga.length; j++) {
      const tol = atol * scale + rtol * Math.abs(ga[j]!);
      const err = Math.abs(gb[j]! - ga[j]!);
      const score = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / (tol > 0 ? tol : Number.MIN_VALUE);
      if (!(err <= tol) && score >= worstScore) {
        worstScore = score;
        worst = {
          input,
          index: unravel(j, inputs[input]!.shape),
          backward: ga[j]!,
          fused: gb[j]!,
          tolerance: tol,
          destinations: i >= inputs.length,
        };
      }
    }
  }
  return worst;
}

/** The position among all inputs of float input `k` (the gradient check sees the float ones only). */
function floatInput(inputs: readonly AnyTensor[], k: number): number {
  let f = -1;
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.dtype === "float32" || inputs[i]!.dtype === "float64") f++;
    if (f === k) return i;
  }
  return k;
}

/** A fast-check seed: fast-check keeps 32 bits of it (`seed | 0`, folding the rest in), so only those are taken. */
function fastCheckSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < -(2 ** 31) || seed > 2 ** 31 - 1) {
    throw new ArgumentError(
      "checkOp",
      `checkOp: seed must be a 32-bit signed integer (fast-check's seed, as a failure report prints it), got ${describeValue(seed)}`,
    );
  }
  return seed;
}

/** The resolved bounds of `c` (defaults ranks 0..4, dimensions 0..4). */
function bounds(c: ShapeConstraints): Required<ShapeConstraints> {
  const minRank = c.minRank ?? 0;
  const minDim = c.minDim ?? 0;
  return { minRank, maxRank: c.maxRank ?? Math.max(4, minRank), minDim, maxDim: c.maxDim ?? Math.max(4, minDim) };
}

/**
 * A shape for a case of `kind` within `c`: regular cases raise the smallest rank and dimension to
 * 1 (where `c` allows); scalar cases are one-element shapes of the smallest rank; empty cases set
 * one dimension to 0 (where `c` allows).
 */
function drawShape(g: fc.GeneratorValue, kind: CaseKind, c: ShapeConstraints): number[] {
  const b = bounds(c);
  if (kind === "scalar") {
    return new Array<number>(b.minRank).fill(Math.min(Math.max(1, b.minDim), b.maxDim));
  }
  const minRank = Math.min(Math.max(1, b.minRank), b.maxRank);
  const minDim = kind === "regular" ? Math.min(Math.max(1, b.minDim), b.maxDim) : b.minDim;
  const s = [...g(shapeArb, { minRank, maxRank: b.maxRank, minDim, maxDim: b.maxDim })];
  if (kind === "empty" && b.minDim === 0 && s.length > 0) s[g(fc.integer, { min: 0, max: s.length - 1 })] = 0;
  return s;
}

function drawShapes(
  mode: OpTestSpec<unknown>["shapes"],
  arity: number,
  pick: Picker,
  kind: CaseKind,
  c: ShapeConstraints,
): Shape[] {
  if (typeof mode === "function") return mode(pick);
  const kindOf = mode ?? (arity > 1 ? "broadcast" : "same");
  if (kindOf === "matmul") {
    const b = bounds(c);
    const lo = kind === "regular" ? Math.min(Math.max(1, b.minDim), b.maxDim) : b.minDim;
    const hi = kind === "scalar" ? lo : b.maxDim;
    const dims = [pick.int(lo, hi), pick.int(lo, hi), pick.int(lo, hi)];
    if (kind === "scalar") dims.fill(Math.min(Math.max(1, b.minDim), b.maxDim));
    if (kind === "empty" && b.minDim === 0) dims[pick.int(0, 2)] = 0;
    const [n, k, h] = dims as [number, number, number];
    return [
      [n, k],
      [k, h],
    ];
  }
  const full = pick.shape(c);
  if (kindOf === "same") return Array.from({ length: arity }, () => full);
  return Array.from({ length: arity }, (_, i) => {
    // a zero-size case keeps its zero in the first input
    if (kind === "empty" && i === 0) return full;
    const drop = pick.int(0, full.length);
    return full.slice(drop).map((d) => (pick.bool() ? d : 1));
  });
}

/**
 * Values in `[lo, hi]` on a grid of 1/1024: exactly representable in float32 (so both dtypes see
 * the same inputs), and shrinking towards the point nearest 0 ends after a few steps.
 */
function gridValues(lo: number, hi: number, avoid: readonly number[]): fc.Arbitrary<number> {
  const q = 1024;
  return fc
    .integer({ min: Math.ceil(lo * q), max: Math.floor(hi * q) })
    .map((k) => k / q)
    .map((v) => {
      for (const p of avoid) if (Math.abs(v - p) < 0.01) return v >= p ? p + 0.05 : p - 0.05;
      return v;
    });
}
