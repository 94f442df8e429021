/**
 * Matrix product, numpy's `matmul`: 2-D products, batched products over broadcast leading
 * dimensions, and 1-D operands. One op with transpose flags, so the derivative of a matmul is
 * again a matmul (dx = dy·Wᵀ, dW = xᵀ·dy) that reads its operands in place, at every order.
 */
import {
  allocArray,
  assertTensor,
  broadcastShapes,
  defineOp,
  type FloatArray,
  fmtShape,
  gemm,
  isGradEnabled,
  type Op,
  ShapeError,
  stridesOf,
  Tensor,
  type TensorLike,
} from "@gradgraph/core";
import { reshape } from "./shape.js";

/** Transpose flags: the product is op(a)·op(b) over the last two dimensions. */
export interface MatmulAttrs {
  readonly transA: boolean;
  readonly transB: boolean;
}

const PLAIN: MatmulAttrs = { transA: false, transB: false };

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
 * `op(x)·op(y)` of two 2-D same-dtype tensors straight into a new tensor of shape [M, N], without
 * recording or re-checking (backward's first-order fast path: the shapes were checked in forward),
 * into `target` (a leaf's zeroed `.grad`, from `ctx.gradTarget`) when given.
 */
function rawProduct(x: Tensor, y: Tensor, transX: boolean, transY: boolean, target: FloatArray | null): Tensor {
  const M = transX ? x.shape[1]! : x.shape[0]!;
  const K = transX ? x.shape[0]! : x.shape[1]!;
  const N = transY ? y.shape[0]! : y.shape[1]!;
  const out = target ?? allocArray(x.dtype, M * N);
  gemm(transX, transY, M, N, K, x.data, y.data, out);
  return new Tensor(out, [M, N]);
}

/** `matmul`: op(a)·op(b) over the last two dimensions, batched over broadcast leading dimensions. */
export const matmulOp: Op<MatmulAttrs | undefined> = defineOp<MatmulAttrs | undefined>({
  name: "matmul",
  inputs: ["a", "b"],
  check([a, b], attrs) {
    const flags = attrs ?? PLAIN;
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
  forward([a, b], attrs, ctx) {
    const flags = attrs ?? PLAIN;
    const { M, K, N, batchA, batchB } = geometry(a!, b!, flags);
    const batch = broadcastShapes("matmul", batchA, batchB);
    const out = ctx.alloc([...batch, M, N]);
    ctx.saveInputs(0, 1);
    if (batch.length === 0) {
      gemm(flags.transA, flags.transB, M, N, K, a!.data, b!.data, out.data);
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
      gemm(
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
  backward(gy, ctx) {
    const { transA, transB } = ctx.attrs ?? PLAIN;
    const [needA, needB] = ctx.needsInputGrad;
    const a = ctx.input(0);
    const b = ctx.input(1);
    if (!isGradEnabled() && a.rank === 2 && b.rank === 2 && a.dtype === b.dtype && gy.dtype === a.dtype) {
      // first order, plain 2-D: the same products as below, without recording machinery
      const ta = needA ? ctx.gradTarget(0) : null;
      const tb = needB ? ctx.gradTarget(1) : null;
      const da = !needA ? null : transA ? rawProduct(b, gy, transB, true, ta) : rawProduct(gy, b, false, !transB, ta);
      const db = !needB ? null : transB ? rawProduct(gy, a, true, transA, tb) : rawProduct(a, gy, !transA, false, tb);
      return [da, db];
    }
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

/**
 * Matrix product with numpy's `matmul` semantics:
 * - 2-D: (N×D)·(D×H) → N×H, the seed's MatMul node, with `dx = dy·Wᵀ` and `dW = xᵀ·dy`
 *   computed without transposed copies;
 * - batched: (..., N, D)·(..., D, H), leading dimensions broadcast;
 * - 1-D: a vector operand is a row (left) or column (right) vector, and that axis is dropped
 *   from the result (two vectors give their dot product, a 0-d tensor).
 * @throws ShapeError naming both shapes for 0-d operands, differing inner dimensions or batch
 *   dimensions that do not broadcast.
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const ta = typeof a === "number" ? a : assertTensor("matmul", "a", a);
  const tb = typeof b === "number" ? b : assertTensor("matmul", "b", b);
  if (typeof ta === "number" || typeof tb === "number" || ta.rank === 0 || tb.rank === 0) {
    const sa = typeof ta === "number" ? [] : ta.shape;
    const sb = typeof tb === "number" ? [] : tb.shape;
    throw new ShapeError(
      "matmul",
      `matmul: operands must have rank >= 1, got a of shape ${fmtShape(sa)} (rank ${sa.length}) and b of shape ${fmtShape(sb)} (rank ${sb.length})`,
    );
  }
  if (ta.rank >= 2 && tb.rank >= 2) return matmulOp([ta, tb], PLAIN);
  const a2 = ta.rank === 1 ? reshape(ta, [1, ta.shape[0]!]) : ta;
  const b2 = tb.rank === 1 ? reshape(tb, [tb.shape[0]!, 1]) : tb;
  if (a2.shape[a2.rank - 1] !== b2.shape[b2.rank - 2]) {
    throw new ShapeError(
      "matmul",
      `matmul: inner dimensions differ: a of shape ${fmtShape(ta.shape)} and b of shape ${fmtShape(tb.shape)} (${a2.shape[a2.rank - 1]} vs ${b2.shape[b2.rank - 2]})`,
    );
  }
  const c = matmulOp([a2, b2], PLAIN);
  const shape = [...c.shape];
  if (tb.rank === 1) shape.splice(shape.length - 1, 1);
  if (ta.rank === 1) shape.splice(shape.length - (tb.rank === 1 ? 1 : 2), 1);
  return reshape(c, shape);
}
