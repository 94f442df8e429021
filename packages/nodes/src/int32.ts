/**
 * Exact int32 arithmetic for the ops that sum products or many terms (`sum`, `matmul`; `square`,
 * `outer` and `cumsum` use `Math.imul` and `| 0` in their own loops): an op with `integers: 'int'`
 * computes on float64 copies of its int32 operands, and its result is cast to int32, wrapping
 * modulo 2³² as PyTorch's int32 kernels do. A float64 sum is exact only while every partial sum
 * stays within 2⁵³, and a product of two int32 values can reach 2⁶², so the float kernels alone
 * would lose low bits before the wrap. These helpers give an integer congruent to the exact result
 * modulo 2³² and within 2⁵³, on the same float kernels where the terms allow it; the op's cast of
 * its output to int32 (ToInt32, as `convertInto` does) then wraps it.
 */
import type { FloatArray } from "@gradgraph/core";
import { gemm, sumToInto } from "@gradgraph/core/kernels";

/** 2³²: int32 results are the exact values modulo this. */
const TWO32 = 2 ** 32;
/** 2¹⁶: the split of an int32 value into a high and a low half. */
const TWO16 = 2 ** 16;
/** The largest magnitude a float64 holds every integer up to. */
const EXACT = 2 ** 53;
/** At most this many terms per dot product in {@link gemmInt32}'s split route (each below 2³²). */
const SPLIT_TERMS = 2 ** 21;

/** The low halves (`v mod 2¹⁶`, in [0, 2¹⁶)) and high halves (`⌊v / 2¹⁶⌋`) of int32 values. */
function halves(a: FloatArray): [Float64Array, Float64Array] {
  const lo = new Float64Array(a.length);
  const hi = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    lo[i] = v & 0xffff;
    hi[i] = v >> 16;
  }
  return [lo, hi];
}

/**
 * `out = Σ x` over the axes on which `to` is 1 (as `sumToInto`), for int32 values held in
 * float64 arrays, modulo 2³² (see above). Up to 2²² terms the float sum is exact (|Σ| ≤ 2²²·2³¹ = 2⁵³);
 * beyond, the low and high 16-bit halves are summed apart (each sum within 2⁴⁷) and recombined.
 * `out` must be zero-filled.
 */
export function sumToIntoInt32(x: FloatArray, from: readonly number[], out: FloatArray, to: readonly number[]): void {
  if (x.length <= EXACT / 2 ** 31) {
    sumToInto(x, from, out, to);
    return;
  }
  const [lo, hi] = halves(x);
  const loSum = new Float64Array(out.length);
  sumToInto(lo, from, loSum, to);
  sumToInto(hi, from, out, to);
  for (let i = 0; i < out.length; i++) out[i] = combine(loSum[i]!, out[i]!);
}

/**
 * `lo + 2¹⁶·hi` modulo 2³², for integer sums `lo` and `hi` within ±2⁵³: each is first reduced
 * (`lo` modulo 2³², `hi` modulo 2¹⁶, which changes `2¹⁶·hi` by multiples of 2³²), so the sum stays
 * within 2³³ and exact.
 */
function combine(lo: number, hi: number): number {
  return (lo % TWO32) + (hi % TWO16) * TWO16;
}

/** The largest |v| in `a` (0 when empty). */
function maxAbs(a: FloatArray): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

/**
 * `C = op(A)·op(B)` as `gemm` computes it (same arguments; the values int32, held in float64), each
 * entry modulo 2³² (see above), as int32 arithmetic wraps it. On the float kernel when every dot product
 * stays within 2⁵³ (`max|A|·max|B|·K`); else on the kernel three times, with each operand split
 * into 16-bit halves (`a·b ≡ aₗbₗ + 2¹⁶(aₕbₗ + aₗbₕ)` modulo 2³², each product sum within 2⁵³
 * for K up to 2²¹); beyond that, a loop of `Math.imul`.
 */
export function gemmInt32(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): void {
  if (maxAbs(A) * maxAbs(B) * K <= EXACT) {
    gemm(transA, transB, M, N, K, A, B, C);
    return;
  }
  if (K <= SPLIT_TERMS) {
    const [al, ah] = halves(A);
    const [bl, bh] = halves(B);
    const cross = new Float64Array(C.length);
    const cross2 = new Float64Array(C.length);
    gemm(transA, transB, M, N, K, al, bl, C);
    gemm(transA, transB, M, N, K, ah, bl, cross);
    gemm(transA, transB, M, N, K, al, bh, cross2);
    for (let i = 0; i < C.length; i++) C[i] = combine(C[i]!, cross[i]! + cross2[i]!);
    return;
  }
  // element (i, k) of op(A) and (k, j) of op(B)
  const sa = transA ? [1, M] : [K, 1];
  const sb = transB ? [1, K] : [N, 1];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc = (acc + Math.imul(A[i * sa[0]! + k * sa[1]!]!, B[k * sb[0]! + j * sb[1]!]!)) | 0;
      C[i * N + j] = acc;
    }
  }
}
