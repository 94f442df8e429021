/**
 * What every WebAssembly kernel file shares: the typed view of the WebAssembly JS API (lib ES2022
 * has no WebAssembly types), 64-byte alignment, and the copies between JS typed arrays and a
 * module's memory (plain or shared). Internal: not exported from the package index.
 */
import type { FloatArray } from "../dtype.js";

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

/** Rounds a byte offset up to a multiple of 64 (arithmetic, not bitwise: offsets may pass 2³¹). */
export function align64(x: number): number {
  return Math.ceil(x / 64) * 64;
}

/**
 * Copies the first `n` elements of `src` (all of them by default) into memory at byte `off`; the
 * buffer must already be large enough.
 */
export function copyIn(buf: ArrayBufferLike, off: number, src: FloatArray, n = src.length): void {
  const s = n === src.length ? src : src.subarray(0, n);
  if (src instanceof Float64Array) new Float64Array(buf, off, n).set(s);
  else new Float32Array(buf, off, n).set(s);
}

/** Copies `dst.length` elements at byte `off` of memory into `dst`. */
export function copyOut(buf: ArrayBufferLike, off: number, dst: FloatArray): void {
  if (dst instanceof Float64Array) dst.set(new Float64Array(buf, off, dst.length));
  else dst.set(new Float32Array(buf, off, dst.length));
}
