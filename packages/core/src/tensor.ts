import { allocArray, checkDType, DEFAULT_DTYPE, type DType, dtypeOfArray, type FloatArray } from "./dtype.js";
import {
  ArgumentError,
  DTypeError,
  describeValue,
  fmtShape,
  GradgraphError,
  GraphError,
  ShapeError,
} from "./errors.js";
import type { Node } from "./graph.js";
import { heapArray, heapFill, heapUnavailable, inHeap, type Storage } from "./kernels/heap.js";
import { type Rng, rngFrom, type Seed } from "./random.js";
import { checkShape, type Shape, shapeSize, shapesEqual } from "./shape.js";

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
 * An n-dimensional array of float32 or float64 numbers, row-major and contiguous, and a value in
 * the define-by-run graph: an op applied to tensors of which any `requiresGrad` records a node,
 * and `backward()` walks those nodes in reverse.
 *
 * Create tensors with `tensor`, `zeros`, `ones`, `full` or `randn`; the constructor trusts its
 * arguments only as far as the cheap checks below.
 */
export class Tensor {
  /** The elements in row-major order. Writing to it directly bypasses the graph. */
  readonly data: FloatArray;
  /** One entry per dimension; `[]` for a 0-d scalar. */
  readonly shape: Shape;
  /** `'float32'` or `'float64'`, from `data`'s type. */
  readonly dtype: DType;
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
   * @internal The version at which `fill_(0)` last zeroed `data` (-1: not known to be zero). While
   * it equals `_version`, backward may copy a gradient into this tensor instead of adding it.
   */
  _zeroAt = -1;

  /**
   * @param data - the elements; its length must equal the product of `shape`.
   * @param shape - the dimensions (not copied: do not mutate it afterwards).
   * @param requiresGrad - make this a leaf that receives gradients.
   * @param creator - @internal the node that produced the tensor.
   * @param outputIndex - @internal which output of `creator`.
   * @throws DTypeError when `data` is not a Float32Array or Float64Array.
   * @throws ShapeError when `data.length` does not match `shape`.
   */
  constructor(data: FloatArray, shape: Shape, requiresGrad = false, creator: Node | null = null, outputIndex = 0) {
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new DTypeError("Tensor", `Tensor: data must be a Float32Array or Float64Array, got ${describeValue(data)}`);
    }
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(
        "Tensor",
        `Tensor: data has ${data.length} elements but shape ${fmtShape(shape)} needs ${size}`,
      );
    }
    this.data = data;
    this.shape = shape;
    this.dtype = data instanceof Float64Array ? "float64" : "float32";
    this.size = size;
    this._requiresGrad = requiresGrad || creator !== null;
    this.creator = creator;
    this.outputIndex = outputIndex;
  }

  /**
   * Number of dimensions.
   * @throws ArgumentError naming `Tensor.rank` when read from something that is not a tensor.
   */
  get rank(): number {
    // a try/catch rather than a receiver check: free on the hot path (ops read rank often)
    try {
      return this.shape.length;
    } catch {
      throw notATensor("rank", this);
    }
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
    if (this.creator !== null) {
      throw new GraphError(
        "Tensor.requiresGrad",
        `Tensor.requiresGrad: can only be set on a leaf; this tensor was produced by op '${this.creator.op.name}' (use detach() for a leaf copy)`,
      );
    }
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
   * @throws ArgumentError when called on something that is not a tensor.
   */
  backward(gradOutput?: Tensor | number, options: BackwardOptions = {}): void {
    if (!isTensor(this)) throw notATensor("backward", this);
    const g = seedGradient("backward", this, gradOutput);
    if (this.creator === null) {
      if (!this._requiresGrad) {
        throw new GraphError("backward", "backward: this tensor does not require grad and has no graph behind it");
      }
      if (this.grad === null) this.grad = new Tensor(copyInStorageOf(this.data, g.data), this.shape);
      else {
        const acc = this.grad.data;
        for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g.data[i]!;
        this.grad._version++;
      }
      return;
    }
    this.creator.runBackward(this, g, options);
  }

  /**
   * The single element as a number.
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
   * A new leaf sharing this tensor's data, cut off from the graph (`requiresGrad` false).
   * @throws ArgumentError when called on something that is not a tensor.
   */
  detach(): Tensor {
    if (!isTensor(this)) throw notATensor("detach", this);
    return new Tensor(this.data, this.shape);
  }

  /**
   * A new leaf with a copy of the data (`requiresGrad` false), in the same storage (JS memory when
   * this tensor's is `'wasm'` and WebAssembly memory is full).
   * @throws ArgumentError when called on something that is not a tensor.
   */
  clone(): Tensor {
    if (!isTensor(this)) throw notATensor("clone", this);
    return new Tensor(copyInStorageOf(this.data, this.data), this.shape);
  }

  /**
   * Copies `src`'s elements into this tensor in place (converting dtype) and bumps its version,
   * so a backward that saved this tensor before the change refuses to use it.
   * @throws ShapeError when the shapes differ; ArgumentError when `src` is not a Tensor or the
   *   method is called on something that is not a tensor.
   */
  copy_(src: Tensor): this {
    if (!isTensor(this)) throw notATensor("copy_", this);
    if (!(src instanceof Tensor)) {
      throw new ArgumentError("copy_", `copy_: src must be a Tensor, got ${describeValue(src)}`);
    }
    if (!shapesEqual(src.shape, this.shape)) {
      throw new ShapeError(
        "copy_",
        `copy_: src has shape ${fmtShape(src.shape)} but this tensor has shape ${fmtShape(this.shape)}`,
      );
    }
    this.data.set(src.data);
    this._version++;
    return this;
  }

  /**
   * Sets every element to `value` in place and bumps the version (see `copy_`).
   * @throws ArgumentError when `value` is not a number, or the method is called on something
   *   that is not a tensor.
   */
  fill_(value: number): this {
    if (!isTensor(this)) throw notATensor("fill_", this);
    if (typeof value !== "number") {
      throw new ArgumentError("fill_", `fill_: value must be a number, got ${describeValue(value)}`);
    }
    // resident data: the heap's kernel (TypedArray.prototype.fill is slow on shared memory)
    if (!heapFill(this.data, value)) this.data.fill(value);
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
    this._version++;
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
   * A short description: `Tensor(float32, [2, 3], requiresGrad)`.
   * @throws ArgumentError when called on something that is not a tensor.
   */
  toString(): string {
    if (!isTensor(this)) throw notATensor("toString", this);
    const op = this.creator ? `, op=${this.creator.op.name}` : this._requiresGrad ? ", requiresGrad" : "";
    return `Tensor(${this.dtype}, ${fmtShape(this.shape)}${op})`;
  }
}

/**
 * True for a constructed Tensor: an instance whose fields were set by the constructor (not merely
 * an object with Tensor's prototype, such as `Object.create(Tensor.prototype)`).
 */
function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor && (value as { data?: unknown }).data !== undefined;
}

/** The error for a Tensor method or accessor called on something that is not a tensor. */
function notATensor(member: string, self: unknown): ArgumentError {
  const got =
    self instanceof Tensor ? "an object with Tensor's prototype that no Tensor constructor made" : describeValue(self);
  return new ArgumentError(
    `Tensor.${member}`,
    `Tensor.${member}: this must be a Tensor (the method was called on another value, e.g. detached from its tensor), got ${got}`,
  );
}

/** Nested arrays of numbers, as accepted by `tensor` and returned by `toArray`. */
export type NestedArray = number | NestedArray[];

/** Anything an op accepts as a tensor operand: a tensor or a plain number (a 0-d constant). */
export type TensorLike = Tensor | number;

/** Options of the tensor factories. */
export interface TensorOptions {
  /** `'float32'` (default) or `'float64'`. */
  dtype?: DType;
  /** Make the result a leaf that receives gradients. */
  requiresGrad?: boolean;
  /**
   * Where the data lives: `'js'` (default), a JS `ArrayBuffer`; or `'wasm'`, WebAssembly memory,
   * where the WASM kernels use it in place instead of copying it in and out on every call (worth it
   * for large, long-lived tensors such as a model's weights: see {@link Tensor.storage}).
   */
  storage?: Storage;
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
function allocIn(fn: string, dtype: DType, n: number, storage: Storage): FloatArray {
  if (storage === "js") return allocArray(dtype, n);
  const out = heapArray(dtype, n);
  if (out !== null) return out;
  const why = heapUnavailable() || "WebAssembly memory is full (it holds at most 2 GiB)";
  throw new GradgraphError(fn, `${fn}: cannot place ${n} ${dtype} elements in storage 'wasm': ${why}`);
}

/**
 * @internal A copy of `src` (same dtype and length) in the same storage as `like` (JS memory when
 * `like` is resident but WebAssembly memory is full): for clones and gradients of resident leaves.
 */
export function copyInStorageOf(like: FloatArray, src: FloatArray): FloatArray {
  const dtype = dtypeOfArray(src);
  const out = (inHeap(like) ? heapArray(dtype, src.length) : null) ?? allocArray(dtype, src.length);
  out.set(src);
  return out;
}

/**
 * Creates a tensor from a number (0-d), nested arrays (shape inferred), or a flat typed array or
 * number array with an explicit `shape`.
 * @throws ShapeError for ragged nested arrays or a `shape` that does not match the data.
 * @throws ArgumentError for non-numeric elements.
 * @throws DTypeError for an unknown dtype.
 */
export function tensor(
  values: NestedArray | FloatArray | readonly number[],
  options: TensorOptions & { shape?: readonly number[] } = {},
): Tensor {
  // null from JavaScript means no options, like undefined
  options = options ?? {};
  const dtype =
    options.dtype !== undefined
      ? checkDType("tensor", options.dtype)
      : values instanceof Float64Array
        ? "float64"
        : values instanceof Float32Array
          ? "float32"
          : DEFAULT_DTYPE;
  const storage = checkStorage("tensor", options.storage);
  let shape: number[];
  let data: FloatArray;
  if (values instanceof Float32Array || values instanceof Float64Array) {
    shape = options.shape !== undefined ? checkShape("tensor", options.shape) : [values.length];
    data = allocIn("tensor", dtype, values.length, storage);
    data.set(values);
  } else if (typeof values === "number") {
    shape = options.shape !== undefined ? checkShape("tensor", options.shape) : [];
    data = allocIn("tensor", dtype, 1, storage);
    data[0] = values;
  } else if (Array.isArray(values)) {
    const inferred: number[] = [];
    let v: unknown = values;
    while (Array.isArray(v)) {
      inferred.push(v.length);
      v = v[0];
    }
    if (inferred.length > MAX_NESTING) {
      throw new ShapeError(
        "tensor",
        `tensor: nested arrays are ${inferred.length} levels deep; at most ${MAX_NESTING} are supported`,
      );
    }
    if (!sameNested(values, inferred)) {
      throw new ShapeError("tensor", `tensor: nested arrays are ragged (expected dimensions ${fmtShape(inferred)})`);
    }
    const flat = (values as unknown[]).flat(Math.max(inferred.length - 1, 0)) as unknown[];
    shape = options.shape !== undefined ? checkShape("tensor", options.shape) : inferred;
    data = allocIn("tensor", dtype, flat.length, storage);
    for (let i = 0; i < flat.length; i++) {
      const x = flat[i];
      if (typeof x !== "number") {
        throw new ArgumentError("tensor", `tensor: element ${i} must be a number, got ${describeValue(x)}`);
      }
      data[i] = x;
    }
  } else {
    throw new ArgumentError(
      "tensor",
      `tensor: values must be a number, nested number arrays or a Float32Array/Float64Array, got ${describeValue(values)}`,
    );
  }
  if (shapeSize(shape) !== data.length) {
    throw new ShapeError(
      "tensor",
      `tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${shapeSize(shape)} elements)`,
    );
  }
  return new Tensor(data, shape, options.requiresGrad === true);
}

const MAX_NESTING = 32;

function sameNested(values: unknown, dims: readonly number[], depth = 0): boolean {
  if (depth === dims.length) return !Array.isArray(values);
  if (!Array.isArray(values) || values.length !== dims[depth]) return false;
  for (const v of values) if (!sameNested(v, dims, depth + 1)) return false;
  return true;
}

/** A tensor of `shape` filled with `value`. @throws ShapeError/DTypeError/ArgumentError on bad arguments. */
export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  return filled("full", shape, value, options);
}

/** A tensor of `shape` filled with zeros. @throws ShapeError/DTypeError on bad arguments. */
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return filled("zeros", shape, 0, options);
}

/** A tensor of `shape` filled with ones. @throws ShapeError/DTypeError on bad arguments. */
export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return filled("ones", shape, 1, options);
}

function filled(fn: string, shape: readonly number[], value: number, options: TensorOptions): Tensor {
  const s = checkShape(fn, shape);
  if (typeof value !== "number") {
    throw new ArgumentError(fn, `${fn}: value must be a number, got ${describeValue(value)}`);
  }
  const opts = options ?? {};
  const dtype = opts.dtype === undefined ? DEFAULT_DTYPE : checkDType(fn, opts.dtype);
  const data = allocIn(fn, dtype, shapeSize(s), checkStorage(fn, opts.storage));
  // (-0 too: the array starts as +0)
  if (!Object.is(value, 0) && !heapFill(data, value)) data.fill(value);
  return new Tensor(data, s, opts.requiresGrad === true);
}

/**
 * A tensor of `shape` with standard normal entries from a seeded generator: pass `seed` for a
 * fresh generator (`new Rng(seed)`: a safe integer or a BigInt) or `rng` to continue an existing
 * `Rng`'s stream.
 * @throws ArgumentError naming `randn` when neither or both of `seed` and `rng` are given, or
 *   when `seed` is not a seed (see `checkSeed`).
 */
export function randn(shape: readonly number[], options: TensorOptions & { seed?: Seed; rng?: Rng }): Tensor {
  const s = checkShape("randn", shape);
  const opts = options ?? {};
  const rng = rngFrom("randn", opts);
  const dtype = opts.dtype === undefined ? DEFAULT_DTYPE : checkDType("randn", opts.dtype);
  const data = allocIn("randn", dtype, shapeSize(s), checkStorage("randn", opts.storage));
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
  if (!(gradOutput instanceof Tensor)) {
    throw new ArgumentError(fn, `${fn}: gradOutput must be a Tensor or a number, got ${describeValue(gradOutput)}`);
  }
  if (!shapesEqual(gradOutput.shape, root.shape)) {
    throw new ShapeError(
      fn,
      `${fn}: gradOutput has shape ${fmtShape(gradOutput.shape)} but the output has shape ${fmtShape(root.shape)}`,
    );
  }
  if (gradOutput.dtype !== root.dtype) {
    const data = allocArray(root.dtype, root.size);
    data.set(gradOutput.data);
    return new Tensor(data, root.shape);
  }
  return gradOutput;
}

/**
 * Returns `value` when it is a Tensor.
 * @throws ArgumentError naming `fn` and `arg` for any other value.
 */
export function assertTensor(fn: string, arg: string, value: unknown): Tensor {
  if (value instanceof Tensor) return value;
  throw new ArgumentError(fn, `${fn}: ${arg} must be a Tensor, got ${describeValue(value)}`);
}
