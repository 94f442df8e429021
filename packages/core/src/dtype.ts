import { ArgumentError, DTypeError, describeValue } from "./errors.js";
import { allocUnchecked } from "./memory.js";
import { MAX_TENSOR_SIZE } from "./shape.js";

/** The element types a tensor can hold. `float32` is the default, as in the seed. */
export type DType = "float32" | "float64";

/** The typed array behind a tensor of either dtype. */
export type FloatArray = Float32Array | Float64Array;

/** The default dtype for new tensors. */
export const DEFAULT_DTYPE: DType = "float32";

/**
 * Allocates a zero-filled typed array of `dtype` with `size` elements.
 * @throws ArgumentError naming `allocArray` when `size` is not an integer in
 *   `[0, MAX_TENSOR_SIZE]`; DTypeError when `dtype` is not `'float32'` or `'float64'`. Small arrays are views of
 * a shared slab: use `byteOffset`/`byteLength`, never assume `data.buffer` is the array's own, and
 * never transfer it (`postMessage(x, [data.buffer])` would detach every tensor on that slab):
 * transfer a copy, `data.slice().buffer`.
 * Large ones may be reused arrays that a backward pass proved dead (zero-filled again).
 */
export function allocArray(dtype: DType, size: number): FloatArray {
  if (typeof size !== "number" || !(size >= 0 && size <= MAX_TENSOR_SIZE) || !Number.isInteger(size)) {
    throw new ArgumentError(
      "allocArray",
      `allocArray: size must be an integer in [0, ${MAX_TENSOR_SIZE}], got ${describeValue(size)}`,
    );
  }
  return allocUnchecked(checkDType("allocArray", dtype), size);
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
