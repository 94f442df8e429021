#!/usr/bin/env node
// Builds what the packages ship: the WebAssembly kernels (scripts/build-wasm.mjs) and each
// package's dist/, in dependency order, so that a package compiles against the .d.ts of the ones it
// imports:
//   - .d.ts files from tsc (which also type-checks the package against its dependencies' builds);
//   - one ESM .js file per entry point of the package's `exports` (and `bin`), bundled by esbuild
//     with source maps (sources inlined); dependencies stay imports, and code shared by two entries
//     goes to a chunk, so module state (the Tensor class, the grad mode) exists once. One file
//     instead of one per source module: Node.js 20's ESM loader takes ~1.5 ms per module, and the
//     ~60 modules of core + nodes + nn cost the spiral job ~100 ms at start-up. A package is rebuilt only when one of
// its inputs (src/, package.json, tsconfig.build.json, the base tsconfig, a dependency's build) is
// newer than its dist/; its dist/ is emptied first, so no file of a deleted source stays behind.
//
// Usage: node scripts/build.mjs [--force] [--quiet]
// Prints one line per step (unless --quiet); exits non-zero with tsc's messages when a build fails.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** In dependency order: core ← nodes ← nn; viz ← core (nodes for its tests only); onnx ← core, nodes; the app last. */
export const PACKAGES = [
  "packages/core",
  "packages/nodes",
  "packages/viz",
  "packages/nn",
  "packages/onnx",
  "apps/spiral",
];
/** When each package was last built (outside dist/, which is published as is). */
const STAMPS = join(root, "node_modules", ".cache", "gradgraph-build");

/** The newest modification time under `path` (a file or a folder, recursively), or -1. */
function newest(path) {
  if (!existsSync(path)) return -1;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

const stampFile = (pkg) => join(STAMPS, `${pkg.replace("/", "-")}.stamp`);

function stampTime(pkg) {
  const p = stampFile(pkg);
  return existsSync(p) && existsSync(join(root, pkg, "dist")) ? statSync(p).mtimeMs : -1;
}

/**
 * Runs one step and prints one line: `label… 1.2 s`, `label… up to date` (when `run` returns
 * "skipped"), or `label… failed` followed by the error on stderr. Returns false when it failed.
 */
export function step(label, quiet, run) {
  const t0 = performance.now();
  if (!quiet) process.stdout.write(`${label}… `);
  let result;
  try {
    result = run();
  } catch (e) {
    if (!quiet) process.stdout.write("failed\n");
    process.stderr.write(`${String(e instanceof Error ? e.message : e).trimEnd()}\n`);
    return false;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (!quiet) process.stdout.write(result === "skipped" ? "up to date\n" : `${secs} s\n`);
  return true;
}

/**
 * The entry points of a package: each `exports` subpath's source (its "@gradgraph/source" target)
 * and each `bin`, by output name (the path under dist/ without ".js").
 */
function entryPoints(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entries = {};
  const add = (dist, src) => {
    const name = dist.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
    entries[name] = join(dir, src);
  };
  for (const target of Object.values(pkg.exports ?? {})) {
    if (typeof target === "object" && target["@gradgraph/source"]) add(target.default, target["@gradgraph/source"]);
  }
  for (const dist of Object.values(pkg.bin ?? {}))
    add(dist, dist.replace(/^\.\/dist\//, "./src/").replace(/\.js$/, ".ts"));
  return entries;
}

/** Bundles a package's entry points into dist/ (see the header). */
function bundle(dir) {
  // loaded here, not at the top: scripts/setup.mjs imports this file before the install that brings esbuild
  const { buildSync } = createRequire(import.meta.url)("esbuild");
  buildSync({
    entryPoints: entryPoints(dir),
    outdir: join(dir, "dist"),
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    format: "esm",
    platform: "neutral",
    target: "es2022",
    packages: "external",
    // not keepNames: it wraps every closure in a naming call, hot ones included. Only private
    // helpers whose names collide get renamed (message2, ...); error classes name themselves
    // explicitly (new.target.name of a class that keeps its name)
    keepNames: false,
    sourcemap: true,
    sourcesContent: true,
    logLevel: "error",
  });
}

/** Builds the kernels and every package that is out of date; returns true on success. */
export function build({ force = false, quiet = false } = {}) {
  const wasmOk = step("setup: building the WebAssembly kernels (AssemblyScript)", quiet, () => {
    const before = newest(join(root, "packages", "core", "build"));
    const r = spawnSync(process.execPath, [join(root, "scripts", "build-wasm.mjs"), ...(force ? ["--force"] : [])], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stdout + r.stderr || `build-wasm exited with ${r.status}`);
    // build-wasm is quiet and skips what is up to date: whether it wrote anything tells which
    return newest(join(root, "packages", "core", "build")) === before ? "skipped" : "built";
  });
  if (!wasmOk) return false;
  const base = Math.max(newest(join(root, "tsconfig.build.json")), newest(join(root, "packages/core/build")));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const stale = [];
  let upstream = base;
  for (const pkg of PACKAGES) {
    const dir = join(root, pkg);
    const inputs = Math.max(
      upstream,
      newest(join(dir, "src")),
      newest(join(dir, "package.json")),
      newest(join(dir, "tsconfig.build.json")),
    );
    if (force || stale.length > 0 || stampTime(pkg) < inputs) stale.push(pkg);
    upstream = Math.max(upstream, inputs);
  }
  return step(
    stale.length === 0
      ? "setup: compiling the packages to dist/ (tsc, esbuild)"
      : `setup: compiling ${stale.map((p) => p.split("/")[1]).join(", ")} to dist/ (tsc, esbuild)`,
    quiet,
    () => {
      if (stale.length === 0) return "skipped";
      mkdirSync(STAMPS, { recursive: true });
      for (const pkg of stale) {
        const dir = join(root, pkg);
        rmSync(join(dir, "dist"), { recursive: true, force: true });
        rmSync(stampFile(pkg), { force: true });
        const r = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.build.json"), "--emitDeclarationOnly"], {
          cwd: root,
          encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(`${relative(root, dir)}: tsc failed\n${r.stdout}${r.stderr}`);
        bundle(dir);
        writeFileSync(stampFile(pkg), `${new Date().toISOString()}\n`);
      }
      return "built";
    },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ok = build({ force: process.argv.includes("--force"), quiet: process.argv.includes("--quiet") });
  process.exit(ok ? 0 : 1);
}
