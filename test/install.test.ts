/**
 * gradgraph used from outside the repository, as a user gets it: the packages are packed with
 * pnpm, checked by publint and arethetypeswrong, installed with plain npm into a temporary project
 * outside the workspace, and then
 *   - a plain `node` ESM script (compiled by the project's own strict tsc, no tsx) computes a
 *     gradient, defines an op, runs assertGradcheck and checkOp, trains the spiral net and reports
 *     WASM kernels;
 *   - the project's tsc passes with `skipLibCheck: false` and no @types/node (with and without the
 *     DOM library);
 *   - the README examples (the repository's and each package's) compile and run the same way, the
 *     ONNX ones served by onnxruntime-node installed beside the packages (its CPU binary comes
 *     inside the npm package; ONNXRUNTIME_NODE_INSTALL=skip keeps its install script from
 *     fetching CUDA builds);
 *   - an esbuild browser bundle of the same code (no plugins) runs in headless Chromium on the
 *     WASM kernels, and in a Web Worker of a cross-origin-isolated page large products split
 *     across Web Workers (setThreads), bit for bit equal to one thread;
 *   - the installed size of core + nodes + nn stays under 8 MB.
 */
import { type ExecFileSyncOptions, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, chromiumRequired, launchChromium, serveDir } from "../scripts/browser.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);
/** The library packages a user installs, and the app. */
const LIBRARIES = ["core", "nodes", "nn", "viz", "onnx"] as const;
/** What the README's ONNX examples serve their models with, as a user installs it. */
const ONNXRUNTIME = "1.30.0";
const MAX_INSTALLED_BYTES = 8 * 1024 * 1024;

let work = "";
const tarballs: Record<string, string> = {};
let app = "";

function run(cmd: string, args: readonly string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options }).toString();
  } catch (e) {
    const err = e as { stdout?: Buffer | string; stderr?: Buffer | string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

/** Total size in bytes of the files under `dir`. */
function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** The text after `// prints:` on each line of an example, in order (what it shows it prints). */
function printsComments(source: string): string[] {
  return [...source.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.replace(/ \(.*\)$/, "").trim());
}

/** A printed line with its spaces removed (console.log's spacing is not the README's). */
function squash(line: string): string {
  return line.replace(/\s+/g, "");
}

/** The TypeScript code blocks of a markdown file. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "gradgraph-install-"));
  // the dist/ folders are what gets packed: make sure they are current
  run(process.execPath, [join(root, "scripts", "build.mjs"), "--quiet"]);
  const packs = join(work, "tarballs");
  mkdirSync(packs);
  run("npx", [
    "--yes",
    "pnpm@12.4.2",
    "--filter",
    "./packages/*",
    "--filter",
    "./apps/spiral",
    "pack",
    "--pack-destination",
    packs,
  ]);
  for (const f of readdirSync(packs)) {
    const m = /^gradgraph-(\w+)-\d+\.\d+\.\d+\.tgz$/.exec(f);
    if (m) tarballs[m[1]!] = join(packs, f);
  }

  // a user's project, outside the workspace, installed with plain npm
  app = join(work, "app");
  mkdirSync(join(app, "src"), { recursive: true });
  const dependencies: Record<string, string> = { "fast-check": "4.11.0", "onnxruntime-node": ONNXRUNTIME };
  for (const name of LIBRARIES) dependencies[`@gradgraph/${name}`] = `file:${tarballs[name]}`;
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "gradgraph-user", private: true, type: "module", dependencies }, null, 2),
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline"], {
    cwd: app,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  cpSync(join(root, "test", "consumer", "tsconfig.json"), join(app, "tsconfig.json"));
  for (const f of ["smoke.ts", "node-main.ts", "browser-main.ts", "threads-worker.ts"]) {
    cpSync(join(root, "test", "consumer", f), join(app, "src", f));
  }
  // the README examples (the repository's and each package's), each a module of its own
  const readmes: [string, string][] = [
    ["root", join(root, "README.md")],
    ...LIBRARIES.map((name): [string, string] => [name, join(root, "packages", name, "README.md")]),
  ];
  for (const [name, file] of readmes) {
    tsBlocks(readFileSync(file, "utf8")).forEach((code, i) => {
      writeFileSync(join(app, "src", `readme-${name}-${i}.ts`), `${code}\nexport {};\n`);
    });
  }
}, 300_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the packed tarballs", () => {
  it("hold dist/, README.md, LICENSE and package.json only, with no workspace: ranges", () => {
    expect(Object.keys(tarballs).sort()).toEqual(["core", "nn", "nodes", "onnx", "spiral", "viz"]);
    for (const [name, tgz] of Object.entries(tarballs)) {
      const files = run("tar", ["tzf", tgz]).trim().split("\n");
      for (const f of files)
        expect(f, `${name}: ${f}`).toMatch(/^package\/(dist\/.+|README\.md|LICENSE|package\.json)$/);
      expect(files).toContain("package/LICENSE");
      expect(files).toContain("package/README.md");
      expect(files.some((f) => /\.test\.|\/test\//.test(f))).toBe(false);
      const manifest = run("tar", ["xzf", tgz, "-O", "package/package.json"]);
      expect(manifest, name).not.toContain("workspace:");
      expect(manifest, name).not.toContain("@gradgraph/source");
      const pkg = JSON.parse(manifest) as Record<string, unknown>;
      for (const field of ["license", "engines", "repository", "sideEffects", "exports", "files", "version"]) {
        expect(pkg[field], `${name}: ${field}`).toBeDefined();
      }
      expect(pkg.version).toBe("0.2.0");
    }
  });

  it("pass publint and arethetypeswrong", () => {
    for (const tgz of Object.values(tarballs)) {
      const lint = run(bin("publint"), [tgz, "--strict"]);
      expect(lint).toContain("All good!");
      // ESM only: CommonJS callers use import() (or require(esm) on Node.js >= 20.19)
      run(bin("attw"), [tgz, "--profile", "esm-only", "--format", "table-flipped"]);
    }
  }, 120_000);
});

describe("installed with npm into a project outside the workspace", () => {
  it("the project's strict tsc passes without @types/node and with skipLibCheck false", () => {
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    // the libraries' declarations need neither Node's types nor the DOM's
    writeFileSync(
      join(app, "tsconfig.no-dom.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        compilerOptions: { lib: ["ES2022"], noEmit: true },
        include: ["src/smoke.ts"],
      }),
    );
    run(process.execPath, [tsc, "-p", "tsconfig.no-dom.json"], { cwd: app });
    // then the whole project (the entries use console and document), emitted for node to run
    run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: app });
    expect(readdirSync(join(app, "build"))).toContain("node-main.js");
  }, 60_000);

  it("plain node runs it: a gradient, defineOp + assertGradcheck + checkOp, the spiral net, WASM kernels", () => {
    const out = run(process.execPath, ["build/node-main.js"], { cwd: app });
    const r = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(r.backend).toMatch(/^wasm-/);
    expect(r.kernelInfo).toBe(r.backend);
    // d/dW sum((x·W)²) = 2·xᵀ·x·W with x = [[1, 2], [3, 4]], W = [[0.5], [-1]]
    expect(r.dW).toEqual([[-18], [-26]]);
    expect(r.cases).toBe(10);
    expect(r.lossList).toBe(300);
    expect(r.accuracy as number).toBeGreaterThan(0.9);
    expect(r.product).toBe(productOfA());
  }, 60_000);

  it("require() works too, on a Node.js with require(esm)", () => {
    const out = run(
      process.execPath,
      ["-e", "const { tensor } = require('@gradgraph/core'); console.log(tensor([1, 2]).shape.join(','))"],
      { cwd: app },
    );
    expect(out.trim()).toBe("2");
  });

  it("every README example (the repository's and each package's) compiles (above), runs with plain node and prints what it shows", () => {
    const examples = readdirSync(join(app, "build")).filter((f) => f.startsWith("readme-"));
    expect(examples.filter((f) => f.startsWith("readme-root-")).length).toBeGreaterThanOrEqual(8);
    expect(examples.length).toBeGreaterThanOrEqual(12);
    let checked = 0;
    for (const f of examples) {
      const out = run(process.execPath, [join("build", f)], { cwd: app });
      // each `// prints: …` comment is a line the example must print, in order (spaces ignored)
      const source = readFileSync(join(app, "src", f.replace(/\.js$/, ".ts")), "utf8");
      const shown = printsComments(source);
      const printed = out.split("\n").map(squash);
      let at = 0;
      for (const line of shown) {
        const found = printed.indexOf(squash(line), at);
        expect(found, `${f}: shows "${line}" but prints:\n${out}`).toBeGreaterThanOrEqual(0);
        at = found + 1;
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  }, 120_000);

  it("core + nodes + nn install in under 8 MB (viz, with its plotting stack, is separate)", () => {
    const modules = join(app, "node_modules");
    const closure = new Set<string>();
    const visit = (name: string) => {
      if (closure.has(name)) return;
      closure.add(name);
      const pkg = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      };
      for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
    };
    for (const name of ["core", "nodes", "nn"]) visit(`@gradgraph/${name}`);
    const bytes = [...closure].reduce((n, name) => n + du(join(modules, name)), 0);
    console.info(`installed size of core + nodes + nn (${[...closure].join(", ")}): ${(bytes / 1e6).toFixed(2)} MB`);
    expect(closure.has("@gradgraph/viz")).toBe(false);
    expect(bytes).toBeLessThan(MAX_INSTALLED_BYTES);
  });
});

/** The smoke test's 64×64 product, summed: A[i][j] = ((7i + j) mod 13) − 6. */
function productOfA(): number {
  const n = 64;
  const a = (i: number, j: number) => ((i * 7 + j) % 13) - 6;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) s += a(i, k) * a(k, j);
  return s;
}

describe.skipIf(!chromiumAvailable && !chromiumRequired)("bundled with esbuild for a browser", () => {
  it(`runs in headless Chromium (${CHROMIUM}) on the WASM kernels`, async () => {
    expect(chromiumAvailable, `no Chromium at ${CHROMIUM}: run bash scripts/ensure-chromium.sh`).toBe(true);
    const www = join(app, "www");
    mkdirSync(www, { recursive: true });
    // no plugins, no loaders, no copied files: the kernels must come inside the JavaScript
    const result = await build({
      entryPoints: [join(app, "src", "browser-main.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      outfile: join(www, "bundle.js"),
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const bundle = readFileSync(join(www, "bundle.js"), "utf8");
    expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:/);
    writeFileSync(
      join(www, "index.html"),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>gradgraph</title><pre id="result"></pre><script type="module" src="bundle.js"></script>',
    );
    const server = await serveDir(www, 0, false);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.waitForFunction('(document.getElementById("result")?.textContent ?? "") !== ""', null, {
        timeout: 60_000,
      });
      const r = JSON.parse((await page.textContent("#result")) ?? "{}") as Record<string, unknown>;
      expect(r.error).toBeUndefined();
      expect(r.backend).toMatch(/^wasm-/);
      expect(r.kernelInfo).toBe(r.backend);
      expect(r.dW).toEqual([[-18], [-26]]);
      expect(r.lossList).toBe(300);
      expect(r.accuracy as number).toBeGreaterThan(0.9);
      expect(r.product).toBe(productOfA());
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);

  it("splits large products across Web Workers in a worker of a cross-origin-isolated page, bit for bit", async () => {
    expect(chromiumAvailable, `no Chromium at ${CHROMIUM}: run bash scripts/ensure-chromium.sh`).toBe(true);
    const www = join(app, "www-threads");
    mkdirSync(www, { recursive: true });
    const result = await build({
      entryPoints: [join(app, "src", "threads-worker.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      outfile: join(www, "threads-worker.js"),
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    writeFileSync(
      join(www, "index.html"),
      `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>gradgraph threads</title><pre id="result"></pre>
<script type="module">
const w = new Worker("threads-worker.js", { type: "module" });
w.onmessage = (e) => { document.getElementById("result").textContent = JSON.stringify(e.data); };
w.onerror = (e) => { document.getElementById("result").textContent = JSON.stringify({ error: String(e.message) }); };
</script>`,
    );
    const server = await serveDir(www); // cross-origin isolated
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.waitForFunction('(document.getElementById("result")?.textContent ?? "") !== ""', null, {
        timeout: 60_000,
      });
      const r = JSON.parse((await page.textContent("#result")) ?? "{}") as Record<string, unknown>;
      expect(r.error).toBeUndefined();
      expect(r.crossOriginIsolated).toBe(true);
      expect(r.backend).toMatch(/^wasm-/);
      expect(r.threadsReason).toBeNull();
      expect(r.threadedProducts as number).toBeGreaterThan(0);
      expect(r.bitIdentical).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});
