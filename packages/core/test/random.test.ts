/**
 * The seeded generator: seeds are mixed by splitmix64 before they set xoroshiro128+'s state, so
 * small and nearby seeds start well spread (the first draws of seeds 0..999 pass a
 * Kolmogorov–Smirnov test), every seed is taken whole (s and s + 2^32 differ), 1 and 1n are the
 * same seed, bad seeds are refused by name, and the same seed gives the same stream, bit for bit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError, defineOp, gradcheck, gradgradcheck, Rng, randn, type Seed, type Tensor } from "../src/index.js";
import { splitmix64 } from "../src/random.js";
import { checkOp } from "../src/testing/index.js";
import { mul } from "./helpers.js";
import { ksTest, normalCdf } from "./stats.js";

const M64 = 2n ** 64n - 1n;

/** splitmix64 written out from Vigna's splitmix64.c, independently of the library's. */
function referenceSplitmix64(seed: bigint, count: number): bigint[] {
  let x = BigInt.asUintN(64, seed);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    x = (x + 0x9e3779b97f4a7c15n) & M64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    out.push(z ^ (z >> 31n));
  }
  return out;
}

/**
 * The first `count` uniforms of `new Rng(seed)` computed from the definitions: xoroshiro128+
 * (Blackman & Vigna, a = 24, b = 16, c = 37) with its state set to the first two splitmix64
 * outputs of the seed, and pure-rand's `uniformFloat64`, which takes the low 26 and 27 bits of two
 * outputs.
 */
function referenceUniforms(seed: bigint, count: number): number[] {
  let [s0, s1] = referenceSplitmix64(seed, 2) as [bigint, bigint];
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (64n - k))) & M64;
  const next = (): bigint => {
    const result = (s0 + s1) & M64;
    s1 ^= s0;
    s0 = rotl(s0, 24n) ^ s1 ^ ((s1 << 16n) & M64);
    s1 = rotl(s1, 37n);
    return result;
  };
  return Array.from({ length: count }, () => {
    const hi = Number(next() & 0x3ffffffn);
    const lo = Number(next() & 0x7ffffffn);
    return hi * 2 ** -26 + lo * 2 ** -53;
  });
}

/** The first `count` uniforms of a fresh generator. */
function uniforms(seed: Seed, count: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.uniform());
}

const SEEDS = Array.from({ length: 1000 }, (_, i) => i);

describe("seed mixing", () => {
  it("splitmix64 gives the published outputs", () => {
    // Vigna's splitmix64.c from 0, and the Rosetta Code task "Pseudo-random numbers/Splitmix64" from 1234567
    const fromZero = [0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn];
    const from1234567 = [
      6457827717110365317n,
      3203168211198807973n,
      9817491932198370423n,
      4593380528125082431n,
      16408922859458223821n,
    ];
    expect(splitmix64(0n, 3)).toEqual(fromZero);
    expect(referenceSplitmix64(0n, 3)).toEqual(fromZero);
    expect(splitmix64(1234567n, 5)).toEqual(from1234567);
    expect(referenceSplitmix64(1234567n, 5)).toEqual(from1234567);
  });

  it("Rng is xoroshiro128+ seeded with the first two splitmix64 outputs of the seed, bit for bit", () => {
    const seeds: Seed[] = [
      0,
      1,
      2,
      1984,
      -1,
      2 ** 32 + 1984,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2n ** 63n - 1n,
      -(2n ** 63n),
    ];
    for (const seed of seeds) {
      expect(uniforms(seed, 50), String(seed)).toEqual(referenceUniforms(BigInt(seed), 50));
    }
  });

  it("the first uniform of seeds 0..999 passes a Kolmogorov–Smirnov test against U(0, 1)", () => {
    const ks = ksTest(
      SEEDS.map((s) => new Rng(s).uniform()),
      (x) => Math.min(1, Math.max(0, x)),
    );
    // D = 0.0347, p = 0.18 (critical D at α = 0.05: 0.0429); the unmixed seeds gave D ≈ 1
    expect(ks.d).toBeLessThan(ks.critical05);
  });

  it("the first normal of seeds 0..999 passes a Kolmogorov–Smirnov test against N(0, 1)", () => {
    const ks = ksTest(
      SEEDS.map((s) => new Rng(s).normal()),
      normalCdf,
    );
    // D = 0.0242, p = 0.60 (critical D at α = 0.05: 0.0429); the unmixed seeds gave D ≈ 0.5
    expect(ks.d).toBeLessThan(ks.critical05);
  });

  it("so does the second normal (the other half of the first Box–Muller pair)", () => {
    const ks = ksTest(
      SEEDS.map((s) => {
        const rng = new Rng(s);
        rng.normal();
        return rng.normal();
      }),
      normalCdf,
    );
    // D = 0.0215, p = 0.74
    expect(ks.d).toBeLessThan(ks.critical05);
  });

  it("the first normals of neighbouring seeds are uncorrelated", () => {
    const z = SEEDS.map((s) => new Rng(s).normal());
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    let num = 0;
    let den = 0;
    for (let i = 0; i < z.length; i++) {
      den += (z[i]! - mean) ** 2;
      if (i > 0) num += (z[i]! - mean) * (z[i - 1]! - mean);
    }
    // under independence r is about N(0, 1/n): 4 standard errors
    expect(Math.abs(num / den)).toBeLessThan(4 / Math.sqrt(z.length));
  });
});

describe("seeds are taken whole", () => {
  it("seeds that differ by a multiple of 2^32 give different streams, as numbers and as BigInts", () => {
    expect(uniforms(2 ** 32 + 1984, 4)).not.toEqual(uniforms(1984, 4));
    for (const s of SEEDS) {
      const first = uniforms(s, 4);
      for (const k of [1, 2, -1, 2 ** 20]) {
        expect(uniforms(s + k * 2 ** 32, 4)).not.toEqual(first);
        expect(uniforms(BigInt(s) + BigInt(k) * 2n ** 32n, 4)).not.toEqual(first);
      }
    }
  });

  it("for any safe seed s, s and s ± 2^32 give different streams", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (s) => {
        const t = s + 2 ** 32 <= Number.MAX_SAFE_INTEGER ? s + 2 ** 32 : s - 2 ** 32;
        expect(uniforms(t, 4)).not.toEqual(uniforms(s, 4));
      }),
      { numRuns: 500 },
    );
  });

  it("any two different 64-bit seeds give different streams; s and s + 2^32 in particular", () => {
    const seed = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(
      fc.property(seed, seed, (a, b) => {
        fc.pre(a !== b);
        expect(uniforms(a, 4)).not.toEqual(uniforms(b, 4));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n - 2n ** 32n }), (s) => {
        expect(uniforms(s + 2n ** 32n, 4)).not.toEqual(uniforms(s, 4));
      }),
      { numRuns: 500 },
    );
  });

  it("a number and the BigInt of the same value are the same seed; 0 and -0 too", () => {
    for (const s of [0, 1, -1, 1984, 2 ** 32 + 1984, -(2 ** 40), 2 ** 53 - 1, -(2 ** 53 - 1)]) {
      expect(uniforms(BigInt(s), 8)).toEqual(uniforms(s, 8));
    }
    expect(uniforms(-0, 8)).toEqual(uniforms(0, 8));
    // randn's seed option takes both, alike
    expect(randn([5], { seed: 7n, dtype: "float64" }).data).toEqual(randn([5], { seed: 7, dtype: "float64" }).data);
  });
});

describe("determinism", () => {
  it("the same seed gives the same stream, bit for bit, through every method", () => {
    const draw = (seed: Seed): number[] => {
      const rng = new Rng(seed);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push(rng.uniform(), rng.normal(), rng.int(-5, 1000), rng.int(0, 2 ** 40));
      out.push(...rng.permutation(50), rng.normal());
      return out;
    };
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), (seed) => {
        const a = draw(seed);
        const b = draw(seed);
        expect(a.length).toBe(b.length);
        // Object.is: bit for bit, -0 and NaN included
        expect(a.every((v, i) => Object.is(v, b[i]))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

const BAD_SEEDS: [unknown, RegExp][] = [
  [1.5, /seed must be an integer, got number 1\.5$/],
  [Number.NaN, /seed must be an integer, got number NaN$/],
  [Number.POSITIVE_INFINITY, /seed must be an integer, got number Infinity$/],
  [Number.NEGATIVE_INFINITY, /seed must be an integer, got number -Infinity$/],
  ["1", /seed must be an integer, got string "1"$/],
  [true, /seed must be an integer, got boolean$/],
  [[1], /seed must be an integer, got array\(1\)$/],
  [
    2 ** 53,
    /seed must be a safe integer \(at most 2\^53 - 1 in magnitude; give a BigInt for a larger seed\), got number 9007199254740992$/,
  ],
  [-(2 ** 53), /seed must be a safe integer .*, got number -9007199254740992$/],
  [2 ** 53 + 2, /seed must be a safe integer .*, got number 9007199254740994$/],
  [1e300, /seed must be a safe integer .*, got number 1e\+300$/],
  [2n ** 63n, /seed must be a signed 64-bit integer \(from -2\^63 to 2\^63 - 1\), got bigint 9223372036854775808n$/],
  [-(2n ** 63n) - 1n, /seed must be a signed 64-bit integer .*, got bigint -9223372036854775809n$/],
  [2n ** 64n - 1n, /seed must be a signed 64-bit integer .*, got bigint 18446744073709551615n$/],
];

const GOOD_SEEDS: Seed[] = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 63n - 1n, -(2n ** 63n), 2 ** 32 + 1984];

const square = defineOp({
  name: "square",
  inputs: ["x"],
  forward([x], _a, ctx) {
    const o = ctx.alloc(x!.shape);
    for (let i = 0; i < o.data.length; i++) o.data[i] = x!.data[i]! ** 2;
    ctx.saveInputs(0);
    return o;
  },
  backward: (gy, ctx) => [mul(gy, mul(ctx.input(0), 2))],
});

describe("bad seeds", () => {
  const x = randn([3], { seed: 1, dtype: "float64" });
  const id = (t: Tensor) => t;
  const takers: [string, (seed: unknown) => unknown][] = [
    ["Rng", (seed) => new Rng(seed as Seed)],
    ["randn", (seed) => randn([2], { seed: seed as Seed })],
    ["gradcheck", (seed) => gradcheck(id, [x], { seed: seed as Seed })],
  ];

  it("are refused with an ArgumentError naming the function, the seed and its value", () => {
    for (const [fn, call] of takers) {
      for (const [seed, message] of BAD_SEEDS) {
        let error: unknown;
        try {
          call(seed);
        } catch (e) {
          error = e;
        }
        expect(error, `${fn} ${String(seed)}`).toBeInstanceOf(ArgumentError);
        expect((error as ArgumentError).op).toBe(fn);
        expect((error as Error).message).toMatch(new RegExp(`^${fn}: ${message.source}`));
      }
      for (const seed of GOOD_SEEDS) expect(() => call(seed), `${fn} ${seed}`).not.toThrow();
    }
    // (gradcheck, like its other options, reads a null seed as none)
    expect(() => new Rng(null as never)).toThrow(/^Rng: seed must be an integer, got null$/);
    expect(() => randn([2], { seed: null as never })).toThrow(/^randn: seed must be an integer, got null$/);
  });

  it("gradgradcheck names its gradOutputSeed", () => {
    for (const [seed, message] of BAD_SEEDS) {
      const source = message.source.replace(/^seed/, "gradOutputSeed");
      expect(() => gradgradcheck(id, [x], { gradOutputSeed: seed as Seed })).toThrow(
        new RegExp(`^gradgradcheck: ${source}`),
      );
    }
    for (const seed of GOOD_SEEDS) expect(() => gradgradcheck(id, [x], { gradOutputSeed: seed })).not.toThrow();
  });

  it("checkOp takes the 32-bit seeds fast-check keeps, and refuses the others", () => {
    for (const seed of [2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 1984, 1.5, Number.NaN, "1", 1n]) {
      expect(() => checkOp(square, { seed: seed as number, numRuns: 1 }), String(seed)).toThrow(
        /^checkOp: seed must be a 32-bit signed integer \(fast-check's seed, as a failure report prints it\), got /,
      );
    }
    for (const seed of [0, 2 ** 31 - 1, -(2 ** 31)]) expect(checkOp(square, { seed, numRuns: 2 }).cases).toBe(2);
  });
});
