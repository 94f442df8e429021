/**
 * Core as a browser bundle: esbuild bundles the package's entries for the browser (`platform:
 * "browser"`, `format: "esm"`, no plugin, no copied file), and the bundle runs in a `node:vm`
 * context that has what a browser page has and no `process`, `require` or `Buffer`. There:
 * evaluating the modules never touches `process`; ops run on the TypeScript kernels before
 * `ready()` (and never fail); `ready()` resolves with a WASM backend compiled asynchronously from
 * the inlined builds; products after it equal Node's bit for bit; `storage: "wasm"` works before
 * the heap's kernels are compiled and uses them after `ready()`.
 *
 * Globals such as `Float32Array` in the context are the context's own, so results come out as JSON.
 */
import vm from "node:vm";
import { build, transform } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { kernelInfo, setKernelBackend } from "../src/index.js";
import { gemm } from "../src/kernels/index.js";
import { useWasmBuild } from "../src/kernels/runtime/wasm.js";

const entry = (rel: string) => new URL(rel, import.meta.url).pathname;

/** Bundles one entry as the issue asks; returns the ESM text and the imports esbuild left in it. */
async function bundle(file: string): Promise<{ text: string; imports: string[] }> {
  const r = await build({
    entryPoints: [file],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const text = r.outputFiles[0]!.text;
  const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return { text, imports };
}

/** Every `node:` module the text imports or requires (statically or dynamically). */
function nodeImports(text: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](node:[^"']+)["']/g;
  return [...text.matchAll(re)].map((m) => m[1]!);
}

/** What a browser page offers beside the language itself (which the vm context has). */
function browserGlobals(isolated: boolean): Record<string, unknown> {
  return {
    atob,
    btoa,
    console,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    TextDecoder,
    TextEncoder,
    crossOriginIsolated: isolated,
  };
}

interface Loaded {
  context: vm.Context;
  /** Reads of `process` (on the global object) while the bundle was evaluated. */
  processReadsAtLoad: number;
}

/**
 * Evaluates an ESM bundle (as a script: esbuild turns its exports into the global `core`) in a new
 * context, recording every read of the global `process` during the evaluation.
 */
async function evaluate(esm: string, isolated = true): Promise<Loaded> {
  const script = (await transform(esm, { format: "iife", globalName: "core", logLevel: "silent" })).code;
  const context = vm.createContext(browserGlobals(isolated));
  for (const name of ["process", "require", "Buffer", "module", "global"]) {
    expect(vm.runInContext(`typeof ${name}`, context)).toBe("undefined");
  }
  let reads = 0;
  let loading = true;
  Object.defineProperty(vm.runInContext("globalThis", context), "process", {
    configurable: true,
    get() {
      if (loading) reads++;
      return undefined;
    },
  });
  vm.runInContext(`${script}\nglobalThis.core = core;`, context);
  loading = false;
  return { context, processReadsAtLoad: reads };
}

/** Runs an async script (its body may `await`) in the context; resolves with its JSON result. */
async function run<T>(context: vm.Context, body: string): Promise<T> {
  const json = (await vm.runInContext(`(async () => JSON.stringify(await (async () => {${body}})()))()`, context)) as
    | string
    | undefined;
  return JSON.parse(json ?? "null") as T;
}

/** Deterministic operands, made the same way here and in the context. */
const OPERANDS = `
  const M = 37, N = 29, K = 53;
  const A = new Float32Array(M * K), B = new Float32Array(K * N);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(1 + 1.3 * i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(2 + 0.7 * i);
`;

/** The same product in this (Node) process, on the given backend. */
function nodeProduct(backend: "js" | "auto" | "wasm"): number[] {
  const { M, N, K, A, B } = new Function(`${OPERANDS} return { M, N, K, A, B };`)() as {
    M: number;
    N: number;
    K: number;
    A: Float32Array;
    B: Float32Array;
  };
  if (backend !== "wasm") setKernelBackend(backend); // "wasm": keep the build useWasmBuild chose
  const C = new Float32Array(M * N);
  gemm(false, true, M, N, K, A, B.subarray(0, N * K), C);
  return Array.from(C);
}

afterEach(() => setKernelBackend("auto"));

type Info = { backend: string; reason?: string; option: string };

describe("browser bundle of @gradgraph/core", () => {
  it("has no node: import, and evaluating it reads no process", async () => {
    for (const file of [entry("../src/index.ts"), entry("../src/testing/index.ts"), entry("../src/kernels/index.ts")]) {
      const { text, imports } = await bundle(file);
      expect(imports).toEqual([]);
      expect(nodeImports(text)).toEqual([]);
      expect(text).not.toMatch(/\.wasm["'`]/); // no file to fetch or copy
      const { processReadsAtLoad } = await evaluate(text);
      expect(processReadsAtLoad).toBe(0);
    }
    // the checks can fail: a node: import and a read of process at load are seen
    expect(nodeImports('import { readFileSync } from "node:fs"; await import("node:v8")')).toEqual([
      "node:fs",
      "node:v8",
    ]);
    const { processReadsAtLoad } = await evaluate("const env = globalThis.process?.env; export { env };");
    expect(processReadsAtLoad).toBe(1);
  });

  it("runs ops on TypeScript before ready(), on WASM after it, bit for bit as in Node", async () => {
    const { text } = await bundle(entry("./fixtures/browser-entries.ts"));
    const { context } = await evaluate(text);
    const out = await run<{
      before: Info;
      early: number[];
      sum: number[];
      grad: number[];
      wasmRefused: string;
      info: Info;
      after: Info;
      late: number[];
      late2: number[];
    }>(
      context,
      `${OPERANDS}
      const { gemm, kernelInfo, ready, tensor, sumTo, broadcastTo, binaryInto, setKernelBackend } = core;
      const product = () => {
        const C = new Float32Array(M * N);
        gemm(false, true, M, N, K, A, B.subarray(0, N * K), C);
        return Array.from(C);
      };
      const early = product(); // the first kernel use starts the compilation
      const before = kernelInfo();
      let wasmRefused = "";
      try { setKernelBackend("wasm"); } catch (e) { wasmRefused = e.name + ": " + e.message; }
      // more ops before the kernels are live: a large broadcast add and a backward pass
      const sum = new Float32Array(2 * 300);
      binaryInto("add", A.subarray(0, 600), [2, 300], B.subarray(0, 300), [300], sum, [2, 300]);
      const x = tensor(Array.from(A.subarray(0, 300)), { requiresGrad: true });
      sumTo(broadcastTo(x, [3, 300]), []).backward();
      const info = await ready();
      const after = kernelInfo();
      const late = product();
      setKernelBackend("wasm"); // accepted now
      const late2 = product();
      setKernelBackend("auto");
      return { before, early, sum: Array.from(sum), grad: Array.from(x.grad.data), wasmRefused, info, after, late, late2 };
      `,
    );
    expect(out.before).toMatchObject({ backend: "js", option: "auto" });
    expect(out.before.reason).toMatch(/compiling; await ready\(\)/);
    expect(out.wasmRefused).toMatch(/GradgraphError: setKernelBackend: WebAssembly kernels still compiling/);
    expect(out.early).toEqual(nodeProduct("js"));
    expect(out.sum.slice(0, 3)).toEqual(
      [0, 1, 2].map((i) => Math.fround(Math.fround(Math.sin(1 + 1.3 * i)) + Math.fround(Math.cos(2 + 0.7 * i)))),
    );
    expect(out.grad).toEqual(new Array(300).fill(3));
    // relaxed SIMD validates in the context only if Node set its V8 flag earlier in this process
    const build = out.info.backend;
    if (build !== "wasm-relaxed-simd" && build !== "wasm-simd") throw new Error(`no WASM backend: ${build}`);
    expect(out.info.reason).toBeUndefined();
    expect(out.after).toEqual(out.info);
    try {
      useWasmBuild(build); // Node on the same build, also under GRADGRAPH_KERNELS=js
      expect(kernelInfo().backend).toBe(build);
      const nodeWasm = nodeProduct("wasm");
      expect(out.late).toEqual(nodeWasm);
      expect(out.late2).toEqual(nodeWasm);
    } finally {
      useWasmBuild(undefined);
    }
    expect(out.late).not.toEqual(out.early); // WASM sums in another order: the check can tell them apart
  });

  it("storage 'wasm' works before the heap's kernels are compiled and uses them after ready()", async () => {
    const { text } = await bundle(entry("./fixtures/browser-internals.ts"));
    const { context } = await evaluate(text);
    const out = await run<{
      early: number[];
      filled: number[];
      info: Info;
      attached: boolean;
      late: number[];
      resident: boolean[];
    }>(
      context,
      `${OPERANDS}
      const { gemm, ready, tensor, zeros, full, heapKernels } = core;
      // the first kernel use is a resident tensor: the heap exists before any build is compiled
      const a = tensor(A, { storage: "wasm" });
      const b = tensor(B, { storage: "wasm" });
      const filled = Array.from(full([1001], 3, { storage: "wasm" }).data.subarray(995));
      const product = () => {
        const c = zeros([M * N], { storage: "wasm" });
        gemm(false, true, M, N, K, a.data, b.data.subarray(0, N * K), c.data);
        return Array.from(c.data);
      };
      const early = product();
      const info = await ready();
      // ready() waited for the heap's kernels, whose compilation the heap started when it was
      // made: they are there now (heapKernels would only start attaching them, returning null)
      const attached = heapKernels(info.backend) !== null;
      const late = product();
      return { early, filled, info, attached, late, resident: [a.storage === "wasm", a.data.buffer instanceof SharedArrayBuffer] };
      `,
    );
    expect(out.resident).toEqual([true, true]);
    expect(out.filled).toEqual([3, 3, 3, 3, 3, 3]);
    expect(out.early).toEqual(nodeProduct("js"));
    const build = out.info.backend;
    if (build !== "wasm-relaxed-simd" && build !== "wasm-simd") throw new Error(`no WASM backend: ${build}`);
    expect(out.attached).toBe(true);
    try {
      useWasmBuild(build);
      expect(out.late).toEqual(nodeProduct("wasm"));
    } finally {
      useWasmBuild(undefined);
    }
  });

  it("without shared memory, storage 'wasm' says why and the kernels still work; threads say why they are off", async () => {
    const { text } = await bundle(entry("./fixtures/browser-entries.ts"));
    // a page that is not cross-origin isolated: no shared WebAssembly memory
    const { context } = await evaluate(text, false);
    vm.runInContext(
      `const Plain = WebAssembly.Memory;
      WebAssembly.Memory = function Memory(d) {
        if (d && d.shared) throw new TypeError("shared memory needs cross-origin isolation");
        return new Plain(d);
      };
      WebAssembly.Memory.prototype = Plain.prototype;`,
      context,
    );
    const out = await run<{ error: string; info: Info; threads: string[]; late: number[] }>(
      context,
      `${OPERANDS}
      const { gemm, ready, zeros, setThreads, kernelInfo } = core;
      let error = "";
      try { zeros([4], { storage: "wasm" }); } catch (e) { error = e.name + ": " + e.message; }
      const info = await ready();
      setThreads(2, { threshold: 0 });
      const C = new Float32Array(M * N);
      gemm(false, true, M, N, K, A, B.subarray(0, N * K), C);
      const threads = [kernelInfo().threadsReason];
      // a cross-origin-isolated page with workers, on its main thread
      globalThis.crossOriginIsolated = true;
      globalThis.Worker = function Worker() { throw new Error("no worker expected"); };
      globalThis.Blob = function Blob() {};
      globalThis.URL = { createObjectURL: () => "blob:x", revokeObjectURL() {} };
      setThreads(2, { threshold: 0 });
      gemm(false, true, M, N, K, A, B.subarray(0, N * K), C);
      threads.push(kernelInfo().threadsReason);
      globalThis.crossOriginIsolated = false;
      setThreads(2, { threshold: 0 });
      gemm(false, true, M, N, K, A, B.subarray(0, N * K), C);
      threads.push(kernelInfo().threadsReason);
      setThreads(1);
      return { error, info, threads, late: Array.from(C) };
      `,
    );
    expect(out.error).toMatch(
      /^GradgraphError: .*shared WebAssembly memory unavailable \(shared memory needs cross-origin isolation\); the page is not cross-origin isolated/,
    );
    expect(["wasm-relaxed-simd", "wasm-simd"]).toContain(out.info.backend);
    expect(out.threads).toEqual([
      "no Worker or worker_threads in this runtime",
      "Atomics.wait is not allowed on a browser's main thread: call gradgraph from a Web Worker to use threads",
      "the page is not cross-origin isolated (serve it with COOP/COEP headers): no shared memory for threads",
    ]);
    const build = out.info.backend as "wasm-relaxed-simd" | "wasm-simd";
    try {
      useWasmBuild(build);
      expect(out.late).toEqual(nodeProduct("wasm"));
    } finally {
      useWasmBuild(undefined);
    }
  });
});
