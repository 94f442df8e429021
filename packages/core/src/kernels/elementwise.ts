/** Elementwise kernels with numpy broadcasting over row-major typed arrays. */
import type { FloatArray } from "../dtype.js";
import type { Shape } from "../shape.js";
import { broadcastStrides, forEachRow, isTrailingPart } from "./broadcast.js";

/**
 * The binary operations with a hand-written kernel: `pow` is `a ** b` (`Math.pow`); `max` and `min`
 * are `Math.max`/`Math.min` (NaN in either operand gives NaN, as numpy's `maximum`/`minimum`).
 */
export type BinaryKind = "add" | "sub" | "mul" | "div" | "pow" | "max" | "min";

/**
 * `out = a ⊕ b` with broadcasting; `out` has the broadcast shape `outShape` and is written fully.
 * Fast paths: equal shapes, and a single-element operand.
 */
export function binaryInto(
  kind: BinaryKind,
  a: FloatArray,
  aShape: Shape,
  b: FloatArray,
  bShape: Shape,
  out: FloatArray,
  outShape: Shape,
): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 1, 1);
    return;
  }
  if (b.length === 1 && a.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 1, 0);
    return;
  }
  if (a.length === 1 && b.length === n) {
    flat(kind, a, b, out, 0, 0, 0, n, 0, 1);
    return;
  }
  // a row (such as a bias) against a batch: one pass per row, no odometer
  if (a.length === n && b.length > 0 && isTrailingPart(bShape, outShape)) {
    for (let o = 0; o < n; o += b.length) flat(kind, a, b, out, o, o, 0, b.length, 1, 1);
    return;
  }
  if (b.length === n && a.length > 0 && isTrailingPart(aShape, outShape)) {
    for (let o = 0; o < n; o += a.length) flat(kind, a, b, out, o, 0, o, a.length, 1, 1);
    return;
  }
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  forEachRow(outShape, as, bs, (o, ao, bo, len, ast, bst) => flat(kind, a, b, out, o, ao, bo, len, ast, bst));
}

function flat(
  kind: BinaryKind,
  a: FloatArray,
  b: FloatArray,
  out: FloatArray,
  o: number,
  ao: number,
  bo: number,
  n: number,
  as: number,
  bs: number,
): void {
  switch (kind) {
    case "add":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! + b[bo + j * bs]!;
      return;
    case "sub":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! - b[bo + j * bs]!;
      return;
    case "mul":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! * b[bo + j * bs]!;
      return;
    case "div":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! / b[bo + j * bs]!;
      return;
    case "pow":
      for (let j = 0; j < n; j++) out[o + j] = a[ao + j * as]! ** b[bo + j * bs]!;
      return;
    case "max":
      for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ao + j * as]!, b[bo + j * bs]!);
      return;
    case "min":
      for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ao + j * as]!, b[bo + j * bs]!);
      return;
  }
}

/** `acc += x` elementwise for equal-length arrays. */
export function addInPlace(acc: FloatArray, x: FloatArray): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
}
