import { ArgumentError, DTypeError, describeValue } from "./errors.js";
import { allocUnchecked } from "./memory.js";
import { MAX_TENSOR_SIZE } from "./shape.js";

/**
 * The element types a tensor can hold. `float32` is the default, as in the seed. Only the float
 * dtypes take part in differentiation: an `int32` or `bool` tensor never requires grad, and an op
 * records no gradient through one (PyTorch's rule).
 */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The float dtypes: those a tensor that requires grad, and every gradient, has. */
export type FloatDType = "float32" | "float64";

/** The dtypes of integers and truth values, which no gradient flows through. */
export type IntegralDType = "int32" | "bool";

/** The typed array behind each dtype: `bool` is a Uint8Array holding 0 or 1. */
export interface DTypeArrays {
  /** 32-bit floats. */
  float32: Float32Array;
  /** 64-bit floats. */
  float64: Float64Array;
  /** 32-bit signed integers. */
  int32: Int32Array;
  /** Truth values, one byte each, 0 or 1. */
  bool: Uint8Array;
}

/** The typed array behind a tensor of dtype `D`. */
export type ArrayOf<D extends DType> = DTypeArrays[D];

/** The typed array behind a float tensor. */
export type FloatArray = Float32Array | Float64Array;

/** The typed array behind a tensor of any dtype. */
export type TensorData = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The default dtype for new tensors. */
export const DEFAULT_DTYPE: FloatDType = "float32";

/** The dtypes, in the order of PyTorch's categories (bool < integer < float). */
export const DTYPES: readonly DType[] = ["bool", "int32", "float32", "float64"];

/**
 * Allocates a zero-filled typed array of `dtype` with `size` elements.
 * @throws ArgumentError naming `allocArray` when `size` is not an integer in
 *   `[0, MAX_TENSOR_SIZE]`; DTypeError when `dtype` is not one of `DTYPES`. Small float arrays are
 * views of a shared slab: use `byteOffset`/`byteLength`, never assume `data.buffer` is the array's
 * own, and never transfer it (`postMessage(x, [data.buffer])` would detach every tensor on that
 * slab): transfer a copy, `data.slice().buffer`.
 * Large ones may be reused arrays that a backward pass proved dead (zero-filled again).
 */
export function allocArray<D extends DType>(dtype: D, size: number): ArrayOf<D>;
export function allocArray(dtype: DType, size: number): TensorData {
  if (typeof size !== "number" || !(size >= 0 && size <= MAX_TENSOR_SIZE) || !Number.isInteger(size)) {
    throw new ArgumentError(
      "allocArray",
      `allocArray: size must be an integer in [0, ${MAX_TENSOR_SIZE}], got ${describeValue(size)}`,
    );
  }
  return allocAny(checkAnyDType("allocArray", dtype), size);
}

/** @internal `allocArray` without its checks: floats from the slab and pool, the others new. */
export function allocAny(dtype: DType, size: number): TensorData {
  if (dtype === "int32") return new Int32Array(size);
  if (dtype === "bool") return new Uint8Array(size);
  return allocUnchecked(dtype, size);
}

/** The dtype of a tensor's typed array (Float64Array → float64, Int32Array → int32, Uint8Array → bool). */
export function dtypeOfArray(data: TensorData): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
}

/** Whether `dtype` is float32 or float64. */
export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

/**
 * PyTorch's promotion of two dtypes (`torch.promote_types`): the higher category wins (bool <
 * int32 < float), and float64 over float32. `int32` with `float32` is `float32`, as in PyTorch.
 * @throws DTypeError naming `promoteTypes` for anything but a dtype.
 */
export function promoteTypes<A extends DType, B extends DType>(a: A, b: B): Promoted<A, B>;
export function promoteTypes(a: DType, b: DType): DType {
  const ia = promotionRank(checkAnyDType("promoteTypes", a));
  const ib = promotionRank(checkAnyDType("promoteTypes", b));
  return DTYPES[Math.max(ia, ib)]!;
}

/** @internal A dtype's position in `DTYPES`, PyTorch's promotion order (bool 0 < int32 1 < float32 2 < float64 3). */
export function promotionRank(dtype: DType): number {
  return dtype === "bool" ? 0 : dtype === "int32" ? 1 : dtype === "float32" ? 2 : 3;
}

/** The dtype `promoteTypes` gives for two dtypes, at the type level. */
export type Promoted<A extends DType, B extends DType> = "float64" extends A | B
  ? "float64"
  : "float32" extends A | B
    ? "float32"
    : "int32" extends A | B
      ? "int32"
      : "bool";

/**
 * Checks a user-supplied float dtype.
 * @throws DTypeError naming `fn` when `dtype` is not `'float32'` or `'float64'`.
 */
export function checkDType(fn: string, dtype: unknown): FloatDType {
  if (dtype === "float32" || dtype === "float64") return dtype;
  throw new DTypeError(fn, `${fn}: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
}

/**
 * Checks a user-supplied dtype of any kind.
 * @throws DTypeError naming `fn` when `dtype` is not `'float32'`, `'float64'`, `'int32'` or `'bool'`.
 */
export function checkAnyDType(fn: string, dtype: unknown): DType {
  if (dtype === "float32" || dtype === "float64" || dtype === "int32" || dtype === "bool") return dtype;
  throw new DTypeError(fn, `${fn}: dtype must be 'float32', 'float64', 'int32' or 'bool', got ${describeValue(dtype)}`);
}

/**
 * Copies numbers into a typed array of `dtype` as PyTorch converts them: to `int32` by truncation
 * toward zero (wrapping modulo 2^32 outside its range, NaN to 0, as JavaScript's `ToInt32`), to
 * `bool` as `x != 0` (NaN is true), to a float by rounding.
 */
export function convertInto(dtype: DType, src: ArrayLike<number>, out: TensorData): void {
  const n = src.length;
  if (dtype === "bool") {
    for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
  } else if (ArrayBuffer.isView(src)) {
    // (set converts each element as an assignment does: ToInt32 for an Int32Array)
    out.set(src as TensorData);
  } else {
    for (let i = 0; i < n; i++) out[i] = src[i]!;
  }
}

/** One number as `dtype` stores it (see `convertInto`). */
export function convertValue(dtype: DType, x: number): number {
  if (dtype === "bool") return x !== 0 ? 1 : 0;
  if (dtype === "int32") return x | 0;
  if (dtype === "float32") return Math.fround(x);
  return x;
}
