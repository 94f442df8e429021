#!/usr/bin/env node
// Compiles packages/core/assembly/index.ts (the entry; it re-exports every kernel file in that
// folder) with AssemblyScript into packages/core/build/:
//   kernels-simd.wasm     plain 128-bit SIMD (mul + add)
//   kernels-relaxed.wasm  relaxed SIMD (fused multiply-add)
// and index-threads.ts (index.ts plus the strided gemm) with shared memory imported as env.memory,
// for packages/core/src/kernels/threads.ts (one instance per thread over one shared memory):
//   kernels-threads-simd.wasm, kernels-threads-relaxed.wasm
// The loader (packages/core/src/kernels/wasm.ts) picks the best one that WebAssembly.validate accepts.
// Quiet on success; skips the build when the outputs are newer than the sources. `--force` rebuilds.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const core = join(root, "packages", "core");
const assembly = join(core, "assembly");
const entry = join(assembly, "index.ts");
const threadsEntry = join(assembly, "index-threads.ts");
const outDir = join(core, "build");
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
if (todo.length === 0) process.exit(0);

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
process.exit(errors.length > 0 ? 1 : 0);
