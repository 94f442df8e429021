/**
 * Seeds in @gradgraph/nn: TwoLayerNet, Trainer.fit, Dropout and loadSpiral take the seeds `Rng`
 * takes (any safe integer, or a signed 64-bit BigInt), whole, and refuse the others by name.
 */
import { ArgumentError, type Seed, type Tensor, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { Dropout, loadSpiral, SGD, Trainer, TwoLayerNet } from "../src/index.js";

const W1 = (net: TwoLayerNet): Tensor => net.params[0]!;

describe("TwoLayerNet's initial weights", () => {
  it("are of normal size from the first entry on, for small seeds too", () => {
    // the unmixed seed 1 gave W1[0] = 7e-7 and W1[1] = -1.7e-6, against 0.01 elsewhere
    const w = W1(new TwoLayerNet(2, 10, 3, { seed: 1, dtype: "float64" })).data;
    expect(Math.abs(w[0]!)).toBeGreaterThan(1e-3);
    expect(Math.abs(w[1]!)).toBeGreaterThan(1e-3);
    // over seeds 0..199, |W1[0]| and |W1[1]| are |0.01·z| for z ~ N(0, 1): median 0.00674
    for (const k of [0, 1]) {
      const first = Array.from({ length: 200 }, (_, seed) =>
        Math.abs(W1(new TwoLayerNet(2, 10, 3, { seed, dtype: "float64" })).data[k]!),
      ).sort((a, b) => a - b);
      const median = (first[99]! + first[100]!) / 2;
      expect(median).toBeGreaterThan(0.005);
      expect(median).toBeLessThan(0.0085);
    }
  });
});

/** A tiny training run: the batch losses depend on the shuffles of `seed`. */
function fitLosses(seed: Seed): number[] {
  const { x, t } = loadSpiral({ pointsPerClass: 10 });
  const trainer = new Trainer(new TwoLayerNet(2, 4, 3, { seed: 0 }), new SGD({ lr: 1 }));
  trainer.fit(x, t, { maxEpoch: 2, batchSize: 5, evalInterval: 1, seed, output: null });
  return trainer.batchLosses;
}

function dropoutMask(seed: Seed): number[] {
  return Array.from(new Dropout({ ratio: 0.5, seed }).forward(tensor(new Float32Array(64).fill(1))).data);
}

const takers: [string, (seed: Seed) => unknown][] = [
  ["TwoLayerNet", (seed) => Array.from(W1(new TwoLayerNet(2, 3, 3, { seed })).data)],
  ["Trainer.fit", fitLosses],
  ["Dropout", dropoutMask],
  ["loadSpiral", (seed) => Array.from(loadSpiral({ seed, pointsPerClass: 5 }).x.data)],
];

describe("seed options", () => {
  it("are taken whole: s and s + 2^32 differ, s and BigInt(s) agree, the same seed repeats", () => {
    for (const [fn, call] of takers) {
      for (const s of [0, 1, 1984, -7]) {
        const a = call(s);
        expect(call(s), `${fn} ${s}`).toEqual(a);
        expect(call(BigInt(s)), `${fn} ${s}n`).toEqual(a);
        expect(call(s + 2 ** 32), `${fn} ${s} + 2^32`).not.toEqual(a);
        expect(call(BigInt(s) + 2n ** 40n), `${fn} ${s} + 2^40`).not.toEqual(a);
      }
      expect(call(2n ** 63n - 1n)).not.toEqual(call(-(2n ** 63n)));
      expect(call(2 ** 53 - 1)).toEqual(call(2n ** 53n - 1n));
    }
  });

  it("refuse bad seeds with an ArgumentError naming the function and the value", () => {
    const bad: [unknown, string][] = [
      [1.5, "seed must be an integer, got number 1.5"],
      [Number.NaN, "seed must be an integer, got number NaN"],
      [Number.POSITIVE_INFINITY, "seed must be an integer, got number Infinity"],
      ["1984", 'seed must be an integer, got string "1984"'],
      [null, "seed must be an integer, got null"],
      [
        2 ** 53,
        "seed must be a safe integer (at most 2^53 - 1 in magnitude; give a BigInt for a larger seed), got number 9007199254740992",
      ],
      [
        -1e20,
        "seed must be a safe integer (at most 2^53 - 1 in magnitude; give a BigInt for a larger seed), got number -100000000000000000000",
      ],
      [2n ** 63n, "seed must be a signed 64-bit integer (from -2^63 to 2^63 - 1), got bigint 9223372036854775808n"],
    ];
    for (const [fn, call] of takers) {
      for (const [seed, message] of bad) {
        let error: unknown;
        try {
          call(seed as Seed);
        } catch (e) {
          error = e;
        }
        expect(error, `${fn} ${String(seed)}`).toBeInstanceOf(ArgumentError);
        expect((error as Error).message).toBe(`${fn}: ${message}`);
      }
    }
  });
});
