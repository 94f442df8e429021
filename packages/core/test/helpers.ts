/** Small ops defined with the public defineOp, for core's own tests (core cannot import nodes). */
import { broadcastShapes, defineOp, type Tensor, type TensorLike } from "../src/index.js";
import { binaryInto } from "../src/kernels/index.js";

export const addOp = defineOp({
  name: "add",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(broadcastShapes("add", a!.shape, b!.shape));
    binaryInto("add", a!.data, a!.shape, b!.data, b!.shape, out.data, out.shape);
    return out;
  },
  backward: (gy) => [gy, gy],
});

export const mulOp = defineOp({
  name: "mul",
  inputs: ["a", "b"],
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(broadcastShapes("mul", a!.shape, b!.shape));
    binaryInto("mul", a!.data, a!.shape, b!.data, b!.shape, out.data, out.shape);
    ctx.saveInputs(0, 1);
    return out;
  },
  backward: (gy, ctx) => [mul(gy, ctx.input(1)), mul(gy, ctx.input(0))],
});

export const add = (a: TensorLike, b: TensorLike): Tensor => addOp([a, b]);
export const mul = (a: TensorLike, b: TensorLike): Tensor => mulOp([a, b]);

/** Sum of all elements, built on the core sumTo primitive. */
export { sumTo } from "../src/index.js";

/** Reference matrix product: element (i, j) of op(A)·op(B) by the definition, in float64. */
export function naiveGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) s += A[tA ? p * M + i : i * K + p]! * B[tB ? j * K + p : p * N + j]!;
      C[i * N + j] = s;
    }
  return C;
}
