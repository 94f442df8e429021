/**
 * WebAssembly SIMD matrix multiply backend.
 *
 * The kernels are AssemblyScript (packages/core/assembly/, entry index.ts) compiled at install time by
 * scripts/build-wasm.mjs into packages/core/build/: a plain-SIMD build and a relaxed-SIMD (FMA)
 * build. At first use the best build that `WebAssembly.validate` accepts is instantiated
 * synchronously. Operands are copied into a persistent arena in the module's memory (grown as
 * needed) and the result copied back, which costs 1–3% of the multiply at n ≥ 256. Operands in
 * storage `'wasm'` (kernels/heap.ts) are used in place by the heap's own instance instead.
 *
 * If the build is missing, WASM SIMD is unavailable, `GRADGRAPH_KERNELS=js` is set or
 * `setKernelBackend("js")` was called, `gemm` uses the pure-TypeScript kernel.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import type { FloatArray } from "../dtype.js";
import { ArgumentError, describeValue, GradgraphError } from "../errors.js";
import { heapGemm, heapInUse, inHeap } from "./heap.js";
import { type ThreadInfo, threadedGemm, threadInfo } from "./threads.js";
import { align64, copyIn, copyOut, WA, type WasmGemm, type WasmMemory } from "./wasm-memory.js";

/** Which matmul implementation `gemm` uses for products above the size threshold. */
export type KernelBackend = "wasm-relaxed-simd" | "wasm-simd" | "js";

/** The backend choice given to {@link setKernelBackend}. */
export type KernelBackendOption = "auto" | "js" | "wasm";

/** What {@link kernelInfo} reports about the matmul backend (and, from `setThreads`, its threads). */
export interface KernelInfo extends ThreadInfo {
  /** The backend in use: a WASM build, or the pure-TypeScript kernel. */
  backend: KernelBackend;
  /** The option last given to {@link setKernelBackend} (`"auto"` by default). */
  option: KernelBackendOption;
  /**
   * With a WASM backend: products with `M·N·K` below this stay in TypeScript (0 with the
   * `"wasm"` option, which sends every product to WASM).
   */
  threshold: number;
  /** With the `"js"` backend under `"auto"`: why WASM is not used. */
  reason?: string;
}

/** The instantiated kernel module (internal: other kernel families use it through {@link wasmKernels}). */
export interface Loaded {
  backend: "wasm-relaxed-simd" | "wasm-simd";
  memory: WasmMemory;
  /** All of the module's exports, for kernel families beyond gemm. */
  exports: Record<string, unknown>;
  f32: WasmGemm;
  f64: WasmGemm;
  /** First free byte of memory (the workspace starts here). */
  base: number;
  workBytes: number;
}

/**
 * Products with `M·N·K` below this stay in TypeScript under `"auto"`: below it, copying and the
 * call cost more than the faster kernel saves (crossover measured at M·N·K ≈ 512 on Zen 3, Node 20).
 */
export const WASM_THRESHOLD = 512;

const BUILDS: readonly { file: string; backend: Loaded["backend"] }[] = [
  { file: "kernels-relaxed.wasm", backend: "wasm-relaxed-simd" },
  { file: "kernels-simd.wasm", backend: "wasm-simd" },
];

let option: KernelBackendOption = "auto";
/** undefined: not tried yet; null: tried and unavailable (see `failure`). */
let loaded: Loaded | null | undefined;
let failure = "";

function isFunction(v: unknown): v is WasmGemm {
  return typeof v === "function";
}

function isThunk(v: unknown): v is () => number {
  return typeof v === "function";
}

/**
 * Reads and instantiates the best valid build (or only `only`); records why when none works.
 */
function load(only?: Loaded["backend"]): Loaded | null {
  try {
    // Node 20 accepts relaxed SIMD only behind this flag; it must be set before compiling.
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // unknown flag in a newer V8 (relaxed SIMD shipped): validate decides below
  }
  const reasons: string[] = [];
  for (const { file, backend } of BUILDS) {
    if (only !== undefined && backend !== only) continue;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(new URL(`../../build/${file}`, import.meta.url));
    } catch {
      reasons.push(`${file} not built (run node scripts/build-wasm.mjs)`);
      continue;
    }
    if (!WA.validate(bytes)) {
      reasons.push(`${file} does not validate on this engine`);
      continue;
    }
    try {
      const instance = new WA.Instance(new WA.Module(bytes), {
        env: {
          abort: () => {
            throw new GradgraphError("gemm", "gemm: WebAssembly kernel aborted");
          },
        },
      });
      const { memory, gemm_f32, gemm_f64, heapBase, workspaceBytes } = instance.exports;
      if (
        !(memory instanceof WA.Memory) ||
        !isFunction(gemm_f32) ||
        !isFunction(gemm_f64) ||
        !isThunk(heapBase) ||
        !isThunk(workspaceBytes)
      ) {
        reasons.push(`${file} lacks the expected exports`);
        continue;
      }
      const base = Number(heapBase());
      const workBytes = Number(workspaceBytes());
      return { backend, memory, exports: instance.exports, f32: gemm_f32, f64: gemm_f64, base, workBytes };
    } catch (e) {
      reasons.push(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  failure = reasons.join("; ");
  return null;
}

/** `GRADGRAPH_KERNELS=js`, read at load and again by every `setKernelBackend` call (not per product). */
let envJs = process.env.GRADGRAPH_KERNELS === "js";

function envForcesJs(): boolean {
  return envJs;
}

/** The loaded module if WASM should be used under the current option, else null. */
function active(): Loaded | null {
  if (option === "js") return null;
  if (option === "auto" && envForcesJs()) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/**
 * Chooses the matmul backend. `"auto"` (the default) uses the fastest WASM build for products
 * above a size threshold and falls back to TypeScript when WASM SIMD is unavailable or the
 * environment sets `GRADGRAPH_KERNELS=js` (read when the module loads and on every call of this
 * function); `"js"` always uses the TypeScript kernel; `"wasm"`
 * sends every product, however small, to WASM (mainly for tests).
 * @throws ArgumentError if `backend` is not one of the three options.
 * @throws GradgraphError for `"wasm"` when no WASM build can be loaded (the message says why).
 */
export function setKernelBackend(backend: KernelBackendOption): void {
  envJs = process.env.GRADGRAPH_KERNELS === "js";
  if (backend !== "auto" && backend !== "js" && backend !== "wasm") {
    throw new ArgumentError(
      "setKernelBackend",
      `setKernelBackend: backend must be 'auto', 'js' or 'wasm', got ${describeValue(backend)}`,
    );
  }
  if (backend === "wasm") {
    if (loaded === undefined) loaded = load();
    if (loaded === null) {
      throw new GradgraphError("setKernelBackend", `setKernelBackend: WebAssembly kernels unavailable: ${failure}`);
    }
  }
  option = backend;
}

/**
 * Internal, for benchmarks and tests (not exported from the package index): replaces the loaded
 * module by the given WASM build and selects the `"wasm"` option, or restores `"auto"` with the
 * best build when `build` is undefined.
 * @throws GradgraphError when that build cannot be loaded.
 */
export function useWasmBuild(build: "wasm-relaxed-simd" | "wasm-simd" | undefined): void {
  const m = load(build);
  if (m === null) throw new GradgraphError("useWasmBuild", `useWasmBuild: ${build ?? "WASM"} unavailable: ${failure}`);
  loaded = m;
  option = build === undefined ? "auto" : "wasm";
}

/** Reports which matmul backend `gemm` uses (loading the WASM module if not yet loaded). */
export function kernelInfo(): KernelInfo {
  const m = active();
  if (m) return { backend: m.backend, option, threshold: option === "wasm" ? 0 : WASM_THRESHOLD, ...threadInfo() };
  const reason =
    option === "js" ? "setKernelBackend('js')" : envForcesJs() ? "GRADGRAPH_KERNELS=js" : failure || "unavailable";
  return { backend: "js", option, threshold: 0, reason, ...threadInfo() };
}

/**
 * Internal: the loaded kernel module when WASM kernels are in use under the current option
 * (`setKernelBackend`, `GRADGRAPH_KERNELS`), else null. Kernel families other than gemm call this
 * and keep their own size thresholds (ignored under the `"wasm"` option, see {@link wasmForced}).
 */
export function wasmKernels(): Loaded | null {
  return active();
}

/** Internal: true under `setKernelBackend("wasm")`, which sends every size to WASM. */
export function wasmForced(): boolean {
  return option === "wasm";
}

/**
 * Internal: the first byte of the scratch arena (past gemm's workspace), 64-byte aligned. Kernel
 * calls copy operands there, run, and copy results back; nothing lives there between calls.
 */
export function arenaStart(m: Loaded): number {
  return align64(m.base + m.workBytes);
}

/** Internal: grows `m`'s memory to hold at least `end` bytes and returns its (possibly new) buffer. */
export function ensureMemory(m: Loaded, end: number): ArrayBufferLike {
  const have = m.memory.buffer.byteLength;
  if (end > have) m.memory.grow(Math.ceil((end - have) / 65536));
  return m.memory.buffer;
}

/**
 * Runs `C = op(A)·op(B)` in WASM if the backend and size call for it; returns false (having done
 * nothing) when the caller should use the TypeScript kernel. Operands must share one dtype.
 */
export function wasmGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): boolean {
  const m = active();
  if (!m) return false;
  if (option === "auto" && M * N * K < WASM_THRESHOLD) return false;
  const f64 = C instanceof Float64Array;
  if (A instanceof Float64Array !== f64 || B instanceof Float64Array !== f64) return false;
  if (threadedGemm(m.backend, transA, transB, M, N, K, A, B, C)) return true;
  // operands with `storage: "wasm"` are used where they are (the others copied next to them)
  if (heapInUse() && (inHeap(A) || inHeap(B) || inHeap(C))) {
    if (heapGemm(m.backend, transA, transB, M, N, K, A, B, C)) return true;
  }
  const S = f64 ? 8 : 4;
  const na = M * K;
  const nb = K * N;
  const nc = M * N;
  const work = m.base;
  const aOff = arenaStart(m);
  const bOff = align64(aOff + na * S);
  const cOff = align64(bOff + nb * S);
  const buf = ensureMemory(m, cOff + nc * S);
  copyIn(buf, aOff, A, na);
  copyIn(buf, bOff, B, nb);
  (f64 ? m.f64 : m.f32)(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aOff, bOff, cOff, work);
  copyOut(buf, cOff, nc === C.length ? C : C.subarray(0, nc));
  return true;
}
