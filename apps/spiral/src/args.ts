/**
 * The spiral job's command line: its flags, their defaults and limits, and the parser, which
 * checks every value before anything runs. A problem is a `UsageError` with a one-line message
 * naming the flag and the value.
 */
import { type FloatDType, GradgraphError, type Seed } from "@gradgraph/core";
import { OPTIMIZER_NAMES, type OptimizerName } from "@gradgraph/nn";

/** The settings of one run, after parsing and validation. */
export interface SpiralJobOptions {
  /** Epochs, 1 to {@link LIMITS}.epochs. */
  epochs: number;
  /** Hidden units, 1 to {@link LIMITS}.hidden. */
  hidden: number;
  /** Learning rate: `--lr`, else the optimizer's default ({@link DEFAULT_LR}). */
  lr: number;
  /** Mini-batch size, 1 to the 300 points of the spiral. */
  batch: number;
  /** The optimizer. */
  optimizer: OptimizerName;
  /** The dtype of the data and the parameters. */
  dtype: FloatDType;
  /**
   * Seed of the data, the weights and the shuffles: a signed 64-bit integer (a number when it is a
   * safe integer, else a BigInt), as `Rng` takes it.
   */
  seed: Seed;
  /** The output folder, as given (resolved against the working directory when used). */
  out: string;
  /** Whether to draw the figures and write the report page (`--no-report` turns it off). */
  report: boolean;
  /** Whether an unexpected error prints its stack trace after its one-line message. */
  verbose?: boolean;
}

/** A command-line problem: a one-line message naming the flag and the value; exit code 2. */
export class UsageError extends GradgraphError {
  /** A usage error of the spiral job (`op` is `"spiral"`). */
  constructor(message: string) {
    super("spiral", message);
  }
}

/** The spiral data set's size: 100 points in each of 3 classes. */
export const SPIRAL_POINTS = 300;

/**
 * Each optimizer's learning rate when `--lr` is not given: the optimizer's own default in
 * @gradgraph/nn (the book's, and PyTorch's where it has one: Adam 0.001, AdaGrad / RMSprop 0.01),
 * except SGD, which has no usual default (PyTorch requires one, Keras takes 0.01) and runs at the
 * book's 1.0 for this job. In 300 epochs at these rates SGD and RMSprop reach ≥ 95% training
 * accuracy; Momentum, Nesterov, AdaGrad and Adam stay near 50–60% (the rates are tuned for larger
 * nets): {@link TUNED_LR} lists rates that train this net, which the playground uses.
 */
export const DEFAULT_LR: Readonly<Record<OptimizerName, number>> = Object.freeze({
  sgd: 1,
  momentum: 0.01,
  nesterov: 0.01,
  adagrad: 0.01,
  rmsprop: 0.01,
  adam: 0.001,
});

/**
 * Learning rates tuned for this job (10 hidden units, 300 epochs): each reaches ≥ 95% training
 * accuracy. The playground (apps/playground/src/settings.ts) starts each optimizer at these.
 */
export const TUNED_LR: Readonly<Record<OptimizerName, number>> = Object.freeze({
  sgd: 1,
  momentum: 0.3,
  nesterov: 0.3,
  adagrad: 0.5,
  rmsprop: 0.03,
  adam: 0.03,
});

/** Inclusive bounds of the integer flags. */
export const LIMITS = Object.freeze({
  epochs: { min: 1, max: 1_000_000 },
  hidden: { min: 1, max: 100_000 },
  batch: { min: 1, max: SPIRAL_POINTS },
});

const VALUE_FLAGS = ["epochs", "hidden", "lr", "batch", "optimizer", "dtype", "seed", "out"] as const;
const SWITCHES = ["no-report", "verbose", "help"] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];
type Switch = (typeof SWITCHES)[number];

const lrDefaults = OPTIMIZER_NAMES.map((n) => `${n} ${DEFAULT_LR[n]}`).join(", ");
const lrTuned = OPTIMIZER_NAMES.filter((n) => TUNED_LR[n] !== DEFAULT_LR[n])
  .map((n) => `${n} ${TUNED_LR[n]}`)
  .join(", ");

/** The `--help` text. */
export const USAGE = `usage: npm start -- [options]

Trains the two-layer net of "Deep Learning from Scratch 2", chapter 1, on the spiral data set.

  --epochs N       epochs, 1 to ${LIMITS.epochs.max} (default 300)
  --hidden N       hidden units, 1 to ${LIMITS.hidden.max} (default 10)
  --lr X           learning rate, > 0 (default: the optimizer's own, below)
  --batch N        mini-batch size, 1 to ${SPIRAL_POINTS} (default 30)
  --optimizer NAME ${OPTIMIZER_NAMES.join(" | ")} (default sgd)
  --dtype T        float32 | float64 (default float32)
  --seed N         seed of the data, the weights and the shuffles, a signed 64-bit integer (default 1984)
  --out DIR        output folder, created if missing (default out/spiral)
  --no-report      write only loss.json, model.safetensors and model.onnx (no figures, no report page)
  --verbose        print the stack trace of an unexpected error
  --help, -h       this text

Default learning rates: ${lrDefaults}.
SGD runs at the book's 1.0 (SGD has no usual default); the others at their usual defaults
(PyTorch's and the book's), which in 300 epochs train this small net to >= 95% only for
rmsprop (momentum, nesterov, adagrad and adam end near 50-60%). Rates tuned for this job,
as the playground uses them: ${lrTuned} (e.g. --optimizer adam --lr 0.03).

Writes to DIR: loss.json, model.safetensors, model.onnx (the trained net as an ONNX model,
any batch size, for ONNX Runtime) and, unless --no-report, loss.svg, boundary.svg, graph.dot,
graph.svg and report.html. Exit status: 0 done, 1 an I/O or other failure,
2 a usage error.
`;

/**
 * Parses and checks the job's flags: `--name value` or `--name=value` (a value may start with
 * `-`, so `--epochs -3` reads as `--epochs=-3`), switches without a value, `--help` / `-h`
 * anywhere. A flag given twice takes its last value.
 * @returns the options, or `"help"` when `--help` or `-h` is among the arguments.
 * @throws UsageError with one line naming the flag and the value: an unknown flag, a missing
 *   value, a value for a switch, an argument that is not a flag, or a value out of range.
 */
export function parseJobArgs(argv: readonly string[]): SpiralJobOptions | "help" {
  const end = argv.indexOf("--");
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h")) return "help";
  const values: Partial<Record<ValueFlag, string>> = {};
  const on = new Set<Switch>();
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i]!;
    if (!arg.startsWith("--")) {
      if (arg.startsWith("-") && arg.length > 1) throw new UsageError(`unknown option ${quote(arg)}`);
      throw new UsageError(`unexpected argument ${quote(arg)}: the job takes only options`);
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (isValueFlag(name)) {
      if (eq >= 0) values[name] = arg.slice(eq + 1);
      else {
        const next = flags[i + 1];
        // a value may start with "-" (a negative number); another flag may not be taken for one
        if (next === undefined || next.startsWith("--") || next === "-h") {
          throw new UsageError(`--${name} needs a value`);
        }
        values[name] = next;
        i++;
      }
    } else if (isSwitch(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value, got ${quote(arg.slice(eq + 1))}`);
      on.add(name);
    } else {
      const near = closest(name, [...VALUE_FLAGS, ...SWITCHES]);
      throw new UsageError(`unknown option ${quote(`--${name}`)}${near === null ? "" : ` (did you mean --${near}?)`}`);
    }
  }
  if (end >= 0 && end + 1 < argv.length) {
    throw new UsageError(`unexpected argument ${quote(argv[end + 1]!)}: the job takes only options`);
  }

  const optimizer = oneOf("optimizer", values.optimizer, OPTIMIZER_NAMES, "sgd");
  const dtype = oneOf("dtype", values.dtype, ["float32", "float64"] as const, "float32");
  const lr = values.lr === undefined ? DEFAULT_LR[optimizer] : positiveNumber("lr", values.lr);
  const out = values.out ?? "out/spiral";
  if (out === "") throw new UsageError('--out must be a folder, got ""');
  if (out.includes("\0")) throw new UsageError(`--out must not contain a NUL character, got ${quote(out)}`);
  return {
    epochs: integer("epochs", values.epochs, 300),
    hidden: integer("hidden", values.hidden, 10),
    lr,
    batch: integer("batch", values.batch, 30),
    optimizer,
    dtype,
    seed: seed(values.seed),
    out,
    report: !on.has("no-report"),
    verbose: on.has("verbose"),
  };
}

function isValueFlag(name: string): name is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(name);
}

function isSwitch(name: string): name is Switch {
  return (SWITCHES as readonly string[]).includes(name);
}

/** A value for a message: JSON-quoted, cut to 60 characters. */
function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

function integer(name: keyof typeof LIMITS, s: string | undefined, dflt: number): number {
  if (s === undefined) return dflt;
  const { min, max } = LIMITS[name];
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !(n >= min && n <= max)) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${quote(s)}`);
  }
  return n;
}

/** The smallest and largest seed: a signed 64-bit integer, as `Rng` takes it. */
const SEED_MIN = -(2n ** 63n);
const SEED_MAX = 2n ** 63n - 1n;

/** `--seed`: any signed 64-bit integer, a number when it is safe and a BigInt beyond (never cut). */
function seed(s: string | undefined): Seed {
  if (s === undefined) return 1984;
  const n = /^[+-]?\d+$/.test(s) ? BigInt(s) : null;
  if (n === null || n < SEED_MIN || n > SEED_MAX) {
    throw new UsageError(`--seed must be an integer from ${SEED_MIN} to ${SEED_MAX}, got ${quote(s)}`);
  }
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function positiveNumber(name: string, s: string): number {
  const n = Number(s);
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(s) || !(Number.isFinite(n) && n > 0)) {
    throw new UsageError(`--${name} must be a positive number, got ${quote(s)}`);
  }
  return n;
}

function oneOf<T extends string>(name: string, s: string | undefined, choices: readonly T[], dflt: T): T {
  if (s === undefined) return dflt;
  if ((choices as readonly string[]).includes(s)) return s as T;
  const near = closest(s.toLowerCase(), choices);
  throw new UsageError(
    `--${name} must be one of ${choices.join(", ")}, got ${quote(s)}${near === null ? "" : ` (did you mean ${near}?)`}`,
  );
}

/** The choice within edit distance 2 of `s` (the nearest, first on ties), or null. */
function closest(s: string, choices: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const c of choices) {
    const d = editDistance(s, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}
