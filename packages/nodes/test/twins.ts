/**
 * Broken twins for checkOp's tests (twins.test.ts): ops declared the way a library author declares
 * them (defineOp, a forward over raw arrays, a backward with differentiable ops), each wrong in
 * one way a derivative goes wrong in practice, each with a correct original.
 */
import {
  type BackwardContext,
  defineOp,
  type ForwardContext,
  type Op,
  type OpSpec,
  type Tensor,
} from "@gradgraph/core";
import { add, matmul, mul, neg, sub, sum, transpose } from "../src/index.js";

/** An elementwise op `f` with derivative `backward`, on one input. */
export function unary(
  name: string,
  f: (v: number) => number,
  backward: (gy: Tensor, ctx: BackwardContext<unknown>) => (Tensor | null)[],
  extra: Partial<OpSpec<unknown>> = {},
) {
  return defineOp<unknown>({
    name,
    inputs: ["x"],
    forward([x], _a, ctx) {
      const o = ctx.alloc(x!.shape);
      for (let i = 0; i < o.data.length; i++) o.data[i] = f(x!.data[i]!);
      ctx.saveInputs(0);
      ctx.saveOutput();
      return o;
    },
    backward,
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// first-order twins: wrong in the derivative itself

/** Reverses `x` along axis 0. Its derivative is the same reversal; the twin forgets it (a permuted gradient). */
export function flipOp(name: string, twin: boolean) {
  const flip = (data: ArrayLike<number>, shape: readonly number[], ctx: ForwardContext) => {
    const o = ctx.alloc(shape);
    const n = shape[0]!;
    const row = n === 0 ? 0 : data.length / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < row; j++) o.data[i * row + j] = data[(n - 1 - i) * row + j]!;
    return o;
  };
  const op: Op<unknown> = defineOp<unknown>({
    name,
    inputs: ["x"],
    forward: ([x], _a, ctx) => flip(x!.data, x!.shape, ctx),
    backward: (gy) => [twin ? gy : op([gy])],
    test: { shapes: (pick) => [pick.shape({ minRank: 1 })] },
  });
  return op;
}

/** `X·Xᵀ`: its derivative is `(G + Gᵀ)·X`; the twin's `2·G·X` takes the upstream gradient as symmetric (a transposed one missing). */
export function gramOp(name: string, twin: boolean) {
  return defineOp<unknown>({
    name,
    inputs: ["x"],
    forward([x], _a, ctx) {
      const [n, k] = x!.shape as [number, number];
      const o = ctx.alloc([n, n]);
      const d = x!.data;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += d[i * k + p]! * d[j * k + p]!;
          o.data[i * n + j] = s;
        }
      ctx.saveInputs(0);
      return o;
    },
    backward: (gy, ctx) => [twin ? mul(2, matmul(gy, ctx.input(0))) : matmul(add(gy, transpose(gy)), ctx.input(0))],
    test: { shapes: (pick) => [pick.shape({ minRank: 2, maxRank: 2 })] },
  });
}

/** `a − b`: the twin forgets the sign of `b`'s gradient (a sign flip on one input only). */
export function subOp(name: string, twin: boolean) {
  return defineOp<unknown>({
    name,
    inputs: ["a", "b"],
    forward([a, b], _x, ctx) {
      // broadcasting by the nodes' own op; the twin is about backward
      const r = sub(a!, b!);
      const o = ctx.alloc(r.shape);
      o.data.set(r.data);
      return o;
    },
    backward: (gy) => [gy, twin ? gy : neg(gy)],
  });
}

/** Softmax along the last axis: `y·(gy − Σ gy·y)` sums over that axis; the twin sums over axis 0. */
export function softmaxOp(name: string, twin: boolean) {
  return defineOp<unknown>({
    name,
    inputs: ["x"],
    forward([x], _a, ctx) {
      const o = ctx.alloc(x!.shape);
      const n = x!.shape[x!.shape.length - 1]!;
      const d = x!.data;
      for (let r = 0; n > 0 && r < d.length / n; r++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) m = Math.max(m, d[r * n + j]!);
        let s = 0;
        for (let j = 0; j < n; j++) s += Math.exp(d[r * n + j]! - m);
        for (let j = 0; j < n; j++) o.data[r * n + j] = Math.exp(d[r * n + j]! - m) / s;
      }
      ctx.saveOutput();
      return o;
    },
    backward(gy, ctx) {
      const y = ctx.output();
      return [mul(y, sub(gy, sum(mul(gy, y), { axis: twin ? 0 : -1, keepdims: true })))];
    },
    test: { shapes: (pick) => [pick.shape({ minRank: 1 })] },
  });
}

/** `exp`: derivative `gy·y`; the twin returns `y` (a dropped gy). */
export const expOp = (name: string, twin: boolean) =>
  unary(name, Math.exp, (gy, ctx) => [twin ? ctx.output() : mul(gy, ctx.output())]);

/** `x²` with a derivative `2x·k`: the twin is 0.5% high. */
export const squareOp = (name: string, k: number) =>
  unary(
    name,
    (v) => v * v,
    (gy, ctx) => [mul(gy, mul(ctx.input(0), 2 * k))],
  );

/** `x²`, right in float64, 0.5% high in float32 (a float32 path of its own gone wrong). */
export const squareFloat32Off = unary(
  "squareFloat32Off",
  (v) => v * v,
  (gy, ctx) => [mul(gy, mul(ctx.input(0), ctx.input(0).dtype === "float32" ? 2.01 : 2))],
);

/**
 * `x²` whose backward writes straight into its input's `.grad` when it has one (a hand-made fast
 * path for `Sequential.backward`'s zeroed buffers) and forgets gy there: wrong only on the
 * `.backward()` route.
 */
export function intoGradOp(name: string, twin: boolean) {
  return unary(
    name,
    (v) => v * v,
    (gy, ctx) => {
      const x = ctx.input(0);
      if (x.grad === null || !twin) return [mul(gy, mul(x, 2))];
      for (let i = 0; i < x.size; i++) x.grad.data[i] = x.grad.data[i]! + 2 * x.data[i]!;
      x.grad.markModified();
      return [null];
    },
  );
}

/** `tanh` (forward, and its one differentiable backward) with the given `fusedBackward`. */
function tanhWith(name: string, fusedBackward: OpSpec<unknown>["fusedBackward"]) {
  return defineOp<unknown>({
    name,
    inputs: ["x"],
    forward([x], _a, ctx) {
      const o = ctx.alloc(x!.shape);
      for (let i = 0; i < o.data.length; i++) o.data[i] = Math.tanh(x!.data[i]!);
      ctx.saveOutput();
      return o;
    },
    backward: (gy, ctx) => {
      const y = ctx.output();
      return [mul(gy, sub(1, mul(y, y)))];
    },
    fusedBackward,
  });
}

/**
 * `tanh` with a `fusedBackward`, a first-order rule kept for speed (`gy·(1 − y²)` in one loop over
 * raw arrays). The twin's fused rule forgets the square (`gy·(1 − y)`).
 */
export function fusedTanhOp(name: string, twin: boolean) {
  return tanhWith(name, (gy, ctx) => {
    const y = ctx.output();
    const out = y.detach().clone();
    for (let i = 0; i < out.size; i++) {
      const v = y.data[i]!;
      out.data[i] = (gy as Tensor).data[i]! * (1 - (twin ? v : v * v));
    }
    return [out];
  });
}

/**
 * `tanh` whose fusedBackward writes into the destination the engine offers (a leaf's zeroed
 * `.grad`); the twin's loop stops one element short there (an off-by-one that only the
 * destination route shows: elsewhere it allocates and fills a fresh array).
 */
export function destTanhOp(name: string, twin: boolean) {
  return tanhWith(name, (gy, ctx, out) => {
    const y = ctx.output();
    const into = out.take(0);
    const dx = into ?? y.detach().clone();
    const n = into === null || !twin ? dx.size : dx.size - 1;
    for (let i = 0; i < n; i++) {
      const v = y.data[i]!;
      dx.data[i] = (gy as Tensor).data[i]! * (1 - v * v);
    }
    return [dx];
  });
}

export const firstOrder = [
  ["a permuted gradient (flip)", flipOp("flip", false), flipOp("flipTwin", true)],
  ["a transposed gradient (X·Xᵀ)", gramOp("gram", false), gramOp("gramTwin", true)],
  ["a sign flip on one input only (sub)", subOp("subtract", false), subOp("subtractTwin", true)],
  ["a reduction over the wrong axis (softmax)", softmaxOp("softmaxLast", false), softmaxOp("softmaxTwin", true)],
  ["a dropped gy (exp)", expOp("expo", false), expOp("expoTwin", true)],
  ["a derivative 0.5% high (x²)", squareOp("square", 1), squareOp("squareTwin", 1.005)],
  ["a wrong .backward() into a zeroed .grad", intoGradOp("intoGrad", false), intoGradOp("intoGradTwin", true)],
  ["a wrong fusedBackward (tanh)", fusedTanhOp("fusedTanh", false), fusedTanhOp("fusedTanhTwin", true)],
  ["a wrong write into an offered .grad (tanh)", destTanhOp("destTanh", false), destTanhOp("destTanhTwin", true)],
] as const;

// ---------------------------------------------------------------------------------------------
// second-order twins: right first derivative, built from constants

/**
 * `sigmoid` whose backward computes `y·(1 − y)` on raw arrays and wraps it as a constant tensor:
 * the first derivative is right, but it is not differentiable again.
 */
export const sigmoidConst = unary(
  "sigmoidConst",
  (v) => 1 / (1 + Math.exp(-v)),
  (gy, ctx) => {
    const y = ctx.output();
    const d = y.detach().clone();
    for (let i = 0; i < d.size; i++) d.data[i] = y.data[i]! * (1 - y.data[i]!);
    return [mul(gy, d)];
  },
);

/** The same rule with differentiable ops. */
export const sigmoidOwn = unary(
  "sigmoidOwn",
  (v) => 1 / (1 + Math.exp(-v)),
  (gy, ctx) => {
    const y = ctx.output();
    return [mul(gy, mul(y, sub(1, y)))];
  },
);
