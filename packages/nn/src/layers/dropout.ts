/** Dropout with a seeded generator (inverted dropout, as PyTorch). */
import { ArgumentError, allocArray, assertFloatTensor, describeValue, Rng, type Seed, Tensor } from "@gradgraph/core";
import { mul } from "@gradgraph/nodes";
import { notAnInstance, optionsIn, seedIn } from "../checks.js";
import { BaseLayer } from "./layer.js";

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing each element in training (default 0.5). */
  ratio?: number;
  /** Seed of the mask generator (default 0): a safe integer or a BigInt, as `Rng` takes. */
  seed?: Seed;
}

/**
 * `Dropout`: in training, zeroes each element with probability `ratio` and scales the rest by
 * `1/(1 − ratio)` (inverted dropout, so evaluation needs no rescaling); in evaluation
 * (`train = false`) the identity. The mask is a constant of the forward, so the gradient is
 * `dout · mask / (1 − ratio)`. Masks come from a seeded generator: the same seed, the same masks.
 */
export class Dropout extends BaseLayer {
  readonly name = "Dropout";
  /** Training mode (default true). */
  train = true;
  /** The probability of zeroing each element in training, in [0, 1) (from the options; default 0.5). */
  readonly ratio: number;
  readonly #rng: Rng;

  /**
   * A dropout layer in training mode, with no parameters.
   * @throws ArgumentError naming `Dropout` when `ratio` is not in [0, 1), `seed` is not a
   *   seed `Rng` takes, or `options` is not an object of those two.
   */
  constructor(options: DropoutOptions = {}) {
    options = optionsIn("Dropout", options, ["ratio", "seed"]);
    seedIn("Dropout", options.seed, 0);
    super([]);
    const ratio = options.ratio ?? 0.5;
    if (typeof ratio !== "number" || !(ratio >= 0 && ratio < 1)) {
      throw new ArgumentError("Dropout", `Dropout: ratio must be a number in [0, 1), got ${describeValue(ratio)}`);
    }
    this.ratio = ratio;
    this.#rng = new Rng(options.seed ?? 0);
  }

  protected compute(x: Tensor): Tensor {
    if (typeof this !== "object" || this === null || !(#rng in this))
      throw notAnInstance("Dropout.compute", "Dropout", this);
    assertFloatTensor("Dropout.forward", "x", x);
    if (!this.train || this.ratio === 0) return mul(x, 1);
    const keep = 1 / (1 - this.ratio);
    const m = allocArray(x.dtype, x.size);
    for (let i = 0; i < m.length; i++) m[i] = this.#rng.uniform() >= this.ratio ? keep : 0;
    return mul(x, new Tensor(m, x.shape));
  }
}
