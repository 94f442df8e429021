/**
 * ONNX Runtime (onnxruntime-node, CPU) for the tests: runs an exported model on gradgraph tensors
 * and compares with gradgraph's values.
 */
import type { AnyTensor } from "@gradgraph/core";
import ort from "onnxruntime-node";
import { expect } from "vitest";

/** What ORT returned for one output. */
export interface OrtOutput {
  readonly shape: number[];
  /** Its elements (a BOOL output's as 0 and 1). */
  readonly data: ArrayLike<number>;
  /** ORT's element type: `float32`, `float64`, `int32`, `bool`, `int64`, ... */
  readonly dtype: string;
}

/** Runs `bytes` in ONNX Runtime with the inputs by name; returns every output by name. */
export async function runOrt(
  bytes: Uint8Array,
  inputs: Readonly<Record<string, AnyTensor>>,
): Promise<Record<string, OrtOutput>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) {
      feeds[name] =
        t.dtype === "bool"
          ? new ort.Tensor("bool", t.data.slice(), [...t.shape])
          : t.dtype === "int32"
            ? new ort.Tensor("int32", t.data.slice(), [...t.shape])
            : new ort.Tensor(t.dtype, t.data.slice(), [...t.shape]);
    }
    const result = await session.run(feeds);
    const out: Record<string, OrtOutput> = {};
    for (const [name, v] of Object.entries(result)) {
      const data = v.data as ArrayLike<number | bigint | boolean>;
      // (int64 as BigInt64Array, bool as Uint8Array or booleans, depending on the binding)
      const numbers = Array.from({ length: data.length }, (_, i) => Number(data[i]));
      out[name] = {
        shape: [...v.dims],
        data: v.type === "float32" || v.type === "float64" ? (v.data as Float32Array | Float64Array) : numbers,
        dtype: v.type,
      };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The tolerance the issue sets: 1e-5 relative in float32, 1e-9 in float64. */
export function rtolOf(dtype: string): number {
  return dtype === "float64" ? 1e-9 : 1e-5;
}

/**
 * Expects ORT's output (or another tensor) to equal gradgraph's tensor: same shape and dtype,
 * float elements within the dtype's relative tolerance (with an absolute floor of the same size,
 * for values near 0), int32 and bool ones exactly.
 */
export function expectClose(actual: OrtOutput | AnyTensor | undefined, expected: AnyTensor, what = ""): void {
  expect(actual, `${what}: missing output`).toBeDefined();
  const a = actual!;
  expect([...a.shape], `${what}: shape`).toEqual([...expected.shape]);
  expect(a.dtype, `${what}: dtype`).toBe(expected.dtype);
  if (expected.dtype === "int32" || expected.dtype === "bool") {
    expect(Array.from(a.data, Number), `${what}: values`).toEqual(Array.from(expected.data));
    return;
  }
  const tol = rtolOf(expected.dtype);
  for (let i = 0; i < expected.size; i++) {
    const e = expected.data[i]!;
    const v = a.data[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(v), `${what}: element ${i}: expected NaN, got ${v}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(v, `${what}: element ${i}`).toBe(e);
      continue;
    }
    const err = Math.abs(v - e);
    expect(
      err <= tol * Math.max(Math.abs(e), 1),
      `${what}: element ${i}: ORT ${v}, gradgraph ${e} (|diff| ${err})`,
    ).toBe(true);
  }
}
