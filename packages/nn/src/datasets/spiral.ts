/** The book's spiral data set (`dataset/spiral.py`): three interleaved arms in 2-D. */
import { ArgumentError, allocArray, describeValue, type FloatDType, Rng, type Seed, Tensor } from "@gradgraph/core";
import { dtypeIn, MAX_ELEMENTS, optionsIn, seedIn } from "../checks.js";

/** Options of `loadSpiral`. */
export interface SpiralOptions {
  /**
   * Seed of the angle noise (default 1984, the book's numpy seed; the draws differ from numpy's):
   * a safe integer or a BigInt, as `Rng` takes.
   */
  seed?: Seed;
  /** Points per class (default 100). */
  pointsPerClass?: number;
  /** Number of classes (default 3). */
  classes?: number;
  /** dtype of `x` and `t` (default float32). */
  dtype?: FloatDType;
}

/** The spiral data: points, one-hot targets and class indices. */
export interface SpiralData {
  /** Points, (N·C)×2, class by class. */
  x: Tensor;
  /** One-hot targets, (N·C)×C. */
  t: Tensor;
  /** Class index of each point. */
  labels: Int32Array;
}

/**
 * The book's generator: for class j and point i of N, radius r = i/N, angle
 * θ = 4j + 4r + 0.2·randn, point (r·sin θ, r·cos θ), one-hot label j.
 * @throws ArgumentError naming `loadSpiral` and the option for counts that are not positive
 *   integers (or so large that the targets would exceed 2^31 − 1 elements), a seed `Rng` refuses,
 *   an unknown option or an options argument that is not an object; DTypeError for a bad dtype.
 */
export function loadSpiral(options: SpiralOptions = {}): SpiralData {
  options = optionsIn("loadSpiral", options, ["seed", "pointsPerClass", "classes", "dtype"]);
  const N = options.pointsPerClass ?? 100;
  const C = options.classes ?? 3;
  for (const [k, v] of Object.entries({ pointsPerClass: N, classes: C })) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw new ArgumentError("loadSpiral", `loadSpiral: ${k} must be a positive integer, got ${describeValue(v)}`);
    }
  }
  if (N * C * Math.max(C, 2) > MAX_ELEMENTS) {
    throw new ArgumentError(
      "loadSpiral",
      `loadSpiral: pointsPerClass ${N} × classes ${C} is too large (the targets would have ${N * C * C} elements, more than ${MAX_ELEMENTS})`,
    );
  }
  const dtype: FloatDType = dtypeIn("loadSpiral", options.dtype);
  const rng = new Rng(seedIn("loadSpiral", options.seed, 1984));
  const x = allocArray(dtype, N * C * 2);
  const t = allocArray(dtype, N * C * C);
  const labels = new Int32Array(N * C);
  for (let j = 0; j < C; j++) {
    for (let i = 0; i < N; i++) {
      const rate = i / N;
      const radius = 1.0 * rate;
      const theta = j * 4.0 + 4.0 * rate + rng.normal() * 0.2;
      const ix = N * j + i;
      x[2 * ix] = radius * Math.sin(theta);
      x[2 * ix + 1] = radius * Math.cos(theta);
      t[ix * C + j] = 1;
      labels[ix] = j;
    }
  }
  return { x: new Tensor(x, [N * C, 2]), t: new Tensor(t, [N * C, C]), labels };
}
