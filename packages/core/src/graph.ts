/**
 * The define-by-run graph: nodes recorded by ops, the scoped grad modes, and the reverse-mode
 * engine (`Tensor.backward` and `grad`). The structural primitives the engine itself needs
 * (`sumTo`, `broadcastTo`, `cast` and gradient accumulation) live here too, so the engine and
 * what it calls form one module with no import cycle.
 */
import {
  allocArray,
  allocUnchecked,
  beginTracking,
  type DType,
  endTracking,
  type FloatArray,
  isPoolable,
  recycleArray,
  trackedArrays,
} from "./dtype.js";
import {
  AnomalyError,
  ArgumentError,
  DTypeError,
  describeValue,
  fmtShape,
  type GradgraphError,
  GraphError,
  optionsObject,
  ShapeError,
} from "./errors.js";
import { broadcastInto, sumToInto } from "./kernels/broadcast.js";
import { addInPlace, binaryInto } from "./kernels/elementwise.js";
import type { OnnxMapping } from "./onnx.js";
import {
  checkShape,
  isBroadcastableTo,
  MAX_TENSOR_SIZE,
  type Shape,
  shapeSize,
  shapesEqual,
  validSize,
} from "./shape.js";
import {
  type BackwardOptions,
  copyInStorageOf,
  describeNonTensor,
  isTensor,
  registerNodeCheck,
  seedGradient,
  Tensor,
  TRUSTED,
} from "./tensor.js";
import { checkCallback, isArray } from "./validate.js";

// ---------------------------------------------------------------------------------------------
// Modes

let gradEnabled = true;
let captureSites = false;
let captureInputs = false;
let anomaly = false;
let inBackward = false;
/** True while a backward pass may hand out leaf `.grad` buffers through `gradTarget`. */
let targetsOn = false;
/** The gradient(s) the running op backward received (checked by `gradTarget` for aliasing). */
let currentGy: Tensor | readonly Tensor[] | null = null;
/** Holders of each large gradient array of the running pass (see `backwardPass`), or null. */
let currentRefs: Map<FloatArray, number> | null = null;
/** The leaf `.grad` tensors `gradTarget` handed to the running op backward, with their input positions. */
let handedOut: { input: number; grad: Tensor }[] = [];
let nodeCounter = 0;
let passCounter = 0;

/** True unless inside `noGrad` (or a backward that is not creating a graph). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with recording switched off: ops compute values but record no nodes, so nothing
 * they return requires grad. Scoped and synchronous (restored in `finally`); do not pass an
 * async function, since the mode would not cover what runs after its first `await`.
 */
export function noGrad<T>(fn: () => T): T {
  checkCallback("noGrad", "fn", fn);
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording switched on, even inside `noGrad`. Scoped like `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  checkCallback("enableGrad", "fn", fn);
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs `fn` in anomaly mode: every op's forward output and every gradient a backward returns is
 * checked for NaN and infinity, and the first one found throws an `AnomalyError` that names the op,
 * the phase and the element, and carries the stack of the user code that created the op. Creation
 * sites are recorded meanwhile. Run both the forward and the backward inside it. Scoped and
 * synchronous, like `noGrad`.
 */
export function detectAnomaly<T>(fn: () => T): T {
  checkCallback("detectAnomaly", "fn", fn);
  const prev = anomaly;
  anomaly = true;
  try {
    return withCreationSites(fn);
  } finally {
    anomaly = prev;
  }
}

/**
 * Switches anomaly mode (see `detectAnomaly`) on or off for everything that follows, creation
 * sites included. Returns the previous setting.
 */
export function setAnomalyDetection(on: boolean): boolean {
  const prev = anomaly;
  anomaly = on === true;
  captureSites = anomaly;
  return prev;
}

/** True while anomaly mode is on. */
export function isAnomalyDetectionEnabled(): boolean {
  return anomaly;
}

/**
 * Runs `fn` keeping, on every node it creates, its input tensors and creation site (see
 * `Node.debugInputs`), so each node's local derivative can be checked on its own. Used by
 * gradcheck's fault localisation; costs memory, so it is off by default.
 */
export function withDebugRecording<T>(fn: () => T): T {
  checkCallback("withDebugRecording", "fn", fn);
  const prev = captureInputs;
  captureInputs = true;
  try {
    return withCreationSites(fn);
  } finally {
    captureInputs = prev;
  }
}

/**
 * Runs `fn` recording, for every node it creates, the call stack of the user code that created
 * it (see `Node.site`). Costs a stack capture per op, so it is off by default; gradient checks
 * and error reports switch it on.
 */
export function withCreationSites<T>(fn: () => T): T {
  checkCallback("withCreationSites", "fn", fn);
  const prev = captureSites;
  captureSites = true;
  try {
    return fn();
  } finally {
    captureSites = prev;
  }
}

// ---------------------------------------------------------------------------------------------
// Op definitions as the engine sees them

/** A raw result of a forward: a typed array and its shape. */
export interface RawArray {
  /** The elements, row-major; its length must equal the product of `shape`. */
  readonly data: FloatArray;
  /** The dimensions (`[]` for a scalar). */
  readonly shape: Shape;
}

/** What an op's forward can use: the compute dtype, an allocator, and what to save. */
export interface ForwardContext {
  /** The op's name. */
  readonly op: string;
  /** The dtype of the (promoted) inputs, the default dtype of outputs. */
  readonly dtype: DType;
  /** A zero-filled output array of `shape` in `dtype` (default: the op's dtype). */
  alloc(shape: Shape, dtype?: DType): RawArray;
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
  /**
   * A buffer the op's backward may write input `i`'s whole gradient into, or null (then allocate
   * as usual). Non-null only in a first-order backward (no `createGraph`, no anomaly mode, not a
   * functional `grad` call) when input `i` is a leaf whose `.grad` was zeroed by `fill_(0)` and not
   * changed since, has the input's shape and dtype, and is neither another input of this node nor
   * anything this node saved or receives. Return `new Tensor(target, shape)` for that input: the
   * engine then knows the gradient is already in place and skips the copy.
   */
  gradTarget(i: number): FloatArray | null;
  /**
   * The buffer of the gradient this backward received for output `k` (default 0) when the op may
   * overwrite it with its own result, else null. Non-null only for an op that declared
   * `ownsGradients`, in a first-order backward, when that gradient is a large array made by the
   * engine during this pass and nothing else holds it. Write an input's gradient of the same size
   * there (elementwise, reading each element before writing it) and return a tensor over it.
   */
  gradInPlace(k?: number): FloatArray | null;
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
  forward(inputs: readonly Tensor[], attrs: unknown, ctx: ForwardContext): RawArray | readonly RawArray[];
  /**
   * Maps the output's gradient (an array of them when `multi`) to one gradient per input, `null`
   * or `undefined` where none is needed; see {@link OpSpec.backward}.
   */
  backward(grads: Tensor | readonly Tensor[], ctx: BackwardContext): readonly (Tensor | null | undefined)[];
  /** The op's ONNX mapping, `OpSpec.onnx` (the engine's own ops have none). */
  readonly onnx?: OnnxMapping<never>;
}

// ---------------------------------------------------------------------------------------------
// Nodes

/**
 * One recorded application of an op. Holds edges to the nodes (or leaf tensors) that produced its
 * inputs, what forward saved, and the op's local derivative. Nodes are created by ops, never by
 * hand; they are exposed for inspection (graph export, error reports).
 */
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
function recordedShape(n: Node, i: number): Shape | null {
  const nx = n.next[i];
  if (nx === null || nx === undefined) return null;
  return nx instanceof Node ? nx.outShapes[n.nextSlot[i]!]! : nx.shape;
}

/** Dtype of input `i` of `n` as recorded, for a checked index. */
function recordedDtype(n: Node, i: number): DType | null {
  const nx = n.next[i];
  if (nx === null || nx === undefined) return null;
  return nx.dtype;
}

/** The key only `applyOp` passes to Node's constructor: nodes are recorded by ops, not made by hand. */
const RECORD: unique symbol = Symbol("gradgraph.record");

/** The brand check of nodes, set in Node's static block. */
let nodeBrand: (value: object) => boolean;

/**
 * True for a node recorded by an op (a tensor's `creator`), checked by a private brand, not the
 * prototype: an object made with `Object.create(Node.prototype)` is not a node. Never throws.
 */
export function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && nodeBrand(value);
}

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
  readonly dtype: DType;
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
  /** @internal */ _mark = 0;
  /** @internal */ _needed = 0;
  /** @internal */ _acc: (Tensor | null)[] | null = null;
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
    dtype: DType,
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
    this._siteError = captureSites ? new Error() : null;
    this.debugInputs = captureInputs ? inputs : null;
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
  inputDtype(i: number): DType | null {
    checkNodeThis("inputDtype", this);
    return recordedDtype(this, checkIndex(this, "inputDtype", "i", i, this.next.length));
  }

  gradInPlace(k = 0): FloatArray | null {
    checkNodeThis("gradInPlace", this);
    checkIndex(this, "gradInPlace", "k", k, this.outShapes.length);
    if (!targetsOn || this.op.ownsGradients !== true || currentRefs === null) return null;
    const gy = currentGy;
    const g = gy instanceof Tensor ? (k === 0 ? gy : undefined) : gy?.[k];
    if (g === undefined) return null;
    const d = g.data;
    const fresh = trackedArrays();
    if (fresh === null || !fresh.has(d) || currentRefs.get(d) !== 1) return null;
    return d;
  }

  gradTarget(i: number): FloatArray | null {
    checkNodeThis("gradTarget", this);
    checkIndex(this, "gradTarget", "i", i, this.next.length);
    if (!targetsOn) return null;
    const leaf = this.next[i];
    if (leaf === null || leaf === undefined || leaf instanceof Node) return null;
    const g = leaf.grad;
    if (g === null || g.creator !== null || g._zeroAt !== g._version || g.dtype !== leaf.dtype) return null;
    // a frozen .grad cannot take the gradient in place (its version bump would fail after the write)
    try {
      // biome-ignore lint/correctness/noSelfAssign: the write is the test
      g._version = g._version;
    } catch {
      return null;
    }
    if (!shapesEqual(g.shape, leaf.shape)) return null;
    const data = g.data;
    const next = this.next;
    for (let k = 0; k < next.length; k++) if (k !== i && next[k] === leaf) return null;
    const ins = this._savedInputs;
    if (ins !== null) for (let k = 0; k < ins.length; k++) if (ins[k]?.data === data) return null;
    const outs = this._savedOutputs;
    if (outs !== null) for (let k = 0; k < outs.length; k++) if (outs[k]!.data === data) return null;
    const gy = currentGy;
    if (gy instanceof Tensor) {
      if (gy.data === data) return null;
    } else if (gy !== null) {
      for (let k = 0; k < gy.length; k++) if (gy[k]!.data === data) return null;
    }
    handedOut.push({ input: i, grad: g });
    return data;
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

  /** @internal Entry point of `Tensor.backward` for tensors this node produced. */
  runBackward(root: Tensor, gradOutput: Tensor, options: BackwardOptions): void {
    checkNodeThis("runBackward", this);
    if (
      !isTensor(root) ||
      root.creator !== this ||
      !isTensor(gradOutput) ||
      !shapesEqual(gradOutput.shape, root.shape)
    ) {
      throw new ArgumentError(
        "Node.runBackward",
        "Node.runBackward: root must be a tensor this node produced and gradOutput a tensor of its shape (use root.backward(gradOutput))",
      );
    }
    const opts = optionsObject("backward", options);
    const create = opts.createGraph === true;
    const retain = opts.retainGraph ?? create;
    backwardPass([root], [gradOutput], retain, create, null, false);
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
  readonly dtype: DType;
}

/** The name of input `i` of `op` for messages: `b`, or `xs[2]` for a variadic op. */
export function inputLabel(op: OpCore, i: number): string {
  if (op.variadic) return `${op.inputNames[0] ?? "inputs"}[${i}]`;
  return op.inputNames[i] ?? `#${i}`;
}

function releasedError(node: Node): GraphError {
  return new GraphError(
    node.op.name,
    `backward through a released graph: node #${node.id} '${node.op.name}' already freed what it saved for backward in an earlier backward call; pass { retainGraph: true } to the first backward (or grad) to run backward through the same graph twice`,
  );
}

class ForwardCtx implements ForwardContext {
  readonly op: string;
  readonly dtype: DType;
  readonly inputs: readonly Tensor[];
  savedInputs: (Tensor | undefined)[] | null = null;
  savedVersions: number[] | null = null;
  saveOut = false;
  stashValue: unknown = undefined;

  constructor(op: string, dtype: DType, inputs: readonly Tensor[]) {
    this.op = op;
    this.dtype = dtype;
    this.inputs = inputs;
  }

  alloc(shape: Shape, dtype: DType = this.dtype): RawArray {
    const n = validSize(shape);
    if (n < 0 || n > MAX_TENSOR_SIZE || (dtype !== "float32" && dtype !== "float64")) throw this.badAlloc(shape, dtype);
    return { data: allocUnchecked(dtype, n), shape };
  }

  /** The error for `alloc` with an invalid shape or dtype. */
  private badAlloc(shape: unknown, dtype: unknown): GradgraphError {
    if (dtype !== "float32" && dtype !== "float64") {
      return new DTypeError(
        this.op,
        `${this.op}: ctx.alloc: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`,
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
      this.savedVersions = new Array<number>(n).fill(0);
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
// Applying an op

/**
 * Runs `op` on already-validated tensor inputs of one `dtype` and records a node when recording
 * is on and any input requires grad. Returns the output tensor, or the array of outputs for a
 * multi-output op. The forward runs with recording off.
 * @throws GraphError when forward returns something that is not a well-formed raw array.
 */
export function applyOp(op: OpCore, inputs: readonly Tensor[], attrs: unknown, dtype: DType): Tensor | Tensor[] {
  const ctx = new ForwardCtx(op.name, dtype, inputs);
  const prev = gradEnabled;
  gradEnabled = false;
  let raw: RawArray | readonly RawArray[];
  try {
    raw = op.forward(inputs, attrs, ctx);
  } finally {
    gradEnabled = prev;
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
    const r = checkRaw(op, raw as RawArray, 0);
    if (!record) {
      if (anomaly && !inBackward) checkForward(op, r.data, 0, null);
      return new Tensor(r.data, r.shape, false, null, 0, TRUSTED);
    }
    const node = new Node(RECORD, op, attrs, inputs, [r.shape], dtypeOf(r.data), ctx);
    const out = new Tensor(r.data, r.shape, true, node, 0, TRUSTED);
    if (ctx.saveOut) node._savedOutputs = [out];
    if (anomaly && !inBackward) checkForward(op, r.data, 0, node);
    return out;
  }
  if (!Array.isArray(raw)) {
    throw new GraphError(
      op.name,
      `${op.name}: forward of a multi-output op must return an array, got ${describeValue(raw)}`,
    );
  }
  // an index loop: a hole of a (huge, sparse) array fails at once instead of being skipped
  const list = raw as readonly RawArray[];
  const raws = new Array<RawArray>(Math.min(list.length, MAX_OUTPUTS));
  for (let k = 0; k < list.length; k++) {
    if (k === MAX_OUTPUTS) {
      throw new GraphError(op.name, `${op.name}: forward returned ${list.length} outputs, more than ${MAX_OUTPUTS}`);
    }
    raws[k] = checkRaw(op, list[k]!, k);
  }
  if (!record) return raws.map((r) => new Tensor(r.data, r.shape, false, null, 0, TRUSTED));
  const node = new Node(
    RECORD,
    op,
    attrs,
    inputs,
    raws.map((r) => r.shape),
    raws.length > 0 ? dtypeOf(raws[0]!.data) : dtype,
    ctx,
  );
  const outs = raws.map((r, k) => new Tensor(r.data, r.shape, true, node, k, TRUSTED));
  if (ctx.saveOut) node._savedOutputs = outs;
  if (anomaly && !inBackward) for (let k = 0; k < raws.length; k++) checkForward(op, raws[k]!.data, k, node);
  return outs;
}

/** Most outputs a multi-output op may return. */
const MAX_OUTPUTS = 2 ** 20;

/** Index of the first NaN or infinity in `data`, or −1. */
function firstNonFinite(data: FloatArray): number {
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

function checkBackward(n: Node, j: number, g: Tensor): void {
  const i = firstNonFinite(g.data);
  if (i < 0) return;
  throw new AnomalyError(
    n.op.name,
    `anomaly: the backward of op '${n.op.name}' (node #${n.id}) returned ${g.data[i]} in the gradient of input ${j} (${inputLabel(n.op, j)}) at element ${i}; the op was created at ${userFrame(n.site) ?? "(unknown)"}`,
    { phase: "backward", nodeId: n.id, site: n.site, index: i, value: g.data[i]! },
  );
}

function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

function checkRaw(op: OpCore, r: RawArray, k: number): RawArray {
  const ok =
    r !== null &&
    typeof r === "object" &&
    (r.data instanceof Float32Array || r.data instanceof Float64Array) &&
    validSize(r.shape) === r.data.length;
  if (!ok) {
    const what =
      r !== null && typeof r === "object" && Array.isArray(r.shape)
        ? `data of ${describeValue(r.data)} with length ${(r.data as { length?: unknown })?.length} for shape ${fmtShape(r.shape)}`
        : describeValue(r);
    throw new GraphError(
      op.name,
      `${op.name}: forward output ${k} must be { data: Float32Array | Float64Array, shape } with matching size, got ${what}`,
    );
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// The reverse-mode engine

/** Options of `grad`. */
export interface GradOptions {
  /** Upstream gradient(s), one per output; may be omitted for one-element outputs. */
  gradOutput?: Tensor | number | readonly (Tensor | number)[];
  /** Keep what the graph saved so backward can run through it again (default `false`). */
  retainGraph?: boolean;
  /** Record the backward computation so the gradients are differentiable again. */
  createGraph?: boolean;
  /** Return zeros for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Functional reverse mode: the gradients of `sum(gradOutput · output)` with respect to `inputs`,
 * returned in order, without touching any `.grad`. Inputs may be leaves or intermediate tensors.
 * @param output - one tensor or several (their contributions add up).
 * @param inputs - the tensors to differentiate with respect to.
 * @throws GraphError for a non-scalar output without `gradOutput`, an input the outputs do not
 *   depend on (unless `allowUnused`), or a released graph.
 * @throws ShapeError when a `gradOutput` shape differs from its output's.
 */
export function grad(
  output: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  options: GradOptions = {},
): Tensor[] {
  options = optionsObject("grad", options);
  const outputs: readonly Tensor[] = isArray(output) ? (output as readonly Tensor[]) : [output as Tensor];
  if (!isArray(inputs)) {
    throw new ArgumentError("grad", `grad: inputs must be an array of tensors, got ${describeValue(inputs)}`);
  }
  // index loops, not forEach: a hole of a sparse array must fail here, and a huge sparse array
  // must not take minutes to skip
  for (let k = 0; k < outputs.length; k++) {
    const o: unknown = outputs[k];
    if (!isTensor(o))
      throw new ArgumentError("grad", `grad: output ${k} must be a Tensor, got ${describeNonTensor(o)}`);
  }
  for (let k = 0; k < inputs.length; k++) {
    const t: unknown = inputs[k];
    if (!isTensor(t)) throw new ArgumentError("grad", `grad: input ${k} must be a Tensor, got ${describeNonTensor(t)}`);
    if (!t._requiresGrad) {
      throw new GraphError(
        "grad",
        `grad: input ${k} ${t.toString()} does not require grad, so no gradient can flow to it`,
      );
    }
  }
  const go = options.gradOutput;
  const gos: readonly (Tensor | number | undefined)[] =
    go === undefined ? outputs.map(() => undefined) : Array.isArray(go) ? go : [go as Tensor | number];
  if (gos.length !== outputs.length) {
    throw new ArgumentError("grad", `grad: ${gos.length} gradOutputs for ${outputs.length} outputs`);
  }
  const seeds = outputs.map((o, k) => seedGradient("grad", o, gos[k]));
  const create = options.createGraph === true;
  const retain = options.retainGraph ?? create;
  const res = backwardPass(outputs, seeds, retain, create, inputs, options.allowUnused === true)!;
  return res as Tensor[];
}

function backwardPass(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  retain: boolean,
  create: boolean,
  targets: readonly Tensor[] | null,
  allowUnused: boolean,
): (Tensor | null)[] | null {
  const pass = ++passCounter;
  // 1. collect the nodes reachable from the roots (iterative DFS; no recursion)
  const order: Node[] = [];
  const stack: Node[] = [];
  for (const r of roots) {
    const c = r.creator;
    if (c !== null && c._mark !== pass) {
      c._mark = pass;
      stack.push(c);
    }
  }
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    const next = n.next;
    for (let i = 0; i < next.length; i++) {
      const nx = next[i];
      if (nx instanceof Node && nx._mark !== pass) {
        nx._mark = pass;
        stack.push(nx);
      }
    }
  }
  // 2. reverse topological order: a consumer is always created after its inputs
  // (a chain's DFS order is already sorted: check first, which is cheaper than sorting)
  let sorted = true;
  for (let i = 1; i < order.length; i++) {
    if (order[i - 1]!.id < order[i]!.id) {
      sorted = false;
      break;
    }
  }
  if (!sorted) order.sort(byIdDesc);

  // 3. targets (functional grad): leaves by identity, intermediate tensors by (node, slot)
  let results: (Tensor | null)[] | null = null;
  let leafTargets: Map<Tensor, number[]> | null = null;
  let nodeTargets: Map<Node, [number, number][]> | null = null;
  if (targets !== null) {
    results = new Array<Tensor | null>(targets.length).fill(null);
    leafTargets = new Map();
    nodeTargets = new Map();
    targets.forEach((t, k) => {
      if (t.creator === null) pushTo(leafTargets!, t, k);
      else pushTo(nodeTargets!, t.creator, [t.outputIndex, k] as [number, number]);
    });
    // a node is needed when one of its edges leads to a target
    for (let i = order.length - 1; i >= 0; i--) {
      const n = order[i]!;
      const next = n.next;
      for (let j = 0; j < next.length; j++) {
        const nx = next[j];
        if (nx === null || nx === undefined) continue;
        if (nx instanceof Node) {
          if (nx._needed === pass || hasSlot(nodeTargets.get(nx), n.nextSlot[j]!)) {
            n._needed = pass;
            break;
          }
        } else if (leafTargets.has(nx)) {
          n._needed = pass;
          break;
        }
      }
    }
  }

  // The first-order fast paths (gradTarget, gradInPlace, bias sums into zeroed grads) and memory
  // reuse apply to a plain backward: no createGraph, no functional targets, no anomaly mode. For
  // memory reuse, `trackedArrays()` holds the large arrays allocated during this pass whose every
  // holder is known (null while there are none, so small-tensor graphs pay nothing); `refs` counts
  // the accumulator slots holding each. Once the last op that received one has run, and that op
  // and the op that made it both declared `ownsGradients`, the array goes back to the pool.
  const plain = !create && targets === null && !anomaly;
  let refs: Map<FloatArray, number> | null = null;
  const prevTracking = beginTracking(plain);
  try {
    // 4. seed the roots
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      const g = seeds[r]!;
      const c = root.creator;
      if (c !== null) deposit(c, root.outputIndex, g, create);
      else if (root._requiresGrad) deliverLeaf(root, g, create, leafTargets, results);
    }
    // 5. one reverse sweep
    for (let oi = 0; oi < order.length; oi++) {
      const n = order[oi]!;
      const acc = n._acc;
      n._acc = null;
      if (nodeTargets !== null) {
        const slots = nodeTargets.get(n);
        if (slots !== undefined) for (const [s, k] of slots) results![k] = acc?.[s] ?? null;
      }
      if (acc === null) continue;
      if (targets !== null && n._needed !== pass) continue;
      if (n.released && n._hasSaved) throw releasedError(n);
      const op = n.op;
      let gin: Tensor | Tensor[];
      if (op.multi) {
        const gys = new Array<Tensor>(n.outShapes.length);
        for (let k = 0; k < gys.length; k++) {
          const shape = n.outShapes[k]!;
          gys[k] = acc[k] ?? new Tensor(allocArray(n.dtype, shapeSize(shape)), shape);
        }
        gin = gys;
      } else {
        const gy = acc[0];
        if (gy === null || gy === undefined) continue;
        gin = gy;
      }
      const prev = gradEnabled;
      gradEnabled = create;
      // in anomaly mode the ops a backward runs are not checked one by one: the gradients it
      // returns are, so the error names this node
      const prevInBackward = inBackward;
      inBackward = true;
      const prevTargets = targetsOn;
      const prevGy = currentGy;
      targetsOn = plain;
      currentGy = gin;
      const prevHanded = handedOut;
      handedOut = [];
      const prevRefs = currentRefs;
      currentRefs = refs;
      let gx: readonly (Tensor | null | undefined)[] = [];
      try {
        gx = op.backward(gin, n);
      } finally {
        gradEnabled = prev;
        inBackward = prevInBackward;
        targetsOn = prevTargets;
        currentGy = prevGy;
        currentRefs = prevRefs;
        // a target the backward wrote but did not return as its input's gradient (it threw, or
        // returned something else or nothing) is zeroed again: the gradient delivered below, if
        // any, is what counts
        const handed = handedOut;
        handedOut = prevHanded;
        for (let k = 0; k < handed.length; k++) {
          const { input, grad } = handed[k]!;
          if (!returnsBuffer(gx, input, grad.data)) grad.data.fill(0);
        }
      }
      const next = n.next;
      if (!Array.isArray(gx) || gx.length !== next.length) {
        throw new GraphError(
          op.name,
          `${op.name}: backward must return an array of ${next.length} gradients (one per input, null where none), got ${Array.isArray(gx) ? `${gx.length} entries` : describeValue(gx)}`,
        );
      }
      for (let j = 0; j < next.length; j++) {
        const nx = next[j];
        if (nx === null || nx === undefined) continue;
        let g = gx[j];
        if (g === null || g === undefined) continue;
        if (plain && !(nx instanceof Node) && sumIntoZeroGrad(nx, g)) continue;
        g = conform(n, j, g, create);
        if (anomaly) checkBackward(n, j, g);
        if (nx instanceof Node) {
          const slot = n.nextSlot[j]!;
          const prevAcc = nx._acc?.[slot] ?? null;
          deposit(nx, slot, g, create);
          const fresh = plain ? trackedArrays() : null;
          if (fresh !== null) {
            if (refs === null) refs = new Map();
            trackDeposit(fresh, refs, op, prevAcc, g, nx._acc![slot]!);
          }
        } else deliverLeaf(nx, g, create, leafTargets, results);
      }
      const fresh = plain ? trackedArrays() : null;
      if (fresh !== null) {
        if (refs === null) refs = new Map();
        releaseReceived(fresh, refs, op, gin, gx);
      }
      if (!retain) n._release();
    }
  } finally {
    endTracking(prevTracking);
    for (let i = 0; i < order.length; i++) order[i]!._acc = null;
  }

  if (results === null) return null;
  for (let k = 0; k < results.length; k++) {
    if (results[k] === null) {
      const t = targets![k]!;
      if (!allowUnused) {
        throw new GraphError(
          "grad",
          `grad: input ${k} ${t.toString()} is not reachable from the outputs (no gradient flows to it); pass { allowUnused: true } to get zeros`,
        );
      }
      results[k] = new Tensor(allocArray(t.dtype, t.size), t.shape);
    }
  }
  return results;
}

/** Hands a leaf its gradient: into `.grad` (backward), or into the results of `grad()`. */
function deliverLeaf(
  leaf: Tensor,
  g: Tensor,
  create: boolean,
  leafTargets: Map<Tensor, number[]> | null,
  results: (Tensor | null)[] | null,
): void {
  if (leafTargets === null) {
    accumulateGrad(leaf, g, create);
    return;
  }
  const ks = leafTargets.get(leaf);
  if (ks === undefined) return;
  for (const k of ks) {
    const prev = results![k];
    results![k] = prev === null || prev === undefined ? g : accumulate(prev, g, create);
  }
}

function byIdDesc(a: Node, b: Node): number {
  return b.id - a.id;
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function hasSlot(slots: [number, number][] | undefined, s: number): boolean {
  if (slots === undefined) return false;
  for (const [slot] of slots) if (slot === s) return true;
  return false;
}

/** Brings a gradient returned by `n`'s backward for input `j` to that input's shape and dtype. */
function conform(n: Node, j: number, g: Tensor, create: boolean): Tensor {
  if (!isTensor(g)) {
    throw new GraphError(
      n.op.name,
      `${n.op.name}: backward returned ${describeNonTensor(g)} as the gradient of input ${j} (${inputLabel(n.op, j)}); expected a Tensor or null`,
    );
  }
  const shape = recordedShape(n, j)!;
  const dtype = recordedDtype(n, j)!;
  if (!shapesEqual(g.shape, shape)) {
    if (!isBroadcastableTo(shape, g.shape)) {
      throw new GraphError(
        n.op.name,
        `${n.op.name}: backward returned a gradient of shape ${fmtShape(g.shape)} for input ${j} (${inputLabel(n.op, j)}) of shape ${fmtShape(shape)}; it must equal the input's shape or broadcast from it`,
      );
    }
    g = create ? sumTo(g, shape) : sumToRaw(g, shape);
  }
  if (g.dtype !== dtype) g = create ? cast(g, dtype) : castRaw(g, dtype);
  return g;
}

function deposit(n: Node, slot: number, g: Tensor, create: boolean): void {
  let acc = n._acc;
  if (acc === null) {
    acc = new Array<Tensor | null>(n.outShapes.length).fill(null);
    n._acc = acc;
  }
  const prev = acc[slot];
  acc[slot] = prev === null || prev === undefined ? g : accumulate(prev, g, create);
}

function accumulate(a: Tensor, b: Tensor, create: boolean): Tensor {
  if (create) return applyOp(accumulateOp, [a, b], null, a.dtype) as Tensor;
  const out = allocArray(a.dtype, a.size);
  binaryInto("add", a.data, a.shape, b.data, b.shape, out, a.shape);
  return new Tensor(out, a.shape);
}

/**
 * Bookkeeping of a deposit for memory reuse: an accumulator slot now holds `stored` (`g` itself, or
 * the sum of `prev` and `g`). Arrays an op that did not declare `ownsGradients` returned, and both
 * addends of a sum, are never reused; the stored array gains a holder.
 */
function trackDeposit(
  fresh: Set<FloatArray>,
  refs: Map<FloatArray, number>,
  producer: OpCore,
  prev: Tensor | null,
  g: Tensor,
  stored: Tensor,
): void {
  if (prev !== null) {
    fresh.delete(prev.data);
    fresh.delete(g.data);
  } else if (producer.ownsGradients !== true) {
    fresh.delete(g.data);
    return;
  }
  const d = stored.data;
  if (fresh.has(d)) refs.set(d, (refs.get(d) ?? 0) + 1);
}

/**
 * After an op's backward ran and its gradients were delivered: each large gradient it received
 * loses a holder; one with none left goes back to the pool, unless the op may keep it (no
 * `ownsGradients`) or returned it or a view of it.
 */
function releaseReceived(
  fresh: Set<FloatArray>,
  refs: Map<FloatArray, number>,
  op: OpCore,
  gin: Tensor | readonly Tensor[],
  gx: readonly (Tensor | null | undefined)[],
): void {
  const gys = gin instanceof Tensor ? [gin] : gin;
  for (let k = 0; k < gys.length; k++) {
    const d = gys[k]!.data;
    if (!isPoolable(d) || !fresh.has(d)) continue;
    if (op.ownsGradients !== true) {
      fresh.delete(d);
      continue;
    }
    const r = (refs.get(d) ?? 0) - 1;
    if (r > 0) {
      refs.set(d, r);
      continue;
    }
    refs.delete(d);
    fresh.delete(d);
    let returned = false;
    for (let j = 0; j < gx.length; j++) if (gx[j]?.data.buffer === d.buffer) returned = true;
    if (!returned) recycleArray(d);
  }
}

/** Whether the gradient `gx[input]` is the tensor over `data` (its target, written in place). */
function returnsBuffer(gx: unknown, input: number, data: FloatArray): boolean {
  if (!Array.isArray(gx)) return false;
  const g: unknown = gx[input];
  return g instanceof Tensor && g.data === data;
}

/**
 * First-order fast path for a gradient that must be summed down to a leaf's shape (a bias, say):
 * when the leaf's `.grad` is zeroed (`fill_(0)`, unchanged since) and of the leaf's shape and
 * dtype, sums `g` straight into it and returns true; else false (nothing done).
 */
function sumIntoZeroGrad(leaf: Tensor, g: Tensor): boolean {
  const cur = leaf.grad;
  if (cur === null || cur.creator !== null || cur._zeroAt !== cur._version) return false;
  if (g.dtype !== leaf.dtype || cur.dtype !== leaf.dtype || shapesEqual(g.shape, leaf.shape)) return false;
  if (!shapesEqual(cur.shape, leaf.shape) || !isBroadcastableTo(leaf.shape, g.shape)) return false;
  if (g.data === cur.data) return false;
  // the version first: it throws for a frozen .grad before its data changes (accumulateGrad then
  // reports it); a try/catch costs nothing here, where Object.isFrozen on every delivery did
  try {
    cur._version++;
  } catch {
    return false;
  }
  sumToInto(g.data, g.shape, cur.data, leaf.shape);
  return true;
}

/**
 * Adds `g` into a leaf's `.grad`: in place when it exists (bumping its version; a copy when the
 * grad was zeroed by `fill_(0)` and not changed since), else a copy.
 * @throws GraphError naming `backward` when the leaf (which needs a new `.grad`) or its `.grad`
 *   (which would be changed in place) is frozen; nothing is changed then.
 */
function accumulateGrad(leaf: Tensor, g: Tensor, create: boolean): void {
  const cur = leaf.grad;
  // writing to a frozen object throws a TypeError: each write below comes before any other change
  // it would imply, and the TypeError becomes a GraphError
  try {
    if (cur === null) {
      // the first gradient of a leaf is a copy, in the leaf's storage (see Tensor.storage)
      leaf.grad = create ? g : new Tensor(copyInStorageOf(leaf.data, g.data), g.shape);
    } else if (create || cur.creator !== null) {
      leaf.grad = accumulate(cur, g, create);
    } else {
      // a .grad zeroed by fill_(0) and unchanged since (same version) takes a copy: 0 + g = g
      // (when backward wrote it in place through gradTarget, g.data is cur.data: nothing to copy)
      const zeroed = cur._zeroAt === cur._version;
      cur._version++;
      if (zeroed) {
        if (g.data !== cur.data) cur.data.set(g.data);
      } else addInPlace(cur.data, g.data);
    }
  } catch (e) {
    const frozen = Object.isFrozen(leaf) ? "the leaf" : cur !== null && Object.isFrozen(cur) ? "its .grad" : null;
    if (!(e instanceof TypeError) || frozen === null) throw e;
    throw new GraphError(
      "backward",
      `backward: cannot store the gradient of the leaf ${leaf.toString()}: ${frozen} is frozen (Object.freeze); use grad() for frozen leaves`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Structural primitives the engine uses

const accumulateOp: OpCore = {
  name: "accumulateGrad",
  inputNames: ["a", "b"],
  multi: false,
  forward([a, b], _attrs, ctx) {
    const out = ctx.alloc(a!.shape);
    binaryInto("add", a!.data, a!.shape, b!.data, b!.shape, out.data, a!.shape);
    return out;
  },
  backward(gy) {
    return [gy as Tensor, gy as Tensor];
  },
};

interface ShapeAttrs {
  readonly shape: Shape;
  readonly from: Shape;
}

const sumToOp: OpCore = {
  name: "sumTo",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    const { shape } = attrs as ShapeAttrs;
    const out = ctx.alloc(shape);
    sumToInto(x!.data, x!.shape, out.data, shape);
    return out;
  },
  backward(gy, ctx) {
    return [broadcastTo(gy as Tensor, (ctx.attrs as ShapeAttrs).from)];
  },
};

const broadcastToOp: OpCore = {
  name: "broadcastTo",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    const { shape } = attrs as ShapeAttrs;
    const out = ctx.alloc(shape);
    broadcastInto(x!.data, x!.shape, out.data, shape);
    return out;
  },
  backward(gy, ctx) {
    return [sumTo(gy as Tensor, (ctx.attrs as ShapeAttrs).from)];
  },
};

interface CastAttrs {
  readonly dtype: DType;
  readonly from: DType;
}

const castOp: OpCore = {
  name: "cast",
  inputNames: ["x"],
  multi: false,
  forward([x], attrs, ctx) {
    const out = ctx.alloc(x!.shape, (attrs as CastAttrs).dtype);
    out.data.set(x!.data);
    return out;
  },
  backward(gy, ctx) {
    return [cast(gy as Tensor, (ctx.attrs as CastAttrs).from)];
  },
};

function checkTensorArg(fn: string, x: unknown): Tensor {
  if (!isTensor(x)) throw new ArgumentError(fn, `${fn}: x must be a Tensor, got ${describeNonTensor(x)}`);
  return x;
}

/**
 * Sums `x` down to `shape`, undoing a broadcast from `shape` to `x.shape` (numpy rules). Returns
 * `x` itself when the shapes are equal. Its derivative is `broadcastTo`, and vice versa.
 * @throws ShapeError when `shape` does not broadcast to `x.shape`.
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensorArg("sumTo", x);
  const s = checkShape("sumTo", shape);
  if (shapesEqual(x.shape, s)) return x;
  if (!isBroadcastableTo(s, x.shape)) {
    throw new ShapeError(
      "sumTo",
      `sumTo: cannot sum shape ${fmtShape(x.shape)} to ${fmtShape(s)} (${fmtShape(s)} does not broadcast to ${fmtShape(x.shape)})`,
    );
  }
  return applyOp(sumToOp, [x], { shape: s, from: x.shape } satisfies ShapeAttrs, x.dtype) as Tensor;
}

/**
 * Broadcasts `x` to `shape` by numpy rules, copying along the new and size-1 dimensions. Returns
 * `x` itself when the shapes are equal. Its derivative is `sumTo`.
 * @throws ShapeError when `x.shape` does not broadcast to `shape`.
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensorArg("broadcastTo", x);
  const s = checkShape("broadcastTo", shape);
  if (shapesEqual(x.shape, s)) return x;
  if (!isBroadcastableTo(x.shape, s)) {
    throw new ShapeError(
      "broadcastTo",
      `broadcastTo: shape ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(s)}`,
    );
  }
  return applyOp(broadcastToOp, [x], { shape: s, from: x.shape } satisfies ShapeAttrs, x.dtype) as Tensor;
}

/**
 * Converts `x` to `dtype` (a recorded, differentiable copy; the gradient is cast back). Returns
 * `x` itself when it already has that dtype.
 * @throws DTypeError for an unknown dtype.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensorArg("cast", x);
  if (dtype !== "float32" && dtype !== "float64") {
    throw new DTypeError("cast", `cast: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  }
  if (x.dtype === dtype) return x;
  return applyOp(castOp, [x], { dtype, from: x.dtype } satisfies CastAttrs, dtype) as Tensor;
}

function sumToRaw(g: Tensor, shape: Shape): Tensor {
  const out = allocArray(g.dtype, shapeSize(shape));
  sumToInto(g.data, g.shape, out, shape);
  return new Tensor(out, shape);
}

function castRaw(g: Tensor, dtype: DType): Tensor {
  const out = allocArray(dtype, g.size);
  out.set(g.data);
  return new Tensor(out, g.shape);
}

registerNodeCheck(isNode);
