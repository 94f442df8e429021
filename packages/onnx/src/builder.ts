/**
 * The graph under construction: nodes, initializers and unique value names, with the helpers the
 * built-in mappings share (int64 constants, reductions across opsets, reshapes that keep dynamic
 * axes dynamic).
 */
import {
  type DType,
  describeValue,
  GradgraphError,
  type OnnxAttribute,
  type OnnxGraphBuilder,
  type Shape,
} from "@gradgraph/core";
import {
  attributeProto,
  dataTypeOf,
  type ElemType,
  elemTypeOf,
  type NodeProto,
  nodeProto,
  type TensorProto,
  tensorProto,
} from "./proto.js";

/**
 * An ONNX model that cannot be exported, imported or run: an op without a mapping, an operator
 * gradgraph does not import, a malformed model, or bad inputs to an exported graph.
 */
export class OnnxError extends GradgraphError {}

/** A dimension of an exported value: its size, or the name of a symbolic axis. */
export type Dim = number | string;

/**
 * A value of the graph being exported, as the exporter and the built-in mappings see it: core's
 * `OnnxValue` with a dtype of any kind (an int32 graph input, a comparison's bool output).
 */
export interface ExportValue {
  /** Its name in the ONNX graph. */
  readonly name: string;
  /** Its shape as recorded. */
  readonly shape: Shape;
  /** Its shape in the exported graph: sizes, or symbolic axis names. */
  readonly dims: readonly Dim[];
  /** Its dtype. */
  readonly dtype: DType;
}

/** Casts that lose nothing, from → to: a Cast back to `from` of their result gives the value itself. */
const LOSSLESS: Readonly<Record<ElemType, readonly ElemType[]>> = {
  bool: ["int32", "int64", "float32", "float64"],
  int32: ["int64", "float64"],
  int64: [],
  float32: ["float64"],
  float64: [],
};

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
  /** The element type of the values whose type is known (inputs, constants, exported ops' outputs, Casts). */
  readonly #types = new Map<string, ElemType>();
  /** Per Cast output that lost nothing: the value it was cast from. */
  readonly #castFrom = new Map<string, string>();

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

  /** Records the element type of a value (the exporter's values, for the Casts that follow). */
  setType(name: string, type: ElemType): void {
    this.#types.set(name, type);
  }

  /** The element type of a value, where known. */
  typeOf(name: string): ElemType | undefined {
    return this.#types.get(name);
  }

  /**
   * `x` cast to `to`: `x` itself when it is of that type already, or when it is a lossless Cast of
   * a value of that type (the float64 copy of a bool, cast back to BOOL by a logical op); else a
   * Cast node.
   */
  cast(x: string, to: ElemType): string {
    return this.node("Cast", [x], { to: dataTypeOf(to) })[0]!;
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
    if (opType === "Cast" && outputs === 1 && Array.isArray(inputs) && inputs.length === 1) {
      const to = elemTypeOf(typeof attributes?.to === "number" ? attributes.to : -1);
      const same = to === null ? undefined : this.#sameAs(inputs[0]!, to);
      if (same !== undefined) return [same];
    }
    const outs = this.#add(opType, inputs, attributes, outputs);
    if (opType === "Cast" && outs.length === 1) this.#noteCast(inputs[0]!, outs[0]!, attributes.to);
    return outs;
  }

  /** A value equal to `x` cast to `to` without a new node, if there is one. */
  #sameAs(x: string, to: ElemType): string | undefined {
    if (typeof x !== "string" || !this.known.has(x)) return undefined;
    if (this.#types.get(x) === to) return x;
    const src = this.#castFrom.get(x);
    if (src !== undefined && this.#types.get(src) === to) return src;
    return undefined;
  }

  /** Records a Cast's output type, and its source when the Cast loses nothing. */
  #noteCast(x: string, out: string, to: unknown): void {
    const t = elemTypeOf(typeof to === "number" ? to : -1);
    if (t === null) return;
    this.#types.set(out, t);
    const from = this.#types.get(x);
    if (from !== undefined && LOSSLESS[from].includes(t)) this.#castFrom.set(out, this.#castFrom.get(x) ?? x);
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

  constant(values: ArrayLike<number>, dtype: DType | "int64", shape?: readonly number[]): string {
    const where = `${this.fn}: the ONNX mapping of ${this.scope}`;
    if (dtype !== "float32" && dtype !== "float64" && dtype !== "int64" && dtype !== "int32" && dtype !== "bool") {
      throw new OnnxError(
        this.fn,
        `${where}: constant dtype must be 'float32', 'float64', 'int32', 'bool' or 'int64', got ${describeValue(dtype)}`,
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
      const ok =
        typeof v === "number" &&
        (dtype === "int64"
          ? Number.isSafeInteger(v)
          : dtype === "int32"
            ? v === (v | 0)
            : dtype === "bool"
              ? v === 0 || v === 1
              : true);
      if (!ok) {
        const kind =
          dtype === "int64"
            ? "a safe integer"
            : dtype === "int32"
              ? "an int32"
              : dtype === "bool"
                ? "0 or 1"
                : "a number";
        throw new OnnxError(this.fn, `${where}: constant value ${i} is ${describeValue(v)}, not ${kind}`);
      }
    }
    // a Constant node, not an initializer: importers (fromOnnx) take initializers for trainable weights
    const name = this.#add("Constant", [], { value: { tensor: tensorProto("", values, dtype, s) } }, 1)[0]!;
    this.#types.set(name, dtype);
    return name;
  }

  /** An initializer named exactly `name` (a param). */
  initializer(name: string, values: ArrayLike<number>, dtype: ElemType, shape: readonly number[]): void {
    this.claim(name);
    this.#types.set(name, dtype);
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
    if (opType === "Cast") return this.node(opType, inputs, attributes)[0]!;
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
  reshape(x: ExportValue, shape: readonly number[], dims: readonly Dim[]): string {
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
