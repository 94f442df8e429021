/**
 * `defineOp`: how every op in gradgraph is made, by the library and by its users. The author
 * writes a forward over raw typed arrays and a backward that maps the upstream gradient to one
 * gradient per input using differentiable ops; the op then works in graphs, in higher-order
 * gradients, in the gradient checker and in `checkOp`'s property tests.
 */
import { DEFAULT_DTYPE, type DType, type FloatDType, promotionRank } from "./dtype.js";
import { ArgumentError, describeValue } from "./errors.js";
import { modes } from "./grad-mode.js";
import {
  applyOp,
  type BackwardContext,
  cast,
  type ForwardContext,
  type GradDestinations,
  type OpCore,
  type RawArray,
} from "./graph.js";
import type { OnnxMapping } from "./onnx.js";
import type { Shape } from "./shape.js";
import { castRaw } from "./structural.js";
import {
  type AnyTensor,
  describeNonTensor,
  isTensor,
  isTensorFast,
  operandDType,
  promoteWith,
  Tensor,
  type TensorLike,
  toTensor,
  weakKind,
} from "./tensor.js";
import { isArray, isConstructorOnly, isRevoked } from "./validate.js";

/**
 * A source of choices for property tests, independent of any testing library: `checkOp` backs it
 * with fast-check so every choice shrinks.
 */
export interface Picker {
  /** An integer in `[min, max]`. */
  int(min: number, max: number): number;
  /** A boolean. */
  bool(): boolean;
  /**
   * A shape of rank `minRank..maxRank` with dimensions `minDim..maxDim` (defaults: `checkOp`'s
   * `shape` option, ranks 0..4 and dimensions 0..4). `checkOp` narrows the bounds by the kind of
   * case it draws: most have ranks and dimensions of at least 1; one in 16 is a one-element shape
   * of the smallest rank, one in 16 has a zero-size dimension (where `minDim` allows them).
   */
  shape(options?: { minRank?: number; maxRank?: number; minDim?: number; maxDim?: number }): number[];
}

/**
 * How `checkOp` draws test cases for an op: the relation between its input shapes, its
 * attributes, and the input values' domain.
 */
export interface OpTestSpec<A> {
  /**
   * `'same'`: every input has one shape; `'broadcast'` (default for several inputs): shapes that
   * broadcast together; `'matmul'`: (N×D, D×H); or a function drawing the shapes.
   */
  shapes?: "same" | "broadcast" | "matmul" | ((pick: Picker) => Shape[]);
  /** Draws the attributes for given input shapes. */
  attrs?: (shapes: readonly Shape[], pick: Picker) => A;
  /** Draws shapes and attributes together, when they depend on each other (overrides both). */
  cases?: (pick: Picker) => {
    /** One shape per input, in the op's input order. */
    shapes: Shape[];
    /** The attributes the op is called with for these shapes. */
    attrs: A;
  };
  /** Interval the input values are drawn from (default `[-2, 2]`). */
  domain?: readonly [number, number];
  /** Per-input intervals, overriding `domain` for the inputs they cover (e.g. a positive divisor). */
  domains?: readonly (readonly [number, number] | undefined)[];
  /**
   * Points where the op is not differentiable (0 for `relu`, `abs`): drawn values closer than
   * 0.01 to one of them are moved 0.05 away, so the numerical derivative never straddles a kink.
   */
  avoid?: readonly number[];
  /**
   * Cases for which this returns false are skipped (not counted as failures), for conditions
   * across inputs such as ties in `maximum` or `max`.
   */
  precondition?: (inputs: readonly Tensor[], attrs: A) => boolean;
  /** False when the op's derivative is not itself differentiable, so `checkOp`'s second-order check does not apply. */
  twice?: boolean;
  /**
   * Per input, the dtype of its drawn values for an input through which no gradient flows:
   * `'bool'` draws 0 and 1, `'int32'` integers of the input's domain (undefined: the checked
   * float dtype). `checkOp` holds such inputs fixed and differentiates the float ones.
   */
  dtypes?: readonly (DType | undefined)[];
}

/** The inputs as forward and `check` see them: one Tensor per declared input name. */
export type InputTensors<N extends readonly string[]> = { readonly [K in keyof N]: Tensor };

interface SpecBase<A, N extends readonly string[]> {
  /** The op's name, used in every error message and in graph export. */
  name: string;
  /** The names of the inputs, in order; their number is the op's arity. */
  inputs: N;
  /**
   * Validates the (converted, dtype-promoted) inputs and the attributes before forward. Throw
   * `ShapeError`/`ArgumentError` naming the op, the input and the shapes.
   */
  check?(inputs: InputTensors<N>, attrs: A): void;
  /**
   * Maps checked attributes to the ones forward and backward see and the node records, e.g. a
   * negative axis to its non-negative form, so that an op called directly
   * (`op([x], { axis: -1 })`) computes what its function would. Runs after `check`, with the same
   * inputs; what it returns must pass `check` too (backward may call the op with it).
   */
  normalize?(inputs: InputTensors<N>, attrs: A): A;
  /**
   * Cast mixed float32/float64 inputs to float64 before forward (default true). When false, float
   * inputs keep their dtypes (int32 and bool ones are still cast to the op's float dtype).
   */
  promote?: boolean;
  /**
   * What the op makes of int32 and bool operands (which never require grad), by PyTorch's type
   * promotion (see `resultDType`). Its forward always sees float tensors:
   * - `'float'` (default): they are cast to the float dtype of the other operands, or to float32
   *   when no operand is float, and the outputs are float (as PyTorch's `exp`, `sigmoid` and true
   *   division of int tensors).
   * - `'int'`: when no operand is float, the op computes exactly on float64 copies of them and its
   *   float outputs are cast to int32 (as PyTorch's `add`, `mul`, `sum` of int tensors; a bool
   *   operand counts as int32, as in PyTorch's `sum` of a bool tensor).
   * - `'keep'`: as `'int'`, but the outputs take the operands' promoted dtype, bool included (the
   *   shape and indexing ops: a reshaped bool tensor stays bool).
   *
   * An output the forward allocates as int32 or bool itself (`ctx.alloc(shape, 'bool')`, a
   * comparison's) is left as it is, and is never recorded.
   */
  integers?: "float" | "int" | "keep";
  /**
   * Accept any number of inputs (at least one), all named after `inputs[0]` (`xs[0]`, `xs[1]`,
   * ...), as `concat` does. `inputs` then holds that one name.
   */
  variadic?: boolean;
  /** How `checkOp` draws property-test cases for this op. */
  test?: OpTestSpec<A>;
  /**
   * A promise that lets the engine reuse memory (default false): `backward` keeps no reference to
   * the gradient it receives nor to the gradients it returns (no caching, no stashing them
   * anywhere). In a first-order backward the engine may then reuse a large gradient array once
   * the last op that received it has run. Leave unset when in doubt: it only saves allocations.
   */
  ownsGradients?: boolean;
  /**
   * Optional: a faster route to exactly what `backward` returns, for a pass that creates no graph
   * (the engine calls it instead of `backward` only then; under `createGraph` `backward` runs, so
   * higher orders never see it). The same arguments as `backward` (`grads` is the upstream
   * gradient, or the array of them for a multi-output op) and the same outputs, written on raw
   * kernels. It is a second rule: `checkOp` compares it with `backward` on every drawn case (with
   * and without destinations), and it is only worth declaring where a benchmark shows what it buys.
   *
   * `out` offers where the engine would like an input's gradient (see {@link GradDestinations}):
   * when `out.take(j)` gives a tensor (a leaf's zeroed `.grad`), writing input `j`'s gradient
   * into its `data` (a product on `gemm`, say) and returning it saves an allocation and a copy.
   * Ignoring `out` is always correct.
   */
  fusedBackward?(
    grads: Tensor | readonly Tensor[],
    ctx: BackwardContext,
    out: GradDestinations,
  ): readonly (Tensor | null | undefined)[];
  /**
   * How the op exports to ONNX (`@gradgraph/onnx`): adds standard ONNX nodes computing its forward
   * and returns their output names (see {@link OnnxMapping}). Without it, exporting a graph that
   * uses the op fails with an error naming the op and where the node was created.
   */
  onnx?: OnnxMapping<A>;
}

/** What a library author writes to define a single-output op. */
export interface OpSpec<A = undefined, N extends readonly string[] = readonly string[]> extends SpecBase<A, N> {
  /**
   * Computes the output from the inputs' raw `data` and `shape` (recording is off here). Allocate
   * the result with `ctx.alloc(shape)`, and save what backward needs with `ctx.saveInputs`,
   * `ctx.saveOutput` or `ctx.stash`.
   */
  forward(inputs: InputTensors<N>, attrs: A, ctx: ForwardContext): RawArray<DType>;
  /**
   * The local derivative (vector-Jacobian product): given the upstream gradient `gy` (the
   * output's shape), returns one gradient per input, or `null` where none is needed. Write it with
   * differentiable ops so higher-order gradients work. A gradient may have the broadcast shape:
   * the engine sums it back to the input's shape.
   */
  backward(gy: Tensor, ctx: BackwardContext<A>): readonly (Tensor | null | undefined)[];
}

/** What a library author writes to define an op with several outputs. */
export interface MultiOpSpec<A = undefined, N extends readonly string[] = readonly string[]> extends SpecBase<A, N> {
  /** Computes every output; see `OpSpec.forward`. */
  forward(inputs: InputTensors<N>, attrs: A, ctx: ForwardContext): readonly RawArray<DType>[];
  /**
   * Maps the outputs' gradients (zeros where an output received none) to one gradient per input.
   */
  backward(gys: readonly Tensor[], ctx: BackwardContext<A>): readonly (Tensor | null | undefined)[];
}

/** The attribute argument of an op call: optional when the op's attributes may be undefined. */
export type AttrArgs<A> = undefined extends A ? [attrs?: A] : [attrs: A];

/**
 * The result type of an op or function for operands of types `T`: `Tensor` (a float tensor) when
 * none is an int32 or bool tensor, else {@link AnyTensor} (the dtype then depends on the op: see
 * `OpSpec.integers`; narrow it with `t.dtype`).
 */
export type Kept<T> = [Extract<T, Tensor<"int32"> | Tensor<"bool">>] extends [never] ? Tensor : AnyTensor;

/**
 * An op made by `defineOp`: call it with an array of inputs (tensors or numbers) and its attributes.
 * `Out` is its output's type: `Tensor` (the default) for an op whose output is float whatever its
 * operands (`integers: 'float'`), `'operands'` for one whose output keeps int32 and bool operands'
 * dtype (`integers: 'int'` or `'keep'`: then {@link Kept} of the operands), or a fixed type such as
 * a comparison's `Tensor<"bool">`.
 */
export interface Op<A = undefined, Out extends AnyTensor | "operands" = Tensor> {
  <const I extends readonly TensorLike[]>(
    inputs: I,
    ...attrs: AttrArgs<A>
  ): Out extends AnyTensor ? Out : Kept<I[number]>;
  /** The op's name. */
  readonly opName: string;
  /** False: the op returns one tensor. */
  readonly multiOutput: false;
  /** The definition it was made from. */
  readonly spec: OpSpec<A>;
}

/** An op made by `defineMultiOutputOp`; returns its outputs as an array. */
export interface MultiOp<A = undefined> {
  <const I extends readonly TensorLike[]>(inputs: I, ...attrs: AttrArgs<A>): Kept<I[number]>[];
  /** The op's name. */
  readonly opName: string;
  /** True: the op returns an array of tensors. */
  readonly multiOutput: true;
  /** The definition it was made from. */
  readonly spec: MultiOpSpec<A>;
}

/**
 * Defines a differentiable op from a forward over raw arrays and a backward over tensors.
 *
 * The returned function validates its inputs (arity; each a tensor, by `isTensor`, or a constant
 * given as a number, nested arrays of numbers or a typed array (see `TensorLike`), converted to a
 * tensor; mixed float32/float64 promoted to float64; then `spec.check`, and `spec.normalize` on the
 * attributes), runs forward with recording off, and records a node when any input requires grad.
 *
 * @throws ArgumentError (from the returned op) for a wrong number of inputs or a non-tensor input,
 *   naming the op and the input; and whatever `spec.check` throws.
 */
export function defineOp<A = undefined, const N extends readonly string[] = readonly string[]>(
  spec: OpSpec<A, N> & { integers: "int" | "keep" },
): Op<A, "operands">;
export function defineOp<A = undefined, const N extends readonly string[] = readonly string[]>(
  spec: OpSpec<A, N> & { integers?: "float" },
): Op<A>;
export function defineOp<A = undefined, const N extends readonly string[] = readonly string[]>(
  spec: OpSpec<A, N>,
): Op<A, AnyTensor | "operands">;
export function defineOp<A = undefined, const N extends readonly string[] = readonly string[]>(
  spec: OpSpec<A, N>,
): Op<A, AnyTensor | "operands"> {
  const core = toCore(spec, false);
  const normalize = spec.normalize;
  const fn = (inputs: readonly TensorLike[], ...rest: AttrArgs<A>): Tensor => {
    let attrs = rest[0] as A;
    const tensors = prepare(spec, inputs);
    const post = castOutputs;
    if (typeof attrs === "object" && attrs !== null && isRevoked(attrs)) throw revokedAttrs(spec.name);
    try {
      spec.check?.(tensors as unknown as InputTensors<N>, attrs);
      if (normalize !== undefined) attrs = normalize.call(spec, tensors as unknown as InputTensors<N>, attrs);
      const dtype = tensors.length > 0 ? tensors[0]!.dtype : DEFAULT_DTYPE;
      if (post === null) return applyOp(core, tensors, attrs, dtype) as Tensor;
      return castOutput(applyOp(core, tensors, attrs, dtype, post) as Tensor, post) as Tensor;
    } catch (e) {
      throw brokenInput(spec, inputs) ?? e;
    }
  };
  return Object.assign(fn, { opName: spec.name, spec, multiOutput: false as const }) as unknown as Op<
    A,
    AnyTensor | "operands"
  >;
}

/**
 * Defines a differentiable op with several outputs (such as `branch`). Same contract as
 * `defineOp`, except that forward returns an array of raw outputs and backward receives an array
 * of gradients.
 * @throws ArgumentError (from the returned op) as for `defineOp`.
 */
export function defineMultiOutputOp<A = undefined, const N extends readonly string[] = readonly string[]>(
  spec: MultiOpSpec<A, N>,
): MultiOp<A> {
  const core = toCore(spec, true);
  const normalize = spec.normalize;
  const fn = (inputs: readonly TensorLike[], ...rest: AttrArgs<A>): Tensor[] => {
    let attrs = rest[0] as A;
    const tensors = prepare(spec, inputs);
    const post = castOutputs;
    if (typeof attrs === "object" && attrs !== null && isRevoked(attrs)) throw revokedAttrs(spec.name);
    try {
      spec.check?.(tensors as unknown as InputTensors<N>, attrs);
      if (normalize !== undefined) attrs = normalize.call(spec, tensors as unknown as InputTensors<N>, attrs);
      const dtype = tensors.length > 0 ? tensors[0]!.dtype : DEFAULT_DTYPE;
      if (post === null) return applyOp(core, tensors, attrs, dtype) as Tensor[];
      return (applyOp(core, tensors, attrs, dtype, post) as Tensor[]).map((o) => castOutput(o, post) as Tensor);
    } catch (e) {
      throw brokenInput(spec, inputs) ?? e;
    }
  };
  return Object.assign(fn, { opName: spec.name, spec, multiOutput: true as const }) as MultiOp<A>;
}

/**
 * When an op failed, the error for an input that passed `prepare`'s brand check but is not an
 * intact tensor (its `data` or `shape` deleted or replaced), which is what made it fail; else null.
 */
function brokenInput<A, N extends readonly string[]>(
  spec: SpecBase<A, N>,
  inputs: readonly TensorLike[],
): ArgumentError | null {
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    // only a tensor by brand can be broken: constants (numbers, arrays) were converted, checked
    if (isTensorFast(x) && !isTensor(x)) {
      return new ArgumentError(
        spec.name,
        `${spec.name}: input ${i} (${inputName(spec.inputs, spec.variadic === true, i)}) must be a Tensor, a number, nested arrays of numbers or a typed array, got ${describeNonTensor(x)}`,
      );
    }
  }
  return null;
}

/** The error for attributes that are a revoked Proxy (nothing can be read from one). */
function revokedAttrs(op: string): ArgumentError {
  return new ArgumentError(op, `${op}: attrs is a revoked Proxy`);
}

/** True when every entry is a string; a hole of a sparse array is not (unlike `every`, which skips holes). */
function allStrings(list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) if (typeof list[i] !== "string") return false;
  return true;
}

function toCore<A, N extends readonly string[]>(spec: OpSpec<A, N> | MultiOpSpec<A, N>, multi: boolean): OpCore {
  if (spec === null || typeof spec !== "object" || isRevoked(spec)) {
    throw new ArgumentError("defineOp", `defineOp: spec must be an object, got ${describeValue(spec)}`);
  }
  if (typeof spec.name !== "string" || spec.name.length === 0) {
    throw new ArgumentError(
      "defineOp",
      `defineOp: spec.name must be a non-empty string, got ${describeValue(spec.name)}`,
    );
  }
  if (!isArray(spec.inputs) || !allStrings(spec.inputs)) {
    throw new ArgumentError(
      "defineOp",
      `defineOp(${spec.name}): spec.inputs must be an array of input names, got ${describeValue(spec.inputs)}`,
    );
  }
  for (const key of ["forward", "backward", "check", "normalize", "fusedBackward", "onnx"] as const) {
    const f: unknown = spec[key];
    const optional = key !== "forward" && key !== "backward";
    if (optional && f === undefined) continue;
    if (typeof f !== "function" || isConstructorOnly(f as () => unknown)) {
      throw new ArgumentError(
        "defineOp",
        `defineOp(${spec.name}): spec.${key} must be a function${optional ? " or undefined" : ""}, got ${typeof f === "function" ? "a class (it needs new)" : describeValue(f)}`,
      );
    }
  }
  return {
    name: spec.name,
    inputNames: spec.inputs,
    variadic: spec.variadic === true,
    ownsGradients: spec.ownsGradients === true,
    multi,
    forward: spec.forward as OpCore["forward"],
    backward: spec.backward as OpCore["backward"],
    // always present (undefined when not declared): one object shape for every op's core keeps
    // the engine's property reads monomorphic
    fusedBackward: spec.fusedBackward as OpCore["fusedBackward"],
    ...(spec.onnx === undefined ? {} : { onnx: spec.onnx as OnnxMapping<never> }),
  };
}

/**
 * The dtype to which `prepare` found the op's float outputs must be cast afterwards (int32 or
 * bool, for an op of `integers: 'int'` or `'keep'` whose operands are all int32 or bool), or null.
 * Read right after `prepare`, before anything else can run.
 */
let castOutputs: DType | null = null;

/** An output of float dtype cast to `dtype` (not recorded: its inputs were int32 or bool); others as they are. */
function castOutput(t: AnyTensor, dtype: DType): AnyTensor {
  if (t.dtype !== "float32" && t.dtype !== "float64") return t;
  // under debug recording, a recorded cast: its origin says where the result came from
  return modes.inputs ? cast(t, dtype) : castRaw(t, dtype);
}

/**
 * Checks arity, converts constants to tensors and promotes the operands to one float dtype (see
 * `SpecBase.integers`); sets `castOutputs`.
 */
function prepare<A, N extends readonly string[]>(
  spec: SpecBase<A, N>,
  inputs: readonly TensorLike[],
): readonly Tensor[] {
  castOutputs = null;
  const names = spec.inputs;
  const op = spec.name;
  if (!isArray(inputs)) {
    throw new ArgumentError(
      op,
      `${op}: inputs must be an array of ${names.length} tensors (${names.join(", ")}), got ${describeValue(inputs)}`,
    );
  }
  const variadic = spec.variadic === true;
  if (variadic ? inputs.length === 0 : inputs.length !== names.length) {
    throw new ArgumentError(
      op,
      variadic
        ? `${op}: expects at least one input (${names[0]}), got none`
        : `${op}: expects ${names.length} input${names.length === 1 ? "" : "s"} (${names.join(", ")}), got ${inputs.length}`,
    );
  }
  let dtype: DType | null = null;
  let mixed = false;
  let constants = false;
  let weak = -1;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (isTensorFast(x)) {
      const d = x.dtype;
      if (dtype === null) dtype = d;
      else if (dtype !== d) mixed = true;
    } else if (typeof x === "number") {
      constants = true;
      weak = Math.max(weak, Number.isInteger(x) ? 0 : 1);
    } else if (isArray(x) || ArrayBuffer.isView(x)) {
      // nested arrays or a typed array: converted below; a Float32Array or Float64Array brings
      // its dtype, as a tensor does
      constants = true;
      const own = operandDType(x);
      if (own !== null) {
        if (dtype === null) dtype = own;
        else if (dtype !== own) mixed = true;
      } else weak = Math.max(weak, weakKind(x, op, inputName(names, variadic, i)) ?? 1);
    } else {
      throw new ArgumentError(
        op,
        `${op}: input ${i} (${inputName(names, variadic, i)}) must be a Tensor, a number, nested arrays of numbers or a typed array, got ${describeNonTensor(x)}`,
      );
    }
  }
  // the common case: tensors of one float dtype, used as they are
  if (!constants && !mixed && (dtype === "float32" || dtype === "float64")) return inputs as readonly Tensor[];
  // the highest dtype among the tensors and float typed arrays (checked above)
  let strong = -1;
  for (let i = 0; i < inputs.length; i++) {
    const own = operandDType(inputs[i]);
    if (own !== null) strong = Math.max(strong, promotionRank(own));
  }
  const result = promoteWith(strong, weak);
  const kind = spec.integers ?? "float";
  let compute: FloatDType;
  if (result === "float32" || result === "float64") compute = result;
  else if (kind === "float") compute = DEFAULT_DTYPE;
  else {
    compute = "float64";
    castOutputs = kind === "int" && result === "bool" ? "int32" : result;
  }
  const promote = spec.promote !== false;
  const out = new Array<Tensor>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    const t = typeof x === "number" ? constant(x, compute) : toTensor(x, op, inputName(names, variadic, i), compute);
    const keep = !promote && (t.dtype === "float32" || t.dtype === "float64");
    out[i] = t.dtype === compute || keep ? (t as Tensor) : (cast(t, compute) as Tensor);
  }
  return out;
}

/** An input's name for messages: `x`, or `xs[2]` for a variadic op. */
function inputName(names: readonly string[], variadic: boolean, i: number): string {
  return variadic ? `${names[0]}[${i}]` : (names[i] ?? String(i));
}

function constant(value: number, dtype: FloatDType): Tensor {
  const data = dtype === "float64" ? new Float64Array(1) : new Float32Array(1);
  data[0] = value;
  return new Tensor(data, []);
}
