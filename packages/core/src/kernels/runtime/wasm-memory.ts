/**
 * What every WebAssembly kernel file shares: the typed view of the WebAssembly JS API (lib ES2022
 * has no WebAssembly types), 64-byte alignment, and the copies between JS typed arrays and a
 * module's memory (plain or shared). Internal: not exported from the package index.
 */
import type { FloatArray } from "../../dtype.js";

/** A `WebAssembly.Memory`, plain (ArrayBuffer) or shared (SharedArrayBuffer). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** The signature of the kernel builds' `gemm_f32` / `gemm_f64`: (transA, transB, M, N, K, a, b, c, work). */
export type WasmGemm = (
  transA: number,
  transB: number,
  M: number,
  N: number,
  K: number,
  a: number,
  b: number,
  c: number,
  work: number,
) => void;

/** The parts of the WebAssembly JS API the kernels use. */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  /** Compiles asynchronously (allowed on a browser's main thread, unlike `new Module` of large modules). */
  compile(bytes: Uint8Array): Promise<object>;
  /** Instantiates a compiled module asynchronously. */
  instantiate(
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ readonly exports: Record<string, unknown> }>;
}

/** The global `WebAssembly` object, typed (undefined in a runtime without WebAssembly). */
export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Whether the byte ranges `[a, a + na)` and `[b, b + nb)` overlap. */
export function overlaps(a: number, na: number, b: number, nb: number): boolean {
  return a < b + nb && b < a + na;
}

/**
 * Whether the first `na` elements of `a` and the first `nc` of `c` share memory (the same buffer,
 * overlapping bytes). Reads both views' `buffer` (~30 ns each).
 */
export function sharesMemory(a: FloatArray, na: number, c: FloatArray, nc: number): boolean {
  return (
    a.buffer === c.buffer && overlaps(a.byteOffset, na * a.BYTES_PER_ELEMENT, c.byteOffset, nc * c.BYTES_PER_ELEMENT)
  );
}

/**
 * The first `na` elements of `a`, as a copy when they share memory with the first `nc` of `c` (an
 * output written while `a` is still read), else `a` itself.
 */
export function apartFrom(a: FloatArray, na: number, c: FloatArray, nc: number): FloatArray {
  return sharesMemory(a, na, c, nc) ? a.slice(0, na) : a;
}

/** Rounds a byte offset up to a multiple of 64 (arithmetic, not bitwise: offsets may pass 2³¹). */
export function align64(x: number): number {
  return Math.ceil(x / 64) * 64;
}

/**
 * Whole-buffer views of the memory copied into or out of last: reused while the buffer stays the
 * same, so a copy makes no typed array of its own (creating one is a C++ call that costs more than
 * copying a small operand).
 */
let viewBuf: ArrayBufferLike | null = null;
let viewF32: Float32Array<ArrayBufferLike> = new Float32Array(0);
let viewF64: Float64Array<ArrayBufferLike> = new Float64Array(0);

function views(buf: ArrayBufferLike): void {
  if (buf === viewBuf) return;
  viewBuf = buf;
  viewF32 = new Float32Array(buf, 0, buf.byteLength >>> 2);
  viewF64 = new Float64Array(buf, 0, buf.byteLength >>> 3);
}

/**
 * Copies the first `n` elements of `src` (all of them by default) into memory at byte `off`; the
 * buffer must already be large enough.
 */
export function copyIn(buf: ArrayBufferLike, off: number, src: FloatArray, n = src.length): void {
  views(buf);
  const S = src instanceof Float64Array ? 8 : 4;
  // a whole array goes through `set` from a few elements on (no view to make); a part of one is
  // copied by a loop up to SMALL_COPY, which is cheaper than making the view
  if (n <= (n === src.length ? SMALL_SET : SMALL_COPY) && off % S === 0) {
    const v = S === 8 ? viewF64 : viewF32;
    const o = off / S;
    for (let i = 0; i < n; i++) v[o + i] = src[i]!;
    return;
  }
  const s = n === src.length ? src : src.subarray(0, n);
  if (src instanceof Float64Array) {
    if (off % 8 === 0) viewF64.set(s, off / 8);
    else new Float64Array(buf, off, n).set(s);
  } else if (off % 4 === 0) viewF32.set(s, off / 4);
  else new Float32Array(buf, off, n).set(s);
}

/** Copies `dst.length` elements at byte `off` of memory into `dst`. */
export function copyOut(buf: ArrayBufferLike, off: number, dst: FloatArray): void {
  views(buf);
  const n = dst.length;
  const v = dst instanceof Float64Array ? viewF64 : viewF32;
  const S = dst instanceof Float64Array ? 8 : 4;
  if (off % S !== 0) {
    dst.set(S === 8 ? new Float64Array(buf, off, n) : new Float32Array(buf, off, n));
    return;
  }
  const o = off / S;
  if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[i] = v[o + i]!;
  } else dst.set(v.subarray(o, o + n));
}

/** Up to this many elements a copy out of memory is a loop: cheaper than the view `set` needs. */
const SMALL_COPY = 64;
/**
 * Up to this many elements a whole array is copied into memory by a loop: `set` costs ~20 ns a
 * call, a loop ~1–2 ns an element where it sees both dtypes (crossover 8–16 here).
 */
const SMALL_SET = 12;
