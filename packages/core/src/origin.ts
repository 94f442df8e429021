/**
 * Origins: under `withDebugRecording`, how each tensor that an op returned without recording a
 * node was computed: an int32 or bool output (a comparison's, an argmax's), or any output of an op
 * none of whose inputs requires grad (the float64 copy of an int32 operand, an op on those copies).
 * A graph exporter follows them where no node leads: `@gradgraph/onnx` exports comparisons,
 * logical ops and int32 or bool graph inputs through them.
 */
import type { DType, FloatDType } from "./dtype.js";
import { modes } from "./grad-mode.js";
import type { OpCore } from "./node.js";
import type { Shape } from "./shape.js";
import type { AnyTensor } from "./tensor.js";

/** One application of an op that recorded no node (shared by its outputs). */
export class OpCall {
  /** The op applied (core's `cast` for a dtype conversion, the one op whose input may be int32 or bool). */
  readonly op: OpCore;
  /** The attributes it was called with. */
  readonly attrs: unknown;
  /** Its inputs, as its forward got them. */
  readonly inputs: readonly AnyTensor[];
  /** Shapes of its outputs. */
  readonly outShapes: readonly Shape[];
  /** Dtypes of its outputs. */
  readonly outDTypes: readonly DType[];
  /** The float dtype it computed in (`ForwardContext.dtype`). */
  readonly dtype: FloatDType;
  readonly #siteError: Error | null;

  /** @internal */
  constructor(
    op: OpCore,
    attrs: unknown,
    inputs: readonly AnyTensor[],
    outputs: readonly AnyTensor[],
    dtype: FloatDType,
  ) {
    this.op = op;
    this.attrs = attrs;
    this.inputs = inputs;
    this.outShapes = outputs.map((t) => t.shape);
    this.outDTypes = outputs.map((t) => t.dtype);
    this.dtype = dtype;
    this.#siteError = modes.sites ? new Error() : null;
  }

  /** Where it ran (a stack trace), when recorded with creation sites (`withDebugRecording` records them). */
  get site(): string | null {
    return this.#siteError?.stack ?? null;
  }
}

/** How a tensor was computed: the op call, and which of its outputs the tensor is. */
export interface TensorOrigin {
  /** The op call that returned the tensor. */
  readonly call: OpCall;
  /** Which of the call's outputs it is (0 for a single-output op). */
  readonly outputIndex: number;
}

const origins = new WeakMap<AnyTensor, TensorOrigin>();

/**
 * @internal Records the origins of the `outputs` of one op call (applyOp calls it under debug
 * recording), except those a node records (`creator` set).
 */
export function recordOrigins(
  op: OpCore,
  attrs: unknown,
  inputs: readonly AnyTensor[],
  outputs: readonly AnyTensor[],
  dtype: FloatDType,
): void {
  const call = new OpCall(op, attrs, inputs, outputs, dtype);
  outputs.forEach((t, k) => {
    if (t.creator === null) origins.set(t, { call, outputIndex: k });
  });
}

/**
 * How `t` was computed, when an op returned it without recording a node under
 * `withDebugRecording` (see the module comment); null for a leaf, a recorded tensor, or one
 * computed outside debug recording.
 */
export function originOf(t: AnyTensor): TensorOrigin | null {
  return origins.get(t) ?? null;
}
