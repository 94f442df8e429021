/**
 * Matrix product. One op with transpose flags, so the derivative of a matmul is again a matmul
 * (dx = dy·Wᵀ, dW = xᵀ·dy) that reads its operands in place, at every order of differentiation.
 */
import { defineOp, fmtShape, gemm, type Op, ShapeError, type Tensor, type TensorLike } from "@gradgraph/core";

/** Transpose flags: the product is op(a)·op(b). */
export interface MatmulAttrs {
  readonly transA: boolean;
  readonly transB: boolean;
}

const PLAIN: MatmulAttrs = { transA: false, transB: false };

/** `matmul`: 2-D product of op(a) (M×K) and op(b) (K×N). */
export const matmulOp: Op<MatmulAttrs | undefined> = defineOp<MatmulAttrs | undefined>({
  name: "matmul",
  inputs: ["a", "b"],
  check([a, b], attrs) {
    const { transA, transB } = attrs ?? PLAIN;
    if (a!.rank !== 2 || b!.rank !== 2) {
      throw new ShapeError(
        "matmul",
        `matmul: expects 2-D operands, got a of shape ${fmtShape(a!.shape)} (rank ${a!.rank}) and b of shape ${fmtShape(b!.shape)} (rank ${b!.rank})`,
      );
    }
    const ka = transA ? a!.shape[0]! : a!.shape[1]!;
    const kb = transB ? b!.shape[1]! : b!.shape[0]!;
    if (ka !== kb) {
      const what = transA || transB ? ` (transA=${transA}, transB=${transB})` : "";
      throw new ShapeError(
        "matmul",
        `matmul: inner dimensions differ: a of shape ${fmtShape(a!.shape)} and b of shape ${fmtShape(b!.shape)}${what} (${ka} vs ${kb})`,
      );
    }
  },
  forward([a, b], attrs, ctx) {
    const { transA, transB } = attrs ?? PLAIN;
    const M = transA ? a!.shape[1]! : a!.shape[0]!;
    const K = transA ? a!.shape[0]! : a!.shape[1]!;
    const N = transB ? b!.shape[0]! : b!.shape[1]!;
    const out = ctx.alloc([M, N]);
    gemm(transA, transB, M, N, K, a!.data, b!.data, out.data);
    ctx.saveInputs(0, 1);
    return out;
  },
  backward(gy, ctx) {
    const { transA, transB } = ctx.attrs ?? PLAIN;
    const [needA, needB] = ctx.needsInputGrad;
    const a = ctx.input(0);
    const b = ctx.input(1);
    // C = op(A)·op(B):  dA = gy·op(B)ᵀ (or its transpose),  dB = op(A)ᵀ·gy (or its transpose)
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
      return { shapes: [transA ? [k, m] : [m, k], transB ? [n, k] : [k, n]], attrs: { transA, transB } };
    },
  },
});

/**
 * Matrix product of 2-D tensors: (N×D)·(D×H) → N×H, the seed's MatMul node, with
 * `dx = dy·Wᵀ` and `dW = xᵀ·dy` computed without transposed copies.
 * @throws ShapeError naming both shapes for operands that are not 2-D or whose inner dimensions differ.
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  return matmulOp([a, b], PLAIN);
}
