/**
 * `npm run bench:browser [-- --rounds N --warmup N | --serve [--port N]]`: the spiral training
 * loop in headless Chromium (Debian's, as the browser tests use), gradgraph on its WASM kernels
 * against TensorFlow.js 4.22's wasm backend (single-threaded SIMD build), plus gradgraph on its
 * TypeScript kernels, on the same page, alternating after a warm-up. Prints a markdown table:
 * median and min–max per library, the ratio, the Chromium version and the commit. A benchmark,
 * not a test: it asserts nothing about time. With `--serve` it only serves the page (Run button).
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CHROMIUM, chromiumAvailable, launchChromium, serveDir } from "../../../scripts/browser.js";
import { type BenchApi, type Sample, type Stats, summarize } from "../bench/summary.js";
import { APP_DIR, buildBench } from "./build.js";

const USAGE = "usage: npm run bench:browser -- [--rounds N (7)] [--warmup N (2)] | [--serve [--port N (8081)]]";

const LABELS: Record<string, string> = {
  gradgraph: "gradgraph (WASM kernels)",
  "gradgraph-js": "gradgraph (TypeScript kernels)",
  "tfjs-wasm": "TensorFlow.js 4.22, wasm backend",
};

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: APP_DIR, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** The markdown report. */
function report(stats: Stats[], header: string[]): string {
  const byImpl = new Map(stats.map((s) => [s.impl, s]));
  const tfjs = byImpl.get("tfjs-wasm");
  const lines = [
    ...header,
    "",
    "| Library | ms/run (median) | min – max | runs | final loss (median) | vs TensorFlow.js wasm |",
    "|---|---:|---:|---:|---:|---|",
  ];
  for (const s of stats) {
    let ratio = "—";
    if (tfjs !== undefined && s.impl !== "tfjs-wasm") {
      const r = tfjs.median / s.median;
      ratio = r >= 1 ? `${r.toFixed(2)}× faster` : `${(1 / r).toFixed(2)}× slower`;
    }
    lines.push(
      `| ${LABELS[s.impl]} | ${fmt(s.median)} | ${fmt(s.min)} – ${fmt(s.max)} | ${s.n} | ${s.loss.toFixed(4)} | ${ratio} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  let rounds = 7;
  let warmup = 2;
  let serveOnly = false;
  let port = 8081;
  try {
    const { values } = parseArgs({
      options: {
        rounds: { type: "string" },
        warmup: { type: "string" },
        serve: { type: "boolean" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    const int = (name: string, s: string | undefined, dflt: number, min: number): number => {
      if (s === undefined) return dflt;
      if (!/^\d+$/.test(s) || Number(s) < min) throw new Error(`--${name} must be an integer >= ${min}, got ${s}`);
      return Number(s);
    };
    rounds = int("rounds", values.rounds, rounds, 1);
    warmup = int("warmup", values.warmup, warmup, 0);
    port = int("port", values.port, port, 0);
    serveOnly = values.serve === true;
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }

  const dir = join(
    serveOnly ? join(APP_DIR, "dist") : tmpdir(),
    serveOnly ? "bench" : `gradgraph-bench-browser-${process.pid}`,
  );
  await buildBench(dir);
  const server = await serveDir(dir, serveOnly ? port : 0);
  if (serveOnly) {
    console.log(`bench:browser: serving the benchmark page on ${server.url}  (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
    await server.close();
    return 0;
  }
  if (!chromiumAvailable) {
    console.error(`error: no Chromium at ${CHROMIUM}: run bash scripts/ensure-chromium.sh, or set GRADGRAPH_CHROMIUM`);
    await server.close();
    return 1;
  }
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => "gradgraphBench" in globalThis);
    type Global = { gradgraphBench: BenchApi };
    const info = await page.evaluate(() => (globalThis as unknown as Global).gradgraphBench.init());
    if (info.gradgraphBackend === "js") throw new Error("gradgraph's WASM kernels did not load in Chromium");
    console.error(`bench:browser: ${warmup} warm-up and ${rounds} timed rounds of 3 runs each…`);
    const samples: Sample[] = await page.evaluate(
      ([r, w]) => (globalThis as unknown as Global).gradgraphBench.runAll(r, w),
      [rounds, warmup] as const,
    );
    if (errors.length > 0) throw new Error(`the page logged errors:\n${errors.join("\n")}`);
    const commit = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--", "."]) === "" ? "" : " (with uncommitted changes)";
    const cpu = cpus();
    // the user agent string says 156.0.0.0 (Chromium reduces it): ask the browser instead
    const chrome = browser.version();
    console.log(
      report(summarize(samples), [
        "### The spiral training loop in headless Chromium",
        "",
        `3,000 SGD steps, 2-10-3 sigmoid net, batch 30, float32, lr 1.0; each library trains the same nets on the same batches (seeded per round), on the page's main thread.`,
        `Chromium ${chrome} (headless, ${CHROMIUM}), ${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, commit ${commit || "unknown"}${dirty}.`,
        `gradgraph kernels: ${info.gradgraphBackend}; TensorFlow.js ${info.tfjsVersion} ${info.tfjsBackend} backend, ${info.tfjsSimd ? "SIMD" : "no SIMD"}, ${info.tfjsThreads} thread${info.tfjsThreads === 1 ? "" : "s"}; page cross-origin isolated: ${info.crossOriginIsolated}.`,
        `${warmup} warm-up round(s), then ${rounds} rounds, the order rotated each round.`,
      ]),
    );
    return 0;
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
