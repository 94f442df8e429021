import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import { ArgumentError, describeValue } from "./errors.js";
import { isObject } from "./validate.js";

/**
 * The largest `n` that `Rng.permutation` and `permutationFrom` accept: 2^26 (a JavaScript array
 * of 2^27 or more elements cannot be made, and 2^26 numbers are already half a gigabyte).
 */
export const MAX_PERMUTATION = 2 ** 26;

/**
 * A seed: a signed 64-bit integer, given as a number (any safe integer, |seed| ≤ 2^53 − 1) or as a
 * BigInt from −2^63 to 2^63 − 1. A number and the BigInt of the same value are the same seed
 * (`1` and `1n` give the same stream); any two different seeds give different streams.
 */
export type Seed = number | bigint;

const MIN_SEED = -(2n ** 63n);
const MAX_SEED = 2n ** 63n - 1n;
const MASK64 = 2n ** 64n - 1n;
/** splitmix64's increment, 2^64 / φ rounded to odd. */
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/**
 * Checks a seed as `Rng` does and returns it unchanged: a safe-integer number or a BigInt from
 * −2^63 to 2^63 − 1 (see `Seed`). For functions that take a seed option and build their `Rng`
 * later, so that a bad seed is reported under their own name.
 * @param fn - the function named in the error message.
 * @param seed - the value to check.
 * @param name - the argument named in the error message (default `'seed'`).
 * @throws ArgumentError naming `fn` and `name` for anything else: a non-integer, NaN, ±Infinity,
 *   a number beyond ±(2^53 − 1) (where numbers no longer hold every integer: give a BigInt), a
 *   BigInt outside the signed 64-bit range, a string or any other type.
 */
export function checkSeed(fn: string, seed: unknown, name = "seed"): Seed {
  if (typeof seed === "bigint") {
    if (seed < MIN_SEED || seed > MAX_SEED) {
      throw new ArgumentError(
        fn,
        `${fn}: ${name} must be a signed 64-bit integer (from -2^63 to 2^63 - 1), got ${describeValue(seed)}`,
      );
    }
    return seed;
  }
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new ArgumentError(fn, `${fn}: ${name} must be an integer, got ${describeValue(seed)}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new ArgumentError(
      fn,
      `${fn}: ${name} must be a safe integer (at most 2^53 - 1 in magnitude; give a BigInt for a larger seed), got ${describeValue(seed)}`,
    );
  }
  return seed;
}

/** splitmix64's output function (Steele, Lea & Flood 2014; Vigna's splitmix64.c): a bijection of 64-bit words. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * @internal The first `count` outputs of splitmix64 started at `seed` (taken modulo 2^64, so a
 * negative seed is its two's complement), as unsigned 64-bit BigInts.
 */
export function splitmix64(seed: bigint, count: number): bigint[] {
  let state = BigInt.asUintN(64, seed);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + GOLDEN_GAMMA) & MASK64;
    out.push(mix64(state));
  }
  return out;
}

/**
 * xoroshiro128+'s 128-bit state for a (checked) seed: the first two splitmix64 outputs of the
 * seed, as its authors recommend. splitmix64 is a bijection of the seed, so different seeds give
 * different states, and it is never all zeros. Returned as pure-rand's four signed 32-bit halves:
 * high and low word of s0, then of s1.
 */
function stateOf(seed: Seed): number[] {
  const [s0, s1] = splitmix64(BigInt(seed), 2) as [bigint, bigint];
  const half = (v: bigint) => Number(BigInt.asIntN(32, v));
  return [half(s0 >> 32n), half(s0), half(s1 >> 32n), half(s1)];
}

/** The brand check of Rng (its private field), set in Rng's static block. */
let isRng: (value: unknown) => boolean;

/**
 * A seedable random number generator: xoroshiro128+ (from `pure-rand`), its 128-bit state set
 * from the seed by splitmix64. gradgraph never uses `Math.random`: the same seed always gives the
 * same numbers, bit for bit.
 */
export class Rng {
  readonly #gen: RandomGenerator;
  #spare: number | null = null;

  static {
    isRng = (v) => typeof v === "object" && v !== null && #gen in v;
  }

  /**
   * A generator seeded with `seed`: the same seed gives the same sequence, different seeds give
   * different ones (no truncation: `2^32 + 1984` is not `1984`).
   * @param seed - a signed 64-bit integer: any safe-integer number, or a BigInt from −2^63 to
   *   2^63 − 1; `n` and `BigInt(n)` are the same seed (see `Seed`).
   * @throws ArgumentError naming `Rng` when `seed` is anything else (see `checkSeed`).
   */
  constructor(seed: Seed) {
    this.#gen = xoroshiro128plusFromState(stateOf(checkSeed("Rng", seed)));
  }

  /** A uniform number in `[0, 1)` with 53 random bits. */
  uniform(): number {
    checkRngThis("uniform", this);
    return uniformFloat64(this.#gen);
  }

  /**
   * A uniform integer in `[min, max]` (both inclusive).
   * @throws ArgumentError naming `Rng.int` when `min` or `max` is not a safe integer or
   *   `min > max`, or when called on something that is not an Rng.
   */
  int(min: number, max: number): number {
    checkRngThis("int", this);
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new ArgumentError(
        "Rng.int",
        `Rng.int: min and max must be integers with min <= max, got ${describeValue(min)} and ${describeValue(max)}`,
      );
    }
    return uniformInt(this.#gen, min, max);
  }

  /**
   * A standard normal number (Box–Muller; the second value of each pair is kept for the next call).
   * @throws ArgumentError naming `Rng.normal` when called on something that is not an Rng.
   */
  normal(): number {
    checkRngThis("normal", this);
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * A random permutation of `0 .. n-1` (Fisher–Yates).
   * @throws ArgumentError naming `Rng.permutation` when `n` is not an integer from 0 to
   *   `MAX_PERMUTATION` (2^26), or when called on something that is not an Rng.
   */
  permutation(n: number): number[] {
    checkRngThis("permutation", this);
    checkPermutationSize("Rng.permutation", n);
    return shuffled(this, n);
  }
}

/** Throws unless `self` is an Rng (a method called on another value). */
function checkRngThis(member: string, self: unknown): void {
  if (!isRng(self)) {
    throw new ArgumentError(
      `Rng.${member}`,
      `Rng.${member}: this must be an Rng (the method was called on another value, e.g. detached from its generator), got ${describeValue(self)}`,
    );
  }
}

/** Throws unless `n` is an integer in `[0, MAX_PERMUTATION]`. */
function checkPermutationSize(fn: string, n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_PERMUTATION) {
    throw new ArgumentError(
      fn,
      `${fn}: n must be an integer from 0 to ${MAX_PERMUTATION} (2^26), got ${describeValue(n)}`,
    );
  }
}

/**
 * A uniformly drawn permutation of `0 .. n-1` (Fisher–Yates), with the integers drawn from
 * `source`: an `Rng`, or a property-test `Picker` so that test cases shrink. Each draw
 * `source.int(0, i)` must return an integer in `[0, i]`.
 * @param source - an object whose `int(min, max)` method draws a uniform integer in `[min, max]`.
 * @param n - the permutation's length: an integer from 0 to `MAX_PERMUTATION` (2^26).
 * @throws ArgumentError naming `permutationFrom` when `source` has no `int` method, when `n` is out
 *   of range, or when `source.int` returns anything but an integer in the range asked for (a
 *   permutation with holes or repeats is never returned).
 */
export function permutationFrom(source: { int(min: number, max: number): number }, n: number): number[] {
  const fn = "permutationFrom";
  if (!isRng(source)) {
    let int: unknown;
    try {
      int = isObject(source) ? (source as { int?: unknown }).int : undefined;
    } catch {
      int = undefined;
    }
    if (typeof int !== "function") {
      throw new ArgumentError(
        fn,
        `${fn}: source must be an Rng or an object with an int(min, max) method, got ${describeValue(source)}`,
      );
    }
  }
  checkPermutationSize(fn, n);
  return shuffled(source, n);
}

/** Fisher–Yates over `0 .. n-1` (n checked), each draw checked to lie in its range. */
function shuffled(source: { int(min: number, max: number): number }, n: number): number[] {
  // a push loop, not Array.from({ length: n }, (_, i) => i): V8 runs that generic path at ~50 ns
  // an element (15 µs for 300 against 1.8, and the spiral loop draws one per epoch); push keeps a
  // packed array of small integers at any n (new Array(n) turns into a dictionary past 2^25)
  const p: number[] = [];
  for (let i = 0; i < n; i++) p.push(i);
  for (let i = n - 1; i > 0; i--) {
    const j: unknown = source.int(0, i);
    if (typeof j !== "number" || !Number.isInteger(j) || j < 0 || j > i) {
      throw new ArgumentError(
        "permutationFrom",
        `permutationFrom: source.int(0, ${i}) must return an integer from 0 to ${i}, got ${describeValue(j)}`,
      );
    }
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Returns the generator to use from `{ seed }` or `{ rng }` options.
 * @throws ArgumentError naming `fn` when neither or both are given, when `rng` is not an `Rng`,
 *   or when `seed` is not a seed (see `checkSeed`).
 */
export function rngFrom(fn: string, options: { seed?: Seed; rng?: Rng }): Rng {
  const { seed, rng } = options;
  if (rng !== undefined && seed !== undefined) {
    throw new ArgumentError(fn, `${fn}: give either seed or rng, not both`);
  }
  if (rng !== undefined) {
    if (!isRng(rng)) {
      throw new ArgumentError(fn, `${fn}: rng must be an Rng, got ${describeValue(rng)}`);
    }
    return rng;
  }
  if (seed === undefined) {
    throw new ArgumentError(fn, `${fn}: a seed or an rng is required (gradgraph never draws from Math.random)`);
  }
  return new Rng(checkSeed(fn, seed));
}
