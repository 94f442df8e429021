/**
 * The spiral job's command line, as a user meets it: each bad invocation runs as a real process
 * in an empty working folder of its own, and must end cleanly: the expected exit code (2 for
 * usage, 1 for I/O), exactly one line on stderr (plus `run with --help for usage` after a usage
 * error), no stack trace unless --verbose, nothing on stdout (no training: the checks come
 * first), no file or folder written, and no hang (a generous timeout).
 *
 * The command is apps/spiral/src/main.ts and the packages' sources, bundled by esbuild as
 * scripts/build.mjs builds dist/ (one file plus a lazily loaded chunk for the report, viz left
 * external): a process starts in ~0.1 s instead of ~1 s under tsx, so the 30-odd cases stay cheap.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const mainTs = join(root, "apps", "spiral", "src", "main.ts");
const base = mkdtempSync(join(tmpdir(), "gradgraph-bad-"));
const bundle = join(base, "bundle");
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The command, built once: the sources (the "@gradgraph/source" condition) in one file. */
const built = build({
  entryPoints: { main: mainTs },
  outdir: bundle,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@gradgraph/source"],
  external: ["@gradgraph/viz"],
  logLevel: "error",
});
beforeAll(() => built, 60_000);

const USAGE_HINT = "run with --help for usage";
const TIMEOUT_MS = 60_000;

interface Case {
  /** What it is. */
  name: string;
  /** The arguments; `@` at the start of one stands for the case's working folder. */
  args: string[];
  /** The expected exit code. */
  code: 0 | 1 | 2;
  /** The whole first line of stderr (after `error: `), or a pattern; `null` for a clean run. */
  message: string | RegExp | null;
  /** Prepares the working folder; returns the names it made there (kept out of the no-files check). */
  setup?: (cwd: string) => string[];
  /** The job trains before it fails (an I/O error at the end): stdout is not empty. */
  trains?: boolean;
  /** Checks after the run. */
  after?: (cwd: string, stdout: string) => void;
  /** Only on Linux (procfs, sysfs). */
  linux?: boolean;
}

/** Runs `make`, which creates `path` in a case's folder; returns `path`'s name for the no-files check. */
const made = (path: string, make: () => void): string[] => {
  make();
  return [basename(path)];
};

const int = (flag: string, min: number, max: number, got: string) =>
  `--${flag} must be an integer from ${min} to ${max}, got "${got}"`;

const CASES: Case[] = [
  // --out: checked and created before anything else; a bad one is one line naming it (exit 1)
  {
    name: "--out under procfs (mkdir -p used to spin forever there)",
    args: ["--out", "/proc/nope"],
    code: 1,
    message: '--out "/proc/nope": cannot create it: the file system does not allow folders there (ENOENT)',
    after: () => expect(existsSync("/proc/nope")).toBe(false),
    linux: true,
  },
  {
    name: "--out under sysfs",
    args: ["--out", "/sys/gradgraph-nope"],
    code: 1,
    message: '--out "/sys/gradgraph-nope": cannot create it: operation not permitted (EPERM)',
    linux: true,
  },
  {
    name: "--out below a device file",
    args: ["--out", "/dev/null/x"],
    code: 1,
    message: '--out "/dev/null/x": /dev/null is not a folder',
  },
  {
    name: "--out an existing file",
    args: ["--out", "file"],
    code: 1,
    message: '--out "file": it is not a folder',
    setup: (cwd) => made(join(cwd, "file"), () => writeFileSync(join(cwd, "file"), "keep")),
    after: (cwd) => expect(statSync(join(cwd, "file")).size).toBe(4),
  },
  {
    name: "--out below an existing file, two levels down",
    args: ["--out", "@/file/a/b"],
    code: 1,
    message: /^--out ".*\/file\/a\/b": \/.*\/file is not a folder$/,
    setup: (cwd) => made(join(cwd, "file"), () => writeFileSync(join(cwd, "file"), "keep")),
  },
  { name: "--out empty", args: ["--out", ""], code: 2, message: '--out must be a folder, got ""' },
  {
    name: "--verbose adds the stack to a bad --out",
    args: ["--out", "/dev/null/x", "--verbose"],
    code: 1,
    message: '--out "/dev/null/x": /dev/null is not a folder',
  },
  // values out of range: the same message for --flag -3 and --flag=-3
  {
    name: "--hidden too large (used to end in an uncaught ArgumentError)",
    args: ["--hidden", "99999999999"],
    code: 2,
    message: int("hidden", 1, 100000, "99999999999"),
  },
  { name: "--hidden 0", args: ["--hidden", "0"], code: 2, message: int("hidden", 1, 100000, "0") },
  {
    name: "--epochs -3 (used to be 'ambiguous')",
    args: ["--epochs", "-3"],
    code: 2,
    message: int("epochs", 1, 1000000, "-3"),
  },
  { name: "--epochs=-3", args: ["--epochs=-3"], code: 2, message: int("epochs", 1, 1000000, "-3") },
  { name: "--epochs 1.5", args: ["--epochs", "1.5"], code: 2, message: int("epochs", 1, 1000000, "1.5") },
  {
    name: "--lr -1 (used to be 'ambiguous')",
    args: ["--lr", "-1"],
    code: 2,
    message: '--lr must be a positive number, got "-1"',
  },
  { name: "--lr=-1", args: ["--lr=-1"], code: 2, message: '--lr must be a positive number, got "-1"' },
  { name: "--lr abc", args: ["--lr", "abc"], code: 2, message: '--lr must be a positive number, got "abc"' },
  {
    name: "--lr 1e400 (infinite)",
    args: ["--lr", "1e400"],
    code: 2,
    message: '--lr must be a positive number, got "1e400"',
  },
  { name: "--batch larger than the data", args: ["--batch", "1000"], code: 2, message: int("batch", 1, 300, "1000") },
  {
    name: "--seed beyond 64 bits",
    args: ["--seed", "9223372036854775808"],
    code: 2,
    message: '--seed must be an integer from -9223372036854775808 to 9223372036854775807, got "9223372036854775808"',
  },
  {
    name: "--seed not an integer",
    args: ["--seed", "1.5"],
    code: 2,
    message: '--seed must be an integer from -9223372036854775808 to 9223372036854775807, got "1.5"',
  },
  {
    name: "--optimizer unknown",
    args: ["--optimizer", "lbfgs"],
    code: 2,
    message: '--optimizer must be one of sgd, momentum, nesterov, adagrad, rmsprop, adam, got "lbfgs"',
  },
  {
    name: "--optimizer misspelt",
    args: ["--optimizer", "Adam"],
    code: 2,
    message:
      '--optimizer must be one of sgd, momentum, nesterov, adagrad, rmsprop, adam, got "Adam" (did you mean adam?)',
  },
  {
    name: "--dtype unknown",
    args: ["--dtype", "int8"],
    code: 2,
    message: '--dtype must be one of float32, float64, got "int8"',
  },
  // the shape of the command line
  { name: "unknown flag", args: ["--bogus"], code: 2, message: 'unknown option "--bogus"' },
  {
    name: "misspelt flag",
    args: ["--epoch", "3"],
    code: 2,
    message: 'unknown option "--epoch" (did you mean --epochs?)',
  },
  { name: "unknown short flag", args: ["-x"], code: 2, message: 'unknown option "-x"' },
  { name: "missing value at the end", args: ["--epochs"], code: 2, message: "--epochs needs a value" },
  {
    name: "missing value before a flag",
    args: ["--epochs", "--hidden", "5"],
    code: 2,
    message: "--epochs needs a value",
  },
  {
    name: "a value for a switch",
    args: ["--no-report=yes"],
    code: 2,
    message: '--no-report takes no value, got "yes"',
  },
  {
    name: "a positional argument",
    args: ["train"],
    code: 2,
    message: 'unexpected argument "train": the job takes only options',
  },
  {
    name: "an argument after --",
    args: ["--", "--epochs"],
    code: 2,
    message: 'unexpected argument "--epochs": the job takes only options',
  },
  // an unexpected I/O error at the end of training: one line, exit 1; the stack only with --verbose
  {
    name: "a folder where loss.json goes",
    args: ["--epochs", "1", "--no-report", "--out", "out"],
    code: 1,
    message: /^cannot write \/.*\/out\/loss\.json: illegal operation on a directory \(EISDIR\)$/,
    setup: (cwd) => made(join(cwd, "out"), () => mkdirSync(join(cwd, "out", "loss.json"), { recursive: true })),
    trains: true,
    after: (cwd) => expect(readdirSync(join(cwd, "out"))).toEqual(["loss.json"]),
  },
  {
    name: "the same with --verbose",
    args: ["--epochs", "1", "--no-report", "--out", "out", "--verbose"],
    code: 1,
    message: /^cannot write \/.*\/out\/loss\.json: illegal operation on a directory \(EISDIR\)$/,
    setup: (cwd) => made(join(cwd, "out"), () => mkdirSync(join(cwd, "out", "loss.json"), { recursive: true })),
    trains: true,
  },
  // and a good one: Adam without --lr runs at Adam's usual 0.001
  {
    name: "--optimizer adam without --lr",
    args: ["--optimizer", "adam", "--epochs", "1", "--no-report", "--out", "o"],
    code: 0,
    message: null,
    trains: true,
    after: (cwd, stdout) => {
      expect(stdout.split("\n")[0]).toBe(
        "spiral: TwoLayerNet(2, 10, 3), adam lr 0.001 (default), batch 30, 1 epochs, float32, seed 1984",
      );
      expect(readdirSync(join(cwd, "o")).sort()).toEqual(["loss.json", "model.onnx", "model.safetensors"]);
    },
  },
];

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runJob(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [join(bundle, "main.js"), ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const cases = CASES.filter((c) => !c.linux || process.platform === "linux");
// a few processes at a time
const outcomes = new Map<string, Promise<{ outcome: Outcome; cwd: string; made: string[] }>>();
function start(c: Case): Promise<{ outcome: Outcome; cwd: string; made: string[] }> {
  let p = outcomes.get(c.name);
  if (p === undefined) {
    const cwd = mkdtempSync(join(base, "case-"));
    const made = c.setup?.(cwd) ?? [];
    const args = c.args.map((a) => (a.startsWith("@") ? cwd + a.slice(1) : a));
    p = built.then(() => runJob(args, cwd)).then((outcome) => ({ outcome, cwd, made }));
    outcomes.set(c.name, p);
  }
  return p;
}

describe("bad invocations of the spiral job, as processes", () => {
  it("the table has at least 20 bad invocations", () => {
    expect(CASES.filter((c) => c.code !== 0).length).toBeGreaterThanOrEqual(20);
  });

  // start them all now, four at a time
  const queue = [...cases];
  const workers = Array.from({ length: 4 }, async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) await start(c);
  });
  void Promise.all(workers);

  for (const c of cases) {
    it(`${c.name}: ${c.args.join(" ") || "(no arguments)"}`, { timeout: 4 * TIMEOUT_MS }, async () => {
      const { outcome: o, cwd, made } = await start(c);
      const show = `stdout:\n${o.stdout}\nstderr:\n${o.stderr}`;
      expect(o.timedOut, `hung: ${show}`).toBe(false);
      expect(o.signal, show).toBeNull();
      expect(o.code, show).toBe(c.code);
      const lines = o.stderr.split("\n");
      expect(lines.at(-1), "stderr ends with a newline").toBe("");
      lines.pop();
      const verbose = c.args.includes("--verbose");
      if (c.message === null) expect(lines).toEqual([]);
      else {
        const first = lines[0] ?? "";
        expect(first.startsWith("error: "), show).toBe(true);
        if (typeof c.message === "string") expect(first.slice("error: ".length)).toBe(c.message);
        else expect(first.slice("error: ".length)).toMatch(c.message);
        if (c.code === 2) expect(lines).toEqual([first, USAGE_HINT]);
        else if (!verbose) expect(lines).toEqual([first]);
        else {
          // --verbose: the stack follows the one line
          expect(lines.length).toBeGreaterThan(2);
          expect(lines[1]).toMatch(/^\w*Error: /);
          expect(lines.some((l) => /^\s+at /.test(l))).toBe(true);
        }
      }
      if (!verbose) expect(o.stderr).not.toMatch(/^\s+at |node:internal|Error: /m);
      if (!c.trains) {
        expect(o.stdout, "nothing printed: it failed before training").toBe("");
        expect(readdirSync(cwd).sort(), "no file written").toEqual([...made].sort());
      }
      c.after?.(cwd, o.stdout);
    });
  }

  it("a closed stdout (`| head -1`): no error, and the job still writes its files", {
    timeout: 4 * TIMEOUT_MS,
  }, async () => {
    await built;
    const cwd = mkdtempSync(join(base, "pipe-"));
    const child = spawn(process.execPath, [join(bundle, "main.js"), "--epochs", "20", "--no-report", "--out", "o"], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // read the first chunk, then close the pipe, as `head -1` does
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((ok) => child.on("close", ok));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(readdirSync(join(cwd, "o")).sort()).toEqual(["loss.json", "model.onnx", "model.safetensors"]);
  });
});
