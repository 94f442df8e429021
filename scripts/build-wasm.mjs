#!/usr/bin/env node
// Compiles packages/core/assembly/index.ts (the entry; it re-exports every kernel file in that
// folder) with AssemblyScript into packages/core/build/:
//   kernels-simd.wasm     plain 128-bit SIMD (mul + add)
//   kernels-relaxed.wasm  relaxed SIMD (fused multiply-add)
// and index-threads.ts (index.ts plus the strided gemm) with shared memory imported as env.memory,
// for packages/core/src/kernels/runtime/threads.ts (one instance per thread over one shared memory):
//   kernels-threads-simd.wasm, kernels-threads-relaxed.wasm
// build/ is only an intermediate: the four builds are then inlined, as base64, into the generated
// module packages/core/src/kernels/runtime/wasm-binaries.ts (gitignored, deterministic: the same .wasm files
// give the same text), with layout facts read here by instantiating each build: heapBase() (the end
// of its static data) and workspaceBytes() (gemm's packing workspace), so that the heap
// (src/kernels/runtime/heap.ts) can reserve its region before any build is compiled. The threaded builds
// must lay out their static data identically (both are instantiated over one heap memory); the
// script fails if they do not. The loader (packages/core/src/kernels/runtime/loader.ts and wasm.ts) decodes
// and compiles only the build it needs, at first use, and picks the best one that
// WebAssembly.validate accepts.
// Quiet on success; skips the compile when the .wasm outputs are newer than the sources, and
// regenerates wasm-binaries.ts when it is missing or older than them. `--force` rebuilds everything.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const core = join(root, "packages", "core");
const assembly = join(core, "assembly");
const entry = join(assembly, "index.ts");
const threadsEntry = join(assembly, "index-threads.ts");
const outDir = join(core, "build");
const binariesModule = join(core, "src", "kernels", "runtime", "wasm-binaries.ts");
const self = fileURLToPath(import.meta.url);

/** Pages (64 KiB) of the threaded builds' shared memory: 2 GiB at most, so pointers fit an i32. */
const THREADS_MAX_PAGES = 32768;
const sharedMemory = [
  "--enable",
  "threads",
  "--sharedMemory",
  "--importMemory",
  "--maximumMemory",
  `${THREADS_MAX_PAGES}`,
];
const builds = [
  { out: "kernels-simd.wasm", source: entry, features: ["simd"], extra: [] },
  { out: "kernels-relaxed.wasm", source: entry, features: ["simd", "relaxed-simd"], extra: [] },
  { out: "kernels-threads-simd.wasm", source: threadsEntry, features: ["simd"], extra: sharedMemory },
  {
    out: "kernels-threads-relaxed.wasm",
    source: threadsEntry,
    features: ["simd", "relaxed-simd"],
    extra: sharedMemory,
  },
];

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
const sources = readdirSync(assembly).map((f) => join(assembly, f));
const newest = Math.max(mtime(self), ...sources.map(mtime));
const force = process.argv.includes("--force");
const todo = builds.filter((b) => force || mtime(join(outDir, b.out)) < newest);
const newestOutput = Math.max(newest, ...builds.map((b) => mtime(join(outDir, b.out))));
if (todo.length === 0 && mtime(binariesModule) >= newestOutput) process.exit(0);
if (todo.length === 0) {
  writeBinaries();
  process.exit(0);
}

const ascBin = join(core, "node_modules", "assemblyscript", "bin", "asc.js");
if (!existsSync(ascBin)) {
  console.error(`build-wasm: ${ascBin} is missing; run pnpm install first`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

/** Compiles one build in a child process (the builds run in parallel); resolves to an error text or "". */
function compile(b) {
  const args = [
    ascBin,
    b.source,
    "--outFile",
    join(outDir, b.out),
    "-O3",
    "--noAssert",
    "--runtime",
    "stub",
    "--initialMemory",
    "1",
    ...b.features.flatMap((f) => ["--enable", f]),
    ...b.extra,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d) => {
      log += d;
    });
    child.stderr.on("data", (d) => {
      log += d;
    });
    child.on("error", (e) => resolve(`${b.out}: ${e.message}`));
    child.on("close", (code) => resolve(code === 0 ? "" : `${b.out} failed (exit ${code}):\n${log}`));
  });
}

const errors = (await Promise.all(todo.map(compile))).filter((e) => e !== "");
for (const e of errors) console.error(`build-wasm: ${e}`);
if (errors.length > 0) process.exit(1);
writeBinaries();

/**
 * Instantiates one build (over a fresh shared memory when it imports one) and reads its layout:
 * heapBase(), workspaceBytes() and the static data below heapBase.
 */
function layout(bytes) {
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: THREADS_MAX_PAGES, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const mem = ex.memory instanceof WebAssembly.Memory ? ex.memory : memory;
  const heapBase = Number(ex.heapBase());
  const workspaceBytes = Number(ex.workspaceBytes());
  const statics = Buffer.from(new Uint8Array(mem.buffer, 0, heapBase));
  return { heapBase, workspaceBytes, statics };
}

/** Writes wasm-binaries.ts from the four .wasm files (exits with a message when one cannot be read). */
function writeBinaries() {
  try {
    // Node 20 accepts relaxed SIMD only behind this flag (ignored where it shipped)
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // a V8 without the flag: relaxed SIMD is on
  }
  const entries = [];
  let threadedStatics = null;
  for (const b of builds) {
    const file = join(outDir, b.out);
    let bytes;
    let facts;
    try {
      bytes = readFileSync(file);
      facts = layout(bytes);
    } catch (e) {
      console.error(`build-wasm: cannot read the layout of ${file}: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    }
    if (b.source === threadsEntry) {
      if (threadedStatics !== null && !threadedStatics.equals(facts.statics)) {
        console.error(
          "build-wasm: the threaded builds lay out their static data differently; the heap needs one layout",
        );
        process.exit(1);
      }
      threadedStatics = facts.statics;
    }
    const name = b.out.replace(/\.wasm$/, "");
    entries.push(
      `  "${name}": {\n` +
        `    heapBase: ${facts.heapBase},\n` +
        `    workspaceBytes: ${facts.workspaceBytes},\n` +
        `    base64:\n      "${bytes.toString("base64")}",\n` +
        "  },",
    );
  }
  const text = `// Generated by scripts/build-wasm.mjs from packages/core/build/*.wasm: do not edit, not committed.
// The four kernel builds as base64 (decoded with atob, only the build in use, at first use, by
// loader.ts) and each build's layout, read at build time by instantiating it.

/** The kernel builds: single-thread, and threaded (shared memory imported as env.memory). */
export type WasmBuildName = "kernels-simd" | "kernels-relaxed" | "kernels-threads-simd" | "kernels-threads-relaxed";

/** One build: its layout and its bytes. */
export interface WasmBuildData {
  /** heapBase(): the first byte past the build's static data (64-byte aligned). */
  heapBase: number;
  /** workspaceBytes(): the size of gemm's packing workspace, placed at heapBase. */
  workspaceBytes: number;
  /** The .wasm file, base64. */
  base64: string;
}

/** Every build, by name. */
export const WASM_BUILDS: Readonly<Record<WasmBuildName, WasmBuildData>> = {
${entries.join("\n")}
};
`;
  writeFileSync(binariesModule, text);
}
