/**
 * The whole spiral job as a process, from start to exit: gradgraph's built command
 * (`node apps/spiral/dist/main.js --no-report`: plain Node.js running the packages' dist/, no tsx)
 * against the book's numpy script (`bench/book/train_spiral.py`, the same job: spiral data, the
 * 2-10-3 net, SGD lr 1.0, batch 30, 300 epochs, the progress lines, the final loss and accuracy).
 * Both write their progress to a pipe that is read and dropped. The runs alternate, and the first
 * of each is discarded (it pays for cold file caches).
 *
 * Run alone with `npm run bench:startup` (or as part of `npm run bench`). numpy comes from the
 * python3 on the PATH; without it, only gradgraph's time is reported (Debian: `apt-get install
 * python3-numpy`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./workload.js";

const root = fileURLToPath(new URL("..", import.meta.url));
/** Timed runs of each command (after one discarded run). */
export const STARTUP_RUNS = 11;
/** The bar: gradgraph's whole job takes at most this fraction of numpy's. */
export const STARTUP_BAR = 0.5;

/** The timings of one command, in milliseconds. */
export interface ProcessTiming {
  command: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
}

/** What {@link measureStartup} found. */
export interface StartupResult {
  gradgraph: ProcessTiming;
  /** null when python3 with numpy is unavailable (`why` says so). */
  numpy: ProcessTiming | null;
  why?: string;
}

function timing(command: string, samples: number[]): ProcessTiming {
  return { command, samples, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

/** Runs `cmd args` to completion and returns its wall time in ms; throws when it fails. */
function timeProcess(cmd: string, args: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

/** Why numpy cannot be timed here, or "" when it can. */
function numpyMissing(): string {
  const r = spawnSync("python3", ["-c", "import numpy"], { stdio: "ignore" });
  if (r.error) return "python3 not found";
  return r.status === 0 ? "" : "python3 has no numpy (Debian: apt-get install python3-numpy)";
}

/** Times the two jobs, alternating; `runs` timed runs each. */
export function measureStartup(runs = STARTUP_RUNS, log: (msg: string) => void = () => {}): StartupResult {
  const main = join(root, "apps", "spiral", "dist", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const out = mkdtempSync(join(tmpdir(), "gradgraph-startup-"));
  const ours = [main, "--no-report", "--out", out];
  const book = [join(root, "bench", "book", "train_spiral.py")];
  const why = numpyMissing();
  const g: number[] = [];
  const n: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      log(`startup: run ${i}/${runs}`);
      // alternate which goes first
      let tg = 0;
      let tn = 0;
      if (i % 2 === 0) {
        tg = timeProcess(process.execPath, ours);
        if (why === "") tn = timeProcess("python3", book);
      } else {
        if (why === "") tn = timeProcess("python3", book);
        tg = timeProcess(process.execPath, ours);
      }
      if (i === 0) continue; // cold caches
      g.push(tg);
      if (why === "") n.push(tn);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const result: StartupResult = {
    gradgraph: timing("node apps/spiral/dist/main.js --no-report", g),
    numpy: why === "" ? timing("python3 bench/book/train_spiral.py", n) : null,
  };
  if (why !== "") result.why = why;
  return result;
}

/** Markdown lines for the result: a table and the bar. */
export function startupSummary(r: StartupResult): string[] {
  const row = (lib: string, t: ProcessTiming) =>
    `| ${lib} | \`${t.command}\` | ${t.median.toFixed(0)} | ${t.min.toFixed(0)} – ${t.max.toFixed(0)} |`;
  const lines = [
    `The whole spiral job as a process (start to exit, ${r.gradgraph.samples.length} alternating runs each, first run discarded):`,
    "",
    "| Library | Command | Median ms | Min – max ms |",
    "| --- | --- | ---: | ---: |",
    row("gradgraph", r.gradgraph),
  ];
  if (r.numpy === null) {
    lines.push("", `numpy: not measured (${r.why}).`);
    return lines;
  }
  lines.push(row("numpy (the book)", r.numpy));
  const ratio = r.gradgraph.median / r.numpy.median;
  lines.push(
    "",
    `Startup bar: gradgraph's whole job at most ${STARTUP_BAR}× numpy's: ${ratio <= STARTUP_BAR ? "met" : "NOT met"} (${ratio.toFixed(2)}×, ${r.gradgraph.median.toFixed(0)} against ${r.numpy.median.toFixed(0)} ms).`,
  );
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tty = process.stderr.isTTY === true;
  const r = measureStartup(STARTUP_RUNS, (m) => {
    if (tty) process.stderr.write(`\r\x1b[K${m}`);
  });
  if (tty) process.stderr.write("\r\x1b[K");
  process.stdout.write(`${startupSummary(r).join("\n")}\n`);
}
