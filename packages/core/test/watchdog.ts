/**
 * A watchdog for fuzz tests: a synchronous infinite loop cannot be interrupted by vitest's test
 * timeout (the thread never yields), so the properties run in a worker thread instead. Before
 * each call the worker publishes a sequence number and a description of the input in shared
 * memory; this (the test's) thread polls it, and when one call has been running for longer than
 * `hardTimeoutMs`, it terminates the worker and fails the test with that input. A call that
 * returns but took longer than `softTimeoutMs` fails the property inside the worker, so
 * fast-check shrinks it like any other failure (loop-shaped near-hangs with bounded inputs).
 *
 * Cases live in a module without vitest imports (`*.cases.ts`) that exports `cases: FuzzCases`;
 * the worker loads it through tsx. Usage:
 *
 * ```ts
 * const watchdog = new FuzzWatchdog(new URL("./fuzz-api.cases.ts", import.meta.url));
 * afterAll(() => watchdog.close());
 * for (const name of Object.keys(cases)) it(name, () => watchdog.run(name, RUNS));
 * ```
 *
 * Environment: `FUZZ_RUNS` (runs per case, see fuzz-helpers.ts), `FUZZ_SEED` (fast-check's
 * seed), `FUZZ_HARD_TIMEOUT_MS` and `FUZZ_SOFT_TIMEOUT_MS` (the two bounds), `FUZZ_STATS=1`
 * (print each case's outcomes: how many calls returned, which errors were thrown, the slowest
 * call) or `FUZZ_STATS=2` (the same with each error message's head).
 */
import { Worker } from "node:worker_threads";
import type fc from "fast-check";

/** One fuzzed function: how to generate its arguments, call it, and judge the result. */
export interface FuzzCase {
  /** The argument lists to try. */
  readonly arb: fc.Arbitrary<unknown[]>;
  /** Calls the function under test; may return a Promise (awaited, and judged the same way). */
  readonly call: (args: unknown[]) => unknown;
  /** Checks a returned value (throws to fail); default: a well-formed Tensor. */
  readonly check?: (value: unknown, args: unknown[]) => void;
  /** Names of which one must appear in an error's message (default: the case's key), or a function of the arguments giving them. */
  readonly names?: readonly string[] | ((args: unknown[]) => readonly string[]);
  /** Argument names of which one must also appear in an error's message (default: not checked). */
  readonly argNames?: readonly string[];
  /** Fraction of the run count to use (slow functions; default 1). */
  readonly runs?: number;
}

/** The cases of one test file, by name (`Trainer.fit`, `toDot`, ...). */
export type FuzzCases = Readonly<Record<string, FuzzCase>>;

/** Options of `FuzzWatchdog`. */
export interface WatchdogOptions {
  /** A single call running longer than this is a hang: the worker is terminated (default 15 s). */
  hardTimeoutMs?: number;
  /** A call that returns after longer than this fails its property (default 5 s). */
  softTimeoutMs?: number;
}

/** Layout of the shared progress record (Int32 slots, then the input's UTF-8 text). */
export const SLOT_SEQ = 0;
export const SLOT_BUSY = 1;
export const SLOT_LEN = 2;
export const HEADER_BYTES = 16;
export const TEXT_BYTES = 16 * 1024;

const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

interface Pending {
  name: string;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setInterval>;
}

/** Runs `FuzzCases` in a worker thread and turns hangs into test failures naming the input. */
export class FuzzWatchdog {
  readonly #module: string;
  readonly #hardMs: number;
  readonly #softMs: number;
  #worker: Worker | null = null;
  #ready: Promise<void> | null = null;
  #shared: SharedArrayBuffer | null = null;
  #pending: Pending | null = null;

  /** @param casesModule - URL of a module exporting `cases: FuzzCases` (no vitest imports). */
  constructor(casesModule: URL, options: WatchdogOptions = {}) {
    this.#module = casesModule.href;
    this.#hardMs = options.hardTimeoutMs ?? env("FUZZ_HARD_TIMEOUT_MS", 15_000);
    this.#softMs = options.softTimeoutMs ?? env("FUZZ_SOFT_TIMEOUT_MS", 5_000);
  }

  /**
   * Runs case `name` for `numRuns` inputs (fast-check's random seed, or `FUZZ_SEED`).
   * @returns when every input passed; rejects with fast-check's report, or with the input that
   *   hung, or when the worker dies.
   */
  async run(name: string, numRuns: number): Promise<void> {
    if (this.#pending !== null) throw new Error(`FuzzWatchdog: ${this.#pending.name} is still running`);
    await this.#start();
    const worker = this.#worker!;
    const state = new Int32Array(this.#shared!, 0, HEADER_BYTES / 4);
    const text = new Uint8Array(this.#shared!, HEADER_BYTES, TEXT_BYTES);
    const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
    await new Promise<void>((resolve, reject) => {
      let lastSeq = -1;
      let since = performance.now();
      const timer = setInterval(() => {
        const seq = Atomics.load(state, SLOT_SEQ);
        const busy = Atomics.load(state, SLOT_BUSY) === 1;
        const now = performance.now();
        if (seq !== lastSeq || !busy) {
          lastSeq = seq;
          since = now;
          return;
        }
        if (now - since > this.#hardMs) {
          const len = Math.min(Atomics.load(state, SLOT_LEN), TEXT_BYTES);
          const input = new TextDecoder().decode(text.slice(0, len));
          this.#fail(
            new Error(
              `watchdog: ${name} did not return within ${this.#hardMs} ms (call #${seq}); the worker was terminated. Input: ${input}`,
            ),
          );
        }
      }, 50);
      this.#pending = { name, resolve, reject, timer };
      worker.postMessage({ type: "run", name, numRuns, seed, softTimeoutMs: this.#softMs });
    });
  }

  /** Terminates the worker. */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    this.#ready = null;
    if (w !== null) await w.terminate();
  }

  #start(): Promise<void> {
    if (this.#ready !== null) return this.#ready;
    this.#shared = new SharedArrayBuffer(HEADER_BYTES + TEXT_BYTES);
    const worker = new Worker(new URL("./watchdog-worker.mjs", import.meta.url), {
      workerData: {
        module: this.#module,
        runner: new URL("./watchdog-runner.ts", import.meta.url).href,
        shared: this.#shared,
      },
    });
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      const onReady = (msg: { type: string }) => {
        if (msg.type === "ready") {
          worker.off("message", onReady);
          resolve();
        }
      };
      worker.on("message", onReady);
      worker.once("error", reject);
    });
    worker.on("message", (msg: { type: string; ok?: boolean; report?: string; stats?: Record<string, number> }) => {
      if (msg.type !== "done" || this.#pending === null) return;
      const p = this.#pending;
      if (process.env.FUZZ_STATS !== undefined) console.log(`fuzz stats ${p.name}: ${JSON.stringify(msg.stats)}`);
      this.#pending = null;
      clearInterval(p.timer);
      if (msg.ok === true) p.resolve();
      else p.reject(new Error(msg.report ?? "fuzz property failed"));
    });
    worker.on("error", (err) =>
      this.#fail(new Error(`watchdog: the fuzz worker failed: ${String(err)}`, { cause: err })),
    );
    worker.on("exit", (code) => {
      if (this.#worker === worker) this.#fail(new Error(`watchdog: the fuzz worker exited with code ${code}`));
    });
    return this.#ready;
  }

  #fail(err: Error): void {
    const p = this.#pending;
    this.#pending = null;
    const w = this.#worker;
    this.#worker = null;
    this.#ready = null;
    if (w !== null) void w.terminate();
    if (p !== null) {
      clearInterval(p.timer);
      p.reject(err);
    }
  }
}
