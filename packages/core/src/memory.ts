/**
 * Memory: where tensor arrays come from, and how a backward pass hands the large gradient
 * temporaries it proves dead back for reuse.
 *
 * - Small arrays (≤ 4 KiB) are views carved from shared 64 KiB slabs: a typed array over 64 bytes
 *   normally gets its own off-heap backing store, which costs about a microsecond to create (and
 *   more in GC), many times the arithmetic on it. A view into a slab costs ~0.1 µs. Regions are
 *   never reused, so they are zero, and a slab is freed by the GC once no view of it is alive.
 * - Large arrays (≥ 64 KiB) that a backward pass proves dead are kept in a small pool: a fresh
 *   large typed array costs a calloc, page faults on first touch and GC pressure (~0.1–0.5 ms for
 *   400 KB here), a reused one a `fill(0)`. At most 16 arrays and 64 MiB are kept.
 *
 * A pass proves an array dead with {@link GradientReuse}: it counts who holds each large array
 * allocated during the pass, and only arrays made and received by ops that declared
 * `ownsGradients` (their backward keeps no reference to the gradients it receives or returns)
 * are recycled. That promise is unchecked in normal runs; {@link setPoisonRecycled} fills every
 * recycled array with NaN, so that an op which breaks it reads NaN (the test suite runs with it on).
 */
import type { FloatArray, FloatDType } from "./dtype.js";
import type { OpCore } from "./node.js";
import type { Tensor } from "./tensor.js";

// ---------------------------------------------------------------------------------------------
// Allocation

const SLAB_BYTES = 64 * 1024;
const SMALL_BYTES = 4096;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabOffset = 0;

const POOL_MIN_BYTES = 64 * 1024;
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const POOL_MAX_COUNT = 16;
const pool: FloatArray[] = [];
let poolBytes = 0;
let recycled = 0;
let reused = 0;
let poison = false;

/** The running pass, which records the large arrays allocated since it began (null: none does). */
let tracker: GradientReuse | null = null;

/**
 * @internal `allocArray` for sizes and dtypes already checked (an op's `ctx.alloc`): a zero-filled
 * array, a slab view when small, possibly a pooled array when large.
 */
export function allocUnchecked(dtype: FloatDType, size: number): FloatArray {
  const bpe = dtype === "float64" ? 8 : 4;
  const bytes = size * bpe;
  if (bytes > SMALL_BYTES || bytes === 0) {
    if (bytes < POOL_MIN_BYTES) return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
    const f64 = dtype === "float64";
    const out = takePooled(f64, size) ?? (f64 ? new Float64Array(size) : new Float32Array(size));
    if (tracker !== null) tracker.track(out);
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

/**
 * @internal A zero-filled Float64Array of `size` elements for a kernel's scratch (a row's
 * log-sum-exp, counts): from the slab like an op's small outputs, since a plain
 * `new Float64Array(n)` of more than a few elements costs about a microsecond (an off-heap
 * buffer), more than the kernel that uses it at the sizes a small net trains on.
 */
export function scratchF64(size: number): Float64Array {
  return allocUnchecked("float64", size) as Float64Array;
}

/**
 * @internal `allocUnchecked` for an array the caller overwrites whole before reading it (a gemm
 * output): a pooled array is handed out as it is, without the zero fill.
 */
export function allocForWrite(dtype: FloatDType, size: number): FloatArray {
  const bytes = size * (dtype === "float64" ? 8 : 4);
  if (bytes < POOL_MIN_BYTES) return allocUnchecked(dtype, size);
  const f64 = dtype === "float64";
  const out = takePooled(f64, size, false) ?? (f64 ? new Float64Array(size) : new Float32Array(size));
  if (tracker !== null) tracker.track(out);
  return out;
}

/** A pooled array of this dtype and length, zero-filled unless `zero` is false, or null. */
function takePooled(f64: boolean, size: number, zero = true): FloatArray | null {
  for (let i = pool.length - 1; i >= 0; i--) {
    const a = pool[i]!;
    if (a.length === size && a instanceof Float64Array === f64) {
      pool.splice(i, 1);
      poolBytes -= a.byteLength;
      reused++;
      return zero ? a.fill(0) : a;
    }
  }
  return null;
}

/** @internal Whether `a` is large enough for the reuse pool. */
export function isPoolable(a: FloatArray): boolean {
  return a.byteLength >= POOL_MIN_BYTES;
}

/**
 * @internal Hands a large array that nothing references any more to the pool (dropping the oldest
 * pooled arrays beyond the caps); in poison mode it is first filled with NaN.
 */
export function recycleArray(a: FloatArray): void {
  if (a.byteLength < POOL_MIN_BYTES || a.byteLength > POOL_MAX_BYTES) return;
  if (poison) a.fill(Number.NaN);
  recycled++;
  pool.push(a);
  poolBytes += a.byteLength;
  while (pool.length > POOL_MAX_COUNT || poolBytes > POOL_MAX_BYTES) poolBytes -= pool.shift()!.byteLength;
}

/** @internal For tests and benchmarks: how many arrays went to the pool and came back out of it. */
export function poolStats(): { recycled: number; reused: number; pooled: number } {
  return { recycled, reused, pooled: pool.length };
}

/**
 * Debug mode for authors of ops that declare `ownsGradients`: every array a backward pass
 * recycles is filled with NaN before it goes back to the pool, so an op that kept a reference to
 * a gradient it received or returned (breaking the promise) reads NaN instead of silently reading
 * whatever reuses the memory. The test suite runs with it on. Off by default (it costs a fill
 * per recycled array). Returns the previous setting.
 */
export function setPoisonRecycled(on: boolean): boolean {
  const prev = poison;
  poison = on === true;
  return prev;
}

// ---------------------------------------------------------------------------------------------
// Reuse within a backward pass

/**
 * The memory bookkeeping of one first-order backward pass. `fresh` holds the large arrays
 * allocated during the pass whose every holder is known; `holders` counts the accumulator slots
 * holding each. An array goes back to the pool once the last op that received it has run, or once
 * it was copied into a leaf's `.grad`, when the op that made it and every op that received it
 * declared `ownsGradients`. Arrays an op without that promise made or received, and both addends
 * of an accumulated sum, are never reused.
 */
export class GradientReuse {
  // (both made at the pass's first large allocation: a pass over small tensors, the usual case
  // of a small net, makes neither)
  #fresh: Set<FloatArray> | null = null;
  #holders: Map<FloatArray, number> | null = null;
  readonly #outer: GradientReuse | null;

  /** Starts recording the pass's large allocations (until `end`). */
  constructor() {
    this.#outer = tracker;
    tracker = this;
  }

  /** Records a large array allocated during the pass. */
  track(a: FloatArray): void {
    if (this.#fresh === null) this.#fresh = new Set<FloatArray>();
    this.#fresh.add(a);
  }

  /** The holder counts, made at first use. */
  #holdersMap(): Map<FloatArray, number> {
    if (this.#holders === null) this.#holders = new Map<FloatArray, number>();
    return this.#holders;
  }

  /** Stops recording; restores the record of an enclosing pass (a backward run inside a backward). */
  end(): void {
    tracker = this.#outer;
  }

  /** An accumulator slot now holds `stored`: `g` itself, or the sum of `prev` and `g`. */
  deposited(producer: OpCore, prev: Tensor | null, g: Tensor, stored: Tensor): void {
    const fresh = this.#fresh;
    if (fresh === null || fresh.size === 0) return;
    if (prev !== null) {
      fresh.delete(prev.data);
      fresh.delete(g.data);
    } else if (producer.ownsGradients !== true) {
      fresh.delete(g.data);
      return;
    }
    const d = stored.data;
    if (fresh.has(d)) {
      const holders = this.#holdersMap();
      holders.set(d, (holders.get(d) ?? 0) + 1);
    }
  }

  /**
   * After `op`'s backward ran on `gin` and returned `gx`, all delivered: each large gradient it
   * received loses a holder, and one with none left goes back to the pool (unless `gx` holds a
   * view of it); then each array it returned that only leaves' `.grad` took (as copies) goes back too.
   */
  ran(op: OpCore, gin: Tensor | readonly Tensor[], gx: readonly (Tensor | null | undefined)[]): void {
    const fresh = this.#fresh;
    if (fresh === null || fresh.size === 0) return;
    const holders = this.#holdersMap();
    const owns = op.ownsGradients === true;
    const gys = Array.isArray(gin) ? (gin as readonly Tensor[]) : [gin as Tensor];
    for (let k = 0; k < gys.length; k++) {
      const d = gys[k]!.data;
      if (!fresh.has(d)) continue;
      if (!owns) {
        fresh.delete(d);
        continue;
      }
      const r = (holders.get(d) ?? 0) - 1;
      if (r > 0) {
        holders.set(d, r);
        continue;
      }
      holders.delete(d);
      fresh.delete(d);
      if (!returnsView(gx, d)) recycleArray(d);
    }
    for (let j = 0; j < gx.length; j++) {
      const d = gx[j]?.data;
      if (d === undefined || !fresh.has(d)) continue;
      if (!owns) fresh.delete(d);
      else if (!holders.has(d) && !receives(gys, d)) {
        fresh.delete(d);
        recycleArray(d);
      }
    }
  }
}

/**
 * Whether one of the gradients `gx` is a view of `d` (another array over its memory), whose
 * holders are not counted. `d` itself, when returned, is counted where it was deposited.
 */
function returnsView(gx: readonly (Tensor | null | undefined)[], d: FloatArray): boolean {
  for (let j = 0; j < gx.length; j++) {
    const g = gx[j]?.data;
    if (g !== undefined && g !== d && g.buffer === d.buffer) return true;
  }
  return false;
}

function receives(gys: readonly Tensor[], d: FloatArray): boolean {
  for (let k = 0; k < gys.length; k++) if (gys[k]!.data.buffer === d.buffer) return true;
  return false;
}
