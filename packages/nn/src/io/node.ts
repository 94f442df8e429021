/**
 * @internal The Node.js modules the file checkpoints use (`node:fs`, `node:path`, `node:crypto`),
 * reached at call time through `process.getBuiltinModule` (Node.js ≥ 20.16) instead of top-level
 * imports, so that `@gradgraph/nn` bundles for a browser unchanged. There the file functions throw
 * a `CheckpointError` that points at the byte-level `encodeSafetensors` / `decodeSafetensors`.
 */
import type * as Crypto from "node:crypto";
import type * as Fs from "node:fs";
import type * as Path from "node:path";
import { CheckpointError } from "./safetensors.js";

/** The three modules, as Node.js gives them. */
export interface NodeModules {
  fs: typeof Fs;
  path: typeof Path;
  crypto: typeof Crypto;
}

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

let cached: NodeModules | null = null;

/**
 * The Node.js modules, or a `CheckpointError` naming `fn` where there is no Node.js file system
 * (a browser, or Node.js older than 20.16).
 */
export function nodeModules(fn: string): NodeModules {
  if (cached !== null) return cached;
  const proc = (globalThis as { process?: NodeProcess }).process;
  const get = typeof proc?.getBuiltinModule === "function" ? proc.getBuiltinModule.bind(proc) : null;
  if (get === null) {
    throw new CheckpointError(
      fn,
      `${fn}: files need Node.js (>= 20.16, for process.getBuiltinModule); in a browser, use ` +
        "encodeSafetensors / decodeSafetensors on bytes instead",
    );
  }
  cached = {
    fs: get("node:fs") as typeof Fs,
    path: get("node:path") as typeof Path,
    crypto: get("node:crypto") as typeof Crypto,
  };
  return cached;
}

/**
 * How long a temporary file of a live pid may go unwritten before it counts as stale: its writer
 * may be a reused pid, or stopped. A write in progress touches its file far more often.
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** `.<name>.`: how the atomic writer's temporary files of a file named `base` begin. */
export function tempPrefix(base: string): string {
  return `.${base.slice(0, 100)}.`;
}

/** What follows {@link tempPrefix} in a temporary file's name: `<pid>.<16 hex digits>.tmp`. */
const TEMP_SUFFIX = /^([1-9]\d{0,9})\.[0-9a-f]{16}\.tmp$/;

/**
 * Removes the temporary files that killed atomic writes of `dir/base` left behind: regular files
 * named `.<base>.<pid>.<16 hex>.tmp` whose pid is no live process, or that were last written over
 * {@link STALE_TEMP_MS} ago. Best effort: a file that cannot be examined or removed is left.
 */
export function removeStaleTemporaries(modules: NodeModules, dir: string, base: string): void {
  const { fs, path } = modules;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // the write itself reports a missing or unreadable directory
  }
  const prefix = tempPrefix(base);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = TEMP_SUFFIX.exec(name.slice(prefix.length));
    if (m === null) continue;
    const file = path.join(dir, name);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile()) continue;
      if (processAlive(Number(m[1])) && now - st.mtimeMs < STALE_TEMP_MS) continue;
      fs.unlinkSync(file);
    } catch {
      // gone already (another writer cleaned it), or not ours to remove
    }
  }
}

/**
 * Whether a process with this pid runs on this machine. This process counts as live (a worker
 * thread may be writing); so does a process of another user (EPERM).
 */
function processAlive(pid: number): boolean {
  const proc = (globalThis as { process?: { pid?: number; kill?: (pid: number, signal: number) => unknown } }).process;
  if (proc === undefined || typeof proc.kill !== "function") return true;
  if (pid === proc.pid) return true;
  if (!(pid > 0 && pid <= 2 ** 31 - 1)) return false;
  try {
    proc.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
}
