// gradgraph WebAssembly SIMD math helpers (AssemblyScript): fused multiply-add, exp, expm1-based
// tanh and sigmoid, log, for f32x4 and f64x2 lanes. Not exported from the module; the kernel files
// inline them.
//
// exp: x = n·ln2 + r with n = round(x / ln2) and |r| ≤ ln2/2, the reduction done in two parts
// (ln2 = HI + LO, HI with trailing zero bits so n·HI is exact); exp(r) − 1 = r + r²·Q(r) with the
// truncated Taylor series (degree 7 for f32, 13 for f64: truncation error below 2⁻²⁷ resp. 2⁻⁵⁸);
// exp(x) = (1 + (r + r²·Q))·2ⁿ, the scaling applied as two powers of two 2^(n>>1)·2^(n − (n>>1)) so that
// results overflowing to Infinity or underflowing into subnormals round once. Inputs are clamped
// first (beyond the clamp the result is 0 or Infinity anyway) with pmin/pmax, which keep a NaN
// first operand (and cost one instruction; V8's IEEE min/max and trunc_sat conversions cost
// several and made exp ~2× slower). n is rounded with the 1.5·2^p "magic number" addition, whose
// bit pattern then holds n as an integer; a NaN lane gives a NaN polynomial, so any scale works.
// In the relaxed-SIMD build every a·b + c of exp's reduction and polynomial (and of expm1's, and
// the multiply-adds of log's series) is one fused multiply-add (see fma64): f64 exp of 300 elements 1.15 → 0.85 µs, sigmoid 1.07 → 0.91 µs here,
// the measured error bounds unchanged (exp 1 ulp, sigmoid 3, tanh 3, log 1 against Math).

// f32 constants
const LOG2E_F: f32 = 1.44269504;
const LN2HI_F: f32 = 0.693359375; // 355/512: n·LN2HI_F is exact for |n| < 2¹⁵
const LN2LO_F: f32 = -2.1219444e-4; // ln 2 − LN2HI_F
const EXP_MIN_F: f32 = -104.0;
const EXP_MAX_F: f32 = 89.0;
const MAGIC_F: f32 = 12582912.0; // 1.5·2²³: y + MAGIC_F rounds y to an integer held in the low mantissa bits
const MAGIC_F_BITS: i32 = 0x4b400000;

// f64 constants
const LOG2E: f64 = 1.4426950408889634;
const LN2HI: f64 = 0.69314718036912381649; // ln 2 with the low 21 mantissa bits cleared
const LN2LO: f64 = 1.908214929270588e-10; // ln 2 − LN2HI
const EXP_MIN: f64 = -760.0;
const EXP_MAX: f64 = 720.0;
const MAGIC: f64 = 6755399441055744.0; // 1.5·2⁵²
const MAGIC_BITS: i64 = 0x4338000000000000;

// 1/k!
const C2: f64 = 0.5;
const C3: f64 = 1.0 / 6.0;
const C4: f64 = 1.0 / 24.0;
const C5: f64 = 1.0 / 120.0;
const C6: f64 = 1.0 / 720.0;
const C7: f64 = 1.0 / 5040.0;
const C8: f64 = 1.0 / 40320.0;
const C9: f64 = 1.0 / 362880.0;
const C10: f64 = 1.0 / 3628800.0;
const C11: f64 = 1.0 / 39916800.0;
const C12: f64 = 1.0 / 479001600.0;
const C13: f64 = 1.0 / 6227020800.0;

// a·b + c and c − a·b: fused (one rounding) in the relaxed-SIMD build, where V8 emits an FMA
// instruction for them (exp ~25% faster; gemm's micro-kernels use fma32/fma64 too); two roundings
// in the plain-SIMD build, whose results stay as they were. Relaxed SIMD lets a machine without
// FMA round twice: a result may differ by an ulp between machines, as the relaxed build's gemm
// already may.

// @ts-ignore: decorator
@inline export function fma32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function nma32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline export function fma64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function nma64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_nmadd(a, b, c);
  return f64x2.sub(c, f64x2.mul(a, b));
}

// @ts-ignore: decorator
@inline function mad32(a: v128, b: v128, c: f32): v128 {
  return fma32(a, b, f32x4.splat(c));
}

// @ts-ignore: decorator
@inline function mad64(a: v128, b: v128, c: f64): v128 {
  return fma64(a, b, f64x2.splat(c));
}

/** 2^k for i32 lanes k in [−126, 127] (f32x4 bit patterns). */
// @ts-ignore: decorator
@inline function pow2i32(k: v128): v128 {
  return i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23);
}

/** 2^k for i64 lanes k in [−1022, 1023], as f64x2 bit patterns. */
// @ts-ignore: decorator
@inline function pow2i64(k: v128): v128 {
  return i64x2.shl(i64x2.add(k, i64x2.splat(1023)), 52);
}

/**
 * Q(r) with exp(r) = 1 + r + r²·Q(r), f32 lanes (exp to degree 7), in Estrin's scheme. Adding the
 * exact leading terms 1 + r last keeps the rounding error near half an ulp.
 */
// @ts-ignore: decorator
@inline function q32(r: v128): v128 {
  const r2 = f32x4.mul(r, r);
  const a = mad32(r, f32x4.splat(<f32>C3), <f32>C2);
  const b = mad32(r, f32x4.splat(<f32>C5), <f32>C4);
  const c = mad32(r, f32x4.splat(<f32>C7), <f32>C6);
  return fma32(r2, fma32(r2, c, b), a);
}

/**
 * Q(r) with exp(r) = 1 + r + r²·Q(r), f64 lanes (exp to degree 13), in Estrin's scheme: a
 * dependency chain of ~5 multiply-adds instead of Horner's 12 (the f64 exp ran ~1.3× faster).
 */
// @ts-ignore: decorator
@inline function q64(r: v128): v128 {
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const a = mad64(r, f64x2.splat(C3), C2);
  const b = mad64(r, f64x2.splat(C5), C4);
  const c = mad64(r, f64x2.splat(C7), C6);
  const d = mad64(r, f64x2.splat(C9), C8);
  const e = mad64(r, f64x2.splat(C11), C10);
  const f = mad64(r, f64x2.splat(C13), C12);
  const lo = fma64(r2, b, a);
  const mid = fma64(r2, d, c);
  const hi = fma64(r2, f, e);
  if (ASC_FEATURE_RELAXED_SIMD) return fma64(r4, mid, fma64(r8, hi, lo));
  return f64x2.add(lo, f64x2.add(f64x2.mul(r4, mid), f64x2.mul(r8, hi)));
}

/** exp(r) − 1 = r + r²·Q(r), f32 lanes. */
// @ts-ignore: decorator
@inline function em1r32(r: v128): v128 {
  return fma32(f32x4.mul(r, r), q32(r), r);
}

/** exp(r) − 1 = r + r²·Q(r), f64 lanes. */
// @ts-ignore: decorator
@inline function em1r64(r: v128): v128 {
  return fma64(f64x2.mul(r, r), q64(r), r);
}

/** eˣ on f32x4 lanes (within 2 ulp of the correctly rounded result). */
// @ts-ignore: decorator
@inline export function exp32(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN_F)), f32x4.splat(EXP_MAX_F));
  const t = mad32(xc, f32x4.splat(LOG2E_F), MAGIC_F);
  const n = f32x4.sub(t, f32x4.splat(MAGIC_F));
  const r = nma32(n, f32x4.splat(LN2LO_F), nma32(n, f32x4.splat(LN2HI_F), xc));
  const p = f32x4.add(f32x4.splat(1.0), em1r32(r));
  const ni = i32x4.sub(t, i32x4.splat(MAGIC_F_BITS));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  return f32x4.mul(f32x4.mul(p, pow2i32(n1)), pow2i32(n2));
}

/** eˣ on f64x2 lanes (within a few ulp of the correctly rounded result). */
// @ts-ignore: decorator
@inline export function exp64(x: v128): v128 {
  const xc = f64x2.pmin(f64x2.pmax(x, f64x2.splat(EXP_MIN)), f64x2.splat(EXP_MAX));
  const t = mad64(xc, f64x2.splat(LOG2E), MAGIC);
  const n = f64x2.sub(t, f64x2.splat(MAGIC));
  const r = nma64(n, f64x2.splat(LN2LO), nma64(n, f64x2.splat(LN2HI), xc));
  const p = f64x2.add(f64x2.splat(1.0), em1r64(r));
  // n = n1 + n2 with n1 = round(n/2), both as i64 lanes read from the magic sums' bit patterns
  const ni = i64x2.sub(t, i64x2.splat(MAGIC_BITS));
  const n1 = i64x2.sub(mad64(n, f64x2.splat(0.5), MAGIC), i64x2.splat(MAGIC_BITS));
  const n2 = i64x2.sub(ni, n1);
  return f64x2.mul(f64x2.mul(p, pow2i64(n1)), pow2i64(n2));
}

/** eˣ − 1 on f32x4 lanes for x in [0, 20] (no overflow handling; used by tanh). */
// @ts-ignore: decorator
@inline function expm1Small32(x: v128): v128 {
  const t = mad32(x, f32x4.splat(LOG2E_F), MAGIC_F);
  const n = f32x4.sub(t, f32x4.splat(MAGIC_F));
  const r = nma32(n, f32x4.splat(LN2LO_F), nma32(n, f32x4.splat(LN2HI_F), x));
  const rq = em1r32(r);
  const s = pow2i32(i32x4.sub(t, i32x4.splat(MAGIC_F_BITS)));
  // eˣ − 1 = 2ⁿ·rq + (2ⁿ − 1); 2ⁿ − 1 is exact for the small n here
  return fma32(s, rq, f32x4.sub(s, f32x4.splat(1.0)));
}

/** eˣ − 1 on f64x2 lanes for x in [0, 40]. */
// @ts-ignore: decorator
@inline function expm1Small64(x: v128): v128 {
  const t = mad64(x, f64x2.splat(LOG2E), MAGIC);
  const n = f64x2.sub(t, f64x2.splat(MAGIC));
  const r = nma64(n, f64x2.splat(LN2LO), nma64(n, f64x2.splat(LN2HI), x));
  const rq = em1r64(r);
  const s = pow2i64(i64x2.sub(t, i64x2.splat(MAGIC_BITS)));
  return fma64(s, rq, f64x2.sub(s, f64x2.splat(1.0)));
}

/**
 * tanh on f32x4 lanes: sign(x)·e/(e + 2) with e = expm1(2|x|), |x| clamped to 10 (tanh is 1 in
 * f32 beyond 9.1); keeps −0 and NaN.
 */
// @ts-ignore: decorator
@inline export function tanh32(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const ax = f32x4.pmin(f32x4.abs(x), f32x4.splat(10.0));
  const e = expm1Small32(f32x4.add(ax, ax));
  return v128.or(f32x4.div(e, f32x4.add(e, f32x4.splat(2.0))), sign);
}

/** tanh on f64x2 lanes (|x| clamped to 20: tanh is 1 in f64 beyond 19.1). */
// @ts-ignore: decorator
@inline export function tanh64(x: v128): v128 {
  const sign = v128.and(x, i64x2.splat(0x8000000000000000));
  const ax = f64x2.pmin(f64x2.abs(x), f64x2.splat(20.0));
  const e = expm1Small64(f64x2.add(ax, ax));
  return v128.or(f64x2.div(e, f64x2.add(e, f64x2.splat(2.0))), sign);
}

/** 1/(1 + e^−x) on f32x4 lanes, with e = exp(−|x|) so nothing overflows: x ≥ 0 gives 1/(1+e), else e/(1+e). */
// @ts-ignore: decorator
@inline export function sigmoid32(x: v128): v128 {
  const e = exp32(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(f32x4.splat(1.0), e);
  const pos = f32x4.ge(x, f32x4.splat(0.0));
  return f32x4.div(v128.bitselect(f32x4.splat(1.0), e, pos), d);
}

/** 1/(1 + e^−x) on f64x2 lanes (as {@link sigmoid32}). */
// @ts-ignore: decorator
@inline export function sigmoid64(x: v128): v128 {
  const e = exp64(f64x2.neg(f64x2.abs(x)));
  const d = f64x2.add(f64x2.splat(1.0), e);
  const pos = f64x2.ge(x, f64x2.splat(0.0));
  return f64x2.div(v128.bitselect(f64x2.splat(1.0), e, pos), d);
}

// log: x = 2^e·m with m in [√½, √2) (m taken in [1, 2) from the bits, then halved when above √2;
// subnormal x is scaled by 2^54 resp. 2^24 first). With f = m − 1 (exact) and s = f/(2 + f),
// log(1 + f) = 2·atanh(s) = 2s + s·T(s²), T(z) = 2(z/3 + z²/5 + …), and since 2s = f − s·f,
// log(1 + f) = f − s·(f − T): the exact f comes last. log(x) = e·LN2HI + (log(1 + f) + e·LN2LO).
// T is the truncated series (z ≤ 0.0295: to z¹¹ for f64, z⁵ for f32). Special values as Math.log:
// NaN or x < 0 → NaN, ±0 → −Infinity, +Infinity → +Infinity.

const SQRT2_F: f32 = 1.41421356;
const SQRT2: f64 = 1.4142135623730951;

/** log on f32x4 lanes. */
// @ts-ignore: decorator
@inline export function log32(x: v128): v128 {
  const sub = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(16777216.0)), x, sub);
  let e = i32x4.sub(i32x4.shr_u(xs, 23), v128.bitselect(i32x4.splat(127 + 24), i32x4.splat(127), sub));
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(SQRT2_F));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are −1: e + 1
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  const z = f32x4.mul(s, s);
  const z2 = f32x4.mul(z, z);
  // T(z) = 2z/3 + 2z²/5 + 2z³/7 + 2z⁴/9 + 2z⁵/11
  const t01 = f32x4.mul(z, mad32(z, f32x4.splat(<f32>(2.0 / 5.0)), <f32>(2.0 / 3.0)));
  const t23 = mad32(z, f32x4.splat(<f32>(2.0 / 9.0)), <f32>(2.0 / 7.0));
  const t = f32x4.add(t01, f32x4.mul(f32x4.mul(z, z2), f32x4.add(t23, f32x4.mul(z2, f32x4.splat(<f32>(2.0 / 11.0))))));
  const l1p = f32x4.sub(f, f32x4.mul(s, f32x4.sub(f, t)));
  const ef = f32x4.convert_i32x4_s(e);
  let r = f32x4.add(f32x4.mul(ef, f32x4.splat(LN2HI_F)), f32x4.add(l1p, f32x4.mul(ef, f32x4.splat(LN2LO_F))));
  r = v128.bitselect(f32x4.splat(Infinity), r, f32x4.eq(x, f32x4.splat(Infinity)));
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  return v128.bitselect(r, f32x4.splat(NaN), f32x4.ge(x, f32x4.splat(0)));
}

/** log on f64x2 lanes. */
// @ts-ignore: decorator
@inline export function log64(x: v128): v128 {
  const sub = f64x2.lt(x, f64x2.splat(2.2250738585072014e-308));
  const xs = v128.bitselect(f64x2.mul(x, f64x2.splat(18014398509481984.0)), x, sub); // 2^54
  let e = i64x2.sub(i64x2.shr_u(xs, 52), v128.bitselect(i64x2.splat(1023 + 54), i64x2.splat(1023), sub));
  let m = v128.or(v128.and(xs, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  const big = f64x2.gt(m, f64x2.splat(SQRT2));
  m = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  e = i64x2.sub(e, big);
  const f = f64x2.sub(m, f64x2.splat(1.0));
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const z = f64x2.mul(s, s);
  const z2 = f64x2.mul(z, z);
  const z4 = f64x2.mul(z2, z2);
  const z8 = f64x2.mul(z4, z4);
  // T(z) = Σ_{k=1..11} 2z^k/(2k+1), in Estrin's scheme
  const a = mad64(z, f64x2.splat(2.0 / 5.0), 2.0 / 3.0); // k = 1, 2
  const b = mad64(z, f64x2.splat(2.0 / 9.0), 2.0 / 7.0); // k = 3, 4
  const c = mad64(z, f64x2.splat(2.0 / 13.0), 2.0 / 11.0); // k = 5, 6
  const d = mad64(z, f64x2.splat(2.0 / 17.0), 2.0 / 15.0); // k = 7, 8
  const g = mad64(z, f64x2.splat(2.0 / 21.0), 2.0 / 19.0); // k = 9, 10
  const lo = f64x2.add(a, f64x2.mul(z2, b));
  const mid = f64x2.add(c, f64x2.mul(z2, d));
  const hi = f64x2.add(g, f64x2.mul(z2, f64x2.splat(2.0 / 23.0)));
  const t = f64x2.mul(z, f64x2.add(lo, f64x2.add(f64x2.mul(z4, mid), f64x2.mul(z8, hi))));
  const l1p = f64x2.sub(f, f64x2.mul(s, f64x2.sub(f, t)));
  // e as f64: the magic-number addition in reverse
  const ef = f64x2.sub(i64x2.add(e, i64x2.splat(MAGIC_BITS)), f64x2.splat(MAGIC));
  let r = f64x2.add(f64x2.mul(ef, f64x2.splat(LN2HI)), f64x2.add(l1p, f64x2.mul(ef, f64x2.splat(LN2LO))));
  r = v128.bitselect(f64x2.splat(Infinity), r, f64x2.eq(x, f64x2.splat(Infinity)));
  r = v128.bitselect(f64x2.splat(-Infinity), r, f64x2.eq(x, f64x2.splat(0)));
  return v128.bitselect(r, f64x2.splat(NaN), f64x2.ge(x, f64x2.splat(0)));
}
