/**
 * The output folder (`--out`), checked and created before the job trains: resolved, walked up to
 * its nearest existing ancestor, which must be a writable folder, and created level by level
 * below it (never `mkdir -p`, whose retry loop spins forever on procfs), then proven writable by
 * creating and removing one file. A problem is one line naming `--out`, the path and the reason.
 */
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { GradgraphError } from "@gradgraph/core";

/** A file operation of the job failed (a bad `--out`, a full disk…): exit code 1. */
export class OutputError extends GradgraphError {
  /** An output problem of the spiral job (`op` is `"spiral"`); `cause` is the Node.js error. */
  constructor(message: string, options?: ErrorOptions) {
    super("spiral", message, options);
  }
}

/** The output folder, ready for writing. */
export interface OutputDir {
  /** Its absolute path. */
  readonly dir: string;
  /** The folders created for it, outermost first (empty when it existed). */
  readonly created: readonly string[];
}

/**
 * Checks and creates the output folder `out` (see the module notes).
 * @param out - the folder as given by `--out` (relative to the working directory).
 * @returns the folder and the levels it created.
 * @throws OutputError naming `--out`, the path and the reason: an ancestor that is a file, a
 *   folder that is not writable, a level that cannot be created, a folder where no file can be
 *   made; what it created is removed again.
 */
export function prepareOutputDir(out: string): OutputDir {
  const dir = resolve(out);
  const fail = (reason: string, cause?: unknown): OutputError =>
    new OutputError(`--out ${JSON.stringify(out)}: ${reason}`, cause === undefined ? undefined : { cause });
  const missing: string[] = [];
  let p = dir;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = codeOf(e);
      // ENOTDIR: a file above it, found further up
      if (code === "ENOENT" || code === "ENOTDIR") {
        const parent = dirname(p);
        if (parent === p) throw fail(`${p} does not exist`, e);
        missing.push(p);
        p = parent;
        continue;
      }
      throw fail(`cannot examine ${name(p, dir)}: ${reason(e)}`, e);
    }
    if (!isDir) throw fail(`${name(p, dir)} is not a folder`);
    break;
  }
  try {
    accessSync(p, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw fail(`${name(p, dir)} is not writable: ${reason(e)}`, e);
  }
  const created: string[] = [];
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
      created.push(level);
    } catch (e) {
      if (codeOf(e) === "EEXIST" && isDirectory(level)) continue; // made meanwhile by someone else
      removeCreated(created);
      const why =
        codeOf(e) === "ENOENT"
          ? "the file system does not allow folders there (ENOENT)"
          : codeOf(e) === "EEXIST"
            ? "it exists and is not a folder (EEXIST)"
            : reason(e);
      throw fail(`cannot create ${name(level, dir)}: ${why}`, e);
    }
  }
  // access() passes for root on procfs and sysfs, which still refuse files: make one to be sure
  const probe = join(dir, `.gradgraph-probe.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (e) {
    removeCreated(created);
    throw fail(`cannot create files in it: ${reason(e)}`, e);
  }
  return { dir, created };
}

/**
 * Removes the folders `prepareOutputDir` created, innermost first, where they are still empty
 * (best effort: a folder that holds files stays).
 */
export function removeCreated(created: readonly string[]): void {
  for (const d of [...created].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (or gone): its parents are not empty either
    }
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `it` for the folder itself, else the path. */
function name(p: string, dir: string): string {
  return p === dir ? "it" : p;
}

/** The Node.js error code, or undefined. */
export function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A Node.js file error as `no such file or directory (ENOENT)`: its text without the syscall and path. */
export function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = codeOf(e);
  const text = message
    .replace(/^E[A-Z]+: /, "")
    .replace(/, \w+ '.*'$/s, "")
    .split("\n")[0]!;
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}
