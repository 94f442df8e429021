import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadParams } from "@gradgraph/nn";
import { afterAll, describe, expect, it } from "vitest";
import { main, parseJobArgs } from "../src/cli.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const text: string[] = [];
  return { text, stream: { write: (s: string) => text.push(s), isTTY: false } };
}

describe("npm start (the spiral job)", () => {
  it("trains with the seed's hyper-parameters, reports accuracy >= 0.95, writes loss.json and the checkpoint", async () => {
    const out = capture();
    const err = capture();
    const code = await main(["--out", dir], out.stream, err.stream);
    expect(code).toBe(0);
    const printed = out.text.join("");
    expect(printed).toMatch(/spiral: TwoLayerNet\(2, 10, 3\), sgd lr 1, batch 30, 300 epochs, float32, seed 1984/);
    expect(printed).toMatch(/\| epoch 300 \| iter 10 \/ 10 \| time \d+\[s\] \| loss \d\.\d\d/);
    const acc = Number(/training accuracy ([\d.]+)%/.exec(printed)![1]) / 100;
    expect(acc).toBeGreaterThanOrEqual(0.95);
    const loss = JSON.parse(readFileSync(join(dir, "loss.json"), "utf8")) as { lossList: number[]; accuracy: number };
    expect(loss.lossList).toHaveLength(300);
    expect(loss.accuracy).toBe(acc);
    for (const f of ["loss.svg", "boundary.svg", "graph.dot", "graph.svg", "report.html"]) {
      expect(printed).toContain(join(dir, f));
    }
    const report = readFileSync(join(dir, "report.html"), "utf8");
    expect(report).toMatch(/id="fig-loss"[\s\S]*id="fig-boundary"[\s\S]*id="fig-graph"/);
    const dot = readFileSync(join(dir, "graph.dot"), "utf8");
    expect(dot).toMatch(/subgraph "?cluster/);
    expect(dot).toMatch(/W1/);
    const params = loadParams(join(dir, "model.safetensors"));
    expect([...params.keys()].sort()).toEqual(["W1", "W2", "b1", "b2"]);
    expect(params.get("W1")!.shape).toEqual([2, 10]);
  });

  it("takes every flag", async () => {
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
        "7",
        "--out",
        "x",
        "--no-report",
      ]),
    ).toEqual({
      epochs: 3,
      hidden: 5,
      lr: 0.5,
      batch: 10,
      optimizer: "adam",
      dtype: "float64",
      seed: 7,
      out: "x",
      report: false,
    });
    const out = capture();
    const quiet = join(dir, "quiet");
    expect(
      await main(
        ["--epochs", "2", "--optimizer", "momentum", "--dtype", "float64", "--out", quiet, "--no-report"],
        out.stream,
        capture().stream,
      ),
    ).toBe(0);
    // --no-report: the results and the checkpoint only
    expect(readdirSync(quiet).sort()).toEqual(["loss.json", "model.safetensors"]);
    expect(out.text.join("")).not.toContain("report.html");
  });

  it("--help prints usage; bad flags get a clear message and a non-zero exit", async () => {
    const help = capture();
    expect(await main(["--help"], help.stream, capture().stream)).toBe(0);
    expect(help.text.join("")).toMatch(/usage: npm start -- \[options\]/);
    const cases: [string[], RegExp][] = [
      [["--epochs", "0"], /--epochs must be an integer >= 1, got "0"/],
      [["--epochs", "1.5"], /--epochs must be an integer >= 1, got "1.5"/],
      [["--lr=-1"], /--lr must be a positive number, got "-1"/],
      [["--lr", "abc"], /--lr must be a positive number, got "abc"/],
      [
        ["--optimizer", "lbfgs"],
        /--optimizer must be one of sgd, momentum, nesterov, adagrad, rmsprop, adam, got "lbfgs"/,
      ],
      [["--dtype", "int8"], /--dtype must be float32 or float64, got "int8"/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--batch", "1000", "--out", dir], /--batch 1000 is larger than the 300 data points/],
    ];
    for (const [args, message] of cases) {
      const err = capture();
      expect(await main(args, capture().stream, err.stream)).toBe(2);
      expect(err.text.join("")).toMatch(message);
    }
  });
});
