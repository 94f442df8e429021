/**
 * The WebAssembly elementwise, reduction and softmax kernels against their TypeScript
 * implementations: every property runs the kernel under setKernelBackend("js") and under
 * setKernelBackend("wasm") (which sends every size to WASM) on random shapes, broadcast patterns
 * and sizes (0, 1, odd lengths, sizes above the "auto" thresholds), in float32 and float64, with
 * NaN, ±Infinity, −0 and extreme values mixed in, and compares:
 * - exactly (same bits, NaN equal to NaN): binary add/sub/mul/div/max/min, axpy, neg, abs, relu,
 *   sqrt, the relu/sigmoid/tanh gradients, sums whose reduced axes are not the last (same order);
 * - within stated ulp: exp 2, sigmoid 3, tanh 5, log 3 (measured maxima 1, 2, 4, 2), against
 *   Math.* rounded to the dtype;
 * - within a stated bound: row sums (f64 accumulation in another order: ≤ 1 ulp of the result in
 *   float32 TypeScript rounds each partial sum over the last axis: (partials + 1)·2⁻²³·Σ|x|, plus
 *   n·2⁻⁵¹·Σ|x|); softmax family relative (16 + 4(|x| + |lse|) + 4√n) ulp (x − lse loses the
 *   ulps of |x| and |lse|, and the sums of exponentials are added in another order).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { FloatArray } from "../src/dtype.js";
import { ArgumentError, ShapeError, setKernelBackend } from "../src/index.js";
import {
  axpy,
  binaryInto,
  logSumExpToInto,
  maxToInto,
  sumToInto,
  wasmSoftmaxRows,
  wasmUnary,
  wasmUnaryGrad,
} from "../src/kernels/index.js";
import { middleAxis } from "../src/kernels/runtime/wasm-ops.js";

afterEach(() => setKernelBackend("auto"));

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-310, -3e38, 1e300];

/** Deterministic values from a seed: mostly in [−scale, scale], some special. */
function values(n: number, seed: number, f32: boolean, scale = 10, special = true): FloatArray {
  const a = f32 ? new Float32Array(n) : new Float64Array(n);
  let s = (seed >>> 0) + 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 4294967296;
    if (special && u < 0.06) a[i] = SPECIAL[Math.floor(u * 1000) % SPECIAL.length]!;
    else a[i] = (u * 2 - 1) * scale;
  }
  return a;
}

function alloc(f32: boolean, n: number): FloatArray {
  return f32 ? new Float32Array(n) : new Float64Array(n);
}

function withBackend<T>(backend: "js" | "wasm", fn: () => T): T {
  setKernelBackend(backend);
  try {
    return fn();
  } finally {
    setKernelBackend("auto");
  }
}

/** Same value (NaN equal to NaN, −0 distinct from +0). */
function expectSame(w: ArrayLike<number>, t: ArrayLike<number>, what: string): void {
  expect(w.length).toBe(t.length);
  for (let i = 0; i < t.length; i++) {
    if (!Object.is(w[i], t[i])) throw new Error(`${what}: element ${i}: wasm ${w[i]} !== js ${t[i]}`);
  }
}

/** Distance in units in the last place between two values of one dtype (0 for equal, ∞ for a NaN mismatch). */
function ulps(a: number, b: number, f32: boolean): number {
  if (Object.is(a, b) || a === b) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.POSITIVE_INFINITY;
  if (f32) {
    const i = new Int32Array(new Float32Array([a, b]).buffer);
    const ia = i[0]! < 0 ? -2147483648 - i[0]! : i[0]!;
    const ib = i[1]! < 0 ? -2147483648 - i[1]! : i[1]!;
    return Math.abs(ia - ib);
  }
  const i = new BigInt64Array(new Float64Array([a, b]).buffer);
  const ord = (v: bigint) => (v < 0n ? -(2n ** 63n) - v : v);
  const d = ord(i[0]!) - ord(i[1]!);
  return Number(d < 0n ? -d : d);
}

const dtypeArb = fc.boolean(); // true: float32
/** A length: mostly small (0, 1, odd), sometimes above every "auto" threshold. */
const lengthArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 19 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3000 }) },
);

/** An output shape (rank 0–4, small dimensions, one sometimes large) and two operand shapes broadcasting to it. */
const broadcastArb = fc
  .record({
    out: fc.array(
      fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 6 }) }, fc.integer({ min: 50, max: 130 })),
      {
        maxLength: 4,
      },
    ),
    aMask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    bMask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    aDrop: fc.integer({ min: 0, max: 4 }),
    bDrop: fc.integer({ min: 0, max: 4 }),
  })
  .filter(({ out }) => out.reduce((p, d) => p * d, 1) <= 40_000)
  .map(({ out, aMask, bMask, aDrop, bDrop }) => {
    const op = (mask: boolean[], drop: number) =>
      out.map((d, i) => (mask[i] ? 1 : d)).slice(Math.min(drop, out.length));
    return { out, a: op(aMask, aDrop), b: op(bMask, bDrop) };
  });

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

describe("WASM elementwise kernels match TypeScript", () => {
  it("binaryInto: add, sub, mul, div, max, min with broadcasting, both dtypes, bit-identical", () => {
    fc.assert(
      fc.property(
        broadcastArb,
        dtypeArb,
        fc.constantFrom("add", "sub", "mul", "div", "max", "min" as const),
        fc.integer(),
        ({ out, a, b }, f32, kind, seed) => {
          const A = values(size(a), seed, f32, 100);
          const B = values(size(b), seed + 1, f32, 100);
          const run = () => {
            const o = alloc(f32, size(out)).fill(7);
            binaryInto(kind, A, a, B, b, o, out);
            return o;
          };
          expectSame(withBackend("wasm", run), withBackend("js", run), `${kind} ${JSON.stringify([a, b, out])} ${f32}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("binaryInto: a bias row against a large batch and a column against rows (one kernel call each)", () => {
    for (const f32 of [true, false]) {
      for (const [a, b] of [
        [[100, 1000], [1000]],
        [
          [100, 1000],
          [100, 1],
        ],
        [
          [3, 1, 5, 7],
          [4, 1, 7],
        ],
      ] as const) {
        const out = a.map((d, i) => Math.max(d, b[i - (a.length - b.length)] ?? 1));
        const A = values(size(a), 3, f32);
        const B = values(size(b), 4, f32);
        for (const kind of ["add", "mul", "max"] as const) {
          const run = () => {
            const o = alloc(f32, size(out));
            binaryInto(kind, A, a, B, b, o, out);
            return o;
          };
          expectSame(withBackend("wasm", run), withBackend("js", run), `${kind} ${a} ${b}`);
          // and under "auto" (above the threshold: WASM), the same again
          const o = alloc(f32, size(out));
          binaryInto(kind, A, a, B, b, o, out);
          expectSame(o, withBackend("js", run), `auto ${kind}`);
        }
      }
    }
  });

  it("axpy: y += alpha·x, both dtypes and mixed, bit-identical", () => {
    fc.assert(
      fc.property(
        lengthArb,
        dtypeArb,
        dtypeArb,
        fc.oneof(fc.double(), fc.constantFrom(0, 1, -1, -0.01)),
        fc.integer(),
        (n, fx, fy, alpha, seed) => {
          const x = values(n, seed, fx);
          const y0 = values(n, seed + 1, fy);
          const run = () => {
            const y = y0.slice();
            axpy(alpha, x, y);
            return y;
          };
          expectSame(withBackend("wasm", run), withBackend("js", run), `axpy n=${n} alpha=${alpha}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("axpy over several 64 KiB pieces (and a remainder) equals the TypeScript loop", () => {
    for (const [n, f32] of [
      [40_001, true],
      [20_003, false],
      [16_384, true],
    ] as const) {
      const x = values(n, 3, f32);
      const y0 = values(n, 4, f32);
      const run = () => {
        const y = y0.slice();
        axpy(-0.37, x, y);
        return y;
      };
      expectSame(withBackend("wasm", run), withBackend("js", run), `axpy n=${n} f32=${f32}`);
    }
  });

  it("axpy rejects bad input with errors naming axpy and the argument", () => {
    const f = new Float32Array(3);
    expect(() => axpy("2" as unknown as number, f, f)).toThrow(ArgumentError);
    expect(() => axpy(2, [1, 2, 3] as unknown as Float32Array, f)).toThrow(/axpy: x must be a Float32Array/);
    expect(() => axpy(2, f, new Int32Array(3) as unknown as Float32Array)).toThrow(/axpy: y must be/);
    expect(() => axpy(2, f, new Float64Array(4))).toThrow(ShapeError);
    expect(() => axpy(2, f, new Float64Array(4))).toThrow(/axpy: x has length 3 but y has length 4/);
  });

  const tsUnary: Record<string, (v: number) => number> = {
    neg: (v) => -v,
    abs: Math.abs,
    // biome-ignore lint/complexity/useMathMinMax: the op's definition, NaN stays NaN and −0 becomes 0
    relu: (v) => (v <= 0 ? 0 : v),
    sqrt: Math.sqrt,
    exp: Math.exp,
    sigmoid: (v) => {
      if (v >= 0) return 1 / (1 + Math.exp(-v));
      const e = Math.exp(v);
      return e / (1 + e);
    },
    tanh: Math.tanh,
    log: Math.log,
  };
  const ULP: Record<string, number> = { neg: 0, abs: 0, relu: 0, sqrt: 0, exp: 2, sigmoid: 3, tanh: 5, log: 3 };
  const EXTREME = [
    1000, -1000, 88.7, 88.8, -87.4, -103.9, -104.1, 709.7, 709.8, -745.1, -745.2, 20, -20, 9.1, 1e-30, -1e-30, 5e-324,
  ];

  it("unary kernels: neg, abs, relu, sqrt exact; exp, sigmoid, tanh, log within 2, 3, 5, 3 ulp; specials as Math", () => {
    fc.assert(
      fc.property(
        lengthArb,
        dtypeArb,
        fc.constantFrom("neg", "abs", "relu", "sqrt", "exp", "sigmoid", "tanh", "log" as const),
        fc.integer(),
        fc.constantFrom(1, 5, 30, 800),
        (n, f32, kind, seed, scale) => {
          const x = values(n, seed, f32, scale);
          for (let i = 0; i < n; i += 7) x[i] = EXTREME[((i / 7 + seed) % EXTREME.length) | 0]! * (i % 2 ? 1 : -1);
          const o = alloc(f32, n).fill(3);
          expect(withBackend("wasm", () => wasmUnary(kind, x, o))).toBe(true);
          const f = tsUnary[kind]!;
          const ref = alloc(f32, n);
          for (let i = 0; i < n; i++) ref[i] = f(x[i]!);
          for (let i = 0; i < n; i++) {
            const d = ulps(o[i]!, ref[i]!, f32);
            if (d > ULP[kind]!) throw new Error(`${kind}(${x[i]}) = ${o[i]}, Math gives ${ref[i]} (${d} ulp)`);
          }
          // under "js" the kernel declines and does nothing
          expect(withBackend("js", () => wasmUnary(kind, x, o))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("float64 exp is correctly rounded on 512 inputs that use every entry of its table", () => {
    // x = k·ln2/128 + r for every k mod 128 (four k each) against 60-digit decimal arithmetic:
    // a wrong table entry, or the table's rounding left uncorrected, changes results (the
    // uncorrected table gives 126 of the 512 wrong by 1 ulp; Math.exp itself 46 here)
    const fixture = JSON.parse(readFileSync(new URL("./fixtures/exp-f64.json", import.meta.url), "utf8")) as {
      x: number[];
      exp: number[];
    };
    const x = Float64Array.from(fixture.x);
    expect(x.length).toBe(512);
    const o = new Float64Array(x.length);
    expect(withBackend("wasm", () => wasmUnary("exp", x, o))).toBe(true);
    const wrong = fixture.exp.flatMap((e, i) => (o[i] === e ? [] : [`exp(${x[i]}) = ${o[i]}, not ${e}`]));
    expect(wrong).toEqual([]);
  });

  it("special values of exp, sigmoid, tanh, relu match Math semantics exactly", () => {
    const xs = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      1000,
      -1000,
      710,
      -746,
      89,
      -105,
    ];
    for (const f32 of [true, false]) {
      const x = f32 ? Float32Array.from(xs) : Float64Array.from(xs);
      const get = (kind: "exp" | "sigmoid" | "tanh" | "relu" | "log") => {
        const o = alloc(f32, x.length);
        withBackend("wasm", () => wasmUnary(kind, x, o));
        return Array.from(o);
      };
      const e = get("exp");
      expect(e.slice(0, 7)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, 0, 1, 1, Number.POSITIVE_INFINITY, 0]);
      expect(e[7]).toBe(Number.POSITIVE_INFINITY);
      expect(e[8]).toBe(0);
      expect(ulps(e[9]!, f32 ? Number.POSITIVE_INFINITY : Math.exp(89), f32)).toBeLessThanOrEqual(2);
      expect(ulps(e[10]!, f32 ? 0 : Math.exp(-105), f32)).toBeLessThanOrEqual(2);
      const s = get("sigmoid");
      expect(s.slice(0, 7)).toEqual([Number.NaN, 1, 0, 0.5, 0.5, 1, 0]);
      const t = get("tanh");
      expect(t.slice(0, 7)).toEqual([Number.NaN, 1, -1, -0, 0, 1, -1]);
      expect(Object.is(t[3], -0)).toBe(true);
      const l = get("log");
      expect(l.slice(0, 5)).toEqual([
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NaN,
        Number.NEGATIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]);
      expect(l[6]).toBe(Number.NaN);
      const r = get("relu");
      expect(r.slice(0, 7)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, 0, 0, 0, 1000, 0]);
      expect(Object.is(r[3], 0)).toBe(true);
    }
  });

  it("fused gradients: relu g·[x > 0], sigmoid g·y·(1 − y), tanh g·(1 − y²), bit-identical to the TS loops", () => {
    fc.assert(
      fc.property(
        lengthArb,
        dtypeArb,
        fc.constantFrom("relu", "sigmoid", "tanh" as const),
        fc.integer(),
        (n, f32, kind, seed) => {
          const x = values(n, seed, f32, 3);
          const g = values(n, seed + 9, f32, 3);
          const o = alloc(f32, n);
          expect(withBackend("wasm", () => wasmUnaryGrad(kind, x, g, o))).toBe(true);
          const ref = alloc(f32, n);
          for (let i = 0; i < n; i++) {
            const xv = x[i]!;
            const gv = g[i]!;
            ref[i] =
              kind === "relu" ? gv * (xv > 0 ? 1 : 0) : kind === "sigmoid" ? gv * xv * (1 - xv) : gv * (1 - xv * xv);
          }
          expectSame(o, ref, `${kind}' n=${n}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Random [kept, reduced] shape pairs for sums and maxima: one or several axes, sometimes not contiguous. */
const reduceArb = fc
  .record({
    shape: fc.array(
      fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 7 }) }, fc.integer({ min: 40, max: 120 })),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
    mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    drop: fc.boolean(),
  })
  .filter(({ shape }) => size(shape) <= 40_000)
  .map(({ shape, mask, drop }) => {
    let to = shape.map((d, i) => (mask[i] ? 1 : d));
    // sometimes drop leading reduced axes (sumTo's `to` may have a lower rank)
    if (drop) while (to.length > 0 && to[0] === 1 && to.length > 1) to = to.slice(1);
    return { from: shape, to };
  });

describe("WASM reductions match TypeScript", () => {
  it("sumToInto: exact when the reduced axes are not last; within the stated bound otherwise", () => {
    fc.assert(
      fc.property(reduceArb, dtypeArb, fc.integer(), ({ from, to }, f32, seed) => {
        const x = values(size(from), seed, f32, 10, false);
        // a few NaN and infinities; no huge finite values (their overflow would depend on the order)
        for (let i = 0; i < x.length; i += 97) x[i] = [Number.NaN, Number.POSITIVE_INFINITY, -0][i % 3]!;
        const run = () => {
          const o = alloc(f32, size(to));
          sumToInto(x, from, o, to);
          return o;
        };
        const w = withBackend("wasm", run);
        const t = withBackend("js", run);
        const view = middleAxis(from, to);
        if (view === null || view[2] > 1 || x.length === w.length) {
          expectSame(w, t, `sum ${from} -> ${to}`);
          return;
        }
        const n = view[1];
        const inner = view[2];
        for (let o = 0; o < t.length; o++) {
          let abs = 0;
          for (let k = 0; k < n; k++) abs += Math.abs(x[o * n * inner + k]!);
          // float32 TypeScript rounds a partial sum to float32 once per row of the last axis
          const partials = n / from[from.length - 1]!;
          const tol = n * 2 ** -51 * abs + (f32 ? (partials + 1) * abs * 2 ** -23 : 0);
          const same = Object.is(w[o], t[o]) || Math.abs(w[o]! - t[o]!) <= tol;
          if (!same) throw new Error(`sum ${from} -> ${to} [${o}]: wasm ${w[o]} js ${t[o]} tol ${tol}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("maxToInto: equal (−0 and +0 count as equal), NaN propagates, −Infinity over empty axes", () => {
    fc.assert(
      fc.property(reduceArb, dtypeArb, fc.integer(), ({ from, to }, f32, seed) => {
        const x = values(size(from), seed, f32, 10);
        const kept = from.map((d, i) =>
          i < from.length - to.length ? 1 : to[i - (from.length - to.length)]! === 1 ? 1 : d,
        );
        const run = () => {
          const o = alloc(f32, size(kept)).fill(5);
          maxToInto(x, from, o, kept);
          return o;
        };
        const w = withBackend("wasm", run);
        const t = withBackend("js", run);
        for (let i = 0; i < t.length; i++) {
          const ok = w[i] === t[i] || (Number.isNaN(w[i]!) && Number.isNaN(t[i]!));
          if (!ok) throw new Error(`max ${from} -> ${kept} [${i}]: wasm ${w[i]} js ${t[i]}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("logSumExpToInto over trailing axes: within (16 + 2|lse|) ulp; NaN and infinities as TypeScript", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 200, max: 700 })),
        dtypeArb,
        fc.integer(),
        fc.constantFrom(1, 20, 500),
        (rows, n, f32, seed, scale) => {
          const x = values(rows * n, seed, f32, scale);
          const run = () => {
            const o = alloc(f32, rows);
            logSumExpToInto(x, [rows, n], o, [rows, 1]);
            return o;
          };
          const w = withBackend("wasm", run);
          const t = withBackend("js", run);
          const eps = f32 ? 2 ** -23 : 2 ** -52;
          for (let i = 0; i < rows; i++) {
            const tol = Math.abs(t[i]!) * eps * 16 + eps * 4;
            const ok = Object.is(w[i], t[i]) || Math.abs(w[i]! - t[i]!) <= tol;
            if (!ok) throw new Error(`lse row ${i} (n=${n}): wasm ${w[i]} js ${t[i]}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the reduced-axes view: one contiguous group, or null", () => {
    expect(middleAxis([100, 1000], [1000])).toEqual([1, 100, 1000]);
    expect(middleAxis([100, 1000], [100, 1])).toEqual([100, 1000, 1]);
    expect(middleAxis([2, 3, 4, 5], [2, 1, 1, 5])).toEqual([2, 12, 5]);
    expect(middleAxis([2, 1, 4, 5], [2, 1, 1, 5])).toEqual([2, 4, 5]);
    expect(middleAxis([2, 3, 4], [1, 3, 1])).toBeNull();
    expect(middleAxis([2, 3], [2, 3])).toBeNull();
  });
});

describe("WASM softmax kernel", () => {
  /** The TypeScript definitions (nodes/softmax.ts, nodes/loss.ts), per row. */
  function reference(x: FloatArray, n: number, f32: boolean) {
    const rows = x.length / n;
    const lse = new Float64Array(rows);
    const logp = alloc(f32, x.length);
    const p = alloc(f32, x.length);
    const p64 = new Float64Array(x.length);
    const max = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) if (x[r * n + j]! > m) m = x[r * n + j]!;
      if (!Number.isFinite(m)) m = 0;
      max[r] = m;
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[r * n + j]! - m);
      lse[r] = m + Math.log(s);
      // a row holding +Infinity: NaN throughout (PyTorch's softmax)
      const shift = lse[r] === Number.POSITIVE_INFINITY ? Number.NaN : lse[r]!;
      for (let j = 0; j < n; j++) {
        logp[r * n + j] = x[r * n + j]! - shift;
        p[r * n + j] = Math.exp(logp[r * n + j]!);
        p64[r * n + j] = Math.exp(x[r * n + j]! - shift);
      }
    }
    return { lse, logp, p, p64, max };
  }

  it("softmax, log-softmax, lse and f64 probabilities along rows agree with the TS definitions", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.oneof(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 100, max: 1100 })),
        dtypeArb,
        fc.integer(),
        fc.constantFrom(1, 10, 60),
        fc.boolean(),
        (rows, n, f32, seed, scale, special) => {
          const x = values(rows * n, seed, f32, scale, special);
          const ref = reference(x, n, f32);
          const eps = f32 ? 2 ** -23 : 2 ** -52;
          // z: |x| + |lse|, the magnitude whose ulps x − lse loses
          const close = (w: number, t: number, z: number, what: string) => {
            if (Object.is(w, t)) return;
            const tol = Math.abs(t) * eps * (16 + 4 * z + 4 * Math.sqrt(n)) + (f32 ? 1e-44 : 1e-320);
            if (!(Math.abs(w - t) <= tol)) throw new Error(`${what}: wasm ${w} js ${t} (z=${z}, n=${n})`);
          };
          // for a result computed as a difference: |w − t| within ulps of t plus ulps of `mag`, the
          // magnitude of the terms (x − lse, or max + log s, can cancel down to 0)
          const closeAbs = (w: number, t: number, mag: number, what: string) => {
            if (Object.is(w, t)) return;
            const tol = eps * (Math.abs(t) * (16 + 4 * Math.sqrt(n)) + 4 * mag) + (f32 ? 1e-44 : 1e-320);
            if (!(Math.abs(w - t) <= tol)) throw new Error(`${what}: wasm ${w} js ${t} (terms ${mag}, n=${n})`);
          };
          setKernelBackend("wasm");
          const y = alloc(f32, x.length);
          const l = new Float64Array(rows);
          expect(wasmSoftmaxRows(0, x, n, y, l)).toBe(true);
          // lse = max + log(s), s ≥ 1: a relative error in s is an absolute one in log(s), so lse
          // carries ulps of |max| + |log s| + 1, not of itself (they nearly cancel at times)
          const lseScale = (r: number) => Math.abs(ref.max[r]!) + Math.abs(ref.lse[r]! - ref.max[r]!) + 1;
          const z = (i: number) => Math.abs(x[i]!) + lseScale(Math.floor(i / n));
          for (let r = 0; r < rows; r++) {
            closeAbs(l[r]!, ref.lse[r]!, lseScale(r), "lse");
          }
          for (let i = 0; i < x.length; i++) close(y[i]!, ref.p[i]!, z(i), "softmax");
          expect(wasmSoftmaxRows(1, x, n, y, null)).toBe(true);
          for (let i = 0; i < x.length; i++) closeAbs(y[i]!, ref.logp[i]!, z(i), "logSoftmax");
          const p64 = new Float64Array(x.length);
          expect(wasmSoftmaxRows(3, x, n, p64, null)).toBe(true);
          for (let i = 0; i < x.length; i++) close(p64[i]!, ref.p64[i]!, z(i), "probs");
          // declined: under "js", or a wrongly typed output
          expect(wasmSoftmaxRows(3, x, n, alloc(true, x.length), null)).toBe(false);
          setKernelBackend("js");
          expect(wasmSoftmaxRows(0, x, n, y, null)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("thresholds under auto", () => {
  it("small arrays stay in TypeScript, large ones go to WASM, GRADGRAPH_KERNELS=js keeps all in TypeScript", () => {
    const small = new Float32Array(8);
    const large = new Float32Array(100_000);
    const envJs = process.env.GRADGRAPH_KERNELS === "js";
    expect(wasmUnary("exp", small, small.slice())).toBe(false);
    expect(wasmUnary("exp", large, large.slice())).toBe(!envJs);
    const before = process.env.GRADGRAPH_KERNELS;
    process.env.GRADGRAPH_KERNELS = "js";
    try {
      setKernelBackend("auto");
      expect(wasmUnary("exp", large, large.slice())).toBe(false);
    } finally {
      if (before === undefined) delete process.env.GRADGRAPH_KERNELS;
      else process.env.GRADGRAPH_KERNELS = before;
      setKernelBackend("auto");
    }
  });
});
