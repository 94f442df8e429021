import { ArgumentError, DTypeError, describeValue } from "./errors.js";
import { MAX_TENSOR_SIZE } from "./shape.js";

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
 * Large arrays (≥ 64 KiB) that a backward pass proves dead (see graph.ts, `backwardPass`) are kept
 * for reuse: a fresh large typed array costs a calloc, page faults on first touch and GC pressure
 * (~0.1–0.5 ms for 400 KB here), a reused one a `fill(0)`. At most 16 arrays and 64 MiB are kept.
 */
const POOL_MIN_BYTES = 64 * 1024;
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const POOL_MAX_COUNT = 16;
const pool: FloatArray[] = [];
let poolBytes = 0;
/** Whether a backward pass records the large arrays allocated (see `beginTracking`). */
let trackOn = false;
/** The large arrays allocated since tracking began, created at the first one (null: none yet). */
let tracked: Set<FloatArray> | null = null;

/** @internal What `beginTracking` replaced, for `endTracking`. */
export interface TrackingState {
  readonly on: boolean;
  readonly set: Set<FloatArray> | null;
}

/**
 * @internal Starts (`on`) or suspends recording the large arrays `allocArray` returns, with an
 * empty record; returns the previous state so that nested backward passes can restore it.
 */
export function beginTracking(on: boolean): TrackingState {
  const prev = { on: trackOn, set: tracked };
  trackOn = on;
  tracked = null;
  return prev;
}

/** @internal Restores the state `beginTracking` returned. */
export function endTracking(prev: TrackingState): void {
  trackOn = prev.on;
  tracked = prev.set;
}

/** @internal The large arrays allocated since `beginTracking(true)`, or null when there are none. */
export function trackedArrays(): Set<FloatArray> | null {
  return tracked;
}

/** @internal Whether `a` is large enough for the reuse pool. */
export function isPoolable(a: FloatArray): boolean {
  return a.byteLength >= POOL_MIN_BYTES;
}

/**
 * @internal Hands a large array that nothing references any more to the reuse pool (dropping the
 * oldest pooled arrays beyond the caps). The caller guarantees that no tensor or other code still
 * uses it.
 */
export function recycleArray(a: FloatArray): void {
  if (a.byteLength < POOL_MIN_BYTES || a.byteLength > POOL_MAX_BYTES) return;
  recycled++;
  pool.push(a);
  poolBytes += a.byteLength;
  while (pool.length > POOL_MAX_COUNT || poolBytes > POOL_MAX_BYTES) poolBytes -= pool.shift()!.byteLength;
}

let recycled = 0;
let reused = 0;

/** @internal For tests and benchmarks: how many arrays went to the pool and came back out of it. */
export function poolStats(): { recycled: number; reused: number; pooled: number } {
  return { recycled, reused, pooled: pool.length };
}

/** A pooled array of this dtype and length, zero-filled, or null. */
function takePooled(f64: boolean, size: number): FloatArray | null {
  for (let i = pool.length - 1; i >= 0; i--) {
    const a = pool[i]!;
    if (a.length === size && a instanceof Float64Array === f64) {
      pool.splice(i, 1);
      poolBytes -= a.byteLength;
      reused++;
      return a.fill(0);
    }
  }
  return null;
}

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

/**
 * @internal `allocArray` for sizes and dtypes already checked (an op's `ctx.alloc`): no checks.
 */
export function allocUnchecked(dtype: DType, size: number): FloatArray {
  const bpe = dtype === "float64" ? 8 : 4;
  const bytes = size * bpe;
  if (bytes > SMALL_BYTES || bytes === 0) {
    if (bytes < POOL_MIN_BYTES) return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
    const f64 = dtype === "float64";
    const out = takePooled(f64, size) ?? (f64 ? new Float64Array(size) : new Float32Array(size));
    if (trackOn) {
      if (tracked === null) tracked = new Set();
      tracked.add(out);
    }
    return out;
  }
  // (a slab whose buffer a user transferred away, through some tensor's `data.buffer`, reads
  // byteLength 0: start a new one)
  if (slabOffset + bytes > SLAB_BYTES || slab.byteLength === 0) {
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
