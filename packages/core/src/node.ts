/**
 * Nodes and contexts: what an op is to the engine (`OpCore`), what its forward and backward may
 * use (`ForwardContext`, `BackwardContext`), and the recorded application of an op (`Node`), with
 * the one walk over the recorded graph that the engine, gradcheck and graph snapshots share
 * (`reachableNodes`).
 */
import { type ArrayOf, allocAny, type DType, type FloatDType } from "./dtype.js";
import {
  ArgumentError,
  DTypeError,
  describeValue,
  fmtShape,
  type GradgraphError,
  GraphError,
  ShapeError,
} from "./errors.js";
import { modes } from "./grad-mode.js";
import { allocUnchecked } from "./memory.js";
import type { OnnxMapping } from "./onnx.js";
import { checkShape, MAX_TENSOR_SIZE, type Shape, validSize } from "./shape.js";
import { describeNonTensor, isTensor, registerNodeCheck, type Tensor } from "./tensor.js";
import { isArray } from "./validate.js";

// ---------------------------------------------------------------------------------------------
// Op definitions as the engine sees them

/**
 * A raw result of a forward: a typed array and its shape. `D` is its dtype (a float one unless
 * said otherwise: a comparison's output is `RawArray<"bool">`).
 */
export interface RawArray<D extends DType = FloatDType> {
  /** The elements, row-major; its length must equal the product of `shape`. */
  readonly data: ArrayOf<D>;
  /** The dimensions (`[]` for a scalar). */
  readonly shape: Shape;
}

/** What an op's forward can use: the compute dtype, an allocator, and what to save. */
export interface ForwardContext {
  /** The op's name. */
  readonly op: string;
  /**
   * The dtype of the (promoted) inputs, the default dtype of outputs: always a float dtype (an op
   * whose operands are int32 or bool computes on float copies of them; see `OpSpec.integers`).
   */
  readonly dtype: FloatDType;
  /**
   * The dtype the op's float outputs are given afterwards: `dtype`, or `int32` or `bool` when every
   * operand is int32 or bool and the op keeps them (`OpSpec.integers`), for a forward that must
   * know, such as an integer division refusing a zero divisor.
   */
  readonly resultDType: DType;
  /**
   * A zero-filled output array of `shape` in `dtype` (default: the op's dtype; `'bool'` or
   * `'int32'` for an output that is not differentiable, such as a comparison's).
   */
  alloc<D extends DType = FloatDType>(shape: Shape, dtype?: D): RawArray<D>;
  /** Saves the inputs at these positions for backward (`ctx.input(i)` there). */
  saveInputs(...indices: number[]): void;
  /** Saves the outputs for backward (`ctx.output(k)` there). */
  saveOutput(): void;
  /** Keeps any non-tensor value for backward (`ctx.stashed` there): masks, indices, sizes. */
  stash(value: unknown): void;
}

/** What an op's backward can use: attributes, saved tensors, and which inputs need a gradient. */
export interface BackwardContext<A = unknown> {
  /** The op's name. */
  readonly opName: string;
  /** The attributes the op was called with. */
  readonly attrs: A;
  /** `needsInputGrad[i]` is false when input `i` needs no gradient (its entry may be `null`). */
  readonly needsInputGrad: readonly boolean[];
  /** The value kept by `ctx.stash` in forward. */
  readonly stashed: unknown;
  /** Saved input `i`. @throws GraphError if forward did not save it, it was released, or it changed in place. */
  input(i: number): Tensor;
  /** Saved output `k` (default 0). @throws GraphError if forward did not save outputs or they were released. */
  output(k?: number): Tensor;
}

/**
 * The engine's view of an op: a name, input names, how many outputs, forward over raw arrays and
 * backward over tensors. `defineOp` builds these from what a library author writes (an
 * {@link OpSpec}); the engine's own ops (`cast`, `sumTo`, `broadcastTo`, `accumulateGrad`) are
 * written as these directly. Read it from {@link Node.op} for inspection; calling `forward` or
 * `backward` by hand bypasses every check.
 */
export interface OpCore {
  /** The op's name, as in error messages and graph exports (`'matmul'`, `'sumTo'`). */
  readonly name: string;
  /** The names of the inputs, in order (`['a', 'b']`); for a variadic op, the one shared name. */
  readonly inputNames: readonly string[];
  /** True when the op takes any number of inputs, all named after `inputNames[0]`. */
  readonly variadic?: boolean;
  /** True when forward returns an array of outputs and backward receives an array of gradients. */
  readonly multi: boolean;
  /** The op's backward keeps no reference to gradients it receives or returns (see `OpSpec.ownsGradients`). */
  readonly ownsGradients?: boolean;
  /**
   * Computes the output (or, when `multi`, every output) from the prepared inputs (tensors, dtype
   * promoted, already checked) and the attributes; see {@link OpSpec.forward}.
   */
  forward(inputs: readonly Tensor[], attrs: unknown, ctx: ForwardContext): RawArray<DType> | readonly RawArray<DType>[];
  /**
   * Maps the output's gradient (an array of them when `multi`) to one gradient per input, `null`
   * or `undefined` where none is needed; see {@link OpSpec.backward}.
   */
  backward(grads: Tensor | readonly Tensor[], ctx: BackwardContext): readonly (Tensor | null | undefined)[];
  /**
   * An optional second, faster route to the same numbers as `backward`, for a pass that creates no
   * graph (see {@link OpSpec.fusedBackward}); `checkOp` proves the two equal.
   */
  fusedBackward?(
    grads: Tensor | readonly Tensor[],
    ctx: BackwardContext,
    out: GradDestinations,
  ): readonly (Tensor | null | undefined)[];
  /** The op's ONNX mapping, `OpSpec.onnx` (the engine's own ops have none). */
  readonly onnx?: OnnxMapping<never>;
}

/**
 * Where the engine would like input gradients written, handed to `fusedBackward` (see
 * {@link OpSpec.fusedBackward}). In a first-order `backward()`, an input that is a leaf whose
 * `.grad` was zeroed by `fill_(0)` (as `Sequential.backward` leaves them) has that `.grad` on
 * offer: computing the gradient straight into its `data` saves an allocation and the copy into
 * `.grad`. Elsewhere (`grad()`, `createGraph`, anomaly mode) nothing is offered.
 */
export interface GradDestinations {
  /**
   * A zero-filled tensor of input `input`'s shape and dtype (the leaf's `.grad`) to compute its
   * gradient into, or null when none is on offer. Its `data` is never the array of one of the
   * op's leaf inputs, saved inputs or outputs or upstream gradients, nor that of one handed out
   * for another input (compared by identity: a tensor built over a view of another tensor's
   * memory is not detected). Write the gradient into its `data` and return the tensor itself as
   * that input's gradient; the engine then leaves it where it is. Anything else is safe but
   * wasted: one written and not returned as its input's gradient is overwritten with that
   * gradient, or zeroed again when the op returns none or throws. Only valid until the op
   * returns (then it gives null).
   */
  take(input: number): Tensor | null;
}

/** @internal The destinations of a pass that offers none (`grad()`, `createGraph`, anomaly mode). */
export const NO_DESTINATIONS: GradDestinations = Object.freeze({ take: () => null });

// ---------------------------------------------------------------------------------------------
// Nodes

/** Creation counter: a node's id is larger than the ids of every node it depends on. */
let nodeCounter = 0;

/** The error for a Node member used on something that is not a node. */
function checkNodeThis(member: string, self: unknown): void {
  if (!isNode(self)) {
    throw new ArgumentError(
      `Node.${member}`,
      `Node.${member}: this must be a Node (the method was called on another value, e.g. detached from its node), got ${describeValue(self)}`,
    );
  }
}

/**
 * Checks an input or output index of a Node method (op authors call them from backward).
 * @throws ArgumentError naming the op and `Node.<member>`.
 */
function checkIndex(n: Node, member: string, arg: string, i: unknown, count: number): number {
  if (typeof i === "number" && Number.isInteger(i) && i >= 0 && i < count) return i;
  throw new ArgumentError(
    n.op.name,
    `${n.op.name}: Node.${member}: ${arg} must be an integer in [0, ${count}), got ${describeValue(i)}`,
  );
}

/** Shape of input `i` of `n` as recorded, for a checked index (conform's hot path). */
export function recordedShape(n: Node, i: number): Shape | null {
  const nx = n.next[i];
  if (nx === null || nx === undefined) return null;
  return nx instanceof Node ? nx.outShapes[n.nextSlot[i]!]! : nx.shape;
}

/** Dtype of input `i` of `n` as recorded, for a checked index. */
export function recordedDtype(n: Node, i: number): FloatDType | null {
  const nx = n.next[i];
  if (nx === null || nx === undefined) return null;
  return nx.dtype;
}

/** @internal The key only `applyOp` passes to Node's constructor: nodes are recorded by ops, not made by hand. */
export const RECORD: unique symbol = Symbol("gradgraph.record");

/** The brand check of nodes, set in Node's static block. */
let nodeBrand: (value: object) => boolean;

/**
 * True for a node recorded by an op (a tensor's `creator`), checked by a private brand, not the
 * prototype: an object made with `Object.create(Node.prototype)` is not a node. Never throws.
 */
export function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && nodeBrand(value);
}

/**
 * One recorded application of an op. Holds edges to the nodes (or leaf tensors) that produced its
 * inputs, what forward saved, and the op's local derivative. Nodes are created by ops, never by
 * hand; they are exposed for inspection (graph export, error reports). A node is also the
 * `BackwardContext` its op's backward receives.
 */
export class Node implements BackwardContext {
  /** Creation order: a node's id is larger than the ids of every node it depends on. */
  readonly id: number;
  /** The op that was applied. */
  readonly op: OpCore;
  /** The attributes the op was called with. */
  readonly attrs: unknown;
  /**
   * Per input: the node that produced it, the input tensor itself when it is a leaf that
   * requires grad, or `null` when no gradient flows to it.
   */
  readonly next: readonly (Node | Tensor | null)[];
  /** Per input: which output of `next[i]` it was (for node edges). */
  readonly nextSlot: readonly number[];
  /** Per input: whether a gradient is needed. */
  readonly needsInputGrad: readonly boolean[];
  /** Shapes of the outputs. */
  readonly outShapes: readonly Shape[];
  /** Dtype of the outputs. */
  readonly dtype: FloatDType;
  /** @internal The captured call stack; V8 formats it to text only when `site` is read. */
  readonly _siteError: Error | null;
  /** True after a backward without `retainGraph` freed what forward saved. */
  released = false;
  /** The input tensors, kept only for nodes recorded under `withDebugRecording`. */
  readonly debugInputs: readonly Tensor[] | null;

  /** @internal */ _savedInputs: (Tensor | undefined)[] | null;
  /** @internal */ _savedVersions: number[] | null;
  /** @internal */ _savedOutputs: Tensor[] | null = null;
  /** What forward kept with `ctx.stash` (private: the node's brand, see `isNode`). */
  #stash: unknown;
  /** @internal */ readonly _hasSaved: boolean;
  /** @internal The last walk of `reachableNodes` that reached this node. */ _mark = 0;
  /** @internal The gradients a running backward pass accumulated for the outputs, or null. */ _acc:
    | (Tensor | null)[]
    | null = null;
  static {
    nodeBrand = (v) => #stash in v;
  }

  /**
   * @internal Nodes are recorded by ops: any other caller gets a GraphError.
   * @throws GraphError naming `Node` unless called by the engine.
   */
  constructor(
    key: typeof RECORD,
    op: OpCore,
    attrs: unknown,
    inputs: readonly Tensor[],
    outShapes: readonly Shape[],
    dtype: FloatDType,
    ctx: ForwardCtx,
  ) {
    if (key !== RECORD) {
      throw new GraphError(
        "Node",
        "Node: nodes are recorded by ops (see defineOp); they cannot be constructed directly",
      );
    }
    this.id = ++nodeCounter;
    this.op = op;
    this.attrs = attrs;
    const n = inputs.length;
    const next = new Array<Node | Tensor | null>(n);
    const slot = new Array<number>(n);
    const needs = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      const t = inputs[i]!;
      const rg = t._requiresGrad;
      needs[i] = rg;
      next[i] = rg ? (t.creator ?? t) : null;
      slot[i] = t.outputIndex;
    }
    this.next = next;
    this.nextSlot = slot;
    this.needsInputGrad = needs;
    this.outShapes = outShapes;
    this.dtype = dtype;
    this._savedInputs = ctx.savedInputs;
    this._savedVersions = ctx.savedVersions;
    this.#stash = ctx.stashValue;
    this._hasSaved = ctx.savedInputs !== null || ctx.saveOut || ctx.stashValue !== undefined;
    this._siteError = modes.sites ? new Error() : null;
    this.debugInputs = modes.inputs ? inputs : null;
  }

  /**
   * Where the op was created (a stack trace), when recorded under `withCreationSites`.
   * @throws ArgumentError naming `Node.site` when read from something that is not a node.
   */
  get site(): string | null {
    checkNodeThis("site", this);
    return this._siteError?.stack ?? null;
  }

  /**
   * The op's name.
   * @throws ArgumentError naming `Node.opName` when read from something that is not a node.
   */
  get opName(): string {
    checkNodeThis("opName", this);
    return this.op.name;
  }

  /**
   * The value forward kept with `ctx.stash`.
   * @throws ArgumentError naming `Node.stashed` when read from something that is not a node.
   */
  get stashed(): unknown {
    checkNodeThis("stashed", this);
    return this.#stash;
  }

  /**
   * What forward saved for backward, for inspection (graph export, memory reports): one entry per
   * saved input and output, with its shape and dtype. Empty once a backward released the node.
   */
  get saved(): readonly SavedEntry[] {
    checkNodeThis("saved", this);
    const out: SavedEntry[] = [];
    const ins = this._savedInputs;
    if (ins !== null) {
      for (let i = 0; i < ins.length; i++) {
        const t = ins[i];
        if (t !== undefined)
          out.push({ role: "input", index: i, name: inputLabel(this.op, i), shape: t.shape, dtype: t.dtype });
      }
    }
    const outs = this._savedOutputs;
    if (outs !== null) {
      for (let k = 0; k < outs.length; k++) {
        const t = outs[k]!;
        out.push({ role: "output", index: k, name: `output ${k}`, shape: t.shape, dtype: t.dtype });
      }
    }
    return out;
  }

  /**
   * Shape of input `i` as recorded (known for inputs that need a gradient).
   * @throws ArgumentError naming `Node.inputShape` when `i` is not an input index, or when called
   *   on something that is not a node.
   */
  inputShape(i: number): Shape | null {
    checkNodeThis("inputShape", this);
    return recordedShape(this, checkIndex(this, "inputShape", "i", i, this.next.length));
  }

  /**
   * Dtype of input `i` as recorded (known for inputs that need a gradient).
   * @throws ArgumentError naming `Node.inputDtype` when `i` is not an input index, or when called
   *   on something that is not a node.
   */
  inputDtype(i: number): FloatDType | null {
    checkNodeThis("inputDtype", this);
    return recordedDtype(this, checkIndex(this, "inputDtype", "i", i, this.next.length));
  }

  input(i: number): Tensor {
    checkNodeThis("input", this);
    checkIndex(this, "input", "i", i, this.next.length);
    const saved = this._savedInputs;
    const name = inputLabel(this.op, i);
    if (saved === null || saved[i] === undefined) {
      if (this.released) throw releasedError(this);
      throw new GraphError(
        this.op.name,
        `${this.op.name}: backward reads input ${i} (${name}), which forward did not save; call ctx.saveInputs(${i}) in forward`,
      );
    }
    const t = saved[i]!;
    const v = this._savedVersions![i]!;
    if (t._version !== v) {
      throw new GraphError(
        this.op.name,
        `${this.op.name}: input ${i} (${name}) saved for backward was modified in place: it is at version ${t._version}, but version ${v} was saved`,
      );
    }
    return t;
  }

  output(k = 0): Tensor {
    checkNodeThis("output", this);
    checkIndex(this, "output", "k", k, this.outShapes.length);
    const saved = this._savedOutputs;
    if (saved === null) {
      if (this.released) throw releasedError(this);
      throw new GraphError(
        this.op.name,
        `${this.op.name}: backward reads output ${k}, which forward did not save; call ctx.saveOutput() in forward`,
      );
    }
    const t = saved[k];
    if (t === undefined) {
      throw new GraphError(
        this.op.name,
        `${this.op.name}: backward reads output ${k}, but the op has ${saved.length} outputs`,
      );
    }
    return t;
  }

  /** @internal Frees what forward saved. */
  _release(): void {
    checkNodeThis("_release", this);
    // (a frozen node cannot drop what it saved: its first field write throws, before any other)
    try {
      this._savedInputs = null;
    } catch {
      throw new GraphError(
        this.op.name,
        `${this.op.name}: node #${this.id} is frozen (Object.freeze) and cannot be released`,
      );
    }
    this._savedVersions = null;
    this._savedOutputs = null;
    this.#stash = undefined;
    this.released = true;
  }
}

/**
 * The first frame of a stack trace (from `Node.site`) that lies outside gradgraph's own package
 * sources: where in the user's code an op was created. `null` when there is none.
 */
export function userFrame(stack: string | null): string | null {
  if (stack === null || stack === undefined) return null;
  if (typeof stack !== "string") {
    throw new ArgumentError("userFrame", `userFrame: stack must be a string or null, got ${describeValue(stack)}`);
  }
  for (const line of stack.split("\n").slice(1)) {
    const l = line.trim();
    if (!l.startsWith("at ")) continue;
    if (/[\\/]packages[\\/](core|nodes|nn|viz)[\\/]src[\\/]|node_modules[\\/]@gradgraph[\\/]|node:internal/.test(l))
      continue;
    return l.slice(3);
  }
  return null;
}

/** One tensor a node saved for backward (see `Node.saved`). */
export interface SavedEntry {
  /** Whether an input or an output was saved. */
  readonly role: "input" | "output";
  /** Its position among the node's inputs or outputs. */
  readonly index: number;
  /** The input's name (`b`, `xs[2]`) or `output k`. */
  readonly name: string;
  /** The saved tensor's shape. */
  readonly shape: Shape;
  /** The saved tensor's dtype. */
  readonly dtype: FloatDType;
}

/** The name of input `i` of `op` for messages: `b`, or `xs[2]` for a variadic op. */
export function inputLabel(op: OpCore, i: number): string {
  if (op.variadic) return `${op.inputNames[0] ?? "inputs"}[${i}]`;
  return op.inputNames[i] ?? `#${i}`;
}

export function releasedError(node: Node): GraphError {
  return new GraphError(
    node.op.name,
    `backward through a released graph: node #${node.id} '${node.op.name}' already freed what it saved for backward in an earlier backward call; pass { retainGraph: true } to the first backward (or grad) to run backward through the same graph twice`,
  );
}

export class ForwardCtx implements ForwardContext {
  readonly op: string;
  readonly dtype: FloatDType;
  readonly resultDType: DType;
  readonly inputs: readonly Tensor[];
  savedInputs: (Tensor | undefined)[] | null = null;
  savedVersions: number[] | null = null;
  saveOut = false;
  stashValue: unknown = undefined;

  constructor(op: string, dtype: FloatDType, inputs: readonly Tensor[], resultDType: DType = dtype) {
    this.op = op;
    this.dtype = dtype;
    this.resultDType = resultDType;
    this.inputs = inputs;
  }

  alloc<D extends DType = FloatDType>(shape: Shape, dtype: D = this.dtype as D): RawArray<D> {
    const n = validSize(shape);
    if (n < 0 || n > MAX_TENSOR_SIZE) throw this.badAlloc(shape, dtype);
    if (dtype === "float32" || dtype === "float64") return { data: allocUnchecked(dtype, n) as ArrayOf<D>, shape };
    if (dtype !== "int32" && dtype !== "bool") throw this.badAlloc(shape, dtype);
    return { data: allocAny(dtype, n) as ArrayOf<D>, shape };
  }

  /** The error for `alloc` with an invalid shape or dtype. */
  private badAlloc(shape: unknown, dtype: unknown): GradgraphError {
    if (dtype !== "float32" && dtype !== "float64" && dtype !== "int32" && dtype !== "bool") {
      return new DTypeError(
        this.op,
        `${this.op}: ctx.alloc: dtype must be 'float32', 'float64', 'int32' or 'bool', got ${describeValue(dtype)}`,
      );
    }
    try {
      checkShape(`${this.op}: ctx.alloc`, shape);
    } catch (e) {
      return e as ShapeError;
    }
    return new ShapeError(this.op, `${this.op}: ctx.alloc: shape ${fmtShape(shape as Shape)} is invalid`);
  }

  saveInputs(...indices: number[]): void {
    const n = this.inputs.length;
    if (this.savedInputs === null) {
      this.savedInputs = new Array<Tensor | undefined>(n);
      // (a loop: Array.prototype.fill is a call into the runtime, ~20 ns more per recorded op)
      const versions = new Array<number>(n);
      for (let k = 0; k < n; k++) versions[k] = 0;
      this.savedVersions = versions;
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      const t = Number.isInteger(i) && i >= 0 ? this.inputs[i] : undefined;
      if (t === undefined) {
        throw new GraphError(
          this.op,
          `${this.op}: forward saves input ${describeValue(i)}, but the op has ${n} inputs (indices 0 to ${n - 1})`,
        );
      }
      this.savedInputs[i] = t;
      this.savedVersions![i] = t._version;
    }
  }

  saveOutput(): void {
    this.saveOut = true;
  }

  stash(value: unknown): void {
    this.stashValue = value;
  }
}

// ---------------------------------------------------------------------------------------------
// The walk

/** Counter of `reachableNodes` walks, for the per-node marks. */
let walkCounter = 0;

/**
 * Every node the `outputs` depend on (their creators and, recursively, the creators of those
 * nodes' inputs), in creation order: a node comes after every node it depends on. One iterative
 * walk (no recursion), shared by the backward engine, gradcheck's culprit search and graph
 * snapshots. A node reached twice is listed once.
 * @throws ArgumentError naming `reachableNodes` when `outputs` is not a tensor or an array of tensors.
 */
export function reachableNodes(outputs: Tensor | readonly Tensor[]): Node[] {
  const outs: readonly Tensor[] = isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  for (let k = 0; k < outs.length; k++) {
    const o: unknown = outs[k];
    if (!isTensor(o)) {
      throw new ArgumentError(
        "reachableNodes",
        `reachableNodes: outputs must be a Tensor or an array of tensors; output ${k} is ${describeNonTensor(o)}`,
      );
    }
  }
  const walk = ++walkCounter;
  const order: Node[] = [];
  const stack: Node[] = [];
  for (let k = 0; k < outs.length; k++) {
    const c = outs[k]!.creator;
    if (c !== null && c._mark !== walk) {
      c._mark = walk;
      stack.push(c);
    }
  }
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    const next = n.next;
    for (let i = 0; i < next.length; i++) {
      const nx = next[i];
      if (nx instanceof Node && nx._mark !== walk) {
        nx._mark = walk;
        stack.push(nx);
      }
    }
  }
  // a chain comes out of the walk newest first: reversing it is cheaper than sorting
  let newestFirst = true;
  for (let i = 1; i < order.length; i++) {
    if (order[i - 1]!.id < order[i]!.id) {
      newestFirst = false;
      break;
    }
  }
  if (newestFirst) return order.reverse();
  return order.sort(byId);
}

function byId(a: Node, b: Node): number {
  return a.id - b.id;
}

registerNodeCheck(isNode);
