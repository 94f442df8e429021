/**
 * Numerical gradient checking. The reference is always computed in float64 by central
 * differences, whatever dtype the function under test computes in.
 *
 * Defaults, chosen per dtype of the inputs under test:
 * - `eps` = 1e-6 for both dtypes: the numerical reference runs in float64, where a central
 *   difference with step 1e-6 has truncation error ~1e-12·f''' and rounding error ~1e-10·|f|
 *   (PyTorch's gradcheck uses the same step in float64).
 * - float64: `atol` 1e-5, `rtol` 1e-3, as PyTorch's gradcheck.
 * - float32: `atol` 1e-3, `rtol` 1e-2: the analytic gradient then carries float32 rounding
 *   (~6e-8 relative per operation, growing with the length of sums), as JAX's per-dtype
 *   tolerances allow for.
 * An element passes when `|analytic − numeric| ≤ atol + rtol·|numeric|` (numpy's `allclose`).
 */
import { allocArray, type DType } from "./dtype.js";
import { ArgumentError, describeValue, fmtShape, GradcheckError, optionsObject } from "./errors.js";
import {
  applyOp,
  enableGrad,
  grad,
  inputLabel,
  noGrad,
  reachableNodes,
  userFrame,
  withDebugRecording,
} from "./graph.js";
import { checkSeed, Rng, type Seed } from "./random.js";
import { describeNonTensor, isTensor, Tensor } from "./tensor.js";
import { checkCallback, isArray, isObject } from "./validate.js";

/** A function under test: tensors in, one tensor or several out. */
export type TensorFunction = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

/** Options of `numericalGrad`. */
export interface NumericalGradOptions {
  /** Central-difference step (default 1e-6). */
  eps?: number;
  /**
   * Weights of the outputs: the gradient computed is that of `Σ gradOutput·f(x)`. Default: ones
   * (for a scalar output, the plain gradient).
   */
  gradOutput?: Tensor | readonly Tensor[];
  /** Indices of the inputs to differentiate with respect to (default: all); the result follows this order. */
  wrt?: readonly number[];
}

/** Options of `gradcheck`. */
export interface GradcheckOptions {
  /** Central-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5 for float64, 1e-3 for float32). */
  atol?: number;
  /** Relative tolerance (default 1e-3 for float64, 1e-2 for float32). */
  rtol?: number;
  /**
   * Output weights; default: random values in [-1, 1] from `seed`, so every output element is
   * checked with a generic weight and a transposed or permuted gradient cannot cancel out.
   */
  gradOutput?: Tensor | readonly Tensor[];
  /** Seed of the random output weights (default 0): a safe integer or a BigInt, as `Rng` takes. */
  seed?: Seed;
  /** Indices of the inputs to check (default: all); the others are held constant. */
  wrt?: readonly number[];
  /**
   * On failure, check every recorded node's own derivative on its own inputs and name the first
   * wrong one in `report.fault` (default true).
   */
  localize?: boolean;
}

/** The first recorded node whose own local derivative disagrees with central differences. */
export interface GradcheckFault {
  /** The op's name. */
  op: string;
  /** The node's id (creation order). */
  nodeId: number;
  /** Which input of the node has the wrong gradient (its position among the op's inputs). */
  input: number;
  /** That input's name in the op's definition (`b`, or `xs[2]` for a variadic op; `#i` if unnamed). */
  inputName: string;
  /** The worst element of that input, as a multi-dimensional index. */
  index: number[];
  /** The node's backward gradient at that element, in the node's dtype. */
  analytic: number;
  /** The central-difference gradient at that element, in float64. */
  numeric: number;
  /** Where in the user's code the op was created (a stack frame), if known. */
  site: string | null;
}

/** The worst element found by `gradcheck`. */
export interface GradcheckElement {
  /** Index of the input among `inputs`. */
  input: number;
  /** Flat index of the element. */
  flatIndex: number;
  /** Multi-dimensional index of the element. */
  index: number[];
  /** Gradient from backward, in the function's dtype. */
  analytic: number;
  /** Gradient by central differences in float64. */
  numeric: number;
  /** `|analytic − numeric|`. */
  absError: number;
  /** `absError / max(|numeric|, 1e-12)`. */
  relError: number;
}

/** Result of `gradcheck`. */
export interface GradcheckReport {
  /** True when every element of every input is within tolerance. */
  passed: boolean;
  /** Largest absolute error over all elements. */
  maxAbsError: number;
  /** Largest relative error over all elements. */
  maxRelError: number;
  /** The element furthest outside (or closest to) the tolerance, or `null` if there are no elements. */
  worst: GradcheckElement | null;
  /** The central-difference step used. */
  eps: number;
  /** The absolute tolerance used (given, or the dtype's default). */
  atol: number;
  /** The relative tolerance used (given, or the dtype's default). */
  rtol: number;
  /** The dtype the function was checked in. */
  dtype: DType;
  /** The analytic gradients (one per input). */
  analytic: Tensor[];
  /** The numerical gradients in float64 (one per input). */
  numeric: Tensor[];
  /** On failure: the first recorded node whose own derivative is wrong, when one is found. */
  fault: GradcheckFault | null;
}

/**
 * Numerical gradients of `Σ gradOutput·f(...inputs)` with respect to every input, by central
 * differences, in float64 whatever the inputs' dtype (the inputs are copied to float64 first).
 * Runs `f` `2·(total input size)` times with recording off, so its cost grows with the square
 * of the input size for a typical `f`: keep the inputs small (or pick them with `wrt`).
 * @returns one float64 tensor per input, of that input's shape.
 * @throws ArgumentError naming `numericalGrad` and the argument for non-tensor inputs (or more
 *   than 10,000 of them), an `eps` that is not a positive finite number or too small or too large
 *   to change a finite input element, a bad `wrt`, `gradOutput` of the wrong count or shape, or an
 *   `f` that does not return tensors.
 */
export function numericalGrad(
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: NumericalGradOptions = {},
): Tensor[] {
  return numericalGradIn("numericalGrad", f, inputs, options);
}

/** @internal `numericalGrad`, with errors naming `fn`. */
export function numericalGradIn(
  fn: string,
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: NumericalGradOptions = {},
): Tensor[] {
  checkFunctionArgs(fn, f, inputs);
  options = optionsObject(fn, options);
  const eps = checkEps(fn, options.eps);
  return noGrad(() => {
    const xs = inputs.map((t) => new Tensor(Float64Array.from(t.data), t.shape));
    const weights = resolveWeights(fn, f, xs, options.gradOutput);
    const value = (): number => {
      const outs = callF(fn, f, xs);
      let s = 0;
      for (let k = 0; k < outs.length; k++) {
        const o = outs[k]!.data;
        const w = weights[k]!;
        for (let i = 0; i < o.length; i++) s += w[i]! * o[i]!;
      }
      return s;
    };
    const wrt = resolveWrt(fn, options.wrt, xs.length);
    return wrt.map((w) => {
      const x = xs[w]!;
      const g = new Float64Array(x.size);
      const d = x.data;
      for (let i = 0; i < d.length; i++) {
        const orig = d[i]!;
        if (Number.isFinite(orig) && !(orig + eps > orig && orig - eps < orig)) {
          // the step vanishes next to this element: the difference quotient would be a silent 0
          throw new ArgumentError(
            fn,
            `${fn}: eps ${eps} is too small to change inputs[${w}] element ${i} (value ${orig}); use a larger eps`,
          );
        }
        d[i] = orig + eps;
        const fp = value();
        d[i] = orig - eps;
        const fm = value();
        d[i] = orig;
        g[i] = (fp - fm) / (2 * eps);
      }
      return new Tensor(g, x.shape);
    });
  });
}

/**
 * Compares the gradients from backward with numerical ones (see the module notes for defaults).
 * The inputs are copied to fresh leaves that require grad; the function is evaluated once with
 * recording for the analytic gradients, and in float64 for the numeric ones.
 * @returns a report; it does not throw on a failed check (see `assertGradcheck`).
 * @throws ArgumentError naming `gradcheck` and the argument for bad arguments (as `numericalGrad`,
 *   and a `seed` that `Rng` would refuse (see `checkSeed`), a negative or non-numeric `atol`/`rtol`, a non-boolean
 *   `localize`), and whatever `f` throws.
 */
export function gradcheck(
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  return gradcheckIn("gradcheck", f, inputs, options);
}

/** @internal `gradcheck`, with errors naming `fn`. */
export function gradcheckIn(
  fn: string,
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  checkFunctionArgs(fn, f, inputs);
  options = optionsObject(fn, options);
  const dtype: DType = inputs.some((t) => t.dtype === "float32") ? "float32" : "float64";
  const eps = checkEps(fn, options.eps);
  const atol = options.atol ?? (dtype === "float64" ? 1e-5 : 1e-3);
  const rtol = options.rtol ?? (dtype === "float64" ? 1e-3 : 1e-2);
  for (const [k, v] of [
    ["atol", atol],
    ["rtol", rtol],
  ] as const) {
    if (typeof v !== "number" || !(v >= 0)) {
      throw new ArgumentError(fn, `${fn}: ${k} must be a non-negative number, got ${describeValue(v)}`);
    }
  }
  const seed = checkSeed(fn, options.seed ?? 0);
  if (options.localize !== undefined && typeof options.localize !== "boolean") {
    throw new ArgumentError(fn, `${fn}: localize must be a boolean, got ${describeValue(options.localize)}`);
  }
  const wrt = resolveWrt(fn, options.wrt, inputs.length);
  const leaves = inputs.map((t, i) => new Tensor(t.data.slice(), t.shape, wrt.includes(i)));
  const outs = callF(fn, f, leaves);
  // weights: given, or random in [-1, 1], rounded to float32 so both computations use equal values
  let weights: Float64Array[];
  if (options.gradOutput !== undefined) {
    weights = resolveWeights(fn, f, leaves, options.gradOutput, outs);
  } else {
    const rng = new Rng(seed);
    weights = outs.map((o) => Float64Array.from(Float32Array.from({ length: o.size }, () => 2 * rng.uniform() - 1)));
  }
  const analytic = grad(
    outs,
    wrt.map((i) => leaves[i]!),
    {
      gradOutput: outs.map((o, k) => {
        const d = allocArray(o.dtype, o.size);
        d.set(weights[k]!);
        return new Tensor(d, o.shape);
      }),
      allowUnused: true,
    },
  );
  const numeric = numericalGradIn(fn, f, inputs, {
    eps,
    wrt,
    gradOutput: outs.map((o, k) => new Tensor(weights[k]!, o.shape)),
  });
  let maxAbs = 0;
  let maxRel = 0;
  let worst: GradcheckElement | null = null;
  let worstScore = -1;
  let passed = true;
  for (let w = 0; w < wrt.length; w++) {
    const i = wrt[w]!;
    const a = analytic[w]!.data;
    const n = numeric[w]!.data;
    for (let j = 0; j < a.length; j++) {
      const av = a[j]!;
      const nv = n[j]!;
      const abs = Math.abs(av - nv);
      const rel = abs / Math.max(Math.abs(nv), 1e-12);
      const tol = atol + rtol * Math.abs(nv);
      const bad = !(abs <= tol);
      const score = Number.isNaN(abs) ? Number.POSITIVE_INFINITY : abs / (tol > 0 ? tol : Number.MIN_VALUE);
      if (abs > maxAbs || Number.isNaN(abs)) maxAbs = Number.isNaN(abs) ? Number.NaN : abs;
      if (rel > maxRel || Number.isNaN(rel)) maxRel = Number.isNaN(rel) ? Number.NaN : rel;
      if (bad) passed = false;
      if (score > worstScore) {
        worstScore = score;
        worst = {
          input: i,
          flatIndex: j,
          index: unravel(j, inputs[i]!.shape),
          analytic: av,
          numeric: nv,
          absError: abs,
          relError: rel,
        };
      }
    }
  }
  const fault = !passed && options.localize !== false ? locateFault(f, inputs, wrt) : null;
  return { passed, maxAbsError: maxAbs, maxRelError: maxRel, worst, eps, atol, rtol, dtype, analytic, numeric, fault };
}

/**
 * Runs `gradcheck` and throws when it fails.
 * @throws GradcheckError whose message names the function, the input, the element, the analytic
 *   and numeric values and the tolerances.
 */
export function assertGradcheck(
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const report = gradcheck(f, inputs, options);
  if (!report.passed) {
    throw new GradcheckError("gradcheck", formatGradcheckFailure(f.name || "<anonymous>", inputs, report));
  }
  return report;
}

/**
 * Re-runs `f` keeping every node's inputs, then checks each node's own backward against central
 * differences on those inputs, in creation order; returns the first that fails.
 */
function locateFault(f: TensorFunction, inputs: readonly Tensor[], wrt: readonly number[]): GradcheckFault | null {
  let outs: readonly Tensor[];
  try {
    outs = withDebugRecording(() =>
      enableGrad(() =>
        callF(
          "gradcheck",
          f,
          inputs.map((t, i) => new Tensor(t.data.slice(), t.shape, wrt.includes(i))),
        ),
      ),
    );
  } catch {
    return null;
  }
  // every node behind the outputs, in creation order
  for (const node of reachableNodes(outs)) {
    const ins = node.debugInputs;
    if (ins === null) continue;
    const local = ins.map((t) => new Tensor(t.data.slice(), t.shape));
    const needs = node.needsInputGrad.flatMap((need, i) => (need ? [i] : []));
    if (needs.length === 0) continue;
    // the engine's dtype conversion is exact by construction, and its float32 side would spoil
    // the float64 reference
    if (node.op.name === "cast") continue;
    const h: TensorFunction = (...xs) => applyOp(node.op, xs, node.attrs, xs[0]?.dtype ?? node.dtype);
    let r: GradcheckReport;
    try {
      r = gradcheck(h, local, { wrt: needs, localize: false });
    } catch {
      continue;
    }
    if (!r.passed && r.worst !== null) {
      return {
        op: node.op.name,
        nodeId: node.id,
        input: r.worst.input,
        inputName: inputLabel(node.op, r.worst.input),
        index: r.worst.index,
        analytic: r.worst.analytic,
        numeric: r.worst.numeric,
        site: userFrame(node.site),
      };
    }
  }
  return null;
}

function resolveWrt(fn: string, wrt: readonly number[] | undefined, n: number): number[] {
  if (wrt === undefined) return Array.from({ length: n }, (_, i) => i);
  if (!isArray(wrt)) {
    throw new ArgumentError(fn, `${fn}: wrt must list input indices in [0, ${n}), got ${describeValue(wrt)}`);
  }
  // an index loop, not wrt.some(): a sparse array (Array(3)) must fail at its first hole, not be
  // skipped (and a huge sparse one must not take minutes to skip)
  const out: number[] = [];
  for (let k = 0; k < wrt.length; k++) {
    const i: unknown = wrt[k];
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= n) {
      throw new ArgumentError(
        fn,
        `${fn}: wrt must list input indices in [0, ${n}), got ${describeValue(i)} at wrt[${k}]`,
      );
    }
    out.push(i);
  }
  return out;
}

/** Checks the central-difference step: a positive finite number (default 1e-6). */
function checkEps(fn: string, eps: unknown): number {
  if (eps === undefined) return 1e-6;
  // 2·eps must be finite too: it is the difference quotient's denominator
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(2 * eps)) {
    throw new ArgumentError(fn, `${fn}: eps must be a positive finite number, got ${describeValue(eps)}`);
  }
  return eps;
}

/** Most inputs a checked function may take (they are passed as arguments, `f(...inputs)`). */
const MAX_INPUTS = 10_000;

/** A number in exponent notation for reports; anything else described (reports may come from users). */
function expo(x: unknown): string {
  return typeof x === "number" ? x.toExponential(3) : describeValue(x);
}

/** A field of a report as text: numbers and strings as they are, anything else described. */
function text(x: unknown): string {
  return typeof x === "number" || typeof x === "string" ? String(x) : describeValue(x);
}

/**
 * A readable description of a failed gradcheck report.
 * @param name - what was checked (the function's name, for the first line).
 * @param inputs - the inputs it was checked at (for the failing input's shape).
 * @param report - a report of `gradcheck` or `gradgradcheck` that failed.
 * @throws ArgumentError naming `formatGradcheckFailure` when `report` is not an object with a
 *   `worst` element (a passing report has none).
 */
export function formatGradcheckFailure(name: string, inputs: readonly Tensor[], report: GradcheckReport): string {
  const fn = "formatGradcheckFailure";
  if (!isObject(report)) {
    throw new ArgumentError(fn, `${fn}: report must be a gradcheck report, got ${describeValue(report)}`);
  }
  const w: unknown = report.worst;
  if (!isObject(w)) {
    throw new ArgumentError(
      fn,
      `${fn}: report.worst must be the worst element of a failed check, got ${describeValue(w)}`,
    );
  }
  const worst = w as Partial<GradcheckElement>;
  const i = worst.input;
  const t: unknown = isArray(inputs) && Number.isInteger(i) && (i as number) >= 0 ? inputs[i as number] : undefined;
  const shape = isTensor(t) ? fmtShape(t.shape) : "unknown";
  const fault: unknown = report.fault;
  return [
    `gradcheck failed for ${text(name)}: input ${text(i)} (shape ${shape}, ${text(report.dtype)}) at index ${fmtShape(worst.index as number[])}:`,
    `  analytic ${text(worst.analytic)} vs numeric ${text(worst.numeric)}: abs error ${expo(worst.absError)} > atol ${text(report.atol)} + rtol ${text(report.rtol)}·|numeric|`,
    `  max abs error ${expo(report.maxAbsError)}, max rel error ${expo(report.maxRelError)} (eps ${text(report.eps)})`,
    ...(fault === null || fault === undefined ? [] : [formatFault(fault as GradcheckFault)]),
  ].join("\n");
}

/**
 * Describes the first wrong node found by gradcheck's fault localisation.
 * @throws ArgumentError naming `formatFault` when `fault` is not an object.
 */
export function formatFault(fault: GradcheckFault): string {
  if (!isObject(fault)) {
    throw new ArgumentError("formatFault", `formatFault: fault must be a GradcheckFault, got ${describeValue(fault)}`);
  }
  const site: unknown = fault.site;
  return [
    `  first wrong node: op '${text(fault.op)}' (node #${text(fault.nodeId)}), input ${text(fault.input)} (${text(fault.inputName)}) at ${fmtShape(fault.index)}: analytic ${text(fault.analytic)} vs numeric ${text(fault.numeric)}`,
    `  created at ${site === null || site === undefined ? "(unknown: no stack frame outside gradgraph)" : text(site)}`,
  ].join("\n");
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    idx[d] = flat % n;
    flat = Math.floor(flat / n);
  }
  return idx;
}

/** @internal Checks that `f` is a function and `inputs` an array of tensors, naming `fn`. */
export function checkFunctionArgs(fn: string, f: unknown, inputs: unknown): void {
  checkCallback(fn, "f", f);
  if (!isArray(inputs))
    throw new ArgumentError(fn, `${fn}: inputs must be an array of tensors, got ${describeValue(inputs)}`);
  if (inputs.length > MAX_INPUTS) {
    throw new ArgumentError(fn, `${fn}: inputs has ${inputs.length} entries, more than the ${MAX_INPUTS} supported`);
  }
  // index loops here and below: forEach would skip the holes of a sparse array
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (!isTensor(t)) throw new ArgumentError(fn, `${fn}: input ${i} must be a Tensor, got ${describeNonTensor(t)}`);
  }
}

function callF(fn: string, f: TensorFunction, xs: readonly Tensor[]): readonly Tensor[] {
  const out: unknown = f(...xs);
  const outs: readonly unknown[] = isArray(out) ? out : [out];
  for (let k = 0; k < outs.length; k++) {
    const o = outs[k];
    if (!isTensor(o)) {
      throw new ArgumentError(
        fn,
        `${fn}: f must return a Tensor or an array of tensors; output ${k} is ${describeNonTensor(o)}`,
      );
    }
  }
  return outs as readonly Tensor[];
}

function resolveWeights(
  fn: string,
  f: TensorFunction,
  xs: readonly Tensor[],
  gradOutput: Tensor | readonly Tensor[] | undefined,
  outs: readonly Tensor[] = callF(fn, f, xs),
): Float64Array[] {
  if (gradOutput === undefined) return outs.map((o) => new Float64Array(o.size).fill(1));
  const gs: readonly Tensor[] = isArray(gradOutput) ? (gradOutput as readonly Tensor[]) : [gradOutput as Tensor];
  if (gs.length !== outs.length) {
    throw new ArgumentError(fn, `${fn}: ${gs.length} gradOutputs for ${outs.length} outputs`);
  }
  const weights: Float64Array[] = [];
  for (let k = 0; k < gs.length; k++) {
    const g: unknown = gs[k];
    const o = outs[k]!;
    if (!isTensor(g) || g.size !== o.size) {
      throw new ArgumentError(
        fn,
        `${fn}: gradOutput ${k} must be a Tensor of shape ${fmtShape(o.shape)}, got ${isTensor(g) ? fmtShape(g.shape) : describeNonTensor(g)}`,
      );
    }
    weights.push(Float64Array.from(g.data));
  }
  return weights;
}
