/**
 * Elementwise arithmetic with numpy broadcasting: forward kernels beside their derivatives. Every
 * backward is written with the ops of this package, so second derivatives work through
 * `grad(..., { createGraph: true })`.
 */
import {
  allocArray,
  broadcastShapes,
  defineOp,
  type FloatArray,
  type ForwardContext,
  type Kept,
  type Op,
  type RawArray,
  type Shape,
  shapeSize,
  Tensor,
  type TensorLike,
} from "@gradgraph/core";
import { type BinaryKind, binaryInto, broadcastInto, unaryInto } from "@gradgraph/core/kernels";

/** True when two tensors' shapes (valid by construction) are equal. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * @internal The forward of a broadcasting binary op: allocates the output of the broadcast shape
 * and runs the kernel.
 * @throws ShapeError naming `op` and both shapes when they do not broadcast.
 */
export function broadcastBinary(op: string, kind: BinaryKind, a: Tensor, b: Tensor, ctx: ForwardContext): RawArray {
  // equal shapes, the common case, without broadcastShapes' checks: a tensor's shape is valid
  const out = ctx.alloc(sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape));
  binaryInto(kind, a.data, a.shape, b.data, b.shape, out.data, out.shape);
  return out;
}

/**
 * `add`: passes the upstream gradient to both inputs, as the seed's Add node does; the engine
 * sums it back where broadcasting widened an input.
 */
export const addOp: Op<undefined, "operands"> = defineOp({
  name: "add",
  inputs: ["a", "b"],
  // two bools stay bool, as in PyTorch (a logical or)
  integers: "keep",
  forward([a, b], _attrs, ctx) {
    const out = broadcastBinary("add", "add", a!, b!, ctx);
    return out;
  },
  backward(gy) {
    return [gy, gy];
  },
  ownsGradients: true,
  test: { shapes: "broadcast" },
});

/** `mul`: each input's gradient is the upstream gradient times the other input (the seed's Mul node). */
export const mulOp: Op<undefined, "operands"> = defineOp({
  name: "mul",
  inputs: ["a", "b"],
  // two bools stay bool, as in PyTorch (a logical and)
  integers: "keep",
  forward([a, b], _attrs, ctx) {
    const out = broadcastBinary("mul", "mul", a!, b!, ctx);
    // int32 operands: the product wraps modulo 2^32 as int32 arithmetic does (PyTorch's), where
    // the float64 product of two large ones would have lost its low bits first
    if (ctx.resultDType === "int32") imulInto(a!, b!, out);
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    const [da, db] = ctx.needsInputGrad;
    return [da ? mul(gy, ctx.input(1)) : null, db ? mul(gy, ctx.input(0)) : null];
  },
  test: { shapes: "broadcast" },
});

/** `out = a · b` as int32 multiplication (`Math.imul`), for the float64 copies of int32 operands. */
function imulInto(a: Tensor, b: Tensor, out: RawArray): void {
  const o = out.data;
  const x = spread(a, out.shape, o.length);
  const y = spread(b, out.shape, o.length);
  for (let i = 0; i < o.length; i++) o[i] = Math.imul(x[i]!, y[i]!);
}

/**
 * Elementwise sum `a + b` with numpy broadcasting. Numbers, nested arrays and typed arrays are accepted as constants (see `TensorLike`); mixed
 * float32/float64 promotes to float64.
 * @throws ShapeError naming `add` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function add<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return addOp([a, b]) as Kept<A | B>;
}

/**
 * Elementwise product `a · b` with numpy broadcasting. Numbers, nested arrays and typed arrays are accepted as constants (see `TensorLike`);
 * mixed float32/float64 promotes to float64.
 * @throws ShapeError naming `mul` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function mul<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return mulOp([a, b]) as Kept<A | B>;
}

// ---------------------------------------------------------------------------------------------
// Helpers for the constant masks of the backward passes

/** @internal `t`'s elements broadcast to `shape` (of `n` elements): `t.data` itself when no copy is needed. */
export function spread(t: Tensor, shape: Shape, n: number): FloatArray {
  if (t.size === n) return t.data;
  const out = allocArray(t.dtype, n);
  broadcastInto(t.data, t.shape, out, shape);
  return out;
}

/** @internal True when `data` holds an exact zero (either sign). */
export function hasZero(data: FloatArray): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] === 0) return true;
  return false;
}

/**
 * The constant gradient mask of the winner of a comparison, over the broadcast `shape`: 1 where
 * `x > y`, 0.5 where `x == y`, 0 where `x < y`, and 1 where either is NaN (the NaN went to the
 * output, so the gradient goes to both). `maximum`'s mask for `a` is `winMask(a, b)`, for `b`
 * `winMask(b, a)`; `minimum`'s swaps the arguments.
 */
function winMask(x: Tensor, y: Tensor, shape: Shape): Tensor {
  const n = shapeSize(shape);
  const m = allocArray(x.dtype, n);
  const xd = spread(x, shape, n);
  if (y.size === 1) {
    const v = y.data[0]!;
    for (let i = 0; i < n; i++) {
      const u = xd[i]!;
      m[i] = u < v ? 0 : u === v ? 0.5 : 1;
    }
  } else {
    const yd = spread(y, shape, n);
    for (let i = 0; i < n; i++) {
      const u = xd[i]!;
      const v = yd[i]!;
      m[i] = u < v ? 0 : u === v ? 0.5 : 1;
    }
  }
  return new Tensor(m, shape);
}

/** True when two inputs tie somewhere after broadcasting (the kink of `maximum`/`minimum`). */
function anyTie(op: string, a: Tensor, b: Tensor): boolean {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const n = shapeSize(shape);
  const ad = spread(a, shape, n);
  const bd = spread(b, shape, n);
  for (let i = 0; i < n; i++) if (ad[i] === bd[i]) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// sub, div, neg

/** `sub`: the upstream gradient goes to `a` as it is and to `b` negated. */
export const subOp: Op<undefined, "operands"> = defineOp({
  name: "sub",
  inputs: ["a", "b"],
  integers: "int",
  forward([a, b], _attrs, ctx) {
    const out = broadcastBinary("sub", "sub", a!, b!, ctx);
    return out;
  },
  backward(gy, ctx) {
    return [gy, ctx.needsInputGrad[1] ? neg(gy) : null];
  },
  test: { shapes: "broadcast" },
});

/**
 * `div`: `∂/∂a = gy / b` and `∂/∂b = −gy·a/b² = −(gy / b)·y`, with the saved output `y = a / b`
 * (the real output tensor, so the second derivative flows through it).
 */
export const divOp: Op = defineOp({
  name: "div",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = broadcastBinary("div", "div", a!, b!, ctx);
    ctx.saveInputs(1);
    ctx.saveOutput();
    return out;
  },
  backward(gy, ctx) {
    const [da, db] = ctx.needsInputGrad;
    const gOverB = div(gy, ctx.input(1));
    return [da ? gOverB : null, db ? neg(mul(gOverB, ctx.output())) : null];
  },
  // the divisor away from 0, where 1/b and its derivatives blow up and central differences
  // lose their accuracy; negative operands are checked by the package's tests with another domain
  test: { shapes: "broadcast", domain: [0.3, 2] },
});

/** `neg`: the gradient is the negated upstream gradient. */
export const negOp: Op<undefined, "operands"> = defineOp({
  name: "neg",
  inputs: ["x"],
  integers: "int",
  forward([x], _attrs, ctx) {
    const xd = x!.data;
    const out = ctx.alloc(x!.shape);
    const o = out.data;
    unaryInto("neg", xd, o);
    return out;
  },
  backward(gy) {
    return [neg(gy)];
  },
});

// ---------------------------------------------------------------------------------------------
// maximum, minimum

/**
 * `maximum` or `minimum`: the gradient goes to the winning input; at ties it is split equally
 * (0.5 each), as PyTorch does. The masks are constants built from the saved inputs, so the
 * backward is differentiable in `gy` (second derivatives are 0 away from ties).
 */
function comparisonOp(name: "maximum" | "minimum"): Op<undefined, "operands"> {
  const larger = name === "maximum";
  return defineOp({
    name,
    inputs: ["a", "b"],
    // two bools stay bool, as in PyTorch (a logical or, and)
    integers: "keep",
    forward([a, b], _attrs, ctx) {
      const out = broadcastBinary(name, larger ? "max" : "min", a!, b!, ctx);
      ctx.saveInputs(0, 1);
      return out;
    },
    backward(gy, ctx) {
      const [da, db] = ctx.needsInputGrad;
      const a = ctx.input(0);
      const b = ctx.input(1);
      // winMask(x, y) marks where x > y; the minimum's winner is the other way round
      const [wa, wb] = larger ? [a, b] : [b, a];
      return [da ? mul(gy, winMask(wa, wb, gy.shape)) : null, db ? mul(gy, winMask(wb, wa, gy.shape)) : null];
    },
    test: { shapes: "broadcast", precondition: ([a, b]) => !anyTie(name, a!, b!) },
  });
}

/** `maximum`: the gradient goes to the larger input, split 0.5/0.5 at ties. */
export const maximumOp: Op<undefined, "operands"> = comparisonOp("maximum");

/** `minimum`: the gradient goes to the smaller input, split 0.5/0.5 at ties. */
export const minimumOp: Op<undefined, "operands"> = comparisonOp("minimum");

// ---------------------------------------------------------------------------------------------
// The plain functions

/**
 * Elementwise difference `a − b` with numpy broadcasting (the result has the broadcast shape).
 * Numbers, nested arrays and typed arrays are accepted as constants (see `TensorLike`); mixed float32/float64 promotes to float64.
 * @throws ShapeError naming `sub` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function sub<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return subOp([a, b]) as Kept<A | B>;
}

/**
 * Elementwise quotient `a / b` with numpy broadcasting (the result has the broadcast shape).
 * Numbers, nested arrays and typed arrays are accepted as constants (see `TensorLike`); mixed float32/float64 promotes to float64. Division by
 * zero follows IEEE 754 (±Infinity, or NaN for 0/0), and so do the gradients there.
 * @throws ShapeError naming `div` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return divOp([a, b]);
}

/**
 * Elementwise negation `−x`, of `x`'s shape (a number gives a 0-d tensor).
 * @throws ArgumentError when `x` is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function neg<X extends TensorLike>(x: X): Kept<X> {
  return negOp([x]) as Kept<X>;
}

/**
 * Elementwise maximum with numpy broadcasting (the result has the broadcast shape); NaN in
 * either operand gives NaN. The gradient goes to the larger operand; where they are equal it is
 * split equally, 0.5 to each (as PyTorch's `maximum`). `maximum(x, 0)` is a ReLU whose
 * derivative at 0 is 0.5 (use `relu` for the derivative 0 there).
 * @throws ShapeError naming `maximum` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function maximum<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return maximumOp([a, b]) as Kept<A | B>;
}

/**
 * Elementwise minimum with numpy broadcasting (the result has the broadcast shape); NaN in
 * either operand gives NaN. The gradient goes to the smaller operand; where they are equal it is
 * split equally, 0.5 to each (as PyTorch's `minimum`).
 * @throws ShapeError naming `minimum` and both shapes when they do not broadcast.
 * @throws ArgumentError when an operand is not a TensorLike (a Tensor, a number, nested arrays of numbers or a typed array).
 */
export function minimum<A extends TensorLike, B extends TensorLike>(a: A, b: B): Kept<A | B> {
  return minimumOp([a, b]) as Kept<A | B>;
}

/** The op objects defined here beyond `add` and `mul`, by name, for the package's `ops`. */
export const elementwiseOps = {
  /** {@link subOp}, behind {@link sub}. */
  sub: subOp,
  /** {@link divOp}, behind {@link div}. */
  div: divOp,
  /** {@link negOp}, behind {@link neg}. */
  neg: negOp,
  /** {@link maximumOp}, behind {@link maximum}. */
  maximum: maximumOp,
  /** {@link minimumOp}, behind {@link minimum}. */
  minimum: minimumOp,
} as const;
