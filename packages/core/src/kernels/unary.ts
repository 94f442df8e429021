/**
 * Elementwise functions of one array, and the elementwise derivatives behind `reluGrad`,
 * `sigmoidGrad` and `tanhGrad`: the WebAssembly SIMD kernel for large arrays, a plain TypeScript
 * loop (one per function, no per-element callback) otherwise. Callers never see which ran.
 */
import type { FloatArray } from "../dtype.js";
import { type WasmGradKind, type WasmUnaryKind, wasmUnary, wasmUnaryGrad } from "./runtime/wasm-ops.js";

/** The elementwise functions of {@link unaryInto}. */
export type UnaryKind = WasmUnaryKind;

/** The elementwise derivatives of {@link unaryGradInto}. */
export type UnaryGradKind = WasmGradKind;

/**
 * `out[i] = f(x[i])` for equal-length arrays (either dtype each): `neg`, `abs`, `relu`
 * (`max(x, 0)`, NaN stays NaN, −0 becomes 0), `exp`, `log`, `sqrt`, `sigmoid` (without overflow
 * for large |x|) or `tanh`. Trusted input: `out` must have `x`'s length.
 */
export function unaryInto(kind: UnaryKind, x: FloatArray, out: FloatArray): void {
  if (x.constructor === out.constructor && wasmUnary(kind, x, out)) return;
  const n = out.length;
  switch (kind) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!);
      return;
    case "relu":
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        // NaN stays NaN (the comparison is false), −0 becomes 0
        // biome-ignore lint/complexity/useMathMinMax: about twice as fast as Math.max(v, 0) in V8 on mixed-sign data
        out[i] = v <= 0 ? 0 : v;
      }
      return;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        // exp of a non-positive number only: no overflow for large |x|
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
      return;
  }
}

/**
 * An elementwise derivative times an upstream gradient `g`, for equal-length arrays:
 * `relu`: `out = g·[x > 0]` from relu's input (a product with a 0/1 mask: NaN·0 stays NaN);
 * `sigmoid`: `out = g·y·(1 − y)` and `tanh`: `out = g·(1 − y²)` from the function's output `y`.
 * Trusted input: all three arrays of one length.
 */
export function unaryGradInto(kind: UnaryGradKind, xy: FloatArray, g: FloatArray, out: FloatArray): void {
  if (wasmUnaryGrad(kind, xy, g, out)) return;
  const n = out.length;
  switch (kind) {
    case "relu":
      for (let i = 0; i < n; i++) out[i] = g[i]! * (xy[i]! > 0 ? 1 : 0);
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = g[i]! * xy[i]! * (1 - xy[i]!);
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = g[i]! * (1 - xy[i]! * xy[i]!);
      return;
  }
}
