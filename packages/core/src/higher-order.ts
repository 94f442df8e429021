/**
 * Higher-order differentiation built on `grad(..., { createGraph: true })`: the backward pass is
 * itself recorded (every backward rule is written with differentiable ops), so a gradient can be
 * differentiated again. No second set of derivative rules exists (an op's optional `fusedBackward`
 * is a faster route to its one `backward`, used only when no graph is recorded, and checked equal by `checkOp`).
 */
import { allocArray } from "./dtype.js";
import { ArgumentError, DTypeError, describeValue, fmtShape, optionsObject } from "./errors.js";
import {
  checkFunctionArgs,
  GRADCHECK_OPTIONS,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheckIn,
  type TensorFunction,
} from "./gradcheck.js";
import { enableGrad, grad } from "./graph.js";
import { checkSeed, Rng, type Seed } from "./random.js";
import { shapesEqual } from "./shape.js";
import { type AnyTensor, describeNonTensor, isTensor, Tensor } from "./tensor.js";
import { isArray } from "./validate.js";

/** Options of `gradgradcheck`. */
export interface GradgradcheckOptions extends GradcheckOptions {
  /** Seed of the random first-order output weights (default 1): a safe integer or a BigInt, as `Rng` takes. */
  gradOutputSeed?: Seed;
}

/** The keys of {@link GradgradcheckOptions}: gradcheck's and `gradOutputSeed`. */
const GRADGRADCHECK_OPTIONS: readonly string[] = [...GRADCHECK_OPTIONS, "gradOutputSeed"];

/**
 * Checks second derivatives numerically. With random weights `v` on `f`'s outputs, the function
 * `g(x) = ∂(v·f)/∂x` (computed by `grad` with `createGraph`) is checked by `gradcheck`, so its
 * analytic gradient — a Hessian-vector-style product through the recorded backward — is compared
 * with central differences of `g` in float64. The options are `gradcheck`'s: `routes` picks how
 * `g` is differentiated (`grad()`, `grad()` with `createGraph`, `.backward()` into zeroed
 * gradients), and for float32 inputs `g`'s gradient is also compared with its float64 one.
 * @returns the report of the check of `g` (see `gradcheck`).
 * @throws ArgumentError naming `gradgradcheck` for bad arguments (a `gradOutputSeed` that `Rng`
 *   would refuse included, see `checkSeed`; the other options as `gradcheck`), and whatever `f` throws.
 */
export function gradgradcheck(
  f: TensorFunction,
  inputs: readonly Tensor[],
  options: GradgradcheckOptions = {},
): GradcheckReport {
  checkFunctionArgs("gradgradcheck", f, inputs);
  // its own option here; the others are gradcheck's, which gradcheckIn checks
  const { gradOutputSeed, ...gradcheckOptions } = optionsObject("gradgradcheck", options, GRADGRADCHECK_OPTIONS);
  const seed = checkSeed("gradgradcheck", gradOutputSeed ?? 1, "gradOutputSeed");
  const rng = new Rng(seed);
  const probe = enableGrad(() => outputsOf("gradgradcheck", f(...inputs.map((t) => new Tensor(t.data, t.shape)))));
  const weights = probe.map((o) => Float32Array.from({ length: o.size }, () => 2 * rng.uniform() - 1));
  const firstOrder = (...xs: Tensor[]): Tensor[] =>
    enableGrad(() => {
      const leaves = xs.map((x) => (x.requiresGrad ? x : new Tensor(x.data, x.shape, true)));
      const outs = outputsOf("gradgradcheck", f(...leaves));
      const v = outs.map((o, k) => {
        const d = allocArray(o.dtype, o.size);
        d.set(weights[k]!);
        return new Tensor(d, o.shape);
      });
      return grad(outs, leaves, { gradOutput: v, createGraph: true, allowUnused: true });
    });
  Object.defineProperty(firstOrder, "name", { value: `d(${f.name || "f"})` });
  return gradcheckIn("gradgradcheck", firstOrder, inputs, gradcheckOptions);
}

/**
 * Forward-mode product `J·t` (Jacobian of `f` at `inputs` times `tangents`), computed with the
 * double-backward trick: `g(u) = Jᵀu` is linear in a dummy `u`, so `∂(t·g)/∂u = J·t`.
 * @returns `value` = f(inputs) and `jvp` of the output's shape.
 * @throws ArgumentError when `tangents` do not match the inputs in number or shape.
 */
export function jvp(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  tangents: readonly Tensor[],
): {
  /** `f(inputs)`, detached from any graph. */
  value: Tensor;
  /** `J·t`, of the output's shape, detached (zeros when the output does not depend on the inputs). */
  jvp: Tensor;
} {
  checkFunctionArgs("jvp", f, inputs);
  checkVectors("jvp", "tangents", inputs, tangents);
  return enableGrad(() => {
    const leaves = inputs.map((t) => new Tensor(t.data, t.shape, true));
    const out = single("jvp", f(...leaves));
    const u = new Tensor(allocArray(out.dtype, out.size), out.shape, true);
    const g = grad(out, leaves, { gradOutput: u, createGraph: true, allowUnused: true });
    const [jv] = grad(g, [u], { gradOutput: [...tangents], allowUnused: true });
    return { value: out.detach(), jvp: jv!.detach() };
  });
}

/**
 * Hessian-vector product of a scalar function: `H·v`, by differentiating the recorded gradient
 * `∂f/∂x` once more with `v` as its weights.
 * @returns `value` = f(inputs), `grad` = ∂f/∂x, and `hvp` = H·v, one tensor per input.
 * @throws ArgumentError when `f` does not return a one-element tensor or `vectors` do not match.
 */
export function hvp(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  vectors: readonly Tensor[],
): {
  /** `f(inputs)`, a one-element tensor, detached from any graph. */
  value: Tensor;
  /** `∂f/∂x`, one detached tensor per input, of that input's shape. */
  grad: Tensor[];
  /** `H·v`, one detached tensor per input, of that input's shape. */
  hvp: Tensor[];
} {
  checkFunctionArgs("hvp", f, inputs);
  checkVectors("hvp", "vectors", inputs, vectors);
  return enableGrad(() => {
    const leaves = inputs.map((t) => new Tensor(t.data, t.shape, true));
    const out = single("hvp", f(...leaves));
    if (out.size !== 1) {
      throw new ArgumentError("hvp", `hvp: f must return a one-element tensor, got shape ${fmtShape(out.shape)}`);
    }
    const g = grad(out, leaves, { createGraph: true, allowUnused: true });
    const hv = grad(g, leaves, { gradOutput: [...vectors], allowUnused: true });
    return { value: out.detach(), grad: g.map((t) => t.detach()), hvp: hv.map((t) => t.detach()) };
  });
}

/** `f`'s outputs as an array, each checked to be a Tensor (holes of a sparse array included). */
function outputsOf(fn: string, out: unknown): Tensor[] {
  const outs: readonly unknown[] = isArray(out) ? out : [out];
  const checked: Tensor[] = [];
  for (let k = 0; k < outs.length; k++) {
    const o = outs[k];
    if (!isTensor(o)) {
      throw new ArgumentError(
        fn,
        `${fn}: f must return a Tensor or an array of tensors; output ${k} is ${describeNonTensor(o)}`,
      );
    }
    checked.push(floatOutput(fn, o, k));
  }
  return checked;
}

function single(fn: string, out: unknown): Tensor {
  if (!isTensor(out)) throw new ArgumentError(fn, `${fn}: f must return a Tensor, got ${describeNonTensor(out)}`);
  return floatOutput(fn, out, 0);
}

/** `f`'s output `k` when it is a float tensor. @throws DTypeError naming `fn` for an int32 or bool one. */
function floatOutput(fn: string, t: AnyTensor, k: number): Tensor {
  if (t.dtype === "int32" || t.dtype === "bool") {
    throw new DTypeError(fn, `${fn}: f's output ${k} is ${t.dtype}; only float outputs have derivatives`);
  }
  return t;
}

function checkVectors(fn: string, arg: string, inputs: readonly Tensor[], vs: unknown): void {
  if (!isArray(vs) || vs.length !== inputs.length) {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be an array of ${inputs.length} tensors (one per input), got ${describeValue(vs)}`,
    );
  }
  // an index loop: forEach would skip the holes of a sparse array
  for (let i = 0; i < vs.length; i++) {
    const v: unknown = vs[i];
    const x = inputs[i]!;
    if (!isTensor(v) || !shapesEqual(v.shape, x.shape)) {
      throw new ArgumentError(
        fn,
        `${fn}: ${arg}[${i}] must be a Tensor of shape ${fmtShape(x.shape)}, got ${isTensor(v) ? fmtShape(v.shape) : describeNonTensor(v)}`,
      );
    }
  }
}
