/**
 * Where the WebAssembly kernel builds come from, and how they are compiled, in any runtime.
 *
 * The four builds are inlined in the package as base64 (the generated module wasm-binaries.ts,
 * written by scripts/build-wasm.mjs), so they travel with it and survive any bundler with no plugin
 * and no copied file. A build is decoded (with `atob`) only when it is first needed, and its
 * compiled `WebAssembly.Module` is kept.
 *
 * - In Node (`process.versions.node` is a string), modules compile synchronously at first use
 *   ({@link compileSync}), after turning on relaxed SIMD with `node:v8` (Node 20 has it behind
 *   `--experimental-wasm-relaxed-simd`); `WebAssembly.validate` then decides which build runs.
 * - Elsewhere (a browser), synchronous compilation of large modules is refused on the main thread,
 *   so {@link compileAsync} runs `WebAssembly.compile` and callers use the TypeScript kernels until
 *   it is done ({@link moduleNow} returns undefined meanwhile).
 *
 * Node facilities are reached lazily, at first use, through `process.getBuiltinModule` (Node ≥
 * 20.16): no module of core imports `node:*` or reads `process` when it is evaluated, so a browser
 * bundle of core needs no shim. Internal: not exported from the package index.
 */
import { WASM_BUILDS, type WasmBuildName } from "./wasm-binaries.js";
import { WA } from "./wasm-memory.js";

export type { WasmBuildName } from "./wasm-binaries.js";

/** The parts of Node's `process` the kernels use (all optional: it may be absent or partial). */
interface ProcessLike {
  versions?: { node?: unknown };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

/** The global `process` if there is one (read at call time, never at load). */
function processObject(): ProcessLike | undefined {
  const p = (globalThis as { process?: unknown }).process;
  return typeof p === "object" && p !== null ? (p as ProcessLike) : undefined;
}

/** True in Node (and runtimes that present themselves as Node): kernels compile synchronously. */
export function isNode(): boolean {
  return typeof processObject()?.versions?.node === "string";
}

/**
 * A Node built-in module (`"node:v8"`, `"node:worker_threads"`) through `process.getBuiltinModule`,
 * or undefined where there is none (a browser, Node before 20.16).
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    const p = processObject();
    if (p === undefined || typeof p.getBuiltinModule !== "function") return undefined;
    return (p.getBuiltinModule(id) ?? undefined) as T | undefined;
  } catch {
    return undefined;
  }
}

/** An environment variable, or undefined where there is no `process.env` (or reading it throws). */
export function envVar(name: string): string | undefined {
  try {
    const v = processObject()?.env?.[name];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let relaxedFlagTried = false;

/** In Node 20, turns on relaxed SIMD (it must be set before compiling); a no-op elsewhere or later. */
function enableRelaxedSimd(): void {
  if (relaxedFlagTried) return;
  relaxedFlagTried = true;
  try {
    nodeBuiltin<{ setFlagsFromString(flags: string): void }>("node:v8")?.setFlagsFromString(
      "--experimental-wasm-relaxed-simd",
    );
  } catch {
    // unknown flag in a newer V8 (relaxed SIMD shipped): validate decides
  }
}

/** A build's layout, read at build time: the end of its static data, and gemm's workspace size. */
export function buildLayout(name: WasmBuildName): { heapBase: number; workspaceBytes: number } {
  const b = WASM_BUILDS[name];
  return { heapBase: b.heapBase, workspaceBytes: b.workspaceBytes };
}

/** Decodes a build's base64 with `atob` and validates it; returns the bytes or why not. */
function validBytes(name: WasmBuildName): Uint8Array | string {
  if (typeof WA !== "object" || WA === null) return "WebAssembly unavailable";
  const atob = (globalThis as { atob?: (s: string) => string }).atob;
  if (typeof atob !== "function") return "atob unavailable (cannot decode the inlined kernels)";
  if (isNode()) enableRelaxedSimd();
  let bytes: Uint8Array;
  try {
    const s = atob(WASM_BUILDS[name].base64);
    bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  } catch (e) {
    return `${name}.wasm: cannot decode (${message(e)})`;
  }
  try {
    if (!WA.validate(bytes)) return `${name}.wasm does not validate on this engine`;
  } catch (e) {
    return `${name}.wasm: ${message(e)}`;
  }
  return bytes;
}

/** Compiled modules, or why a build cannot be compiled, by build. */
const modules = new Map<WasmBuildName, object | string>();
/** Asynchronous compilations in flight. */
const compiling = new Map<WasmBuildName, Promise<object | string>>();

/**
 * The build's compiled module, compiling it synchronously if needed (Node; elsewhere only for
 * small modules or off the main thread), or a string saying why it is unavailable.
 */
export function compileSync(name: WasmBuildName): object | string {
  const have = modules.get(name);
  if (have !== undefined) return have;
  const bytes = validBytes(name);
  let m: object | string;
  if (typeof bytes === "string") m = bytes;
  else {
    try {
      m = new WA.Module(bytes);
    } catch (e) {
      m = `${name}.wasm: ${message(e)}`;
    }
  }
  modules.set(name, m);
  return m;
}

/**
 * Resolves with the build's compiled module (or why it is unavailable; never rejects), starting
 * `WebAssembly.compile` if no compilation is done or in flight.
 */
export function compileAsync(name: WasmBuildName): Promise<object | string> {
  const have = modules.get(name);
  if (have !== undefined) return Promise.resolve(have);
  let p = compiling.get(name);
  if (p === undefined) {
    const start = async (): Promise<object | string> => {
      const bytes = validBytes(name);
      if (typeof bytes === "string") return bytes;
      try {
        return await WA.compile(bytes);
      } catch (e) {
        return `${name}.wasm: ${message(e)}`;
      }
    };
    p = start().then((m) => {
      if (!modules.has(name)) modules.set(name, m);
      compiling.delete(name);
      return modules.get(name) ?? m;
    });
    compiling.set(name, p);
  }
  return p;
}

/**
 * The build's module if it can be had now: in Node compiled synchronously, elsewhere the module
 * if an earlier compilation finished, else undefined (having started one in the background).
 */
export function moduleNow(name: WasmBuildName): object | string | undefined {
  if (isNode()) return compileSync(name);
  const have = modules.get(name);
  if (have === undefined) void compileAsync(name);
  return have;
}
