// gradgraph WebAssembly SIMD math helpers (AssemblyScript): fused multiply-add, exp, expm1-based
// tanh and sigmoid, log, for f32x4 and f64x2 lanes. Not exported from the module; the kernel files
// inline them.
//
// exp (f64), for |x| ≤ 708 (every lane): x = k·ln2/128 + r with k = round(128x/ln2), |r| ≤ ln2/256,
// the reduction in two parts as below; eˣ = 2^(k>>7)·T[j]·(1 + τ[j] + p(r)), j = k & 127, with
// the table T[j] = 2^(j/128) rounded to f64 and τ[j] that rounding's relative error (both made
// with 60-digit decimal arithmetic), and p the degree-5 Taylor polynomial of eʳ − 1 (truncation
// error below 2⁻⁶⁰). The power of two is added to T[j]'s exponent bits, exact while the result
// is normal (hence the range); sc + sc·(τ + p) is the last rounding. 512 inputs covering the
// table are all correctly rounded (test/fixtures/exp-f64.json; without τ 126 are not, and
// Math.exp misses 46). About half the operations of the table-free exp below, which runs for
// a vector with a lane beyond ±708 or NaN (overflow, underflow, subnormal results). Here, 300
// elements: f64 exp 0.73 → 0.50 µs, sigmoid 0.83 → 0.59 µs, softmax cross-entropy's 30 rows of 3
// 0.58 → 0.46 µs.
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

/**
 * Per j in [0, 128): 2^(j/128) rounded to f64 (as its bits), then the rounding's relative error
 * (2^(j/128) − T)/T as an f64, side by side (see the file comment).
 */
const EXP_TABLE: usize = memory.data<u64>([
  0x3ff0000000000000, 0x0000000000000000,
  0x3ff0163da9fb3335, 0x3c9b3b4f1a88bf6e,
  0x3ff02c9a3e778061, 0xbc7160139cd8dc5d,
  0x3ff04315e86e7f85, 0xbc905e7a108766d1,
  0x3ff059b0d3158574, 0x3c8cd2523567f613,
  0x3ff0706b29ddf6de, 0xbc8bce8023f98efa,
  0x3ff0874518759bc8, 0x3c60f74e61e6c861,
  0x3ff09e3ecac6f383, 0x3c90a3e45b33d399,
  0x3ff0b5586cf9890f, 0x3c979aa65d837b6d,
  0x3ff0cc922b7247f7, 0x3c8eb51a92fdeffc,
  0x3ff0e3ec32d3d1a2, 0x3c3ebe3d702f9cd1,
  0x3ff0fb66affed31b, 0xbc6a033489906e0b,
  0x3ff11301d0125b51, 0xbc9556522a2fbd0e,
  0x3ff12abdc06c31cc, 0xbc5080ef8c4eea55,
  0x3ff1429aaea92de0, 0xbc91c923b9d5f416,
  0x3ff15a98c8a58e51, 0x3c80d3e3e95c55af,
  0x3ff172b83c7d517b, 0xbc801b15eaa59348,
  0x3ff18af9388c8dea, 0xbc8f1ff055de323d,
  0x3ff1a35beb6fcb75, 0x3c8b898c3f1353bf,
  0x3ff1bbe084045cd4, 0xbc96d99c7611eb26,
  0x3ff1d4873168b9aa, 0x3c9aecf73e3a2f60,
  0x3ff1ed5022fcd91d, 0xbc8fe782cb86389d,
  0x3ff2063b88628cd6, 0x3c8a6f4144a6c38d,
  0x3ff21f49917ddc96, 0x3c807a05b0e4047d,
  0x3ff2387a6e756238, 0x3c968efde3a8a894,
  0x3ff251ce4fb2a63f, 0x3c875e18f274487d,
  0x3ff26b4565e27cdd, 0x3c80472b981fe7f2,
  0x3ff284dfe1f56381, 0xbc96b87b3f71085e,
  0x3ff29e9df51fdee1, 0x3c82f7e16d09ab31,
  0x3ff2b87fd0dad990, 0xbc3d219b1a6fbffa,
  0x3ff2d285a6e4030b, 0x3c8b3782720c0ab4,
  0x3ff2ecafa93e2f56, 0x3c6e149289cecb8f,
  0x3ff306fe0a31b715, 0x3c834d754db0abb6,
  0x3ff32170fc4cd831, 0x3c864201e2ac744c,
  0x3ff33c08b26416ff, 0x3c8fdd395dd3f84a,
  0x3ff356c55f929ff1, 0xbc86a3803b8e5b04,
  0x3ff371a7373aa9cb, 0xbc924aedcc4b5068,
  0x3ff38cae6d05d866, 0xbc9907f81b512d8e,
  0x3ff3a7db34e59ff7, 0xbc71d1e83e9436d2,
  0x3ff3c32dc313a8e5, 0xbc991919b3ce1b15,
  0x3ff3dea64c123422, 0x3c859f48a72a4c6d,
  0x3ff3fa4504ac801c, 0xbc9312607a28698a,
  0x3ff4160a21f72e2a, 0xbc58a78f4817895b,
  0x3ff431f5d950a897, 0xbc7c2c9b67499a1b,
  0x3ff44e086061892d, 0x3c4363ed60c2ac11,
  0x3ff46a41ed1d0057, 0x3c9666093b0664ef,
  0x3ff486a2b5c13cd0, 0x3c6ecce1daa10379,
  0x3ff4a32af0d7d3de, 0x3c93ff8e3f0f1230,
  0x3ff4bfdad5362a27, 0x3c7690cebb7aafb0,
  0x3ff4dcb299fddd0d, 0x3c931dbdeb54e077,
  0x3ff4f9b2769d2ca7, 0xbc8f94340071a38e,
  0x3ff516daa2cf6642, 0xbc87deccdc93a349,
  0x3ff5342b569d4f82, 0xbc78dec6bd0f385f,
  0x3ff551a4ca5d920f, 0xbc861246ec7b5cf6,
  0x3ff56f4736b527da, 0x3c93350518fdd78e,
  0x3ff58d12d497c7fd, 0x3c7b98b72f8a9b05,
  0x3ff5ab07dd485429, 0x3c9063e1e21c5409,
  0x3ff5c9268a5946b7, 0x3c34c7855019c6ea,
  0x3ff5e76f15ad2148, 0x3c9432e62b64c035,
  0x3ff605e1b976dc09, 0xbc8ce44a6199769f,
  0x3ff6247eb03a5585, 0xbc8c33c53bef4da8,
  0x3ff6434634ccc320, 0xbc845378892be9ae,
  0x3ff6623882552225, 0xbc93cedd78565858,
  0x3ff68155d44ca973, 0x3c5710aa807e1964,
  0x3ff6a09e667f3bcd, 0xbc93b3efbf5e2228,
  0x3ff6c012750bdabf, 0xbc6a12ad8734b982,
  0x3ff6dfb23c651a2f, 0xbc6367efb86da9ee,
  0x3ff6ff7df9519484, 0xbc80dc3d54e08851,
  0x3ff71f75e8ec5f74, 0xbc781f647e5a3ecf,
  0x3ff73f9a48a58174, 0xbc86ee4ac08b7db0,
  0x3ff75feb564267c9, 0xbc8619321e55e68a,
  0x3ff780694fde5d3f, 0x3c909ccb5e09d4d3,
  0x3ff7a11473eb0187, 0xbc7b32dcb94da51d,
  0x3ff7c1ed0130c132, 0x3c94ecfd5467c06b,
  0x3ff7e2f336cf4e62, 0x3c65ebe1abd66c55,
  0x3ff80427543e1a12, 0xbc88a1c52fb3cf42,
  0x3ff82589994cce13, 0xbc9369b6f13b3734,
  0x3ff8471a4623c7ad, 0xbc805e843a19ff1e,
  0x3ff868d99b4492ed, 0xbc94d450d872576e,
  0x3ff88ac7d98a6699, 0x3c90ad675b0e8a00,
  0x3ff8ace5422aa0db, 0x3c8db72fc1f0eab4,
  0x3ff8cf3216b5448c, 0xbc65b6609cc5e7ff,
  0x3ff8f1ae99157736, 0x3c7bf68359f35f44,
  0x3ff9145b0b91ffc6, 0xbc93091fa71e3d83,
  0x3ff93737b0cdc5e5, 0xbc5da9b88b6c1e29,
  0x3ff95a44cbc8520f, 0xbc6c23f97c90b959,
  0x3ff97d829fde4e50, 0xbc92434322f4f9aa,
  0x3ff9a0f170ca07ba, 0xbc85ca6cd7668e4b,
  0x3ff9c49182a3f090, 0x3c71affc2b91ce27,
  0x3ff9e86319e32323, 0x3c6dd235e10a73bb,
  0x3ffa0c667b5de565, 0xbc87c50422622263,
  0x3ffa309bec4a2d33, 0x3c8b1c86e3e231d5,
  0x3ffa5503b23e255d, 0xbc91bbd1d3bcbb15,
  0x3ffa799e1330b358, 0x3c90cc319cee31d2,
  0x3ffa9e6b5579fdbf, 0x3c8469846e735ab3,
  0x3ffac36bbfd3f37a, 0xbc82dfcd978e9db4,
  0x3ffae89f995ad3ad, 0x3c8c1a7792cb3387,
  0x3ffb0e07298db666, 0xbc907b8f4ad1d9fa,
  0x3ffb33a2b84f15fb, 0xbc55c3d956dcaeba,
  0x3ffb59728de5593a, 0xbc90a40e3da6f640,
  0x3ffb7f76f2fb5e47, 0xbc68d6f438ad9334,
  0x3ffba5b030a1064a, 0xbc91eee26b588a35,
  0x3ffbcc1e904bc1d2, 0x3c74ffd70a5fddcd,
  0x3ffbf2c25bd71e09, 0xbc91bdfbfa9298ac,
  0x3ffc199bdd85529c, 0x3c736eae30af0cb3,
  0x3ffc40ab5fffd07a, 0x3c8ee3325c9ffd94,
  0x3ffc67f12e57d14b, 0x3c84e08fd10959ac,
  0x3ffc8f6d9406e7b5, 0x3c63cdaf384e1a67,
  0x3ffcb720dcef9069, 0x3c676b2c6c921968,
  0x3ffcdf0b555dc3fa, 0xbc808a1883ccb5d2,
  0x3ffd072d4a07897c, 0xbc8fad5d3ffffa6f,
  0x3ffd2f87080d89f2, 0xbc900dae3875a949,
  0x3ffd5818dcfba487, 0x3c74a385a63d07a7,
  0x3ffd80e316c98398, 0xbc82919e2040220f,
  0x3ffda9e603db3285, 0x3c8e5a50d5c192ac,
  0x3ffdd321f301b460, 0x3c843a59ac016b4b,
  0x3ffdfc97337b9b5f, 0xbc82d52107b43e1f,
  0x3ffe264614f5a129, 0xbc892ab93b470dc9,
  0x3ffe502ee78b3ff6, 0x3c74b604603a88d3,
  0x3ffe7a51fbc74c83, 0x3c83c5ec519d7271,
  0x3ffea4afa2a490da, 0xbc8ff7128fd391f0,
  0x3ffecf482d8e67f1, 0xbc8dae98e223747d,
  0x3ffefa1bee615a27, 0x3c8ec3bc41aa2008,
  0x3fff252b376bba97, 0x3c842b94c3a9eb32,
  0x3fff50765b6e4540, 0x3c8a64a931d185ee,
  0x3fff7bfdad9cbe14, 0xbc8e37bae43be3ed,
  0x3fffa7c1819e90d8, 0x3c77893b4d91cd9d,
  0x3fffd3c22b8f71f1, 0x3c5305c14160cc89,
], 16);
const N_LN2: f64 = 184.6649652337873; // 128/ln 2
const LN2N_HI: f64 = 0.005415212347998022; // ln2/128 with the low 18 mantissa bits cleared
const LN2N_LO: f64 = 1.2655086083325438e-13; // ln2/128 − LN2N_HI

/** eˣ on f64x2 lanes (within a few ulp of the correctly rounded result). */
// @ts-ignore: decorator
@inline export function exp64(x: v128): v128 {
  if (!i64x2.all_true(f64x2.le(f64x2.abs(x), f64x2.splat(708.0)))) return expWide64(x);
  const t = mad64(x, f64x2.splat(N_LN2), MAGIC);
  const kf = f64x2.sub(t, f64x2.splat(MAGIC));
  const r = nma64(kf, f64x2.splat(LN2N_LO), nma64(kf, f64x2.splat(LN2N_HI), x));
  const k = i64x2.sub(t, i64x2.splat(MAGIC_BITS));
  const j = v128.and(k, i64x2.splat(127));
  const e0 = v128.load(EXP_TABLE + ((<usize>(<u32>i64x2.extract_lane(j, 0))) << 4));
  const e1 = v128.load(EXP_TABLE + ((<usize>(<u32>i64x2.extract_lane(j, 1))) << 4));
  const tj = i64x2.shuffle(e0, e1, 0, 2);
  const tail = i64x2.shuffle(e0, e1, 1, 3);
  const sc = i64x2.add(tj, i64x2.shl(i64x2.shr_s(k, 7), 52));
  const r2 = f64x2.mul(r, r);
  const a = mad64(r, f64x2.splat(C3), C2);
  const b = mad64(r, f64x2.splat(C5), C4);
  return fma64(sc, fma64(r2, fma64(r2, b, a), f64x2.add(r, tail)), sc);
}

/** eˣ on f64x2 lanes over the whole range, without the table (see the file comment). */
function expWide64(x: v128): v128 {
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
