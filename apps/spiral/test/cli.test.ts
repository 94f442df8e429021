/**
 * The spiral job (`npm start`): a full run and its files, the report's graph and metadata, the
 * flags and their defaults (each optimizer's learning rate, checked against what the help text
 * says it reaches), and the errors of `main` in process. The bad invocations, as real processes,
 * are in bad-invocations.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelInfo, tensor } from "@gradgraph/core";
import {
  accuracy,
  createOptimizer,
  loadParams,
  loadSpiral,
  OPTIMIZER_NAMES,
  Trainer,
  TwoLayerNet,
} from "@gradgraph/nn";
import { fromOnnx } from "@gradgraph/onnx";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_LR as PLAYGROUND_LR } from "../../playground/src/settings.js";
import { DEFAULT_LR, main, parseJobArgs, runSpiralJob, TUNED_LR, USAGE } from "../src/cli.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const text: string[] = [];
  return { text, stream: { write: (s: string) => text.push(s), isTTY: false } };
}

/** Runs `main` with captured streams. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await main(args, out.stream, err.stream);
  return { code, out: out.text.join(""), err: err.text.join("") };
}

describe("npm start (the spiral job)", () => {
  it("trains with the seed's hyper-parameters to accuracy >= 0.95 and writes every file", async () => {
    const out = capture();
    const options = parseJobArgs(["--out", join(dir, "full")]);
    if (options === "help") throw new Error("unreachable");
    const before = Date.now();
    const r = await runSpiralJob(options, out.stream);
    const printed = out.text.join("");
    expect(printed.split("\n")[0]).toBe(
      "spiral: TwoLayerNet(2, 10, 3), sgd lr 1 (default), batch 30, 300 epochs, float32, seed 1984",
    );
    expect(printed).toMatch(/\| epoch 300 \| iter 10 \/ 10 \| time \d+\[s\] \| loss \d\.\d\d/);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
    const out0 = join(dir, "full");
    expect(readdirSync(out0).sort()).toEqual([
      "boundary.svg",
      "graph.dot",
      "graph.svg",
      "loss.json",
      "loss.svg",
      "model.onnx",
      "model.safetensors",
      "report.html",
    ]);
    const loss = JSON.parse(readFileSync(join(out0, "loss.json"), "utf8")) as {
      lossList: number[];
      accuracy: number;
      options: Record<string, unknown>;
    };
    expect(loss.lossList).toHaveLength(300);
    expect(loss.accuracy).toBe(r.accuracy);
    expect(loss.options).toEqual({
      epochs: 300,
      hidden: 10,
      lr: 1,
      batch: 30,
      optimizer: "sgd",
      dtype: "float32",
      seed: 1984,
      out: out0,
      report: true,
    });
    const params = loadParams(join(out0, "model.safetensors"));
    expect([...params.keys()].sort()).toEqual(["W1", "W2", "b1", "b2"]);
    expect(params.get("W1")!.shape).toEqual([2, 10]);
    // model.onnx: the trained net for ONNX Runtime (any batch size), loaded back with fromOnnx
    const onnx = fromOnnx(new Uint8Array(readFileSync(join(out0, "model.onnx"))));
    expect(Object.keys(onnx.params)).toEqual(["W1", "b1", "W2", "b2"]);
    expect(onnx.inputs).toEqual([{ name: "x", dtype: "float32", dims: ["batch", 2] }]);
    const points = tensor([
      [0.1, -0.2],
      [0.3, 0.4],
      [-0.5, 0.0],
    ]);
    const scores = onnx.run({ x: points }).scores!;
    const ours = r.model.predict(points);
    for (let i = 0; i < ours.size; i++) expect(scores.data[i]).toBeCloseTo(ours.data[i]!, 5);

    // the graph: one step after backward, every layer a cluster (the loss too), each parameter
    // with the norm of this step's gradient
    const dot = readFileSync(join(out0, "graph.dot"), "utf8");
    const clusters = [...dot.matchAll(/subgraph "cluster_\d+" \{\n\s+label="([^"]+)";/g)].map((m) => m[1]);
    expect(clusters).toEqual(["Affine[0]", "Sigmoid[1]", "Affine[2]", "SoftmaxWithLoss[3]"]);
    for (const [op, k] of [
      ["affine", 0],
      ["sigmoid", 1],
      ["affine", 2],
      ["softmaxCrossEntropy", 3],
    ] as const) {
      const body = dot.split(`subgraph "cluster_${k}"`)[1]!.split("  }")[0]!;
      expect(body).toContain(`label="${op}\\n`);
    }
    const norms = [...dot.matchAll(/"(W1|b1|W2|b2)\\n\[[\d, ]+\] float32\\ngrad \[[\d, ]+\], norm ([\d.e-]+)"/g)];
    expect(norms.map((m) => m[1])).toEqual(["W1", "b1", "W2", "b2"]);
    const expected = r.model.grads.map((g) => Number(Math.hypot(...g.data).toPrecision(4)));
    expect(norms.map((m) => Number(m[2]))).toEqual(expected);
    for (const n of expected) expect(n).toBeGreaterThan(0);
    expect(dot).not.toContain("saved: released");

    // the page: the three figures and the run's metadata
    const report = readFileSync(join(out0, "report.html"), "utf8");
    expect(report).toMatch(/id="fig-loss"[\s\S]*id="fig-boundary"[\s\S]*id="fig-graph"/);
    const cell = (key: string): string | undefined =>
      new RegExp(`<td id="run-${key}">([^<]*)</td>`).exec(report)?.[1]?.replace(/&amp;/g, "&");
    const date = Date.parse(cell("date")!);
    expect(date).toBeGreaterThanOrEqual(before - 1000);
    expect(date).toBeLessThanOrEqual(Date.now());
    const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: import.meta.dirname, encoding: "utf8" });
    if (git.status === 0) expect(cell("commit")).toMatch(new RegExp(`^${git.stdout.trim()}( \\+ local changes)?$`));
    else expect(cell("commit")).toBeUndefined();
    expect(cell("wall-time")).toMatch(/^\d+\.\d\d s \(training \d+\.\d\d s\)$/);
    expect(cell("kernel-backend")!.startsWith(kernelInfo().backend)).toBe(true);
    expect(cell("model-files")).toMatch(/^model\.safetensors \(checkpoint\), model\.onnx \(ONNX, opset 17/);
    expect(cell("node-js")).toBe(process.version);
    const require = createRequire(import.meta.url);
    const v = (p: string) => (require(`${p}/package.json`) as { version: string }).version;
    expect(cell("gradgraph")).toBe(
      `@gradgraph/spiral ${v("@gradgraph/spiral")} (core ${v("@gradgraph/core")}, nodes ${v("@gradgraph/nodes")}, nn ${v("@gradgraph/nn")}, viz ${v("@gradgraph/viz")}, onnx ${v("@gradgraph/onnx")})`,
    );
  });

  it("main prints the results and the files; --no-report writes only the results, the checkpoint and the ONNX model", async () => {
    const quiet = join(dir, "quiet", "deeper");
    const r = await run([
      "--epochs",
      "2",
      "--optimizer",
      "momentum",
      "--dtype",
      "float64",
      "--out",
      quiet,
      "--no-report",
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toMatch(
      /^spiral: TwoLayerNet\(2, 10, 3\), momentum lr 0\.01 \(default\), batch 30, 2 epochs, float64/,
    );
    expect(r.out).toMatch(/final loss \d\.\d{4}, training accuracy [\d.]+%\n/);
    expect(readdirSync(quiet).sort()).toEqual(["loss.json", "model.onnx", "model.safetensors"]);
    expect(r.out).toContain(
      `wrote ${join(quiet, "loss.json")}\nwrote ${join(quiet, "model.safetensors")}\nwrote ${join(quiet, "model.onnx")}\n`,
    );
    expect(r.out).not.toContain("report.html");
  });
});

describe("flags", () => {
  it("takes every flag, as --flag value or --flag=value; the last of a repeated flag wins", () => {
    const want = {
      epochs: 3,
      hidden: 5,
      lr: 0.5,
      batch: 10,
      optimizer: "adam",
      dtype: "float64",
      seed: -7,
      out: "x",
      report: false,
      verbose: true,
    };
    expect(
      parseJobArgs([
        "--epochs",
        "3",
        "--hidden",
        "5",
        "--lr",
        "0.5",
        "--batch",
        "10",
        "--optimizer",
        "adam",
        "--dtype",
        "float64",
        "--seed",
        "-7",
        "--out",
        "x",
        "--no-report",
        "--verbose",
      ]),
    ).toEqual(want);
    expect(
      parseJobArgs([
        "--epochs=3",
        "--hidden=5",
        "--lr=.5",
        "--batch=10",
        "--optimizer=adam",
        "--dtype=float64",
        "--seed=-7",
        "--out=y",
        "--out=x",
        "--no-report",
        "--verbose",
      ]),
    ).toEqual(want);
    expect(parseJobArgs([])).toEqual({
      epochs: 300,
      hidden: 10,
      lr: 1,
      batch: 30,
      optimizer: "sgd",
      dtype: "float32",
      seed: 1984,
      out: "out/spiral",
      report: true,
      verbose: false,
    });
    expect(parseJobArgs(["--out", "-dash"])).toMatchObject({ out: "-dash" }); // a value may start with "-"
    // seeds: any signed 64-bit integer, never cut to 32 bits (4294969280 is not 1984)
    expect(parseJobArgs(["--seed", "4294969280"])).toMatchObject({ seed: 4294969280 });
    expect(parseJobArgs(["--seed", "9223372036854775807"])).toMatchObject({ seed: 9223372036854775807n });
    expect(parseJobArgs(["--seed", "-9223372036854775808"])).toMatchObject({ seed: -9223372036854775808n });
    for (const h of [["--help"], ["-h"], ["--bogus", "--help"], ["--epochs", "0", "-h"]])
      expect(parseJobArgs(h)).toBe("help");
  });

  it("gives each optimizer its usual learning rate unless --lr is given, and prints it", async () => {
    expect(DEFAULT_LR).toEqual({ sgd: 1, momentum: 0.01, nesterov: 0.01, adagrad: 0.01, rmsprop: 0.01, adam: 0.001 });
    for (const name of OPTIMIZER_NAMES) {
      expect(parseJobArgs(["--optimizer", name])).toMatchObject({ optimizer: name, lr: DEFAULT_LR[name] });
      expect(parseJobArgs(["--optimizer", name, "--lr", "0.2"])).toMatchObject({ lr: 0.2 });
      // the optimizer's own default in @gradgraph/nn, except SGD (the book's 1.0 for this job)
      if (name !== "sgd") expect(createOptimizer(name).lr).toBe(DEFAULT_LR[name]);
    }
    const r = await run(["--optimizer", "adam", "--epochs", "1", "--no-report", "--out", join(dir, "adam")]);
    expect(r.out.split("\n")[0]).toBe(
      "spiral: TwoLayerNet(2, 10, 3), adam lr 0.001 (default), batch 30, 1 epochs, float32, seed 1984",
    );
    const given = await run([
      "--optimizer",
      "adam",
      "--lr",
      "0.03",
      "--epochs",
      "1",
      "--no-report",
      "--out",
      join(dir, "adam"),
    ]);
    expect(given.out.split("\n")[0]).toContain("adam lr 0.03, batch 30");
  });

  it("the help text's claims hold: which default rates train the net in 300 epochs, and the tuned ones", () => {
    const trained = (name: (typeof OPTIMIZER_NAMES)[number], lr: number): number => {
      const { x, t } = loadSpiral({ seed: 1984 });
      const model = new TwoLayerNet(2, 10, 3, { seed: 1984 });
      new Trainer(model, createOptimizer(name, { lr })).fit(x, t, {
        maxEpoch: 300,
        batchSize: 30,
        evalInterval: 10,
        seed: 1984,
        output: null,
      });
      return accuracy(model, x, t);
    };
    // USAGE: ">= 95% only for rmsprop (momentum, nesterov, adagrad and adam end near 50-60%)"
    expect(USAGE).toContain("rates: sgd 1, momentum 0.01, nesterov 0.01, adagrad 0.01, rmsprop 0.01, adam 0.001.");
    for (const name of OPTIMIZER_NAMES) {
      const acc = trained(name, DEFAULT_LR[name]);
      if (name === "sgd" || name === "rmsprop") expect(acc, name).toBeGreaterThanOrEqual(0.95);
      else {
        expect(acc, name).toBeGreaterThanOrEqual(0.45);
        expect(acc, name).toBeLessThan(0.65);
      }
      expect(trained(name, TUNED_LR[name]), `${name} at ${TUNED_LR[name]}`).toBeGreaterThanOrEqual(0.95);
    }
    // the tuned rates are the playground's
    expect(TUNED_LR).toEqual(PLAYGROUND_LR);
    expect(USAGE).toContain("momentum 0.3, nesterov 0.3, adagrad 0.5, rmsprop 0.03, adam 0.03");
  });
});

describe("errors in main", () => {
  it("--help prints the usage on stdout and nothing else", async () => {
    const r = await run(["--help"]);
    expect(r).toEqual({ code: 0, out: USAGE, err: "" });
    expect(USAGE).toMatch(/^usage: npm start -- \[options\]/);
  });

  it("a usage error: one line, then `run with --help for usage`, exit code 2", async () => {
    const r = await run(["--epochs", "-3"]);
    expect(r).toEqual({
      code: 2,
      out: "",
      err: 'error: --epochs must be an integer from 1 to 1000000, got "-3"\nrun with --help for usage\n',
    });
  });

  it("training that diverges: one line, exit code 1, no file and no folder left", async () => {
    const out = join(dir, "diverged", "run");
    const r = await run(["--lr", "1e300", "--epochs", "2", "--no-report", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("error: training diverged: the final loss is NaN (sgd at lr 1e+300); try a smaller --lr\n");
    expect(existsSync(join(dir, "diverged"))).toBe(false);
  });

  it("an I/O error after training: one line and exit code 1; the stack only with --verbose", async () => {
    const out = join(dir, "taken");
    mkdirSync(join(out, "loss.json"), { recursive: true }); // a folder where the job writes a file
    const r = await run(["--epochs", "1", "--no-report", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: cannot write ${join(out, "loss.json")}: illegal operation on a directory (EISDIR)\n`);
    const v = await run(["--epochs", "1", "--no-report", "--out", out, "--verbose"]);
    expect(v.code).toBe(1);
    const lines = v.err.split("\n");
    expect(lines[0]).toBe(r.err.trimEnd());
    expect(lines[1]).toMatch(/^OutputError: cannot write/);
    expect(v.err).toMatch(/^\s+at /m);
    expect(v.err).toMatch(/^caused by: CheckpointError: writeFileAtomic: could not write/m);
    expect(readdirSync(out)).toEqual(["loss.json"]); // no temporary file left
  });
});
