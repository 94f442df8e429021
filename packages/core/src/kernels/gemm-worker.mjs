// gradgraph gemm worker (plain JavaScript, so it runs under tsx, vitest and plain node alike).
//
// Started by packages/core/src/kernels/threads.ts with workerData { module, memory, control, slot,
// port }: a compiled threaded kernel build, the shared WebAssembly.Memory it imports, the shared
// control block (Int32Array) and this worker's slot in it. The worker instantiates the module over
// the shared memory, reports READY, then loops: wait until the slot's SEQ changes, run the strided
// gemm described by the slot's fields on its block of C, store DONE = SEQ and notify. The layout of
// a slot is defined in threads.ts (the constants below must match it).
import { workerData } from "node:worker_threads";

const STRIDE = 32;
const SEQ = 0;
const DONE = 1;
const STATE = 2;
const KIND = 3;
const P = 4; // params: f64, transA, transB, M, N, K, a, lda, b, ldb, c, ldc (work is per slot, P + 12)

const READY = 1;
const FAILED = 2;
const EXIT = 1;

const { module, memory, control, slot, port } = workerData;
const ctl = new Int32Array(control);
const base = slot * STRIDE;

function fail(what, e) {
  port.postMessage(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  Atomics.store(ctl, base + STATE, FAILED);
  Atomics.notify(ctl, base + STATE);
  // wake a main thread waiting for this slot's result; it sees STATE = FAILED
  Atomics.notify(ctl, base + DONE);
}

function main() {
  let f32;
  let f64;
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    f32 = instance.exports.gemm_f32_ld;
    f64 = instance.exports.gemm_f64_ld;
    if (typeof f32 !== "function" || typeof f64 !== "function") throw new Error("module lacks gemm_f32_ld/gemm_f64_ld");
  } catch (e) {
    fail("gemm worker could not instantiate the kernels", e);
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
    if (ctl[base + KIND] === EXIT) return;
    const q = base + P;
    try {
      (ctl[q] === 1 ? f64 : f32)(
        ctl[q + 1],
        ctl[q + 2],
        ctl[q + 3],
        ctl[q + 4],
        ctl[q + 5],
        ctl[q + 6],
        ctl[q + 7],
        ctl[q + 8],
        ctl[q + 9],
        ctl[q + 10],
        ctl[q + 11],
        ctl[q + 12],
      );
    } catch (e) {
      fail("gemm worker failed", e);
      return;
    }
    Atomics.store(ctl, base + DONE, seq);
    Atomics.notify(ctl, base + DONE);
  }
}

main();
