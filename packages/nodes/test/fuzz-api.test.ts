/**
 * Issue 7, "bad input never crashes": fast-check calls every public function of @gradgraph/nodes
 * and every op object in `ops` with valid-but-odd and invalid arguments (fuzz-api.cases.ts). Each
 * call must either return a well-formed Tensor (or array of them) or throw a GradgraphError naming
 * the function. The cases run in the watchdog's worker thread, so a call that hangs fails its test
 * with the input.
 */

import { ArgumentError, ShapeError, tensor, zeros } from "@gradgraph/core";
import { afterAll, describe, expect, it } from "vitest";
import { RUNS } from "../../core/test/fuzz-helpers.js";
import { FuzzWatchdog } from "../../core/test/watchdog.js";
import * as nodes from "../src/index.js";
import { cases, publicFunctions } from "./fuzz-api.cases.js";

type AnyFn = (...args: unknown[]) => unknown;

const watchdog = new FuzzWatchdog(new URL("./fuzz-api.cases.ts", import.meta.url));
afterAll(() => watchdog.close());

describe("fuzz: every public function of @gradgraph/nodes, and the op objects in `ops`", () => {
  it("has an argument generator for every exported function", () => {
    expect(publicFunctions.filter((n) => !(n in cases))).toEqual([]);
  });

  for (const name of Object.keys(cases)) {
    it(`${name} returns a well-formed result or throws a GradgraphError naming it`, () => watchdog.run(name, RUNS));
  }
});

describe("fuzz regressions", () => {
  it("branch, repeat and split refuse huge counts with an ArgumentError/ShapeError instead of a RangeError", () => {
    expect(() => nodes.branch(tensor(1), 1e12)).toThrow(ArgumentError);
    expect(() => nodes.branch(tensor(1), 1e12)).toThrow(/branch: n must be at most 1048576, got 1000000000000/);
    expect(() => nodes.repeat(tensor(1, { dtype: "float32" }), 2 ** 40)).toThrow(ShapeError);
    expect(() => nodes.repeat(tensor([1, 2]), 2 ** 40, 0)).toThrow(/repeat: result .* has 2199023255552 elements/);
    expect(nodes.repeat(zeros([0]), 2 ** 40).shape).toEqual([0]);
    // used to loop 3 * 1e12 times copying nothing
    expect(nodes.repeat(zeros([3, 0]), 1e12, 0).shape).toEqual([3e12, 0]);
    expect(() => nodes.split(zeros([0]), 2 ** 40, 0)).toThrow(ArgumentError);
    expect(() => nodes.split(zeros([0]), 2 ** 40, 0)).toThrow(/split: the number of pieces must be at most 1048576/);
    expect(nodes.split(zeros([0]), 3, 0).map((t) => t.shape)).toEqual([[0], [0], [0]]);
  });

  it("op objects given bigint/symbol attrs throw an ArgumentError, not a TypeError from JSON.stringify", () => {
    expect(() => (nodes.ops.padSlice as unknown as AnyFn)([tensor(1)], 10n)).toThrow(ArgumentError);
    expect(() => (nodes.ops.padSlice as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/padSlice: attrs must be/);
    expect(() => (nodes.ops.transpose as unknown as AnyFn)([tensor(1)], 10n)).toThrow(
      /transpose: attrs must be .* got "10n"/,
    );
    expect(() => (nodes.ops.sum as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/sum: attrs must be/);
    expect(() => (nodes.ops.softmax as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/softmax: attrs must be/);
    expect(() => (nodes.ops.powScalar as unknown as AnyFn)([tensor(1)], 10n)).toThrow(/powScalar: attrs must be/);
    expect(() => nodes.transpose(zeros([2, 2]), [0n, 1n] as unknown as number[])).toThrow(ArgumentError);
  });
});
