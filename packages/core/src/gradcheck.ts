/**
 * Numerical gradient checking. The reference is always computed in float64 by central
 * differences, whatever dtype the function under test computes in.
 *
 * Defaults:
 * - `eps` = 1e-6: the numerical reference runs in float64, where a central difference with step
 *   1e-6 has truncation error ~1e-12·f''' and rounding error ~1e-10·|f| (PyTorch's gradcheck uses
 *   the same step in float64). A function whose outputs are float32 even on float64 inputs (it
 *   casts inside) gets 1e-3, near the best step for float32 rounding (~(6e-8)^(1/3)).
 * - Against the numerical reference: float64 gradients `atol` 1e-5, `rtol` 1e-3, as PyTorch's
 *   gradcheck; float32 gradients `atol` 1e-3, `rtol` 1e-2 (float32 rounding, ~6e-8 relative per
 *   operation, growing with the length of sums, as JAX's per-dtype tolerances allow for).
 * - float32 inputs: the function is also differentiated on float64 copies of them; that float64
 *   gradient is checked against the numerical reference with the float64 tolerances, and every
 *   float32 gradient is compared with it with `crossAtol`/`crossRtol`. So a derivative 0.5% off
 *   fails in float32 too, which the float32 tolerances against the numerical reference let pass.
 * - Between two analytic gradients (a route against the reference, float32 against float64): an
 *   element passes when `|a − b| ≤ crossAtol·scale + crossRtol·|b|`, with `scale` the largest
 *   `|b|` over that input (over every input if that one is all zeros), and at least the largest
 *   input element (rounding follows the size of the values computed with: a gradient that
 *   cancels to 1e-5 from terms of size 1 carries float32's error of those terms). Defaults: 1e-9 and 1e-7
 *   when both are float64 (only rounding may differ), 1e-4 and 1e-3 when one is float32.
 * Against the numerical reference, an element passes when `|analytic − numeric| ≤ atol +
 * rtol·|numeric|` (numpy's `allclose`).
 *
 * Routes (the `routes` option): a derivative reaches its user three ways, and an engine or an op
 * may take a different path on each: `grad()` (the default, and the reference), `grad()` with
 * `createGraph` (the recorded backward that higher-order gradients use), and `.backward()` into
 * leaves whose `.grad` was zeroed with `fill_(0)` (as `Sequential.backward` does), run twice so
 * that the second call must accumulate exactly twice the first.
 */
import { allocArray, type FloatArray, type FloatDType } from "./dtype.js";
import { ArgumentError, DTypeError, describeValue, fmtShape, GradcheckError, optionsObject } from "./errors.js";
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
import { defineOp } from "./op.js";
import { checkSeed, Rng, type Seed } from "./random.js";
import { describeNonTensor, isTensor, Tensor } from "./tensor.js";
import { checkCallback, isArray, isObject } from "./validate.js";

/** A function under test: tensors in, one tensor or several out. */
export type TensorFunction = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

/**
 * A way the analytic gradient is computed:
 * - `'grad'`: `grad(outputs, inputs, { gradOutput })`;
 * - `'createGraph'`: the same with `createGraph: true` (a recorded, differentiable backward);
 * - `'backward'`: `.backward(gradOutput)` into leaves whose `.grad` was zeroed with `fill_(0)`, as
 *   `Sequential.backward` does; then a second forward and `.backward()` without zeroing, which must
 *   accumulate exactly twice as much. Several outputs are first summed with their weights by one
 *   extra op, so that one `.backward()` covers them.
 */
export type GradRoute = "grad" | "createGraph" | "backward";

/** Which gradient an element of a report comes from: a route, or `'backwardAgain'`: the `.grad` after the second `.backward()`, halved. */
export type GradcheckRoute = GradRoute | "backwardAgain";

/** Every route, in the order they are checked. */
const ALL_ROUTES: readonly GradRoute[] = ["grad", "createGraph", "backward"];

/** The keys of {@link NumericalGradOptions}. */
const NUMERICAL_GRAD_OPTIONS = ["eps", "gradOutput", "wrt"] as const;

/** @internal The keys of {@link GradcheckOptions}. */
export const GRADCHECK_OPTIONS = [
  "eps",
  "atol",
  "rtol",
  "crossAtol",
  "crossRtol",
  "routes",
  "gradOutput",
  "seed",
  "wrt",
  "localize",
] as const;

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
  /**
   * Central-difference step (default 1e-6; 1e-3 for a function whose outputs are float32 even on
   * float64 inputs).
   */
  eps?: number;
  /** Absolute tolerance against the numerical reference (default 1e-5 for a float64 gradient, 1e-3 for a float32 one). */
  atol?: number;
  /** Relative tolerance against the numerical reference (default 1e-3 for a float64 gradient, 1e-2 for a float32 one). */
  rtol?: number;
  /**
   * Absolute tolerance between two analytic gradients, as a fraction of the largest element of the
   * reference gradient of that input (default 1e-9 between float64 gradients, 1e-4 when one is
   * float32).
   */
  crossAtol?: number;
  /** Relative tolerance between two analytic gradients (default 1e-7 between float64 gradients, 1e-3 when one is float32). */
  crossRtol?: number;
  /**
   * The routes whose gradients are checked (see {@link GradRoute}), each against the numerical
   * reference and against the reference analytic gradient: a list, or `'all'`. Default
   * `['grad']`. The `'backward'` route adds into the `.grad` of every leaf behind the outputs that
   * requires grad, so leave it out when `f` uses tensors of yours that require grad (parameters).
   */
  routes?: readonly GradRoute[] | "all";
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
   * On failure, check every recorded node's own derivative on its own inputs (with the same
   * routes) and name the first wrong one, or the first whose check throws, in `report.fault`
   * (default true).
   */
  localize?: boolean;
}

/**
 * The first recorded node whose own derivative disagrees with central differences, or whose own
 * check threw (its forward or backward, run again on its own inputs). For a node that threw,
 * `error` is what it threw and the element fields (`input` to `route`) are `null`.
 */
export interface GradcheckFault {
  /** The op's name. */
  op: string;
  /** The node's id (creation order). */
  nodeId: number;
  /** Which input of the node has the wrong gradient (its position among the op's inputs). */
  input: number | null;
  /** That input's name in the op's definition (`b`, or `xs[2]` for a variadic op; `#i` if unnamed). */
  inputName: string | null;
  /** The worst element of that input, as a multi-dimensional index. */
  index: number[] | null;
  /** The node's gradient at that element, in its dtype. */
  analytic: number | null;
  /** The central-difference gradient at that element, in float64. */
  numeric: number | null;
  /** The route of the node's wrong gradient (see {@link GradcheckElement.route}). */
  route: GradcheckRoute | null;
  /** What the node's own check threw, else null (a thrown non-Error is wrapped in an Error). */
  error: Error | null;
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
  /** The gradient under check at this element, from `route`, in `dtype`. */
  analytic: number;
  /** Gradient by central differences in float64. */
  numeric: number;
  /**
   * What `analytic` was compared with: `'numeric'`, or `'reference'`: the reference gradient, the
   * first route's (for float32 inputs, computed again on float64 copies of them).
   */
  against: "numeric" | "reference";
  /** The value `analytic` was compared with: `numeric`, or the reference gradient's element. */
  expected: number;
  /** The route the gradient came from. */
  route: GradcheckRoute;
  /** The dtype of that gradient. */
  dtype: FloatDType;
  /** `|analytic − expected|`. */
  absError: number;
  /** The largest `absError` allowed at this element by the tolerances of its comparison. */
  tolerance: number;
  /** `absError / max(|expected|, 1e-12)`. */
  relError: number;
}

/** Result of `gradcheck`. */
export interface GradcheckReport {
  /** True when every element of every gradient checked is within tolerance. */
  passed: boolean;
  /** Largest absolute error against the numerical reference, over every gradient checked. */
  maxAbsError: number;
  /** Largest relative error against the numerical reference, over every gradient checked. */
  maxRelError: number;
  /** The element furthest outside (or closest to) its tolerance, or `null` if there are no elements. */
  worst: GradcheckElement | null;
  /** The central-difference step used. */
  eps: number;
  /** The absolute tolerance against the numerical reference used for gradients in `dtype`. */
  atol: number;
  /** The relative tolerance against the numerical reference used for gradients in `dtype`. */
  rtol: number;
  /** The absolute tolerance between analytic gradients in `dtype` (a fraction of the largest reference element). */
  crossAtol: number;
  /** The relative tolerance between analytic gradients in `dtype`. */
  crossRtol: number;
  /**
   * The dtype the function was checked in: float32 when an input is float32, or when the outputs
   * are float32 even on float64 inputs.
   */
  dtype: FloatDType;
  /** The routes checked. */
  routes: GradRoute[];
  /** The analytic gradients (one per input) of the first route checked (`grad` by default). */
  analytic: Tensor[];
  /**
   * For float32 inputs: the float64 gradients of the same function on float64 copies of them, the
   * reference of every float32 gradient (one per input); else null.
   */
  reference: Tensor[] | null;
  /** The numerical gradients in float64 (one per input). */
  numeric: Tensor[];
  /** On failure: the first recorded node whose own derivative is wrong (or whose check threw), when one is found. */
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
 *   to change a finite input element, a bad `wrt`, `gradOutput` of the wrong count or shape, an
 *   `f` that does not return tensors, or an options key other than `eps`, `gradOutput` and `wrt`.
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
  options = optionsObject(fn, options, NUMERICAL_GRAD_OPTIONS);
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
 * The inputs are copied to fresh leaves that require grad; the function is evaluated with
 * recording once per route for the analytic gradients (twice for `'backward'`), on float64
 * copies once more for float32 inputs, and in float64 for the numeric ones.
 * @returns a report; it does not throw on a failed check (see `assertGradcheck`).
 * @throws ArgumentError naming `gradcheck` and the argument for bad arguments (as `numericalGrad`,
 *   and a `seed` that `Rng` would refuse (see `checkSeed`), a negative or non-numeric tolerance,
 *   `routes` that are not `'all'` or a non-empty list of routes, a non-boolean `localize`, an
 *   unknown options key), and whatever `f` throws.
 */
export function gradcheck(
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  return gradcheckIn("gradcheck", f, inputs, options);
}

/** One analytic gradient set under check: a route's gradients (one per checked input) in one dtype. */
interface GradientSet {
  route: GradcheckRoute;
  dtype: FloatDType;
  values: readonly FloatArray[];
}

/** @internal `gradcheck`, with errors naming `fn`. */
export function gradcheckIn(
  fn: string,
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  checkFunctionArgs(fn, f, inputs);
  options = optionsObject(fn, options, GRADCHECK_OPTIONS);
  if (options.eps !== undefined) checkEps(fn, options.eps);
  for (const k of ["atol", "rtol", "crossAtol", "crossRtol"] as const) {
    const v: unknown = options[k];
    if (v !== undefined && (typeof v !== "number" || !(v >= 0))) {
      throw new ArgumentError(fn, `${fn}: ${k} must be a non-negative number, got ${describeValue(v)}`);
    }
  }
  const seed = checkSeed(fn, options.seed ?? 0);
  if (options.localize !== undefined && typeof options.localize !== "boolean") {
    throw new ArgumentError(fn, `${fn}: localize must be a boolean, got ${describeValue(options.localize)}`);
  }
  const routes = resolveRoutes(fn, options.routes);
  const wrt = resolveWrt(fn, options.wrt, inputs.length);

  // A function whose outputs stay float32 on float64 inputs computes in float32 inside: its
  // numerical reference is float32-limited, so it gets float32 tolerances and a larger step, and
  // no float64 reference gradient exists for it.
  const copies64 = (): Tensor[] => inputs.map((t) => new Tensor(Float64Array.from(t.data), t.shape));
  const probe = noGrad(() => callF(fn, f, copies64()));
  const limited = probe.some((o) => o.dtype === "float32");
  const inputs32 = inputs.some((t) => t.dtype === "float32");
  const dtype: FloatDType = inputs32 || limited ? "float32" : "float64";
  const eps = options.eps ?? (limited ? 1e-3 : 1e-6);
  const numTol = (d: FloatDType) => ({
    atol: options.atol ?? (d === "float64" ? 1e-5 : 1e-3),
    rtol: options.rtol ?? (d === "float64" ? 1e-3 : 1e-2),
  });
  const crossTol = (d: FloatDType) => ({
    atol: options.crossAtol ?? (d === "float64" ? 1e-9 : 1e-4),
    rtol: options.crossRtol ?? (d === "float64" ? 1e-7 : 1e-3),
  });

  // weights: given, or random in [-1, 1], rounded to float32 so every computation uses equal values
  const leaves0 = inputs.map((t, i) => new Tensor(t.data.slice(), t.shape, wrt.includes(i)));
  const outs0 = enableGrad(() => callF(fn, f, leaves0));
  let weights: Float64Array[];
  if (options.gradOutput !== undefined) {
    weights = resolveWeights(fn, f, leaves0, options.gradOutput, outs0);
  } else {
    const rng = new Rng(seed);
    weights = outs0.map((o) => Float64Array.from(Float32Array.from({ length: o.size }, () => 2 * rng.uniform() - 1)));
  }

  const own: GradientSet[] = [];
  let analytic: Tensor[] = [];
  for (const route of routes) {
    const sets = routeGradients(
      fn,
      f,
      inputs,
      wrt,
      weights,
      route,
      own.length === 0 ? { leaves: leaves0, outs: outs0 } : null,
    );
    if (own.length === 0) analytic = sets[0]!.map((g, w) => new Tensor(g, inputs[wrt[w]!]!.shape));
    for (let k = 0; k < sets.length; k++) {
      own.push({ route: k === 0 ? route : "backwardAgain", dtype: inputs32 ? "float32" : "float64", values: sets[k]! });
    }
  }
  // the reference analytic gradient: the first route's, computed again in float64 for float32
  // inputs (unless the function computes in float32 whatever its inputs)
  let reference: Tensor[] | null = null;
  let ref = own[0]!;
  if (!limited && inputs32) {
    const values = routeGradients(fn, f, copies64(), wrt, weights, routes[0]!, null)[0]!;
    ref = { route: routes[0]!, dtype: "float64", values };
    reference = values.map((g, w) => new Tensor(g, inputs[wrt[w]!]!.shape));
  }

  const numeric = numericalGradIn(fn, f, inputs, {
    eps,
    wrt,
    gradOutput: probe.map((o, k) => new Tensor(weights[k]!, o.shape)),
  });
  const acc = new Comparison(inputs, wrt, numeric);
  if (ref !== own[0]) acc.againstNumeric(ref, numTol("float64"));
  for (const set of own) {
    acc.againstNumeric(set, numTol(dtype));
    if (set !== ref) acc.againstReference(set, ref, crossTol(dtype));
  }
  const passed = acc.passed;
  const fault = !passed && options.localize !== false ? locateFault(f, inputs, wrt, routes) : null;
  const t = numTol(dtype);
  const c = crossTol(dtype);
  return {
    passed,
    maxAbsError: acc.maxAbs,
    maxRelError: acc.maxRel,
    worst: acc.worst,
    eps,
    atol: t.atol,
    rtol: t.rtol,
    crossAtol: c.atol,
    crossRtol: c.rtol,
    dtype,
    routes: [...routes],
    analytic,
    reference,
    numeric,
    fault,
  };
}

/** @internal The checked routes, in the order of `ALL_ROUTES`. @throws ArgumentError naming `fn`. */
export function resolveRoutes(fn: string, routes: unknown): GradRoute[] {
  if (routes === undefined) return ["grad"];
  if (routes === "all") return [...ALL_ROUTES];
  const bad = () =>
    new ArgumentError(
      fn,
      `${fn}: routes must be 'all' or a non-empty list of 'grad', 'createGraph' and 'backward', got ${describeValue(routes)}`,
    );
  if (!isArray(routes) || routes.length === 0 || routes.length > ALL_ROUTES.length) throw bad();
  // an index loop: a hole of a sparse array fails
  for (let k = 0; k < routes.length; k++) {
    if (!ALL_ROUTES.includes(routes[k] as GradRoute)) throw bad();
  }
  return ALL_ROUTES.filter((r) => routes.includes(r));
}

/**
 * The analytic gradients of `Σ weights·f` with respect to the inputs in `wrt`, by one route, on
 * fresh leaves copied from `inputs` (their dtype kept). Returns one gradient set, or for
 * `'backward'` two: the `.grad` after the first `.backward()`, and after the second one halved.
 * `first` reuses an already recorded evaluation for the `'grad'` and `'createGraph'` routes.
 */
function routeGradients(
  fn: string,
  f: TensorFunction,
  inputs: readonly Tensor[],
  wrt: readonly number[],
  weights: readonly Float64Array[],
  route: GradRoute,
  first: { leaves: Tensor[]; outs: readonly Tensor[] } | null,
): FloatArray[][] {
  const fresh = () => inputs.map((t, i) => new Tensor(t.data.slice(), t.shape, wrt.includes(i)));
  const weightsFor = (outs: readonly Tensor[]) =>
    outs.map((o, k) => {
      const d = allocArray(o.dtype, o.size);
      d.set(weights[k]!);
      return new Tensor(d, o.shape);
    });
  return enableGrad(() => {
    if (route !== "backward") {
      const leaves = first?.leaves ?? fresh();
      const outs = first?.outs ?? callF(fn, f, leaves);
      const gs = grad(
        outs,
        wrt.map((i) => leaves[i]!),
        { gradOutput: weightsFor(outs), allowUnused: true, createGraph: route === "createGraph" },
      );
      return [gs.map((g) => g.data)];
    }
    const leaves = fresh();
    const checked = wrt.map((i) => leaves[i]!);
    for (const x of checked) {
      // distinct leaves, each with a zeroed .grad of its own: what Sequential.backward hands the engine
      if (x.grad === null) {
        x.grad = new Tensor(allocArray(x.dtype, x.size), x.shape);
        x.grad.fill_(0);
      }
    }
    backwardOnce(fn, f, leaves, weights, weightsFor);
    const once = checked.map((x) => x.grad!.data.slice());
    backwardOnce(fn, f, leaves, weights, weightsFor);
    const twice = checked.map((x) => {
      const d = x.grad!.data.slice();
      for (let i = 0; i < d.length; i++) d[i] = d[i]! / 2;
      return d;
    });
    return [once, twice];
  });
}

/** One forward of `f` on `leaves` and one `.backward()` of its weighted outputs. */
function backwardOnce(
  fn: string,
  f: TensorFunction,
  leaves: readonly Tensor[],
  weights: readonly Float64Array[],
  weightsFor: (outs: readonly Tensor[]) => Tensor[],
): void {
  const outs = callF(fn, f, leaves);
  const live = outs.flatMap((o, k) => (o.requiresGrad ? [k] : []));
  if (live.length === 0) return;
  if (live.length === 1) {
    const k = live[0]!;
    outs[k]!.backward(weightsFor(outs)[k]);
    return;
  }
  const ys = live.map((k) => outs[k]!);
  weightedSum(ys, { weights: live.map((k) => weights[k]!) }).backward();
}

/** Attributes of `weightedSum`: one weight array per input. */
interface WeightedSumAttrs {
  weights: readonly Float64Array[];
}

/**
 * `Σ_k Σ_i weights[k][i]·ys[k][i]`, a one-element tensor, so that one `.backward()` covers every
 * output of a checked function. Its backward is first-order only (it is never differentiated).
 */
const weightedSum = defineOp<WeightedSumAttrs>({
  name: "weightedSum",
  inputs: ["ys"],
  variadic: true,
  forward(ys, { weights }, ctx) {
    let s = 0;
    for (let k = 0; k < ys.length; k++) {
      const d = ys[k]!.data;
      const w = weights[k]!;
      for (let i = 0; i < d.length; i++) s += w[i]! * d[i]!;
    }
    ctx.stash(ys.map((y) => y.shape));
    const out = ctx.alloc([]);
    out.data[0] = s;
    return out;
  },
  backward(gy, ctx) {
    const s = gy.data[0]!;
    const shapes = ctx.stashed as readonly (readonly number[])[];
    return ctx.attrs.weights.map((w, k) => {
      const d = allocArray(gy.dtype, w.length);
      for (let i = 0; i < d.length; i++) d[i] = s * w[i]!;
      return new Tensor(d, shapes[k]!);
    });
  },
});

/** The running comparison of gradient sets with the numerical and reference gradients. */
class Comparison {
  passed = true;
  maxAbs = 0;
  maxRel = 0;
  worst: GradcheckElement | null = null;
  private worstScore = -1;

  constructor(
    private readonly inputs: readonly Tensor[],
    private readonly wrt: readonly number[],
    private readonly numeric: readonly Tensor[],
  ) {}

  /** `|a − n| ≤ atol + rtol·|n|` against the numerical gradient. */
  againstNumeric(set: GradientSet, tol: { atol: number; rtol: number }): void {
    for (let w = 0; w < this.wrt.length; w++) {
      const n = this.numeric[w]!.data;
      this.elements(set, w, n, true, () => tol.atol, tol.rtol);
    }
  }

  /** `|a − r| ≤ atol·scale + rtol·|r|` against the reference analytic gradient. */
  againstReference(set: GradientSet, ref: GradientSet, tol: { atol: number; rtol: number }): void {
    let global = 0;
    for (const r of ref.values) global = Math.max(global, maxAbs(r));
    // rounding error follows the size of the values computed with, not only of the result: a
    // gradient that cancels to 1e-5 from terms of size 1 is off by float32's ~6e-8 of those terms
    let inputs = 0;
    for (const t of this.inputs) inputs = Math.max(inputs, maxAbs(t.data));
    for (let w = 0; w < this.wrt.length; w++) {
      const r = ref.values[w]!;
      const scale = Math.max(maxAbs(r) || global, inputs);
      this.elements(set, w, r, false, () => tol.atol * scale, tol.rtol);
    }
  }

  private elements(
    set: GradientSet,
    w: number,
    expected: FloatArray,
    numeric: boolean,
    atol: () => number,
    rtol: number,
  ): void {
    const i = this.wrt[w]!;
    const a = set.values[w]!;
    const n = this.numeric[w]!.data;
    const base = atol();
    for (let j = 0; j < a.length; j++) {
      const av = a[j]!;
      const ev = expected[j]!;
      const abs = Math.abs(av - ev);
      const rel = abs / Math.max(Math.abs(ev), 1e-12);
      const tol = base + rtol * Math.abs(ev);
      const bad = !(abs <= tol);
      const score = Number.isNaN(abs) ? Number.POSITIVE_INFINITY : abs / (tol > 0 ? tol : Number.MIN_VALUE);
      if (numeric) {
        if (abs > this.maxAbs || Number.isNaN(abs)) this.maxAbs = Number.isNaN(abs) ? Number.NaN : abs;
        if (rel > this.maxRel || Number.isNaN(rel)) this.maxRel = Number.isNaN(rel) ? Number.NaN : rel;
      }
      if (bad) this.passed = false;
      if (score > this.worstScore) {
        this.worstScore = score;
        this.worst = {
          input: i,
          flatIndex: j,
          index: unravel(j, this.inputs[i]!.shape),
          analytic: av,
          numeric: n[j]!,
          against: numeric ? "numeric" : "reference",
          expected: ev,
          route: set.route,
          dtype: set.dtype,
          absError: abs,
          relError: rel,
          tolerance: tol,
        };
      }
    }
  }
}

function maxAbs(d: FloatArray): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = Math.abs(d[i]!);
    if (v > m) m = v;
  }
  return m;
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
 * Re-runs `f` keeping every node's inputs, then checks each node's own derivative against central
 * differences on those inputs (by the same routes), in creation order; returns the first that
 * fails or whose check throws.
 */
function locateFault(
  f: TensorFunction,
  inputs: readonly Tensor[],
  wrt: readonly number[],
  routes: readonly GradRoute[],
): GradcheckFault | null {
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
    const h: TensorFunction = (...xs) => applyOp(node.op, xs, node.attrs, xs[0]?.dtype ?? node.dtype);
    const fault = {
      op: node.op.name,
      nodeId: node.id,
      input: null,
      inputName: null,
      index: null,
      analytic: null,
      numeric: null,
      route: null,
      error: null,
      site: userFrame(node.site),
    };
    let r: GradcheckReport;
    try {
      r = gradcheck(h, local, { wrt: needs, localize: false, routes });
    } catch (e) {
      // the likeliest culprit: its own forward or backward fails on its own inputs
      return { ...fault, error: e instanceof Error ? e : new Error(String(e)) };
    }
    if (!r.passed && r.worst !== null) {
      const w = r.worst;
      return {
        ...fault,
        input: w.input,
        inputName: inputLabel(node.op, w.input),
        index: w.index,
        analytic: w.analytic,
        numeric: w.numeric,
        route: w.route,
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
  const routes: unknown = report.routes;
  const first = isArray(routes) && routes.length > 0 ? text(routes[0]) : "grad";
  const route = worst.route === undefined ? "" : ` (route ${text(worst.route)}, ${text(worst.dtype)})`;
  const allowed = worst.tolerance === undefined ? "" : ` > tolerance ${expo(worst.tolerance)}`;
  const comparison =
    worst.against === "reference"
      ? `  analytic ${text(worst.analytic)}${route} vs reference ${text(worst.expected)} (the '${first}' route${isArray(report.reference) ? " in float64" : ""}; numeric ${text(worst.numeric)}): abs error ${expo(worst.absError)}${allowed} (crossAtol ${text(report.crossAtol)}·max|reference| + crossRtol ${text(report.crossRtol)}·|reference|)`
      : `  analytic ${text(worst.analytic)}${route} vs numeric ${text(worst.numeric)}: abs error ${expo(worst.absError)}${allowed} (atol + rtol·|numeric|, atol ${text(report.atol)} and rtol ${text(report.rtol)} for ${text(report.dtype)})`;
  return [
    `gradcheck failed for ${text(name)}: input ${text(i)} (shape ${shape}, ${text(report.dtype)}) at index ${fmtShape(worst.index as number[])}:`,
    comparison,
    `  max abs error ${expo(report.maxAbsError)}, max rel error ${expo(report.maxRelError)} against the numerical gradient (eps ${text(report.eps)})`,
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
  const error: unknown = fault.error;
  const head = `  first wrong node: op '${text(fault.op)}' (node #${text(fault.nodeId)})`;
  const what =
    error !== null && error !== undefined
      ? `${head} threw when its own derivative was checked on its own inputs: ${error instanceof Error ? error.message : describeValue(error)}`
      : `${head}, input ${text(fault.input)} (${text(fault.inputName)}) at ${fmtShape(fault.index as number[])}${fault.route === null || fault.route === undefined ? "" : ` (route ${text(fault.route)})`}: analytic ${text(fault.analytic)} vs numeric ${text(fault.numeric)}`;
  return [
    what,
    `  created at ${site === null || site === undefined ? "(unknown: no stack frame outside gradgraph)" : text(site)}`,
  ].join("\n");
}

/** @internal The multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
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
    if (t.dtype === "int32" || t.dtype === "bool") {
      throw new DTypeError(fn, `${fn}: input ${i} is ${t.dtype}; only float inputs can be differentiated`);
    }
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
    if (o.dtype === "int32" || o.dtype === "bool") {
      throw new DTypeError(fn, `${fn}: f's output ${k} is ${o.dtype}; only float outputs have derivatives`);
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
