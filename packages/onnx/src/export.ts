/**
 * Export: a recorded gradgraph graph (or an nn model's `predict`) to an ONNX `ModelProto`.
 */
import {
  ArgumentError,
  describeValue,
  enableGrad,
  type FloatDType,
  fmtShape,
  isNode,
  isTensor,
  type Node,
  type OnnxMapping,
  type OnnxValue,
  Tensor,
  userFrame,
  withDebugRecording,
  writeFileAtomic,
} from "@gradgraph/core";
import { DEFAULT_OPSET, type Dim, GraphBuilder, MAX_OPSET, MIN_OPSET, OnnxError } from "./builder.js";
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
  /** The leaves (or recorded tensors) that become the graph's inputs, under these names. */
  inputs: Readonly<Record<string, Tensor>>;
  /** The leaves that become initializers (weights), under these names, in their own dtype. */
  params?: Readonly<Record<string, Tensor>>;
  /** The opset of the default ONNX domain, {@link MIN_OPSET} to {@link MAX_OPSET} (default {@link DEFAULT_OPSET}). */
  opset?: number;
  /** Axes of the inputs whose size is left symbolic, e.g. the batch: `{ x: { 0: "batch" } }`. */
  dynamicAxes?: DynamicAxes;
}

/** What {@link toOnnx} exports: one tensor, an array (outputs `output_0`, ...) or tensors by output name. */
export type OnnxOutputs = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

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
export function exportModel(model: ExportableModel, sample: Tensor, options: ExportModelOptions = {}): Uint8Array {
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
    const x = new Tensor(sample.data.slice(), sample.shape, true);
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

function checkOutputs(fn: string, outputs: unknown): [string, Tensor][] {
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

function checkDynamicAxes(fn: string, axes: unknown, inputs: Map<string, Tensor>): Map<string, Dim[]> {
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
function siteOf(node: Node): string {
  const frame = userFrame(node.site);
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
  const leaves = new Map<Tensor, OnnxValue>();
  const cut = new Map<Node, Map<number, OnnxValue>>();
  const bind = (t: Tensor, v: OnnxValue) => {
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
    if (!t.requiresGrad) {
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

  const constants = new Map<Tensor, OnnxValue>();
  const leafValue = (t: Tensor): { value: OnnxValue; constant: boolean } => {
    const v = leaves.get(t);
    if (v !== undefined) return { value: v, constant: false };
    let c = constants.get(t);
    if (c === undefined) {
      b.scope = "const";
      c = { name: b.constant(t.data, t.dtype, t.shape), shape: t.shape, dims: [...t.shape], dtype: t.dtype };
      constants.set(t, c);
    }
    return { value: c, constant: true };
  };

  // the nodes the outputs depend on, stopping at the cut-off inputs
  const nodes: Node[] = [];
  const visited = new Set<Node>();
  const uses = new Map<string, number>();
  const stack: Node[] = [];
  const push = (n: Node, slot: number) => {
    const key = `${n.id}:${slot}`;
    uses.set(key, (uses.get(key) ?? 0) + 1);
    if (cut.get(n)?.has(slot)) return;
    if (!visited.has(n)) {
      visited.add(n);
      stack.push(n);
    }
  };
  for (const [, t] of outs) if (t.creator !== null) push(t.creator, t.outputIndex);
  while (stack.length > 0) {
    const n = stack.pop()!;
    nodes.push(n);
    n.next.forEach((nx, i) => {
      if (isNode(nx)) push(nx, n.nextSlot[i]!);
    });
  }
  nodes.sort((p, q) => p.id - q.id);

  const table = builtins();
  const values = new Map<Node, OnnxValue[]>();
  const inputsOf = new Map<Node, OnnxValue[]>();
  const used = new Set<string>();
  for (const node of nodes) {
    const constantOf: (Tensor | null)[] = [];
    const ins = node.next.map((nx, i): OnnxValue => {
      constantOf[i] = null;
      if (isNode(nx)) {
        const slot = node.nextSlot[i]!;
        const v = cut.get(nx)?.get(slot) ?? values.get(nx)?.[slot];
        if (v === undefined)
          throw new OnnxError(fn, `${fn}: internal error: node #${nx.id} was not exported before node #${node.id}`);
        return v;
      }
      const t = nx !== null ? nx : (node.debugInputs?.[i] ?? savedInput(node, i));
      if (t === null || t === undefined) {
        throw new OnnxError(
          fn,
          `${fn}: input ${i} (${node.op.inputNames[node.op.variadic ? 0 : i] ?? i}) of op '${node.op.name}' (node #${node.id}) needs no gradient and was not kept by the recording, so its value is unknown; record the graph under withDebugRecording (exportModel does), or give that tensor requiresGrad; ${siteOf(node)}`,
        );
      }
      const { value, constant } = leafValue(t);
      if (constant) constantOf[i] = t;
      return value;
    });
    for (const v of ins) used.add(v.name);
    inputsOf.set(node, ins);
    b.scope = `${node.op.name}_${node.id}`;
    const builtin = table.get(node.op.forward) as Builtin | undefined;
    const user = node.op.onnx as OnnxMapping<unknown> | undefined;
    if (user === undefined && builtin === undefined) {
      throw new OnnxError(
        fn,
        `${fn}: op '${node.op.name}' (node #${node.id}) has no ONNX mapping; give its defineOp spec an onnx field that adds ONNX nodes for it; ${siteOf(node)}`,
      );
    }
    let emitted: Emitted[];
    if (user !== undefined) {
      let result: unknown;
      try {
        result = user(ins, node.attrs, b);
      } catch (e) {
        if (e instanceof OnnxError) throw e;
        throw new OnnxError(
          fn,
          `${fn}: the ONNX mapping of op '${node.op.name}' (node #${node.id}) threw: ${e instanceof Error ? e.message : String(e)}; ${siteOf(node)}`,
          { cause: e },
        );
      }
      const names = typeof result === "string" ? [result] : Array.isArray(result) ? result : null;
      if (
        names === null ||
        names.length !== node.outShapes.length ||
        !names.every((n) => typeof n === "string" && b.known.has(n))
      ) {
        throw new OnnxError(
          fn,
          `${fn}: the ONNX mapping of op '${node.op.name}' (node #${node.id}) must return ${node.outShapes.length === 1 ? "the name of its output" : `the names of its ${node.outShapes.length} outputs`} (values it added), got ${describeValue(result)}; ${siteOf(node)}`,
        );
      }
      emitted = names.map((name, k) => ({ name, dims: guessDims(node.outShapes[k]!, ins) }));
    } else {
      const ctx: EmitContext = {
        b,
        inputs: ins,
        outShapes: node.outShapes,
        dtype: node.dtype,
        constantOf: (i) => constantOf[i] ?? null,
        soleProducer: (i) => {
          const nx = node.next[i];
          if (!isNode(nx) || cut.get(nx)?.has(node.nextSlot[i]!)) return null;
          if (uses.get(`${nx.id}:${node.nextSlot[i]}`) !== 1) return null;
          return { op: nx.op, attrs: nx.attrs, inputs: inputsOf.get(nx)! };
        },
      };
      emitted = builtin!(ctx, node.attrs as never);
    }
    values.set(
      node,
      emitted.map((e, k) => ({ name: e.name, shape: node.outShapes[k]!, dims: e.dims, dtype: node.dtype })),
    );
  }

  // the outputs: named by renaming the value that computes them, or through an Identity
  b.scope = "output";
  const graphOutputs = outs.map(([name, t]) => {
    let v: OnnxValue;
    const creator = t.creator;
    const fromCut = creator !== null ? cut.get(creator)?.get(t.outputIndex) : undefined;
    if (fromCut !== undefined) v = fromCut;
    else if (creator !== null && values.has(creator)) v = values.get(creator)![t.outputIndex]!;
    else if (creator !== null) {
      throw new OnnxError(fn, `${fn}: internal error: output ${name} was not exported`);
    } else v = leafValue(t).value;
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
  for (const [name, t] of inputs) {
    if (!used.has(name)) {
      throw new OnnxError(
        fn,
        `${fn}: inputs.${name} (shape ${fmtShape(t.shape)}) is not an input of the outputs' recorded graph; pass the tensor the outputs were computed from (with requiresGrad, so that its ops were recorded)`,
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

/** Dims of a user mapping's output: symbolic where an input has a symbolic axis of that size at that position. */
function guessDims(shape: readonly number[], inputs: readonly OnnxValue[]): Dim[] {
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
