/**
 * ONNX Runtime (onnxruntime-node, CPU) for the tests: runs an exported model on gradgraph tensors
 * and compares with gradgraph's values.
 */
import type { Tensor } from "@gradgraph/core";
import ort from "onnxruntime-node";
import { expect } from "vitest";

/** What ORT returned for one output. */
export interface OrtOutput {
  readonly shape: number[];
  readonly data: Float32Array | Float64Array;
  readonly dtype: string;
}

/** Runs `bytes` in ONNX Runtime with the inputs by name; returns every output by name. */
export async function runOrt(
  bytes: Uint8Array,
  inputs: Readonly<Record<string, Tensor>>,
): Promise<Record<string, OrtOutput>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) {
      feeds[name] = new ort.Tensor(t.dtype === "float64" ? "float64" : "float32", t.data.slice(), [...t.shape]);
    }
    const result = await session.run(feeds);
    const out: Record<string, OrtOutput> = {};
    for (const [name, v] of Object.entries(result)) {
      out[name] = { shape: [...v.dims], data: v.data as Float32Array | Float64Array, dtype: v.type };
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
 * Expects ORT's output to equal gradgraph's tensor: same shape and dtype, elements within the
 * dtype's relative tolerance (with an absolute floor of the same size, for values near 0).
 */
export function expectClose(actual: OrtOutput | undefined, expected: Tensor, what = ""): void {
  expect(actual, `${what}: missing output`).toBeDefined();
  const a = actual!;
  expect(a.shape, `${what}: shape`).toEqual([...expected.shape]);
  expect(a.dtype, `${what}: dtype`).toBe(expected.dtype === "float64" ? "float64" : "float32");
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
