/**
 * Matrix multiply kernel (pure TypeScript): `C = op(A) · op(B)` where `op` is the identity or the
 * transpose, so backward's `dy·Wᵀ` and `xᵀ·dy` never copy a transposed operand.
 *
 * Method: the operands are packed (converted to float64) into panels of MR rows of A and NR
 * columns of B per k, blocked over k (KC) and the columns (NC) so the panels stay in cache, and a
 * 4×4 register-tiled micro-kernel accumulates 16 products in locals per k step.
 */
import type { FloatArray } from "../dtype.js";
import { ArgumentError, describeValue, ShapeError } from "../errors.js";
import { allocForWrite, allocUnchecked } from "../memory.js";
import { MAX_TENSOR_SIZE } from "../shape.js";
import { addRow, wasmGemm } from "./runtime/wasm.js";
import { apartFrom } from "./runtime/wasm-memory.js";

const MR = 4;
const NR = 4;
const KC = 256;
const NC = 256;
const MC = 64;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

/** True for a Float32Array or Float64Array (false for anything else, a revoked Proxy included). */
function isFloatArray(v: unknown): v is FloatArray {
  try {
    return v instanceof Float32Array || v instanceof Float64Array;
  } catch {
    return false;
  }
}

/** True for a size: a non-negative safe integer. */
function isSize(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/**
 * Checks gemm's flags, sizes and arrays (not their lengths), without allocating (gemm runs once
 * per product, and per batch entry of a batched matmul).
 * @throws ArgumentError naming `gemm` and the argument.
 */
function checkGemmArgs(
  transA: unknown,
  transB: unknown,
  M: unknown,
  N: unknown,
  K: unknown,
  A: unknown,
  B: unknown,
  C: unknown,
): void {
  if (typeof transA === "boolean" && typeof transB === "boolean" && isSize(M) && isSize(N) && isSize(K)) {
    if (isFloatArray(A) && isFloatArray(B) && isFloatArray(C)) return;
  }
  const names = ["transA", "transB", "M", "N", "K", "A", "B", "C"] as const;
  const values = [transA, transB, M, N, K, A, B, C];
  for (let i = 0; i < names.length; i++) {
    const v = values[i];
    const ok = i < 2 ? typeof v === "boolean" : i < 5 ? isSize(v) : isFloatArray(v);
    if (!ok) {
      const what = i < 2 ? "a boolean" : i < 5 ? "a non-negative integer" : "a Float32Array or Float64Array";
      throw new ArgumentError("gemm", `gemm: ${names[i]} must be ${what}, got ${describeValue(v)}`);
    }
  }
}

/**
 * `op(A) · op(B)` into a new M×N array of `A`'s dtype: `gemm` with its output allocated by
 * gradgraph's allocator. Since gemm overwrites its output, a large array may be a reused one
 * handed out without the zero fill that `allocArray` does. Checks its arguments as `gemm` does.
 * @throws ArgumentError or ShapeError as `gemm`, naming `gemmNew`.
 */
export function gemmNew(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
): FloatArray {
  const size = M * N;
  if (!Number.isSafeInteger(M) || !Number.isSafeInteger(N) || M < 0 || N < 0 || !(size <= MAX_TENSOR_SIZE)) {
    throw new ArgumentError(
      "gemmNew",
      `gemmNew: M and N must be non-negative integers whose product is at most ${MAX_TENSOR_SIZE}, got M=${describeValue(M)}, N=${describeValue(N)}`,
    );
  }
  const dtype = A instanceof Float64Array ? "float64" : "float32";
  // with K = 0 nothing is written: the product is the zeros of a zero-filled array
  const C = K === 0 ? allocUnchecked(dtype, size) : allocForWrite(dtype, size);
  gemm(transA, transB, M, N, K, A, B, C);
  return C;
}

/**
 * `C[M×N] = op(A) · op(B)`, overwriting `C`. `op(A)` is M×K, `op(B)` is K×N.
 * With `transA`, `A` is stored K×M (row-major); with `transB`, `B` is stored N×K.
 *
 * Products above a size threshold run in the WebAssembly SIMD kernel when it is available (see
 * `kernelInfo` and `setKernelBackend`); smaller ones, mixed dtypes, and the `"js"` backend use the
 * TypeScript kernel below.
 * Checks every argument (its work is proportional to the arrays', so the checks cost nothing
 * noticeable): unlike the other kernels it may be given untrusted input.
 *
 * With `bias` (a row of at least N elements; the first N are used), `C = op(A)·op(B) + bias` with
 * the row added to every row of the product (the affine layer's `x·W + b`): in the WebAssembly
 * kernel it is added before the product is copied out, saving a pass over C.
 *
 * `A`, `B` and `bias` may share memory with `C` (views of one buffer, or C itself): every route
 * computes from the values they held at the call, as if they had been copied first.
 * @throws ArgumentError if a flag is not a boolean, a size is not a non-negative integer, or an
 *   array (the bias included, when given) is not a Float32Array or Float64Array.
 * @throws ShapeError if an array is shorter than its operand (a detached one has length 0), or the
 *   bias shorter than N.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
  bias?: FloatArray,
): void {
  checkGemmArgs(transA, transB, M, N, K, A, B, C);
  if (A.length < M * K || B.length < K * N || C.length < M * N) {
    throw new ShapeError(
      "gemm",
      `gemm: arrays too short for M=${M}, N=${N}, K=${K}: A has ${A.length} (needs ${M * K}), B has ${B.length} (needs ${K * N}), C has ${C.length} (needs ${M * N})`,
    );
  }
  if (bias !== undefined) checkBias(bias, N);
  if (M === 0 || N === 0) return;
  if (wasmGemm(transA, transB, M, N, K, A, B, C, bias ?? null)) return;
  // the TypeScript kernel writes C while it reads the operands: one sharing C's memory is read
  // from a copy, so that every route computes from the values the arrays held at the call
  const nc = M * N;
  const a = apartFrom(A, M * K, C, nc);
  const b = apartFrom(B, K * N, C, nc);
  const row = bias === undefined ? undefined : apartFrom(bias, N, C, nc);
  tsGemm(transA, transB, M, N, K, a, b, C);
  if (row !== undefined) addRow(C, nc, row, N);
}

/** Checks gemm's optional bias row. @throws ArgumentError or ShapeError naming `gemm`. */
function checkBias(bias: unknown, N: number): void {
  if (!isFloatArray(bias)) {
    throw new ArgumentError("gemm", `gemm: bias must be a Float32Array or Float64Array, got ${describeValue(bias)}`);
  }
  if (bias.length < N) {
    throw new ShapeError("gemm", `gemm: bias has ${bias.length} elements, fewer than the product's N=${N} columns`);
  }
}

/** The TypeScript kernel of {@link gemm}: `C = op(A)·op(B)`, for checked arguments. */
function tsGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): void {
  if (M * N * K < 4096) {
    small(transA, transB, M, N, K, A, B, C);
    return;
  }
  C.fill(0, 0, M * N);
  // element (i, p) of op(A) is A[i * ars + p * acs]; (p, j) of op(B) is B[p * brs + j * bcs]
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  const brs = transB ? 1 : N;
  const bcs = transB ? K : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packPanelsB(B, brs, bcs, pc, kc, jc, nc);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelsA(A, ars, acs, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          for (let ir = 0; ir < mc; ir += MR) {
            micro(kc, ir * kc, jr * kc, C, (ic + ir) * N + jc + jr, N, Math.min(MR, mc - ir), Math.min(NR, nc - jr));
          }
        }
      }
    }
  }
}

/** Packs rows ic..ic+mc of op(A), columns pc..pc+kc, into MR-row panels: [panel][k][r]. */
function packPanelsA(A: FloatArray, rs: number, cs: number, ic: number, mc: number, pc: number, kc: number): void {
  const need = Math.ceil(mc / MR) * MR * kc;
  if (packA.length < need) packA = new Float64Array(need);
  const pa = packA;
  for (let ir = 0; ir < mc; ir += MR) {
    const base = ir * kc;
    const rows = Math.min(MR, mc - ir);
    for (let r = 0; r < MR; r++) {
      if (r < rows) {
        let src = (ic + ir + r) * rs + pc * cs;
        for (let p = 0; p < kc; p++, src += cs) pa[base + p * MR + r] = A[src]!;
      } else {
        for (let p = 0; p < kc; p++) pa[base + p * MR + r] = 0;
      }
    }
  }
}

/** Packs rows pc..pc+kc, columns jc..jc+nc of op(B) into NR-column panels: [panel][k][c]. */
function packPanelsB(B: FloatArray, rs: number, cs: number, pc: number, kc: number, jc: number, nc: number): void {
  const need = Math.ceil(nc / NR) * NR * kc;
  if (packB.length < need) packB = new Float64Array(need);
  const pb = packB;
  for (let jr = 0; jr < nc; jr += NR) {
    const base = jr * kc;
    const cols = Math.min(NR, nc - jr);
    for (let p = 0; p < kc; p++) {
      const src = (pc + p) * rs + (jc + jr) * cs;
      const dst = base + p * NR;
      for (let c = 0; c < NR; c++) pb[dst + c] = c < cols ? B[src + c * cs]! : 0;
    }
  }
}

/** 4×4 micro-kernel: C tile += Apanel(4×kc) · Bpanel(kc×4), writing only rows×cols. */
function micro(
  kc: number,
  ao: number,
  bo: number,
  C: FloatArray,
  co: number,
  ldc: number,
  rows: number,
  cols: number,
): void {
  const pa = packA;
  const pb = packB;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let a = ao;
  let b = bo;
  for (let p = 0; p < kc; p++, a += 4, b += 4) {
    const a0 = pa[a]!,
      a1 = pa[a + 1]!,
      a2 = pa[a + 2]!,
      a3 = pa[a + 3]!;
    const b0 = pb[b]!,
      b1 = pb[b + 1]!,
      b2 = pb[b + 2]!,
      b3 = pb[b + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    let o = co;
    C[o] = C[o]! + c00;
    C[o + 1] = C[o + 1]! + c01;
    C[o + 2] = C[o + 2]! + c02;
    C[o + 3] = C[o + 3]! + c03;
    o += ldc;
    C[o] = C[o]! + c10;
    C[o + 1] = C[o + 1]! + c11;
    C[o + 2] = C[o + 2]! + c12;
    C[o + 3] = C[o + 3]! + c13;
    o += ldc;
    C[o] = C[o]! + c20;
    C[o + 1] = C[o + 1]! + c21;
    C[o + 2] = C[o + 2]! + c22;
    C[o + 3] = C[o + 3]! + c23;
    o += ldc;
    C[o] = C[o]! + c30;
    C[o + 1] = C[o + 1]! + c31;
    C[o + 2] = C[o + 2]! + c32;
    C[o + 3] = C[o + 3]! + c33;
    return;
  }
  const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) C[co + r * ldc + c] = C[co + r * ldc + c]! + tile[r * 4 + c]!;
  }
}

/** Direct dot products for tiny products, where packing costs more than it saves; overwrites C. */
function small(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): void {
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  const brs = transB ? 1 : N;
  const bcs = transB ? K : 1;
  for (let i = 0; i < M; i++) {
    const ao = i * ars;
    const co = i * N;
    for (let j = 0; j < N; j++) {
      const bo = j * bcs;
      let s = 0;
      for (let p = 0; p < K; p++) s += A[ao + p * acs]! * B[bo + p * brs]!;
      C[co + j] = s;
    }
  }
}
