/**
 * The gemm worker's source, inline: threads.ts starts each worker from this text (Node:
 * `new Worker(source, { eval: true })`; a browser: a `Blob` URL), so no script file has to travel
 * with the package or survive a bundler. It is plain JavaScript in a string, not a function's
 * `toString()`, so that no transform (type stripping, coverage, name-keeping helpers of a bundler)
 * can change it or make it refer to anything outside itself.
 *
 * Protocol. The worker receives `{ module, memory, control, slot, text }` (Node: `workerData`; a
 * browser: the first message): a compiled threaded kernel build, the shared `WebAssembly.Memory` it
 * imports, the control block (a `SharedArrayBuffer`, read as `Int32Array`), this worker's slot in
 * it and the byte offset of its reason text. It instantiates the module over the memory, reports
 * READY, then loops: wait until the slot's SEQ changes, run the strided gemm the slot describes on
 * its block of C, store DONE = SEQ and notify. A failure writes its reason into the control block
 * (not a message: the creating thread may be blocked in `Atomics.wait`, unable to receive one) and
 * sets STATE = FAILED.
 *
 * Internal: not exported from the package index.
 */

// Control block: one slot of STRIDE Int32 per thread (slot 0, the caller's, is unused), 128 bytes
// apart so workers do not share cache lines; after the slots, TEXT_CHARS UTF-16 units of reason
// text per slot.
/** Int32 per slot. */
export const STRIDE = 32;
/** Job number, written by the caller. */
export const SEQ = 0;
/** Job number last finished, written by the worker. */
export const DONE = 1;
/** STARTING (0), READY or FAILED, written by the worker. */
export const STATE = 2;
/** JOB or EXIT, written by the caller. */
export const KIND = 3;
/** Params: f64, transA, transB, M, N, K, a, lda, b, ldb, c, ldc, work. */
export const P = 4;
/** Length of the reason text, written by the worker (after the text). */
export const TEXT_LEN = P + 13;
/** UTF-16 units of reason text per slot. */
export const TEXT_CHARS = 256;
/** STATE: the worker instantiated the kernels and waits for jobs. */
export const READY = 1;
/** STATE: the worker failed (its reason is in the text area). */
export const FAILED = 2;
/** KIND: run the job in the slot. */
export const JOB = 0;
/** KIND: exit. */
export const EXIT = 1;

/**
 * Helpers every worker body can use: the layout constants, `report(d, text)` (writes the reason),
 * `failWith(d, text)` (reports it, sets FAILED and wakes a waiting caller) and `start(main)` (gets
 * the worker's data in Node or a browser and calls `main(data)`).
 */
export const WORKER_PRELUDE = `"use strict";
const STRIDE = ${STRIDE}, SEQ = ${SEQ}, DONE = ${DONE}, STATE = ${STATE}, KIND = ${KIND}, P = ${P};
const TEXT_LEN = ${TEXT_LEN}, TEXT_CHARS = ${TEXT_CHARS}, READY = ${READY}, FAILED = ${FAILED}, EXIT = ${EXIT};
function report(d, text) {
  const ctl = new Int32Array(d.control);
  const s = String(text).slice(0, TEXT_CHARS);
  const u = new Uint16Array(d.control, d.text, TEXT_CHARS);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  Atomics.store(ctl, d.slot * STRIDE + TEXT_LEN, s.length);
}
function failWith(d, text) {
  const ctl = new Int32Array(d.control);
  const base = d.slot * STRIDE;
  report(d, text);
  Atomics.store(ctl, base + STATE, FAILED);
  Atomics.notify(ctl, base + STATE);
  Atomics.notify(ctl, base + DONE); // a caller waiting for this slot's result sees FAILED
}
function start(main) {
  const p = typeof process === "object" && process !== null ? process : undefined;
  const wt = p && typeof p.getBuiltinModule === "function" ? p.getBuiltinModule("node:worker_threads") : undefined;
  if (wt && !wt.isMainThread) main(wt.workerData);
  else self.onmessage = (e) => { self.onmessage = null; main(e.data); };
}
`;

/** The gemm worker's own code (after {@link WORKER_PRELUDE}). */
export const GEMM_WORKER_BODY = `
start((d) => {
  const ctl = new Int32Array(d.control);
  const base = d.slot * STRIDE;
  const why = (e) => (e instanceof Error ? e.message : String(e));
  let f32;
  let f64;
  try {
    const instance = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
    f32 = instance.exports.gemm_f32_ld;
    f64 = instance.exports.gemm_f64_ld;
    if (typeof f32 !== "function" || typeof f64 !== "function") throw new Error("module lacks gemm_f32_ld/gemm_f64_ld");
  } catch (e) {
    failWith(d, "gemm worker could not instantiate the kernels: " + why(e));
    return;
  }
  // read SEQ before reporting READY: the caller may post the first job right after READY
  let seen = Atomics.load(ctl, base + SEQ);
  Atomics.store(ctl, base + STATE, READY);
  Atomics.notify(ctl, base + STATE);
  for (;;) {
    Atomics.wait(ctl, base + SEQ, seen);
    const seq = Atomics.load(ctl, base + SEQ);
    if (seq === seen) continue;
    seen = seq;
    if (ctl[base + KIND] === EXIT) {
      if (typeof self === "object" && typeof self.close === "function") self.close();
      return;
    }
    const q = base + P;
    try {
      (ctl[q] === 1 ? f64 : f32)(
        ctl[q + 1], ctl[q + 2], ctl[q + 3], ctl[q + 4], ctl[q + 5], ctl[q + 6],
        ctl[q + 7], ctl[q + 8], ctl[q + 9], ctl[q + 10], ctl[q + 11], ctl[q + 12],
      );
    } catch (e) {
      failWith(d, "gemm worker failed: " + why(e));
      return;
    }
    Atomics.store(ctl, base + DONE, seq);
    Atomics.notify(ctl, base + DONE);
  }
});
`;

/** A worker's whole source: the prelude, then `body` (which calls `start`). */
export function workerSource(body: string): string {
  return WORKER_PRELUDE + body;
}
