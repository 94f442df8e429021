/**
 * Import: an ONNX model as a gradgraph graph. Its float initializers become trainable leaves, and
 * `run` evaluates its nodes with the ops of `@gradgraph/nodes`, so the result is an ordinary
 * recorded graph (backward, gradcheck, optimizers, viz snapshots).
 */
import {
  type AnyTensor,
  ArgumentError,
  broadcastShapes,
  broadcastTo,
  cast,
  type DType,
  describeValue,
  type FloatDType,
  fmtShape,
  isFloatTensor,
  isTensor,
  type NestedArray,
  Tensor,
  tensor,
  withDebugRecording,
} from "@gradgraph/core";
import {
  abs,
  add,
  affine,
  argmax,
  argmin,
  clamp,
  concat,
  cos,
  cumsum,
  div,
  elu,
  equal,
  exp,
  floorDiv,
  gatherOp,
  gelu,
  greater,
  greaterEqual,
  leakyRelu,
  less,
  lessEqual,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  logSoftmax,
  logSumExp,
  matmul,
  matmulOp,
  max,
  maximum,
  mean,
  minimum,
  mod,
  mul,
  neg,
  normalCdf,
  notEqual,
  padSliceOp,
  pow,
  relu,
  reshape,
  type SoftmaxCrossEntropyOptions,
  scatterRowsOp,
  sigmoid,
  sin,
  slice,
  softmax,
  softmaxCrossEntropy,
  softplus,
  split,
  sqrt,
  stridedSliceOp,
  sub,
  sum,
  tanh,
  transpose,
  where,
} from "@gradgraph/nodes";
import { type Dim, MIN_OPSET, OnnxError } from "./builder.js";
import { boundary, entries, isBytes, isRecord, options as readOptions } from "./checks.js";
import { type DynamicAxes, exportGraph } from "./export.js";
import {
  attributeValue,
  dataTypeName,
  decodeModel,
  decodeTensor,
  elemTypeOf,
  type ModelProto,
  type NodeProto,
  readValueInfo,
  type TensorProto,
  TensorProto_DataType,
} from "./proto.js";

/**
 * A value of an imported graph: a tensor (FLOAT and DOUBLE as float32 and float64, INT32 as int32,
 * BOOL as bool), or integers known when the graph runs (shapes, axes, indices: INT64 and the
 * narrower integer types).
 */
type Value = AnyTensor | Ints;

/** Integer values (int64 and the other integer types but INT32), held as numbers. */
class Ints {
  constructor(
    readonly values: readonly number[],
    readonly shape: readonly number[],
  ) {}
}

/** What a graph input accepts in `run`: a tensor, a number, a nested array, or integers for an integer input. */
export type OnnxInput = AnyTensor | number | NestedArray | readonly number[] | Int32Array;

/** A graph input as the model declares it. */
export interface OnnxInputInfo {
  /** The input's name. */
  readonly name: string;
  /**
   * Its element type: a gradgraph dtype (FLOAT, DOUBLE, INT32 and BOOL inputs), or `"int64"` for
   * the other integer types (indices, read as numbers).
   */
  readonly dtype: DType | "int64";
  /** Its dims: a size, a symbolic axis name, or null where the model leaves it unknown. */
  readonly dims: readonly (number | string | null)[] | null;
}

/** An ONNX model loaded by {@link fromOnnx}. */
export interface OnnxModel {
  /** The model's float initializers, as leaves that require grad (its weights), by name. */
  readonly params: Record<string, Tensor>;
  /** The names of the graph's inputs (initializers excluded), in order. */
  readonly inputNames: readonly string[];
  /** The names of the graph's outputs, in order. */
  readonly outputNames: readonly string[];
  /** The graph inputs' declared types and dims, in order. */
  readonly inputs: readonly OnnxInputInfo[];
  /** The opset of the default ONNX domain the model was written for. */
  readonly opset: number;
  /**
   * Runs the model on `inputs` (by name), recording a gradgraph graph: returns each output by
   * name, a Tensor whose backward reaches `params`.
   * @param options - `params`: tensors used instead of some of the model's params, by name (same
   *   shapes), e.g. the leaves `gradcheck` passes.
   * @throws OnnxError for a missing input, one whose shape or type does not fit the model's
   *   declaration, a param override of another name or shape, or a node that cannot run on the
   *   values it gets.
   */
  run(
    inputs: Readonly<Record<string, OnnxInput>>,
    options?: { readonly params?: Readonly<Record<string, Tensor>> },
  ): Record<string, AnyTensor>;
  /**
   * Exports the model again, with its current `params` (after training, say): `run` on `sample`
   * recorded for export, then {@link toOnnx} with the same input, param and output names.
   */
  toOnnx(
    sample: Readonly<Record<string, OnnxInput>>,
    options?: { opset?: number; dynamicAxes?: DynamicAxes },
  ): Uint8Array;
}

/** A handler: the node's values in, its outputs out. */
type Handler = (n: NodeCtx) => (Value | undefined)[];

/** What a handler reads: the node's inputs and attributes. */
class NodeCtx {
  constructor(
    readonly node: NodeProto,
    readonly index: number,
    readonly args: readonly (Value | undefined)[],
    /** The model's opset (reductions take their axes as an input from 18). */
    readonly opset: number,
  ) {}

  get where(): string {
    return `${this.node.opType} node ${this.node.name ? JSON.stringify(this.node.name) : `#${this.index}`}`;
  }

  fail(message: string): OnnxError {
    return new OnnxError("fromOnnx", `fromOnnx: ${this.where}: ${message}`);
  }

  has(i: number): boolean {
    return this.args[i] !== undefined;
  }

  /**
   * Tensor input `i`: a float, int32 or bool tensor (typed `Tensor`: every op takes the others
   * too, as PyTorch's do); integers as an int32 tensor (float64 beyond int32's range).
   */
  t(i: number): Tensor {
    const v = this.args[i];
    if (v === undefined) throw this.fail(`input ${i} is missing`);
    if (v instanceof Ints) {
      const fits = v.values.every((x) => x === (x | 0));
      return tensor(Float64Array.from(v.values), { shape: [...v.shape], dtype: fits ? "int32" : "float64" }) as Tensor;
    }
    return v as Tensor;
  }

  /** Integer input `i` (a shape, axes, indices): known when the graph runs; an int32 or bool tensor's values. */
  ints(i: number): Ints {
    const v = this.args[i];
    if (v === undefined) throw this.fail(`input ${i} is missing`);
    if (v instanceof Ints) return v;
    if (!isFloatTensor(v)) return new Ints(Array.from(v.data), v.shape);
    throw this.fail(
      `input ${i} (${this.node.input[i]}) must be integers (a constant, or computed from shapes), got a float tensor`,
    );
  }

  attr(name: string, fallback: number): number;
  attr(name: string, fallback: string): string;
  attr<T>(name: string, fallback: T): T;
  attr<T>(name: string, fallback: T): T {
    const a = this.node.attribute.find((x) => x.name === name);
    if (a === undefined) return fallback;
    return attributeValue(a) as T;
  }

  /** Axes from input `i` or from attribute `axes` (older opsets); null when neither is given. */
  axes(i: number): number[] | null {
    if (this.has(i)) return [...this.ints(i).values];
    const a = this.attr<number[] | null>("axes", null);
    return a === null ? null : [...a];
  }
}

const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);

function reduction(fn: (x: Tensor, o: { axis?: number[]; keepdims: boolean }) => Tensor, axesInput: boolean): Handler {
  return (n) => {
    const x = n.t(0);
    const axes = axesInput ? n.axes(1) : n.attr<number[] | null>("axes", null);
    const keepdims = n.attr("keepdims", 1) !== 0;
    if (axes === null || axes.length === 0) {
      if (n.attr<number>("noop_with_empty_axes", 0) !== 0) return [x];
      return [fn(x, { keepdims })];
    }
    return [fn(x, { axis: axes.map((a) => norm(a, x.rank)), keepdims })];
  };
}

const unary =
  (f: (x: Tensor) => AnyTensor): Handler =>
  (n) => [f(n.t(0))];
const binary =
  (f: (a: Tensor, b: Tensor) => AnyTensor): Handler =>
  (n) => [f(n.t(0), n.t(1))];
const fold =
  (f: (a: Tensor, b: Tensor) => Tensor): Handler =>
  (n) => {
    let acc = n.t(0);
    for (let i = 1; i < n.args.length; i++) acc = f(acc, n.t(i));
    return [acc];
  };

/** Whether a value holds integers: Ints, or an int32 or bool tensor. */
function isIntegral(v: Value | undefined): boolean {
  return v instanceof Ints || (v !== undefined && !isFloatTensor(v));
}

/**
 * ONNX's Div of integers, truncating toward zero: of Ints by one integer (shape arithmetic) as
 * Ints; else floorDiv of the int32 tensors, plus 1 where the remainder is nonzero and the signs
 * differ.
 */
function truncDiv(n: NodeCtx): Value {
  const a = n.args[0];
  const b = n.args[1];
  if (a instanceof Ints && b instanceof Ints && b.values.length === 1 && b.shape.length <= a.shape.length) {
    const d = b.values[0]!;
    if (d === 0) throw n.fail("integer division by zero");
    return new Ints(
      a.values.map((v) => Math.trunc(v / d)),
      a.shape,
    );
  }
  const x = n.t(0);
  const y = n.t(1);
  const q = floorDiv(x, y);
  const inexact = logicalAnd(notEqual(mod(x, y), 0), logicalXor(less(x, 0), less(y, 0)));
  return where(inexact, add(q, 1), q);
}

/** A tensor's elements as integers (for Cast of a float constant to an integer type). */
function toInts(t: Tensor): Ints {
  return new Ints(
    Array.from(t.data, (v) => Math.trunc(v)),
    t.shape,
  );
}

function reshapeValue(v: Value, shape: number[]): Value {
  return v instanceof Ints ? new Ints(v.values, shape) : reshape(v as Tensor, shape);
}

/** `x` reshaped to `spec` with ONNX's rules: 0 copies the input's dim (unless allowzero), −1 is inferred. */
function onnxReshape(n: NodeCtx, x: Value, spec: readonly number[], allowzero: boolean): Value {
  const shape = spec.map((d, i) => (d === 0 && !allowzero ? (x.shape[i] ?? 0) : d));
  if (x instanceof Ints) {
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return new Ints(
      x.values,
      shape.map((d) => (d === -1 ? x.values.length / Math.max(known, 1) : d)),
    );
  }
  try {
    return reshape(x, shape);
  } catch (e) {
    throw n.fail(`cannot reshape ${fmtShape(x.shape)} to ${fmtShape(spec)}: ${(e as Error).message}`);
  }
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  Add: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  // of integers (INT32 tensors, INT64 values) ONNX's Div truncates toward zero
  Div: (n) => [isIntegral(n.args[0]) && isIntegral(n.args[1]) ? truncDiv(n) : div(n.t(0), n.t(1))],
  Pow: (n) => {
    const p = n.args[1];
    // a constant exponent of one element (what toOnnx writes for pow(x, number)) stays a number
    if (p instanceof Tensor && p.size === 1 && !p.requiresGrad && p.rank <= n.t(0).rank) {
      return [pow(n.t(0), p.data[0]!)];
    }
    return [pow(n.t(0), n.t(1))];
  },
  Max: fold(maximum),
  Min: fold(minimum),
  Sum: fold(add),
  Neg: unary(neg),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Abs: unary(abs),
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Relu: unary(relu),
  Sin: unary(sin),
  Cos: unary(cos),
  Softplus: unary((x) => softplus(x)),
  Elu: (n) => [elu(n.t(0), n.attr("alpha", 1))],
  LeakyRelu: (n) => [leakyRelu(n.t(0), n.attr("alpha", 0.01))],
  // erf(x) = 2·Φ(x·√2) − 1
  Erf: (n) => [sub(mul(normalCdf(mul(n.t(0), Math.SQRT2)), 2), 1)],
  Gelu: (n) => {
    const approximate = n.attr<string>("approximate", "none");
    if (approximate !== "none" && approximate !== "tanh")
      throw n.fail(`approximate ${JSON.stringify(approximate)} is not supported`);
    return [gelu(n.t(0), approximate)];
  },
  Clip: (n) => {
    const bound = (i: number): number | null => {
      if (!n.has(i)) return null;
      const t = n.args[i];
      if (!(t instanceof Tensor) || t.size !== 1 || t.requiresGrad)
        throw n.fail(`bound ${i} must be a constant of one element`);
      return t.data[0]!;
    };
    const lo = bound(1);
    const hi = bound(2);
    return [lo === null && hi === null ? n.t(0) : clamp(n.t(0), lo, hi)];
  },
  CumSum: (n) => {
    if (n.attr("exclusive", 0) !== 0) throw n.fail("exclusive is not supported");
    const axis = n.ints(1).values;
    if (axis.length !== 1) throw n.fail("axis must be one integer");
    return [cumsum(n.t(0), axis[0]!, { reverse: n.attr("reverse", 0) !== 0 })];
  },
  Identity: (n) => [n.args[0]],
  ReduceSum: (n) => reduction(sum, true)(n),
  ReduceMean: (n) => reduction(mean, n.has(1) || n.opset >= 18)(n),
  ReduceMax: (n) => reduction(max, n.has(1) || n.opset >= 18)(n),
  ReduceLogSumExp: (n) => reduction(logSumExp, n.has(1) || n.opset >= 18)(n),
  Softmax: (n) => [softmax(n.t(0), n.attr("axis", -1))],
  LogSoftmax: (n) => [logSoftmax(n.t(0), n.attr("axis", -1))],
  SoftmaxCrossEntropyLoss: (n) => {
    const s = n.t(0);
    if (s.rank !== 2) throw n.fail(`scores of shape ${fmtShape(s.shape)} are supported as [N, C] only`);
    const reduction = n.attr<string>("reduction", "mean");
    if (reduction !== "mean" && reduction !== "sum" && reduction !== "none")
      throw n.fail(`reduction ${JSON.stringify(reduction)} is not supported (mean, sum or none)`);
    const labels = n.args[1] instanceof Ints ? [...n.ints(1).values] : Array.from(n.t(1).data);
    // the class weights (read as constants, as PyTorch's weight) and ignore_index: gradgraph's options
    const weights = n.has(2) ? n.t(2) : null;
    const ignored = n.node.attribute.some((a) => a.name === "ignore_index");
    const options: SoftmaxCrossEntropyOptions | undefined =
      weights === null && !ignored && reduction === "mean"
        ? undefined
        : { weights, reduction, ...(ignored ? { ignoreIndex: n.attr<number>("ignore_index", 0) } : {}) };
    const loss = softmaxCrossEntropy(s, labels, options);
    return n.node.output.length > 1 ? [loss, logSoftmax(s, 1)] : [loss];
  },
  MatMul: binary(matmul),
  Gemm: (n) => {
    const a = n.t(0);
    const b = n.t(1);
    const transA = n.attr("transA", 0) !== 0;
    const transB = n.attr("transB", 0) !== 0;
    const alpha = n.attr("alpha", 1);
    const beta = n.attr("beta", 1);
    const c = n.has(2) ? n.t(2) : null;
    const H = transB ? b.shape[0] : b.shape[1];
    if (!transA && !transB && alpha === 1 && beta === 1 && c !== null) {
      const bs = c.shape;
      if ((bs.length === 1 && bs[0] === H) || (bs.length === 2 && bs[0] === 1 && bs[1] === H)) return [affine(a, b, c)];
    }
    let y = matmulOp([a, b], { transA, transB });
    if (alpha !== 1) y = mul(y, alpha);
    if (c !== null) y = add(y, beta === 1 ? c : mul(c, beta));
    return [y];
  },
  Reshape: (n) => [onnxReshape(n, n.args[0]!, n.ints(1).values, n.attr("allowzero", 0) !== 0)],
  Flatten: (n) => {
    const x = n.args[0]!;
    const axis = norm(n.attr("axis", 1), x.shape.length);
    const lead = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    return [reshapeValue(x, [lead, x.shape.slice(axis).reduce((p, d) => p * d, 1)])];
  },
  Unsqueeze: (n) => {
    const x = n.args[0]!;
    const axes = n.axes(1) ?? [];
    const rank = x.shape.length + axes.length;
    const at = new Set(axes.map((a) => norm(a, rank)));
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : x.shape[j++]!);
    return [reshapeValue(x, shape)];
  },
  Squeeze: (n) => {
    const x = n.args[0]!;
    const axes = n.axes(1);
    const drop = new Set(
      axes === null ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => norm(a, x.shape.length)),
    );
    return [
      reshapeValue(
        x,
        x.shape.filter((_, i) => !drop.has(i)),
      ),
    ];
  },
  Transpose: (n) => {
    const x = n.t(0);
    const perm = n.attr<number[] | null>("perm", null);
    return [transpose(x, perm ?? undefined)];
  },
  Expand: (n) => {
    const x = n.t(0);
    const shape = broadcastShapes("Expand", x.shape, n.ints(1).values);
    return [broadcastTo(x, shape)];
  },
  Tile: (n) => {
    let x = n.t(0);
    const repeats = n.ints(1).values;
    repeats.forEach((r, axis) => {
      if (r !== 1) x = r === 0 ? slice(x, 0, 0, axis) : concat(new Array<Tensor>(r).fill(x), axis);
    });
    return [x];
  },
  Slice: (n) => {
    const x = n.args[0]!;
    const starts = n.has(1) ? n.ints(1).values : n.attr<number[]>("starts", []);
    const ends = n.has(2) ? n.ints(2).values : n.attr<number[]>("ends", []);
    const rank = x.shape.length;
    const axes = n.has(3) ? n.ints(3).values : (n.attr<number[] | null>("axes", null) ?? starts.map((_, i) => i));
    const steps = n.has(4) ? n.ints(4).values : starts.map(() => 1);
    if (steps.some((s) => s === 0)) throw n.fail(`steps ${fmtShape(steps)} must not be 0`);
    if (x instanceof Ints) {
      if (rank !== 1) throw n.fail("slices of integer values are supported in 1-D only");
      const [first, step, count] = sliceAxis(starts[0]!, ends[0]!, steps[0] ?? 1, x.values.length);
      const out = Array.from({ length: count }, (_, i) => x.values[first + i * step]!);
      return [new Ints(out, [out.length])];
    }
    if (steps.every((s) => s === 1)) {
      let y = x;
      axes.forEach((a, k) => {
        y = slice(y, clamp64(starts[k]!), clamp64(ends[k]!), norm(a, rank));
      });
      return [y];
    }
    // steps: numpy's basic slicing of every axis at once
    const first = new Array<number>(rank).fill(0);
    const step = new Array<number>(rank).fill(1);
    const sizes = [...x.shape];
    axes.forEach((a, k) => {
      const ax = norm(a, rank);
      [first[ax], step[ax], sizes[ax]] = sliceAxis(starts[k]!, ends[k]!, steps[k]!, x.shape[ax]!);
    });
    return [stridedSliceOp([x], { starts: first, steps: step, sizes })];
  },
  Concat: (n) => {
    const axis = n.attr("axis", 0);
    if (n.args.every((v) => v instanceof Ints)) {
      const values = n.args.flatMap((v) => [...(v as Ints).values]);
      return [new Ints(values, [values.length])];
    }
    return [
      concat(
        n.args.map((_, i) => n.t(i)),
        axis,
      ),
    ];
  },
  Split: (n) => {
    const x = n.t(0);
    const axis = norm(n.attr("axis", 0), x.rank);
    const given = n.has(1) ? n.ints(1).values : n.attr<number[] | null>("split", null);
    const count = n.node.output.length;
    const sizes = given ?? evenSplit(x.shape[axis]!, n.attr("num_outputs", count));
    return split(x, sizes, axis);
  },
  Gather: (n) => {
    const x = n.args[0]!;
    const idx = n.ints(1);
    const axis = norm(n.attr("axis", 0), x.shape.length);
    if (x instanceof Ints) {
      if (x.shape.length !== 1) throw n.fail("gathers of integer values are supported in 1-D only");
      const len = x.values.length;
      const out = idx.values.map((i) => x.values[i < 0 ? i + len : i]!);
      return [new Ints(out, idx.shape)];
    }
    return [gatherOp([x], { indices: [...idx.values], indexShape: [...idx.shape], axis })];
  },
  Cast: (n) => {
    const to = n.attr("to", TensorProto_DataType.FLOAT);
    const x = n.args[0]!;
    const dtype: DType | null =
      to === TensorProto_DataType.FLOAT
        ? "float32"
        : to === TensorProto_DataType.DOUBLE
          ? "float64"
          : to === TensorProto_DataType.INT32
            ? "int32"
            : to === TensorProto_DataType.BOOL
              ? "bool"
              : null;
    // to a gradgraph dtype: gradgraph's cast (truncation toward zero to int32, x != 0 to bool)
    if (dtype !== null) {
      return [x instanceof Ints ? tensor(Float64Array.from(x.values), { shape: [...x.shape], dtype }) : cast(x, dtype)];
    }
    if (INT_TYPES.has(to)) {
      // INT64 and the narrower integers: integers stay (an int32 or bool tensor as int32, a
      // computed value: ArgMax's INT64 output); a float tensor's values, truncated, as integers
      if (x instanceof Ints) return [x];
      return [isFloatTensor(x) ? toInts(x) : cast(x, "int32")];
    }
    throw n.fail(`casts to ${dataTypeName(to)} are not supported`);
  },
  // comparisons and logical ops: bool tensors
  Equal: binary(equal),
  Less: binary(less),
  LessOrEqual: binary(lessEqual),
  Greater: binary(greater),
  GreaterOrEqual: binary(greaterEqual),
  Not: unary(logicalNot),
  And: binary(logicalAnd),
  Or: binary(logicalOr),
  Xor: binary(logicalXor),
  Where: (n) => [where(n.t(0), n.t(1), n.t(2))],
  ArgMax: (n) => [argReduction(n, argmax)],
  ArgMin: (n) => [argReduction(n, argmin)],
  // Python's floor remainder (fmod 0, integers), or C's fmod (fmod 1): |a| mod |b| with a's sign
  Mod: (n) => {
    const a = n.t(0);
    const b = n.t(1);
    const fmod = n.attr("fmod", 0);
    if (fmod === 0) return [mod(a, b)];
    const r = mod(abs(a), abs(b));
    return [where(less(a, 0), neg(r), r)];
  },
  // floor(x), of a Div's rounded quotient too (ONNX's Floor(Div(1, 0.1)) is 10, where Python's
  // 1 // 0.1, gradgraph's floorDiv, is 9): floorDiv(x, 1), with ±∞ kept (∞ // 1 is NaN)
  Floor: (n) => {
    const x = n.args[0];
    if (x instanceof Ints) return [x];
    const t = n.t(0);
    return [where(equal(abs(t), Number.POSITIVE_INFINITY), t.detach(), floorDiv(t, 1))];
  },
  Pad: (n) => {
    let x = n.t(0);
    const pads = n.has(1) ? n.ints(1).values : n.attr<number[]>("pads", []);
    const mode = n.attr("mode", "constant");
    if (mode !== "constant") throw n.fail(`mode ${JSON.stringify(mode)} is not supported (constant only)`);
    if (n.has(2) && n.t(2).data.some((v) => v !== 0))
      throw n.fail("padding with a value other than 0 is not supported");
    const rank = x.rank;
    const axes = n.has(3) ? n.ints(3).values.map((a) => norm(a, rank)) : Array.from({ length: rank }, (_, i) => i);
    axes.forEach((axis, k) => {
      const before = pads[k]!;
      const after = pads[k + axes.length]!;
      if (before < 0 || after < 0) {
        x = slice(x, Math.max(-before, 0), x.shape[axis]! - Math.max(-after, 0), axis);
      }
      const b = Math.max(before, 0);
      const e = Math.max(after, 0);
      if (b > 0 || e > 0) {
        const len = x.shape[axis]!;
        x = padSliceOp([x], { axis, start: b, end: b + len, dim: b + len + e });
      }
    });
    return [x];
  },
  ScatterND: (n) => {
    const data = n.t(0);
    const idx = n.ints(1);
    const updates = n.t(2);
    const reduction = n.attr<string>("reduction", "none");
    if (reduction !== "add" && reduction !== "none") {
      throw n.fail(`reduction ${JSON.stringify(reduction)} is not supported (none or add)`);
    }
    const q = idx.shape[idx.shape.length - 1] ?? 0;
    if (idx.shape.length === 0 || q < 1 || q > data.rank) {
      throw n.fail(`indices of shape ${fmtShape(idx.shape)} do not index data of shape ${fmtShape(data.shape)}`);
    }
    const lead = data.shape.slice(0, q);
    const inner = data.shape.slice(q);
    const expected = [...idx.shape.slice(0, -1), ...inner];
    if (updates.rank !== expected.length || updates.shape.some((d, i) => d !== expected[i])) {
      throw n.fail(`updates of shape ${fmtShape(updates.shape)} must be ${fmtShape(expected)}`);
    }
    // each index tuple as a row of data seen as [rows, ...inner]
    const count = idx.values.length / q;
    const rows: number[] = [];
    for (let j = 0; j < count; j++) {
      let r = 0;
      for (let a = 0; a < q; a++) {
        const d = lead[a]!;
        const i = idx.values[j * q + a]!;
        if (i < -d || i >= d) throw n.fail(`index ${i} is out of range for axis ${a} of size ${d}`);
        r = r * d + (i < 0 ? i + d : i);
      }
      rows.push(r);
    }
    const R = lead.reduce((p, d) => p * d, 1);
    const scattered = reshape(
      scatterRowsOp([reshape(updates, [count, ...inner])], { indices: rows, drop: false, rows: R }),
      data.shape,
    );
    if (reduction === "add") return [add(data, scattered)];
    // none: the data, with zeros where the updates go in its place
    const keep = new Float64Array(R).fill(1);
    for (const r of rows) keep[r] = 0;
    const mask = tensor(keep, { shape: [...lead, ...inner.map(() => 1)], dtype: data.dtype });
    return [add(mul(data, mask), scattered)];
  },
  Constant: (n) => {
    const a = n.node.attribute[0];
    if (a === undefined) throw n.fail("it has no value");
    const v = attributeValue(a);
    switch (a.name) {
      case "value":
        return [tensorValue(n, v as TensorProto)];
      case "value_float":
        return [tensor([v as number], { shape: [], dtype: "float32" })];
      case "value_floats":
        return [tensor(v as number[], { dtype: "float32" })];
      case "value_int":
        return [new Ints([v as number], [])];
      case "value_ints":
        return [new Ints(v as number[], [(v as number[]).length])];
      default:
        throw n.fail(`attribute ${a.name} is not supported`);
    }
  },
  Shape: (n) => {
    const x = n.args[0]!;
    const rank = x.shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const dims = x.shape.slice(clamp(n.attr("start", 0)), clamp(n.attr("end", rank)));
    return [new Ints(dims, [dims.length])];
  },
};

/** The operators {@link fromOnnx} imports, sorted. */
export const IMPORTED_OPERATORS: readonly string[] = Object.keys(HANDLERS).sort();

const INT_TYPES = new Set<number>([
  TensorProto_DataType.INT64,
  TensorProto_DataType.INT32,
  TensorProto_DataType.INT16,
  TensorProto_DataType.INT8,
  TensorProto_DataType.UINT8,
  TensorProto_DataType.UINT16,
  TensorProto_DataType.BOOL,
]);

/**
 * One axis of an ONNX Slice with a step, as (first position, step, count): Python's
 * `slice.indices`, which is ONNX's clamping (negative bounds count from the end; starts and ends
 * are clamped to the axis, to `-1..dim-1` for a negative step).
 */
function sliceAxis(start: number, end: number, step: number, dim: number): [number, number, number] {
  const clamp = (v: number, lower: number, upper: number) => (v < 0 ? Math.max(v + dim, lower) : Math.min(v, upper));
  const first = step > 0 ? clamp(start, 0, dim) : clamp(start, -1, dim - 1);
  const stop = step > 0 ? clamp(end, 0, dim) : clamp(end, -1, dim - 1);
  const count =
    step > 0 ? Math.max(Math.ceil((stop - first) / step), 0) : Math.max(Math.ceil((first - stop) / -step), 0);
  return count === 0 ? [0, 1, 0] : [first, count === 1 ? 1 : step, count];
}

/** An int64 bound as a number within slice()'s range. */
function clamp64(v: number): number {
  return Math.max(Math.min(v, Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER);
}

function evenSplit(dim: number, pieces: number): number[] {
  const size = Math.ceil(dim / pieces);
  return Array.from({ length: pieces }, (_, i) => Math.max(Math.min(size, dim - i * size), 0));
}

/** ArgMax or ArgMin: the index (first extremum) along `axis`, as int32 (ONNX's INT64). */
function argReduction(n: NodeCtx, f: typeof argmax): Value {
  if (n.attr("select_last_index", 0) !== 0) throw n.fail("select_last_index 1 is not supported (the first index is)");
  return f(n.t(0), { axis: n.attr("axis", 0), keepdims: n.attr("keepdims", 1) !== 0 });
}

/** A tensor proto as a value: floats, INT32 and BOOL as a constant tensor, other integers as Ints. */
function tensorValue(n: NodeCtx | null, t: TensorProto): Value {
  const d = decodeTensor(t);
  const what = n === null ? `initializer ${JSON.stringify(t.name)}` : n.where;
  if (d === null) {
    throw new OnnxError(
      "fromOnnx",
      `fromOnnx: ${what}: tensors of ${dataTypeName(t.dataType)} (or stored outside the file) are not supported`,
    );
  }
  if (d.values instanceof Float32Array || d.values instanceof Float64Array) {
    return new Tensor<FloatDType>(d.values, d.shape);
  }
  if (d.dataType === TensorProto_DataType.INT32) return new Tensor<"int32">(Int32Array.from(d.values), d.shape);
  if (d.dataType === TensorProto_DataType.BOOL) {
    return new Tensor<"bool">(
      Uint8Array.from(d.values, (v) => (v !== 0 ? 1 : 0)),
      d.shape,
    );
  }
  return new Ints(d.values, d.shape);
}

/**
 * Loads an ONNX model (a serialized `ModelProto`, e.g. from {@link toOnnx} or PyTorch's exporter)
 * as a trainable gradgraph graph. Its float initializers become `params` (leaves that require
 * grad); `run` evaluates the nodes with gradgraph's ops, recording a graph that backward,
 * `gradcheck`, the nn optimizers and viz work on. Operators: those {@link toOnnx} writes and a few
 * more ({@link IMPORTED_OPERATORS}), of opset 13 or later.
 * @throws OnnxError for bytes that are not an ONNX model, an opset below 13, an operator it does
 *   not import (naming the operator and the node), or initializers of types it cannot hold.
 * @throws ArgumentError when `bytes` is not a Uint8Array.
 */
export function fromOnnx(bytes: Uint8Array): OnnxModel {
  return boundary("fromOnnx", () => load(bytes));
}

function load(bytes: Uint8Array): OnnxModel {
  const fn = "fromOnnx";
  if (!isBytes(bytes)) {
    throw new ArgumentError(
      fn,
      `${fn}: bytes must be a Uint8Array (an ONNX file's contents), got ${describeValue(bytes)}`,
    );
  }
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new OnnxError(fn, `${fn}: the bytes are not an ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const graph = model.graph;
  if (graph === undefined) throw new OnnxError(fn, `${fn}: the model has no graph`);
  const entry = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx");
  const opset = entry === undefined ? 0 : Number(entry.version);
  if (opset < MIN_OPSET) {
    throw new OnnxError(fn, `${fn}: the model's opset is ${opset}; gradgraph imports opset ${MIN_OPSET} and later`);
  }
  graph.node.forEach((node, i) => {
    const name = node.name ? JSON.stringify(node.name) : `#${i}`;
    if (node.domain !== "" && node.domain !== "ai.onnx") {
      throw new OnnxError(
        fn,
        `${fn}: operator ${node.domain}.${node.opType} (node ${name}) is not supported: gradgraph imports the default ONNX domain only`,
      );
    }
    if (!Object.hasOwn(HANDLERS, node.opType)) {
      throw new OnnxError(
        fn,
        `${fn}: operator ${node.opType} (node ${name}, #${i}) is not supported; gradgraph imports ${IMPORTED_OPERATORS.join(", ")}`,
      );
    }
  });

  const params: Record<string, Tensor> = {};
  const constants = new Map<string, Value>();
  for (const init of graph.initializer) {
    const v = tensorValue(null, init);
    // the float initializers are the weights; int32 and bool ones (and other integers) constants
    if (v instanceof Tensor && isFloatTensor(v)) {
      v.requiresGrad = true;
      params[init.name] = v;
    } else constants.set(init.name, v);
  }
  const initNames = new Set(graph.initializer.map((t) => t.name));
  const inputs: OnnxInputInfo[] = graph.input
    .filter((v) => !initNames.has(v.name))
    .map((v) => {
      const info = readValueInfo(v);
      if (info === null) throw new OnnxError(fn, `${fn}: input ${JSON.stringify(v.name)} is not a tensor`);
      // FLOAT, DOUBLE, INT32 and BOOL as gradgraph's dtypes; the other integers as numbers
      const own = elemTypeOf(info.elemType);
      const dtype = own !== null && own !== "int64" ? own : INT_TYPES.has(info.elemType) ? "int64" : null;
      if (dtype === null) {
        throw new OnnxError(
          fn,
          `${fn}: input ${JSON.stringify(v.name)} is of ${dataTypeName(info.elemType)}, which gradgraph cannot hold`,
        );
      }
      return { name: v.name, dtype, dims: info.dims };
    });
  const inputNames = inputs.map((i) => i.name);
  const outputNames = graph.output.map((o) => o.name);

  const run = (
    given: Readonly<Record<string, OnnxInput>>,
    options?: { readonly params?: Readonly<Record<string, Tensor>> },
  ): Record<string, AnyTensor> => boundary("run", () => runGraph(given, options));
  const runGraph = (givenArg: unknown, options: unknown): Record<string, AnyTensor> => {
    const f = "run";
    if (!isRecord(givenArg)) {
      throw new ArgumentError(
        f,
        `${f}: inputs must be an object of named inputs (${inputNames.join(", ")}), got ${describeValue(givenArg)}`,
      );
    }
    const given = Object.fromEntries(entries(f, "inputs", givenArg)) as Record<string, OnnxInput>;
    const env = new Map<string, Value>(constants);
    for (const [k, t] of Object.entries(params)) env.set(k, t);
    const override = readOptions<{ params: unknown }>(f, options, ["params"]).params;
    if (override !== undefined) {
      for (const [k, t] of entries(f, "options.params", override)) {
        const own = Object.hasOwn(params, k) ? params[k] : undefined;
        if (own === undefined) throw new OnnxError(f, `${f}: options.params.${k} is not a param of the model`);
        if (!isTensor(t) || t.shape.length !== own.shape.length || t.shape.some((d, i) => d !== own.shape[i])) {
          throw new OnnxError(
            f,
            `${f}: options.params.${k} must be a Tensor of shape ${fmtShape(own.shape)}, got ${describeValue(t)}`,
          );
        }
        env.set(k, t);
      }
    }
    for (const info of inputs) {
      if (!Object.hasOwn(given, info.name)) {
        throw new OnnxError(
          f,
          `${f}: input ${JSON.stringify(info.name)} is missing (the model's inputs: ${inputNames.join(", ")})`,
        );
      }
      env.set(info.name, inputValue(f, info, given[info.name]));
    }
    for (const k of Object.keys(given)) {
      if (!inputNames.includes(k))
        throw new OnnxError(
          f,
          `${f}: the model has no input ${JSON.stringify(k)} (its inputs: ${inputNames.join(", ")})`,
        );
    }
    graph.node.forEach((node, i) => {
      const args = node.input.map((name) => {
        if (name === "") return undefined;
        const v = env.get(name);
        if (v === undefined) {
          throw new OnnxError(
            f,
            `${f}: ${node.opType} node ${node.name ? JSON.stringify(node.name) : `#${i}`} reads ${JSON.stringify(name)}, which no earlier node, input or initializer gives`,
          );
        }
        return v;
      });
      const ctx = new NodeCtx(node, i, args, opset);
      let outs: (Value | undefined)[];
      try {
        outs = HANDLERS[node.opType]!(ctx);
      } catch (e) {
        if (e instanceof OnnxError) throw e;
        throw new OnnxError(f, `${f}: ${ctx.where} failed: ${(e as Error).message}`, { cause: e });
      }
      node.output.forEach((name, k) => {
        if (name !== "" && outs[k] !== undefined) env.set(name, outs[k]!);
      });
    });
    const result: Record<string, AnyTensor> = {};
    for (const name of outputNames) {
      const v = env.get(name);
      if (v === undefined) throw new OnnxError(f, `${f}: output ${JSON.stringify(name)} is computed by no node`);
      result[name] =
        v instanceof Ints ? tensor(Float64Array.from(v.values), { shape: [...v.shape], dtype: "float64" }) : v;
    }
    return result;
  };

  return {
    params,
    inputNames,
    outputNames,
    inputs,
    opset,
    run,
    toOnnx(sample, options = {}) {
      const f = "toOnnx";
      return boundary(f, () => {
        const given = new Map(entries(f, "sample", sample));
        const xs: Record<string, AnyTensor> = {};
        for (const info of inputs) {
          const v = inputValue(f, info, given.get(info.name) as OnnxInput | undefined);
          if (v instanceof Ints) {
            throw new OnnxError(
              f,
              `${f}: input ${info.name} holds ${info.dtype} integers, which gradgraph reads as numbers; only FLOAT, DOUBLE, INT32 and BOOL inputs can be exported`,
            );
          }
          // a float input requires grad, so that the ops on it are recorded; an int32 or bool one
          // is followed through the ops' origins
          xs[info.name] = new Tensor<DType>(v.data.slice(), v.shape, isFloatTensor(v)) as AnyTensor;
        }
        const outs = withDebugRecording(() => run(xs));
        const opts = readOptions<{ opset?: number; dynamicAxes?: DynamicAxes }>(f, options, ["opset", "dynamicAxes"]);
        return exportGraph(f, outs, { inputs: xs, params, ...opts });
      });
    },
  };
}

/** A run input as the model declares it: a tensor of its dtype (cast if need be), or integers. */
function inputValue(f: string, info: OnnxInputInfo, v: OnnxInput | undefined): Value {
  if (v === undefined) throw new OnnxError(f, `${f}: input ${JSON.stringify(info.name)} is missing`);
  let value: Value;
  if (info.dtype === "int64") {
    const values = isTensor(v)
      ? Array.from(v.data)
      : typeof v === "number"
        ? [v]
        : Array.from((v as ArrayLike<number>) ?? []);
    const shape = isTensor(v) ? v.shape : typeof v === "number" ? [] : [values.length];
    if (!values.every((x) => Number.isInteger(x))) {
      throw new OnnxError(f, `${f}: input ${JSON.stringify(info.name)} takes integers, got ${describeValue(v)}`);
    }
    value = new Ints(values, shape);
  } else {
    let t: AnyTensor;
    try {
      // numbers for an INT32 input are read as float64 first, so that a fraction is refused below
      t = isTensor(v) ? v : tensor(v as NestedArray, { dtype: info.dtype === "int32" ? "float64" : info.dtype });
    } catch (e) {
      throw new OnnxError(f, `${f}: input ${JSON.stringify(info.name)}: ${(e as Error).message}`, { cause: e });
    }
    if (info.dtype === "int32" && isFloatTensor(t) && !t.data.every((x) => x === (x | 0))) {
      throw new OnnxError(
        f,
        `${f}: input ${JSON.stringify(info.name)} is INT32 and takes int32 integers, got ${describeValue(v)}`,
      );
    }
    value = t.dtype === info.dtype ? t : cast(t, info.dtype);
  }
  const dims = info.dims;
  if (dims !== null) {
    const ok =
      dims.length === value.shape.length && dims.every((d, i) => typeof d !== "number" || d === value.shape[i]);
    if (!ok) {
      throw new OnnxError(
        f,
        `${f}: input ${JSON.stringify(info.name)} has shape ${fmtShape(value.shape)}, but the model declares [${dims.map((d) => d ?? "?").join(", ")}]`,
      );
    }
  }
  return value;
}

export type { Dim };
