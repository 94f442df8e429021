/**
 * Multi-threaded WebAssembly matrix multiply over workers and shared memory: `worker_threads` in
 * Node, Web Workers in a browser.
 *
 * With {@link setThreads}(n > 1), products with `M·N·K` at or above the thread threshold are split
 * across the calling thread and n − 1 workers. All of them instantiate the threaded kernel build
 * (kernels-threads-{relaxed,simd}, the same AssemblyScript source as the single-thread build,
 * compiled with shared imported memory; inlined in the package, see loader.ts) over one shared
 * `WebAssembly.Memory`. The memory holds, in order: static data, one gemm packing workspace per
 * thread, then A, B and C.
 *
 * One product: the calling thread copies A and B into the shared memory once, cuts C into column
 * blocks (when `M ≤ N`, e.g. the MLP forward (100×784)·(784×1000): every thread then packs all of
 * op(A), the smaller operand, and only its share of op(B)) or else row blocks, in multiples of the
 * micro-kernel tile and as even as possible, writes each worker's block into its slot of a control
 * block (an `Int32Array` over a `SharedArrayBuffer`), wakes it with `Atomics.notify`, computes the
 * last block itself, waits for the others with `Atomics.wait` (so `gemm` stays synchronous) and
 * copies C out. Each block runs the strided kernel (`gemm_f32_ld` / `gemm_f64_ld`), which sums
 * every element in the same order as the single-thread kernel of the same build, so threaded
 * results are bit-identical to single-thread ones.
 *
 * Workers run an inline source (gemm-worker.ts), so no script file travels with the package. In
 * Node they are `worker_threads` workers (reached at first use through `process.getBuiltinModule`),
 * `unref()`ed so they never keep the process alive, and pool creation waits (`Atomics.wait`) until
 * every worker has reported READY. In a browser they are Web Workers made from a `Blob` URL, used
 * only when the page is `crossOriginIsolated` (shared memory) and the calling thread may block (a
 * worker: `Atomics.wait` is not allowed on a browser's main thread); otherwise products run on one
 * thread and `kernelInfo().threadsReason` says why. There pool creation does not wait (a nested
 * worker may not start until its creator yields): products run on one thread until a non-blocking
 * check sees every worker READY. Outside Node the threaded build is compiled asynchronously first,
 * with the same one-thread fallback meanwhile.
 *
 * The pool is created lazily, by the first product that needs it, and re-created when the thread
 * count grows past it or the WASM build changes. If the threaded build is unusable, workers cannot
 * be made here, or a worker fails to start or fails in a product, the product (and every later
 * one, until the next {@link setThreads} call) runs single-threaded and
 * `kernelInfo().threadsReason` says why. A worker that does not answer (killed from outside, or
 * hung) is given up on after 10 s plus the product's expected time, with the same fallback.
 *
 * Waiting is a plain `Atomics.wait`, without spinning first: polling would halve the fixed cost of a
 * split (~15–20 µs), but on these 2-core machines, when another process holds a core, a polling
 * thread steals the time slice of the thread it waits for, and small threaded products ran 10–50×
 * slower than single-thread ones in that state.
 */
import type { FloatArray } from "../../dtype.js";
import { ArgumentError, describeValue, optionsObject } from "../../errors.js";
import {
  DONE,
  EXIT,
  FAILED,
  GEMM_WORKER_BODY,
  JOB,
  KIND,
  P,
  READY,
  SEQ,
  STATE,
  STRIDE,
  TEXT_CHARS,
  TEXT_LEN,
  workerSource,
} from "./gemm-worker.js";
import { isNode, moduleNow, nodeBuiltin } from "./loader.js";
import { align64, copyIn, copyOut, WA, type WasmMemory } from "./wasm-memory.js";

/** The WASM builds the single-thread loader can pick (a threaded twin exists for each). */
type WasmBackend = "wasm-relaxed-simd" | "wasm-simd";

/** The strided kernels' signature: (transA, transB, M, N, K, a, lda, b, ldb, c, ldc, work). */
type StridedGemm = (
  transA: number,
  transB: number,
  M: number,
  N: number,
  K: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
  work: number,
) => void;

/** The threaded builds' maximum memory, in 64 KiB pages (2 GiB, as in scripts/build-wasm.mjs). */
const MAX_PAGES = 32768;
const PAGE = 65536;

/** The largest thread count {@link setThreads} accepts. */
export const MAX_THREADS = 64;

/**
 * Products with `M·N·K` below this stay on one thread. Measured on the 2-core Zen 3 machines (Node
 * 20, relaxed-SIMD build, square n×n, 1 and 2 threads alternating in one process, median of 15;
 * `tsx scripts/bench-gemm.ts --crossover`), 2-thread speed over 1-thread speed:
 *
 * | n (M·N·K) | 64 (0.26M) | 96 (0.88M) | 128 (2.1M) | 160 (4.1M) | 192 (7.1M) | 256 (17M) | 512 |
 * |---|---|---|---|---|---|---|---|
 * | f32 | 0.40× | 0.66× | 0.77× | 1.03× | 1.15× | 1.4–1.5× | 1.8× |
 * | f64 | 0.55× | 0.75× | 0.85× | 1.4× | 1.45× | 1.6× | 1.9× |
 *
 * The crossover is near M·N·K ≈ 4M for f32 and ≈ 2M for f64 (a split costs a fixed ~15–20 µs: waking
 * the worker and waiting for it); one threshold at the f32 crossover serves both. The MLP step's
 * large products (78M) are far above it, its (100×1000)·(1000×10) layer (1M) below.
 */
export const THREAD_THRESHOLD = 4_000_000;

/** The default thread count (see {@link setThreads} for why it is 1). */
export const DEFAULT_THREADS = 1;

/** How long pool creation waits for the workers to instantiate the kernels. */
const START_TIMEOUT_MS = 20_000;
/** How long a product waits for a worker beyond its expected time before giving up on the pool. */
const HANG_MS = 10_000;
let workerBody = GEMM_WORKER_BODY;
let startTimeoutMs = START_TIMEOUT_MS;
/** Test hook: wait for the workers at pool creation (true: Node's way) or check without blocking. */
let blockingStart: boolean | undefined;

/** A started worker, in Node or a browser. */
interface WorkerHandle {
  terminate(): unknown;
}

/** What the worker receives (Node: `workerData`; a browser: its first message). */
interface WorkerData {
  module: object;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  slot: number;
  /** Byte offset of the slot's reason text in `control`. */
  text: number;
}

/** How workers are made in this runtime. */
interface Host {
  /** Whether pool creation may block until the workers report READY. */
  blockingStart: boolean;
  /** Starts a worker running `source` with `data`; `onFail` gets why it died, if it does. */
  spawn(source: string, data: WorkerData, onFail: (why: string) => void): WorkerHandle;
  /** Frees what the pool's workers needed (a browser's `Blob` URL). */
  close(): void;
}

/** The parts of a browser's globals the Web Worker host uses (no DOM lib here). */
interface WebGlobals {
  crossOriginIsolated?: unknown;
  Worker?: new (
    url: string,
  ) => {
    postMessage(data: unknown): void;
    terminate(): void;
    onerror: ((e: { message?: unknown }) => void) | null;
  };
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL?(blob: object): string; revokeObjectURL?(url: string): void };
  WorkerGlobalScope?: abstract new () => object;
}

/** The `worker_threads` host, or why there is none. */
function nodeHost(): Host | string {
  const wt = nodeBuiltin<typeof import("node:worker_threads")>("node:worker_threads");
  if (wt === undefined) return "node:worker_threads unavailable (process.getBuiltinModule needs Node ≥ 20.16)";
  return {
    blockingStart: true,
    spawn(source, data, onFail) {
      const worker = new wt.Worker(source, { eval: true, workerData: data, execArgv: [] });
      worker.unref();
      worker.on("error", (e) => onFail(`failed: ${message(e)}`));
      worker.on("exit", (code) => onFail(`exited (code ${code})`));
      return worker;
    },
    close() {},
  };
}

/** The Web Worker host, or why threads cannot run here. */
function webHost(): Host | string {
  const g = globalThis as WebGlobals;
  const { Worker, Blob, URL } = g;
  if (typeof Worker !== "function" || typeof Blob !== "function" || typeof URL?.createObjectURL !== "function") {
    return "no Worker or worker_threads in this runtime";
  }
  if (g.crossOriginIsolated !== true) {
    return "the page is not cross-origin isolated (serve it with COOP/COEP headers): no shared memory for threads";
  }
  const scope = g.WorkerGlobalScope;
  if (typeof scope !== "function" || !(globalThis instanceof scope)) {
    return "Atomics.wait is not allowed on a browser's main thread: call gradgraph from a Web Worker to use threads";
  }
  let url: string | null = null;
  return {
    blockingStart: false,
    spawn(source, data, onFail) {
      url ??= URL.createObjectURL!(new Blob([source], { type: "text/javascript" }));
      const worker = new Worker(url);
      worker.onerror = (e) => onFail(`failed: ${typeof e.message === "string" ? e.message : "error"}`);
      worker.postMessage(data);
      return worker;
    },
    close() {
      if (url !== null) URL.revokeObjectURL?.(url);
      url = null;
    },
  };
}

interface Pool {
  backend: WasmBackend;
  size: number;
  memory: WasmMemory;
  ctl: Int32Array;
  host: Host;
  workers: WorkerHandle[];
  /** True once every worker reported READY. */
  ready: boolean;
  /** When an unready pool is given up on (ms since the epoch). */
  startDeadline: number;
  f32: StridedGemm;
  f64: StridedGemm;
  /** Workspace of thread t at `work + t * workBytes`. */
  work: number;
  workBytes: number;
  arena: number;
  seq: number;
  /** The build's micro-kernel tile (rows, columns) per dtype: C is split in whole tiles. */
  tile: { f32: [number, number]; f64: [number, number] };
}

let threads = DEFAULT_THREADS;
let threshold = THREAD_THRESHOLD;
let pool: Pool | null = null;
/** Why threads are off until the next setThreads call ("" while they work). */
let failure = "";
/** Products run on several threads since the module loaded (for tests and benchmarks). */
let threadedCalls = 0;

/** Options of {@link setThreads}. */
export interface ThreadOptions {
  /**
   * Products with `M·N·K` below this stay on one thread (default {@link THREAD_THRESHOLD}, the
   * measured crossover on 2-core machines). 0 splits every product that has at least two tiles.
   */
  threshold?: number;
}

/**
 * Sets how many threads large WebAssembly matrix products use: the calling thread plus `n − 1`
 * workers (`worker_threads` in Node; in a browser, Web Workers, only when the page is
 * `crossOriginIsolated` and gradgraph runs in a Web Worker itself), created at the first product
 * that needs them (in a browser, products run on one thread until the workers have started). `1` (the default) turns
 * threading off. Workers already started stay idle (blocked in `Atomics.wait`, no CPU) until
 * {@link shutdownThreads}; a larger count replaces the pool at the next large product, a smaller one
 * uses part of it. Products below the threshold (see {@link ThreadOptions}),
 * the TypeScript backend and mixed dtypes always run on the calling thread. Results are
 * bit-identical to single-thread ones.
 *
 * The default is 1, not the core count: on the 2-core machines 2 threads speed up large products
 * 1.5–1.9× (the MLP step's products ~1.8×) only while the second core is idle. When another process
 * holds it (a test runner's parallel workers, a second training job; measured in the same runs),
 * 2 threads are 2–10% slower than 1 on large products and up to 2.5× slower just above the
 * threshold. Starting workers is also a side effect (~50–150 ms at the first large product, plus a
 * few MB per worker) a library should not take unasked. Call `setThreads(os.availableParallelism())`
 * to use every core.
 *
 * Calling it again (even with the same `n`) clears a recorded thread failure, so the next large
 * product tries again.
 * @param n - the thread count, an integer from 1 to {@link MAX_THREADS}.
 * @param options - the size threshold; when omitted (or null), the threshold keeps its current value.
 * @throws ArgumentError (naming `setThreads` and the value) if `n` is not an integer from 1 to
 * {@link MAX_THREADS}, `options` is not an object or has a key other than `threshold`, or
 * `threshold` is not a non-negative finite number.
 */
export function setThreads(n: number, options?: ThreadOptions | null): void {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new ArgumentError(
      "setThreads",
      `setThreads: thread count must be an integer from 1 to ${MAX_THREADS}, got ${describeValue(n)}`,
    );
  }
  const t = optionsObject("setThreads", options, ["threshold"]).threshold;
  if (t !== undefined && !(typeof t === "number" && Number.isFinite(t) && t >= 0)) {
    throw new ArgumentError(
      "setThreads",
      `setThreads: threshold must be a non-negative finite number, got ${describeValue(t)}`,
    );
  }
  if (t !== undefined) threshold = t;
  threads = n;
  failure = "";
}

/**
 * Stops the gemm worker threads now (they are also `unref()`ed, so they never keep the process
 * alive). The thread count is kept: the next product above the
 * threshold starts a new pool. Resolves when the workers have exited.
 */
export function shutdownThreads(): Promise<void> {
  return stopPool();
}

/** What `kernelInfo()` reports about threads. */
export interface ThreadInfo {
  /** The thread count set by {@link setThreads} (1: off). */
  threads: number;
  /** Products with `M·N·K` below this stay on one thread. */
  threadThreshold: number;
  /** Why large products run on one thread despite `threads > 1` (absent while threads work). */
  threadsReason?: string;
  /**
   * How many products have run split across threads since the library loaded (0 until a pool is
   * up: in a browser, large products run on one thread until the workers have started).
   */
  threadedProducts: number;
}

/** Internal: the thread fields of `kernelInfo()`. */
export function threadInfo(): ThreadInfo {
  const info: ThreadInfo = { threads, threadThreshold: threshold, threadedProducts: threadedCalls };
  if (failure !== "") info.threadsReason = failure;
  return info;
}

/**
 * Internal, for tests: the body the next pool's workers run after gemm-worker.ts's prelude (which
 * gives it `start`, `failWith`, `report` and the layout constants), how long their start may take,
 * and whether pool creation blocks until they are READY (Node's way) or checks without blocking
 * (a browser's way); all restored to the real ones when called without arguments. Stops the
 * current pool.
 */
export function setWorkerForTests(body?: string, timeoutMs?: number, blocking?: boolean): Promise<void> {
  workerBody = body ?? GEMM_WORKER_BODY;
  startTimeoutMs = timeoutMs ?? START_TIMEOUT_MS;
  blockingStart = blocking;
  return stopPool();
}

/** Internal, for tests and benchmarks: products run threaded so far, and the live pool's size (0: none). */
export function threadStats(): { threadedCalls: number; poolSize: number } {
  return { threadedCalls, poolSize: pool === null ? 0 : pool.size };
}

function stopPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p === null) return Promise.resolve();
  for (let w = 1; w < p.size; w++) {
    const s = w * STRIDE;
    Atomics.store(p.ctl, s + KIND, EXIT);
    Atomics.add(p.ctl, s + SEQ, 1);
    Atomics.notify(p.ctl, s + SEQ);
  }
  const done = Promise.all(p.workers.map((w) => w.terminate())).then(() => undefined);
  p.host.close();
  return done;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Byte offset of slot `w`'s reason text in the control block. */
function textOffset(size: number, w: number): number {
  return size * STRIDE * 4 + w * TEXT_CHARS * 2;
}

/** Reads what a worker wrote about its failure, if anything. */
function workerReason(p: Pool, w: number): string {
  const n = Math.min(Math.max(Atomics.load(p.ctl, w * STRIDE + TEXT_LEN), 0), TEXT_CHARS);
  return String.fromCharCode(...new Uint16Array(p.ctl.buffer, textOffset(p.size, w), n));
}

function fail(reason: string): void {
  failure = reason;
  void stopPool();
}

function isStrided(v: unknown): v is StridedGemm {
  return typeof v === "function";
}

/**
 * Creates the pool for `backend` (its threaded twin), or returns null: having recorded why in
 * `failure` when threads cannot work, or with no failure while the build is still compiling
 * (outside Node: the product runs on one thread and a later one tries again).
 */
function createPool(backend: WasmBackend, size: number): Pool | null {
  const file = backend === "wasm-relaxed-simd" ? "kernels-threads-relaxed" : "kernels-threads-simd";
  const host = isNode() ? nodeHost() : webHost();
  if (typeof host === "string") {
    failure = host;
    return null;
  }
  const module = moduleNow(file);
  if (module === undefined) return null; // compiling in the background
  if (typeof module === "string") {
    failure = `threaded kernels unavailable (${module})`;
    return null;
  }
  let memory: WasmMemory;
  let f32: unknown;
  let f64: unknown;
  let work: number;
  let workBytes: number;
  let tile: Pool["tile"];
  try {
    memory = new WA.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const ex = new WA.Instance(module, { env: { memory } }).exports;
    const { heapBase, workspaceBytes, tileRows, tileCols } = ex;
    f32 = ex.gemm_f32_ld;
    f64 = ex.gemm_f64_ld;
    if (
      typeof heapBase !== "function" ||
      typeof workspaceBytes !== "function" ||
      typeof tileRows !== "function" ||
      typeof tileCols !== "function"
    ) {
      throw new Error("missing exports");
    }
    work = align64(Number(heapBase()));
    workBytes = align64(Number(workspaceBytes()));
    tile = {
      f32: [Number(tileRows(0)), Number(tileCols(0))],
      f64: [Number(tileRows(1)), Number(tileCols(1))],
    };
  } catch (e) {
    failure = `threaded kernels unavailable (${file}.wasm: ${message(e)})`;
    return null;
  }
  if (!isStrided(f32) || !isStrided(f64)) {
    failure = `threaded kernels unavailable (${file}.wasm lacks gemm_f32_ld/gemm_f64_ld)`;
    return null;
  }
  const arena = align64(work + size * workBytes);
  grow(memory, arena);
  const control = new SharedArrayBuffer(textOffset(size, size));
  const ctl = new Int32Array(control, 0, size * STRIDE);
  const p: Pool = {
    backend,
    size,
    memory,
    ctl,
    host,
    workers: [],
    ready: false,
    startDeadline: Date.now() + startTimeoutMs,
    f32,
    f64,
    work,
    workBytes,
    arena,
    seq: 0,
    tile,
  };
  pool = p;
  const source = workerSource(workerBody);
  try {
    for (let w = 1; w < size; w++) {
      const data: WorkerData = { module, memory, control, slot: w, text: textOffset(size, w) };
      p.workers.push(
        host.spawn(source, data, (why) => {
          if (pool !== p) return;
          // a worker that wrote its reason and then ended: its own reason says more than the event
          if (Atomics.load(ctl, w * STRIDE + STATE) === FAILED) {
            fail(`gemm worker ${w} failed${p.ready ? "" : " to start"}: ${workerReason(p, w)}`);
          } else fail(`gemm worker ${w} ${why}`);
        }),
      );
    }
  } catch (e) {
    fail(`could not start gemm workers: ${message(e)}`);
    return null;
  }
  if (!(blockingStart ?? host.blockingStart)) return p; // checked by started() before each product
  for (let w = 1; w < size; w++) {
    const i = w * STRIDE + STATE;
    for (;;) {
      const state = Atomics.load(ctl, i);
      if (state === READY) break;
      const left = p.startDeadline - Date.now();
      if (state === FAILED || left <= 0) {
        startFailure(p, w, state === FAILED);
        return null;
      }
      Atomics.wait(ctl, i, state, Math.min(left, 100));
    }
  }
  p.ready = true;
  return p;
}

/** Records why worker `w` did not start (it failed, or the start timed out) and stops the pool. */
function startFailure(p: Pool, w: number, failed: boolean): void {
  const why = workerReason(p, w);
  fail(
    failed
      ? `gemm worker ${w} failed to start: ${why}`
      : `gemm worker ${w} did not start within ${startTimeoutMs} ms${why ? `: ${why}` : ""}`,
  );
}

/**
 * Without blocking: true once every worker of `p` reported READY; false while some are starting,
 * or when one failed or the start timed out (then recorded, the pool stopped).
 */
function started(p: Pool): boolean {
  if (p.ready) return true;
  const late = Date.now() > p.startDeadline;
  for (let w = 1; w < p.size; w++) {
    const state = Atomics.load(p.ctl, w * STRIDE + STATE);
    if (state === READY) continue;
    if (state === FAILED || late) startFailure(p, w, state === FAILED);
    return false;
  }
  p.ready = true;
  return true;
}

/** Grows `memory` to at least `end` bytes. */
function grow(memory: WasmMemory, end: number): void {
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / PAGE));
}

/** Whether {@link threadedGemm} would split a product of these sizes (it may still fall back). */
export function willThread(M: number, N: number, K: number): boolean {
  return threads > 1 && M * N * K >= threshold && failure === "" && K !== 0;
}

/**
 * Internal (the WASM gemm calls it first): runs `C = op(A)·op(B)` on several threads when the thread
 * count, the size and the pool allow, and returns true; returns false, having done nothing, when the
 * caller should run the product on one thread. A, B and C share one dtype.
 */
export function threadedGemm(
  backend: WasmBackend,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
): boolean {
  if (!willThread(M, N, K)) return false;
  const f64 = C instanceof Float64Array;
  let p = pool;
  if (p === null || p.backend !== backend || p.size < threads) {
    if (p !== null) void stopPool();
    p = createPool(backend, threads);
    if (p === null) return false;
  }
  if (!started(p)) return false; // workers still starting (browser): this product on one thread
  // split C along N (columns) when M ≤ N, else along M, in whole micro-kernel tiles
  const [rowUnit, colUnit] = f64 ? p.tile.f64 : p.tile.f32;
  const colUnits = Math.ceil(N / colUnit);
  const rowUnits = Math.ceil(M / rowUnit);
  const byCols = (M <= N && colUnits >= 2) || rowUnits < 2;
  const units = byCols ? colUnits : rowUnits;
  const parts = Math.min(threads, units);
  if (parts < 2) return false;
  const S = f64 ? 8 : 4;
  const na = M * K;
  const nb = K * N;
  const nc = M * N;
  const aOff = p.arena;
  const bOff = align64(aOff + na * S);
  const cOff = align64(bOff + nb * S);
  const end = cOff + nc * S;
  if (end > MAX_PAGES * PAGE) return false; // too big for the shared memory: one thread
  grow(p.memory, end);
  const buf = p.memory.buffer;
  copyIn(buf, aOff, A, na);
  copyIn(buf, bOff, B, nb);
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const ctl = p.ctl;
  const seq = (p.seq + 1) | 0;
  p.seq = seq;
  // part t covers units [t·units/parts, (t+1)·units/parts); workers take parts 1.., the caller part 0
  for (let t = parts - 1; t >= 0; t--) {
    const u0 = Math.floor((t * units) / parts);
    const u1 = Math.floor(((t + 1) * units) / parts);
    let m = M;
    let n = N;
    let a = aOff;
    let b = bOff;
    let c = cOff;
    if (byCols) {
      const j0 = u0 * colUnit;
      n = Math.min(N, u1 * colUnit) - j0;
      b += (transB ? j0 * ldb : j0) * S;
      c += j0 * S;
    } else {
      const i0 = u0 * rowUnit;
      m = Math.min(M, u1 * rowUnit) - i0;
      a += (transA ? i0 : i0 * lda) * S;
      c += i0 * N * S;
    }
    const work = p.work + t * p.workBytes;
    if (t === 0) {
      (f64 ? p.f64 : p.f32)(transA ? 1 : 0, transB ? 1 : 0, m, n, K, a, lda, b, ldb, c, N, work);
      continue;
    }
    const s = t * STRIDE;
    const q = s + P;
    ctl[q] = f64 ? 1 : 0;
    ctl[q + 1] = transA ? 1 : 0;
    ctl[q + 2] = transB ? 1 : 0;
    ctl[q + 3] = m;
    ctl[q + 4] = n;
    ctl[q + 5] = K;
    ctl[q + 6] = a;
    ctl[q + 7] = lda;
    ctl[q + 8] = b;
    ctl[q + 9] = ldb;
    ctl[q + 10] = c;
    ctl[q + 11] = N;
    ctl[q + 12] = work;
    ctl[s + KIND] = JOB;
    Atomics.store(ctl, s + SEQ, seq); // publishes the params written above
    Atomics.notify(ctl, s + SEQ);
  }
  // a worker that has not answered by then is taken as hung (a block runs at ≥ 1 GFLOP/s)
  const deadline = Date.now() + HANG_MS + (2 * M * N * K) / 1e6;
  for (let t = 1; t < parts; t++) {
    const s = t * STRIDE;
    for (;;) {
      const done = Atomics.load(ctl, s + DONE);
      if (done === seq) break;
      const failed = Atomics.load(ctl, s + STATE) === FAILED;
      if (failed || Date.now() > deadline) {
        const why = workerReason(p, t);
        fail(failed ? `gemm worker ${t} failed: ${why}` : `gemm worker ${t} did not answer (hung)`);
        return false; // C is incomplete: the caller recomputes all of it on one thread
      }
      Atomics.wait(ctl, s + DONE, done, 200);
    }
  }
  copyOut(buf, cOff, nc === C.length ? C : C.subarray(0, nc));
  threadedCalls++;
  return true;
}
