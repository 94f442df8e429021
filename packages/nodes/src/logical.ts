/**
 * Ops of int32 and bool tensors: comparisons and logical ops (bool outputs), `argmax`/`argmin`
 * (int32 outputs), `where` (a selection by a condition, differentiable in the selected values), and
 * the floor division and floor remainder (`floorDiv`, `mod`), which keep int32 operands int32.
 * No gradient flows through an int32 or bool output, so the comparison, logical and arg ops record
 * no node; `where`, `floorDiv` and `mod` are differentiable in their float operands.
 */
import {
  ArgumentError,
  broadcastShapes,
  cast,
  type DType,
  defineOp,
  describeValue,
  type ForwardContext,
  fmtShape,
  type Kept,
  normalizeAxis,
  type OnnxGraphBuilder,
  type OnnxMapping,
  type OnnxValue,
  type Op,
  promoteTypes,
  type RawArray,
  type Shape,
  ShapeError,
  shapeSize,
  type Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { hasZero, mul, neg, spread } from "./arithmetic.js";
import { fmtAttrs, readKnownOptions } from "./format.js";

// ---------------------------------------------------------------------------------------------
// broadcasting elementwise loops over any number of operands

/** The operands' data, each broadcast to `shape` (copied only where its shape differs). */
function spreadAll(inputs: readonly Tensor[], shape: Shape): ArrayLike<number>[] {
  const n = shapeSize(shape);
  return inputs.map((t) => spread(t, shape, n));
}

/** The broadcast shape of the inputs. @throws ShapeError naming `op` and the shapes. */
function outShape(op: string, inputs: readonly Tensor[]): Shape {
  let s: Shape = inputs[0]!.shape;
  for (let i = 1; i < inputs.length; i++) s = broadcastShapes(op, s, inputs[i]!.shape);
  return s;
}

// ---------------------------------------------------------------------------------------------
// comparisons and logical ops: bool outputs

type Compare = (a: number, b: number) => boolean;

/** A comparison op: `a ⋄ b` elementwise with broadcasting, a bool tensor (as PyTorch's, NaN compares false except in `notEqual`). */
function comparisonOp(name: string, f: Compare, onnx: OnnxMapping<undefined>): Op<undefined, Tensor<"bool">> {
  return defineOp({
    name,
    inputs: ["a", "b"],
    onnx,
    // int32 operands are compared exactly, on float64 copies
    integers: "int",
    forward([a, b], _attrs, ctx) {
      const shape = outShape(name, [a!, b!]);
      const out = ctx.alloc(shape, "bool");
      const [x, y] = spreadAll([a!, b!], shape) as [ArrayLike<number>, ArrayLike<number>];
      const o = out.data;
      for (let i = 0; i < o.length; i++) o[i] = f(x[i]!, y[i]!) ? 1 : 0;
      return out;
    },
    // never runs: a bool output records no node
    backward() {
      return [null, null];
    },
  }) as unknown as Op<undefined, Tensor<"bool">>;
}

/** `equal`: `a == b`. */
export const equalOp = comparisonOp("equal", (a, b) => a === b, compareOnnx("Equal"));
/** `notEqual`: `a != b` (true where either is NaN). */
export const notEqualOp = comparisonOp(
  "notEqual",
  (a, b) => a !== b,
  (ins, _attrs, b) => b.node("Not", [compareOnnx("Equal")(ins, undefined, b) as string])[0]!,
);
/** `less`: `a < b`. */
export const lessOp = comparisonOp("less", (a, b) => a < b, compareOnnx("Less"));
/** `lessEqual`: `a <= b`. */
export const lessEqualOp = comparisonOp("lessEqual", (a, b) => a <= b, compareOnnx("LessOrEqual"));
/** `greater`: `a > b`. */
export const greaterOp = comparisonOp("greater", (a, b) => a > b, compareOnnx("Greater"));
/** `greaterEqual`: `a >= b`. */
export const greaterEqualOp = comparisonOp("greaterEqual", (a, b) => a >= b, compareOnnx("GreaterOrEqual"));

/** A logical op of two operands, each read as a truth value (`x != 0`, NaN true, as PyTorch). */
function logicalOp(
  name: string,
  f: (a: boolean, b: boolean) => boolean,
  onnxOp: "And" | "Or" | "Xor",
): Op<undefined, Tensor<"bool">> {
  // ONNX's And, Or and Xor take BOOL: other operands are cast, which reads them as x != 0
  return comparisonOp(
    name,
    (a, b) => f(a !== 0, b !== 0),
    ([x, y], _attrs, b) => b.node(onnxOp, [onnxCast(b, x!, "bool"), onnxCast(b, y!, "bool")])[0]!,
  );
}

/** `logicalAnd`: `a && b` of truth values. */
export const logicalAndOp = logicalOp("logicalAnd", (a, b) => a && b, "And");
/** `logicalOr`: `a || b` of truth values. */
export const logicalOrOp = logicalOp("logicalOr", (a, b) => a || b, "Or");
/** `logicalXor`: `a != b` of truth values. */
export const logicalXorOp = logicalOp("logicalXor", (a, b) => a !== b, "Xor");

/** `logicalNot`: `!x` of truth values (`x == 0`). */
export const logicalNotOp: Op<undefined, Tensor<"bool">> = defineOp({
  name: "logicalNot",
  inputs: ["x"],
  integers: "int",
  onnx: ([x], _attrs, b) => b.node("Not", [onnxCast(b, x!, "bool")])[0]!,
  forward([x], _attrs, ctx) {
    const out = ctx.alloc(x!.shape, "bool");
    const xd = x!.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = xd[i] === 0 ? 1 : 0;
    return out;
  },
  backward() {
    return [null];
  },
}) as unknown as Op<undefined, Tensor<"bool">>;

/**
 * Elementwise `a == b` with numpy broadcasting, as a bool tensor. Operands of different dtypes are
 * compared after PyTorch's type promotion (an int32 with a float32 as float32; two int32 exactly).
 * @throws ShapeError naming `equal` when the shapes do not broadcast; ArgumentError for an operand
 *   that is not a TensorLike.
 */
export function equal(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return equalOp([a, b]);
}

/** Elementwise `a != b` as a bool tensor (true where either is NaN); see {@link equal}. */
export function notEqual(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return notEqualOp([a, b]);
}

/** Elementwise `a < b` as a bool tensor; see {@link equal}. */
export function less(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return lessOp([a, b]);
}

/** Elementwise `a <= b` as a bool tensor; see {@link equal}. */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return lessEqualOp([a, b]);
}

/** Elementwise `a > b` as a bool tensor; see {@link equal}. */
export function greater(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return greaterOp([a, b]);
}

/** Elementwise `a >= b` as a bool tensor; see {@link equal}. */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return greaterEqualOp([a, b]);
}

/**
 * Elementwise logical and, with broadcasting, of the operands read as truth values (nonzero is
 * true, NaN too, as PyTorch's `logical_and`), as a bool tensor.
 * @throws ShapeError naming `logicalAnd` when the shapes do not broadcast; ArgumentError for an
 *   operand that is not a TensorLike.
 */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return logicalAndOp([a, b]);
}

/** Elementwise logical or of truth values, as a bool tensor; see {@link logicalAnd}. */
export function logicalOr(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return logicalOrOp([a, b]);
}

/** Elementwise logical exclusive or of truth values, as a bool tensor; see {@link logicalAnd}. */
export function logicalXor(a: TensorLike, b: TensorLike): Tensor<"bool"> {
  return logicalXorOp([a, b]);
}

/**
 * Elementwise logical not (`x == 0`), as a bool tensor.
 * @throws ArgumentError naming `logicalNot` for an operand that is not a TensorLike.
 */
export function logicalNot(x: TensorLike): Tensor<"bool"> {
  return logicalNotOp([x]);
}

// ---------------------------------------------------------------------------------------------
// where

/**
 * `where`: `condition ? a : b` elementwise, the three broadcast together. The gradient goes to `a`
 * where the condition holds and to `b` elsewhere (`where(c, gy, 0)` and `where(c, 0, gy)`), none
 * to the condition.
 */
export const whereOp: Op<undefined, "operands"> = defineOp({
  name: "where",
  inputs: ["condition", "a", "b"],
  // int32 and bool values are selected as they are; the condition is read as a truth value
  integers: "keep",
  forward([c, a, b], _attrs, ctx) {
    const shape = outShape("where", [c!, a!, b!]);
    const out = ctx.alloc(shape);
    const [cd, ad, bd] = spreadAll([c!, a!, b!], shape) as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = cd[i] !== 0 ? ad[i]! : bd[i]!;
    ctx.saveInputs(0);
    return out;
  },
  backward(gy, ctx) {
    const [, da, db] = ctx.needsInputGrad;
    const c = ctx.input(0);
    return [null, da ? whereOp([c, gy, 0]) : null, db ? whereOp([c, 0, gy]) : null];
  },
  ownsGradients: true,
  test: { shapes: "broadcast", dtypes: ["bool"] },
  // ONNX's Where takes a BOOL condition (a cast reads others as x != 0) and one type for a and b:
  // the op's result dtype, which the condition takes part in (`where` passes a bool one)
  // (of bool values, And/Or/Not: ONNX Runtime has no Where of BOOL before opset 16)
  onnx: ([c, x, y], _attrs, b) => {
    const t = promotedOf(c!, x!, y!);
    const cond = onnxCast(b, c!, "bool");
    if (t === "bool") {
      const kept = b.node("And", [cond, onnxCast(b, x!, t)])[0]!;
      const other = b.node("And", [b.node("Not", [cond])[0]!, onnxCast(b, y!, t)])[0]!;
      return b.node("Or", [kept, other])[0]!;
    }
    return b.node("Where", [cond, onnxCast(b, x!, t), onnxCast(b, y!, t)])[0]!;
  },
});

/**
 * Elementwise selection: `a` where `condition` holds, `b` elsewhere, the three broadcast together
 * (PyTorch's `torch.where(condition, a, b)`). The condition is read as a truth value (nonzero is
 * true, as numpy's `where`; a bool tensor from a comparison is the usual one). `a` and `b` combine
 * by type promotion; the result is differentiable in both (the gradient goes to the selected one).
 * @throws ShapeError naming `where` when the shapes do not broadcast; ArgumentError for an operand
 *   that is not a TensorLike.
 */
export function where<A extends TensorLike, B extends TensorLike>(condition: TensorLike, a: A, b: B): Kept<A | B> {
  // as a bool tensor, the lowest dtype, the condition leaves the promotion of a and b as it is
  // (numbers alone are int32 or float32 by their values, as PyTorch's `where(c, 1, 0)`)
  const c = toTensor(condition, "where", "condition");
  return whereOp([c.dtype === "bool" ? c : cast(c, "bool"), a, b]) as Kept<A | B>;
}

// ---------------------------------------------------------------------------------------------
// argmax, argmin

/** The attributes of `argmaxOp` and `argminOp` (what `argmax`'s options become). */
export interface ArgAttrs {
  /** The axis, or null for the index into the flattened tensor. */
  readonly axis: number | null;
  /** Keep the reduced axis (all of them, for a null axis) as size 1. */
  readonly keepdims: boolean;
}

/** Options of `argmax` and `argmin`. */
export interface ArgOptions {
  /** The axis along which to find the index (negative counts from the end); default: all, flattened. */
  axis?: number;
  /** Keep the reduced axis (all of them, without `axis`) as size 1 (default false). */
  keepdims?: boolean;
}

function argOp(name: "argmax" | "argmin"): Op<ArgAttrs, Tensor<"int32">> {
  const better = name === "argmax" ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  return defineOp<ArgAttrs>({
    name,
    inputs: ["x"],
    integers: "int",
    onnx: ([x], attrs, b) => argOnnx(name === "argmax" ? "ArgMax" : "ArgMin", x!, attrs, b),
    check([x], attrs) {
      if (attrs === null || typeof attrs !== "object") {
        throw new ArgumentError(
          name,
          `${name}: attrs must be { axis: number | null, keepdims: boolean }, got ${fmtAttrs(attrs)}`,
        );
      }
      if (attrs.axis !== null) normalizeAxis(name, attrs.axis, x!.rank);
      if (attrs.axis === null ? x!.size === 0 : x!.shape[normalizeAxis(name, attrs.axis, x!.rank)] === 0) {
        throw new ShapeError(
          name,
          `${name}: cannot take the ${name} of an empty ${attrs.axis === null ? "tensor" : `axis ${attrs.axis}`} (x has shape ${fmtShape(x!.shape)})`,
        );
      }
    },
    normalize([x], attrs) {
      return {
        axis: attrs.axis === null ? null : normalizeAxis(name, attrs.axis, x!.rank),
        keepdims: attrs.keepdims === true,
      };
    },
    forward([x], { axis, keepdims }, ctx: ForwardContext): RawArray<"int32"> {
      const shape = x!.shape;
      const xd = x!.data;
      // flattened: one index over everything; along an axis: outer × n × inner
      const n = axis === null ? x!.size : shape[axis]!;
      const inner = axis === null ? 1 : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const outer = axis === null ? 1 : shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const outShape =
        axis === null
          ? keepdims
            ? shape.map(() => 1)
            : []
          : keepdims
            ? shape.map((d, i) => (i === axis ? 1 : d))
            : shape.filter((_, i) => i !== axis);
      const out = ctx.alloc(outShape, "int32");
      const o = out.data;
      for (let p = 0; p < outer; p++) {
        for (let q = 0; q < inner; q++) {
          const base = p * n * inner + q;
          let best = xd[base]!;
          let at = 0;
          // the first extremum; a NaN wins at once, as PyTorch's argmax and argmin
          if (!Number.isNaN(best)) {
            for (let k = 1; k < n; k++) {
              const v = xd[base + k * inner]!;
              if (Number.isNaN(v)) {
                at = k;
                break;
              }
              if (better(v, best)) {
                best = v;
                at = k;
              }
            }
          }
          o[p * inner + q] = at;
        }
      }
      return out;
    },
    backward() {
      return [null];
    },
  }) as unknown as Op<ArgAttrs, Tensor<"int32">>;
}

/** `argmax`: the index of the (first) largest element, along an axis or of the flattened tensor. */
export const argmaxOp = argOp("argmax");
/** `argmin`: the index of the (first) smallest element, along an axis or of the flattened tensor. */
export const argminOp = argOp("argmin");

function argAttrs(fn: string, options: ArgOptions): ArgAttrs {
  const o = readKnownOptions(fn, options, ["axis", "keepdims"]);
  const axis: unknown = o.axis;
  if (axis !== undefined && axis !== null && typeof axis !== "number") {
    throw new ArgumentError(fn, `${fn}: axis must be an integer, got ${describeValue(axis)}`);
  }
  const keepdims: unknown = o.keepdims;
  if (keepdims !== undefined && typeof keepdims !== "boolean") {
    throw new ArgumentError(fn, `${fn}: keepdims must be a boolean, got ${describeValue(keepdims)}`);
  }
  return { axis: axis ?? null, keepdims: keepdims === true };
}

/**
 * The index of the largest element along `options.axis` (PyTorch's `argmax`), as an int32 tensor;
 * without an axis, the index into the flattened tensor (a 0-d result). Ties give the first index;
 * a NaN counts as the largest (PyTorch's rule). No gradient flows through it.
 * @throws ShapeError naming `argmax` for an empty tensor or axis; ArgumentError for an axis out of
 *   range, unknown options, or an operand that is not a TensorLike.
 */
export function argmax(x: TensorLike, options: ArgOptions = {}): Tensor<"int32"> {
  return argmaxOp([x], argAttrs("argmax", options));
}

/** The index of the smallest element; see {@link argmax} (a NaN counts as the smallest). */
export function argmin(x: TensorLike, options: ArgOptions = {}): Tensor<"int32"> {
  return argminOp([x], argAttrs("argmin", options));
}

// ---------------------------------------------------------------------------------------------
// floorDiv, mod

/**
 * The error for integer division by zero (PyTorch raises `ZeroDivisionError`), thrown when both
 * operands are int32 or bool: the float64 copies that the op computes on would give ±∞ or NaN.
 */
function checkIntDivisor(op: string, ctx: ForwardContext, b: Tensor): void {
  if (ctx.resultDType === "int32" && hasZero(b.data)) {
    throw new ArgumentError(op, `${op}: integer division by zero (b of shape ${fmtShape(b.shape)} holds a 0)`);
  }
}

/**
 * Python's `a // b` for two numbers, as numpy's `floor_divide` and PyTorch's `floor_divide`
 * compute it: from the exact remainder `r = fmod(a, b)`, `(a − r) / b`, one less where `r` and `b`
 * differ in sign, rounded to the nearest integer. So that `floorDivide(a, b)·b + mod(a, b)` is `a`
 * where `floor(a / b)` is not: `1 // 0.1` is 9 (0.1 is a little above a tenth), where
 * `floor(1 / 0.1)` is 10; `-1 // ∞` is −1 and `∞ // 3` is NaN, as in all three. Division by 0
 * gives `a / b` (±∞ or NaN); a zero quotient has the sign of `a / b`.
 */
function floorDivide(a: number, b: number): number {
  if (b === 0) return a / b;
  const r = a % b;
  let q = (a - r) / b;
  if (r !== 0 && r < 0 !== b < 0) q -= 1;
  if (q === 0) {
    const s = a / b;
    return s < 0 || Object.is(s, -0) ? -0 : 0;
  }
  const f = Math.floor(q);
  return q - f > 0.5 ? f + 1 : f;
}

/**
 * `floorDiv`: `a // b` elementwise with broadcasting (the floor of the exact quotient: numpy's and
 * PyTorch's `floor_divide`, consistent with `mod`). Piecewise constant, so its derivative
 * is 0 wherever it exists: no gradient flows to either input (PyTorch defines none). Listed in
 * `integralOps`, not in `ops`: there is no derivative for `checkOp` to check.
 */
export const floorDivOp: Op<undefined, "operands"> = defineOp({
  name: "floorDiv",
  inputs: ["a", "b"],
  integers: "int",
  onnx: ([x, y], _attrs, b) => floorDivOnnx(x!, y!, b),
  forward([a, b], _attrs, ctx) {
    checkIntDivisor("floorDiv", ctx, b!);
    const shape = outShape("floorDiv", [a!, b!]);
    const out = ctx.alloc(shape);
    const [x, y] = spreadAll([a!, b!], shape) as [ArrayLike<number>, ArrayLike<number>];
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = floorDivide(x[i]!, y[i]!);
    return out;
  },
  backward() {
    return [null, null];
  },
  // the quotient away from integers, where floor jumps
  test: {
    shapes: "broadcast",
    domains: [undefined, [0.3, 2]],
    precondition: ([a, b]) => awayFromJumps(a!, b!),
  },
});

/**
 * `mod`: the floor remainder `a − (a // b)·b` with broadcasting, of the divisor's sign
 * (Python's `%`, PyTorch's `remainder`). Its derivative is 1 for `a` and `−(a // b)` for `b`.
 */
export const modOp: Op<undefined, "operands"> = defineOp({
  name: "mod",
  inputs: ["a", "b"],
  integers: "int",
  onnx: ([x, y], _attrs, b) => modOnnx(x!, y!, b),
  forward([a, b], _attrs, ctx) {
    checkIntDivisor("mod", ctx, b!);
    const shape = outShape("mod", [a!, b!]);
    const out = ctx.alloc(shape);
    const [x, y] = spreadAll([a!, b!], shape) as [ArrayLike<number>, ArrayLike<number>];
    const o = out.data;
    for (let i = 0; i < o.length; i++) {
      const d = y[i]!;
      // fmod, moved into the divisor's sign: exact, where a − floor(a/b)·b can round
      let r = x[i]! % d;
      if (r !== 0 && r < 0 !== d < 0) r += d;
      o[i] = r;
    }
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    const [da, db] = ctx.needsInputGrad;
    const a = ctx.input(0);
    const b = ctx.input(1);
    return [da ? gy : null, db ? mul(neg(gy), floorDivOp([a, b])) : null];
  },
  test: {
    shapes: "broadcast",
    domains: [undefined, [0.3, 2]],
    precondition: ([a, b]) => awayFromJumps(a!, b!),
  },
});

/** True when `a / b` is at least 0.01 away from an integer everywhere (where floor jumps). */
function awayFromJumps(a: Tensor, b: Tensor): boolean {
  let shape: Shape;
  try {
    shape = broadcastShapes("floorDiv", a.shape, b.shape);
  } catch {
    return true;
  }
  const [x, y] = spreadAll([a, b], shape) as [ArrayLike<number>, ArrayLike<number>];
  for (let i = 0; i < x.length; i++) {
    const q = x[i]! / y[i]!;
    if (Math.abs(q - Math.round(q)) < 0.01) return false;
  }
  return true;
}

/**
 * `a // b` elementwise with numpy broadcasting (Python's `//`, numpy's and PyTorch's
 * `floor_divide`): the floor of the exact quotient, so that `floorDiv(a, b)·b + mod(a, b)` is `a`
 * (`floorDiv(1, 0.1)` is 9, as in Python, where `Math.floor(1 / 0.1)` is 10; `floorDiv(∞, 3)` is
 * NaN; division by 0 gives ±∞ or NaN). Two int32 (or bool) operands give an int32 result,
 * computed exactly; with a float operand the result is float (`floorDiv(7.5, 2) = 3`). Its
 * gradient is 0.
 * @throws ArgumentError naming `floorDiv` for integer division by zero, or an operand that is not
 *   a TensorLike; ShapeError when the shapes do not broadcast.
 */
export function floorDiv<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return floorDivOp([a, b]) as Kept<A | B>;
}

/**
 * The floor remainder `a − floorDiv(a, b)·b` elementwise with broadcasting, which has the divisor's
 * sign (Python's `%`, PyTorch's `remainder`, TensorFlow.js's `mod`): `mod(-3, 5)` is 2. Two int32
 * operands give an int32 result; differentiable in float operands (1 for `a`, `−floorDiv(a, b)` for `b`).
 * @throws ArgumentError naming `mod` for integer division by zero, or an operand that is not a
 *   TensorLike; ShapeError when the shapes do not broadcast.
 */
export function mod<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return modOp([a, b]) as Kept<A | B>;
}

/**
 * The ops through which no gradient flows: the comparisons, the logical ops and `argmax`/`argmin`
 * (outputs of bool or int32), and `floorDiv` (piecewise constant, its derivative 0 wherever it
 * exists). `checkOp` has nothing to check in them; their tests compare values.
 */
export const integralOps = {
  /** {@link equalOp}, behind {@link equal}. */
  equal: equalOp,
  /** {@link notEqualOp}, behind {@link notEqual}. */
  notEqual: notEqualOp,
  /** {@link lessOp}, behind {@link less}. */
  less: lessOp,
  /** {@link lessEqualOp}, behind {@link lessEqual}. */
  lessEqual: lessEqualOp,
  /** {@link greaterOp}, behind {@link greater}. */
  greater: greaterOp,
  /** {@link greaterEqualOp}, behind {@link greaterEqual}. */
  greaterEqual: greaterEqualOp,
  /** {@link logicalAndOp}, behind {@link logicalAnd}. */
  logicalAnd: logicalAndOp,
  /** {@link logicalOrOp}, behind {@link logicalOr}. */
  logicalOr: logicalOrOp,
  /** {@link logicalXorOp}, behind {@link logicalXor}. */
  logicalXor: logicalXorOp,
  /** {@link logicalNotOp}, behind {@link logicalNot}. */
  logicalNot: logicalNotOp,
  /** {@link argmaxOp}, behind {@link argmax}. */
  argmax: argmaxOp,
  /** {@link argminOp}, behind {@link argmin}. */
  argmin: argminOp,
  /** {@link floorDivOp}, behind {@link floorDiv}. */
  floorDiv: floorDivOp,
} as const;

/** The differentiable ops of this module. */
export const selectionOps = {
  /** {@link whereOp}, behind {@link where}. */
  where: whereOp,
  /** {@link modOp}, behind {@link mod}. */
  mod: modOp,
} as const;

// ---------------------------------------------------------------------------------------------
// ONNX mappings (`OpSpec.onnx`, for `@gradgraph/onnx`)
//
// A mapping sees its inputs with the types the exported graph gives them: an op recorded on int32
// or bool operands gets their float copies (see `OpSpec.integers`), and the exporter casts the
// result back as gradgraph does; an int32 or bool value reaches a mapping only from an op that
// passes one on. Each mapping therefore casts where an ONNX operator needs another type.

/** ONNX's `TensorProto.DataType` of each dtype. */
const ONNX_TYPES: Readonly<Record<DType, number>> = { float32: 1, float64: 11, int32: 6, bool: 9 };

/** The dtype of a mapping's input (a float one, or int32 or bool where the exporter passes those). */
function dtypeOf(v: OnnxValue): DType {
  return v.dtype;
}

/** The dtype gradgraph promotes inputs to (and ONNX operators taking one type need). */
function promotedOf(...values: OnnxValue[]): DType {
  return values.reduce<DType>((t, v) => promoteTypes(t, dtypeOf(v)), "bool");
}

/** `v` as ONNX type `to`: its name when it is of that type, else a Cast. */
function onnxCast(b: OnnxGraphBuilder, v: OnnxValue, to: DType): string {
  return dtypeOf(v) === to ? v.name : b.node("Cast", [v.name], { to: ONNX_TYPES[to] })[0]!;
}

/**
 * A comparison in ONNX: both operands of their promoted type (ONNX compares one type), bool read
 * as int32 except by Equal (Less and Greater take no BOOL).
 */
function compareOnnx(opType: "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual"): OnnxMapping<undefined> {
  return ([x, y], _attrs, b) => {
    let t = promotedOf(x!, y!);
    if (t === "bool" && opType !== "Equal") t = "int32";
    return b.node(opType, [onnxCast(b, x!, t), onnxCast(b, y!, t)])[0]!;
  };
}

/**
 * ArgMax/ArgMin (INT64, the first extremum: select_last_index 0) cast to INT32; without an axis,
 * of the input flattened by a Reshape to [-1] (and reshaped to ones for keepdims). ONNX's ArgMax
 * and ArgMin skip NaN (ONNX Runtime), where in gradgraph (and PyTorch) the first NaN wins: for a
 * float input, the index of the first NaN (ArgMax of x ≠ x) replaces the extremum's wherever the
 * reduced slice has one (ReduceMax of x ≠ x).
 */
function argOnnx(opType: "ArgMax" | "ArgMin", x: OnnxValue, attrs: ArgAttrs, b: OnnxGraphBuilder): string {
  // ArgMax takes no BOOL
  let input = onnxCast(b, x, dtypeOf(x) === "bool" ? "int32" : dtypeOf(x));
  const flat = attrs.axis === null;
  const axis = attrs.axis ?? 0;
  if (flat) input = b.node("Reshape", [input, b.constant([-1], "int64")])[0]!;
  const keep = flat ? 0 : attrs.keepdims ? 1 : 0;
  const reduce = { axis, keepdims: keep, select_last_index: 0 };
  let index = b.node(opType, [input], reduce)[0]!;
  const t = dtypeOf(x);
  if (t === "float32" || t === "float64") {
    // x ≠ x: NaN (IsNaN, in fewer importers)
    const unequal = b.node("Not", [b.node("Equal", [input, input])[0]!])[0]!;
    const nan = b.node("Cast", [unequal], { to: ONNX_TYPES.int32 })[0]!;
    const firstNaN = b.node("ArgMax", [nan], reduce)[0]!;
    // ReduceMax's axes: an attribute before opset 18, an input from 18 on
    const any =
      b.opset >= 18
        ? b.node("ReduceMax", [nan, b.constant([axis], "int64")], { keepdims: keep })[0]!
        : b.node("ReduceMax", [nan], { axes: [axis], keepdims: keep })[0]!;
    const hasNaN = b.node("Cast", [any], { to: ONNX_TYPES.bool })[0]!;
    index = b.node("Where", [hasNaN, firstNaN, index])[0]!;
  }
  if (flat && attrs.keepdims && x.shape.length > 0) {
    index = b.node("Reshape", [
      index,
      b.constant(
        x.shape.map(() => 1),
        "int64",
      ),
    ])[0]!;
  }
  return b.node("Cast", [index], { to: ONNX_TYPES.int32 })[0]!;
}

/**
 * a // b. For int32 (or bool) operands, whose ONNX Div truncates: Floor(Div) in DOUBLE (exact for
 * int32: the quotient's rounding never crosses an integer), cast back to INT32. For floats, as the
 * forward computes it (`floorDivide`): r = Mod(a, b, fmod 1), q = (a − r) / b, one less where r is
 * nonzero and of the other sign than b, rounded to the nearest integer (Floor, plus 1 where the
 * rest is above 0.5); a / b where b is 0, and where q is 0 (a zero of its sign).
 */
function floorDivOnnx(x: OnnxValue, y: OnnxValue, b: OnnxGraphBuilder): string {
  const t = promotedOf(x, y);
  if (t !== "float32" && t !== "float64") {
    const q = b.node("Floor", [b.node("Div", [onnxCast(b, x, "float64"), onnxCast(b, y, "float64")])[0]!])[0]!;
    return b.node("Cast", [q], { to: ONNX_TYPES.int32 })[0]!;
  }
  const { a, d, zero, r, fix } = truncatedRemainder(x, y, t, b);
  const one = b.constant([1], t, []);
  const q0 = b.node("Div", [b.node("Sub", [a, r])[0]!, d])[0]!;
  const q1 = b.node("Where", [fix, b.node("Sub", [q0, one])[0]!, q0])[0]!;
  const f = b.node("Floor", [q1])[0]!;
  const up = b.node("Greater", [b.node("Sub", [q1, f])[0]!, b.constant([0.5], t, [])])[0]!;
  const rounded = b.node("Where", [up, b.node("Add", [f, one])[0]!, f])[0]!;
  // q = 0: a zero with the sign of a / b; b = 0: a / b itself (±∞ or NaN)
  const quotient = b.node("Div", [a, d])[0]!;
  const signedZero = b.node("Mul", [quotient, zero])[0]!;
  const q2 = b.node("Where", [b.node("Equal", [q1, zero])[0]!, signedZero, rounded])[0]!;
  return b.node("Where", [b.node("Equal", [d, zero])[0]!, quotient, q2])[0]!;
}

/**
 * The floor remainder, of the divisor's sign: for int32 (or bool) operands ONNX's Mod (fmod 0 has
 * that sign rule, and is for integers only); for floats Mod with fmod 1 (C's fmod, exact, as
 * gradgraph's forward computes) moved into the divisor's sign where it is nonzero and of the other
 * sign: r + b.
 */
function modOnnx(x: OnnxValue, y: OnnxValue, b: OnnxGraphBuilder): string {
  const t = promotedOf(x, y);
  if (t !== "float32" && t !== "float64") {
    return b.node("Mod", [onnxCast(b, x, "int32"), onnxCast(b, y, "int32")], { fmod: 0 })[0]!;
  }
  const { d, r, fix } = truncatedRemainder(x, y, t, b);
  return b.node("Where", [fix, b.node("Add", [r, d])[0]!, r])[0]!;
}

/**
 * What floorDiv's and mod's float mappings share: the operands `a` and `d` cast to `t`, C's exact
 * remainder `r = Mod(a, d)` (`fmod` 1), and `fix`, true where `r` is nonzero and of the other sign
 * than `d` (where the floor quotient is one less and the floor remainder `r + d`).
 */
function truncatedRemainder(
  x: OnnxValue,
  y: OnnxValue,
  t: "float32" | "float64",
  b: OnnxGraphBuilder,
): { a: string; d: string; zero: string; r: string; fix: string } {
  const a = onnxCast(b, x, t);
  const d = onnxCast(b, y, t);
  const zero = b.constant([0], t, []);
  const r = b.node("Mod", [a, d], { fmod: 1 })[0]!;
  const nonzero = b.node("Not", [b.node("Equal", [r, zero])[0]!])[0]!;
  const otherSign = b.node("Xor", [b.node("Less", [r, zero])[0]!, b.node("Less", [d, zero])[0]!])[0]!;
  return { a, d, zero, r, fix: b.node("And", [nonzero, otherSign])[0]! };
}
