/**
 * Runs in a Web Worker of a cross-origin-isolated page (bundled by esbuild for the install test):
 * large products split across Web Workers once the pool has started, bit for bit equal to one
 * thread. Posts one result object to the page.
 */
import { kernelInfo, ready, setThreads, tensor } from "@gradgraph/core";
import { matmul } from "@gradgraph/nodes";

const post = (globalThis as unknown as { postMessage(message: unknown): void }).postMessage.bind(globalThis);

async function run(): Promise<Record<string, unknown>> {
  const info = await ready();
  const n = 160;
  const value = (i: number, j: number, s: number) => (((i * 31 + j * 17 + s) % 23) - 11) / 7;
  const A = tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => value(i, j, 1))));
  const B = tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => value(i, j, 5))));
  const single = Array.from(matmul(A, B).data);
  setThreads(2, { threshold: 0 });
  // the pool starts in the background: products run on one thread until its workers are up
  for (let i = 0; i < 250 && kernelInfo().threadedProducts === 0 && kernelInfo().threadsReason === undefined; i++) {
    matmul(A, B);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const threaded = Array.from(matmul(A, B).data);
  const after = kernelInfo();
  return {
    backend: info.backend,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    threadedProducts: after.threadedProducts,
    threadsReason: after.threadsReason ?? null,
    bitIdentical: threaded.length === single.length && threaded.every((v, i) => Object.is(v, single[i])),
  };
}

run().then(post, (e: unknown) => post({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
