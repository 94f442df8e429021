/**
 * The ONNX mappings of every op of `@gradgraph/nodes` (`clone`, core's op behind `Tensor.clone`,
 * included) and of the engine's own ops (`broadcastTo`, `sumTo`, `cast`), keyed by the op's
 * forward function (the one identity a recorded node shares with the op object:
 * `node.op.forward === ops.add.spec.forward`). Each returns its outputs' names with their dims,
 * symbolic where a dynamic axis flows through.
 */
import {
  type AnyTensor,
  broadcastTo,
  cast,
  type DType,
  type FloatDType,
  type OpCore,
  type Shape,
  sumTo,
  type Tensor,
  tensor,
} from "@gradgraph/core";
import { ops } from "@gradgraph/nodes";
import { type Dim, type ExportValue, fmtDims, type GraphBuilder } from "./builder.js";

/** What a mapping returns per output: its name and dims. */
export interface Emitted {
  readonly name: string;
  readonly dims: readonly Dim[];
}

/** What a built-in mapping can ask about the node's inputs beyond their values. */
export interface EmitContext {
  readonly b: GraphBuilder;
  readonly inputs: readonly ExportValue[];
  readonly outShapes: readonly Shape[];
  readonly dtype: FloatDType;
  /** The tensor of input `i` when it is a constant (not an input, a param or a node's output). */
  constantOf(i: number): AnyTensor | null;
  /** The node that produced input `i`, when its output is used only there. */
  soleProducer(
    i: number,
  ): { readonly op: OpCore; readonly attrs: unknown; readonly inputs: readonly ExportValue[] } | null;
}

/** A built-in mapping. */
export type Builtin = (ctx: EmitContext, attrs: never) => Emitted[];

/** Dims of a broadcast of `dims` values to `shape` (aligned at the end, numpy rules). */
export function broadcastDims(shape: readonly number[], ...all: (readonly Dim[])[]): Dim[] {
  const r = shape.length;
  return shape.map((size, i) => {
    for (const dims of all) {
      const d = dims[dims.length - (r - i)];
      if (typeof d === "string") return d;
    }
    return size;
  });
}

const one = (name: string, dims: readonly Dim[]): Emitted[] => [{ name, dims }];

function elementwise(opType: string): Builtin {
  return ({ b, inputs, outShapes }) =>
    one(
      b.op(
        opType,
        inputs.map((v) => v.name),
      ),
      broadcastDims(outShapes[0]!, ...inputs.map((v) => v.dims)),
    );
}

interface SumAttrs {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** Dims of a reduction's output. */
function reducedDims(x: ExportValue, { axes, keepdims }: SumAttrs): Dim[] {
  return keepdims ? x.dims.map((d, i) => (axes.includes(i) ? 1 : d)) : x.dims.filter((_, i) => !axes.includes(i));
}

function reduction(opType: string): Builtin {
  return ({ b, inputs: [x] }, attrs: SumAttrs) =>
    one(b.reduce(opType, x!.name, attrs.axes, attrs.keepdims), reducedDims(x!, attrs));
}

/** Reverses a permutation. */
function lastTwoSwapped(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  p[rank - 2] = rank - 1;
  p[rank - 1] = rank - 2;
  return p;
}

const count = (shape: readonly number[], axes: readonly number[]) => axes.reduce((n, a) => n * shape[a]!, 1);

/** `mul(sum(x, axes), 1/count)`, the way `mean` records, as one ReduceMean. */
function meanOf(ctx: EmitContext): Emitted[] | null {
  const s = ctx.soleProducer(0);
  const c = ctx.constantOf(1);
  if (s === null || c === null || s.op.forward !== ops.sum.spec.forward || c.size !== 1) return null;
  const attrs = s.attrs as SumAttrs;
  const x = s.inputs[0]!;
  const n = count(x.shape, attrs.axes);
  const expected = c.dtype === "float32" ? Math.fround(1 / n) : 1 / n;
  if (n === 0 || attrs.axes.length === 0 || c.data[0] !== expected || c.rank > ctx.outShapes[0]!.length) return null;
  return one(ctx.b.reduce("ReduceMean", x.name, attrs.axes, attrs.keepdims), reducedDims(x, attrs));
}

/** The class index of each row of `t` (rows along the last axis) when `t` is exactly one-hot, else null. */
function oneHotLabels(t: AnyTensor): number[] | null {
  const C = t.shape[t.rank - 1]!;
  if (C === 0) return null;
  const labels: number[] = [];
  for (let r = 0; r < t.size; r += C) {
    let hot = -1;
    for (let j = 0; j < C; j++) {
      const v = t.data[r + j]!;
      if (v === 1 && hot < 0) hot = j;
      else if (v !== 0) return null;
    }
    if (hot < 0) return null;
    labels.push(hot);
  }
  return labels.length > 0 ? labels : null;
}

/** Attributes of softmaxCrossEntropy after normalisation: undefined (the seed's loss) or every field. */
interface SceAttrs {
  readonly reduction: "mean" | "sum" | "none";
  readonly weights: readonly number[] | null;
  readonly labelSmoothing: number;
}

interface SceIndicesAttrs extends SceAttrs {
  readonly labels: readonly number[];
  readonly ignoreIndex: number | null;
}

function softmaxCrossEntropy(ctx: EmitContext, attrs: SceAttrs | undefined): Emitted[] {
  const { b, inputs } = ctx;
  const [s, t] = inputs as [ExportValue, ExportValue];
  const C = s.shape[s.shape.length - 1]!;
  if (attrs !== undefined) {
    // PyTorch's options for probability targets: −Σ w·((1 − ε)·t + ε/C)·logSoftmax(s) per row
    let targets = t.name;
    if (attrs.labelSmoothing !== 0) {
      const kept = b.op("Mul", [targets, b.scalar(1 - attrs.labelSmoothing, s.dtype)]);
      targets = b.op("Add", [kept, b.scalar(attrs.labelSmoothing / C, s.dtype)]);
    }
    if (attrs.weights !== null) targets = b.op("Mul", [targets, b.constant(attrs.weights, s.dtype, [C])]);
    return reducedRows(ctx, perRowLoss(ctx, s, targets), attrs.reduction, null);
  }
  const targets = ctx.constantOf(1);
  const labels = targets === null ? null : oneHotLabels(targets);
  if (labels !== null) {
    // constant one-hot targets: ONNX's own loss, over the rows [R, C] with class indices
    const rows = s.shape.length === 2 ? s.name : b.reshape(s, [labels.length, C], [rowsDim(s), C]);
    const loss = b.op("SoftmaxCrossEntropyLoss", [rows, b.constant(labels, "int64", [labels.length])], {
      reduction: "mean",
    });
    return one(loss, []);
  }
  // soft or runtime targets: −mean over the rows of Σ t·logSoftmax(s)
  const lp = b.op("LogSoftmax", [s.name], { axis: -1 });
  const perRow = b.reduce("ReduceSum", b.op("Mul", [t.name, lp]), [s.shape.length - 1], false);
  const rank = s.shape.length - 1;
  const mean =
    rank === 0
      ? perRow
      : b.reduce(
          "ReduceMean",
          perRow,
          Array.from({ length: rank }, (_, i) => i),
          false,
        );
  return one(b.op("Neg", [mean]), []);
}

/** `−Σ targets·logSoftmax(s)` along the class axis: one loss per row, of the scores' batch shape. */
function perRowLoss({ b }: EmitContext, s: ExportValue, targets: string): string {
  const lp = b.op("LogSoftmax", [s.name], { axis: -1 });
  return b.op("Neg", [b.reduce("ReduceSum", b.op("Mul", [targets, lp]), [s.shape.length - 1], false)]);
}

/**
 * Per-row losses reduced: as they are (`none`), summed, or summed and divided by `denominator`
 * (null: the mean over the rows).
 */
function reducedRows(
  { b, inputs }: EmitContext,
  perRow: string,
  reduction: SceAttrs["reduction"],
  denominator: number | null,
): Emitted[] {
  const s = inputs[0]!;
  const batch = s.dims.slice(0, -1);
  if (reduction === "none") return one(perRow, batch);
  const axes = batch.map((_, i) => i);
  if (reduction === "sum") return one(b.reduce("ReduceSum", perRow, axes, false), []);
  if (denominator === null) return one(b.reduce("ReduceMean", perRow, axes, false), []);
  return one(b.op("Div", [b.reduce("ReduceSum", perRow, axes, false), b.scalar(denominator, s.dtype)]), []);
}

/**
 * softmaxCrossEntropy against class indices with PyTorch's options: ONNX's SoftmaxCrossEntropyLoss
 * (weights, ignore_index and reduction are its own) over the rows [R, C]; with label smoothing,
 * which ONNX's loss lacks, the loss of the constant targets the indices and options make, reduced.
 */
function softmaxCrossEntropyIndices(ctx: EmitContext, attrs: SceIndicesAttrs): Emitted[] {
  const { b, inputs } = ctx;
  const s = inputs[0]!;
  const C = s.shape[s.shape.length - 1]!;
  const { labels, weights, ignoreIndex, reduction } = attrs;
  const R = labels.length;
  const batch = s.dims.slice(0, -1);
  if (attrs.labelSmoothing === 0 && R > 0 && C > 0) {
    const rows = s.shape.length === 2 ? s.name : b.reshape(s, [R, C], [rowsDim(s), C]);
    const args = [rows, b.constant(labels, "int64", [R])];
    if (weights !== null) args.push(b.constant(weights, s.dtype, [C]));
    const loss = b.op("SoftmaxCrossEntropyLoss", args, {
      reduction,
      ...(ignoreIndex === null ? {} : { ignore_index: ignoreIndex }),
    });
    if (reduction !== "none") return one(loss, []);
    if (s.shape.length === 2) return one(loss, batch);
    const flat: ExportValue = { name: loss, shape: [R], dims: [rowsDim(s)], dtype: s.dtype };
    return one(b.reshape(flat, s.shape.slice(0, -1), batch), batch);
  }
  // the targets A: row n holds (1 − ε)·w_y at its label y plus ε/C·w_c at every class (zeros when ignored)
  const keep = 1 - attrs.labelSmoothing;
  const spread = C > 0 ? attrs.labelSmoothing / C : 0;
  const A = new Array<number>(R * C).fill(0);
  labels.forEach((y, r) => {
    if (y === ignoreIndex) return;
    for (let c = 0; c < C; c++) A[r * C + c] = spread * (weights === null ? 1 : weights[c]!);
    A[r * C + y] = A[r * C + y]! + keep * (weights === null ? 1 : weights[y]!);
  });
  // the mean's denominator: the weights of the rows' labels, ignored rows left out
  let denominator = 0;
  for (const y of labels) if (y !== ignoreIndex) denominator += weights === null ? 1 : weights[y]!;
  const perRow = perRowLoss(ctx, s, b.constant(A, s.dtype, s.shape));
  return reducedRows(ctx, perRow, reduction, denominator);
}

/** The dim of the rows of scores [..., C] flattened to [R, C]: symbolic when a leading axis is. */
function rowsDim(s: ExportValue): Dim {
  return mergedDim(s.dims.slice(0, -1));
}

/**
 * The dim of several dims merged into one: their product, or when some are symbolic a new symbol
 * naming the product (`batch*3`), so that it is never taken for one of them.
 */
export function mergedDim(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === "string") syms.push(d);
    else n *= d;
  }
  if (syms.length === 0) return n;
  return n === 1 ? syms.join("*") : `${syms.join("*")}*${n}`;
}

interface RepeatAttrs {
  readonly n: number;
  readonly axis: number | null;
}

function repeat({ b, inputs: [x], outShapes }: EmitContext, { n, axis }: RepeatAttrs): Emitted[] {
  const v = x!;
  if (n === 0) {
    // nothing repeated: an empty result (a slice keeps the other axes, dynamic ones too)
    if (axis === null || v.dims.every((d) => typeof d === "number"))
      return one(b.constant([], v.dtype, outShapes[0]!), outShapes[0]!);
    return one(
      b.op("Slice", [v.name, b.ints([0]), b.ints([0]), b.ints([axis])]),
      v.dims.map((d, i) => (i === axis ? 0 : d)),
    );
  }
  if (axis === null) {
    const size = v.shape.reduce((a, c) => a * c, 1);
    const sym = v.dims.find((d) => typeof d === "string");
    if (sym !== undefined && v.dims.length > 1) throw b.dynamicError(`a flattening repeat of ${fmtDims(v.dims)}`);
    const colDims: Dim[] = [sym ?? size, 1];
    const col = b.reshape(v, [size, 1], colDims);
    const wide = b.op("Expand", [col, b.ints([1, n])]);
    const flatDims: Dim[] = [sym ?? size * n];
    if (sym !== undefined && n !== 1) throw b.dynamicError(`a repeat along the dynamic axis ${sym}`);
    return one(
      b.reshape({ name: wide, shape: [size, n], dims: [colDims[0]!, n], dtype: v.dtype }, [size * n], flatDims),
      flatDims,
    );
  }
  const d = v.dims[axis]!;
  if (typeof d === "string" && n !== 1) throw b.dynamicError(`a repeat along the dynamic axis ${d}`);
  const un = b.op("Unsqueeze", [v.name, b.ints([axis + 1])]);
  const expandShape = v.shape.map(() => 1);
  expandShape.splice(axis + 1, 0, n);
  const wide = b.op("Expand", [un, b.ints(expandShape)]);
  const wideDims = [...v.dims];
  wideDims.splice(axis + 1, 0, n);
  const wideShape = [...v.shape];
  wideShape.splice(axis + 1, 0, n);
  const outDims = v.dims.map((x, i) => (i === axis ? (x as number) * n : x));
  return one(
    b.reshape({ name: wide, shape: wideShape, dims: wideDims, dtype: v.dtype }, outShapes[0]!, outDims),
    outDims,
  );
}

function reshape({ b, inputs: [x], outShapes }: EmitContext): Emitted[] {
  const dims = reshapeDims(x!, outShapes[0]!, (sym) => b.symbolSize(sym));
  if (dims === null) throw b.dynamicError(`a reshape of ${fmtDims(x!.dims)} to [${outShapes[0]!.join(", ")}]`);
  return one(b.reshape(x!, outShapes[0]!, dims), dims);
}

/**
 * Which dims of a reshape's result are symbolic: those of a common prefix and suffix of equal sizes
 * keep the input's; the symbolic axes of the rest (`batch`, or merged ones such as `batch*3`) go,
 * merged, to the first dim of the rest that their recorded sizes divide (batch-first). Null when
 * none does.
 */
export function reshapeDims(
  x: ExportValue,
  shape: readonly number[],
  sizeOf: (symbol: string) => number,
): Dim[] | null {
  const out: Dim[] = [...shape];
  if (!x.dims.some((d) => typeof d === "string")) return out;
  const s = x.shape;
  let p = 0;
  while (p < s.length && p < shape.length && s[p] === shape[p]) {
    out[p] = x.dims[p]!;
    p++;
  }
  let q = 0;
  while (q < s.length - p && q < shape.length - p && s[s.length - 1 - q] === shape[shape.length - 1 - q]) {
    out[shape.length - 1 - q] = x.dims[s.length - 1 - q]!;
    q++;
  }
  const symbols = x.dims
    .slice(p, s.length - q)
    .flatMap((d) => (typeof d === "string" ? d.split("*").filter((part) => !/^\d+$/.test(part)) : []));
  if (symbols.length > 0) {
    const size = symbols.reduce((a, sym) => a * sizeOf(sym), 1);
    const rest = shape.slice(p, shape.length - q);
    const at = rest.findIndex((d) => size > 0 && d % size === 0);
    if (at < 0) return null;
    out[p + at] = mergedDim([...symbols, rest[at]! / size]);
  }
  return out;
}

interface MatmulAttrs {
  readonly transA: boolean;
  readonly transB: boolean;
}

function matmul({ b, inputs: [a, w], outShapes }: EmitContext, attrs: MatmulAttrs | undefined): Emitted[] {
  const { transA, transB } = attrs ?? { transA: false, transB: false };
  const ra = a!.shape.length;
  const rb = w!.shape.length;
  const shape = outShapes[0]!;
  const batch = broadcastDims(shape.slice(0, -2), a!.dims.slice(0, -2), w!.dims.slice(0, -2));
  const dims: Dim[] = [...batch, a!.dims[transA ? ra - 1 : ra - 2]!, w!.dims[transB ? rb - 2 : rb - 1]!];
  const K = a!.shape[transA ? ra - 2 : ra - 1]!;
  if ((K === 0 || shape.includes(0)) && dims.every((d) => typeof d === "number")) {
    // a product over nothing, or an empty one: zeros of the output's shape (ONNX Runtime 1.30's
    // MatMul gets the batch shape of empty broadcast products wrong)
    return one(b.op("Expand", [b.scalar(0, a!.dtype), b.ints(shape)]), dims);
  }
  if (ra === 2 && rb === 2 && (transA || transB)) {
    return one(b.op("Gemm", [a!.name, w!.name], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }), dims);
  }
  const left = transA ? b.op("Transpose", [a!.name], { perm: lastTwoSwapped(ra) }) : a!.name;
  const right = transB ? b.op("Transpose", [w!.name], { perm: lastTwoSwapped(rb) }) : w!.name;
  return one(b.op("MatMul", [left, right]), dims);
}

interface GetItemAttrs {
  readonly indices: ArrayLike<number>;
  readonly drop: boolean;
}

function getItem({ b, inputs: [x] }: EmitContext, { indices, drop }: GetItemAttrs): Emitted[] {
  const idx = Array.from(indices);
  const ind = drop ? b.constant(idx, "int64", []) : b.constant(idx, "int64", [idx.length]);
  const rest = x!.dims.slice(1);
  return one(b.op("Gather", [x!.name, ind], { axis: 0 }), drop ? rest : [idx.length, ...rest]);
}

interface ScatterRowsAttrs extends GetItemAttrs {
  readonly rows: number;
}

function scatterRows(
  { b, inputs: [g], dtype, outShapes }: EmitContext,
  { indices, drop, rows }: ScatterRowsAttrs,
): Emitted[] {
  const shape = outShapes[0]!;
  const rest = shape.slice(1);
  const restDims = drop ? g!.dims : g!.dims.slice(1);
  if (restDims.some((d) => typeof d === "string")) throw b.dynamicError("a scatter of rows with dynamic row sizes");
  const idx = Array.from(indices, (i) => (i < 0 ? i + rows : i));
  const k = idx.length;
  const inner = rest.reduce((a, c) => a * c, 1);
  const dims: Dim[] = [rows, ...rest];
  if (b.opset >= 16) {
    const zeros = b.op("Expand", [b.scalar(0, dtype), b.ints(shape)]);
    const updates = drop ? b.op("Unsqueeze", [g!.name, b.ints([0])]) : g!.name;
    const where = b.constant(idx, "int64", [k, 1]);
    return one(b.op("ScatterND", [zeros, where, updates], { reduction: "add" }), dims);
  }
  // before opset 16 (no ScatterND reduction): a one-hot [rows, k] matrix times the rows [k, inner]
  const m = new Array<number>(rows * k).fill(0);
  for (let j = 0; j < k; j++) m[idx[j]! * k + j] = 1;
  const rowsOf = b.reshape(g!, [k, inner], [k, inner]);
  const product = b.op("MatMul", [b.constant(m, dtype, [rows, k]), rowsOf]);
  return one(b.reshape({ name: product, shape: [rows, inner], dims: [rows, inner], dtype }, shape, dims), dims);
}

interface SliceAttrs {
  readonly axis: number;
  readonly start: number;
  readonly end: number;
}

const INT64_MAX = Number.MAX_SAFE_INTEGER;

function slice({ b, inputs: [x] }: EmitContext, attrs: SliceAttrs): Emitted[] {
  const rank = x!.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  const d = x!.dims[axis]!;
  const whole = attrs.start === 0 && attrs.end === x!.shape[axis];
  if (typeof d === "string" && !whole) throw b.dynamicError(`a slice of the dynamic axis ${d}`);
  const dims = x!.dims.map((v, i) => (i === axis ? (typeof d === "string" ? d : attrs.end - attrs.start) : v));
  const end = typeof d === "string" ? INT64_MAX : attrs.end;
  return one(b.op("Slice", [x!.name, b.ints([attrs.start]), b.ints([end]), b.ints([axis])]), dims);
}

interface StridedSliceAttrs {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
  readonly sizes: readonly number[];
}

/** stridedSlice: one Slice over the axes not taken whole (steps where any is not 1), else an Identity. */
function stridedSlice({ b, inputs: [x] }: EmitContext, { starts, steps, sizes }: StridedSliceAttrs): Emitted[] {
  const v = x!;
  const axes: number[] = [];
  const st: number[] = [];
  const en: number[] = [];
  const sp: number[] = [];
  for (let a = 0; a < v.shape.length; a++) {
    const d = v.shape[a]!;
    const n = sizes[a]!;
    const start = starts[a]!;
    const step = n <= 1 ? 1 : steps[a]!;
    if (start === 0 && step === 1 && n === d) continue;
    if (typeof v.dims[a] === "string") throw b.dynamicError(`a slice of the dynamic axis ${v.dims[a]}`);
    // one past the last position; before position 0 (a negative step's end) is any bound below -dim
    const end = n === 0 ? start : start + n * step;
    axes.push(a);
    st.push(start);
    en.push(step > 0 ? Math.min(end, d) : end < 0 ? -INT64_MAX : end);
    sp.push(step);
  }
  const dims = v.dims.map((d, a) => (axes.includes(a) ? sizes[a]! : d));
  if (axes.length === 0) return one(b.op("Identity", [v.name]), dims);
  const args = [v.name, b.ints(st), b.ints(en), b.ints(axes)];
  if (sp.some((step) => step !== 1)) args.push(b.ints(sp));
  return one(b.op("Slice", args), dims);
}

interface PadStridedAttrs {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
  readonly shape: readonly number[];
}

/**
 * padStrided: a Pad where the positions are contiguous (every step 1 where more than one is
 * taken), else a ScatterND of every element into zeros (an Expand of 0), its coordinates a
 * constant.
 */
function padStrided({ b, inputs: [g], dtype }: EmitContext, { starts, steps, shape }: PadStridedAttrs): Emitted[] {
  const v = g!;
  if (v.dims.some((d) => typeof d === "string")) throw b.dynamicError(`a strided placement of ${fmtDims(v.dims)}`);
  const rank = shape.length;
  const dims = [...shape];
  const size = v.shape.reduce((a, c) => a * c, 1);
  if (rank === 0) return one(b.op("Identity", [v.name]), dims);
  if (size === 0) return one(b.op("Expand", [b.scalar(0, dtype), b.ints(shape)]), dims);
  if (v.shape.every((n, a) => n <= 1 || steps[a] === 1)) {
    const pads = [...starts, ...shape.map((d, a) => d - starts[a]! - v.shape[a]!)];
    if (pads.every((p) => p === 0)) return one(b.op("Identity", [v.name]), dims);
    return one(b.op("Pad", [v.name, b.ints(pads), b.scalar(0, dtype)], { mode: "constant" }), dims);
  }
  const coords = new Array<number>(size * rank);
  const at = new Array<number>(rank).fill(0);
  for (let e = 0; e < size; e++) {
    for (let a = 0; a < rank; a++) coords[e * rank + a] = starts[a]! + at[a]! * steps[a]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++at[a]! < v.shape[a]!) break;
      at[a] = 0;
    }
  }
  const zeros = b.op("Expand", [b.scalar(0, dtype), b.ints(shape)]);
  return one(b.op("ScatterND", [zeros, b.constant(coords, "int64", [...v.shape, rank]), v.name]), dims);
}

interface GatherAttrs {
  readonly indices: ArrayLike<number>;
  readonly indexShape: readonly number[];
  readonly axis: number;
}

function gather({ b, inputs: [x] }: EmitContext, { indices, indexShape, axis }: GatherAttrs): Emitted[] {
  const v = x!;
  const idx = Array.from(indices);
  const d = v.dims[axis]!;
  // a negative index counts from the end of the axis as it is when the model runs
  if (typeof d === "string" && idx.some((i) => i < 0))
    throw b.dynamicError(`negative indices into the dynamic axis ${d}`);
  const ind = b.constant(idx, "int64", indexShape);
  const dims = [...v.dims.slice(0, axis), ...indexShape, ...v.dims.slice(axis + 1)];
  return one(b.op("Gather", [v.name, ind], { axis }), dims);
}

interface ScatterAddAttrs extends GatherAttrs {
  readonly dim: number;
}

/**
 * scatterAdd, with `g` seen as [outer, K, inner] (K the indices): from opset 16 a ScatterND with
 * reduction add along the first axis of zeros [dim, outer, inner] (the outer axis moved behind
 * the scattered one and back); before 16, a one-hot [dim, K] matrix times `g`.
 */
function scatterAdd(
  { b, inputs: [g], dtype, outShapes }: EmitContext,
  { indices, indexShape, axis, dim }: ScatterAddAttrs,
): Emitted[] {
  const v = g!;
  const shape = outShapes[0]!;
  if (v.dims.some((d) => typeof d === "string")) throw b.dynamicError(`a scatter of ${fmtDims(v.dims)}`);
  const prod = (list: readonly number[]) => list.reduce((a, c) => a * c, 1);
  const O = prod(shape.slice(0, axis));
  const I = prod(shape.slice(axis + 1));
  const K = prod(indexShape);
  const idx = Array.from(indices, (i) => (i < 0 ? i + dim : i));
  if (O * K * I === 0 || prod(shape) === 0) return one(b.op("Expand", [b.scalar(0, dtype), b.ints(shape)]), shape);
  const value = (name: string, s: readonly number[]) => ({ name, shape: s, dims: s, dtype: v.dtype });
  const packed = O === 1 ? [K, I] : [O, K, I];
  const rows = b.reshape(v, packed, packed);
  let result: string;
  let resultShape: number[];
  if (b.opset >= 16) {
    const updates = O === 1 ? rows : b.op("Transpose", [rows], { perm: [1, 0, 2] });
    const dataShape = O === 1 ? [dim, I] : [dim, O, I];
    const zeros = b.op("Expand", [b.scalar(0, dtype), b.ints(dataShape)]);
    result = b.op("ScatterND", [zeros, b.constant(idx, "int64", [K, 1]), updates], { reduction: "add" });
    if (O !== 1) result = b.op("Transpose", [result], { perm: [1, 0, 2] });
    resultShape = O === 1 ? [dim, I] : [O, dim, I];
  } else {
    const m = new Array<number>(dim * K).fill(0);
    for (let j = 0; j < K; j++) m[idx[j]! * K + j] = 1;
    result = b.op("MatMul", [b.constant(m, dtype, [dim, K]), rows]);
    resultShape = O === 1 ? [dim, I] : [O, dim, I];
  }
  return one(b.reshape(value(result, resultShape), shape, shape), shape);
}

interface PadSliceAttrs extends SliceAttrs {
  readonly dim: number;
}

function padSlice({ b, inputs: [g], dtype }: EmitContext, attrs: PadSliceAttrs): Emitted[] {
  const rank = g!.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  if (typeof g!.dims[axis] === "string") throw b.dynamicError(`a padding of the dynamic axis ${g!.dims[axis]}`);
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = attrs.start;
  pads[rank + axis] = attrs.dim - attrs.end;
  const dims = g!.dims.map((v, i) => (i === axis ? attrs.dim : v));
  return one(b.op("Pad", [g!.name, b.ints(pads), b.scalar(0, dtype)], { mode: "constant" }), dims);
}

function concat({ b, inputs, outShapes }: EmitContext, { axis }: { axis: number }): Emitted[] {
  const rank = outShapes[0]!.length;
  const ax = axis < 0 ? axis + rank : axis;
  const along = inputs.map((v) => v.dims[ax]!);
  const sym = along.find((d) => typeof d === "string");
  if (sym !== undefined && inputs.length > 1) throw b.dynamicError(`a concatenation along the dynamic axis ${sym}`);
  const dims = inputs[0]!.dims.map((d, i) => (i === ax ? (sym ?? outShapes[0]![i]!) : d));
  return one(
    b.op(
      "Concat",
      inputs.map((v) => v.name),
      { axis: ax },
    ),
    dims,
  );
}

function split(
  { b, inputs: [x] }: EmitContext,
  { axis, sizes }: { axis: number; sizes: readonly number[] },
): Emitted[] {
  const rank = x!.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const d = x!.dims[ax]!;
  if (typeof d === "string" && sizes.length > 1) throw b.dynamicError(`a split of the dynamic axis ${d}`);
  const names = b.node("Split", [x!.name, b.ints(sizes)], { axis: ax }, sizes.length);
  return names.map((name, k) => ({
    name,
    dims: x!.dims.map((v, i) => (i === ax ? (typeof d === "string" ? d : sizes[k]!) : v)),
  }));
}

interface ShapeAttrs {
  readonly shape: Shape;
  readonly from: Shape;
}

function broadcast({ b, inputs: [x] }: EmitContext, { shape }: ShapeAttrs): Emitted[] {
  const r = shape.length;
  const xr = x!.shape.length;
  // where x already has the size, 1 lets it through (so a dynamic axis of x stays dynamic)
  const target = shape.map((d, i) => {
    const j = i - (r - xr);
    return j >= 0 && x!.shape[j] === d ? 1 : d;
  });
  const dims = shape.map((d, i) => {
    const j = i - (r - xr);
    return j >= 0 && x!.shape[j] === d ? x!.dims[j]! : d;
  });
  return one(b.op("Expand", [x!.name, b.ints(target)]), dims);
}

function sumToMapping({ b, inputs: [x] }: EmitContext, { shape }: ShapeAttrs): Emitted[] {
  const from = x!.shape;
  const lead = from.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (shape[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  const kept = b.reduce("ReduceSum", x!.name, axes, true);
  const keptDims = x!.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const dims = keptDims.slice(lead);
  if (lead === 0) return one(kept, dims);
  return one(
    b.reshape(
      { name: kept, shape: from.map((d, i) => (axes.includes(i) ? 1 : d)), dims: keptDims, dtype: x!.dtype },
      shape,
      dims,
    ),
    dims,
  );
}

/** `x / √2`, `√(2/π)` and GELU's cubic coefficient. */
const SQRT1_2 = Math.SQRT1_2;
const GELU_C = 0.7978845608028654;
const GELU_K = 0.044715;

/** Φ(x) = (1 + Erf(x/√2)) / 2 as ONNX nodes. */
function phi(b: GraphBuilder, x: string, dtype: DType): string {
  const erf = b.op("Erf", [b.op("Mul", [x, b.scalar(SQRT1_2, dtype)])]);
  return b.op("Mul", [b.op("Add", [erf, b.scalar(1, dtype)]), b.scalar(0.5, dtype)]);
}

/**
 * softplus(x, β) = (max(βx, 0) + log(1 + e^(−|βx|)))/β, from operators every runtime has for both
 * float types (ONNX Runtime's CPU provider has Softplus for float32 only). ONNX has no threshold:
 * beyond it gradgraph returns x itself, which differs by at most e^(−threshold)/β (2e-9 at the
 * default).
 */
function softplus({ b, inputs: [x] }: EmitContext, { beta }: { beta: number }): Emitted[] {
  const dt = x!.dtype;
  const bx = beta === 1 ? x!.name : b.op("Mul", [x!.name, b.scalar(beta, dt)]);
  const tail = b.op("Log", [b.op("Add", [b.op("Exp", [b.op("Neg", [b.op("Abs", [bx])])]), b.scalar(1, dt)])]);
  const y = b.op("Add", [b.op("Relu", [bx]), tail]);
  return one(beta === 1 ? y : b.op("Div", [y, b.scalar(beta, dt)]), x!.dims);
}

/**
 * elu(x, α) = Relu(x) + α·(e^(min(x, 0)) − 1): ONNX's Elu takes α as a float32 attribute and
 * ONNX Runtime's CPU provider has it for float32 only; this keeps α in the tensor's dtype.
 */
function elu({ b, inputs: [x] }: EmitContext, { alpha }: { alpha: number }): Emitted[] {
  const dt = x!.dtype;
  const neg = b.op("Sub", [b.op("Exp", [b.op("Min", [x!.name, b.scalar(0, dt)])]), b.scalar(1, dt)]);
  return one(b.op("Add", [b.op("Relu", [x!.name]), b.op("Mul", [neg, b.scalar(alpha, dt)])]), x!.dims);
}

/** leakyRelu(x, s) = Relu(x) + s·min(x, 0), with s in the tensor's dtype (LeakyRelu's alpha is float32). */
function leakyRelu({ b, inputs: [x] }: EmitContext, { negativeSlope }: { negativeSlope: number }): Emitted[] {
  const dt = x!.dtype;
  const low = b.op("Mul", [b.op("Min", [x!.name, b.scalar(0, dt)]), b.scalar(negativeSlope, dt)]);
  return one(b.op("Add", [b.op("Relu", [x!.name]), low]), x!.dims);
}

/** gelu: opset 20's Gelu, or before it x·Φ(x) (Erf) or its tanh form. */
function gelu({ b, inputs: [x] }: EmitContext, { approximate }: { approximate: "none" | "tanh" }): Emitted[] {
  const v = x!.name;
  const dt = x!.dtype;
  if (b.opset >= 20) return one(b.op("Gelu", [v], { approximate }), x!.dims);
  if (approximate === "none") return one(b.op("Mul", [v, phi(b, v, dt)]), x!.dims);
  const cube = b.op("Mul", [b.op("Mul", [v, v]), v]);
  const inner = b.op("Mul", [b.op("Add", [v, b.op("Mul", [cube, b.scalar(GELU_K, dt)])]), b.scalar(GELU_C, dt)]);
  const half = b.op("Mul", [v, b.scalar(0.5, dt)]);
  return one(b.op("Mul", [half, b.op("Add", [b.op("Tanh", [inner]), b.scalar(1, dt)])]), x!.dims);
}

/** clamp: Clip with the bounds as 0-d inputs ("" for a missing one). */
function clip({ b, inputs: [x] }: EmitContext, { min, max }: { min: number | null; max: number | null }): Emitted[] {
  const lo = min === null ? "" : b.scalar(min, x!.dtype);
  const hi = max === null ? "" : b.scalar(max, x!.dtype);
  return one(b.op("Clip", hi === "" ? [x!.name, lo] : [x!.name, lo, hi]), x!.dims);
}

/** variance: Σ(x − ReduceMean(x))² / max(0, N − correction), as gradgraph's (and PyTorch's). */
function variance(
  { b, inputs: [x] }: EmitContext,
  attrs: { axes: readonly number[]; keepdims: boolean; correction: number },
): Emitted[] {
  const v = x!.name;
  const centered = b.op("Sub", [v, b.reduce("ReduceMean", v, attrs.axes, true)]);
  const squares = b.reduce("ReduceSum", b.op("Mul", [centered, centered]), attrs.axes, attrs.keepdims);
  const n = count(x!.shape, attrs.axes);
  return one(b.op("Div", [squares, b.scalar(Math.max(0, n - attrs.correction), x!.dtype)]), reducedDims(x!, attrs));
}

/** outer(a, b) = Unsqueeze(a, 1) · Unsqueeze(b, 0). */
function outer({ b, inputs: [a, c] }: EmitContext): Emitted[] {
  const col = b.op("Unsqueeze", [a!.name, b.ints([1])]);
  const row = b.op("Unsqueeze", [c!.name, b.ints([0])]);
  return one(b.op("Mul", [col, row]), [a!.dims[0]!, c!.dims[0]!]);
}

/**
 * The derivative ops relu, sigmoid and tanh record under `createGraph` (a gradient graph exports
 * too): `sigmoidGrad(gy, y) = gy·y·(1 − y)`, `tanhGrad(gy, y) = gy·(1 − y²)`,
 * `reluGrad(gy, x) = gy` where `x > 0`, else 0.
 */
function derivative(kind: "sigmoid" | "tanh" | "relu"): Builtin {
  return ({ b, inputs: [gy, v] }) => {
    const dt = v!.dtype;
    const g = gy!.name;
    const y = v!.name;
    if (kind === "relu") {
      const zero = b.scalar(0, dt);
      return one(b.op("Where", [b.op("Greater", [y, zero]), g, zero]), v!.dims);
    }
    const factor =
      kind === "sigmoid"
        ? b.op("Mul", [y, b.op("Sub", [b.scalar(1, dt), y])])
        : b.op("Sub", [b.scalar(1, dt), b.op("Mul", [y, y])]);
    return one(b.op("Mul", [g, factor]), v!.dims);
  };
}

/** Identity of the engine's own ops, taken from recording each once. */
function engineOp(record: () => Tensor): OpCore["forward"] {
  const t = record();
  return t.creator!.op.forward;
}

let table: Map<OpCore["forward"], Builtin> | null = null;

/** The built-in mappings, by forward function. */
export function builtins(): Map<OpCore["forward"], Builtin> {
  if (table !== null) return table;
  const leaf = () => tensor([1, 2], { requiresGrad: true });
  const entries: [{ spec: { forward: unknown } } | OpCore["forward"], Builtin][] = [
    [ops.add, elementwise("Add")],
    [ops.sub, elementwise("Sub")],
    [ops.div, elementwise("Div")],
    [ops.pow, elementwise("Pow")],
    [ops.maximum, elementwise("Max")],
    [ops.minimum, elementwise("Min")],
    [ops.mul, (ctx) => meanOf(ctx) ?? elementwise("Mul")(ctx, undefined as never)],
    [ops.neg, elementwise("Neg")],
    [ops.exp, elementwise("Exp")],
    [ops.log, elementwise("Log")],
    [ops.sqrt, elementwise("Sqrt")],
    [ops.abs, elementwise("Abs")],
    [ops.sigmoid, elementwise("Sigmoid")],
    [ops.tanh, elementwise("Tanh")],
    [ops.relu, elementwise("Relu")],
    [ops.sigmoidGrad, derivative("sigmoid")],
    [ops.tanhGrad, derivative("tanh")],
    [ops.reluGrad, derivative("relu")],
    [ops.square, ({ b, inputs: [x] }) => one(b.op("Mul", [x!.name, x!.name]), x!.dims)],
    [ops.sin, elementwise("Sin")],
    [ops.cos, elementwise("Cos")],
    [ops.softplus, softplus],
    [ops.elu, elu],
    [ops.leakyRelu, leakyRelu],
    [ops.normalCdf, ({ b, inputs: [x] }) => one(phi(b, x!.name, x!.dtype), x!.dims)],
    [ops.gelu, gelu],
    [ops.clamp, clip],
    [
      ops.cumsum,
      ({ b, inputs: [x] }, { axis, reverse }: { axis: number; reverse: boolean }) =>
        one(b.op("CumSum", [x!.name, b.constant([axis], "int64", [])], { reverse: reverse ? 1 : 0 }), x!.dims),
    ],
    [ops.variance, variance],
    [ops.outer, outer],
    [
      ops.powScalar,
      ({ b, inputs: [x] }, { p }: { p: number }) => one(b.op("Pow", [x!.name, b.scalar(p, x!.dtype)]), x!.dims),
    ],
    [ops.sum, reduction("ReduceSum")],
    [ops.max, reduction("ReduceMax")],
    [ops.logSumExp, reduction("ReduceLogSumExp")],
    [
      ops.softmax,
      ({ b, inputs: [x] }, { axis }: { axis: number }) => one(b.op("Softmax", [x!.name], { axis }), x!.dims),
    ],
    [
      ops.logSoftmax,
      ({ b, inputs: [x] }, { axis }: { axis: number }) => one(b.op("LogSoftmax", [x!.name], { axis }), x!.dims),
    ],
    [ops.softmaxCrossEntropy, softmaxCrossEntropy],
    [ops.softmaxCrossEntropyIndices, softmaxCrossEntropyIndices],
    [ops.matmul, matmul],
    [
      ops.affine,
      ({ b, inputs: [x, W, bias] }) => one(b.op("Gemm", [x!.name, W!.name, bias!.name]), [x!.dims[0]!, W!.dims[1]!]),
    ],
    [ops.reshape, reshape],
    [
      ops.transpose,
      ({ b, inputs: [x] }, { axes }: { axes: readonly number[] }) => {
        const perm = axes.map((a) => (a < 0 ? a + x!.shape.length : a));
        return one(
          b.op("Transpose", [x!.name], { perm }),
          perm.map((a) => x!.dims[a]!),
        );
      },
    ],
    [ops.getItem, getItem],
    [ops.scatterRows, scatterRows],
    [ops.slice, slice],
    [ops.padSlice, padSlice],
    [ops.stridedSlice, stridedSlice],
    [ops.padStrided, padStrided],
    [ops.gather, gather],
    [ops.scatterAdd, scatterAdd],
    [ops.concat, concat],
    [ops.split, split],
    [
      ops.branch,
      ({ b, inputs: [x] }, { n }: { n: number }) =>
        Array.from({ length: n }, () => ({ name: b.op("Identity", [x!.name]), dims: x!.dims })),
    ],
    [ops.repeat, repeat],
    // Tensor.clone's recorded copy: an ONNX value is never written in place, so the same value
    [ops.clone, ({ b, inputs: [x] }) => one(b.op("Identity", [x!.name]), x!.dims)],
    [engineOp(() => broadcastTo(leaf(), [2, 2])), broadcast],
    [engineOp(() => sumTo(tensor([[1, 2]], { requiresGrad: true }), [2])), sumToMapping],
    // any dtype to any: ONNX's Cast truncates toward zero to INT32 and reads nonzero as true to BOOL,
    // as gradgraph's cast does
    [
      engineOp(() => cast(leaf(), "float64")),
      ({ b, inputs: [x] }, { dtype }: { dtype: DType }) => one(b.cast(x!.name, dtype), x!.dims),
    ],
  ];
  table = new Map(entries.map(([k, f]) => ["spec" in k ? (k.spec.forward as OpCore["forward"]) : k, f as Builtin]));
  return table;
}
