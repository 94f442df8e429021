/**
 * Builds the playground with esbuild: the page (src/main.ts) and its training worker
 * (src/worker.ts) as two ES-module bundles next to index.html and style.css, and, separately, the
 * benchmark page (bench/) with TensorFlow.js's WebAssembly binaries. No plugins: gradgraph's
 * kernels come inlined in @gradgraph/core, Graphviz's in @viz-js/viz. The workspace packages are
 * bundled from their TypeScript sources (the `@gradgraph/source` export condition), so the page
 * always runs the code of the checkout, as the tests do.
 */
import { copyFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build } from "esbuild";

/** The app's folder (apps/playground). */
export const APP_DIR = fileURLToPath(new URL("..", import.meta.url));
/** Where `npm run demo` builds to (gitignored, as every dist/). */
export const DEFAULT_OUT_DIR = join(APP_DIR, "dist");

/** The files a build wrote, with their sizes in bytes. */
export interface BuildResult {
  outDir: string;
  files: Record<string, number>;
}

const common: BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  conditions: ["@gradgraph/source"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
};

/** Sizes of the listed files of `dir`. */
function sizes(dir: string, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, statSync(join(dir, n)).size]));
}

/**
 * Builds the playground page into `outDir` (emptied first): index.html, style.css, main.js (the
 * page) and worker.js (the training worker, a module worker), with source maps.
 * @throws when esbuild reports an error.
 */
export async function buildPlayground(outDir: string = DEFAULT_OUT_DIR): Promise<BuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    ...common,
    entryPoints: { main: join(APP_DIR, "src", "main.ts"), worker: join(APP_DIR, "src", "worker.ts") },
    outdir: outDir,
  });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(APP_DIR, f), join(outDir, f));
  return { outDir, files: sizes(outDir, ["index.html", "style.css", "main.js", "worker.js"]) };
}

/** TensorFlow.js's wasm backend binaries, served next to the benchmark page (found by `setWasmPaths`). */
export const TFJS_WASM_FILES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
] as const;

/**
 * Builds the benchmark page into `outDir` (emptied first): index.html, bench.js (gradgraph and
 * TensorFlow.js 4.22 with its wasm backend) and tfjs/*.wasm.
 * @throws when esbuild reports an error.
 */
export async function buildBench(outDir: string): Promise<BuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, "tfjs"), { recursive: true });
  await build({
    ...common,
    entryPoints: { bench: join(APP_DIR, "bench", "page.ts") },
    outdir: outDir,
  });
  copyFileSync(join(APP_DIR, "bench", "index.html"), join(outDir, "index.html"));
  const wasmDir = join(APP_DIR, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
  for (const f of TFJS_WASM_FILES) copyFileSync(join(wasmDir, f), join(outDir, "tfjs", f));
  return { outDir, files: sizes(outDir, ["index.html", "bench.js", ...TFJS_WASM_FILES.map((f) => `tfjs/${f}`)]) };
}
