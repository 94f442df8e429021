/**
 * `applyOp`: how every op runs. The forward computes on raw arrays with recording off; when
 * recording is on and an input requires grad, the outputs get a {@link Node} that remembers the
 * op, its inputs' edges and what forward saved. In anomaly mode every forward output is checked
 * for NaN and infinity.
 */
import type { DType, FloatArray, FloatDType, TensorData } from "./dtype.js";
import { AnomalyError, describeValue, fmtShape, GraphError } from "./errors.js";
import { modes } from "./grad-mode.js";
import { ForwardCtx, Node, type OpCore, type RawArray, RECORD, userFrame } from "./node.js";
import { recordOrigins } from "./origin.js";
import { validSize } from "./shape.js";
import { type AnyTensor, Tensor, TRUSTED } from "./tensor.js";

/**
 * Runs `op` on already-validated tensor inputs of one `dtype` (`resultDType`: what the caller
 * casts its float outputs to afterwards, see `ForwardContext.resultDType`) and records a node when recording
 * is on and any input requires grad. Returns the output tensor, or the array of outputs for a
 * multi-output op. The forward runs with recording off. An int32 or bool output (a comparison's)
 * is never recorded: no gradient flows through it.
 * @throws GraphError when forward returns something that is not a well-formed raw array.
 */
export function applyOp(
  op: OpCore,
  inputs: readonly Tensor[],
  attrs: unknown,
  dtype: FloatDType,
  resultDType: DType = dtype,
): Tensor | Tensor[] {
  const ctx = new ForwardCtx(op.name, dtype, inputs, resultDType);
  const prev = modes.grad;
  modes.grad = false;
  let raw: RawArray<DType> | readonly RawArray<DType>[];
  try {
    raw = op.forward(inputs, attrs, ctx);
  } finally {
    modes.grad = prev;
  }
  let record = false;
  if (prev) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i]!._requiresGrad) {
        record = true;
        break;
      }
    }
  }
  if (!op.multi) {
    const r = checkRaw(op, raw as RawArray<DType>, 0);
    if (!isFloatData(r.data) || !record) {
      if (isFloatData(r.data) && modes.anomaly && !modes.inBackward) checkForward(op, r.data, 0, null);
      const t = new Tensor(r.data, r.shape, false, null, 0, TRUSTED) as AnyTensor as Tensor;
      if (modes.inputs) recordOrigins(op, attrs, inputs, [t], dtype);
      return t;
    }
    const node = new Node(RECORD, op, attrs, inputs, [r.shape], dtypeOf(r.data), ctx);
    const out = new Tensor(r.data, r.shape, true, node, 0, TRUSTED);
    if (ctx.saveOut) node._savedOutputs = [out];
    if (modes.anomaly && !modes.inBackward) checkForward(op, r.data, 0, node);
    return out;
  }
  if (!Array.isArray(raw)) {
    throw new GraphError(
      op.name,
      `${op.name}: forward of a multi-output op must return an array, got ${describeValue(raw)}`,
    );
  }
  // an index loop: a hole of a (huge, sparse) array fails at once instead of being skipped
  const list = raw as readonly RawArray<DType>[];
  const raws = new Array<RawArray<DType>>(Math.min(list.length, MAX_OUTPUTS));
  for (let k = 0; k < list.length; k++) {
    if (k === MAX_OUTPUTS) {
      throw new GraphError(op.name, `${op.name}: forward returned ${list.length} outputs, more than ${MAX_OUTPUTS}`);
    }
    raws[k] = checkRaw(op, list[k]!, k);
  }
  // an int32 or bool output is a plain tensor; the float ones are the node's
  const plain = (r: RawArray<DType>): Tensor =>
    new Tensor(r.data, r.shape, false, null, 0, TRUSTED) as AnyTensor as Tensor;
  const first = raws.find((r) => isFloatData(r.data));
  if (!record || first === undefined) {
    if (modes.anomaly && !modes.inBackward)
      for (let k = 0; k < raws.length; k++)
        if (isFloatData(raws[k]!.data)) checkForward(op, raws[k]!.data as FloatArray, k, null);
    const plainOuts = raws.map(plain);
    if (modes.inputs) recordOrigins(op, attrs, inputs, plainOuts, dtype);
    return plainOuts;
  }
  const node = new Node(
    RECORD,
    op,
    attrs,
    inputs,
    raws.map((r) => r.shape),
    dtypeOf(first.data as FloatArray),
    ctx,
  );
  const outs = raws.map((r, k) =>
    isFloatData(r.data) ? new Tensor(r.data, r.shape, true, node, k, TRUSTED) : plain(r),
  );
  if (ctx.saveOut) node._savedOutputs = outs;
  // the int32 and bool outputs beside the node's float ones
  if (modes.inputs) recordOrigins(op, attrs, inputs, outs, dtype);
  if (modes.anomaly && !modes.inBackward)
    for (let k = 0; k < raws.length; k++)
      if (isFloatData(raws[k]!.data)) checkForward(op, raws[k]!.data as FloatArray, k, node);
  return outs;
}

/** Most outputs a multi-output op may return. */
const MAX_OUTPUTS = 2 ** 20;

/** Index of the first NaN or infinity in `data`, or −1. */
export function firstNonFinite(data: FloatArray): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN
  }
  return -1;
}

function checkForward(op: OpCore, data: FloatArray, k: number, node: Node | null): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const site = node?.site ?? new Error().stack ?? null;
  throw new AnomalyError(
    op.name,
    `anomaly: op '${op.name}' produced ${data[i]} in its forward output ${k} at element ${i}${node ? ` (node #${node.id})` : ""}; created at ${userFrame(site) ?? "(unknown)"}`,
    { phase: "forward", nodeId: node?.id ?? null, site, index: i, value: data[i]! },
  );
}

function dtypeOf(data: FloatArray): FloatDType {
  return data instanceof Float64Array ? "float64" : "float32";
}

function isFloatData(data: TensorData): data is FloatArray {
  return data instanceof Float32Array || data instanceof Float64Array;
}

/** Whether a bool output holds only 0 and 1. */
function allBits(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i]! > 1) return false;
  return true;
}

function checkRaw(op: OpCore, r: RawArray<DType>, k: number): RawArray<DType> {
  const ok =
    r !== null &&
    typeof r === "object" &&
    (r.data instanceof Float32Array ||
      r.data instanceof Float64Array ||
      r.data instanceof Int32Array ||
      r.data instanceof Uint8Array) &&
    validSize(r.shape) === r.data.length &&
    (!(r.data instanceof Uint8Array) || allBits(r.data));
  if (!ok) {
    const what =
      r !== null && typeof r === "object" && Array.isArray(r.shape)
        ? `data of ${describeValue(r.data)} with length ${(r.data as { length?: unknown })?.length} for shape ${fmtShape(r.shape)}`
        : describeValue(r);
    throw new GraphError(
      op.name,
      `${op.name}: forward output ${k} must be { data: Float32Array | Float64Array | Int32Array | Uint8Array, shape } with matching size (a bool output's Uint8Array holding 0 and 1), got ${what}`,
    );
  }
  return r;
}
