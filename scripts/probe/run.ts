/**
 * The API probe: calls every function, constructor, method and accessor that the public entry
 * points export, replacing one argument (or the receiver) at a time with each bad value of
 * kinds.ts, and reports every call that ended in an error that is not a GradgraphError, that hung
 * or that crashed the process (and, on the command line, that took longer than a second). The
 * calls run in a child process (child.ts), restarted after the call that hung or crashed it.
 * test/probe.test.ts runs it over the user-facing entries and expects no finding.
 *
 * Usage: tsx scripts/probe/run.ts [--only=REGEX] [--modules=a,b] [--hang-ms=4000] [--slow-ms=1000]
 *   [--json=FILE]. Exits 1 when it found anything.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The user-facing entry points (core's kernels entry takes trusted input only, and is not among them). */
export const USER_FACING = [
  "@gradgraph/core",
  "@gradgraph/core/testing",
  "@gradgraph/nodes",
  "@gradgraph/nn",
  "@gradgraph/viz",
  "@gradgraph/onnx",
] as const;

/** What the probe found wrong with one call. */
export interface Finding {
  /** The call's index in the plan. */
  readonly call: number;
  /** `entry arg N = kind` (or `arg this = kind`). */
  readonly name: string;
  /** A foreign error, a call slower than `slowMs`, a hang, a crash, or an error thrown later (async). */
  readonly what: "foreign" | "slow" | "hang" | "crash" | "async";
  readonly detail: string;
}

/** Options of {@link runProbe}. */
export interface ProbeOptions {
  /** Module specifiers to probe (default: USER_FACING). */
  readonly modules?: readonly string[];
  /** Only the entries whose `module:name` matches. */
  readonly only?: string;
  /** A call that has not returned after this long is a hang: the child is killed (default 4000). */
  readonly hangMs?: number;
  /** A call that returned after longer than this is reported as slow (default: not reported). */
  readonly slowMs?: number;
}

/** The probe's result. */
export interface ProbeResult {
  readonly total: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly findings: readonly Finding[];
  readonly baselines: Readonly<Record<string, unknown>>;
}

const child = fileURLToPath(new URL("./child.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** Runs the probe (see the file comment). */
export async function runProbe(options: ProbeOptions = {}): Promise<ProbeResult> {
  const modules = (options.modules ?? USER_FACING).join(",");
  const hangMs = options.hangMs ?? 4000;
  const slowMs = options.slowMs ?? Number.POSITIVE_INFINITY;
  const cwd = mkdtempSync(join(tmpdir(), "gg-probe-"));
  /** The baselines the first child found, for the children restarted after a hang or a crash. */
  const cache = join(cwd, "baselines.json");
  const raw: Omit<Finding, "name">[] = [];
  const baselines: Record<string, unknown> = {};
  const counts: Record<string, number> = {};
  let total = -1;
  let names: string[] = [];

  /** Runs the child from call `from`; resolves with the index to continue from, or -1 when done. */
  const runFrom = (from: number): Promise<number> =>
    new Promise((resolve) => {
      const args = [
        "--conditions=@gradgraph/source",
        "--import",
        tsx,
        "--stack-size=984",
        child,
        `--from=${from}`,
        `--modules=${modules}`,
      ];
      if (options.only !== undefined) args.push(`--only=${options.only}`);
      if (from > 0) {
        writeFileSync(cache, JSON.stringify(baselines));
        args.push(`--baselines=${cache}`);
      }
      const p = spawn(process.execPath, args, { cwd, stdio: ["ignore", "ignore", "pipe", "pipe"] });
      let stderr = "";
      p.stderr!.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      let started = -1;
      let startedAt = 0;
      let done = false;
      const timer = setInterval(() => {
        if (started >= 0 && performance.now() - startedAt > hangMs) {
          raw.push({ call: started, what: "hang", detail: `no result after ${hangMs} ms` });
          const next = started + 1;
          started = -1;
          done = true;
          clearInterval(timer);
          p.kill("SIGKILL");
          resolve(next);
        }
      }, 50);
      const rl = createInterface({ input: p.stdio[3] as NodeJS.ReadableStream });
      rl.on("line", (line) => {
        const [tag, a, b, c, ...rest] = line.split(" ");
        if (tag === "B") {
          const [n, bl] = line.slice(2).split(/ (?=[[n])/);
          baselines[JSON.parse(n!) as string] = JSON.parse(bl!);
        } else if (tag === "P") total = Number(a);
        else if (tag === "S") {
          started = Number(a);
          startedAt = performance.now();
        } else if (tag === "R") {
          const i = Number(a);
          started = -1;
          counts[b!] = (counts[b!] ?? 0) + 1;
          const ms = Number(c);
          const detail = JSON.parse(rest.join(" ")) as string;
          if (b === "foreign") raw.push({ call: i, what: "foreign", detail });
          if (ms > slowMs) raw.push({ call: i, what: "slow", detail: `${ms} ms ${b} ${detail}` });
        } else if (tag === "A") raw.push({ call: Number(a), what: "async", detail: [b, c, ...rest].join(" ") });
        else if (tag === "N") names = JSON.parse(line.slice(2)) as string[];
      });
      p.on("exit", (code, signal) => {
        clearInterval(timer);
        if (done) return;
        if (started >= 0) {
          raw.push({
            call: started,
            what: "crash",
            detail: `exit ${code} ${signal} ${stderr.split("\n").slice(-6).join(" | ")}`,
          });
          resolve(started + 1);
        } else if (total < 0) {
          // the child failed before making any call: nothing to resume
          raw.push({ call: -1, what: "crash", detail: `the probe did not start: ${stderr.slice(-2000)}` });
          resolve(-1);
        } else resolve(-1);
      });
    });

  try {
    let next = 0;
    while (next >= 0 && (total < 0 || next < total)) next = await runFrom(next);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  const findings = raw.map((f) => ({ ...f, name: names[f.call] ?? String(f.call) }));
  return { total, counts, findings, baselines };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): string | undefined =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const t0 = performance.now();
  const modules = arg("modules")?.split(",");
  const only = arg("only");
  const result = await runProbe({
    ...(modules === undefined ? {} : { modules }),
    ...(only === undefined ? {} : { only }),
    hangMs: Number(arg("hang-ms") ?? 4000),
    slowMs: Number(arg("slow-ms") ?? 1000),
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  const json = arg("json");
  if (json !== undefined) writeFileSync(json, JSON.stringify(result, null, 1));
  console.log(
    `probe: ${result.total} calls in ${secs} s: ${JSON.stringify(result.counts)}; ${result.findings.length} findings`,
  );
  for (const f of result.findings) console.log(`${f.what}\t${f.name}\t${f.detail.slice(0, 300)}`);
  process.exit(result.findings.length > 0 ? 1 : 0);
}
