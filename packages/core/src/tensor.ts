import {
  type ArrayOf,
  allocArray,
  checkAnyDType,
  checkDType,
  convertInto,
  convertValue,
  DEFAULT_DTYPE,
  type DType,
  dtypeOfArray,
  type FloatArray,
  type FloatDType,
  isFloatDType,
  promotionRank,
  type TensorData,
} from "./dtype.js";
import {
  ArgumentError,
  checkOptionKeys,
  DTypeError,
  describeValue,
  fmtShape,
  GradgraphError,
  GraphError,
  isDetached,
  optionsObject,
  ShapeError,
} from "./errors.js";
import { heapArray, heapFill, heapUnavailable, inHeap, type Storage } from "./kernels/runtime/heap.js";
import type { Node } from "./node.js";
import { type Rng, rngFrom, type Seed } from "./random.js";
import { checkShape, MAX_RANK, MAX_TENSOR_SIZE, type Shape, shapeSize, shapesEqual } from "./shape.js";
import { isArray, isRevoked } from "./validate.js";

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep what the graph saved so that backward can run through it again (default `false`). */
  retainGraph?: boolean;
  /**
   * Record the backward computation itself, so the gradients are differentiable again
   * (higher-order gradients). Implies `retainGraph` unless it is given.
   */
  createGraph?: boolean;
}

/**
 * True for a tensor's typed array (Float32Array, Float64Array, Int32Array, Uint8Array); false for
 * anything else, a revoked Proxy included.
 */
function isTensorArray(v: unknown): v is TensorData {
  try {
    return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
  } catch {
    return false;
  }
}

/**
 * @internal The key with which the engine constructs tensors from arguments it has checked
 * (applyOp's outputs, whose shape and size `checkRaw` verified): the constructor skips its checks.
 */
export const TRUSTED: unique symbol = Symbol("gradgraph.trusted");

/** The brand and integrity check behind `isTensor`, set in Tensor's static block. */
let intact: (value: object) => boolean;

/** The brand and size check behind `isTensorFast`, set in Tensor's static block. */
let branded: (value: object) => boolean;

/** Whether a value is a graph Node (registered by node.ts, which imports this module). */
let isNodeValue: (value: unknown) => boolean = () => false;

/** @internal Lets node.ts tell this module how to recognise a Node (for the constructor's check). */
export function registerNodeCheck(check: (value: unknown) => boolean): void {
  isNodeValue = check;
}

/** The backward engine (registered by engine.ts, which imports this module). */
let runBackward: ((root: Tensor, seed: Tensor, options: BackwardOptions) => void) | null = null;

/** @internal Lets engine.ts tell this module how to run a backward pass from a tensor an op produced. */
export function registerEngine(engine: (root: Tensor, seed: Tensor, options: BackwardOptions) => void): void {
  runBackward = engine;
}

/** The recorded copy behind `Tensor.clone` (registered by clone.ts, which imports this module). */
let cloneTensor: ((x: Tensor) => Tensor) | null = null;

/** @internal Lets clone.ts tell this module how to record a clone (its `cloneOp`). */
export function registerClone(clone: (x: Tensor) => Tensor): void {
  cloneTensor = clone;
}

/**
 * The op methods of `Tensor` (`x.add(y)`, `x.matmul(W).relu()`), empty in core, which knows no
 * op: a package of ops (`@gradgraph/nodes`) declares its methods here by declaration merging and
 * installs them on `Tensor.prototype` when it is imported.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in packages of ops
export interface TensorMethods {}

/** `Tensor` has the methods of `TensorMethods` (see there). */
// biome-ignore lint/correctness/noUnusedVariables: the class's type parameter, which a merged declaration must repeat
export interface Tensor<D extends DType = FloatDType> extends TensorMethods {}

/**
 * A tensor of any dtype, as a union that `dtype` narrows: `if (t.dtype === "int32")` makes `t.data`
 * an Int32Array. `Tensor` alone is a float tensor (float32 or float64), the kind that takes part in
 * differentiation.
 */
export type AnyTensor = Tensor | Tensor<"int32"> | Tensor<"bool">;

/** The tensor type of dtype `D`: `Tensor` for the float dtypes, `Tensor<"int32">`, `Tensor<"bool">`. */
export type TensorOf<D extends DType> = D extends FloatDType ? Tensor : Tensor<D>;

/**
 * An n-dimensional array of numbers of one dtype (float32, float64, int32 or bool), row-major and
 * contiguous, and a value in the define-by-run graph: an op applied to tensors of which any
 * `requiresGrad` records a node, and `backward()` walks those nodes in reverse. The type parameter
 * is the dtype; `Tensor` alone is a float tensor (see {@link AnyTensor} for any). Only float
 * tensors require grad.
 *
 * Create tensors with `tensor`, `zeros`, `ones`, `full` or `randn`. The constructor checks its
 * arguments (a float typed array, a valid shape that it fills), but does not copy them.
 *
 * Every tensor carries a private brand that only this constructor sets: gradgraph accepts as a
 * tensor only what {@link isTensor} accepts, so an object made with
 * `Object.create(Tensor.prototype)`, a `structuredClone` of a tensor, or a tensor whose `data` or
 * `shape` was deleted or replaced, is refused with an `ArgumentError`. A frozen tensor
 * (`Object.freeze`) is a read-only input: ops read it, but whatever would write to it (a gradient
 * into `.grad`, `copy_`, `fill_`, `requiresGrad = …`, an optimizer step) throws a GradgraphError.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface adds only the op methods, which a package of ops installs on the prototype (see TensorMethods)
export class Tensor<D extends DType = FloatDType> {
  /**
   * The elements in row-major order: a Float32Array, Float64Array, Int32Array, or for `bool` a
   * Uint8Array of 0 and 1. Writing to it directly bypasses the graph.
   */
  readonly data: ArrayOf<D>;
  /** One entry per dimension; `[]` for a 0-d scalar. */
  readonly shape: Shape;
  /** `'float32'`, `'float64'`, `'int32'` or `'bool'`, from `data`'s type. */
  readonly dtype: D;
  /** Number of elements (the product of `shape`). */
  readonly size: number;
  /** The accumulated gradient after `backward()`, or `null`. Accumulates across calls. */
  grad: Tensor | null = null;
  /** The graph node that produced this tensor, or `null` for a leaf. */
  readonly creator: Node | null;
  /** Which output of `creator` this tensor is (0 for single-output ops). */
  readonly outputIndex: number;
  /** @internal Whether gradients flow to this tensor. */
  _requiresGrad: boolean;
  /** @internal Bumped by every in-place change that gradgraph makes; checked by backward. */
  _version = 0;
  /**
   * The version at which `fill_(0)` last zeroed `data` (-1: not known to be zero); see `_zeroAt`.
   * Private, so that it is also the tensor's brand: only this constructor makes an object that has
   * it (see `isTensor`). It costs no slot of its own, where an added brand field cost ~3% of a
   * small op (one more field per tensor).
   */
  #zeroAt = -1;

  /**
   * @internal The version at which `fill_(0)` last zeroed `data` (-1: not known to be zero). While
   * it equals `_version`, backward may copy a gradient into this tensor instead of adding it.
   */
  get _zeroAt(): number {
    // (a try/catch rather than a receiver check: free where backward reads it)
    try {
      return this.#zeroAt;
    } catch {
      throw notATensor("_zeroAt", this);
    }
  }

  /** @internal Sets the version at which `data` was last zeroed (see the getter). */
  set _zeroAt(version: number) {
    if (typeof version !== "number") {
      throw new ArgumentError("Tensor._zeroAt", `Tensor._zeroAt: must be a number, got ${describeValue(version)}`);
    }
    try {
      this.#zeroAt = version;
    } catch {
      throw notATensor("_zeroAt", this);
    }
  }

  static {
    // the brand, and `data` a float array of the tensor's size (not deleted, replaced by something
    // else, or detached), `shape` an array
    intact = (v) =>
      #zeroAt in v &&
      isTensorArray((v as Tensor).data) &&
      (v as Tensor).data.length === (v as Tensor).size &&
      Array.isArray((v as Tensor).shape);
    branded = (v) => #zeroAt in v && (v as Tensor).data?.length === (v as Tensor).size;
  }

  /**
   * @param data - the elements; its length must equal the product of `shape`.
   * @param shape - the dimensions, at most `MAX_RANK` non-negative safe integers (not copied: do
   *   not mutate it afterwards).
   * @param requiresGrad - make this a leaf that receives gradients (coerced with `Boolean`).
   * @param creator - @internal the node that produced the tensor.
   * @param outputIndex - @internal which output of `creator`.
   * @param trusted - @internal the engine's key for arguments it has checked already (an op's
   *   outputs): the checks below are skipped.
   * @throws DTypeError when `data` is not a Float32Array, Float64Array, Int32Array or Uint8Array, when
   *   a Uint8Array (bool) holds other values than 0 and 1, or when `requiresGrad` is asked of an
   *   int32 or bool tensor.
   * @throws ShapeError when `shape` is not a valid shape or `data.length` does not match it.
   * @throws ArgumentError when `data`'s buffer was detached, or `creator` is not a graph node.
   */
  constructor(
    data: ArrayOf<D>,
    shape: Shape,
    requiresGrad = false,
    creator: Node | null = null,
    outputIndex = 0,
    trusted?: typeof TRUSTED,
  ) {
    if (trusted !== TRUSTED) Tensor.#check(data, shape, creator, outputIndex, requiresGrad);
    this.data = data;
    this.shape = shape;
    this.dtype = dtypeOfArray(data) as D;
    this.size = data.length;
    this._requiresGrad = creator !== null || Boolean(requiresGrad);
    this.creator = creator;
    this.outputIndex = outputIndex;
  }

  /** The constructor's checks of its arguments (see there). */
  static #check(data: unknown, shape: unknown, creator: unknown, outputIndex: unknown, requiresGrad: unknown): void {
    if (!isTensorArray(data)) {
      throw new DTypeError(
        "Tensor",
        `Tensor: data must be a Float32Array, Float64Array, Int32Array or Uint8Array (bool), got ${describeValue(data)}`,
      );
    }
    // the shape is checked and its size computed in one pass (this constructor runs once per op)
    if (!isArray(shape) || shape.length > MAX_RANK) throw badShape(shape);
    let size = 1;
    for (let i = 0; i < shape.length; i++) {
      const d: unknown = shape[i];
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) throw badShape(shape);
      size *= d;
    }
    if (data.length !== size) {
      if (size > MAX_TENSOR_SIZE) throw badShape(shape);
      throw new ShapeError(
        "Tensor",
        `Tensor: data has ${data.length} elements but shape ${fmtShape(shape as number[])} needs ${size}`,
      );
    }
    if (size === 0 && isDetached(data)) {
      throw new ArgumentError("Tensor", "Tensor: data's ArrayBuffer was detached (transferred); it cannot be read");
    }
    if (creator !== null && !(isNodeValue(creator) && Number.isInteger(outputIndex) && (outputIndex as number) >= 0)) {
      throw new ArgumentError(
        "Tensor",
        `Tensor: creator must be null or a graph node (nodes are recorded by ops), got ${describeValue(creator)} with outputIndex ${describeValue(outputIndex)}`,
      );
    }
    const dtype = dtypeOfArray(data);
    if (!isFloatDType(dtype) && (Boolean(requiresGrad) || creator !== null)) throw gradOfIntegral("Tensor", dtype);
    if (dtype === "bool") {
      for (let i = 0; i < data.length; i++) {
        if (data[i]! > 1) {
          throw new DTypeError(
            "Tensor",
            `Tensor: a bool tensor's Uint8Array must hold 0 or 1, got ${data[i]} at element ${i}`,
          );
        }
      }
    }
  }

  /**
   * Number of dimensions.
   * @throws ArgumentError naming `Tensor.rank` when read from something that is not a tensor.
   */
  get rank(): number {
    // a try/catch rather than a receiver check: free on the hot path (ops read rank often)
    let n: unknown;
    try {
      n = this.shape.length;
    } catch {
      throw notATensor("rank", this);
    }
    if (typeof n !== "number") throw notATensor("rank", this);
    return n;
  }

  /**
   * Where the data lives: `'wasm'` when it is in gradgraph's WebAssembly memory (made with the
   * `storage: 'wasm'` factory option, or the gradient of such a leaf), else `'js'`. The WASM
   * kernels use resident operands in place; the others are copied in and out around each call.
   * A resident tensor's `data` is a view of a `SharedArrayBuffer` that holds all resident data:
   * use `byteOffset`/`byteLength`. The memory is freed when `data` is garbage-collected; views
   * from `data.subarray` keep it alive, views built by hand from `data.buffer` do not.
   * @throws ArgumentError naming `Tensor.storage` when read from something that is not a tensor.
   */
  get storage(): Storage {
    if (!isTensor(this)) throw notATensor("storage", this);
    return inHeap(this.data) ? "wasm" : "js";
  }

  /**
   * True for tensors not produced by a recorded op.
   * @throws ArgumentError naming `Tensor.isLeaf` when read from something that is not a tensor.
   */
  get isLeaf(): boolean {
    if (!isTensor(this)) throw notATensor("isLeaf", this);
    return this.creator === null;
  }

  /**
   * Whether gradients flow to this tensor. Only a leaf's flag can be changed.
   * @throws ArgumentError naming `Tensor.requiresGrad` when read from something that is not a tensor.
   */
  get requiresGrad(): boolean {
    if (!isTensor(this)) throw notATensor("requiresGrad", this);
    return this._requiresGrad;
  }

  /**
   * Makes this leaf track gradients (true) or stop (false); the value is coerced with `Boolean`.
   * @throws GraphError when set on a non-leaf tensor (even to its current value); ArgumentError
   *   when set on something that is not a tensor.
   */
  set requiresGrad(flag: boolean) {
    if (!isTensor(this)) throw notATensor("requiresGrad", this);
    assertWritable("Tensor.requiresGrad", "this tensor", this);
    if (this.creator !== null) {
      throw new GraphError(
        "Tensor.requiresGrad",
        `Tensor.requiresGrad: can only be set on a leaf; this tensor was produced by op '${this.creator.op.name}' (use detach() for a leaf copy)`,
      );
    }
    if (flag && !isFloatDType(this.dtype)) throw gradOfIntegral("Tensor.requiresGrad", this.dtype);
    this._requiresGrad = Boolean(flag);
  }

  /**
   * Reverse-mode differentiation from this tensor: accumulates into `.grad` of every leaf that
   * requires grad the gradient of `sum(gradOutput · this)`.
   * @param gradOutput - the upstream gradient, same shape as this tensor; may be omitted only
   *   for a one-element tensor (it is then 1).
   * @throws GraphError for a non-scalar without `gradOutput`, a tensor that does not require
   *   grad, or a graph already released by an earlier backward.
   * @throws ShapeError when `gradOutput`'s shape differs from this tensor's.
   * @throws ArgumentError when called on something that is not a tensor, or for options with a key
   *   other than `retainGraph` and `createGraph`.
   */
  backward(gradOutput?: Tensor | number, options?: BackwardOptions): void {
    if (!isTensor(this)) throw notATensor("backward", this);
    if (this.dtype === "int32" || this.dtype === "bool") {
      throw new GraphError(
        "backward",
        `backward: this tensor is ${this.dtype}; gradients flow only through float tensors (an int32 or bool tensor never requires grad)`,
      );
    }
    const self = this as Tensor;
    const g = seedGradient("backward", self, gradOutput);
    options = optionsObject("backward", options, BACKWARD_OPTIONS);
    if (self.creator === null) {
      if (!self._requiresGrad) {
        throw new GraphError("backward", "backward: this tensor does not require grad and has no graph behind it");
      }
      assertWritable("backward", "the leaf", self);
      if (self.grad !== null) assertWritable("backward", "the leaf's .grad", self.grad);
      if (self.grad === null) self.grad = new Tensor(copyInStorageOf(self.data, g.data), self.shape);
      else {
        const acc = self.grad.data;
        for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g.data[i]!;
        self.grad._version++;
      }
      return;
    }
    runBackward!(self, g, options);
  }

  /**
   * The single element as a number (a bool as 0 or 1).
   * @throws ShapeError when the tensor has other than one element; ArgumentError when called on
   *   something that is not a tensor.
   */
  item(): number {
    if (!isTensor(this)) throw notATensor("item", this);
    if (this.size !== 1) {
      throw new ShapeError(
        "item",
        `item: only a one-element tensor converts to a number, this one has shape ${fmtShape(this.shape)}`,
      );
    }
    return this.data[0]!;
  }

  /**
   * The elements as nested arrays (a plain number for a 0-d tensor).
   * @throws ArgumentError when called on something that is not a tensor.
   */
  toArray(): NestedArray {
    if (!isTensor(this)) throw notATensor("toArray", this);
    const { data, shape } = this;
    if (shape.length === 0) return data[0]!;
    let pos = 0;
    const build = (dim: number): NestedArray[] | number[] => {
      const n = shape[dim]!;
      if (dim === shape.length - 1) {
        const row = Array.from(data.subarray(pos, pos + n));
        pos += n;
        return row;
      }
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1));
      return out;
    };
    return build(0);
  }

  /**
   * A new leaf sharing this tensor's data, cut off from the graph (`requiresGrad` false). For a
   * detached copy of the data, `t.detach().clone()`.
   * @throws ArgumentError when called on something that is not a tensor.
   */
  detach(): Tensor<D> {
    if (!isTensor(this)) throw notATensor("detach", this);
    return new Tensor<D>(this.data, this.shape);
  }

  /**
   * A new tensor with a copy of the data, in the same storage (JS memory when this tensor's is
   * `'wasm'` and WebAssembly memory is full). Differentiable, as PyTorch's and TensorFlow.js's
   * `clone`: when this tensor requires grad and grad mode is on, the copy is recorded (op `clone`,
   * see `cloneOp`) and gradients flow back through it unchanged, to any order; otherwise (under
   * `noGrad`, or for a tensor that does not require grad) it is a new leaf. For a copy cut off
   * from the graph, `t.detach().clone()`.
   * @throws ArgumentError when called on something that is not a tensor.
   */
  clone(): Tensor<D> {
    if (!isTensor(this)) throw notATensor("clone", this);
    return cloneTensor!(this as Tensor) as unknown as Tensor<D>;
  }

  /**
   * Copies `src`'s elements into this tensor in place (converting dtype as `cast` does) and bumps its version,
   * so a backward that saved this tensor before the change refuses to use it.
   * @throws ShapeError when the shapes differ; ArgumentError when `src` is not a Tensor or the
   *   method is called on something that is not a tensor.
   */
  copy_(src: AnyTensor): this {
    if (!isTensor(this)) throw notATensor("copy_", this);
    if (!isTensor(src)) {
      throw new ArgumentError("copy_", `copy_: src must be a Tensor, got ${describeNonTensor(src)}`);
    }
    assertWritable("copy_", "this tensor", this);
    if (!shapesEqual(src.shape, this.shape)) {
      throw new ShapeError(
        "copy_",
        `copy_: src has shape ${fmtShape(src.shape)} but this tensor has shape ${fmtShape(this.shape)}`,
      );
    }
    convertInto(this.dtype, src.data, this.data);
    this._version++;
    return this;
  }

  /**
   * Sets every element to `value` in place (converted to the dtype as `cast` does) and bumps the
   * version (see `copy_`).
   * @throws ArgumentError when `value` is not a number, or the method is called on something
   *   that is not a tensor.
   */
  fill_(value: number): this {
    if (!isTensor(this)) throw notATensor("fill_", this);
    if (typeof value !== "number") {
      throw new ArgumentError("fill_", `fill_: value must be a number, got ${describeValue(value)}`);
    }
    assertWritable("fill_", "this tensor", this);
    // resident data: the heap's kernel (TypedArray.prototype.fill is slow on shared memory)
    const data: TensorData = this.data;
    if (data instanceof Int32Array || data instanceof Uint8Array) data.fill(convertValue(this.dtype, value));
    else if (!heapFill(data, value)) data.fill(value);
    this._version++;
    this._zeroAt = value === 0 ? this._version : -1;
    return this;
  }

  /**
   * Declares that `data` was changed in place by code outside gradgraph's ops (an optimizer step,
   * say): bumps the version so that a backward that saved this tensor before refuses to use it.
   * @throws ArgumentError when called on something that is not a tensor.
   */
  markModified(): this {
    if (!isTensor(this)) throw notATensor("markModified", this);
    try {
      this._version++;
    } catch {
      throw frozenError("markModified", "this tensor", this);
    }
    return this;
  }

  /**
   * The in-place version counter: bumped by `copy_`, `fill_`, `markModified` and optimizer steps.
   * @throws ArgumentError naming `Tensor.version` when read from something that is not a tensor.
   */
  get version(): number {
    if (!isTensor(this)) throw notATensor("version", this);
    return this._version;
  }

  /**
   * The tensor as PyTorch prints one: its values (nested by rank, columns aligned, at most 4
   * significant digits; past 1,000 elements the first and last 3 of each dimension with `...`
   * between), then shape, dtype, and `requiresGrad=true` or the op that made it:
   * `tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=float32, requiresGrad=true)`.
   * Error messages use the short form `Tensor(float32, [2, 2], requiresGrad)` instead (see
   * `tensorLabel`).
   * @throws ArgumentError naming `Tensor.toString` when called on something that is not a tensor.
   */
  toString(): string {
    if (!isTensor(this)) throw notATensor("toString", this);
    return formatTensor(this);
  }

  /**
   * What `console.log(t)` and `util.inspect(t)` show in Node.js: the same as `toString()`.
   * @returns the tensor's values, shape, dtype and grad status.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return isTensor(this) ? formatTensor(this) : "Tensor (not an intact tensor)";
  }
}

/**
 * True for a tensor made by the `Tensor` constructor (or a factory such as `tensor`), whose `data`
 * and `shape` are still the arrays the constructor stored. It checks a private brand, not the
 * prototype: an object made with `Object.create(Tensor.prototype)`, a plain object with a tensor's
 * fields, a `structuredClone` of a tensor, or a tensor whose `data` or `shape` was deleted or
 * replaced is not a tensor. A frozen tensor is one (a read-only one). Never throws; as cheap as
 * `instanceof`. Every gradgraph function that takes tensors checks its arguments with it.
 */
export function isTensor(value: unknown): value is AnyTensor {
  return typeof value === "object" && value !== null && intact(value);
}

/** True for a float tensor (float32 or float64): `isTensor` and a float dtype. Never throws. */
export function isFloatTensor(value: unknown): value is Tensor {
  return isTensor(value) && (value.dtype === "float32" || value.dtype === "float64");
}

/**
 * @internal `isTensor` without its checks of the public `data` and `shape` fields: the brand, and
 * the constructor's data still of the tensor's size (not detached). The per-op input check uses it
 * (it costs a few nanoseconds less per input, about 5% of a small op), and when anything then
 * throws, checks the inputs again with `isTensor` (see defineOp): a tensor whose `data` or `shape`
 * was deleted or replaced still ends in an ArgumentError.
 */
export function isTensorFast(value: unknown): value is AnyTensor {
  return typeof value === "object" && value !== null && branded(value);
}

/**
 * Describes a value that should have been a tensor, for error messages: says so when it looks
 * like one (Tensor's prototype, or a tensor whose fields were tampered with).
 * @internal
 */
export function describeNonTensor(value: unknown): string {
  let proto: unknown = null;
  try {
    proto = typeof value === "object" && value !== null ? Object.getPrototypeOf(value) : null;
  } catch {
    // a Proxy whose getPrototypeOf trap throws, or a revoked one
  }
  if (proto === Tensor.prototype) {
    return "an object with Tensor's prototype that is not an intact tensor (made without the Tensor constructor, or its data or shape deleted or replaced)";
  }
  return describeValue(value);
}

/** The error for a Tensor method or accessor called on something that is not a tensor. */
function notATensor(member: string, self: unknown): ArgumentError {
  return new ArgumentError(
    `Tensor.${member}`,
    `Tensor.${member}: this must be a Tensor (the method was called on another value, e.g. detached from its tensor), got ${describeNonTensor(self)}`,
  );
}

/** The error for gradients asked of an int32 or bool tensor (PyTorch's rule: only floats). */
function gradOfIntegral(fn: string, dtype: DType): DTypeError {
  return new DTypeError(
    fn,
    `${fn}: only float tensors can require gradients, this one is ${dtype} (cast it first: cast(x, 'float32'))`,
  );
}

/** The error for an invalid shape given to the Tensor constructor. */
function badShape(shape: unknown): ShapeError {
  try {
    checkShape("Tensor", shape);
  } catch (e) {
    return e as ShapeError;
  }
  return new ShapeError("Tensor", `Tensor: shape ${fmtShape(shape as Shape)} is invalid`);
}

/**
 * @internal Throws when `t` is frozen (`Object.freeze`): gradgraph must write to it (its gradient,
 * its version counter, its requiresGrad flag) and cannot.
 * @throws ArgumentError naming `fn` and `arg`.
 */
export function assertWritable(fn: string, arg: string, t: AnyTensor): void {
  if (!isWritable(t)) throw frozenError(fn, arg, t);
}

/**
 * @internal Whether `t`'s fields can be written (it is not frozen). Writing a field to itself is a
 * no-op, and throws (in a module, which is strict code) when the tensor is frozen: ~4 ns, where
 * Object.isFrozen costs a call into the runtime (~10 ns).
 */
export function isWritable(t: AnyTensor): boolean {
  try {
    // biome-ignore lint/correctness/noSelfAssign: the write is the test
    t._version = t._version;
    return true;
  } catch {
    return false;
  }
}

/** The error for a frozen tensor that `fn` must update. */
function frozenError(fn: string, arg: string, t: AnyTensor): ArgumentError {
  return new ArgumentError(
    fn,
    `${fn}: ${arg} ${tensorLabel(t)} is frozen (Object.freeze), and ${fn} must update it; pass an unfrozen tensor (t.detach().clone() copies one)`,
  );
}

/** Nested arrays of numbers, as accepted by `tensor` and returned by `toArray`. */
export type NestedArray = number | NestedArray[];

/** A typed array of numbers (the BigInt arrays excluded). */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** Nested arrays of numbers, read-only (`[[1, 2], [3, 4]]`); the shape is inferred. */
export type NestedNumbers = readonly (number | NestedNumbers)[];

/**
 * Anything an op accepts as a tensor operand: a tensor of any dtype, or a constant given as a
 * number (0-d), nested arrays of numbers (shape inferred) or a typed array (1-D). A constant records
 * no gradient. The operands' dtypes combine by PyTorch's type promotion (see `resultDType`): a
 * number, nested arrays and an integer typed array are weak, as PyTorch treats Python numbers (they
 * take the tensors' dtype, and raise an int32 or bool operand to float32 only when some value is
 * not an integer); a Float32Array or a Float64Array is a float32 or float64 operand.
 */
export type TensorLike = AnyTensor | number | NestedNumbers | NumericArray;

/**
 * The dtype an operand brings to an op: a tensor's own, float32 or float64 for a Float32Array or
 * Float64Array, null for a weak operand (a number, nested arrays, an integer typed array) or for
 * anything else.
 */
export function operandDType(value: unknown): DType | null {
  if (isTensor(value)) return value.dtype;
  // (instanceof on a revoked Proxy throws)
  if (typeof value !== "object" || value === null || isRevoked(value)) return null;
  if (value instanceof Float64Array) return "float64";
  if (value instanceof Float32Array) return "float32";
  return null;
}

/** Whether `value` is a typed array of numbers (not a BigInt array, not a DataView). */
function isNumericArray(value: unknown): value is NumericArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !isBigIntArray(value);
}

function isBigIntArray(value: object): boolean {
  return (
    (typeof BigInt64Array !== "undefined" && value instanceof BigInt64Array) ||
    (typeof BigUint64Array !== "undefined" && value instanceof BigUint64Array)
  );
}

/**
 * @internal What an operand contributes to promotion: 1 for a weak operand with a value that is not an
 * integer, 0 for a weak operand of integers, -1 for a tensor or float typed array (its dtype
 * speaks), and undefined for something that is no operand.
 */
export function weakKind(value: unknown, fn: string, arg: string): number | undefined {
  if (isTensor(value)) return -1;
  if (typeof value === "number") return Number.isInteger(value) ? 0 : 1;
  if (typeof value !== "object" || value === null || isRevoked(value)) return undefined;
  if (value instanceof Float32Array || value instanceof Float64Array) return -1;
  if (isNumericArray(value)) return 0;
  if (!isArray(value)) return undefined;
  const src: NestedSource = { fn, root: arg };
  const dims = nestedDims(value as readonly unknown[], src);
  let kind = 0;
  if (dims.length > 0) {
    walkNested(value as readonly unknown[], dims, src, (x) => {
      if (!Number.isInteger(x)) kind = 1;
    });
  }
  return kind;
}

/**
 * The dtype PyTorch's type promotion gives operands that an op combines: the highest dtype among
 * the tensors and float typed arrays (bool < int32 < float32 < float64); float32 when they are
 * int32 or bool and a weak operand (a number, nested arrays, an integer typed array) holds a value
 * that is not an integer; int32 when they are bool and a weak operand holds integers; float32 when
 * there is no tensor at all. So `int32 + 2` is int32, `int32 + 2.5` float32, `bool + 1` int32,
 * `float32 + float64` float64, `int32 + float32` float32.
 * @param fn - the function to name in errors; `names` - each operand's name, or the array's name.
 * @throws ArgumentError or ShapeError naming `fn` and the operand, as {@link toTensor}, for the
 *   first entry that is no operand.
 */
export function resultDType(
  values: readonly TensorLike[],
  fn = "resultDType",
  names: readonly string[] | string = "values",
): DType {
  const f = typeof fn === "string" ? fn : "resultDType";
  if (!isArray(values)) {
    throw new ArgumentError(f, `${f}: values must be an array of operands, got ${describeValue(values)}`);
  }
  let strong = -1;
  let weak = -1;
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    const kind = weakKind(v, f, nameIn(names, i));
    // (toTensor throws the error for what is no operand, a hole included)
    if (kind === undefined) toTensor(v as never, f, nameIn(names, i));
    else if (kind >= 0) weak = Math.max(weak, kind);
    else strong = Math.max(strong, promotionRank(operandDType(v)!));
  }
  return promoteWith(strong, weak);
}

/** @internal The dtype for the highest strong rank (-1: none) and weak kind (-1: none, 0: integers, 1: other numbers). */
export function promoteWith(strong: number, weak: number): DType {
  if (strong >= 2) return strong === 3 ? "float64" : "float32";
  if (weak === 1 || strong < 0) return DEFAULT_DTYPE;
  if (strong === 1 || weak === 0) return "int32";
  return "bool";
}

/** An operand's name for messages: `names[i]`, or `name[i]` for an array's name. */
function nameIn(names: readonly string[] | string, i: number): string {
  const n: unknown = isArray(names) ? names[i] : undefined;
  return typeof n === "string" ? n : `${typeof names === "string" ? names : "values"}[${i}]`;
}

/**
 * Converts several operands together as an op converts its inputs: tensors as they are, and the
 * constants (see {@link toTensor}) in the dtype that promotion gives them all (see
 * {@link resultDType}). For functions that need tensors before they call an op (to read shapes).
 * @param fn - the function to name in errors; `names` - each operand's name, or the array's name
 *   (`"xs"` names entry i `xs[i]`; default `"values"`).
 * @throws ArgumentError naming `fn` when `values` is not an array; ArgumentError or ShapeError
 *   naming `fn` and the operand, as {@link toTensor}, for the first entry that is no operand.
 */
export function toTensors(
  values: readonly TensorLike[],
  fn = "toTensors",
  names: readonly string[] | string = "values",
): AnyTensor[] {
  const f = typeof fn === "string" ? fn : "toTensors";
  const dtype = resultDType(values, f, names);
  const out = new Array<AnyTensor>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toTensor(values[i]!, f, nameIn(names, i), dtype);
  return out;
}

/**
 * Converts an operand as the ops do. A tensor is returned as it is. A number, nested arrays of
 * numbers or a typed array become a new constant tensor (`requiresGrad` false): a number is 0-d,
 * nested arrays have their inferred shape, a typed array is 1-D. The constant's dtype is `dtype`,
 * except that a Float32Array or a Float64Array keeps its own.
 * @param fn - the function to name in errors; `arg` - the argument's name (paths into nested
 *   arrays start with it).
 * @throws ShapeError naming `fn` for ragged nested arrays (at the first ragged path, e.g.
 *   `b[1]`), arrays that contain themselves, are deeper than 32 levels or hold more than the
 *   maximum tensor size.
 * @throws ArgumentError naming `fn` and `arg` for anything else (a non-number element, a hole, a
 *   BigInt array, a detached typed array, a revoked Proxy, an object).
 */
export function toTensor(value: TensorLike, fn = "toTensor", arg = "value", dtype: DType = DEFAULT_DTYPE): AnyTensor {
  if (isTensor(value)) return value;
  if (typeof fn !== "string") fn = "toTensor";
  if (typeof arg !== "string") arg = "value";
  const dt = checkAnyDType(fn, dtype);
  if (typeof value === "number") {
    const data = allocArray(dt, 1);
    data[0] = convertValue(dt, value);
    return new Tensor(data, []) as AnyTensor;
  }
  if (typeof value === "object" && value !== null && isRevoked(value)) {
    throw new ArgumentError(fn, `${fn}: ${arg} is a revoked Proxy`);
  }
  if (isNumericArray(value)) {
    if (isDetached(value)) {
      throw new ArgumentError(fn, `${fn}: ${arg} is a typed array whose ArrayBuffer was detached (transferred)`);
    }
    const own = operandDType(value) ?? dt;
    const data = allocArray(own, value.length);
    convertInto(own, value, data);
    return new Tensor(data, [value.length]) as AnyTensor;
  }
  if (isArray(value)) {
    const src: NestedSource = { fn, root: arg };
    const dims = nestedDims(value as readonly unknown[], src);
    const size = checkNested(value as readonly unknown[], dims, src);
    const data = allocArray(dt, size);
    copyNested(value as readonly unknown[], dims, data, src, dt);
    return new Tensor(data, dims) as AnyTensor;
  }
  throw new ArgumentError(
    fn,
    `${fn}: ${arg} must be a Tensor, a number, nested arrays of numbers or a typed array, got ${describeNonTensor(value)}`,
  );
}

/** Options of the tensor factories. */
export interface TensorOptions<D extends DType = DType> {
  /**
   * `'float32'` (default), `'float64'`, `'int32'` or `'bool'`. Values are converted as `cast`
   * converts them: to int32 by truncation toward zero, to bool as `x != 0`.
   */
  dtype?: D;
  /** Make the result a leaf that receives gradients (float dtypes only). */
  requiresGrad?: boolean;
  /**
   * Where the data lives: `'js'` (default), a JS `ArrayBuffer`; or `'wasm'`, WebAssembly memory,
   * where the WASM kernels use it in place instead of copying it in and out on every call (worth it
   * for large, long-lived tensors such as a model's weights: see {@link Tensor.storage}).
   */
  storage?: Storage;
}

/** The keys of {@link BackwardOptions}. */
const BACKWARD_OPTIONS: readonly string[] = ["retainGraph", "createGraph"];

/** The keys of {@link TensorOptions}; `tensor`'s add `shape`, `randn`'s `seed` and `rng`. */
const FACTORY_OPTIONS: readonly string[] = ["dtype", "requiresGrad", "storage"];
const TENSOR_OPTIONS: readonly string[] = [...FACTORY_OPTIONS, "shape"];
const RANDN_OPTIONS: readonly string[] = [...FACTORY_OPTIONS, "seed", "rng"];

/**
 * The options of a factory as an object (`{}` for undefined or null), of the keys `known`.
 * @throws ArgumentError naming `fn` for anything but an object, a tensor included (its getters
 *   `requiresGrad` and `storage` would be read as options).
 */
function factoryOptions<O extends object>(
  fn: string,
  options: O | null | undefined,
  known: readonly string[] = FACTORY_OPTIONS,
): O {
  const opts = optionsObject(fn, options);
  let proto: unknown = null;
  try {
    proto = Object.getPrototypeOf(opts);
  } catch {
    // a Proxy whose getPrototypeOf trap throws: its other traps will speak for it
  }
  if (proto === Tensor.prototype) {
    throw new ArgumentError(fn, `${fn}: options must be an object like { dtype, requiresGrad }, got a Tensor`);
  }
  checkOptionKeys(fn, opts, known);
  return opts;
}

/**
 * Checks a user-supplied storage option (undefined: `'js'`).
 * @throws ArgumentError naming `fn` for anything but `'js'` or `'wasm'`.
 */
function checkStorage(fn: string, storage: unknown): Storage {
  if (storage === undefined || storage === "js" || storage === "wasm") return storage ?? "js";
  throw new ArgumentError(fn, `${fn}: storage must be 'js' or 'wasm', got ${describeValue(storage)}`);
}

/**
 * A zero-filled array of `n` elements in `storage`.
 * @throws GradgraphError naming `fn` when WebAssembly memory is unavailable or full.
 */
function allocIn(fn: string, dtype: DType, n: number, storage: Storage): TensorData {
  if (storage === "js") return allocArray(dtype, n);
  if (!isFloatDType(dtype)) {
    throw new DTypeError(fn, `${fn}: storage 'wasm' holds float32 and float64 tensors only, got dtype '${dtype}'`);
  }
  const out = heapArray(dtype, n);
  if (out !== null) return out;
  const why = heapUnavailable() || "WebAssembly memory is full (it holds at most 2 GiB)";
  throw new GradgraphError(fn, `${fn}: cannot place ${n} ${dtype} elements in storage 'wasm': ${why}`);
}

/**
 * @internal A copy of `src` (same dtype and length) in the same storage as `like` (JS memory when
 * `like` is resident but WebAssembly memory is full): for clones and gradients of resident leaves.
 */
export function copyInStorageOf<T extends TensorData>(like: TensorData, src: T): T {
  const dtype = dtypeOfArray(src);
  const out = ((isFloatDType(dtype) && inHeap(like) ? heapArray(dtype, src.length) : null) ??
    allocArray(dtype, src.length)) as T;
  out.set(src);
  return out;
}

/**
 * Creates a tensor from a number (0-d), nested arrays (shape inferred), or a flat typed array or
 * number array with an explicit `shape`, or booleans (`tensor([true, false])`, read as 1 and 0).
 * The dtype is `options.dtype`, else a Float64Array's float64, an Int32Array's int32, `bool` when
 * the first element is a boolean, else float32; values are converted to it as `cast` converts
 * (to int32 by truncation toward zero, to bool as `x != 0`).
 *
 * Nested arrays are read without recursion, and checked before anything is allocated: at most
 * `MAX_NESTING` (32) levels deep, at most `MAX_TENSOR_SIZE` elements, not ragged; the first hole,
 * non-number element, ragged row or array that contains itself fails at once.
 * @throws ShapeError for ragged, too deep, cyclic or too large nested arrays, or a `shape` that
 *   is invalid or does not match the data.
 * @throws ArgumentError for non-numeric elements, a BigInt array or DataView, a detached typed
 *   array, or options that are not an object or have a key other than `shape`, `dtype`,
 *   `requiresGrad` and `storage`.
 * @throws DTypeError for an unknown dtype, or `requiresGrad` or storage `'wasm'` with an int32 or
 *   bool dtype.
 */
export function tensor<D extends DType>(
  values: NestedArray | NumericArray | readonly number[] | boolean | NestedBooleans,
  options: TensorOptions<D> & { dtype: D; shape?: readonly number[] },
): TensorOf<D>;
export function tensor(
  values: Int32Array,
  options?: TensorOptions<never> & { shape?: readonly number[] },
): Tensor<"int32">;
export function tensor(
  values: NestedArray | NumericArray | readonly number[],
  options?: TensorOptions<never> & { shape?: readonly number[] },
): Tensor;
export function tensor(
  values: boolean | NestedBooleans,
  options?: TensorOptions<never> & { shape?: readonly number[] },
): Tensor<"bool">;
export function tensor(
  values: NestedArray | NumericArray | readonly number[] | boolean | NestedBooleans,
  options: TensorOptions & { shape?: readonly number[] } = {},
): AnyTensor {
  // null from JavaScript means no options, like undefined
  const opts = factoryOptions("tensor", options, TENSOR_OPTIONS);
  if (typeof values === "object" && values !== null && !isArray(values) && isRevoked(values)) {
    throw new ArgumentError("tensor", "tensor: values is a revoked Proxy");
  }
  const typed = isNumericArray(values);
  const dtype: DType =
    opts.dtype !== undefined
      ? checkAnyDType("tensor", opts.dtype)
      : values instanceof Float64Array
        ? "float64"
        : values instanceof Int32Array
          ? "int32"
          : typeof values === "boolean" || (isArray(values) && firstIsBoolean(values, MAX_NESTING))
            ? "bool"
            : DEFAULT_DTYPE;
  const storage = checkStorage("tensor", opts.storage);
  const requiresGrad = opts.requiresGrad === true;
  if (requiresGrad && !isFloatDType(dtype)) throw gradOfIntegral("tensor", dtype);
  const given = opts.shape === undefined ? null : checkShape("tensor", opts.shape);
  let shape: number[];
  let data: TensorData;
  if (typed) {
    if (isDetached(values)) {
      throw new ArgumentError("tensor", "tensor: values is a typed array whose ArrayBuffer was detached (transferred)");
    }
    shape = given ?? [values.length];
    fits(shape, values.length);
    data = allocIn("tensor", dtype, values.length, storage);
    convertInto(dtype, values, data);
  } else if (typeof values === "number" || typeof values === "boolean") {
    shape = given ?? [];
    fits(shape, 1);
    data = allocIn("tensor", dtype, 1, storage);
    data[0] = convertValue(dtype, Number(values));
  } else if (isArray(values)) {
    const dims = nestedDims(values, TENSOR_VALUES);
    const size = checkNested(values, dims, TENSOR_VALUES);
    shape = given ?? dims;
    fits(shape, size);
    data = allocIn("tensor", dtype, size, storage);
    copyNested(values, dims, data, TENSOR_VALUES, dtype);
  } else {
    throw new ArgumentError(
      "tensor",
      `tensor: values must be a number, nested number arrays or a typed array of numbers, got ${describeValue(values)}`,
    );
  }
  return new Tensor(data, shape, requiresGrad) as AnyTensor;
}

/** Checks that `n` values fill `shape` exactly. @throws ShapeError naming `tensor`. */
function fits(shape: readonly number[], n: number): void {
  if (shapeSize(shape) !== n) {
    throw new ShapeError(
      "tensor",
      `tensor: ${n} values do not fill shape ${fmtShape(shape)} (${shapeSize(shape)} elements)`,
    );
  }
}

/** How deep `tensor` reads nested arrays. */
const MAX_NESTING = 32;

/** Who reads nested arrays, for error messages: the function and the argument's name. */
interface NestedSource {
  readonly fn: string;
  readonly root: string;
  /** Whether `true` and `false` are elements (read as 1 and 0), as `tensor` takes them. */
  readonly booleans?: boolean;
}

const TENSOR_VALUES: NestedSource = { fn: "tensor", root: "values", booleans: true };

/** Nested arrays of booleans (`[[true, false]]`), which `tensor` makes a bool tensor of. */
export type NestedBooleans = readonly (boolean | NestedBooleans)[];

/** Whether the first element of nested arrays (their checked `dims` deep) is a boolean. */
function firstIsBoolean(values: readonly unknown[], depth: number): boolean {
  let v: unknown = values;
  for (let d = 0; d < depth && Array.isArray(v); d++) v = v[0];
  return typeof v === "boolean";
}

/**
 * The dimensions of nested arrays, from their first elements (without recursion).
 * @throws ShapeError naming `tensor` when they are deeper than MAX_NESTING (an array that contains
 *   itself is reported as such) or hold more than MAX_TENSOR_SIZE elements.
 */
function nestedDims(values: readonly unknown[], { fn, root }: NestedSource): number[] {
  const dims: number[] = [];
  const chain: unknown[] = [];
  let size = 1;
  let v: unknown = values;
  while (Array.isArray(v)) {
    if (chain.includes(v)) {
      throw new ShapeError(
        fn,
        `${fn}: the nested arrays contain themselves (${root}${"[0]".repeat(dims.length)} is an array that encloses it)`,
      );
    }
    if (dims.length === MAX_NESTING) {
      throw new ShapeError(
        fn,
        `${fn}: nested arrays are more than ${MAX_NESTING} levels deep; at most ${MAX_NESTING} are supported`,
      );
    }
    chain.push(v);
    const n = v.length;
    dims.push(n);
    size *= n;
    if (size > MAX_TENSOR_SIZE) {
      throw new ShapeError(
        fn,
        `${fn}: nested arrays of dimensions ${fmtShape(dims)}${dims.length > 1 ? "…" : ""} have more than the maximum ${MAX_TENSOR_SIZE} elements`,
      );
    }
    v = v[0];
  }
  return dims;
}

/** `values[i][j]…` for error messages. */
function pathOf(root: string, idx: readonly number[], depth: number): string {
  let p = root;
  for (let k = 0; k <= depth; k++) p += `[${idx[k]}]`;
  return p;
}

/**
 * Walks nested arrays of dimensions `dims` depth-first with an explicit stack (no recursion),
 * calling `leaf` with each element and its flat index. Returns the element count.
 * @throws ShapeError naming `tensor` at the first ragged row (an array of the wrong length, or an
 *   array where a number belongs, or the reverse); ArgumentError at the first element that is not
 *   a number (a hole included).
 */
function walkNested(
  values: readonly unknown[],
  dims: readonly number[],
  src: NestedSource,
  leaf: (x: number, i: number) => void,
): number {
  const { fn, root } = src;
  const rank = dims.length;
  if (rank === 0) return 0;
  const arrays: (readonly unknown[])[] = [values];
  const idx: number[] = [0];
  let flat = 0;
  let depth = 0;
  while (depth >= 0) {
    const i = idx[depth]!;
    if (i === dims[depth]) {
      depth--;
      arrays.pop();
      idx.pop();
      if (depth >= 0) idx[depth]!++;
      continue;
    }
    const v: unknown = arrays[depth]![i];
    if (depth === rank - 1) {
      if (typeof v === "boolean" && src.booleans === true) {
        leaf(v ? 1 : 0, flat++);
        idx[depth] = i + 1;
        continue;
      }
      if (typeof v !== "number") {
        if (Array.isArray(v)) {
          throw new ShapeError(
            fn,
            `${fn}: nested arrays are ragged: ${pathOf(root, idx, depth)} is an array, but a number was expected at that depth (dimensions ${fmtShape(dims)})`,
          );
        }
        throw new ArgumentError(
          fn,
          `${fn}: element ${flat} must be a number${src.booleans === true ? " or a boolean" : ""}, got ${describeValue(v)} (at ${pathOf(root, idx, depth)})`,
        );
      }
      leaf(v, flat++);
      idx[depth] = i + 1;
      continue;
    }
    if (!Array.isArray(v) || v.length !== dims[depth + 1]) {
      throw new ShapeError(
        fn,
        `${fn}: nested arrays are ragged: ${pathOf(root, idx, depth)} is ${describeValue(v)}, expected an array of ${dims[depth + 1]} (dimensions ${fmtShape(dims)})`,
      );
    }
    arrays.push(v);
    idx.push(0);
    depth++;
  }
  return flat;
}

/** Checks nested arrays of dimensions `dims` (see walkNested) and returns their element count. */
function checkNested(values: readonly unknown[], dims: readonly number[], src: NestedSource): number {
  return dims.length === 0 ? 0 : walkNested(values, dims, src, () => {});
}

/** Copies checked nested arrays into `out`, row-major. */
function copyNested(
  values: readonly unknown[],
  dims: readonly number[],
  out: TensorData,
  src: NestedSource,
  dtype: DType,
): void {
  walkNested(values, dims, src, (x, i) => {
    out[i] = convertValue(dtype, x);
  });
}

/**
 * A tensor of `shape` filled with `value` (converted to `options.dtype`, float32 by default, as
 * `cast` converts). @throws ShapeError/DTypeError/ArgumentError on bad arguments (an options key
 * other than `dtype`, `requiresGrad` and `storage` included).
 */
export function full<D extends DType = "float32">(
  shape: readonly number[],
  value: number,
  options: TensorOptions<D> = {},
): TensorOf<D> {
  return filled("full", shape, value, options) as TensorOf<D>;
}

/**
 * A tensor of `shape` filled with zeros (float32 unless `options.dtype`).
 * @throws ShapeError/DTypeError on bad arguments; ArgumentError for options that are not an object
 *   or have a key other than `dtype`, `requiresGrad` and `storage`.
 */
export function zeros<D extends DType = "float32">(
  shape: readonly number[],
  options: TensorOptions<D> = {},
): TensorOf<D> {
  return filled("zeros", shape, 0, options) as TensorOf<D>;
}

/**
 * A tensor of `shape` filled with ones (float32 unless `options.dtype`).
 * @throws ShapeError/DTypeError on bad arguments; ArgumentError for options that are not an object
 *   or have a key other than `dtype`, `requiresGrad` and `storage`.
 */
export function ones<D extends DType = "float32">(
  shape: readonly number[],
  options: TensorOptions<D> = {},
): TensorOf<D> {
  return filled("ones", shape, 1, options) as TensorOf<D>;
}

function filled(fn: string, shape: readonly number[], value: number, options: TensorOptions): AnyTensor {
  const s = checkShape(fn, shape);
  if (typeof value !== "number") {
    throw new ArgumentError(fn, `${fn}: value must be a number, got ${describeValue(value)}`);
  }
  const opts = factoryOptions(fn, options);
  const dtype = opts.dtype === undefined ? DEFAULT_DTYPE : checkAnyDType(fn, opts.dtype);
  if (opts.requiresGrad === true && !isFloatDType(dtype)) throw gradOfIntegral(fn, dtype);
  const data = allocIn(fn, dtype, shapeSize(s), checkStorage(fn, opts.storage));
  const v = convertValue(dtype, value);
  // (-0 too: the array starts as +0)
  if (!Object.is(v, 0)) {
    if (data instanceof Int32Array || data instanceof Uint8Array) data.fill(v);
    else if (!heapFill(data, v)) data.fill(v);
  }
  return new Tensor(data, s, opts.requiresGrad === true) as AnyTensor;
}

/**
 * A tensor of `shape` with standard normal entries from a seeded generator: pass `seed` for a
 * fresh generator (`new Rng(seed)`: a safe integer or a BigInt) or `rng` to continue an existing
 * `Rng`'s stream.
 * @throws ArgumentError naming `randn` when neither or both of `seed` and `rng` are given, when
 *   `seed` is not a seed (see `checkSeed`), or for an options key other than `seed`, `rng`,
 *   `dtype`, `requiresGrad` and `storage`.
 */
export function randn(
  shape: readonly number[],
  options: TensorOptions<FloatDType> & { seed?: Seed; rng?: Rng },
): Tensor {
  const s = checkShape("randn", shape);
  const opts = factoryOptions("randn", options, RANDN_OPTIONS);
  const rng = rngFrom("randn", opts);
  const dtype = opts.dtype === undefined ? DEFAULT_DTYPE : checkDType("randn", opts.dtype);
  const data = allocIn("randn", dtype, shapeSize(s), checkStorage("randn", opts.storage)) as FloatArray;
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, s, opts.requiresGrad === true);
}

/**
 * Checks and returns the seed gradient of a backward from `root`.
 * @internal
 */
export function seedGradient(fn: string, root: Tensor, gradOutput: Tensor | number | undefined): Tensor {
  if (gradOutput === undefined) {
    if (root.size !== 1) {
      throw new GraphError(
        fn,
        `${fn}: gradOutput is required for a non-scalar output of shape ${fmtShape(root.shape)} (backward without it is defined only for one-element tensors)`,
      );
    }
    const data = allocArray(root.dtype, 1);
    data[0] = 1;
    return new Tensor(data, root.shape);
  }
  if (typeof gradOutput === "number") {
    if (root.size !== 1) {
      throw new ShapeError(
        fn,
        `${fn}: a number gradOutput needs a one-element output, got shape ${fmtShape(root.shape)}`,
      );
    }
    const data = allocArray(root.dtype, 1);
    data[0] = gradOutput;
    return new Tensor(data, root.shape);
  }
  if (!isTensor(gradOutput)) {
    throw new ArgumentError(fn, `${fn}: gradOutput must be a Tensor or a number, got ${describeNonTensor(gradOutput)}`);
  }
  if (!shapesEqual(gradOutput.shape, root.shape)) {
    throw new ShapeError(
      fn,
      `${fn}: gradOutput has shape ${fmtShape(gradOutput.shape)} but the output has shape ${fmtShape(root.shape)}`,
    );
  }
  if (gradOutput.dtype !== root.dtype) {
    const data = allocArray(root.dtype, root.size);
    convertInto(root.dtype, gradOutput.data, data);
    return new Tensor(data, root.shape);
  }
  return gradOutput;
}

/**
 * Returns `value` when it is a tensor (by {@link isTensor}: a fake or tampered one is not).
 * @throws ArgumentError naming `fn` and `arg` for any other value.
 */
export function assertTensor(fn: string, arg: string, value: unknown): AnyTensor {
  if (isTensor(value)) return value;
  // (the names are trusted to be strings only as far as a message goes)
  const f = typeof fn === "string" ? fn : "assertTensor";
  const a = typeof arg === "string" ? arg : "value";
  throw new ArgumentError(f, `${f}: ${a} must be a Tensor, got ${describeNonTensor(value)}`);
}

/**
 * Returns `value` when it is a float tensor (float32 or float64), as {@link assertTensor}.
 * @throws ArgumentError naming `fn` and `arg` for a value that is not a tensor; DTypeError naming
 *   them for an int32 or bool tensor.
 */
export function assertFloatTensor(fn: string, arg: string, value: unknown): Tensor {
  const t = assertTensor(fn, arg, value);
  if (t.dtype === "int32" || t.dtype === "bool") {
    const f = typeof fn === "string" ? fn : "assertTensor";
    const a = typeof arg === "string" ? arg : "value";
    throw new DTypeError(
      f,
      `${f}: ${a} must be a float32 or float64 tensor, got a ${t.dtype} tensor ${tensorLabel(t)}`,
    );
  }
  return t;
}

/** Elements beyond which `toString` summarises (PyTorch's `threshold`). */
const PRINT_THRESHOLD = 1000;
/** Elements shown at each end of a summarised dimension (PyTorch's `edgeitems`). */
const EDGE_ITEMS = 3;

/** One element as printed: integers as integers, others to 4 significant digits. */
function fmtElement(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e8)) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

/**
 * The short form of a tensor for error messages: `Tensor(float32, [2, 2])`, with `, op=add`
 * or `, requiresGrad`. Never throws, and never prints values.
 */
export function tensorLabel(t: AnyTensor): string {
  try {
    const op = t.creator ? `, op=${t.creator.op.name}` : t._requiresGrad ? ", requiresGrad" : "";
    return `Tensor(${t.dtype}, ${fmtShape(t.shape)}${op})`;
  } catch {
    return "Tensor";
  }
}

/** `toString`'s text (see there). */
function formatTensor(t: AnyTensor): string {
  const { data, shape } = t;
  const summarise = t.size > PRINT_THRESHOLD;
  // a bool tensor's elements as PyTorch prints them, in JavaScript's spelling
  const element = t.dtype === "bool" ? (v: number) => (v !== 0 ? "true" : "false") : fmtElement;
  // the indices shown along each dimension: all, or the first and last EDGE_ITEMS (-1 marks "...")
  const shown = shape.map((d) =>
    summarise && d > 2 * EDGE_ITEMS
      ? [
          ...Array.from({ length: EDGE_ITEMS }, (_, i) => i),
          -1,
          ...Array.from({ length: EDGE_ITEMS }, (_, i) => d - EDGE_ITEMS + i),
        ]
      : Array.from({ length: d }, (_, i) => i),
  );
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  // the width of the widest shown element, so that columns align
  const texts = new Map<number, string>();
  let width = 1;
  const collect = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      const text = element(data[offset]!);
      texts.set(offset, text);
      width = Math.max(width, text.length);
      return;
    }
    for (const i of shown[dim]!) if (i >= 0) collect(dim + 1, offset + i * strides[dim]!);
  };
  collect(0, 0);
  const prefix = "tensor(";
  const render = (dim: number, offset: number, indent: number): string => {
    if (dim === shape.length) return texts.get(offset)!.padStart(width);
    const parts = shown[dim]!.map((i) => (i < 0 ? "..." : render(dim + 1, offset + i * strides[dim]!, indent + 1)));
    if (dim === shape.length - 1) return `[${parts.join(", ")}]`;
    const sep = `,${"\n".repeat(shape.length - 1 - dim)}${" ".repeat(indent + 1)}`;
    return `[${parts.join(sep)}]`;
  };
  const values = shape.length === 0 ? element(data[0]!) : render(0, 0, prefix.length);
  const grad = t.creator ? `, op=${t.creator.op.name}` : t._requiresGrad ? ", requiresGrad=true" : "";
  return `${prefix}${values}, shape=${fmtShape(shape)}, dtype=${t.dtype}${grad})`;
}
