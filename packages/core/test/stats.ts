/**
 * Small statistics helpers for the generator tests: the standard normal CDF and the one-sample
 * Kolmogorov–Smirnov test.
 */

/**
 * The complementary error function, erfc(x), with relative error below 1.2e-7 everywhere
 * (Numerical Recipes' Chebyshev fit, `erfcc`); far below what a KS test on 1,000 samples resolves.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** The result of a one-sample Kolmogorov–Smirnov test. */
export interface KsResult {
  /** Sample size. */
  n: number;
  /** D = sup |F_n(x) − F(x)|. */
  d: number;
  /** The asymptotic p-value of D (Stephens' small-sample correction of Kolmogorov's distribution). */
  p: number;
  /** The critical value of D at α = 0.01: 1.628 / √n (Kolmogorov's asymptotic quantile). */
  critical01: number;
  /** The critical value of D at α = 0.05: 1.358 / √n. */
  critical05: number;
}

/** Tests `sample` against the continuous distribution with CDF `cdf`. */
export function ksTest(sample: readonly number[], cdf: (x: number) => number): KsResult {
  const xs = [...sample].sort((a, b) => a - b);
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]!);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  const sqrtN = Math.sqrt(n);
  const lambda = (sqrtN + 0.12 + 0.11 / sqrtN) * d;
  // Q_KS(λ) = 2 Σ (−1)^(k−1) exp(−2 k² λ²)
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  p = Math.min(1, Math.max(0, p));
  return { n, d, p, critical01: 1.628 / sqrtN, critical05: 1.358 / sqrtN };
}
