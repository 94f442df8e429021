/**
 * The atomic file write that every gradgraph package saving a file uses (nn's checkpoints and
 * report pages, onnx's models): a temporary file beside the target, fsync, rename. Node.js only:
 * `node:fs`, `node:path` and `node:crypto` are reached at call time through
 * `process.getBuiltinModule` (Node.js ≥ 20.16), so the package still bundles for a browser, where
 * the write throws a `FileError`.
 */
import type * as Crypto from "node:crypto";
import type * as Fs from "node:fs";
import type * as Path from "node:path";
import { ArgumentError, describeValue, GradgraphError } from "./errors.js";
import { isRevoked } from "./validate.js";

/**
 * A file that could not be written: the underlying Node.js error (with its `code`) is the
 * `cause`; or there is no Node.js file system (a browser).
 */
export class FileError extends GradgraphError {}

/** The three modules, as Node.js gives them. */
interface NodeModules {
  fs: typeof Fs;
  path: typeof Path;
  crypto: typeof Crypto;
}

let cached: NodeModules | null = null;

/** The Node.js modules, or a `FileError` naming `fn` where there is no Node.js file system. */
function nodeModules(fn: string): NodeModules {
  if (cached !== null) return cached;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = typeof proc?.getBuiltinModule === "function" ? proc.getBuiltinModule.bind(proc) : null;
  if (get === null) {
    throw new FileError(fn, `${fn}: files need Node.js (>= 20.16, for process.getBuiltinModule)`);
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
const STALE_TEMP_MS = 60 * 60 * 1000;

/** `.<name>.`: how the temporary files of a file named `base` begin. */
function tempPrefix(base: string): string {
  return `.${base.slice(0, 100)}.`;
}

/** What follows {@link tempPrefix} in a temporary file's name: `<pid>.<16 hex digits>.tmp`. */
const TEMP_SUFFIX = /^([1-9]\d{0,9})\.[0-9a-f]{16}\.tmp$/;

/**
 * Writes `data` to the file `path` atomically: to a new temporary file
 * `.<name>.<pid>.<16 hex digits>.tmp` beside `path` (created exclusively, never following a
 * link), flushed with fsync, then renamed over `path`, and the directory flushed where the
 * platform allows. A reader, or a process killed at any moment, sees the old file or the new one,
 * never a partial one. On failure the temporary file is removed and `path` is untouched. (A
 * symbolic link at `path` is replaced by the file, not followed.)
 *
 * Before writing it removes the stale temporary files of `path` that killed writes left behind:
 * regular files in the same directory whose name is exactly the pattern above for this `path`
 * (the name cut to its first 100 characters, as the writer cuts it) and whose process is gone (no
 * live process has that pid), or that nobody has written to for over an hour (the pid may have
 * been reused, or the writer is stopped). A concurrent write by another live process keeps its
 * temporary file. Files of other names, and the temporary files of other paths, are never
 * touched. (Liveness is judged on this machine: on a network file system shared with writers on
 * other machines, such a writer's temporary file can be taken for stale, and its write then fails
 * with ENOENT; it never corrupts `path`.)
 *
 * @param path - the file to write; its directory must exist.
 * @param data - the content: bytes, or a string written as UTF-8.
 * @throws ArgumentError naming `writeFileAtomic` when `path` is not a non-empty string or `data`
 *   is neither a string nor a Uint8Array (or its buffer was detached).
 * @throws FileError naming `writeFileAtomic` and the path when a file operation fails (the Node
 *   error, with its `code`, is the `cause`), or where there is no Node.js file system.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const fn = "writeFileAtomic";
  if (typeof path !== "string" || path.length === 0) {
    throw new ArgumentError(fn, `${fn}: path must be a non-empty string, got ${describeValue(path)}`);
  }
  let bytes: Uint8Array;
  if (typeof data === "string") bytes = new TextEncoder().encode(data);
  else if (isUint8Array(data)) {
    if (data.byteLength === 0 && detached(data)) {
      throw new ArgumentError(fn, `${fn}: data's ArrayBuffer was detached (transferred); it cannot be read`);
    }
    bytes = data;
  } else throw new ArgumentError(fn, `${fn}: data must be a string or a Uint8Array, got ${describeValue(data)}`);
  writeAtomic(fn, path, bytes);
}

/** `v instanceof Uint8Array`, false for a revoked Proxy (whose prototype cannot be read). */
function isUint8Array(v: unknown): v is Uint8Array {
  if (typeof v !== "object" || v === null || isRevoked(v)) return false;
  try {
    return v instanceof Uint8Array;
  } catch {
    return false;
  }
}

/** True for a view over a detached (transferred) buffer, which would write as an empty file. */
function detached(view: Uint8Array): boolean {
  try {
    new Uint8Array(view.buffer, 0, 0); // cannot be made over a detached buffer
    return false;
  } catch {
    return true;
  }
}

/** The atomic write, for checked arguments; errors name `fn`. */
function writeAtomic(fn: string, path: string, bytes: Uint8Array): void {
  const modules = nodeModules(fn);
  const { fs, path: paths, crypto } = modules;
  const { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } = fs;
  const target = paths.resolve(path);
  const dir = paths.dirname(target);
  const base = paths.basename(target);
  removeStaleTemporaries(modules, dir, base);
  const tmp = paths.join(dir, `${tempPrefix(base)}${process.pid}.${crypto.randomBytes(8).toString("hex")}.tmp`);
  let fd: number | null = null;
  let created = false;
  try {
    fd = openSync(tmp, "wx"); // exclusive: never reuses or follows an existing file
    created = true;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    const done = fd;
    fd = null;
    closeSync(done);
    renameSync(tmp, target);
    created = false;
  } catch (err) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing more can be done; the original error is the one to report
      }
    }
    const shown = JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path);
    throw new FileError(fn, `${fn}: could not write ${shown}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  syncDirectory(fs, dir);
}

/**
 * Removes the temporary files that killed atomic writes of `dir/base` left behind: regular files
 * named `.<base>.<pid>.<16 hex>.tmp` whose pid is no live process, or that were last written over
 * {@link STALE_TEMP_MS} ago. Best effort: a file that cannot be examined or removed is left.
 */
function removeStaleTemporaries(modules: NodeModules, dir: string, base: string): void {
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

/** Flushes the directory entry of a rename to disk where the platform allows it (best effort). */
function syncDirectory(fs: NodeModules["fs"], dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // not supported everywhere (e.g. Windows); the rename itself has already happened
  } finally {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}
