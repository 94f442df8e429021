/**
 * IEEE 754 binary16 ("half", safetensors `F16`) and bfloat16 (safetensors `BF16`) conversion.
 *
 * Written here rather than taken from npm: the conversion is ~40 lines, `Float16Array` is not in
 * Node 20, and the packages that polyfill it are larger than the code they would replace. The
 * rounding is done from the float64 value directly (never via float32), so there is no double
 * rounding: every result is the correctly rounded (round-to-nearest-even) half.
 */

import { ArgumentError, describeValue } from "@gradgraph/core";

const TWO_POW_24 = 2 ** 24;
const TWO_POW_MINUS_14 = 2 ** -14;
const TWO_POW_MINUS_24 = 2 ** -24;
/** The smallest magnitude that rounds to Infinity: halfway between 65504 (largest half) and 2^16. */
const HALF_OVERFLOW = 65520;

const scratchF64 = new Float64Array(1);
const scratchU32 = new Uint32Array(scratchF64.buffer);
/** The index of the 32-bit word holding a float64's sign and exponent on this platform. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Rounds a non-negative number to an integer, ties to even. Exact for values below 2^52. */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const r = q - f; // exact: f and q share the exponent range of q
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The binary16 bit pattern (0..0xFFFF) of `x`, correctly rounded to nearest, ties to even.
 * Magnitudes of 65520 and above become ±Infinity (0x7C00/0xFC00), magnitudes that round below
 * 2^-24's half become ±0, values below 2^-14 become subnormals, the sign of -0 is kept, and every
 * NaN becomes the canonical quiet NaN 0x7E00 (payloads are not kept).
 * @throws ArgumentError naming `toFloat16Bits` when `x` is not a number.
 */
export function toFloat16Bits(x: number): number {
  if (typeof x !== "number") {
    throw new ArgumentError("toFloat16Bits", `toFloat16Bits: x must be a number, got ${describeValue(x)}`);
  }
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= HALF_OVERFLOW) return sign | 0x7c00; // includes Infinity
  if (a < TWO_POW_MINUS_14) {
    // subnormal (or zero): the value in units of 2^-24; a result of 1024 is the bit pattern of
    // the smallest normal, 2^-14, so rounding up across the boundary needs no special case
    return sign | roundHalfEven(a * TWO_POW_24);
  }
  // normal: e with 2^e <= a < 2^(e+1), e in [-14, 15], read exactly from the float64 exponent bits
  scratchF64[0] = a;
  const e = ((scratchU32[HIGH_WORD]! >>> 20) & 0x7ff) - 1023;
  // 11-bit significand 1024..2048; a carry to 2048 bumps the exponent field by one, which is right
  const m = roundHalfEven(a * 2 ** (10 - e));
  return sign | (((e + 15) << 10) + (m - 1024));
}

/**
 * The number whose binary16 bit pattern is `bits` (only the low 16 bits are used). Exact.
 * @throws ArgumentError naming `fromFloat16Bits` when `bits` is not an integer.
 */
export function fromFloat16Bits(bits: number): number {
  if (typeof bits !== "number" || !Number.isInteger(bits)) {
    throw new ArgumentError("fromFloat16Bits", `fromFloat16Bits: bits must be an integer, got ${describeValue(bits)}`);
  }
  const h = bits & 0xffff;
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * TWO_POW_MINUS_24; // zero (signed) or subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

let decodeTable: Float32Array | null = null;

/** A lazily built table of all 65536 halves as float32 (256 KiB), for fast bulk decoding. @internal */
export function float16Table(): Float32Array {
  if (decodeTable === null) {
    const t = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = fromFloat16Bits(i);
    decodeTable = t;
  }
  return decodeTable;
}

// ---------------------------------------------------------------------------------------------
// bfloat16 (safetensors `BF16`): the high 16 bits of a float32, 8 exponent bits and 7 fraction bits

const bfScratchF32 = new Float32Array(1);
const bfScratchU32 = new Uint32Array(bfScratchF32.buffer);

/**
 * The bfloat16 bit pattern (0..0xFFFF) of `x`, correctly rounded to nearest, ties to even (the
 * format of Google's TPUs and of most Hugging Face checkpoints). Rounded from the float64 value
 * directly: the float32 step in between cannot round twice, because a float32 that lands on a
 * bfloat16 halfway point is resolved by `x` itself. Magnitudes from 2^128·(1 − 2^−9) up become
 * ±Infinity, the sign of −0 is kept, subnormals round like normals, and every NaN becomes the
 * canonical quiet NaN 0x7FC0.
 * @throws ArgumentError naming `toBfloat16Bits` when `x` is not a number.
 */
export function toBfloat16Bits(x: number): number {
  if (typeof x !== "number") {
    throw new ArgumentError("toBfloat16Bits", `toBfloat16Bits: x must be a number, got ${describeValue(x)}`);
  }
  if (Number.isNaN(x)) return 0x7fc0;
  bfScratchF32[0] = x;
  const f = bfScratchF32[0]!;
  const bits = bfScratchU32[0]!;
  const hi = bits >>> 16;
  const lo = bits & 0xffff;
  // a float32 on a halfway point that is not x itself: x lies on one side of it
  if (lo === 0x8000 && f !== x) return Math.abs(x) > Math.abs(f) ? hi + 1 : hi;
  if (lo > 0x8000 || (lo === 0x8000 && (hi & 1) === 1)) return hi + 1; // carries into the exponent (to ∞) correctly
  return hi;
}

/**
 * The number whose bfloat16 bit pattern is `bits` (only the low 16 bits are used). Exact: it is
 * the float32 with those bits on top.
 * @throws ArgumentError naming `fromBfloat16Bits` when `bits` is not an integer.
 */
export function fromBfloat16Bits(bits: number): number {
  if (typeof bits !== "number" || !Number.isInteger(bits)) {
    throw new ArgumentError(
      "fromBfloat16Bits",
      `fromBfloat16Bits: bits must be an integer, got ${describeValue(bits)}`,
    );
  }
  bfScratchU32[0] = (bits & 0xffff) << 16;
  return bfScratchF32[0]!;
}
