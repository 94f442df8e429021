// gradgraph WebAssembly SIMD matrix multiply (AssemblyScript).
//
// C[M×N] = op(A) · op(B), overwriting C, for f32 (f32x4) and f64 (f64x2). The source is compiled
// twice by scripts/build-wasm.mjs: once with plain SIMD (mul + add) and once with relaxed SIMD
// (fused multiply-add); `ASC_FEATURE_RELAXED_SIMD` picks the variant at compile time. The
// micro-kernel tiles:
// - f64, both builds: 4 rows × two f64x2 vectors (4 columns, 32 bytes per k);
// - f32, plain SIMD: 4 rows × two f32x4 vectors (8 columns, 32 bytes per k);
// - f32, relaxed SIMD: 3 rows × three f32x4 vectors (12 columns, 48 bytes per k).
// One driver serves all three (`tileM`, `tileRowBytes`). The tile shape never changes the order in
// which an element's products are summed, so results do not depend on it. At the edges of C the
// 3×12 tile has short kernels that write straight into C (the last 1–2 rows, or the last 4 or 8
// columns); the other edge tiles are computed whole into a buffer and the valid part copied.
//
// Why these shapes: V8's TurboFan (Node 20) schedules every load of the loop body before the
// arithmetic, so the A splats, the B vectors and the accumulators are live at once in the 15
// usable xmm registers. 4×8 holds 8 accumulators (14 registers, 15 with the mul temporary); 5 or
// 6 rows spilled accumulators to the stack every iteration and ran at ~20 GFLOP/s. With FMA, 3×12
// holds 9 accumulators and needs no temporary: in L1 it runs ~5% faster than 4×8 (49.6 against
// 47.4 GFLOP/s), and on the MLP step's products 2–13% faster; with mul + add it spills (~18).
//
// Layout: the caller (packages/core/src/kernels/runtime/wasm.ts) copies A, B into linear memory, passes a
// workspace of `workspaceBytes()` bytes and reads C back. Operands are packed straight from their
// stored layout (transposed or not) into zero-padded panels: A as [panel][k][MR], B as
// [panel][k][NR]; k is blocked by ~KC, rows by MC (a multiple of MR that splits M evenly), columns
// by NC. The k loop of the micro-kernel is a do-while, which V8 compiles far better than a for loop.
// A small product (M·N·K ≤ SMALL_MNK, K ≤ KC: a small net's layers) skips the packing and reads
// A and B where they are (`smallT`), summing every element in the same order.

import { fma32, fma64 } from "./vmath";

/** Rows of the 4-row tiles (f64, and f32 in the plain build). */
const MR: i32 = 4;
const KC: i32 = 256;
/** Rows of one packed A block at most (a 3-row tile may take it to 129: the region holds 256 f32). */
const MC_MAX: i32 = MR * 32;
const NC: i32 = 1032; // a multiple of both tile widths (8 and 12)

/** Bytes of workspace `gemm_f32` / `gemm_f64` need: packed A, packed B and one edge tile. */
export function workspaceBytes(): i32 {
  return (MC_MAX * KC + KC * (NC + 16)) * 8 + 512;
}

/** Start of memory free for the caller (past static data), 64-byte aligned. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** f32 micro-kernel, 4×8 (the plain-SIMD build): the tile at c (row stride ldc bytes) = (or +=, with acc) pa · pb. */
function kernelF32x4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let it = kc;
  do {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = fma32(a, b0, c00);
    c01 = fma32(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = fma32(a, b0, c10);
    c11 = fma32(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = fma32(a, b0, c20);
    c21 = fma32(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = fma32(a, b0, c30);
    c31 = fma32(a, b1, c31);
    pa += <usize>(MR * 4);
    pb += 32;
  } while (--it != 0);
  if (acc) {
    let r = c;
    c00 = f32x4.add(c00, v128.load(r));
    c01 = f32x4.add(c01, v128.load(r, 16));
    r += ldc;
    c10 = f32x4.add(c10, v128.load(r));
    c11 = f32x4.add(c11, v128.load(r, 16));
    r += ldc;
    c20 = f32x4.add(c20, v128.load(r));
    c21 = f32x4.add(c21, v128.load(r, 16));
    r += ldc;
    c30 = f32x4.add(c30, v128.load(r));
    c31 = f32x4.add(c31, v128.load(r, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  c += ldc;
  v128.store(c, c30);
  v128.store(c, c31, 16);
}

/**
 * f32 micro-kernel, 3×12 (the relaxed-SIMD build): the tile at c (row stride ldc bytes) = (or +=,
 * with acc) pa · pb. Nine accumulators, three B vectors and the A splats fit the registers only
 * with fused multiply-add; with mul + add the temporaries spill (~18 GFLOP/s).
 */
function kernelF32x3x12(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c02 = c00;
  let c10 = c00;
  let c11 = c00;
  let c12 = c00;
  let c20 = c00;
  let c21 = c00;
  let c22 = c00;
  let it = kc;
  do {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    let a = v128.load32_splat(pa);
    c00 = fma32(a, b0, c00);
    c01 = fma32(a, b1, c01);
    c02 = fma32(a, b2, c02);
    a = v128.load32_splat(pa, 4);
    c10 = fma32(a, b0, c10);
    c11 = fma32(a, b1, c11);
    c12 = fma32(a, b2, c12);
    a = v128.load32_splat(pa, 8);
    c20 = fma32(a, b0, c20);
    c21 = fma32(a, b1, c21);
    c22 = fma32(a, b2, c22);
    pa += 12;
    pb += 48;
  } while (--it != 0);
  if (acc) {
    let r = c;
    c00 = f32x4.add(c00, v128.load(r));
    c01 = f32x4.add(c01, v128.load(r, 16));
    c02 = f32x4.add(c02, v128.load(r, 32));
    r += ldc;
    c10 = f32x4.add(c10, v128.load(r));
    c11 = f32x4.add(c11, v128.load(r, 16));
    c12 = f32x4.add(c12, v128.load(r, 32));
    r += ldc;
    c20 = f32x4.add(c20, v128.load(r));
    c21 = f32x4.add(c21, v128.load(r, 16));
    c22 = f32x4.add(c22, v128.load(r, 32));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  v128.store(c, c12, 32);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  v128.store(c, c22, 32);
}

/**
 * The last one or two rows of a 3-row f32 panel (relaxed-SIMD build) with all 12 columns: `rows`
 * rows of the tile at c = (or +=, with acc) pa · pb, reading A from its 3-row packed layout. Sums
 * in the same order as {@link kernelF32x3x12}, so results are the same as through a full tile.
 */
function kernelF32Rows12(rows: i32, kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c02 = c00;
  let c10 = c00;
  let c11 = c00;
  let c12 = c00;
  let it = kc;
  if (rows == 2) {
    do {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const b2 = v128.load(pb, 32);
      let a = v128.load32_splat(pa);
      c00 = fma32(a, b0, c00);
      c01 = fma32(a, b1, c01);
      c02 = fma32(a, b2, c02);
      a = v128.load32_splat(pa, 4);
      c10 = fma32(a, b0, c10);
      c11 = fma32(a, b1, c11);
      c12 = fma32(a, b2, c12);
      pa += 12;
      pb += 48;
    } while (--it != 0);
  } else {
    do {
      const a = v128.load32_splat(pa);
      c00 = fma32(a, v128.load(pb), c00);
      c01 = fma32(a, v128.load(pb, 16), c01);
      c02 = fma32(a, v128.load(pb, 32), c02);
      pa += 12;
      pb += 48;
    } while (--it != 0);
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c02 = f32x4.add(c02, v128.load(c, 32));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  if (rows == 2) {
    const r = c + ldc;
    if (acc) {
      c10 = f32x4.add(c10, v128.load(r));
      c11 = f32x4.add(c11, v128.load(r, 16));
      c12 = f32x4.add(c12, v128.load(r, 32));
    }
    v128.store(r, c10);
    v128.store(r, c11, 16);
    v128.store(r, c12, 32);
  }
}

/**
 * The last 4 or 8 columns of a 12-column f32 panel (relaxed-SIMD build) for a full 3-row tile:
 * `vecs` (1 or 2) vectors of each row of the tile at c = (or +=, with acc) pa · pb. Sums in the
 * same order as {@link kernelF32x3x12}.
 */
function kernelF32Cols(vecs: i32, kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let it = kc;
  if (vecs == 2) {
    do {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = fma32(a, b0, c00);
      c01 = fma32(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = fma32(a, b0, c10);
      c11 = fma32(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = fma32(a, b0, c20);
      c21 = fma32(a, b1, c21);
      pa += 12;
      pb += 48;
    } while (--it != 0);
  } else {
    do {
      const b0 = v128.load(pb);
      c00 = fma32(v128.load32_splat(pa), b0, c00);
      c10 = fma32(v128.load32_splat(pa, 4), b0, c10);
      c20 = fma32(v128.load32_splat(pa, 8), b0, c20);
      pa += 12;
      pb += 48;
    } while (--it != 0);
  }
  const r1 = c + ldc;
  const r2 = r1 + ldc;
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c10 = f32x4.add(c10, v128.load(r1));
    c20 = f32x4.add(c20, v128.load(r2));
  }
  v128.store(c, c00);
  v128.store(r1, c10);
  v128.store(r2, c20);
  if (vecs == 2) {
    if (acc) {
      c01 = f32x4.add(c01, v128.load(c, 16));
      c11 = f32x4.add(c11, v128.load(r1, 16));
      c21 = f32x4.add(c21, v128.load(r2, 16));
    }
    v128.store(c, c01, 16);
    v128.store(r1, c11, 16);
    v128.store(r2, c21, 16);
  }
}

// @ts-ignore: decorator
@inline function kernelF32(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) kernelF32x3x12(kc, pa, pb, c, ldc, acc);
  else kernelF32x4x8(kc, pa, pb, c, ldc, acc);
}

/** Micro-kernel rows for element size S: 3 for f32 with FMA, else 4. */
// @ts-ignore: decorator
@inline function tileM(S: i32): i32 {
  return S == 4 && ASC_FEATURE_RELAXED_SIMD ? 3 : 4;
}

/** Bytes of one k step of a packed B panel: 48 (12 f32) for f32 with FMA, else 32 (8 f32 or 4 f64). */
// @ts-ignore: decorator
@inline function tileRowBytes(S: i32): i32 {
  return S == 4 && ASC_FEATURE_RELAXED_SIMD ? 48 : 32;
}

/** The micro-kernel's rows for this build and dtype (threads split C in whole tiles). */
export function tileRows(f64: bool): i32 {
  return tileM(f64 ? 8 : 4);
}

/** The micro-kernel's columns for this build and dtype. */
export function tileCols(f64: bool): i32 {
  return f64 ? 4 : tileRowBytes(4) / 4;
}

/** f64 micro-kernel: the 4×4 tile at c (row stride ldc bytes) = (or +=, with acc) pa · pb. */
function kernelF64(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f64x2.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let it = kc;
  do {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = fma64(a, b0, c00);
    c01 = fma64(a, b1, c01);
    a = v128.load64_splat(pa, 8);
    c10 = fma64(a, b0, c10);
    c11 = fma64(a, b1, c11);
    a = v128.load64_splat(pa, 16);
    c20 = fma64(a, b0, c20);
    c21 = fma64(a, b1, c21);
    a = v128.load64_splat(pa, 24);
    c30 = fma64(a, b0, c30);
    c31 = fma64(a, b1, c31);
    pa += 32;
    pb += 32;
  } while (--it != 0);
  if (acc) {
    let r = c;
    c00 = f64x2.add(c00, v128.load(r));
    c01 = f64x2.add(c01, v128.load(r, 16));
    r += ldc;
    c10 = f64x2.add(c10, v128.load(r));
    c11 = f64x2.add(c11, v128.load(r, 16));
    r += ldc;
    c20 = f64x2.add(c20, v128.load(r));
    c21 = f64x2.add(c21, v128.load(r, 16));
    r += ldc;
    c30 = f64x2.add(c30, v128.load(r));
    c31 = f64x2.add(c31, v128.load(r, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  c += ldc;
  v128.store(c, c30);
  v128.store(c, c31, 16);
}

/**
 * Packs rows ic..ic+mc, columns pc..pc+kc of op(A) into MR-row panels [panel][k][MR], zero-padded.
 * Without transA, A is M×K (row i contiguous); with transA, A is K×M (the MR values of one k are
 * contiguous).
 */
/**
 * Packs one full 3-row f32 panel (the relaxed build's tile) with SIMD: `src` is op(A)'s element
 * (row 0, k 0) of the panel. Without transA, four k of the three rows are loaded as three vectors
 * and interleaved into [k][3] by six shuffles; with transA, each k's three values are contiguous
 * and move as one 16-byte load and store (the fourth lane lands in the next k's slot, which the
 * next store overwrites; the last k moves element by element, so nothing is read or written
 * past the panel).
 */
function packA3(transA: bool, lda: i32, src: usize, kc: i32, d: usize): void {
  if (transA) {
    const step = <usize>lda << 2;
    for (let p = 0; p < kc - 1; p++) {
      v128.store(d, v128.load(src));
      src += step;
      d += 12;
    }
    store<f32>(d, load<f32>(src));
    store<f32>(d, load<f32>(src, 4), 4);
    store<f32>(d, load<f32>(src, 8), 8);
    return;
  }
  const row = <usize>lda << 2;
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const r0 = v128.load(src);
    const r1 = v128.load(src + row);
    const r2 = v128.load(src + 2 * row);
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
    const t1 = i32x4.shuffle(r1, r2, 1, 5, 2, 6); // b1 c1 b2 c2
    const t2 = i32x4.shuffle(r0, r1, 3, 7, 3, 7); // a3 b3 a3 b3
    v128.store(d, i32x4.shuffle(t0, r2, 0, 1, 4, 2)); // a0 b0 c0 a1
    v128.store(d, i32x4.shuffle(t1, r0, 0, 1, 6, 2), 16); // b1 c1 a2 b2
    v128.store(d, i32x4.shuffle(r2, t2, 2, 4, 5, 3), 32); // c2 a3 b3 c3
    src += 16;
    d += 48;
  }
  for (; p < kc; p++) {
    store<f32>(d, load<f32>(src));
    store<f32>(d, load<f32>(src + row), 4);
    store<f32>(d, load<f32>(src + 2 * row), 8);
    src += 4;
    d += 12;
  }
}

// @ts-ignore: decorator
@inline function packA<T>(transA: bool, lda: i32, a: usize, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const MR = tileM(sizeof<T>());
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const base = dst + <usize>(ir * kc) * S;
    if (MR == 3 && rows == 3) {
      packA3(transA, lda, a + (transA ? <usize>pc * <usize>lda + <usize>(ic + ir) : <usize>(ic + ir) * <usize>lda + <usize>pc) * 4, kc, base);
      continue;
    }
    if (transA) {
      let src = a + (<usize>pc * <usize>lda + <usize>(ic + ir)) * S;
      let d = base;
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          store<T>(d + <usize>r * S, r < rows ? load<T>(src + <usize>r * S) : <T>0);
        }
        src += <usize>lda * S;
        d += <usize>MR * S;
      }
    } else {
      for (let r = 0; r < MR; r++) {
        let d = base + <usize>r * S;
        if (r < rows) {
          let src = a + (<usize>(ic + ir + r) * <usize>lda + <usize>pc) * S;
          for (let p = 0; p < kc; p++) {
            store<T>(d, load<T>(src));
            src += S;
            d += <usize>MR * S;
          }
        } else {
          for (let p = 0; p < kc; p++) {
            store<T>(d, <T>0);
            d += <usize>MR * S;
          }
        }
      }
    }
  }
}

/**
 * Packs rows pc..pc+kc, columns jc..jc+nc of op(B) into NR-column panels [panel][k][NR] (32 bytes
 * per k), zero-padded. Without transB, B is K×N; with transB, B is N×K.
 */
// @ts-ignore: decorator
@inline function packB<T>(transB: bool, ldb: i32, b: usize, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const BR = <usize>tileRowBytes(sizeof<T>());
  const NR = <i32>(BR / S);
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const base = dst + <usize>(jr * kc) * S;
    if (transB) {
      for (let c = 0; c < NR; c++) {
        let d = base + <usize>c * S;
        if (c < cols) {
          let src = b + (<usize>(jc + jr + c) * <usize>ldb + <usize>pc) * S;
          for (let p = 0; p < kc; p++) {
            store<T>(d, load<T>(src));
            src += S;
            d += BR;
          }
        } else {
          for (let p = 0; p < kc; p++) {
            store<T>(d, <T>0);
            d += BR;
          }
        }
      }
    } else {
      let src = b + (<usize>pc * <usize>ldb + <usize>(jc + jr)) * S;
      let d = base;
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          if (BR == 48) v128.store(d, v128.load(src, 32), 32);
          src += <usize>ldb * S;
          d += BR;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<T>(d + <usize>c * S, c < cols ? load<T>(src + <usize>c * S) : <T>0);
          }
          src += <usize>ldb * S;
          d += BR;
        }
      }
    }
  }
}

/**
 * Up to this M·N·K (with K ≤ KC) a product skips the packing: `smallT` reads A and B where they
 * are. There the packing and the edge tiles cost more than they save: the five products of a
 * 2-10-3 net's step (M·N·K 600 to 900) took 0.32–0.43 µs each in the packed kernel and take
 * 0.11–0.24 µs (f64, this repo's 2-core EPYC); 32³ 0.89× (f64) and 0.75× (f32) of the packed time,
 * 40³ 0.93× and 0.78×; from 48³ on (f64) the packed kernel is faster.
 */
const SMALL_MNK: i64 = 65536;

/** `lanes` (1 to 3) consecutive T at p into a vector, the other lanes 0 (never reads beyond them). */
// @ts-ignore: decorator
@inline function loadPart<T>(p: usize, lanes: i32): v128 {
  if (sizeof<T>() == 8) return v128.load64_zero(p);
  let v = v128.load32_zero(p);
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the first `lanes` (1 to 3) lanes of v at p. */
// @ts-ignore: decorator
@inline function storePart<T>(p: usize, v: v128, lanes: i32): void {
  if (sizeof<T>() == 8) {
    store<f64>(p, f64x2.extract_lane(v, 0));
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (lanes > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** A vector of `lanes` (1 to W) consecutive T at p, the other lanes 0. */
// @ts-ignore: decorator
@inline function loadLast<T>(p: usize, lanes: i32): v128 {
  return lanes == <i32>(16 / sizeof<T>()) ? v128.load(p) : loadPart<T>(p, lanes);
}

/** Stores the first `lanes` (1 to W) lanes of v at p. */
// @ts-ignore: decorator
@inline function storeLast<T>(p: usize, v: v128, lanes: i32): void {
  if (lanes == <i32>(16 / sizeof<T>())) v128.store(p, v);
  else storePart<T>(p, v, lanes);
}

/** `acc + a·b`, lane-wise, as the micro-kernels compute it (fused in the relaxed build). */
// @ts-ignore: decorator
@inline function fmaT<T>(a: v128, b: v128, acc: v128): v128 {
  return sizeof<T>() == 8 ? fma64(a, b, acc) : fma32(a, b, acc);
}

/** One element of A as a vector of equal lanes. */
// @ts-ignore: decorator
@inline function splatT<T>(p: usize): v128 {
  return sizeof<T>() == 8 ? v128.load64_splat(p) : v128.load32_splat(p);
}

/**
 * Whether the small route suits a product it may take: always for K ≤ 64; beyond, only with B
 * not transposed (its copy costs a strided pass) and at least four multiply-add chains (four rows,
 * or four vectors of columns): fewer wait on each other's latency at every k, where the packed
 * kernel's 4-row tiles keep eight going (3×7×256 f64 with B transposed took 2.5× the packed time).
 */
// @ts-ignore: decorator
@inline function smallFits<T>(transB: bool, M: i32, N: i32, K: i32): bool {
  return K <= 64 || (!transB && (M >= 4 || N >= <i32>(64 / sizeof<T>())));
}

/**
 * `C = op(A)·op(B)` for a small product (K ≤ KC), without packing. Rows go four at a time (then
 * one at a time), columns two vectors at a time (4 f64 or 8 f32), then one vector, then the last
 * 1–3 columns: every block keeps eight (or four) independent multiply-add chains in flight, where
 * one chain per vector would wait on the previous multiply-add at every k. Every element is summed
 * as in the micro-kernels (from 0, k ascending, with `fma64`/`fma32`), so the results are
 * bit-identical to the packed route's. A transposed B (stored N×K) is first copied K×N into `work`.
 */
// @ts-ignore: decorator
@inline function smallT<T>(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: usize,
  work: usize,
): void {
  const S = <usize>sizeof<T>();
  const W = <i32>(16 / S);
  let bp = b;
  let bStep = <usize>ldb * S;
  if (transB) {
    bp = (work + 63) & ~(<usize>63);
    // each stored row of B (a column of op(B)) read in order
    const dStep = <usize>N * S;
    for (let j = 0; j < N; j++) {
      const src = b + <usize>j * <usize>ldb * S;
      let dst = bp + <usize>j * S;
      for (let p = 0; p < K; p++) {
        store<T>(dst, load<T>(src + <usize>p * S));
        dst += dStep;
      }
    }
    bStep = <usize>N * S;
  }
  // element (i, p) of op(A) is at a + i·aRow + p·aCol
  const aRow = transA ? S : <usize>lda * S;
  const aCol = transA ? <usize>lda * S : S;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const ai = a + <usize>i * aRow;
    const ci = c + <usize>i * ldc;
    let j = 0;
    for (; j + 2 * W <= N; j += 2 * W) {
      let c00 = f64x2.splat(0);
      let c01 = c00;
      let c10 = c00;
      let c11 = c00;
      let c20 = c00;
      let c21 = c00;
      let c30 = c00;
      let c31 = c00;
      let ap = ai;
      let bq = bp + <usize>j * S;
      for (let p = 0; p < K; p++) {
        const b0 = v128.load(bq);
        const b1 = v128.load(bq, 16);
        let x = splatT<T>(ap);
        c00 = fmaT<T>(x, b0, c00);
        c01 = fmaT<T>(x, b1, c01);
        x = splatT<T>(ap + aRow);
        c10 = fmaT<T>(x, b0, c10);
        c11 = fmaT<T>(x, b1, c11);
        x = splatT<T>(ap + 2 * aRow);
        c20 = fmaT<T>(x, b0, c20);
        c21 = fmaT<T>(x, b1, c21);
        x = splatT<T>(ap + 3 * aRow);
        c30 = fmaT<T>(x, b0, c30);
        c31 = fmaT<T>(x, b1, c31);
        ap += aCol;
        bq += bStep;
      }
      let cj = ci + <usize>j * S;
      v128.store(cj, c00);
      v128.store(cj, c01, 16);
      cj += ldc;
      v128.store(cj, c10);
      v128.store(cj, c11, 16);
      cj += ldc;
      v128.store(cj, c20);
      v128.store(cj, c21, 16);
      cj += ldc;
      v128.store(cj, c30);
      v128.store(cj, c31, 16);
    }
    // one vector, then the last columns: four rows of one (possibly partial) vector
    for (; j < N; j += W) {
      const lanes = min(W, N - j);
      let c0 = f64x2.splat(0);
      let c1 = c0;
      let c2 = c0;
      let c3 = c0;
      let ap = ai;
      let bq = bp + <usize>j * S;
      for (let p = 0; p < K; p++) {
        const b0 = loadLast<T>(bq, lanes);
        c0 = fmaT<T>(splatT<T>(ap), b0, c0);
        c1 = fmaT<T>(splatT<T>(ap + aRow), b0, c1);
        c2 = fmaT<T>(splatT<T>(ap + 2 * aRow), b0, c2);
        c3 = fmaT<T>(splatT<T>(ap + 3 * aRow), b0, c3);
        ap += aCol;
        bq += bStep;
      }
      const cj = ci + <usize>j * S;
      // the width tested once for the four stores (storeLast on each made the 3-column f32
      // products ~5% slower)
      if (lanes == W) {
        v128.store(cj, c0);
        v128.store(cj + ldc, c1);
        v128.store(cj + 2 * ldc, c2);
        v128.store(cj + 3 * ldc, c3);
      } else {
        storePart<T>(cj, c0, lanes);
        storePart<T>(cj + ldc, c1, lanes);
        storePart<T>(cj + 2 * ldc, c2, lanes);
        storePart<T>(cj + 3 * ldc, c3, lanes);
      }
    }
  }
  // the last 1–3 rows, one at a time, four (or fewer) vectors of columns per block. (The blocks
  // are written out per width on purpose: one loop for every width, with the widths' tests inside
  // the k loop, made the step's 30×10·10×3-sized products 1.3–1.6× slower.)
  for (; i < M; i++) {
    const ai = a + <usize>i * aRow;
    const ci = c + <usize>i * ldc;
    let j = 0;
    for (; j + 4 * W <= N; j += 4 * W) {
      let c0 = f64x2.splat(0);
      let c1 = c0;
      let c2 = c0;
      let c3 = c0;
      let ap = ai;
      let bq = bp + <usize>j * S;
      for (let p = 0; p < K; p++) {
        const x = splatT<T>(ap);
        c0 = fmaT<T>(x, v128.load(bq), c0);
        c1 = fmaT<T>(x, v128.load(bq, 16), c1);
        c2 = fmaT<T>(x, v128.load(bq, 32), c2);
        c3 = fmaT<T>(x, v128.load(bq, 48), c3);
        ap += aCol;
        bq += bStep;
      }
      const cj = ci + <usize>j * S;
      v128.store(cj, c0);
      v128.store(cj, c1, 16);
      v128.store(cj, c2, 32);
      v128.store(cj, c3, 48);
    }
    if (j < N) {
      // the last 1–4 vectors of the row in one k loop (up to four chains), the last one partial
      const nv = (N - j + W - 1) / W;
      const last = N - j - (nv - 1) * W;
      let c0 = f64x2.splat(0);
      let c1 = c0;
      let c2 = c0;
      let c3 = c0;
      let ap = ai;
      let bq = bp + <usize>j * S;
      for (let p = 0; p < K; p++) {
        const x = splatT<T>(ap);
        c0 = fmaT<T>(x, nv == 1 ? loadLast<T>(bq, last) : v128.load(bq), c0);
        if (nv > 1) c1 = fmaT<T>(x, nv == 2 ? loadLast<T>(bq + 16, last) : v128.load(bq, 16), c1);
        if (nv > 2) c2 = fmaT<T>(x, nv == 3 ? loadLast<T>(bq + 32, last) : v128.load(bq, 32), c2);
        if (nv > 3) c3 = fmaT<T>(x, loadLast<T>(bq + 48, last), c3);
        ap += aCol;
        bq += bStep;
      }
      const cj = ci + <usize>j * S;
      storeLast<T>(cj, c0, nv == 1 ? last : W);
      if (nv > 1) storeLast<T>(cj + 16, c1, nv == 2 ? last : W);
      if (nv > 2) storeLast<T>(cj + 32, c2, nv == 3 ? last : W);
      if (nv > 3) storeLast<T>(cj + 48, c3, last);
    }
  }
}

// @ts-ignore: decorator
@inline function gemmT<T>(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldcElems: i32,
  work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  const S = <usize>sizeof<T>();
  const BR = <usize>tileRowBytes(sizeof<T>());
  const NR = <i32>(BR / S);
  const MR = tileM(sizeof<T>());
  const ldc = <usize>ldcElems * S;
  if (K <= 0) {
    for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldc, 0, <usize>N * S);
    return;
  }
  if (K <= KC && <i64>M * <i64>N * <i64>K <= SMALL_MNK && smallFits<T>(transB, M, N, K)) {
    smallT<T>(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, work);
    return;
  }
  const pa = (work + 63) & ~(<usize>63);
  const pb = pa + <usize>(MC_MAX * KC) * 8;
  const tile = pb + <usize>(KC * (NC + 16)) * 8;
  // row blocks: a multiple of MR that splits M evenly; k blocks: as even as possible, ≤ KC
  const mBlocks = (M + MC_MAX - 1) / MC_MAX;
  const mcStep = (((M + mBlocks - 1) / mBlocks + MR - 1) / MR) * MR;
  const kBlocks = (K + KC - 1) / KC;
  const kcStep = (K + kBlocks - 1) / kBlocks;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcStep) {
      const kc = min(kcStep, K - pc);
      const acc = pc > 0;
      packB<T>(transB, ldb, b, pc, kc, jc, nc, pb);
      for (let ic = 0; ic < M; ic += mcStep) {
        const mc = min(mcStep, M - ic);
        packA<T>(transA, lda, a, ic, mc, pc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bp = pb + <usize>(jr * kc) * S;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const ap = pa + <usize>(ir * kc) * S;
            const cp = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * S;
            if (rows == MR && cols == NR) {
              if (sizeof<T>() == 4) kernelF32(kc, ap, bp, cp, ldc, acc);
              else kernelF64(kc, ap, bp, cp, ldc, acc);
            } else if (sizeof<T>() == 4 && ASC_FEATURE_RELAXED_SIMD && cols == NR) {
              // the last 1 or 2 rows of a 3-row panel, straight into C
              kernelF32Rows12(rows, kc, ap, bp, cp, ldc, acc);
            } else if (sizeof<T>() == 4 && ASC_FEATURE_RELAXED_SIMD && rows == MR && (cols == 4 || cols == 8)) {
              // the last 4 or 8 columns of a 12-column panel, straight into C
              kernelF32Cols(cols >> 2, kc, ap, bp, cp, ldc, acc);
            } else {
              if (sizeof<T>() == 4) kernelF32(kc, ap, bp, tile, BR, false);
              else kernelF64(kc, ap, bp, tile, BR, false);
              for (let r = 0; r < rows; r++) {
                const cr = cp + <usize>r * ldc;
                const tr = tile + <usize>r * BR;
                for (let q = 0; q < cols; q++) {
                  const t = load<T>(tr + <usize>q * S);
                  const o = cr + <usize>q * S;
                  store<T>(o, acc ? load<T>(o) + t : t);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** f32 `C = op(A)·op(B)`: pointers into this module's memory; C is overwritten. */
export function gemm_f32(transA: bool, transB: bool, M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, work: usize): void {
  gemmT<f32>(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, c, N, work);
}

/** f64 `C = op(A)·op(B)`: pointers into this module's memory; C is overwritten. */
export function gemm_f64(transA: bool, transB: bool, M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, work: usize): void {
  gemmT<f64>(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, c, N, work);
}

/**
 * f32 `C = op(A)·op(B)` on strided operands (a sub-block of larger matrices): lda, ldb and ldc are
 * the row strides, in elements, of A, B and C as stored (A is M×K, or K×M with transA; B is K×N, or
 * N×K with transB; C is M×N). C's M×N block is overwritten; the rest of its rows are untouched.
 * Every element is summed in the same order as by `gemm_f32`, so a product split into row or column
 * blocks gives bit-identical results.
 */
export function gemm_f32_ld(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  work: usize,
): void {
  gemmT<f32>(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, work);
}

/** f64 version of {@link gemm_f32_ld}. */
export function gemm_f64_ld(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  work: usize,
): void {
  gemmT<f64>(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, work);
}
