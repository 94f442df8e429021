/**
 * Export: a recorded gradgraph graph (or an nn model's `predict`) to an ONNX `ModelProto`.
 */
import {
  type AnyTensor,
  ArgumentError,
  cast,
  type DType,
  describeValue,
  enableGrad,
  type FloatDType,
  fmtShape,
  isFloatDType,
  isFloatTensor,
  isNode,
  isTensor,
  type Node,
  type OnnxMapping,
  type OnnxValue,
  type OpCall,
  type OpCore,
  originOf,
  type Shape,
  Tensor,
  tensor,
  userFrame,
  withDebugRecording,
  writeFileAtomic,
} from "@gradgraph/core";
import { DEFAULT_OPSET, type Dim, type ExportValue, GraphBuilder, MAX_OPSET, MIN_OPSET, OnnxError } from "./builder.js";
import {
  boundary,
  elements,
  entries,
  isArray,
  isBytes,
  isRecord,
  namedTensors,
  options as readOptions,
} from "./checks.js";
import { type Builtin, builtins, type EmitContext, type Emitted } from "./mappings.js";
import { encodeModel, nodeProto, valueInfo } from "./proto.js";

/** The version of this package, written as the model's producer version. */
const VERSION = "0.2.0";

/** Symbolic axes of the graph inputs: per input name, axis index → axis name, e.g. `{ x: { 0: "batch" } }`. */
export type DynamicAxes = Readonly<Record<string, Readonly<Record<number, string>>>>;

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /**
   * The leaves (or recorded tensors) that become the graph's inputs, under these names, of their
   * own dtype: an int32 or bool input (class labels, a mask) is read through the ops applied to it,
   * which the graph must have been recorded under `withDebugRecording` to keep.
   */
  inputs: Readonly<Record<string, AnyTensor>>;
  /** The leaves that become initializers (weights), under these names, in their own dtype (int32 and bool too). */
  params?: Readonly<Record<string, AnyTensor>>;
  /** The opset of the default ONNX domain, {@link MIN_OPSET} to {@link MAX_OPSET} (default {@link DEFAULT_OPSET}). */
  opset?: number;
  /** Axes of the inputs whose size is left symbolic, e.g. the batch: `{ x: { 0: "batch" } }`. */
  dynamicAxes?: DynamicAxes;
}

/**
 * What {@link toOnnx} exports: one tensor, an array (outputs `output_0`, ...) or tensors by output
 * name, of any dtype (a comparison's bool output is a BOOL output, an argmax's an INT32 one).
 */
export type OnnxOutputs = AnyTensor | readonly AnyTensor[] | Readonly<Record<string, AnyTensor>>;

/**
 * Turns a recorded graph into an ONNX model (a serialized `ModelProto`) that ONNX Runtime and
 * other ONNX tools run.
 *
 * Every op on the way from `options.inputs` to `outputs` must have been recorded: give the input
 * tensors `requiresGrad: true` when the graph is recorded (operations on tensors that need no
 * gradient are not recorded), and record under `withDebugRecording` so that the constants the ops
 * took (`add(x, 1)`) are kept; {@link exportModel} does both for an nn model. Each op maps to
 * standard ONNX operators (the ops of `@gradgraph/nodes` built in; an op made with `defineOp` by
 * its spec's `onnx` field). Leaves named in `params` become initializers, any other leaf a
 * constant. A single output is named `output`, an array's `output_0`, `output_1`, ...
 *
 * int32 and bool tensors (inputs, params, constants, outputs) are `INT32` and `BOOL` values. The
 * ops on them, and those with int32 or bool results (comparisons, `argmax`), record no node: under
 * `withDebugRecording` the exporter follows how their results were computed (core's `originOf`,
 * where core keeps it), so an int32 input needs no `requiresGrad`; an op computed on float copies
 * of int32 operands exports as gradgraph computes it (`Cast`, the op, `Cast` back).
 *
 * @returns the model's bytes (for {@link saveOnnx}, `InferenceSession.create`, ...).
 * @throws OnnxError for an op with no mapping (naming the op and where its node was created), an
 *   input that the graph was not recorded from, a constant that was not kept, or a dynamic axis
 *   an op cannot keep dynamic.
 * @throws ArgumentError for outputs or options of the wrong type, duplicate names, or an opset
 *   out of range.
 */
export function toOnnx(outputs: OnnxOutputs, options: ToOnnxOptions): Uint8Array {
  return boundary("toOnnx", () => exportGraph("toOnnx", outputs, options));
}

/** An nn model, as {@link exportModel} uses it: its `predict` and its `params`. */
export interface ExportableModel {
  /** Every trainable tensor of the model, in a fixed order. */
  readonly params: readonly Tensor[];
  /** The model's output (scores) for a batch. */
  predict(x: Tensor): Tensor;
}

/** Options of {@link exportModel}. */
export interface ExportModelOptions {
  /** Axes of the input left symbolic, e.g. `{ 0: "batch" }` to accept any batch size. */
  dynamicAxes?: Readonly<Record<number, string>>;
  /** The graph input's name (default `"x"`). */
  inputName?: string;
  /** The graph output's name (default `"scores"`). */
  outputName?: string;
  /** The names of the model's params, in order (default `param_0`, `param_1`, ...). */
  paramNames?: readonly string[];
  /** The opset (default {@link DEFAULT_OPSET}). */
  opset?: number;
}

/**
 * Exports an nn model's `predict` (e.g. a `TwoLayerNet` or a `Sequential` of `@gradgraph/nn`) as
 * an ONNX model: `predict` runs once on a copy of `sample` (recorded, with constants kept), the
 * model's parameters become initializers, and the input and output take the given names.
 * @param sample - a batch of the input's shape (with `dynamicAxes`, other sizes of those axes run too).
 * @throws ArgumentError for a model without `predict` and `params`, a `sample` that is not a
 *   Tensor, or bad options; OnnxError as {@link toOnnx}.
 */
export function exportModel(model: ExportableModel, sample: AnyTensor, options: ExportModelOptions = {}): Uint8Array {
  const fn = "exportModel";
  return boundary(fn, () => {
    let predict: unknown;
    let params: unknown;
    try {
      predict = (model as { predict?: unknown } | null)?.predict;
      params = (model as { params?: unknown } | null)?.params;
    } catch {
      predict = undefined;
    }
    if (model === null || typeof model !== "object" || typeof predict !== "function") {
      throw new ArgumentError(fn, `${fn}: model must be an object with a predict method, got ${describeValue(model)}`);
    }
    const list = isArray(params) ? elements(fn, "model.params", params) : null;
    if (list === null || !list.every((p) => isTensor(p))) {
      throw new ArgumentError(fn, `${fn}: model.params must be an array of Tensors, got ${describeValue(params)}`);
    }
    if (!isTensor(sample)) throw new ArgumentError(fn, `${fn}: sample must be a Tensor, got ${describeValue(sample)}`);
    const opts = readOptions<ExportModelOptions>(fn, options, [
      "dynamicAxes",
      "inputName",
      "outputName",
      "paramNames",
      "opset",
    ]);
    const inputName = nameOption(fn, "inputName", opts.inputName, "x");
    const outputName = nameOption(fn, "outputName", opts.outputName, "scores");
    const given =
      opts.paramNames === undefined
        ? null
        : isArray(opts.paramNames)
          ? elements(fn, "paramNames", opts.paramNames)
          : [];
    const names = given ?? list.map((_, i) => `param_${i}`);
    if (
      names.length !== list.length ||
      !names.every((n) => typeof n === "string" && n !== "") ||
      (given !== null && !isArray(opts.paramNames))
    ) {
      throw new ArgumentError(
        fn,
        `${fn}: paramNames must be ${list.length} non-empty strings, one per model param, got ${describeValue(opts.paramNames)}`,
      );
    }
    // a copy that requires grad (an int32 sample, token ids say, cannot: its ops are followed
    // through their origins instead)
    const x = new Tensor<DType>(sample.data.slice(), sample.shape, isFloatTensor(sample)) as Tensor;
    const y = enableGrad(() => withDebugRecording(() => (predict as (x: Tensor) => unknown).call(model, x)));
    if (!isTensor(y)) throw new ArgumentError(fn, `${fn}: model.predict returned ${describeValue(y)}, not a Tensor`);
    const named: Record<string, Tensor> = {};
    (names as string[]).forEach((n, i) => {
      named[n] = list[i] as Tensor;
    });
    return exportGraph(
      fn,
      { [outputName]: y },
      {
        inputs: { [inputName]: x },
        params: named,
        ...(opts.opset === undefined ? {} : { opset: opts.opset }),
        ...(opts.dynamicAxes === undefined ? {} : { dynamicAxes: { [inputName]: opts.dynamicAxes } }),
      },
    );
  });
}

/**
 * Writes a model's bytes to `path` with the same atomic write as checkpoints (`writeFileAtomic`
 * of `@gradgraph/core`: a temporary file, fsync, rename), so a reader never sees a partial model.
 * @throws ArgumentError when `path` is not a non-empty string or `bytes` not a Uint8Array.
 * @throws FileError (from `writeFileAtomic`) when the file cannot be written.
 */
export function saveOnnx(path: string, bytes: Uint8Array): void {
  const fn = "saveOnnx";
  if (typeof path !== "string" || path.length === 0) {
    throw new ArgumentError(fn, `${fn}: path must be a non-empty string, got ${describeValue(path)}`);
  }
  if (!isBytes(bytes)) {
    throw new ArgumentError(
      fn,
      `${fn}: bytes must be a Uint8Array (from toOnnx or exportModel) over a buffer that was not transferred, got ${describeValue(bytes)}`,
    );
  }
  boundary(fn, () => writeFileAtomic(path, bytes));
}

// ---------------------------------------------------------------------------------------------

function nameOption(fn: string, key: string, v: unknown, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== "string" || v === "") {
    throw new ArgumentError(fn, `${fn}: ${key} must be a non-empty string, got ${describeValue(v)}`);
  }
  return v;
}

function checkOutputs(fn: string, outputs: unknown): [string, AnyTensor][] {
  if (isTensor(outputs)) return [["output", outputs]];
  if (isArray(outputs)) {
    const list = elements(fn, "outputs", outputs);
    if (list.length === 0) throw new ArgumentError(fn, `${fn}: outputs is an empty array`);
    return list.map((t, i) => {
      if (!isTensor(t)) throw new ArgumentError(fn, `${fn}: outputs[${i}] must be a Tensor, got ${describeValue(t)}`);
      return [`output_${i}`, t];
    });
  }
  const list = namedTensors(fn, "outputs", outputs);
  if (list.length === 0) throw new ArgumentError(fn, `${fn}: outputs names no tensor`);
  return list;
}

function checkDynamicAxes(fn: string, axes: unknown, inputs: Map<string, AnyTensor>): Map<string, Dim[]> {
  const out = new Map<string, Dim[]>();
  for (const [name, t] of inputs) out.set(name, [...t.shape]);
  if (axes === undefined) return out;
  if (axes === null || typeof axes !== "object" || Array.isArray(axes)) {
    throw new ArgumentError(
      fn,
      `${fn}: dynamicAxes must be an object like { x: { 0: "batch" } }, got ${describeValue(axes)}`,
    );
  }
  for (const [name, spec] of Object.entries(axes as Record<string, unknown>)) {
    const dims = out.get(name);
    if (dims === undefined) {
      throw new ArgumentError(
        fn,
        `${fn}: dynamicAxes names ${JSON.stringify(name)}, which is not an input (inputs: ${[...inputs.keys()].join(", ")})`,
      );
    }
    if (!isRecord(spec)) {
      throw new ArgumentError(
        fn,
        `${fn}: dynamicAxes.${name} must be an object of axis → name, like { 0: "batch" }, got ${describeValue(spec)}`,
      );
    }
    for (const [k, sym] of entries(fn, `dynamicAxes.${name}`, spec)) {
      const axis = Number(k);
      const rank = dims.length;
      if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
        throw new ArgumentError(
          fn,
          `${fn}: dynamicAxes.${name} has axis ${k}, not an axis of an input of shape ${fmtShape(inputs.get(name)!.shape)}`,
        );
      }
      if (typeof sym !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(sym)) {
        throw new ArgumentError(
          fn,
          `${fn}: dynamicAxes.${name}[${k}] must be an identifier such as "batch", got ${describeValue(sym)}`,
        );
      }
      dims[axis < 0 ? axis + rank : axis] = sym;
    }
  }
  return out;
}

function checkOpset(fn: string, opset: unknown): number {
  if (opset === undefined) return DEFAULT_OPSET;
  if (typeof opset !== "number" || !Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ArgumentError(
      fn,
      `${fn}: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${describeValue(opset)}`,
    );
  }
  return opset;
}

/** Where a node was created, for messages. */
function siteOf(site: string | null): string {
  const frame = userFrame(site);
  return frame !== null
    ? `created at ${frame}`
    : "its creation site was not recorded (record the graph under withCreationSites or withDebugRecording to see it)";
}

/** Reads a saved input of a node through the public BackwardContext API (null when it was not saved). */
function savedInput(node: Node, i: number): Tensor | null {
  try {
    return node.input(i);
  } catch {
    return null;
  }
}

/**
 * What computes values of the exported graph: a recorded node, or an op call that recorded none
 * (an integral op's, or an op on int32 or bool values: see `origins.ts`).
 */
interface Producer {
  readonly op: OpCore;
  readonly attrs: unknown;
  readonly outShapes: readonly Shape[];
  readonly outDTypes: readonly DType[];
  /** The float dtype the op computed in. */
  readonly dtype: FloatDType;
  /** The node, for a recorded one. */
  readonly node: Node | null;
  /** The op call, for one that recorded no node. */
  readonly call: OpCall | null;
  /** `op 'add' (node #12)`, for messages. */
  readonly label: string;
  /** The scope of the names it adds (`add_12`). */
  readonly scope: string;
  readonly site: string | null;
  /** Its inputs, resolved (by the walk). */
  refs: Ref[];
  /** Set by the walk: 1 while its inputs are walked, 2 after. */
  state: 0 | 1 | 2;
  /** An op call whose inputs are all constants: its outputs are constants too. */
  folded: boolean;
}

/** An input of a producer (or an output of the graph), resolved. */
type Ref =
  /** A graph input, a param, or a recorded tensor cut off as an input. */
  | { readonly kind: "value"; readonly value: ExportValue }
  /** A tensor that no graph input reaches: a constant. */
  | { readonly kind: "const"; readonly t: AnyTensor }
  /** Output `slot` of a producer (`t` the tensor, when known: a folded op call's constant). */
  | { readonly kind: "out"; readonly p: Producer; readonly slot: number; readonly t: AnyTensor | null };

/** The export itself; errors name `fn`. */
export function exportGraph(fn: string, outputs: OnnxOutputs, options: ToOnnxOptions): Uint8Array {
  const outs = checkOutputs(fn, outputs);
  const opts = readOptions<ToOnnxOptions>(fn, options, ["inputs", "params", "opset", "dynamicAxes"]);
  if (opts.inputs === undefined)
    throw new ArgumentError(fn, `${fn}: options.inputs is required (the graph's inputs by name)`);
  const inputs = namedTensors(fn, "inputs", opts.inputs);
  const params = opts.params === undefined ? [] : namedTensors(fn, "params", opts.params);
  const opset = checkOpset(fn, opts.opset);
  const inputDims = checkDynamicAxes(fn, opts.dynamicAxes, new Map(inputs));
  const b = new GraphBuilder(fn, opset);

  const seen = new Set<string>();
  for (const [name] of [...inputs, ...params, ...outs]) {
    if (seen.has(name))
      throw new ArgumentError(
        fn,
        `${fn}: the name ${JSON.stringify(name)} is used twice (inputs, params and outputs need distinct names)`,
      );
    seen.add(name);
  }

  /** Values of leaves by tensor, and of recorded tensors cut off as inputs by (node, output). */
  const leaves = new Map<AnyTensor, ExportValue>();
  const cut = new Map<Node, Map<number, ExportValue>>();
  const bind = (t: AnyTensor, v: ExportValue) => {
    b.setType(v.name, v.dtype);
    const creator = t.creator;
    if (creator !== null && t.requiresGrad) {
      let m = cut.get(creator);
      if (m === undefined) {
        m = new Map();
        cut.set(creator, m);
      }
      m.set(t.outputIndex, v);
    } else leaves.set(t, v);
  };
  const graphInputs = inputs.map(([name, t]) => {
    // an int32 or bool input never requires grad: the ops on it are followed through their origins
    if (!t.requiresGrad && isFloatTensor(t)) {
      throw new OnnxError(
        fn,
        `${fn}: inputs.${name} does not require grad, so the ops applied to it were not recorded (they would export as constants); record the graph from tensors made with { requiresGrad: true }, or use exportModel`,
      );
    }
    const dims = inputDims.get(name)!;
    dims.forEach((d, axis) => {
      if (typeof d !== "string") return;
      const size = b.symbols.get(d);
      if (size !== undefined && size !== t.shape[axis]) {
        throw new ArgumentError(
          fn,
          `${fn}: the dynamic axis ${JSON.stringify(d)} has size ${size} in one input and ${t.shape[axis]} in inputs.${name} (axis ${axis}); one name must be one size`,
        );
      }
      b.symbols.set(d, t.shape[axis]!);
    });
    b.claim(name);
    bind(t, { name, shape: t.shape, dims, dtype: t.dtype });
    return valueInfo(name, t.dtype, dims);
  });
  for (const [name, t] of params) {
    b.initializer(name, t.data, t.dtype, t.shape);
    bind(t, { name, shape: t.shape, dims: [...t.shape], dtype: t.dtype });
  }
  for (const [name] of outs) b.claim(name);

  const constants = new Map<AnyTensor, ExportValue>();
  const constantValue = (t: AnyTensor): ExportValue => {
    let c = constants.get(t);
    if (c === undefined) {
      const scope = b.scope;
      b.scope = "const";
      c = { name: b.constant(t.data, t.dtype, t.shape), shape: t.shape, dims: [...t.shape], dtype: t.dtype };
      b.scope = scope;
      constants.set(t, c);
    }
    return c;
  };

  // the producers, by node or op call
  const producers = new Map<Node | OpCall, Producer>();
  let calls = 0;
  const producerOf = (key: Node | OpCall): Producer => {
    let p = producers.get(key);
    if (p !== undefined) return p;
    if (isNode(key)) {
      p = {
        op: key.op,
        attrs: key.attrs,
        outShapes: key.outShapes,
        outDTypes: key.outShapes.map(() => key.dtype),
        dtype: key.dtype,
        node: key,
        call: null,
        label: `op '${key.op.name}' (node #${key.id})`,
        scope: `${key.op.name}_${key.id}`,
        site: key.site,
        refs: [],
        state: 0,
        folded: false,
      };
    } else {
      const n = calls++;
      p = {
        op: key.op,
        attrs: key.attrs,
        outShapes: key.outShapes,
        outDTypes: key.outDTypes,
        dtype: key.dtype,
        node: null,
        call: key,
        label: `op '${key.op.name}' (on values no gradient flows through)`,
        scope: `${key.op.name}_v${n}`,
        site: key.site,
        refs: [],
        state: 0,
        folded: false,
      };
    }
    producers.set(key, p);
    return p;
  };

  /** A tensor as an input: a leaf, a cut-off input, a recorded output, an op call's output, or a constant. */
  const resolve = (t: AnyTensor): Ref => {
    const leaf = leaves.get(t);
    if (leaf !== undefined) return { kind: "value", value: leaf };
    const creator = t.creator;
    if (creator !== null && t.requiresGrad) return edge(creator, t.outputIndex);
    const origin = originOf(t);
    if (origin !== null) return { kind: "out", p: producerOf(origin.call), slot: origin.outputIndex, t };
    return { kind: "const", t };
  };
  const edge = (n: Node, slot: number): Ref => {
    const v = cut.get(n)?.get(slot);
    if (v !== undefined) return { kind: "value", value: v };
    return { kind: "out", p: producerOf(n), slot, t: null };
  };
  /** The tensors (or node edges) a producer reads, in input order. */
  const sources = (p: Producer): (() => Ref)[] => {
    const call = p.call;
    if (call !== null) return call.inputs.map((t) => () => resolve(t));
    const node = p.node!;
    return node.next.map((nx, i) => () => {
      if (isNode(nx)) return edge(nx, node.nextSlot[i]!);
      const t = nx !== null ? nx : (node.debugInputs?.[i] ?? savedInput(node, i));
      if (t === null || t === undefined) {
        throw new OnnxError(
          fn,
          `${fn}: input ${i} (${node.op.inputNames[node.op.variadic ? 0 : i] ?? i}) of ${p.label} needs no gradient and was not kept by the recording, so its value is unknown; record the graph under withDebugRecording (exportModel does), or give that tensor requiresGrad; ${siteOf(p.site)}`,
        );
      }
      return resolve(t);
    });
  };

  // the walk: every producer the outputs depend on, inputs first (depth first, without recursion,
  // so that a deep graph cannot overflow the stack); an op call that no graph input reaches folds
  // into constants
  const outRefs = outs.map(([, t]) => resolve(t));
  const order: Producer[] = [];
  const stack: { p: Producer; next: (() => Ref)[]; i: number }[] = [];
  const visit = (ref: Ref) => {
    if (ref.kind !== "out" || ref.p.state !== 0) return;
    ref.p.state = 1;
    stack.push({ p: ref.p, next: sources(ref.p), i: 0 });
  };
  for (const ref of outRefs) {
    visit(ref);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.next.length) {
        const ref = top.next[top.i++]!();
        top.p.refs.push(ref);
        visit(ref);
        continue;
      }
      stack.pop();
      const p = top.p;
      p.state = 2;
      p.folded = p.call !== null && p.refs.every((r) => r.kind === "const" || (r.kind === "out" && r.p.folded));
      if (!p.folded) order.push(p);
    }
  }

  // how often each output of a producer is read (a mapping may fuse a producer read only once)
  const uses = new Map<Producer, number[]>();
  const count = (r: Ref) => {
    if (r.kind !== "out" || r.p.folded) return;
    let u = uses.get(r.p);
    if (u === undefined) {
      u = r.p.outShapes.map(() => 0);
      uses.set(r.p, u);
    }
    u[r.slot] = (u[r.slot] ?? 0) + 1;
  };
  for (const p of order) p.refs.forEach(count);
  outRefs.forEach(count);

  const values = new Map<Producer, ExportValue[]>();
  const used = new Set<string>();
  const valueAt = (r: Ref): ExportValue => {
    if (r.kind === "value") return r.value;
    if (r.kind === "const") return constantValue(r.t);
    if (r.p.folded) return constantValue(r.t!);
    const v = values.get(r.p)?.[r.slot];
    if (v === undefined) throw new OnnxError(fn, `${fn}: internal error: ${r.p.label} was not exported before its use`);
    return v;
  };

  const table = builtins();
  const inputsOf = new Map<Producer, ExportValue[]>();
  for (const p of order) {
    const ins = p.refs.map(valueAt);
    for (const v of ins) used.add(v.name);
    inputsOf.set(p, ins);
    b.scope = p.scope;
    const builtin = table.get(p.op.forward) as Builtin | undefined;
    const user = p.op.onnx as OnnxMapping<unknown> | undefined;
    if (user === undefined && builtin === undefined) {
      throw new OnnxError(
        fn,
        `${fn}: ${p.label} has no ONNX mapping; give its defineOp spec an onnx field that adds ONNX nodes for it; ${siteOf(p.site)}`,
      );
    }
    let emitted: Emitted[];
    if (user !== undefined) {
      let result: unknown;
      try {
        // (core's OnnxValue: its dtype is any of gradgraph's)
        result = user(ins as readonly OnnxValue[], p.attrs, b);
      } catch (e) {
        if (e instanceof OnnxError) throw e;
        throw new OnnxError(
          fn,
          `${fn}: the ONNX mapping of ${p.label} threw: ${e instanceof Error ? e.message : String(e)}; ${siteOf(p.site)}`,
          { cause: e },
        );
      }
      const names = typeof result === "string" ? [result] : Array.isArray(result) ? result : null;
      if (
        names === null ||
        names.length !== p.outShapes.length ||
        !names.every((n) => typeof n === "string" && b.known.has(n))
      ) {
        throw new OnnxError(
          fn,
          `${fn}: the ONNX mapping of ${p.label} must return ${p.outShapes.length === 1 ? "the name of its output" : `the names of its ${p.outShapes.length} outputs`} (values it added), got ${describeValue(result)}; ${siteOf(p.site)}`,
        );
      }
      emitted = names.map((name, k) => ({ name, dims: guessDims(p.outShapes[k]!, ins) }));
    } else {
      // the built-in mappings compute in float: every op but cast gets float copies of int32 and
      // bool operands (see OpSpec.integers), so another dtype here is an op they cannot export
      const odd = p.op.forward === castForward() ? undefined : ins.find((v) => !isFloatDType(v.dtype));
      if (odd !== undefined) {
        throw new OnnxError(
          fn,
          `${fn}: ${p.label} has an input of dtype ${odd.dtype}, which its ONNX mapping cannot export (it computes in float32 or float64); ${siteOf(p.site)}`,
        );
      }
      const ctx: EmitContext = {
        b,
        inputs: ins,
        outShapes: p.outShapes,
        dtype: p.dtype,
        constantOf: (i) => {
          const r = p.refs[i];
          return r?.kind === "const" ? r.t : r?.kind === "out" && r.p.folded ? r.t : null;
        },
        soleProducer: (i) => {
          const r = p.refs[i];
          if (r === undefined || r.kind !== "out" || r.p.folded || uses.get(r.p)?.[r.slot] !== 1) return null;
          return { op: r.p.op, attrs: r.p.attrs, inputs: inputsOf.get(r.p)! };
        },
      };
      emitted = builtin!(ctx, p.attrs as never);
    }
    values.set(
      p,
      emitted.map((e, k) => {
        const dtype = p.outDTypes[k]!;
        b.setType(e.name, dtype);
        return { name: e.name, shape: p.outShapes[k]!, dims: e.dims, dtype };
      }),
    );
  }

  // the outputs: named by renaming the value that computes them, or through an Identity
  b.scope = "output";
  const graphOutputs = outs.map(([name], k) => {
    const v = valueAt(outRefs[k]!);
    used.add(v.name);
    return { name, v };
  });
  const names = new Set<string>();
  const renames = new Map<string, string>();
  const producedByNode = new Set(b.nodes.flatMap((n) => n.output));
  for (const { name, v } of graphOutputs) {
    if (producedByNode.has(v.name) && !renames.has(v.name) && !names.has(v.name)) {
      renames.set(v.name, name);
    } else {
      b.nodes.push(nodeProto(`${name}/Identity`, "Identity", [renames.get(v.name) ?? v.name], [name], []));
    }
    names.add(name);
  }
  for (const n of b.nodes) {
    n.input = n.input.map((s) => renames.get(s) ?? s);
    n.output = n.output.map((s) => renames.get(s) ?? s);
  }
  // an int32 or bool output that no graph input reaches: computed by ops that record no node
  const integralConstant = outs.find(([, t], k) => !isFloatTensor(t) && outRefs[k]!.kind === "const");
  const hint =
    integralConstant === undefined
      ? ""
      : ` (output ${integralConstant[0]} is a ${integralConstant[1].dtype} tensor, computed by ops that record no node: record the graph under withDebugRecording, where the exporter follows them)`;
  for (const [name, t] of inputs) {
    if (!used.has(name)) {
      const integral = !isFloatTensor(t);
      throw new OnnxError(
        fn,
        integral
          ? `${fn}: inputs.${name} (${t.dtype}, shape ${fmtShape(t.shape)}) is not an input of the outputs' recorded graph; pass the tensor the outputs were computed from, and record the graph under withDebugRecording (the ops on ${t.dtype} tensors are followed only there)`
          : `${fn}: inputs.${name} (shape ${fmtShape(t.shape)}) is not an input of the outputs' recorded graph; pass the tensor the outputs were computed from (with requiresGrad, so that its ops were recorded)${hint}`,
      );
    }
  }
  pruneDead(b, new Set(graphOutputs.map((o) => o.name)));
  return encodeModel({
    graphName: "gradgraph",
    opset,
    producerVersion: VERSION,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: graphInputs,
    outputs: graphOutputs.map(({ name, v }) => valueInfo(name, v.dtype, v.dims)),
  });
}

let castOp: OpCore["forward"] | null = null;

/** The forward of core's cast, the one op whose built-in mapping takes int32 and bool inputs. */
function castForward(): OpCore["forward"] {
  castOp ??= cast(tensor([1], { requiresGrad: true }), "float64").creator!.op.forward;
  return castOp;
}

/** Dims of a user mapping's output: symbolic where an input has a symbolic axis of that size at that position. */
function guessDims(shape: readonly number[], inputs: readonly ExportValue[]): Dim[] {
  return shape.map((size, i) => {
    for (const v of inputs) {
      const d = v.dims[i];
      if (typeof d === "string" && v.shape[i] === size) return d;
    }
    return size;
  });
}

/** Removes the nodes and initializers no output depends on (e.g. a ReduceSum that became a ReduceMean). */
function pruneDead(b: GraphBuilder, outputs: Set<string>): void {
  const needed = new Set(outputs);
  const keep: boolean[] = new Array(b.nodes.length).fill(false);
  for (let i = b.nodes.length - 1; i >= 0; i--) {
    const n = b.nodes[i]!;
    if (n.output.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const s of n.input) if (s !== "") needed.add(s);
    }
  }
  const nodes = b.nodes.filter((_, i) => keep[i]);
  b.nodes.length = 0;
  b.nodes.push(...nodes);
  const inits = b.initializers.filter((t) => needed.has(t.name));
  b.initializers.length = 0;
  b.initializers.push(...inits);
}

export type { FloatDType };
