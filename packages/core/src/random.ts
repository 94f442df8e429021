import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import { ArgumentError, describeValue } from "./errors.js";

/**
 * A seedable random number generator (xoroshiro128+ from `pure-rand`). gradgraph never uses
 * `Math.random`: the same seed always gives the same numbers.
 */
export class Rng {
  readonly #gen: RandomGenerator;
  #spare: number | null = null;

  /**
   * A generator seeded with `seed`: the same seed gives the same sequence.
   * @param seed - any 32-bit integer.
   * @throws ArgumentError when `seed` is not an integer.
   */
  constructor(seed: number) {
    if (typeof seed !== "number" || !Number.isInteger(seed)) {
      throw new ArgumentError("Rng", `Rng: seed must be an integer, got ${describeValue(seed)}`);
    }
    this.#gen = xoroshiro128plus(seed | 0);
  }

  /** A uniform number in `[0, 1)` with 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.#gen);
  }

  /**
   * A uniform integer in `[min, max]` (both inclusive).
   * @throws ArgumentError when `min` or `max` is not an integer or `min > max`.
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new ArgumentError(
        "Rng.int",
        `Rng.int: min and max must be integers with min <= max, got ${describeValue(min)} and ${describeValue(max)}`,
      );
    }
    return uniformInt(this.#gen, min, max);
  }

  /** A standard normal number (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
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
   * @throws ArgumentError when `n` is not a non-negative integer of at most 2^31 − 1.
   */
  permutation(n: number): number[] {
    if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1) {
      throw new ArgumentError(
        "Rng.permutation",
        `Rng.permutation: n must be a non-negative integer, got ${describeValue(n)}`,
      );
    }
    return permutationFrom(this, n);
  }
}

/**
 * A uniformly drawn permutation of `0 .. n-1` (Fisher–Yates), with the integers drawn from
 * `source`: an `Rng`, or a property-test `Picker` so that test cases shrink. `n` is trusted to be
 * a non-negative integer.
 */
export function permutationFrom(source: { int(min: number, max: number): number }, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = source.int(0, i);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Returns the generator to use from `{ seed }` or `{ rng }` options.
 * @throws ArgumentError naming `fn` when neither or both are given, or when `rng` is not an `Rng`.
 */
export function rngFrom(fn: string, options: { seed?: number; rng?: Rng }): Rng {
  const { seed, rng } = options;
  if (rng !== undefined && seed !== undefined) {
    throw new ArgumentError(fn, `${fn}: give either seed or rng, not both`);
  }
  if (rng !== undefined) {
    if (!(rng instanceof Rng)) {
      throw new ArgumentError(fn, `${fn}: rng must be an Rng, got ${describeValue(rng)}`);
    }
    return rng;
  }
  if (seed === undefined) {
    throw new ArgumentError(fn, `${fn}: a seed or an rng is required (gradgraph never draws from Math.random)`);
  }
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new ArgumentError(fn, `${fn}: seed must be an integer, got ${describeValue(seed)}`);
  }
  return new Rng(seed);
}
