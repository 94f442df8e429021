/**
 * Tensor storage in WebAssembly memory (`storage: "wasm"`): the data of such a tensor is a typed
 * array over one shared `WebAssembly.Memory` (the heap) instead of a JS `ArrayBuffer`, so the
 * kernels use it in place instead of copying it into their arena and back.
 *
 * Why shared memory: growing a plain `WebAssembly.Memory` detaches its `ArrayBuffer`, and every
 * view of it would turn into an empty array. A shared memory's `SharedArrayBuffer` is never
 * detached: after a growth `memory.buffer` is a new, longer `SharedArrayBuffer` over the same
 * bytes and the old views stay valid. The kernels over the heap are the threaded builds
 * (`kernels-threads-*`, compiled for an imported shared memory), one instance per build, on
 * this thread. In a browser, shared memory exists only on a cross-origin-isolated page.
 *
 * Before compile: the heap does not need its kernels to exist. Its memory is created, and the
 * region the kernels' static data and gemm workspace take is reserved, from the layout that
 * scripts/build-wasm.mjs read from every build (wasm-binaries.ts), so blocks can be handed out at
 * once. The kernel instance is attached when its module is available: at once in Node (synchronous
 * compilation), after `WebAssembly.compile` and `WebAssembly.instantiate` elsewhere. Until then
 * gemm, axpy and fill on resident arrays take the copy path or the TypeScript loops.
 *
 * Lifetime: a block is freed when the typed array it was handed out as is garbage-collected (a
 * `FinalizationRegistry`). Views made with `subarray` keep that array alive (the arrays handed out
 * are a subclass whose `subarray` records its parent); views made by hand from `.buffer` do not.
 * Memory layout: the kernels' static data and gemm workspace, then blocks, each 64-byte aligned,
 * first fit from a sorted free list that merges neighbours. The heap grows page by page up to
 * 2 GiB (the threaded builds' declared maximum).
 *
 * Internal: the public surface is the `storage` option of the tensor factories,
 * `Tensor.storage` and `storageInfo`.
 */
import type { FloatArray, FloatDType } from "../../dtype.js";
import { buildLayout, compileAsync, isNode, moduleNow, type WasmBuildName } from "./loader.js";
import { align64, copyIn, copyOut, overlaps, WA, type WasmGemm, type WasmMemory } from "./wasm-memory.js";

/** Where a tensor's data lives: a JS `ArrayBuffer` (`"js"`, the default) or WebAssembly memory. */
export type Storage = "js" | "wasm";

/** The heap's maximum size in 64 KiB pages (2 GiB, as the threaded builds declare). */
const MAX_PAGES = 32768;
const PAGE = 65536;

/** The axpy signature: (n, alpha, x, y), `y += alpha·x`. */
type Axpy = (n: number, alpha: number, x: number, y: number) => void;
/** The fill signature: (n, value, y), `y[i] = value`. */
type Fill = (n: number, value: number, y: number) => void;

/** One kernel build instantiated over the heap. */
export interface HeapKernels {
  f32: WasmGemm;
  f64: WasmGemm;
  axpyF32: Axpy;
  axpyF64: Axpy;
  fillF32: Fill;
  fillF64: Fill;
  /** The gemm workspace (inside the reserved region). */
  work: number;
}

interface Heap {
  memory: WasmMemory;
  /**
   * The memory's current `SharedArrayBuffer`, held strongly and recorded in `buffers`: every view
   * is made on it. (V8 may hand out a new wrapper object from `memory.buffer` once the last one
   * was collected, which `buffers` would not know.)
   */
  buffer: ArrayBufferLike;
  /** First byte blocks may use: past every threaded build's static data and workspace. */
  start: number;
  /** The kernel builds instantiated over the memory (null: tried, unusable; absent: not yet). */
  module: Partial<Record<HeapBackend, HeapKernels | null>>;
  /** Asynchronous attachments in flight (outside Node), by build. */
  attaching: Partial<Record<HeapBackend, Promise<void>>>;
  /** Free segments, sorted by offset, never adjacent (merged). */
  free: { off: number; size: number }[];
  /** Allocated blocks: offset → size. */
  used: Map<number, number>;
  bytesInUse: number;
}

/** The WASM builds that have a threaded twin usable over the heap. */
export type HeapBackend = "wasm-relaxed-simd" | "wasm-simd";

const BUILD: Record<HeapBackend, WasmBuildName> = {
  "wasm-relaxed-simd": "kernels-threads-relaxed",
  "wasm-simd": "kernels-threads-simd",
};

/** The best build first: the heap attaches the first that works when it is created. */
const PREFERENCE: readonly HeapBackend[] = ["wasm-relaxed-simd", "wasm-simd"];

/** The end of a build's reserved region: static data, then gemm's workspace (64-byte aligned). */
function reservedEnd(backend: HeapBackend): number {
  const { heapBase, workspaceBytes } = buildLayout(BUILD[backend]);
  return align64(align64(heapBase) + workspaceBytes);
}

let heap: Heap | null = null;
/** Why the heap could not be created ("" when it was, or was never tried). */
let heapFailure = "";
/** Every `SharedArrayBuffer` the heap's memory has had (one per size): a view over one is resident. */
const buffers = new WeakSet<object>();
/** True once a block was handed out: until then the kernels skip every residency check. */
let inUse = false;
/** Each subarray of a resident array → the array it was cut from (keeps the block's owner alive). */
const parents = new WeakMap<object, object>();

const registry = new FinalizationRegistry<number>((off) => {
  if (heap !== null) release(heap, off);
});

/** `subarray`'s bounds: [start, end) of `length` from relative indices (negative from the end). */
function bounds(length: number, begin: number | undefined, end: number | undefined): [number, number] {
  const rel = (v: number | undefined, dflt: number): number => {
    const x = v === undefined ? dflt : Math.trunc(Number(v)) || 0;
    return x < 0 ? Math.max(length + x, 0) : Math.min(x, length);
  };
  const b = rel(begin, 0);
  return [b, Math.max(rel(end, length), b)];
}

/**
 * Float32Array over the heap. Its `subarray` results are of this class too and keep their parent
 * (and so the block) alive; `slice`, `map` and `filter` give plain Float32Arrays in JS memory.
 */
class HeapFloat32Array extends Float32Array<ArrayBufferLike> {
  static get [Symbol.species](): Float32ArrayConstructor {
    return Float32Array;
  }
  override subarray(begin?: number, end?: number): Float32Array {
    const [b, e] = bounds(this.length, begin, end);
    const s = new HeapFloat32Array(this.buffer, this.byteOffset + b * 4, e - b);
    parents.set(s, this);
    return s;
  }
}

/** Float64Array over the heap, as {@link HeapFloat32Array}. */
class HeapFloat64Array extends Float64Array<ArrayBufferLike> {
  static get [Symbol.species](): Float64ArrayConstructor {
    return Float64Array;
  }
  override subarray(begin?: number, end?: number): Float64Array {
    const [b, e] = bounds(this.length, begin, end);
    const s = new HeapFloat64Array(this.buffer, this.byteOffset + b * 8, e - b);
    parents.set(s, this);
    return s;
  }
}

/** Narrows an export to a function of the expected signature (checked by calling conventions, not at runtime). */
function isFn<F>(v: unknown): v is F {
  return typeof v === "function";
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The heap kernels from an instance's exports, or null when they lack one or their region would
 * pass `start` (the build-time layout and the module disagree).
 */
function kernelsOf(ex: Record<string, unknown>, start: number): HeapKernels | null {
  const { heapBase, workspaceBytes, gemm_f32, gemm_f64, axpy_f32, axpy_f64, fill_f32, fill_f64 } = ex;
  if (
    !isFn<() => number>(heapBase) ||
    !isFn<() => number>(workspaceBytes) ||
    !isFn<WasmGemm>(gemm_f32) ||
    !isFn<WasmGemm>(gemm_f64) ||
    !isFn<Axpy>(axpy_f32) ||
    !isFn<Axpy>(axpy_f64) ||
    !isFn<Fill>(fill_f32) ||
    !isFn<Fill>(fill_f64)
  ) {
    return null;
  }
  const work = align64(Number(heapBase()));
  if (align64(work + Number(workspaceBytes())) > start) return null;
  return {
    f32: gemm_f32,
    f64: gemm_f64,
    axpyF32: axpy_f32,
    axpyF64: axpy_f64,
    fillF32: fill_f32,
    fillF64: fill_f64,
    work,
  };
}

/**
 * Attaches `backend`'s kernels to the heap if its module can be had now (Node: compiled here;
 * elsewhere: compiled earlier), else starts attaching them in the background. Records null when
 * the build is unusable. Instantiating writes the build's static data below `start` (every
 * threaded build has the same, which scripts/build-wasm.mjs checks), never into a block.
 */
function attach(h: Heap, backend: HeapBackend): void {
  if (h.module[backend] !== undefined || h.attaching[backend] !== undefined) return;
  if (!isNode()) {
    const done = compileAsync(BUILD[backend])
      .then(async (m) => {
        if (typeof m === "string") return null;
        return kernelsOf((await WA.instantiate(m, { env: { memory: h.memory } })).exports, h.start);
      })
      .catch(() => null)
      .then((k) => {
        h.module[backend] = k;
        delete h.attaching[backend];
      });
    h.attaching[backend] = done;
    return;
  }
  const m = moduleNow(BUILD[backend]);
  let k: HeapKernels | null = null;
  if (m !== undefined && typeof m !== "string") {
    try {
      k = kernelsOf(new WA.Instance(m, { env: { memory: h.memory } }).exports, h.start);
    } catch {
      k = null;
    }
  }
  h.module[backend] = k;
}

/** Attaches the best threaded build that works (in the background outside Node). */
function attachBest(h: Heap): void {
  if (isNode()) {
    for (const backend of PREFERENCE) {
      attach(h, backend);
      if (h.module[backend]) return;
    }
    return;
  }
  const chain = (async () => {
    for (const backend of PREFERENCE) {
      attach(h, backend);
      await h.attaching[backend];
      if (h.module[backend]) return;
    }
  })();
  pendingBest = chain.then(() => {
    pendingBest = null;
  });
}

/** The heap's first attachment in flight (outside Node), for {@link heapPending}. */
let pendingBest: Promise<void> | null = null;

/** The heap, created at first use; null (reason in `heapFailure`) where shared memory is unavailable. */
function getHeap(): Heap | null {
  if (heap !== null || heapFailure !== "") return heap;
  let memory: WasmMemory;
  try {
    memory = new WA.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  } catch (e) {
    const isolated = (globalThis as { crossOriginIsolated?: unknown }).crossOriginIsolated;
    heapFailure =
      `shared WebAssembly memory unavailable (${message(e)})` +
      (isolated === false ? "; the page is not cross-origin isolated (serve it with COOP/COEP headers)" : "");
    return null;
  }
  // The region below `start` is reserved for the kernels' static data and gemm workspace, from the
  // build-time layout of every threaded build, so that any of them can be attached later.
  const start = Math.max(...PREFERENCE.map(reservedEnd));
  const buffer = memory.buffer;
  buffers.add(buffer);
  heap = { memory, buffer, start, module: {}, attaching: {}, free: [], used: new Map(), bytesInUse: 0 };
  attachBest(heap);
  return heap;
}

/**
 * The kernels of `backend` over the heap, or null (no heap, no such build, or not attached yet:
 * outside Node this starts attaching them, and the next calls use them once they are).
 */
export function heapKernels(backend: HeapBackend): HeapKernels | null {
  const h = heap;
  if (h === null) return null;
  const have = h.module[backend];
  if (have !== undefined) return have;
  attach(h, backend);
  return h.module[backend] ?? null;
}

/**
 * Internal: a promise that settles when the kernel attachments in flight are done (outside Node),
 * or null when none is (always in Node).
 */
export function heapPending(): Promise<void> | null {
  const h = heap;
  if (h === null) return null;
  const all = [pendingBest, ...Object.values(h.attaching)].filter((p): p is Promise<void> => p != null);
  return all.length === 0 ? null : Promise.all(all).then(() => undefined);
}

/** Allocates `bytes` (rounded up to 64) in the heap; returns the offset, or -1 when it is full. */
function reserve(h: Heap, bytes: number): number {
  const size = Math.max(64, align64(bytes));
  const free = h.free;
  for (let i = 0; i < free.length; i++) {
    const f = free[i]!;
    if (f.size < size) continue;
    const off = f.off;
    if (f.size === size) free.splice(i, 1);
    else {
      f.off += size;
      f.size -= size;
    }
    h.used.set(off, size);
    h.bytesInUse += size;
    return off;
  }
  // grow: extend a free segment that ends at the memory's end, or append past it
  const have = h.buffer.byteLength;
  const last = free.at(-1);
  const tailFree = last !== undefined && last.off + last.size === have ? last : null;
  const off = tailFree !== null ? tailFree.off : Math.max(have, h.start);
  const end = off + size;
  if (end > MAX_PAGES * PAGE) return -1;
  try {
    h.memory.grow(Math.ceil((end - have) / PAGE));
  } catch {
    return -1;
  }
  if (tailFree !== null) free.pop();
  // a growth makes a new SharedArrayBuffer (the old ones stay valid): views of it are resident too
  h.buffer = h.memory.buffer;
  buffers.add(h.buffer);
  // (bytes below h.start are the kernels' static data and workspace: never free)
  const grown = h.buffer.byteLength;
  if (grown > end) addFree(h, end, grown - end);
  h.used.set(off, size);
  h.bytesInUse += size;
  return off;
}

/** Returns the block at `off` to the free list (a no-op for an offset not allocated). */
function release(h: Heap, off: number): void {
  const size = h.used.get(off);
  if (size === undefined) return;
  h.used.delete(off);
  h.bytesInUse -= size;
  addFree(h, off, size);
}

/** Inserts a free segment, merging it with free neighbours. */
function addFree(h: Heap, off: number, size: number): void {
  const free = h.free;
  let lo = 0;
  let hi = free.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (free[mid]!.off < off) lo = mid + 1;
    else hi = mid;
  }
  const prev = lo > 0 ? free[lo - 1]! : null;
  const next = lo < free.length ? free[lo]! : null;
  if (prev !== null && prev.off + prev.size === off) {
    prev.size += size;
    if (next !== null && prev.off + prev.size === next.off) {
      prev.size += next.size;
      free.splice(lo, 1);
    }
  } else if (next !== null && off + size === next.off) {
    next.off = off;
    next.size += size;
  } else free.splice(lo, 0, { off, size });
}

/**
 * A zero-filled array of `dtype` and `n` elements in the heap (a view that stays valid when the
 * heap grows), or null when the heap is unavailable or full.
 */
export function heapArray(dtype: FloatDType, n: number): FloatArray | null {
  const h = getHeap();
  if (h === null) return null;
  const S = dtype === "float64" ? 8 : 4;
  const off = reserve(h, n * S);
  if (off < 0) return null;
  const buf = h.buffer;
  const out = dtype === "float64" ? new HeapFloat64Array(buf, off, n) : new HeapFloat32Array(buf, off, n);
  inUse = true;
  if (!heapFill(out, 0)) out.fill(0);
  registry.register(out, off);
  return out;
}

/**
 * Below this many elements `TypedArray.prototype.fill` is as fast on shared memory as the heap's
 * kernel, and asking whether an array is resident (reading its `buffer`) costs more than the fill:
 * float64, resident, fill against kernel: 24 against 52 ns for 3 elements, 51 against 64 for 30,
 * 77 against 67 for 64, 125 against 76 for 128; a JS array's check and fill took ~62 ns where
 * the fill alone takes ~15 (the small gradients `Sequential.backward` zeroes every step).
 */
export const HEAP_FILL_MIN = 64;

/**
 * Sets every element of a resident array to `value` with the heap's fill kernel and returns true;
 * returns false, having done nothing, when `a` is not resident, has fewer than
 * {@link HEAP_FILL_MIN} elements, or no kernel build is loaded.
 * (`TypedArray.prototype.fill` on shared memory runs element by element, ~8× slower: 224 against
 * 29 µs for 784,000 float32 on these machines.)
 */
export function heapFill(a: FloatArray, value: number): boolean {
  const h = heap;
  if (h === null || a.length < HEAP_FILL_MIN || !inHeap(a)) return false;
  const k = h.module["wasm-relaxed-simd"] ?? h.module["wasm-simd"] ?? null;
  if (k === null) return false;
  (a instanceof Float64Array ? k.fillF64 : k.fillF32)(a.length, value, a.byteOffset);
  return true;
}

/** Why `storage: "wasm"` is unavailable ("" when it is, or was never tried). */
export function heapUnavailable(): string {
  getHeap();
  return heapFailure;
}

/** True when `a` is a view of the heap (a resident array or any view cut from one). */
export function inHeap(a: ArrayBufferView): boolean {
  return inUse && buffers.has(a.buffer);
}

/** True once any resident array was made (until then no kernel checks residency). */
export function heapInUse(): boolean {
  return inUse;
}

/** The heap's memory (for the kernels' views), or null before the first resident array. */
export function heapBuffer(): ArrayBufferLike | null {
  return heap === null ? null : heap.buffer;
}

/** Scratch space for one kernel call: offset of `bytes` bytes, or -1 (heap full). Free with {@link heapFree}. */
export function heapScratch(bytes: number): number {
  const h = heap;
  return h === null ? -1 : reserve(h, bytes);
}

/** Frees scratch space from {@link heapScratch}. */
export function heapFree(off: number): void {
  if (heap !== null) release(heap, off);
}

/** Internal, for tests: the heap's bytes in use, blocks, free segments and size (see `storageInfo`). */
export function heapStats(): { bytesInUse: number; blocks: number; freeSegments: number; memoryBytes: number } {
  const h = heap;
  if (h === null) return { bytesInUse: 0, blocks: 0, freeSegments: 0, memoryBytes: 0 };
  return {
    bytesInUse: h.bytesInUse,
    blocks: h.used.size,
    freeSegments: h.free.length,
    memoryBytes: h.buffer.byteLength,
  };
}

/**
 * `C = op(A)·op(B)` with the heap's kernels, using every operand that lives in the heap in place and
 * copying the others through scratch space (A, B and C as in `gemm`; one dtype). Returns false,
 * having done nothing, when the heap's kernels for `backend` or scratch space are unavailable.
 */
export function heapGemm(
  backend: HeapBackend,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): boolean {
  const k = heapKernels(backend);
  if (k === null) return false;
  const f64 = C instanceof Float64Array;
  const S = f64 ? 8 : 4;
  const na = M * K;
  const nb = K * N;
  const nc = M * N;
  const cIn = inHeap(C);
  // an input that overlaps a resident C is copied: the kernel writes C while it reads its inputs
  const aIn = inHeap(A) && !(cIn && overlaps(A.byteOffset, na * S, C.byteOffset, nc * S));
  const bIn = inHeap(B) && !(cIn && overlaps(B.byteOffset, nb * S, C.byteOffset, nc * S));
  const aBytes = aIn ? 0 : align64(na * S);
  const bBytes = bIn ? 0 : align64(nb * S);
  const cBytes = cIn ? 0 : align64(nc * S);
  const scratch = aBytes + bBytes + cBytes;
  const sOff = scratch > 0 ? heapScratch(scratch) : 0;
  if (sOff < 0) return false;
  try {
    const buf = heapBuffer()!;
    const aOff = aIn ? A.byteOffset : sOff;
    const bOff = bIn ? B.byteOffset : sOff + aBytes;
    const cOff = cIn ? C.byteOffset : sOff + aBytes + bBytes;
    if (!aIn) copyIn(buf, aOff, A, na);
    if (!bIn) copyIn(buf, bOff, B, nb);
    (f64 ? k.f64 : k.f32)(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aOff, bOff, cOff, k.work);
    if (!cIn) copyOut(buf, cOff, nc === C.length ? C : C.subarray(0, nc));
  } finally {
    if (scratch > 0) heapFree(sOff);
  }
  return true;
}

/**
 * `y += alpha·x` in place for a resident `y` (equal lengths, one dtype); `x` is used in place when
 * it is resident too (and is `y` itself or does not overlap it), else copied into scratch space.
 * Returns false, having done nothing, when `y` is not resident or the heap's kernels or scratch
 * space are unavailable.
 */
export function heapAxpy(backend: HeapBackend, alpha: number, x: FloatArray, y: FloatArray): boolean {
  if (!inHeap(y)) return false;
  const k = heapKernels(backend);
  if (k === null) return false;
  const f64 = y instanceof Float64Array;
  const S = f64 ? 8 : 4;
  const n = y.length;
  const xIn = inHeap(x) && (x.byteOffset === y.byteOffset || !overlaps(x.byteOffset, n * S, y.byteOffset, n * S));
  const scratch = xIn ? 0 : align64(n * S);
  const sOff = scratch > 0 ? heapScratch(scratch) : 0;
  if (sOff < 0) return false;
  try {
    const xOff = xIn ? x.byteOffset : sOff;
    if (!xIn) copyIn(heapBuffer()!, xOff, x, n);
    (f64 ? k.axpyF64 : k.axpyF32)(n, alpha, xOff, y.byteOffset);
  } finally {
    if (scratch > 0) heapFree(sOff);
  }
  return true;
}

/** What {@link storageInfo} reports. */
export interface StorageInfo {
  /** Bytes of WebAssembly memory held by live resident arrays and kernel scratch (64-byte blocks). */
  wasmBytesInUse: number;
  /** How many blocks those are. */
  wasmBlocks: number;
  /** The size of the shared WebAssembly memory (it grows, never shrinks; 0 before the first use). */
  wasmMemoryBytes: number;
}

/**
 * How much memory `storage: "wasm"` tensors take (like TensorFlow.js's `tf.memory()`). A block
 * is freed when its array is garbage-collected, which happens only when the event loop turns, so
 * these numbers may include tensors that are already unreachable.
 */
export function storageInfo(): StorageInfo {
  const s = heapStats();
  return { wasmBytesInUse: s.bytesInUse, wasmBlocks: s.blocks, wasmMemoryBytes: s.memoryBytes };
}
