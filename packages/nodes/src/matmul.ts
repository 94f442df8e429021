/**
 * Matrix product, numpy's `matmul`: 2-D products, batched products over broadcast leading
 * dimensions, and 1-D operands. One op with transpose flags, so the derivative of a matmul is
 * again a matmul (dx = dy·Wᵀ, dW = xᵀ·dy) that reads its operands in place, at every order.
 */
import {
  ArgumentError,
  type BackwardContext,
  broadcastShapes,
  defineOp,
  fmtShape,
  type Kept,
  type Op,
  ShapeError,
  stridesOf,
  Tensor,
  type TensorLike,
  toTensors,
} from "@gradgraph/core";
import { gemm, gemmNew } from "@gradgraph/core/kernels";
import { fmtAttrs, fmtValue, readKnownOptions } from "./format.js";
import { gemmInt32 } from "./int32.js";
import { reshape } from "./shape.js";

/** Transpose flags: the product is op(a)·op(b) over the last two dimensions. */
export interface MatmulAttrs {
  /** Use `a` with its last two dimensions swapped (`op(a) = aᵀ`), without copying it. */
  readonly transA: boolean;
  /** Use `b` with its last two dimensions swapped (`op(b) = bᵀ`), without copying it. */
  readonly transB: boolean;
}

const PLAIN: MatmulAttrs = { transA: false, transB: false };

/**
 * The transpose flags of `matmul`'s attributes: undefined (or null) for none, else an object whose
 * `transA` and `transB` are booleans or undefined.
 * @throws ArgumentError naming `matmul` for anything else.
 */
function matmulFlags(attrs: unknown): MatmulAttrs {
  if (attrs === undefined || attrs === null) return PLAIN;
  if (typeof attrs !== "object") {
    throw new ArgumentError(
      "matmul",
      `matmul: attrs must be { transA?: boolean, transB?: boolean }, got ${fmtAttrs(attrs)}`,
    );
  }
  const { transA, transB } = attrs as { transA?: unknown; transB?: unknown };
  for (const [name, v] of [
    ["transA", transA],
    ["transB", transB],
  ] as const) {
    if (v !== undefined && typeof v !== "boolean") {
      throw new ArgumentError("matmul", `matmul: attrs.${name} must be a boolean, got ${fmtValue(v)}`);
    }
  }
  return transA === true || transB === true ? { transA: transA === true, transB: transB === true } : PLAIN;
}

/** Geometry of a (batched) product: M, K, N and the broadcast batch shape. */
function geometry(a: Tensor, b: Tensor, { transA, transB }: MatmulAttrs) {
  const ra = a.rank;
  const rb = b.rank;
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  return { M, K, Kb, N, batchA: a.shape.slice(0, -2), batchB: b.shape.slice(0, -2) };
}

/** Offsets (in matrices) of each batch entry of an operand with batch shape `from`, broadcast to `to`. */
function batchOffsets(from: readonly number[], to: readonly number[]): number[] {
  const total = to.reduce((x, y) => x * y, 1);
  const strides = stridesOf(from);
  const off = to.length - from.length;
  const out = new Array<number>(total);
  const idx = new Array<number>(to.length).fill(0);
  for (let n = 0; n < total; n++) {
    let o = 0;
    for (let d = 0; d < from.length; d++) if (from[d] !== 1) o += idx[off + d]! * strides[d]!;
    out[n] = o;
    for (let d = to.length - 1; d >= 0; d--) {
      if (++idx[d]! < to[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * `op(x)·op(y)` of two 2-D tensors of one dtype straight into a new tensor of shape [M, N], on
 * the gemm kernel: the products of the fused first-order backwards below (their shapes were
 * checked when the forward ran).
 */
function rawProduct(x: Tensor, y: Tensor, transX: boolean, transY: boolean, into: Tensor | null = null): Tensor {
  const M = transX ? x.shape[1]! : x.shape[0]!;
  const K = transX ? x.shape[0]! : x.shape[1]!;
  const N = transY ? y.shape[0]! : y.shape[1]!;
  // the engine's destination (a leaf's zeroed .grad, of this product's shape and x's dtype), when offered
  if (into !== null && into.rank === 2 && into.shape[0] === M && into.shape[1] === N && into.dtype === x.dtype) {
    gemm(transX, transY, M, N, K, x.data, y.data, into.data);
    return into;
  }
  return new Tensor(gemmNew(transX, transY, M, N, K, x.data, y.data), [M, N]);
}

/** `matmul`: op(a)·op(b) over the last two dimensions, batched over broadcast leading dimensions. */
export const matmulOp: Op<MatmulAttrs | undefined, "operands"> = defineOp<MatmulAttrs | undefined>({
  name: "matmul",
  inputs: ["a", "b"],
  integers: "int",
  check([a, b], attrs) {
    const flags = matmulFlags(attrs);
    if (a!.rank < 2 || b!.rank < 2) {
      throw new ShapeError(
        "matmul",
        `matmul: expects operands of rank >= 2 (1-D operands go through matmul()), got a of shape ${fmtShape(a!.shape)} (rank ${a!.rank}) and b of shape ${fmtShape(b!.shape)} (rank ${b!.rank})`,
      );
    }
    const { K, Kb, batchA, batchB } = geometry(a!, b!, flags);
    if (K !== Kb) {
      const what = flags.transA || flags.transB ? ` (transA=${flags.transA}, transB=${flags.transB})` : "";
      throw new ShapeError(
        "matmul",
        `matmul: inner dimensions differ: a of shape ${fmtShape(a!.shape)} and b of shape ${fmtShape(b!.shape)}${what} (${K} vs ${Kb})`,
      );
    }
    try {
      broadcastShapes("matmul", batchA, batchB);
    } catch {
      throw new ShapeError(
        "matmul",
        `matmul: batch dimensions ${fmtShape(batchA)} of a (shape ${fmtShape(a!.shape)}) and ${fmtShape(batchB)} of b (shape ${fmtShape(b!.shape)}) cannot be broadcast together`,
      );
    }
  },
  normalize: (_inputs, attrs) => matmulFlags(attrs),
  forward([a, b], attrs, ctx) {
    const flags = attrs ?? PLAIN;
    const { M, K, N, batchA, batchB } = geometry(a!, b!, flags);
    const batch = broadcastShapes("matmul", batchA, batchB);
    const out = ctx.alloc([...batch, M, N]);
    ctx.saveInputs(0, 1);
    // int32 operands (on float64 copies): each entry wrapped modulo 2^32, exactly (see int32.ts)
    const product = ctx.resultDType === "int32" ? gemmInt32 : gemm;
    if (batch.length === 0) {
      product(flags.transA, flags.transB, M, N, K, a!.data, b!.data, out.data);
      return out;
    }
    const offA = batchOffsets(batchA, batch);
    const offB = batchOffsets(batchB, batch);
    const sa = M * K;
    const sb = K * N;
    const sc = M * N;
    for (let n = 0; n < offA.length; n++) {
      const oa = offA[n]! * sa;
      const ob = offB[n]! * sb;
      product(
        flags.transA,
        flags.transB,
        M,
        N,
        K,
        a!.data.subarray(oa, oa + sa),
        b!.data.subarray(ob, ob + sb),
        out.data.subarray(n * sc, (n + 1) * sc),
      );
    }
    return out;
  },
  ownsGradients: true,
  backward(gy, ctx) {
    const { transA, transB } = ctx.attrs ?? PLAIN;
    const [needA, needB] = ctx.needsInputGrad;
    const a = ctx.input(0);
    const b = ctx.input(1);
    // C = op(A)·op(B):  dA = gy·op(B)ᵀ (or its transpose),  dB = op(A)ᵀ·gy (or its transpose);
    // over broadcast batch dimensions the engine sums each back to its operand's shape
    const da = !needA
      ? null
      : transA
        ? matmulOp([b, gy], { transA: transB, transB: true })
        : matmulOp([gy, b], { transA: false, transB: !transB });
    const db = !needB
      ? null
      : transB
        ? matmulOp([gy, a], { transA: true, transB: transA })
        : matmulOp([a, gy], { transA: !transA, transB: false });
    return [da, db];
  },
  // a second route, for a pass that records nothing: the same 2-D products on the gemm kernel,
  // without an op call each (checkOp compares it with backward)
  fusedBackward(grads, ctx, out) {
    const gy = grads as Tensor;
    const a = ctx.input(0);
    const b = ctx.input(1);
    if (a.rank !== 2 || b.rank !== 2 || a.dtype !== b.dtype || gy.dtype !== a.dtype) {
      return matmulOp.spec.backward(gy, ctx as BackwardContext<MatmulAttrs | undefined>);
    }
    const { transA, transB } = (ctx.attrs as MatmulAttrs | undefined) ?? PLAIN;
    const [needA, needB] = ctx.needsInputGrad;
    // a leaf operand's zeroed .grad (on offer in out) takes its product directly
    const da = !needA
      ? null
      : transA
        ? rawProduct(b, gy, transB, true, out.take(0))
        : rawProduct(gy, b, false, !transB, out.take(0));
    const db = !needB
      ? null
      : transB
        ? rawProduct(gy, a, true, transA, out.take(1))
        : rawProduct(a, gy, !transA, false, out.take(1));
    return [da, db];
  },
  test: {
    cases: (pick) => {
      const [m, k, n] = [pick.int(0, 4), pick.int(0, 4), pick.int(0, 4)];
      const transA = pick.bool();
      const transB = pick.bool();
      // batch dimensions: none, or a broadcast pair such as [2, 1] with [3]
      const batched = pick.int(0, 2);
      const full = batched === 0 ? [] : batched === 1 ? [pick.int(1, 3)] : [pick.int(1, 2), pick.int(1, 3)];
      const ba = full.map((d) => (pick.bool() ? d : 1)).slice(pick.int(0, full.length));
      const bb = full.map((d) => (pick.bool() ? d : 1));
      return {
        shapes: [
          [...ba, ...(transA ? [k, m] : [m, k])],
          [...bb, ...(transB ? [n, k] : [k, n])],
        ],
        attrs: { transA, transB },
      };
    },
  },
});

/** Options of `matmul`: transpose an operand's last two dimensions before the product. */
export interface MatmulOptions {
  /**
   * Use `a` with its last two dimensions swapped (TensorFlow.js's `transposeA`; default false),
   * read in place, without a copy. `a` must then have rank >= 2.
   */
  transposeA?: boolean;
  /**
   * Use `b` with its last two dimensions swapped (TensorFlow.js's `transposeB`; default false),
   * read in place, without a copy. `b` must then have rank >= 2.
   */
  transposeB?: boolean;
}

const OPTION_KEYS = ["transposeA", "transposeB"] as const;

/**
 * `matmul`'s options as transpose flags.
 * @throws ArgumentError naming `matmul` and the option for anything but an object (or undefined)
 *   whose keys are among `transposeA`, `transposeB` and whose values are booleans or undefined.
 */
function matmulOptions(options: unknown): MatmulAttrs {
  // the common call, matmul(a, b), without reading an options object
  if (options === undefined) return PLAIN;
  const o = readKnownOptions("matmul", options, OPTION_KEYS);
  for (const key of OPTION_KEYS) {
    const v = o[key];
    if (v !== undefined && typeof v !== "boolean") {
      throw new ArgumentError("matmul", `matmul: options.${key} must be a boolean, got ${fmtValue(v)}`);
    }
  }
  return o.transposeA === true || o.transposeB === true
    ? { transA: o.transposeA === true, transB: o.transposeB === true }
    : PLAIN;
}

/** ` with { transposeA: true }` for messages, or "" when nothing is transposed. */
function fmtFlags({ transA, transB }: MatmulAttrs): string {
  const set = [...(transA ? ["transposeA: true"] : []), ...(transB ? ["transposeB: true"] : [])];
  return set.length === 0 ? "" : ` with { ${set.join(", ")} }`;
}

/**
 * Matrix product with numpy's `matmul` semantics:
 * - 2-D: (N×D)·(D×H) → N×H, the seed's MatMul node, with `dx = dy·Wᵀ` and `dW = xᵀ·dy`
 *   computed without transposed copies;
 * - batched: (..., N, D)·(..., D, H), leading dimensions broadcast;
 * - 1-D: a vector operand is a row (left) or column (right) vector, and that axis is dropped
 *   from the result (two vectors give their dot product, a 0-d tensor).
 *
 * `options.transposeA` / `options.transposeB` (TensorFlow.js's `matMul(a, b, transposeA,
 * transposeB)`) swap the last two dimensions of `a` / `b` before the product, so
 * `matmul(a, b, { transposeB: true })` of a [..., N, D] and b [..., H, D] is [..., N, H]; batch
 * dimensions still broadcast. The operand is read in place (no transposed copy), forward and
 * backward. A 1-D operand has no last two dimensions to swap: transposing one is a ShapeError
 * (reshape it to a row or a column first).
 *
 * Operands may be constants (nested arrays, typed arrays; see `TensorLike`). A number is accepted
 * as an argument but, being a 0-d tensor, refused as numpy and PyTorch refuse a 0-d operand
 * (`matmul(2, x)` is a ShapeError; scale with `mul`).
 * @throws ShapeError naming both shapes for 0-d operands (numbers included), differing inner
 *   dimensions (after the transposes) or batch dimensions that do not broadcast; naming the
 *   option and the shape for a transpose of a 1-D operand.
 * @throws ArgumentError naming `matmul` when an operand is not a TensorLike, or
 *   `options` is not an object of the two boolean options above (an unknown key included).
 */
export function matmul<A extends TensorLike, B extends TensorLike>(a: A, b: B, options?: MatmulOptions): Kept<A | B> {
  const [ta, tb] = toTensors([a, b], "matmul", ["a", "b"]) as [Tensor, Tensor];
  const flags = matmulOptions(options);
  if (ta.rank === 0 || tb.rank === 0) {
    const sa = ta.shape;
    const sb = tb.shape;
    throw new ShapeError(
      "matmul",
      `matmul: operands must have rank >= 1, got a of shape ${fmtShape(sa)} (rank ${sa.length}) and b of shape ${fmtShape(sb)} (rank ${sb.length})`,
    );
  }
  for (const [key, set, name, t] of [
    ["transposeA", flags.transA, "a", ta],
    ["transposeB", flags.transB, "b", tb],
  ] as const) {
    if (set && t.rank < 2) {
      throw new ShapeError(
        "matmul",
        `matmul: ${key} needs ${name} of rank >= 2 (it swaps the last two dimensions), got ${name} of shape ${fmtShape(t.shape)}; reshape a vector to a row or a column first`,
      );
    }
  }
  const a2 = ta.rank === 1 ? reshape(ta, [1, ta.shape[0]!]) : ta;
  const b2 = tb.rank === 1 ? reshape(tb, [tb.shape[0]!, 1]) : tb;
  const K = flags.transA ? a2.shape[a2.rank - 2]! : a2.shape[a2.rank - 1]!;
  const Kb = flags.transB ? b2.shape[b2.rank - 1]! : b2.shape[b2.rank - 2]!;
  if (K !== Kb) {
    throw new ShapeError(
      "matmul",
      `matmul: inner dimensions differ: a of shape ${fmtShape(ta.shape)} and b of shape ${fmtShape(tb.shape)}${fmtFlags(flags)} (${K} vs ${Kb})`,
    );
  }
  const c = matmulOp([a2, b2], flags);
  if (ta.rank >= 2 && tb.rank >= 2) return c as Kept<A | B>;
  const shape = [...c.shape];
  if (tb.rank === 1) shape.splice(shape.length - 1, 1);
  if (ta.rank === 1) shape.splice(shape.length - (tb.rank === 1 ? 1 : 2), 1);
  return reshape(c, shape) as Kept<A | B>;
}

// ---------------------------------------------------------------------------------------------
// affine: x·W + b in one op

/**
 * `affine`: `x·W + b` for a 2-D `x` [N, D], `W` [D, H] and a bias `b` of shape [H] or [1, H]: the
 * seed's Affine layer as one op (PyTorch's `addmm`). Forward adds the bias into the product's
 * own output, so the layer allocates one N×H array, not two; backward gives `dx = dy·Wᵀ`,
 * `dW = xᵀ·dy` and `db = dy`, which the engine sums over the rows to b's shape.
 */
export const affineOp: Op = defineOp({
  name: "affine",
  inputs: ["x", "W", "b"],
  check([x, W, b]) {
    if (x!.rank !== 2 || W!.rank !== 2) {
      throw new ShapeError(
        "affine",
        `affine: x and W must be 2-D, got x of shape ${fmtShape(x!.shape)} and W of shape ${fmtShape(W!.shape)}`,
      );
    }
    if (x!.shape[1] !== W!.shape[0]) {
      throw new ShapeError(
        "affine",
        `affine: inner dimensions differ: x of shape ${fmtShape(x!.shape)} and W of shape ${fmtShape(W!.shape)} (${x!.shape[1]} vs ${W!.shape[0]})`,
      );
    }
    const H = W!.shape[1]!;
    const bs = b!.shape;
    if (!((bs.length === 1 && bs[0] === H) || (bs.length === 2 && bs[0] === 1 && bs[1] === H))) {
      throw new ShapeError(
        "affine",
        `affine: b of shape ${fmtShape(bs)} must be [${H}] or [1, ${H}] for W of shape ${fmtShape(W!.shape)}`,
      );
    }
  },
  forward([x, W, b], _attrs, ctx) {
    const N = x!.shape[0]!;
    const D = x!.shape[1]!;
    const H = W!.shape[1]!;
    const shape = [N, H];
    const out = ctx.alloc(shape);
    ctx.saveInputs(0, 1);
    // the bias row is added by the gemm kernel (in WASM before the copy out, when it runs there)
    gemm(false, false, N, H, D, x!.data, W!.data, out.data, b!.data);
    return out;
  },
  ownsGradients: true,
  backward(gy, ctx) {
    const [needX, needW, needB] = ctx.needsInputGrad;
    const x = ctx.input(0);
    const W = ctx.input(1);
    return [
      needX ? matmulOp([gy, W], { transA: false, transB: true }) : null,
      needW ? matmulOp([x, gy], { transA: true, transB: false }) : null,
      // the engine sums gy down to b's shape (into a zeroed .grad in place, when it can)
      needB ? gy : null,
    ];
  },
  // a second route, for a pass that records nothing: the two products on the gemm kernel
  // (checkOp compares it with backward)
  fusedBackward(grads, ctx, out) {
    const gy = grads as Tensor;
    const x = ctx.input(0);
    const W = ctx.input(1);
    if (gy.dtype !== x.dtype || x.dtype !== W.dtype)
      return affineOp.spec.backward(gy, ctx as BackwardContext<undefined>);
    const [needX, needW, needB] = ctx.needsInputGrad;
    // a leaf's zeroed .grad (on offer in out) takes its product directly (W's, in a training step)
    return [
      needX ? rawProduct(gy, W, false, true, out.take(0)) : null,
      needW ? rawProduct(x, gy, true, false, out.take(1)) : null,
      needB ? gy : null,
    ];
  },
  test: {
    cases: (pick) => {
      const [n, d, h] = [pick.int(0, 4), pick.int(0, 4), pick.int(0, 4)];
      return { shapes: [[n, d], [d, h], pick.bool() ? [h] : [1, h]], attrs: undefined };
    },
  },
});

/**
 * `x·W + b` in one op, the seed's Affine layer: `x` [N, D], `W` [D, H], `b` [H] or [1, H] →
 * [N, H]; see {@link affineOp}. Numbers are accepted as 0-d tensors and then fail the rank check.
 * @throws ShapeError naming `affine` and the shapes when x or W is not 2-D, their inner
 *   dimensions differ, or b is neither [H] nor [1, H].
 * @throws ArgumentError naming `affine` when an argument is neither a Tensor nor a number.
 */
export function affine(x: TensorLike, W: TensorLike, b: TensorLike): Tensor {
  return affineOp([x, W, b]);
}
