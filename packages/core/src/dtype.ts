import { DTypeError, describeValue } from "./errors.js";

/** The element types a tensor can hold. `float32` is the default, as in the seed. */
export type DType = "float32" | "float64";

/** The typed array behind a tensor of either dtype. */
export type FloatArray = Float32Array | Float64Array;

/** The default dtype for new tensors. */
export const DEFAULT_DTYPE: DType = "float32";

/**
 * Small arrays are carved from shared slabs: a typed array over 64 bytes normally gets its own
 * off-heap backing store, which costs about a microsecond to create (and more in GC), many times
 * the arithmetic on it. A view into a slab costs ~0.1 µs. Regions are never reused, so they are
 * zero, and a slab is freed by the GC once no view of it is alive. Large arrays are allocated
 * on their own, so a long-lived small tensor pins at most one 64 KiB slab.
 */
const SLAB_BYTES = 64 * 1024;
const SMALL_BYTES = 4096;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabOffset = 0;

/**
 * Allocates a zero-filled typed array of `dtype` with `size` elements. Small arrays are views of
 * a shared slab: use `byteOffset`/`byteLength`, never assume `data.buffer` is the array's own.
 */
export function allocArray(dtype: DType, size: number): FloatArray {
  const bpe = dtype === "float64" ? 8 : 4;
  const bytes = size * bpe;
  if (bytes > SMALL_BYTES || bytes === 0) return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
  if (slabOffset + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabOffset = 0;
  }
  const out = dtype === "float64" ? new Float64Array(slab, slabOffset, size) : new Float32Array(slab, slabOffset, size);
  slabOffset += (bytes + 7) & ~7;
  return out;
}

/** The dtype of a typed array (`Float64Array` → `float64`, otherwise `float32`). */
export function dtypeOfArray(data: FloatArray): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

/** numpy-style promotion of two float dtypes: float64 wins. */
export function promoteTypes(a: DType, b: DType): DType {
  return a === "float64" || b === "float64" ? "float64" : "float32";
}

/**
 * Checks a user-supplied dtype.
 * @throws DTypeError naming `fn` when `dtype` is not `'float32'` or `'float64'`.
 */
export function checkDType(fn: string, dtype: unknown): DType {
  if (dtype === "float32" || dtype === "float64") return dtype;
  throw new DTypeError(fn, `${fn}: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
}
