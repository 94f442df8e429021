/**
 * The API probe: calls every function, constructor, method and accessor that the public entry
 * points export, replacing one argument (or the receiver) at a time with each bad value of
 * kinds.ts, and reports every call that ended in an error that is not a GradgraphError, that took
 * longer than a second, that hung or that crashed the process. The calls run in a child process
 * (child.ts), restarted after the call that hung or crashed it.
 *
 * Usage: tsx scripts/probe/run.ts [--only=REGEX] [--modules=a,b] [--hang-ms=4000] [--json=FILE]
 * Exits 1 when it found anything.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const DEFAULT_MODULES = [
  "@gradgraph/core",
  "@gradgraph/core/testing",
  "@gradgraph/nodes",
  "@gradgraph/nn",
  "@gradgraph/viz",
];
const modules = arg("modules") ?? DEFAULT_MODULES.join(",");
const only = arg("only");
const hangMs = Number(arg("hang-ms") ?? 4000);
const slowMs = Number(arg("slow-ms") ?? 1000);
const child = fileURLToPath(new URL("./child.ts", import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), "gg-probe-"));
/** The baselines the first child found, for the children restarted after a hang or a crash. */
const cache = join(cwd, "baselines.json");

interface Finding {
  call: number;
  what: "foreign" | "slow" | "hang" | "crash" | "async";
  detail: string;
}
const findings: Finding[] = [];
const baselines: Record<string, unknown> = {};
const counts: Record<string, number> = {};
let total = -1;
let names: string[] = [];

/** Runs the child from call `from`; resolves with the index to continue from, or -1 when done. */
function runFrom(from: number): Promise<number> {
  return new Promise((resolve) => {
    const args = [
      "--conditions=@gradgraph/source",
      "--import",
      import.meta.resolve("tsx"),
      "--stack-size=984",
      child,
      `--from=${from}`,
      `--modules=${modules}`,
    ];
    if (only !== undefined) args.push(`--only=${only}`);
    if (from > 0) {
      writeFileSync(cache, JSON.stringify(baselines));
      args.push(`--baselines=${cache}`);
    }
    const p = spawn(process.execPath, args, { cwd, stdio: ["ignore", "ignore", "pipe", "pipe"] });
    let stderr = "";
    if (process.env.PROBE_DEBUG) p.stderr!.pipe(process.stderr);
    p.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let started = -1;
    let startedAt = 0;
    let done = false;
    const timer = setInterval(() => {
      if (started >= 0 && performance.now() - startedAt > hangMs) {
        findings.push({ call: started, what: "hang", detail: `no result after ${hangMs} ms` });
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
        baselines[JSON.parse(n!)] = JSON.parse(bl!);
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
        if (b === "foreign") findings.push({ call: i, what: "foreign", detail });
        if (ms > slowMs) findings.push({ call: i, what: "slow", detail: `${ms} ms ${b} ${detail}` });
      } else if (tag === "A") findings.push({ call: Number(a), what: "async", detail: rest.join(" ") || b || "" });
      else if (tag === "N") names = JSON.parse(line.slice(2)) as string[];
    });
    p.on("exit", (code, signal) => {
      clearInterval(timer);
      if (done) return;
      if (started >= 0) {
        findings.push({
          call: started,
          what: "crash",
          detail: `exit ${code} ${signal} ${stderr.split("\n").slice(-6).join(" | ")}`,
        });
        resolve(started + 1);
      } else resolve(-1);
    });
  });
}

let next = 0;
const t0 = performance.now();
while (next >= 0 && (total < 0 || next < total)) next = await runFrom(next);
const secs = ((performance.now() - t0) / 1000).toFixed(0);
const described = findings.map((f) => ({ ...f, name: names[f.call] ?? String(f.call) }));
const json = arg("json");
if (json !== undefined) writeFileSync(json, JSON.stringify({ counts, baselines, findings: described }, null, 1));
console.log(`probe: ${total} calls in ${secs} s: ${JSON.stringify(counts)}; ${findings.length} findings`);
for (const f of described) console.log(`${f.what}\t${f.name}\t${f.detail.slice(0, 300)}`);
process.exit(findings.length > 0 ? 1 : 0);
