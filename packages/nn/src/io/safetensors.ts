/**
 * The safetensors format (Hugging Face, PyTorch): encode and decode in memory, no I/O.
 *
 * Layout: an 8-byte little-endian unsigned header length `N`, `N` bytes of UTF-8 JSON header,
 * then the tensor data, little-endian, row-major. The header maps each tensor name to
 * `{ "dtype", "shape", "data_offsets": [begin, end] }` (offsets relative to the data section) and
 * may hold `"__metadata__": { string: string }`.
 *
 * The decoder treats its input as hostile: every number in the header is checked before it is
 * used, the byte ranges must tile the data section exactly, and every problem is a
 * `CheckpointError` that names the function, the tensor or field, and the values.
 */
import {
  type AnyTensor,
  ArgumentError,
  describeValue,
  GradgraphError,
  isTensor,
  MAX_RANK,
  Tensor,
} from "@gradgraph/core";
import { isArrayOrRevoked, isInstance } from "../checks.js";
import { float16Table, toBfloat16Bits, toFloat16Bits } from "./float16.js";

/**
 * A checkpoint that cannot be written, read or decoded: a malformed or truncated safetensors
 * file, a file that does not match the parameters it is loaded into, a tensor that the format
 * cannot hold, or a failed file operation (the underlying error is the `cause`).
 */
export class CheckpointError extends GradgraphError {}

/**
 * The element types gradgraph can store a float tensor as (`EncodeSafetensorsOptions.dtype`).
 * int32 tensors are stored as `I32` and bool tensors as `BOOL`.
 */
export type SafetensorsDType = "F16" | "BF16" | "F32" | "F64";

/** Every element type of a file gradgraph reads (see `decodeSafetensors`) or writes. */
type FileDType = SafetensorsDType | "I32" | "BOOL" | "U8" | "I8" | "U16" | "I16" | "U32" | "I64" | "U64";

/** Named tensors of any dtype: a plain object (own enumerable string keys) or a `Map`. */
export type NamedTensors = Readonly<Record<string, AnyTensor>> | ReadonlyMap<string, AnyTensor>;

/** Options of `encodeSafetensors` and `saveParams`. */
export interface EncodeSafetensorsOptions {
  /**
   * The element type stored for every float tensor. Default: each tensor's own dtype (`float32` →
   * `F32`, `float64` → `F64`). `F16` and `BF16` halve the size of float32 weights, rounding to
   * nearest-even (`BF16` keeps float32's range, `F16` more precision). int32 and bool tensors are
   * always stored as `I32` and `BOOL`.
   */
  dtype?: SafetensorsDType;
  /** Free-form string pairs stored as the header's `__metadata__`. */
  metadata?: Readonly<Record<string, string>>;
}

/** Options of `decodeSafetensors`, `parseSafetensors`, `loadParams` and `loadParamsInto`. */
export interface DecodeSafetensorsOptions {
  /** The largest whole file, in bytes, that is accepted (default: no limit beyond memory). */
  maxBytes?: number;
  /** The largest JSON header, in bytes, that is accepted (default `DEFAULT_MAX_HEADER_BYTES`). */
  maxHeaderBytes?: number;
}

/** Everything a safetensors file holds. */
export interface SafetensorsContents {
  /** The tensors, in the order of their data in the file (see `decodeSafetensors` for the dtypes). */
  tensors: Map<string, AnyTensor>;
  /** The header's `__metadata__`, or `null` when the file has none. */
  metadata: Map<string, string> | null;
}

/** The default cap on the JSON header: 100,000,000 bytes, as in the reference implementation. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

const ITEM_SIZE: Readonly<Record<FileDType, number>> = {
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
  I32: 4,
  BOOL: 1,
  U8: 1,
  I8: 1,
  U16: 2,
  I16: 2,
  U32: 4,
  I64: 8,
  U64: 8,
};
/** The element types `options.dtype` accepts. */
const FLOAT_DTYPES: readonly string[] = ["F16", "BF16", "F32", "F64"];
/** The element types a file may hold. */
const DTYPES: readonly string[] = Object.keys(ITEM_SIZE);
const SUPPORTED = DTYPES.join(", ");
/** Element types of the safetensors spec that gradgraph does not read, for clearer errors. */
const OTHER_SPEC_DTYPES: readonly string[] = ["F8_E4M3", "F8_E5M2"];
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const METADATA_KEY = "__metadata__";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// A lone surrogate (a paired one is a single code point under the `u` flag and does not match).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

// ---------------------------------------------------------------------------------------------
// public API

/**
 * Encodes named tensors as a safetensors file.
 *
 * Deterministic: the header lists `__metadata__` first, then the tensor names in sorted order
 * (UTF-16 code-unit order); the data is laid out by element size (largest first), then by name,
 * so every tensor is aligned to its element size; the header is padded with spaces to a multiple
 * of 8 bytes. Values are written little-endian on any platform. A 0-d tensor is stored with
 * shape `[]`; zero-size tensors take no data bytes.
 *
 * @param tensors - the tensors by name; `__metadata__` is reserved and cannot be a tensor name.
 * @param options - `dtype` to store every float tensor as `F16`, `BF16`, `F32` or `F64` (default:
 *   each tensor's own dtype; int32 tensors are stored as `I32`, bool as `BOOL`), `metadata` for
 *   the header's `__metadata__`.
 * @returns the file's bytes.
 * @throws ArgumentError when `tensors` is not a plain object or Map of Tensors, or an option has
 *   the wrong type.
 * @throws CheckpointError for a name the format cannot hold (`__metadata__`, a lone UTF-16
 *   surrogate), metadata that is not all strings, or a file too large to build.
 */
export function encodeSafetensors(tensors: NamedTensors, options: EncodeSafetensorsOptions = {}): Uint8Array {
  return encodeWith("encodeSafetensors", "tensors", tensors, options);
}

/**
 * Decodes a safetensors file into tensors: `F32` → float32, `F64` → float64, `F16` and `BF16` →
 * float32 (exactly widened), `I32`, `I16`, `U16`, `I8` and `U8` → int32, `BOOL` → bool (any
 * non-zero byte is true), and `I64`, `U64` and `U32` → int32 when every value fits (PyTorch
 * stores integer buffers such as `num_batches_tracked` as `I64`; gradgraph has no 64-bit
 * integers). Equivalent to `parseSafetensors(bytes, options).tensors`.
 *
 * @param bytes - the whole file (a `Buffer` works too).
 * @param options - `maxBytes` and `maxHeaderBytes` limits.
 * @returns the tensors by name, in the order of their data in the file. Every tensor owns its
 *   data (nothing aliases `bytes`). A header key such as `__proto__` is just a tensor name.
 * @throws CheckpointError for any malformed input: too short, a header length beyond the file or
 *   a limit, a header that is not UTF-8 JSON starting with `{` or not an object, a duplicate key,
 *   an entry that is not `{dtype, shape, data_offsets}`, an unsupported dtype (`F8_E4M3`,
 *   `F8_E5M2`, or one the spec does not know), an `I64`, `U64` or `U32` value outside int32's
 *   range (naming the tensor, the element and the value), a shape that is not
 *   non-negative safe integers, an element count that overflows, `data_offsets` that are not
 *   `[begin, end]` with `0 <= begin <= end` matching the byte size or that leave the data section,
 *   ranges that overlap or leave gaps or trailing bytes, `__metadata__` that is not all strings.
 * @throws ArgumentError when `bytes` is not a Uint8Array or a limit is not a non-negative number.
 */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeSafetensorsOptions = {}): Map<string, AnyTensor> {
  return decodeWith("decodeSafetensors", bytes, options, null).tensors;
}

/**
 * Decodes a safetensors file into its tensors and its `__metadata__` (see `decodeSafetensors`
 * for the conversions and every check).
 * @throws CheckpointError for any malformed input; ArgumentError for bad arguments.
 */
export function parseSafetensors(bytes: Uint8Array, options: DecodeSafetensorsOptions = {}): SafetensorsContents {
  return decodeWith("parseSafetensors", bytes, options, null);
}

// ---------------------------------------------------------------------------------------------
// shared helpers (also used by checkpoint.ts)

/** `"name"` for a message, JSON-quoted and cut to 80 characters. @internal */
export function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** A shape for a message, `[2, 3]`, cut after 16 dimensions. @internal */
export function showShape(shape: readonly unknown[]): string {
  const head = shape.slice(0, 16).map(String).join(", ");
  return shape.length > 16 ? `[${head}, … (${shape.length} dimensions)]` : `[${head}]`;
}

/**
 * The `[name, tensor]` pairs of a plain object or Map of tensors, checked.
 * @throws ArgumentError naming `fn` and `arg` for anything else, a non-string key or a non-Tensor.
 * @internal
 */
export function namedEntries(fn: string, arg: string, tensors: unknown): [string, AnyTensor][] {
  const out: [string, AnyTensor][] = [];
  const check = (name: unknown, value: unknown): void => {
    if (typeof name !== "string") {
      throw new ArgumentError(fn, `${fn}: ${arg} keys must be strings, got ${describeValue(name)}`);
    }
    if (!isTensor(value)) {
      throw new ArgumentError(fn, `${fn}: ${arg}[${quote(name)}] must be a Tensor, got ${describeValue(value)}`);
    }
    out.push([name, value]);
  };
  if (isInstance(tensors, Map)) {
    for (const [name, value] of tensors) check(name, value);
  } else if (
    typeof tensors === "object" &&
    tensors !== null &&
    !isArrayOrRevoked(tensors) &&
    !ArrayBuffer.isView(tensors)
  ) {
    for (const [name, value] of Object.entries(tensors)) check(name, value);
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: ${arg} must be a plain object or a Map of named Tensors, got ${describeValue(tensors)}`,
    );
  }
  return out;
}

/** Code-unit order, the same on every platform and locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(fn: string, source: string | null, message: string): never {
  throw new CheckpointError(fn, `${fn}: ${source === null ? "" : `${source}: `}${message}`);
}

function checkLimit(fn: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new ArgumentError(fn, `${fn}: ${name} must be a non-negative number, got ${describeValue(value)}`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !isArrayOrRevoked(value);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

// ---------------------------------------------------------------------------------------------
// encoding

interface Planned {
  name: string;
  tensor: AnyTensor;
  dtype: FileDType;
  begin: number;
  end: number;
}

/** `encodeSafetensors` with the error prefix `fn`, calling the tensors argument `arg`. @internal */
export function encodeWith(fn: string, arg: string, tensors: unknown, options: EncodeSafetensorsOptions): Uint8Array {
  const opts: unknown = options ?? {};
  if (!isPlainObject(opts)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(opts)}`);
  }
  const forced = own(opts, "dtype");
  if (forced !== undefined && (typeof forced !== "string" || !FLOAT_DTYPES.includes(forced))) {
    throw new ArgumentError(
      fn,
      `${fn}: options.dtype must be "F16", "BF16", "F32" or "F64", got ${describeValue(forced)}`,
    );
  }
  const entries = namedEntries(fn, arg, tensors);

  const plan: Planned[] = [];
  for (const [name, tensor] of entries) {
    if (name === METADATA_KEY) {
      fail(fn, null, `${quote(name)} is reserved for the header's metadata and cannot name a tensor`);
    }
    if (LONE_SURROGATE.test(name)) {
      fail(fn, null, `tensor name ${quote(name)} contains a lone UTF-16 surrogate, which UTF-8 JSON cannot hold`);
    }
    const dtype: FileDType =
      tensor.dtype === "int32"
        ? "I32"
        : tensor.dtype === "bool"
          ? "BOOL"
          : ((forced as SafetensorsDType | undefined) ?? (tensor.dtype === "float64" ? "F64" : "F32"));
    plan.push({ name, tensor, dtype, begin: 0, end: 0 });
  }

  // data layout: largest element size first, then by name, so every tensor is naturally aligned
  const layout = plan.slice().sort((a, b) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || compareNames(a.name, b.name));
  let dataLen = 0;
  for (const p of layout) {
    p.begin = dataLen;
    dataLen += p.tensor.size * ITEM_SIZE[p.dtype];
    p.end = dataLen;
  }
  if (!Number.isSafeInteger(dataLen)) fail(fn, null, `the tensors need ${dataLen} bytes, too many for one file`);

  // header: __metadata__ first, then the names in sorted order
  const parts: string[] = [];
  const metadata = own(opts, "metadata");
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) {
      fail(fn, null, `options.metadata must be an object of strings, got ${describeValue(metadata)}`);
    }
    const pairs: string[] = [];
    for (const key of Object.keys(metadata).sort(compareNames)) {
      const value = metadata[key];
      if (typeof value !== "string") {
        fail(fn, null, `options.metadata[${quote(key)}] must be a string, got ${describeValue(value)}`);
      }
      if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        fail(
          fn,
          null,
          `options.metadata[${quote(key)}] contains a lone UTF-16 surrogate, which UTF-8 JSON cannot hold`,
        );
      }
      pairs.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(",")}}`);
  }
  for (const p of plan.slice().sort((a, b) => compareNames(a.name, b.name))) {
    parts.push(
      `${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.tensor.shape.join(",")}],"data_offsets":[${p.begin},${p.end}]}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  if (headerLen > DEFAULT_MAX_HEADER_BYTES) {
    fail(
      fn,
      null,
      `the header would be ${headerLen} bytes, more than the ${DEFAULT_MAX_HEADER_BYTES} that readers accept (too many or too long names)`,
    );
  }

  let out: Uint8Array;
  try {
    out = new Uint8Array(8 + headerLen + dataLen);
  } catch (err) {
    throw new CheckpointError(fn, `${fn}: cannot allocate ${8 + headerLen + dataLen} bytes for the file`, {
      cause: err,
    });
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  const dataStart = 8 + headerLen;
  for (const p of layout) writeData(out, view, dataStart + p.begin, p.tensor, p.dtype);
  return out;
}

function writeData(out: Uint8Array, view: DataView, pos: number, t: AnyTensor, dtype: FileDType): void {
  const src = t.data;
  const n = src.length;
  if (dtype === "F16") {
    for (let i = 0; i < n; i++) view.setUint16(pos + 2 * i, toFloat16Bits(src[i]!), true);
  } else if (dtype === "BF16") {
    for (let i = 0; i < n; i++) view.setUint16(pos + 2 * i, toBfloat16Bits(src[i]!), true);
  } else if (dtype === "BOOL") {
    out.set(src, pos);
  } else if (dtype === "I32") {
    for (let i = 0; i < n; i++) view.setInt32(pos + 4 * i, src[i]!, true);
  } else if (dtype === "F32") {
    if (LITTLE_ENDIAN && (out.byteOffset + pos) % 4 === 0)
      new Float32Array(out.buffer, out.byteOffset + pos, n).set(src);
    else for (let i = 0; i < n; i++) view.setFloat32(pos + 4 * i, src[i]!, true);
  } else {
    if (LITTLE_ENDIAN && (out.byteOffset + pos) % 8 === 0)
      new Float64Array(out.buffer, out.byteOffset + pos, n).set(src);
    else for (let i = 0; i < n; i++) view.setFloat64(pos + 8 * i, src[i]!, true);
  }
}

// ---------------------------------------------------------------------------------------------
// decoding

interface Entry {
  name: string;
  dtype: FileDType;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

/**
 * `parseSafetensors` with the error prefix `fn` and, when given, `source` (a path) after it.
 * @internal
 */
export function decodeWith(
  fn: string,
  bytes: unknown,
  options: DecodeSafetensorsOptions,
  source: string | null,
): SafetensorsContents {
  if (!isInstance(bytes, Uint8Array)) {
    throw new ArgumentError(fn, `${fn}: bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  }
  const opts: unknown = options ?? {};
  if (!isPlainObject(opts)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(opts)}`);
  }
  const maxBytes = checkLimit(fn, "options.maxBytes", own(opts, "maxBytes"), Number.POSITIVE_INFINITY);
  const maxHeader = checkLimit(fn, "options.maxHeaderBytes", own(opts, "maxHeaderBytes"), DEFAULT_MAX_HEADER_BYTES);
  const len = bytes.length;

  if (len > maxBytes) fail(fn, source, `the file is ${len} bytes, more than maxBytes = ${maxBytes}`);
  if (len < 8) {
    fail(fn, source, `the file is ${len} bytes, too short for safetensors (the header length alone takes 8 bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  // floor: a fractional limit (1.5 bytes) allows what its integer part does, and BigInt needs an integer
  if (declared > BigInt(Math.floor(Math.min(maxHeader, Number.MAX_SAFE_INTEGER)))) {
    fail(fn, source, `header length ${declared} is more than the limit of ${maxHeader} bytes (maxHeaderBytes)`);
  }
  const headerLen = Number(declared);
  if (headerLen > len - 8) {
    fail(
      fn,
      source,
      `header length ${headerLen} is more than the ${len - 8} bytes after the length field (truncated, or not a safetensors file)`,
    );
  }
  if (headerLen === 0 || bytes[8] !== 0x7b) {
    const first = headerLen === 0 ? "an empty header" : `byte 0x${bytes[8]!.toString(16).padStart(2, "0")}`;
    fail(fn, source, `the header must start with '{' (0x7b), got ${first}`);
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail(fn, source, `the ${headerLen}-byte header is not valid UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(fn, source, `the header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isPlainObject(parsed)) fail(fn, source, `the header must be a JSON object, got ${describeValue(parsed)}`);
  const dup = findDuplicateKey(text);
  if (dup !== null) {
    fail(
      fn,
      source,
      dup.parent === null
        ? `the header has the key ${quote(dup.key)} more than once`
        : `the header entry ${quote(dup.parent)} has the key ${quote(dup.key)} more than once`,
    );
  }

  const dataStart = 8 + headerLen;
  const dataLen = len - dataStart;
  const entries: Entry[] = [];
  let metadata: Map<string, string> | null = null;
  // Object.entries reads own properties only; "__proto__" and friends are ordinary names here
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = parseMetadata(fn, source, value);
    else entries.push(parseEntry(fn, source, name, value, dataLen));
  }

  // the ranges must tile the data section exactly: no overlap, no gap, no trailing bytes
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || compareNames(a.name, b.name));
  let covered = 0;
  let prev: Entry | null = null;
  for (const e of entries) {
    if (e.begin < covered && prev !== null) {
      fail(
        fn,
        source,
        `tensor ${quote(e.name)} data_offsets [${e.begin}, ${e.end}] overlap tensor ${quote(prev.name)} data_offsets [${prev.begin}, ${prev.end}]`,
      );
    }
    if (e.begin > covered) {
      fail(
        fn,
        source,
        `bytes [${covered}, ${e.begin}) of the data section belong to no tensor (a gap before tensor ${quote(e.name)} data_offsets [${e.begin}, ${e.end}])`,
      );
    }
    covered = e.end;
    prev = e;
  }
  if (covered !== dataLen) {
    fail(
      fn,
      source,
      `the data section has ${dataLen - covered} trailing bytes: the tensors cover [0, ${covered}) of its ${dataLen} bytes`,
    );
  }

  const tensors = new Map<string, AnyTensor>();
  for (const e of entries) tensors.set(e.name, readTensor(fn, source, bytes, view, dataStart, e));
  return { tensors, metadata };
}

function parseMetadata(fn: string, source: string | null, value: unknown): Map<string, string> {
  if (!isPlainObject(value)) {
    fail(fn, source, `${METADATA_KEY} must be an object of strings, got ${describeValue(value)}`);
  }
  const out = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string")
      fail(fn, source, `${METADATA_KEY}[${quote(key)}] must be a string, got ${describeValue(v)}`);
    out.set(key, v);
  }
  return out;
}

function parseEntry(fn: string, source: string | null, name: string, value: unknown, dataLen: number): Entry {
  const q = quote(name);
  if (!isPlainObject(value)) {
    fail(fn, source, `tensor ${q} must be an object with dtype, shape and data_offsets, got ${describeValue(value)}`);
  }
  const dtype = own(value, "dtype");
  if (dtype === undefined) fail(fn, source, `tensor ${q} has no dtype (supported: ${SUPPORTED})`);
  if (typeof dtype !== "string" || !DTYPES.includes(dtype)) {
    const got = typeof dtype === "string" ? quote(dtype) : describeValue(dtype);
    const why = typeof dtype === "string" && OTHER_SPEC_DTYPES.includes(dtype) ? "unsupported" : "unknown";
    fail(fn, source, `tensor ${q} has ${why} dtype ${got} (supported: ${SUPPORTED})`);
  }
  const itemSize = ITEM_SIZE[dtype as FileDType];

  const rawShape = own(value, "shape");
  if (!Array.isArray(rawShape)) {
    fail(fn, source, `tensor ${q} shape must be an array of non-negative integers, got ${describeValue(rawShape)}`);
  }
  if (rawShape.length > MAX_RANK) {
    fail(
      fn,
      source,
      `tensor ${q} shape has ${rawShape.length} dimensions, more than gradgraph's maximum rank ${MAX_RANK}`,
    );
  }
  const shape: number[] = [];
  let hasZero = false;
  for (let i = 0; i < rawShape.length; i++) {
    const d: unknown = rawShape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(fn, source, `tensor ${q} shape[${i}] must be a non-negative safe integer, got ${describeValue(d)}`);
    }
    if (d === 0) hasZero = true;
    shape.push(d === 0 ? 0 : d); // turns -0 into 0
  }
  let count = 1;
  if (hasZero) count = 0;
  else {
    for (const d of shape) {
      if (count > Math.floor(Number.MAX_SAFE_INTEGER / itemSize / d)) {
        fail(fn, source, `tensor ${q} shape ${showShape(shape)} has too many elements (the byte size overflows 2^53)`);
      }
      count *= d;
    }
  }
  const nbytes = count * itemSize;

  const offsets = own(value, "data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail(
      fn,
      source,
      `tensor ${q} data_offsets must be [begin, end], got ${Array.isArray(offsets) ? JSON.stringify(offsets.slice(0, 4)) : describeValue(offsets)}`,
    );
  }
  const [begin, end] = offsets as unknown[];
  for (const [label, v] of [
    ["begin", begin],
    ["end", end],
  ] as const) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      fail(
        fn,
        source,
        `tensor ${q} data_offsets ${label} must be a non-negative safe integer, got ${describeValue(v)}`,
      );
    }
  }
  const b = (begin as number) + 0; // + 0 turns -0 into 0
  const e = (end as number) + 0;
  if (b > e) fail(fn, source, `tensor ${q} data_offsets [${b}, ${e}] end before they begin`);
  if (e - b !== nbytes) {
    fail(
      fn,
      source,
      `tensor ${q} data_offsets [${b}, ${e}] span ${e - b} bytes, but dtype ${dtype} with shape ${showShape(shape)} needs ${count} × ${itemSize} = ${nbytes}`,
    );
  }
  if (e > dataLen) {
    fail(
      fn,
      source,
      `tensor ${q} data_offsets [${b}, ${e}] run past the end of the ${dataLen}-byte data section (truncated file?)`,
    );
  }
  return { name, dtype: dtype as FileDType, shape, count, begin: b, end: e };
}

function readTensor(
  fn: string,
  source: string | null,
  bytes: Uint8Array,
  view: DataView,
  dataStart: number,
  e: Entry,
): AnyTensor {
  const pos = dataStart + e.begin;
  const n = e.count;
  switch (e.dtype) {
    case "F16": {
      const table = float16Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(pos + 2 * i, true)]!;
      return floatTensor(out, e.shape);
    }
    case "BF16": {
      // the bits of a float32 with a zero low half: exact
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(pos + 2 * i, true) << 16;
      return floatTensor(out, e.shape);
    }
    case "BOOL": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes[pos + i]! === 0 ? 0 : 1;
      return boolTensor(out, e.shape);
    }
    case "U8":
    case "I8":
    case "U16":
    case "I16":
    case "I32": {
      const out = new Int32Array(n);
      const get = intReader(view, e.dtype);
      const size = ITEM_SIZE[e.dtype];
      for (let i = 0; i < n; i++) out[i] = get(pos + size * i);
      return intTensor(out, e.shape);
    }
    case "U32":
    case "I64":
    case "U64": {
      const out = new Int32Array(n);
      const wide = e.dtype !== "U32";
      const size = ITEM_SIZE[e.dtype];
      for (let i = 0; i < n; i++) {
        const p = pos + size * i;
        const lo = view.getUint32(p, true);
        // I64: the high word must be the sign extension of the low word's bit 31; U64 and U32: no bit past 30
        const hi = wide ? view.getUint32(p + 4, true) : 0;
        const fits = e.dtype === "I64" ? hi === (lo >= 2 ** 31 ? 0xffffffff : 0) : hi === 0 && lo < 2 ** 31;
        if (!fits) {
          const value = e.dtype === "I64" ? view.getBigInt64(p, true) : wide ? view.getBigUint64(p, true) : lo;
          fail(
            fn,
            source,
            `tensor ${quote(e.name)} (${e.dtype}) holds ${value} at element ${i}, outside int32's range [${INT32_MIN}, ${INT32_MAX}]; gradgraph has no 64-bit integers`,
          );
        }
        out[i] = lo | 0;
      }
      return intTensor(out, e.shape);
    }
    case "F32":
    case "F64": {
      if (LITTLE_ENDIAN) {
        // copy into a fresh, aligned buffer (the source may be a Buffer slice at any offset)
        const copy = new Uint8Array(e.end - e.begin);
        copy.set(bytes.subarray(pos, dataStart + e.end));
        return floatTensor(e.dtype === "F32" ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer), e.shape);
      }
      if (e.dtype === "F32") {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(pos + 4 * i, true);
        return floatTensor(out, e.shape);
      }
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(pos + 8 * i, true);
      return floatTensor(out, e.shape);
    }
  }
}

/** A float tensor (typed as one, whatever the caller's context). */
function floatTensor(data: Float32Array | Float64Array, shape: number[]): Tensor {
  return new Tensor(data, shape);
}

function intTensor(data: Int32Array, shape: number[]): Tensor<"int32"> {
  return new Tensor(data, shape);
}

function boolTensor(data: Uint8Array, shape: number[]): Tensor<"bool"> {
  return new Tensor(data, shape);
}

/** Reads one little-endian integer of a type that always fits int32. */
function intReader(view: DataView, dtype: "U8" | "I8" | "U16" | "I16" | "I32"): (p: number) => number {
  switch (dtype) {
    case "U8":
      return (p) => view.getUint8(p);
    case "I8":
      return (p) => view.getInt8(p);
    case "U16":
      return (p) => view.getUint16(p, true);
    case "I16":
      return (p) => view.getInt16(p, true);
    case "I32":
      return (p) => view.getInt32(p, true);
  }
}

/**
 * Finds a key repeated in the root object or in one of its direct child objects (a tensor entry
 * or `__metadata__`) of a header that is already known to be valid JSON. `JSON.parse` keeps the
 * last of duplicate keys silently; the spec forbids them, and other readers may keep the first.
 * A single pass with a depth counter: no recursion and no stack, whatever the nesting.
 */
function findDuplicateKey(text: string): { key: string; parent: string | null } | null {
  let depth = 0;
  let expectKey = false;
  let childIsObject = false;
  const rootKeys = new Set<string>();
  let childKeys = new Set<string>();
  let parent = "";
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (expectKey && (depth === 1 || (depth === 2 && childIsObject))) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const seen = depth === 1 ? rootKeys : childKeys;
        if (seen.has(key)) return { key, parent: depth === 1 ? null : parent };
        seen.add(key);
        if (depth === 1) parent = key;
      }
      expectKey = false;
      i = j;
      continue;
    }
    switch (c) {
      case 0x7b: // {
        depth++;
        if (depth === 2) {
          childIsObject = true;
          childKeys = new Set<string>();
        }
        expectKey = true;
        break;
      case 0x5b: // [
        depth++;
        if (depth === 2) childIsObject = false;
        expectKey = false;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        depth--;
        expectKey = false;
        break;
      case 0x2c: // ,
        expectKey = true;
        break;
      case 0x3a: // :
        expectKey = false;
        break;
    }
  }
  return null;
}
