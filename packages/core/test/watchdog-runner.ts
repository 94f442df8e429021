/**
 * The worker side of the fuzz watchdog (see watchdog.ts): runs one case's property at a time with
 * fast-check and publishes each call's input in shared memory before making the call.
 */
import { parentPort } from "node:worker_threads";
import fc from "fast-check";
import { expectGracefulAsync, show } from "./fuzz-helpers.js";
import { type FuzzCases, HEADER_BYTES, SLOT_BUSY, SLOT_LEN, SLOT_SEQ, TEXT_BYTES } from "./watchdog.js";

interface RunMessage {
  type: "run";
  name: string;
  numRuns: number;
  seed: number | undefined;
  softTimeoutMs: number;
}

/** Loads the cases module and answers `run` messages until the thread is terminated. */
export async function serve(moduleHref: string, shared: SharedArrayBuffer): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error("watchdog-runner: not in a worker thread");
  const { cases } = (await import(moduleHref)) as { cases: FuzzCases };
  const state = new Int32Array(shared, 0, HEADER_BYTES / 4);
  const text = new Uint8Array(shared, HEADER_BYTES, TEXT_BYTES);
  const encoder = new TextEncoder();
  const publish = (args: readonly unknown[]): void => {
    Atomics.add(state, SLOT_SEQ, 1);
    Atomics.store(state, SLOT_BUSY, 1);
    let desc: string;
    try {
      desc = show(args);
    } catch (e) {
      desc = `(input not printable: ${String(e)})`;
    }
    // long inputs keep their head and tail (a 5,000-character string would hide the rest)
    const cut = TEXT_BYTES / 8;
    const short = desc.length > 2 * cut ? `${desc.slice(0, cut)} … ${desc.slice(-cut)}` : desc;
    const { written } = encoder.encodeInto(short, text);
    Atomics.store(state, SLOT_LEN, written);
  };

  port.on("message", async (msg: RunMessage) => {
    if (msg.type !== "run") return;
    const c = cases[msg.name];
    if (c === undefined) {
      port.postMessage({ type: "done", ok: false, report: `no fuzz case named ${msg.name}` });
      return;
    }
    const label = msg.name;
    // outcomes, for FUZZ_STATS=1: how many calls returned, and which errors the others threw
    const stats: Record<string, number> = {};
    const count = (k: string) => {
      stats[k] = (stats[k] ?? 0) + 1;
    };
    const property = fc.asyncProperty(c.arb, async (args) => {
      publish(args);
      const names = typeof c.names === "function" ? c.names(args) : (c.names ?? [label]);
      const t0 = performance.now();
      try {
        const thrown = await expectGracefulAsync(
          label,
          args,
          () => c.call(args),
          c.check === undefined ? undefined : (v) => c.check!(v, args),
          names,
          c.argNames,
        );
        const detail = process.env.FUZZ_STATS === "2" ? `: ${String((thrown as Error)?.message).slice(0, 90)}` : "";
        count(thrown === undefined ? "returned" : `${(thrown as Error).name}${detail}`);
      } finally {
        Atomics.store(state, SLOT_BUSY, 0);
      }
      const ms = performance.now() - t0;
      stats.maxMs = Math.max(stats.maxMs ?? 0, Math.round(ms));
      if (ms > msg.softTimeoutMs) {
        throw new Error(`${label} took ${ms.toFixed(0)} ms, more than ${msg.softTimeoutMs} ms, for ${show(args)}`);
      }
    });
    try {
      const numRuns = Math.max(1, Math.ceil(msg.numRuns * (c.runs ?? 1)));
      const params = { numRuns, includeErrorInReport: true };
      const details = await fc.check(property, msg.seed === undefined ? params : { ...params, seed: msg.seed });
      port.postMessage({ type: "done", ok: !details.failed, report: fc.defaultReportMessage(details), stats });
    } catch (e) {
      port.postMessage({ type: "done", ok: false, report: `fuzz runner failed: ${String(e)}` });
    }
  });
  port.postMessage({ type: "ready" });
}
