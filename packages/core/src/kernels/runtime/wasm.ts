/**
 * WebAssembly SIMD matrix multiply backend, and the single-thread kernel module every WASM kernel
 * family uses.
 *
 * The kernels are AssemblyScript (packages/core/assembly/, entry index.ts) compiled by
 * scripts/build-wasm.mjs into a plain-SIMD build and a relaxed-SIMD (FMA) build, inlined in the
 * package as base64 (kernels/wasm-binaries.ts, generated; see kernels/loader.ts). At first use the
 * best build that `WebAssembly.validate` accepts is instantiated: synchronously in Node, and
 * asynchronously elsewhere (a browser), where every kernel uses TypeScript until {@link ready}'s
 * promise resolves. Operands are copied into a persistent arena in the module's memory (grown as
 * needed) and the result copied back, which costs 1–3% of the multiply at n ≥ 256. Operands in
 * storage `'wasm'` (kernels/heap.ts) are used in place by the heap's own instance instead.
 *
 * If no build validates, WebAssembly is unavailable, `GRADGRAPH_KERNELS=js` is set (read at first
 * use and by every `setKernelBackend` call, never at load) or `setKernelBackend("js")` was called,
 * `gemm` uses the pure-TypeScript kernel.
 */
import type { FloatArray } from "../../dtype.js";
import { ArgumentError, describeValue, GradgraphError } from "../../errors.js";
import { heapGemm, heapInUse, heapPending, inHeap } from "./heap.js";
import { compileAsync, compileSync, envVar, isNode, type WasmBuildName } from "./loader.js";
import { type ThreadInfo, threadedGemm, threadInfo, willThread } from "./threads.js";
import { align64, apartFrom, copyIn, copyOut, WA, type WasmGemm, type WasmMemory } from "./wasm-memory.js";

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
  /** `memory.buffer` as of the last {@link ensureMemory} (refreshed when it grows). */
  buffer: ArrayBufferLike;
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
 * call cost more than the faster kernel saves. Crossover measured at M·N·K ≈ 32 (2-core EPYC,
 * Node 20; float64 2×2×2 0.95×, 4×4×2 0.72×, 4×4×4 0.59× of the TypeScript time), since small
 * products skip the packing in WASM (it was ≈ 512 before that).
 */
export const WASM_THRESHOLD = 32;

const BUILDS: readonly { name: WasmBuildName; backend: Loaded["backend"] }[] = [
  { name: "kernels-relaxed", backend: "wasm-relaxed-simd" },
  { name: "kernels-simd", backend: "wasm-simd" },
];

/** What kernelInfo says while the kernels compile asynchronously. */
const COMPILING = "WebAssembly kernels compiling; await ready()";

let option: KernelBackendOption = "auto";
/** undefined: not tried yet (or still compiling); null: tried and unavailable (see `failure`). */
let loaded: Loaded | null | undefined;
let failure = "";
/** The asynchronous load in flight or done (outside Node); null before the first use. */
let loading: Promise<void> | null = null;

function isFunction(v: unknown): v is WasmGemm {
  return typeof v === "function";
}

function isThunk(v: unknown): v is () => number {
  return typeof v === "function";
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The imports of the single-thread builds (they own their memory). */
function imports(): Record<string, Record<string, unknown>> {
  return {
    env: {
      abort: () => {
        throw new GradgraphError("gemm", "gemm: WebAssembly kernel aborted");
      },
    },
  };
}

/** The kernel module from an instance's exports, or why they do not fit. */
function fromExports(exports: Record<string, unknown>, backend: Loaded["backend"]): Loaded | string {
  const { memory, gemm_f32, gemm_f64, heapBase, workspaceBytes } = exports;
  if (
    !(memory instanceof WA.Memory) ||
    !isFunction(gemm_f32) ||
    !isFunction(gemm_f64) ||
    !isThunk(heapBase) ||
    !isThunk(workspaceBytes)
  ) {
    return "lacks the expected exports";
  }
  const base = Number(heapBase());
  const workBytes = Number(workspaceBytes());
  return { backend, memory, buffer: memory.buffer, exports, f32: gemm_f32, f64: gemm_f64, base, workBytes };
}

/**
 * Instantiates the best valid build (or only `only`) synchronously; records why when none works.
 * Needs the module compiled: in Node it compiles here, elsewhere only a finished compilation counts.
 */
function load(only?: Loaded["backend"]): Loaded | null {
  const reasons: string[] = [];
  for (const { name, backend } of BUILDS) {
    if (only !== undefined && backend !== only) continue;
    const module = compileSync(name);
    if (typeof module === "string") {
      reasons.push(module);
      continue;
    }
    try {
      const got = fromExports(new WA.Instance(module, imports()).exports, backend);
      if (typeof got !== "string") return got;
      reasons.push(`${name}.wasm ${got}`);
    } catch (e) {
      reasons.push(`${name}.wasm: ${message(e)}`);
    }
  }
  failure = reasons.join("; ");
  return null;
}

/** As {@link load}, asynchronously (`WebAssembly.compile`, then `WebAssembly.instantiate`). */
async function loadAsync(): Promise<Loaded | null> {
  const reasons: string[] = [];
  for (const { name, backend } of BUILDS) {
    const module = await compileAsync(name);
    if (typeof module === "string") {
      reasons.push(module);
      continue;
    }
    try {
      const got = fromExports((await WA.instantiate(module, imports())).exports, backend);
      if (typeof got !== "string") return got;
      reasons.push(`${name}.wasm ${got}`);
    } catch (e) {
      reasons.push(`${name}.wasm: ${message(e)}`);
    }
  }
  failure = reasons.join("; ");
  return null;
}

/**
 * Starts loading the kernels if nothing was tried yet: synchronously in Node, else in the
 * background (`loaded` stays undefined, and kernels use TypeScript, until it finishes).
 */
function startLoading(): void {
  if (loaded !== undefined || loading !== null) return;
  if (isNode()) {
    loaded = load();
    return;
  }
  loading = loadAsync().then(
    (m) => {
      if (loaded === undefined) loaded = m; // unless useWasmBuild chose one meanwhile
    },
    (e: unknown) => {
      failure = message(e);
      if (loaded === undefined) loaded = null;
    },
  );
}

/** `GRADGRAPH_KERNELS=js`, read at first use and again by every `setKernelBackend` call (not per product). */
let envJs: boolean | undefined;

function envForcesJs(): boolean {
  if (envJs === undefined) envJs = envVar("GRADGRAPH_KERNELS") === "js";
  return envJs;
}

/** The loaded module if WASM should be used under the current option (and is compiled), else null. */
function active(): Loaded | null {
  if (option === "js") return null;
  if (option === "auto" && envForcesJs()) return null;
  if (loaded === undefined) {
    startLoading();
    if (loaded === undefined) return null;
  }
  return loaded;
}

/**
 * Chooses the matmul backend. `"auto"` (the default) uses the fastest WASM build for products
 * above a size threshold and falls back to TypeScript when WASM SIMD is unavailable or the
 * environment sets `GRADGRAPH_KERNELS=js` (read at first use and on every call of this
 * function; a runtime without `process` has no such variable); `"js"` always uses the TypeScript
 * kernel; `"wasm"` sends every product, however small, to WASM (mainly for tests).
 * @throws ArgumentError if `backend` is not one of the three options.
 * @throws GradgraphError for `"wasm"` when no WASM build can be loaded (the message says why), or,
 * outside Node, while the kernels are still compiling (await {@link ready} first).
 */
export function setKernelBackend(backend: KernelBackendOption): void {
  envJs = envVar("GRADGRAPH_KERNELS") === "js";
  if (backend !== "auto" && backend !== "js" && backend !== "wasm") {
    throw new ArgumentError(
      "setKernelBackend",
      `setKernelBackend: backend must be 'auto', 'js' or 'wasm', got ${describeValue(backend)}`,
    );
  }
  if (backend === "wasm") {
    startLoading();
    if (loaded === undefined) {
      throw new GradgraphError(
        "setKernelBackend",
        "setKernelBackend: WebAssembly kernels still compiling; await ready() before choosing 'wasm'",
      );
    }
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
 * @throws GradgraphError when that build cannot be loaded (outside Node it compiles synchronously,
 * which a browser refuses on its main thread: call it after {@link ready}).
 */
export function useWasmBuild(build: "wasm-relaxed-simd" | "wasm-simd" | undefined): void {
  const m = load(build);
  if (m === null) throw new GradgraphError("useWasmBuild", `useWasmBuild: ${build ?? "WASM"} unavailable: ${failure}`);
  loaded = m;
  option = build === undefined ? "auto" : "wasm";
}

/**
 * Reports which matmul backend `gemm` uses (loading the WASM module if not yet loaded: in Node at
 * once; elsewhere this starts the compilation, and until it finishes the backend is `"js"` with
 * the reason "WebAssembly kernels compiling; await ready()").
 */
export function kernelInfo(): KernelInfo {
  const m = active();
  if (m) return { backend: m.backend, option, threshold: option === "wasm" ? 0 : WASM_THRESHOLD, ...threadInfo() };
  const reason =
    option === "js"
      ? "setKernelBackend('js')"
      : envForcesJs()
        ? "GRADGRAPH_KERNELS=js"
        : loaded === undefined
          ? COMPILING
          : failure || "unavailable";
  return { backend: "js", option, threshold: 0, reason, ...threadInfo() };
}

/**
 * Waits until the WebAssembly kernels are live and reports them, as {@link kernelInfo} does.
 *
 * In Node the kernels compile synchronously at first use, so the promise resolves at once. In a
 * browser they compile asynchronously (`WebAssembly.compile`): the first kernel use, or this call,
 * starts the compilation, and until it finishes every op runs on the TypeScript kernels (ops never
 * fail or wait for it). The promise resolves when the compilation is over, and also waits for the
 * kernels of `storage: "wasm"` tensors if a heap exists. It respects {@link setKernelBackend} and
 * `GRADGRAPH_KERNELS=js` like `kernelInfo`: under the `"js"` backend it resolves at once, without
 * compiling anything.
 *
 * It never rejects for missing WebAssembly: where no build can run (no WebAssembly, no SIMD, a
 * build that does not validate), it resolves with `backend: "js"` and a `reason` saying why.
 * @returns the {@link KernelInfo} at the time the kernels are ready (or known to be unavailable).
 */
export function ready(): Promise<KernelInfo> {
  active(); // starts the load where WASM is wanted (in Node, loads now)
  const kernels = loaded === undefined ? loading : null;
  const heap = heapPending();
  if (kernels === null && heap === null) return Promise.resolve(kernelInfo());
  return Promise.all([kernels, heap]).then(() => {
    const more = heapPending(); // a heap made meanwhile
    return more === null ? kernelInfo() : more.then(() => kernelInfo());
  });
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
  let buf = m.buffer;
  // byteLength 0: detached by a growth made elsewhere (reading memory.buffer is a C++ call, so the
  // buffer is kept between calls)
  if (end > buf.byteLength || buf.byteLength === 0) {
    const have = m.memory.buffer.byteLength;
    if (end > have) m.memory.grow(Math.ceil((end - have) / 65536));
    buf = m.buffer = m.memory.buffer;
  }
  return buf;
}

/**
 * Runs `C = op(A)·op(B)` in WASM if the backend and size call for it; returns false (having done
 * nothing) when the caller should use the TypeScript kernel. Operands must share one dtype. With
 * `bias` (at least N elements), adds it to every row of the product: on the copy-in path in WASM
 * before the copy out (one pass fewer over C than adding it in TypeScript afterwards: the affine
 * layer's `x·W + b`), on the other routes afterwards, from a copy when it shares C's memory (the
 * product overwrites C first).
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
  bias: FloatArray | null = null,
): boolean {
  const m = active();
  if (!m) return false;
  if (option === "auto" && M * N * K < WASM_THRESHOLD) return false;
  const f64 = C instanceof Float64Array;
  if (A instanceof Float64Array !== f64 || B instanceof Float64Array !== f64) return false;
  const S = f64 ? 8 : 4;
  const na = M * K;
  const nb = K * N;
  const nc = M * N;
  // the threaded and resident routes write C before the row is added: a row in C's memory is copied
  const heap = heapInUse() && (inHeap(A) || inHeap(B) || inHeap(C));
  const threaded = willThread(M, N, K);
  const row = bias !== null && (threaded || heap) ? apartFrom(bias, N, C, nc) : bias;
  if (threaded && threadedGemm(m.backend, transA, transB, M, N, K, A, B, C)) {
    if (row !== null) addRow(C, nc, row, N);
    return true;
  }
  // operands with `storage: "wasm"` are used where they are (the others copied next to them)
  if (heap && heapGemm(m.backend, transA, transB, M, N, K, A, B, C)) {
    if (row !== null) addRow(C, nc, row, N);
    return true;
  }
  const work = m.base;
  const aOff = arenaStart(m);
  const bOff = align64(aOff + na * S);
  const cOff = align64(bOff + nb * S);
  // the bias row goes after C, added by the elementwise kernel (rows of C against one row)
  const add = bias !== null && bias instanceof Float64Array === f64 ? addRowsKernel(m, f64) : null;
  const rOff = align64(cOff + nc * S);
  const buf = ensureMemory(m, add === null ? cOff + nc * S : rOff + N * S);
  copyIn(buf, aOff, A, na);
  copyIn(buf, bOff, B, nb);
  // (a row of another dtype is added after the copy out: from a copy when it shares C's memory)
  const other = bias !== null && add === null ? apartFrom(bias, N, C, nc) : null;
  (f64 ? m.f64 : m.f32)(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aOff, bOff, cOff, work);
  if (add !== null) {
    copyIn(buf, rOff, bias!, N);
    add(0, M, N, cOff, N, 1, rOff, 0, 1, cOff);
  }
  copyOut(buf, cOff, nc === C.length ? C : C.subarray(0, nc));
  if (other !== null) addRow(C, nc, other, N);
  return true;
}

/** `C[o + j] += row[j]` for every row of `n` elements among the first `nc` of C (in C's dtype). */
export function addRow(C: FloatArray, nc: number, row: FloatArray, n: number): void {
  for (let o = 0; o < nc; o += n) for (let j = 0; j < n; j++) C[o + j] = C[o + j]! + row[j]!;
}

/** The elementwise kernel (`binary_f32`/`binary_f64`, op 0: add) of `m`, or null in a build without it. */
function addRowsKernel(m: Loaded, f64: boolean): ((...args: number[]) => void) | null {
  const k = f64 ? m.exports.binary_f64 : m.exports.binary_f32;
  return typeof k === "function" ? (k as (...args: number[]) => void) : null;
}
