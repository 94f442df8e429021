/**
 * `checkOp`: a property-based gradient check of an op over arbitrary shapes, attributes and
 * values, drawn from the op's own test declaration (`spec.test`) unless overridden. A failure is
 * shrunk by fast-check to a minimal case and reported with the seed and path that replay it.
 */
import fc from "fast-check";
import type { DType } from "../dtype.js";
import { ArgumentError, describeValue, fmtShape, GradcheckError } from "../errors.js";
import { type GradcheckOptions, type GradcheckReport, gradcheck } from "../gradcheck.js";
import { gradgradcheck } from "../higher-order.js";
import type { MultiOp, Op, OpTestSpec, Picker } from "../op.js";
import type { Shape } from "../shape.js";
import { type Tensor, tensor } from "../tensor.js";
import { type ShapeConstraints, shapeArb } from "./arbitraries.js";

/** Options of `checkOp`; `shapes`, `attrs`, `cases` and `domain` override the op's `spec.test`. */
export interface CheckOpOptions<A> extends OpTestSpec<A> {
  /** dtype the op is checked in (default `'float64'`); the reference is float64 either way. */
  dtype?: DType;
  /** Number of generated cases (default 40). */
  numRuns?: number;
  /**
   * fast-check's seed, to replay a reported failure: a 32-bit signed integer, as the report prints
   * it (fast-check folds anything wider into 32 bits, so wider seeds are refused). Not an `Rng`
   * seed: the gradient checks' own weights come from `gradcheck`'s default seed.
   */
  seed?: number;
  /** Bounds on generated shapes (default ranks 0..3, dimensions 0..4). */
  shape?: ShapeConstraints;
  /** Tolerances for each gradcheck (defaults per dtype, see `gradcheck`). */
  gradcheck?: Omit<GradcheckOptions, "seed">;
  /**
   * Check second derivatives too: each case also runs `gradgradcheck` (skipped for ops that
   * declare `test.twice: false`).
   */
  secondOrder?: boolean;
}

/** What one generated case was, for failure reports. */
interface DrawnCase {
  shapes: Shape[];
  attrs: unknown;
  inputs: Tensor[];
  report: GradcheckReport | null;
  /** 1 for the gradient check, 2 once the second-order check runs. */
  order?: number;
}

/**
 * Runs a property-based gradcheck of `op` (made by `defineOp` or `defineMultiOutputOp`).
 * @returns the number of cases checked.
 * @throws GradcheckError with the op's name, the shrunk failing case (shapes, attributes, input
 *   values, worst element) and the `seed`/`path` to replay it; `ArgumentError` for a non-op
 *   or a `seed` that is not a 32-bit signed integer.
 */
export function checkOp<A>(op: Op<A> | MultiOp<A>, options: CheckOpOptions<A> = {}): number {
  if (typeof op !== "function" || typeof (op as { spec?: unknown }).spec !== "object") {
    throw new ArgumentError("checkOp", `checkOp: op must be made by defineOp, got ${describeValue(op)}`);
  }
  const spec = op.spec;
  // an option given as `undefined` must not hide the op's own declaration
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as CheckOpOptions<A>;
  const test: OpTestSpec<A> = { ...spec.test, ...given };
  const arity = spec.inputs.length;
  const dtype = options.dtype ?? "float64";
  const [lo, hi] = test.domain ?? [-2, 2];
  const shapeC: ShapeConstraints = { maxRank: 3, maxDim: 4, ...options.shape };
  let lastFailing: DrawnCase | null = null;
  // one instance for the whole run: fc.gen matches replayed values by the arbitrary's identity,
  // so a fresh instance per call would defeat shrinking
  const valueArb = gridValues(lo, hi, test.avoid ?? []);
  const inputArbs = (test.domains ?? []).map((d) =>
    d === undefined ? valueArb : gridValues(d[0], d[1], test.avoid ?? []),
  );
  const second = options.secondOrder === true && test.twice !== false;

  const property = fc.property(fc.gen(), (g) => {
    const pick: Picker = {
      int: (min, max) => g(fc.integer, { min, max }),
      bool: () => g(fc.boolean),
      // a copy: fast-check replays its own array when shrinking, so it must never be mutated
      shape: (o) => [...g(shapeArb, { ...shapeC, ...o })],
    };
    let shapes: Shape[];
    let attrs: A;
    if (test.cases !== undefined) {
      ({ shapes, attrs } = test.cases(pick));
    } else {
      shapes = drawShapes(test.shapes, arity, pick, shapeC);
      attrs = (test.attrs ? test.attrs(shapes, pick) : undefined) as A;
    }
    const inputs = shapes.map((s, k) => {
      const n = s.reduce((a, b) => a * b, 1);
      const values = g(fc.array, inputArbs[k] ?? valueArb, { minLength: n, maxLength: n });
      return tensor(Float64Array.from(values), { shape: [...s], dtype });
    });
    if (test.precondition !== undefined) fc.pre(test.precondition(inputs, attrs));
    const drawn: DrawnCase = { shapes, attrs, inputs, report: null };
    const call = (...xs: Tensor[]) => (op as (i: Tensor[], a: A) => Tensor | Tensor[])(xs, attrs);
    try {
      drawn.report = gradcheck(call, inputs, options.gradcheck ?? {});
      if (second && drawn.report.passed) {
        drawn.order = 2;
        drawn.report = gradgradcheck(call, inputs, options.gradcheck ?? {});
      }
    } finally {
      // the last failing run is the shrunk counterexample: shrinking moves only to failing cases
      if (!drawn.report?.passed) lastFailing = drawn;
    }
    return drawn.report.passed;
  });

  const params: fc.Parameters<[fc.GeneratorValue]> = { numRuns: options.numRuns ?? 40 };
  if (options.seed !== undefined) params.seed = fastCheckSeed(options.seed);
  const details = fc.check(property, params);
  if (!details.failed) return details.numRuns;
  const c = lastFailing as DrawnCase | null;
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
    const w = c.report?.worst;
    if (c.report && w) {
      lines.push(
        `  worst element: input ${w.input} (${label(w.input)}) at ${fmtShape(w.index)}: analytic ${w.analytic} vs numeric ${w.numeric} (abs error ${w.absError.toExponential(3)}, atol ${c.report.atol}, rtol ${c.report.rtol})`,
      );
    }
  }
  if (details.errorInstance)
    lines.push(`  error: ${String((details.errorInstance as Error).message ?? details.errorInstance)}`);
  // The seed alone replays the run deterministically, shrinking included. (fast-check's `path`
  // shortcut is not replayable through fc.gen's shrinker, so it is not offered.)
  lines.push(`  replay: checkOp(op, { seed: ${details.seed}, numRuns: ${params.numRuns} })`);
  throw new GradcheckError(spec.name, lines.join("\n"), { cause: details.errorInstance });
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

function drawShapes(kind: OpTestSpec<unknown>["shapes"], arity: number, pick: Picker, c: ShapeConstraints): Shape[] {
  if (typeof kind === "function") return kind(pick);
  const mode = kind ?? (arity > 1 ? "broadcast" : "same");
  if (mode === "matmul") {
    const d = () => pick.int(c.minDim ?? 0, c.maxDim ?? 4);
    const [n, k, h] = [d(), d(), d()];
    return [
      [n, k],
      [k, h],
    ];
  }
  const full = pick.shape(c);
  if (mode === "same") return Array.from({ length: arity }, () => full);
  return Array.from({ length: arity }, () => {
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
