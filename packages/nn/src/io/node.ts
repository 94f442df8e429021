/**
 * @internal The Node.js modules the checkpoint reader uses (`node:fs`, `node:path`, `node:crypto`),
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
