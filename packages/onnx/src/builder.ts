/**
 * The graph under construction: nodes, initializers and unique value names, with the helpers the
 * built-in mappings share (int64 constants, reductions across opsets, reshapes that keep dynamic
 * axes dynamic).
 */
import {
  describeValue,
  type FloatDType,
  GradgraphError,
  type OnnxAttribute,
  type OnnxGraphBuilder,
  type OnnxValue,
} from "@gradgraph/core";
import { attributeProto, type ElemType, type NodeProto, nodeProto, type TensorProto, tensorProto } from "./proto.js";

/**
 * An ONNX model that cannot be exported, imported or run: an op without a mapping, an operator
 * gradgraph does not import, a malformed model, or bad inputs to an exported graph.
 */
export class OnnxError extends GradgraphError {}

/** A dimension of an exported value: its size, or the name of a symbolic axis. */
export type Dim = number | string;

/** The opset written when `opset` is not given. */
export const DEFAULT_OPSET = 17;
/** The lowest opset `toOnnx` writes (the first with Softmax over one axis and ReduceSum's axes as an input). */
export const MIN_OPSET = 13;
/** The highest opset `toOnnx` writes. */
export const MAX_OPSET = 21;

/** The builder handed to mappings; `scope` names the gradgraph node being exported. */
export class GraphBuilder implements OnnxGraphBuilder {
  readonly opset: number;
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** Every value name in the graph (inputs, initializers, node outputs). */
  readonly known = new Set<string>();
  /** The gradgraph node being exported (`add_12`), prefixed to the names it creates. */
  scope = "graph";
  /** The calling function, for error messages. */
  readonly fn: string;
  /** The recorded size of each symbolic axis. */
  readonly symbols = new Map<string, number>();
  #used = new Set<string>();
  #counter = 0;
  #ints = new Map<string, string>();

  constructor(fn: string, opset: number) {
    this.fn = fn;
    this.opset = opset;
  }

  /** The recorded size of a symbolic axis (0 for a name that is not one). */
  symbolSize(symbol: string): number {
    return this.symbols.get(symbol) ?? 0;
  }

  /** Claims `name` exactly (an input, a param, an output). */
  claim(name: string): void {
    this.#used.add(name);
    this.known.add(name);
  }

  /** Whether a name is taken. */
  taken(name: string): boolean {
    return this.#used.has(name);
  }

  /** A new unique name starting with `base`. */
  fresh(base: string): string {
    let n: string;
    do n = `${base}_${this.#counter++}`;
    while (this.#used.has(n));
    this.#used.add(n);
    return n;
  }

  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
    outputs = 1,
  ): string[] {
    if (attributes !== null && typeof attributes === "object") {
      for (const [k, v] of Object.entries(attributes)) {
        if (!validAttribute(v)) {
          throw new OnnxError(
            this.fn,
            `${this.fn}: the ONNX mapping of ${this.scope}: ${String(opType)}'s attribute ${k} is ${describeValue(v)}; expected an integer, a string, an array of integers, { float } or { floats }`,
          );
        }
      }
    }
    return this.#add(opType, inputs, attributes, outputs);
  }

  /** `node`, also taking tensor attributes (Constant, ConstantOfShape). */
  #add(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute | { readonly tensor: TensorProto }>>,
    outputs: number,
  ): string[] {
    const where = `${this.fn}: the ONNX mapping of ${this.scope}`;
    if (typeof opType !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(opType)) {
      throw new OnnxError(
        this.fn,
        `${where} added a node with opType ${describeValue(opType)}; expected an operator name`,
      );
    }
    if (!Array.isArray(inputs)) {
      throw new OnnxError(
        this.fn,
        `${where}: ${opType}'s inputs must be an array of value names, got ${describeValue(inputs)}`,
      );
    }
    for (const name of inputs) {
      if (name !== "" && (typeof name !== "string" || !this.known.has(name))) {
        throw new OnnxError(
          this.fn,
          `${where}: ${opType}'s input ${describeValue(name)} is not a value of the graph (use the inputs' names and what node() and constant() return)`,
        );
      }
    }
    if (!Number.isInteger(outputs) || outputs < 1 || outputs > 2 ** 16) {
      throw new OnnxError(
        this.fn,
        `${where}: ${opType}'s outputs must be a positive integer, got ${describeValue(outputs)}`,
      );
    }
    if (attributes === null || typeof attributes !== "object") {
      throw new OnnxError(
        this.fn,
        `${where}: ${opType}'s attributes must be an object, got ${describeValue(attributes)}`,
      );
    }
    const attrs = Object.entries(attributes).map(([k, v]) => {
      // tensor attributes come only from this builder (Constant); a mapping's are checked
      if (!(typeof v === "object" && v !== null && "tensor" in v) && !validAttribute(v)) {
        throw new OnnxError(
          this.fn,
          `${where}: ${opType}'s attribute ${k} is ${describeValue(v)}; expected an integer, a string, an array of integers, { float } or { floats }`,
        );
      }
      return attributeProto(k, v);
    });
    const outs = Array.from({ length: outputs }, () => this.fresh(`${this.scope}/${opType}`));
    for (const o of outs) this.known.add(o);
    this.nodes.push(nodeProto(this.fresh(`${this.scope}/${opType}#`), opType, inputs, outs, attrs));
    return outs;
  }

  constant(values: ArrayLike<number>, dtype: FloatDType | "int64", shape?: readonly number[]): string {
    const where = `${this.fn}: the ONNX mapping of ${this.scope}`;
    if (dtype !== "float32" && dtype !== "float64" && dtype !== "int64") {
      throw new OnnxError(
        this.fn,
        `${where}: constant dtype must be 'float32', 'float64' or 'int64', got ${describeValue(dtype)}`,
      );
    }
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new OnnxError(
        this.fn,
        `${where}: constant values must be an array of numbers, got ${describeValue(values)}`,
      );
    }
    const s = shape ?? [values.length];
    if (
      !Array.isArray(s) ||
      s.some((d) => !Number.isInteger(d) || d < 0) ||
      s.reduce((a, b) => a * b, 1) !== values.length
    ) {
      throw new OnnxError(
        this.fn,
        `${where}: constant shape ${describeValue(shape)} does not fit ${values.length} values`,
      );
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || (dtype === "int64" && !Number.isSafeInteger(v))) {
        throw new OnnxError(
          this.fn,
          `${where}: constant value ${i} is ${describeValue(v)}, not a${dtype === "int64" ? " safe integer" : " number"}`,
        );
      }
    }
    // a Constant node, not an initializer: importers (fromOnnx) take initializers for trainable weights
    return this.#add("Constant", [], { value: { tensor: tensorProto("", values, dtype, s) } }, 1)[0]!;
  }

  /** An initializer named exactly `name` (a param). */
  initializer(name: string, values: ArrayLike<number>, dtype: ElemType, shape: readonly number[]): void {
    this.claim(name);
    this.initializers.push(tensorProto(name, values, dtype, shape));
  }

  /** A 1-D int64 constant, shared by every use of the same values. */
  ints(values: readonly number[]): string {
    const key = values.join(",");
    let name = this.#ints.get(key);
    if (name === undefined) {
      const scope = this.scope;
      this.scope = "ints";
      name = this.constant(values, "int64");
      this.scope = scope;
      this.#ints.set(key, name);
    }
    return name;
  }

  /** A 0-d constant of `dtype`. */
  scalar(value: number, dtype: ElemType): string {
    return this.constant([value], dtype, []);
  }

  /** One node with one output. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, OnnxAttribute>> = {}): string {
    return this.#add(opType, inputs, attributes, 1)[0]!;
  }

  /**
   * A reduction over `axes` (non-negative), with the axes as an input where the opset takes them so
   * (ReduceSum from 13, the others from 18) and as an attribute before; no axes is an Identity.
   */
  reduce(opType: string, x: string, axes: readonly number[], keepdims: boolean): string {
    if (axes.length === 0) return this.op("Identity", [x]);
    const asInput = opType === "ReduceSum" || this.opset >= 18;
    return asInput
      ? this.op(opType, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op(opType, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /**
   * `x` reshaped to `shape`, whose dims are `dims` (symbolic where dynamic): a symbolic dim at the
   * position it has in `x` is copied (0), another is inferred (−1, at most one).
   * @throws OnnxError naming the op when the dynamic axes cannot be expressed so.
   */
  reshape(x: OnnxValue, shape: readonly number[], dims: readonly Dim[]): string {
    const target: number[] = [];
    let inferred = false;
    let copied = false;
    let zero = false;
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i]!;
      if (typeof d === "string") {
        if (i < x.dims.length && x.dims[i] === d) {
          target.push(0);
          copied = true;
        } else {
          if (inferred) throw this.dynamicError(`a reshape of ${fmtDims(x.dims)} to ${fmtDims(dims)}`);
          inferred = true;
          target.push(-1);
        }
      } else {
        if (d === 0) zero = true;
        target.push(d);
      }
    }
    if (!zero) return this.op("Reshape", [x.name, this.ints(target)]);
    if (copied || inferred)
      throw this.dynamicError(`a reshape of ${fmtDims(x.dims)} to ${fmtDims(dims)} (an empty result)`);
    // an empty result: sizes of 0 need allowzero (opset 14); before, the (empty) constant itself
    if (this.opset >= 14) return this.op("Reshape", [x.name, this.ints(target)], { allowzero: 1 });
    return this.constant([], x.dtype, shape);
  }

  /** The error for a dynamic axis an op's export cannot keep dynamic. */
  dynamicError(what: string): OnnxError {
    return new OnnxError(
      this.fn,
      `${this.fn}: ${this.scope} needs ${what}, which cannot keep its dynamic axes dynamic; export with static shapes (no dynamicAxes) or make the axis static`,
    );
  }
}

/** `[batch, 3]`. */
export function fmtDims(dims: readonly Dim[]): string {
  return `[${dims.join(", ")}]`;
}

function validAttribute(v: unknown): v is OnnxAttribute {
  if (typeof v === "number") return Number.isSafeInteger(v);
  if (typeof v === "string") return true;
  if (Array.isArray(v)) return v.every((x) => Number.isSafeInteger(x));
  if (v === null || typeof v !== "object") return false;
  const o = v as { float?: unknown; floats?: unknown };
  if ("float" in o) return typeof o.float === "number";
  if ("floats" in o) return Array.isArray(o.floats) && o.floats.every((x) => typeof x === "number");
  return false;
}
