/**
 * Checkpoints on disk: `saveParams` (atomic), `loadParams` and `loadParamsInto`, in the
 * safetensors format (see `safetensors.ts`), and the atomic write itself, `writeFileAtomic`.
 * Node.js only: the file system is reached at call time (io/node.ts), so the package still
 * bundles for a browser, where these throw.
 */
import {
  type AnyTensor,
  ArgumentError,
  writeFileAtomic as coreWriteFileAtomic,
  describeValue,
  FileError,
} from "@gradgraph/core";
import { nodeModules } from "./node.js";
import {
  CheckpointError,
  type DecodeSafetensorsOptions,
  decodeWith,
  type EncodeSafetensorsOptions,
  encodeWith,
  type NamedTensors,
  namedEntries,
  quote,
  showShape,
} from "./safetensors.js";

/** How many mismatches `loadParamsInto` lists before it says "and N more". */
const MAX_LISTED = 10;

/**
 * Saves named tensors to `path` as a safetensors file, atomically (see {@link writeFileAtomic}):
 * the bytes go to a new temporary file `.<name>.<pid>.<random hex>.tmp` in the same directory,
 * are flushed with fsync, and the file is then renamed over `path`. Readers see either the old
 * checkpoint or the new one, never a partial file; on any failure the temporary file is removed
 * and an existing file at `path` is left as it was. A save killed mid-write (SIGKILL, power loss)
 * cannot remove its temporary file: the next save to the same path does, before it writes (see
 * {@link writeFileAtomic} for which files count as stale). (A symbolic link at `path` is replaced
 * by the file, not followed.)
 *
 * @param path - the checkpoint file; its directory must exist.
 * @param params - the tensors by name (a plain object or a Map).
 * @param options - as for `encodeSafetensors`: `dtype` (`F16` halves float32 weights) and `metadata`.
 * @throws ArgumentError when `path` is not a non-empty string or `params` is not named Tensors.
 * @throws CheckpointError when the tensors cannot be encoded (see `encodeSafetensors`) or a file
 *   operation fails (the Node error, with its `code`, is the `cause`).
 */
export function saveParams(path: string, params: NamedTensors, options: EncodeSafetensorsOptions = {}): void {
  const fn = "saveParams";
  checkPath(fn, path);
  const bytes = encodeWith(fn, "params", params, options); // fails before anything touches the disk
  writeAtomic(fn, path, bytes);
}

/**
 * Writes `data` to the file `path` atomically, as `saveParams` writes checkpoints: this is
 * `writeFileAtomic` of `@gradgraph/core` (a temporary file beside `path`, fsync, rename; stale
 * temporary files of killed writes removed first; see there), with its failures reported as a
 * `CheckpointError`.
 *
 * @param path - the file to write; its directory must exist.
 * @param data - the content: bytes, or a string written as UTF-8.
 * @throws ArgumentError naming `writeFileAtomic` when `path` is not a non-empty string or `data`
 *   is neither a string nor a Uint8Array.
 * @throws CheckpointError naming `writeFileAtomic` and the path when a file operation fails (the
 *   Node error, with its `code`, is the `cause`), or where there is no Node.js file system.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  // core's writeFileAtomic checks path and data, with the same messages naming writeFileAtomic
  writeAtomic("writeFileAtomic", path, data);
}

/**
 * The atomic write behind `saveParams` and `writeFileAtomic`: core's `writeFileAtomic`, its
 * `FileError` reported as a `CheckpointError` naming `fn`.
 */
function writeAtomic(fn: string, path: string, bytes: string | Uint8Array): void {
  nodeModules(fn); // where there is no file system, nn's own message (pointing at the byte-level API)
  try {
    coreWriteFileAtomic(path, bytes);
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    const cause = err.cause;
    throw new CheckpointError(fn, `${fn}: could not write ${quote(path)}: ${errorText(cause ?? err)}`, { cause });
  }
}

/**
 * Loads every tensor of a safetensors file, converting the element types as `decodeSafetensors`
 * does (`F32` → float32, `F64` → float64, `F16` and `BF16` → float32, the integer types → int32,
 * `BOOL` → bool).
 *
 * @param path - the checkpoint file.
 * @param options - `maxBytes` rejects a larger file before reading it; `maxHeaderBytes` caps the
 *   JSON header (default 100,000,000).
 * @returns the tensors by name, in the order of their data in the file.
 * @throws CheckpointError when the file cannot be read, is larger than `maxBytes`, or is not a
 *   well-formed safetensors file (every check of `decodeSafetensors`; the message names the path).
 * @throws ArgumentError when `path` is not a non-empty string or an option is invalid.
 */
export function loadParams(path: string, options: DecodeSafetensorsOptions = {}): Map<string, AnyTensor> {
  const fn = "loadParams";
  checkPath(fn, path);
  return decodeWith(fn, readFile(fn, path, options), options, quote(path)).tensors;
}

/**
 * Loads a safetensors file into existing tensors in place (`copy_`, which converts the dtype and
 * bumps each tensor's version). The file and `target` must have exactly the same names with the
 * same shapes; everything is checked before anything is copied, so on error `target` is
 * unchanged.
 *
 * @param path - the checkpoint file.
 * @param target - the tensors to overwrite, by name (a plain object or a Map), e.g. a model's params.
 * @param options - as for `loadParams`.
 * @throws CheckpointError naming every missing or extra tensor and every shape mismatch (with
 *   both shapes), or any problem of `loadParams`.
 * @throws ArgumentError when `path` or `target` has the wrong type.
 */
export function loadParamsInto(path: string, target: NamedTensors, options: DecodeSafetensorsOptions = {}): void {
  const fn = "loadParamsInto";
  checkPath(fn, path);
  const wanted = new Map(namedEntries(fn, "target", target));
  const loaded = decodeWith(fn, readFile(fn, path, options), options, quote(path)).tensors;

  const problems: string[] = [];
  for (const [name, t] of wanted) {
    const src = loaded.get(name);
    if (src === undefined) {
      problems.push(`tensor ${quote(name)} (target shape ${showShape(t.shape)}) is missing from the file`);
    } else if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      problems.push(
        `tensor ${quote(name)} has shape ${showShape(src.shape)} in the file but ${showShape(t.shape)} in the target`,
      );
    }
  }
  for (const [name, src] of loaded) {
    if (!wanted.has(name)) {
      problems.push(`the file has tensor ${quote(name)} (shape ${showShape(src.shape)}) that the target does not`);
    }
  }
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED).join("; ");
    const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : "";
    throw new CheckpointError(fn, `${fn}: ${quote(path)} does not match the target: ${listed}${more}`);
  }
  for (const [name, t] of wanted) t.copy_(loaded.get(name)!);
}

function checkPath(fn: string, path: unknown): void {
  if (typeof path !== "string" || path.length === 0) {
    throw new ArgumentError(fn, `${fn}: path must be a non-empty string, got ${describeValue(path)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads a whole regular file, refusing one larger than `options.maxBytes` before reading it. */
function readFile(fn: string, path: string, options: DecodeSafetensorsOptions): Uint8Array {
  const maxBytes = options?.maxBytes;
  if (maxBytes !== undefined && (typeof maxBytes !== "number" || Number.isNaN(maxBytes) || maxBytes < 0)) {
    throw new ArgumentError(
      fn,
      `${fn}: options.maxBytes must be a non-negative number, got ${describeValue(maxBytes)}`,
    );
  }
  const { closeSync, fstatSync, openSync, readSync } = nodeModules(fn).fs;
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CheckpointError(fn, `${fn}: ${quote(path)} is not a regular file`);
    if (maxBytes !== undefined && stat.size > maxBytes) {
      throw new CheckpointError(
        fn,
        `${fn}: ${quote(path)}: the file is ${stat.size} bytes, more than maxBytes = ${maxBytes}`,
      );
    }
    const bytes = new Uint8Array(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break; // the file shrank while open; the decoder reports the truncation
      read += n;
    }
    return read === bytes.length ? bytes : bytes.subarray(0, read);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(fn, `${fn}: could not read ${quote(path)}: ${errorText(err)}`, { cause: err });
  } finally {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // the bytes are already read (or the original error is the one to report)
      }
    }
  }
}
