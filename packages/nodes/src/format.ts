/** Message formatting and type tests shared by the ops. */
import {
  ArgumentError,
  cast,
  DEFAULT_DTYPE,
  describeValue,
  isTensor,
  type Tensor,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";

/**
 * An operand of a function whose result is float whatever its input (`mean`, `variance`,
 * `softmaxCrossEntropy`'s scores), as a float tensor: an int32 or bool one cast to float32, as
 * PyTorch's type promotion takes integers to the default float dtype.
 * @throws what `toTensor` throws, naming `fn` and `arg`.
 */
export function floatOperand(value: TensorLike, fn: string, arg: string): Tensor {
  const t = toTensor(value, fn, arg);
  return t.dtype === "int32" || t.dtype === "bool" ? cast(t, DEFAULT_DTYPE) : t;
}

/** How deep, and how many entries of each array or object, `fmtAttrs` shows. */
const SHOWN_DEPTH = 4;
const SHOWN_ENTRIES = 16;

/**
 * The attributes as a string for messages, JSON-like (typed arrays as plain lists). Never throws
 * and stays short: at most 4 levels and 16 entries per array or object are shown (a huge sparse
 * array, a cycle or a 10,000-deep nesting is summarised, not walked); bigints, symbols and
 * functions are shown by kind.
 */
export function fmtAttrs(attrs: unknown): string {
  try {
    return fmt(attrs, 0);
  } catch {
    return describeValue(attrs);
  }
}

function fmt(v: unknown, depth: number): string {
  if (v === null || v === undefined) return String(v);
  switch (typeof v) {
    case "number":
      return String(v);
    case "boolean":
      return String(v);
    case "string":
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case "bigint":
      return `"${v}n"`;
    case "object":
      break;
    default:
      return describeValue(v);
  }
  const list = isArray(v) ? (v as readonly unknown[]) : isInt32Array(v) ? v : null;
  if (list !== null) {
    if (depth >= SHOWN_DEPTH) return `array(${list.length})`;
    const n = list.length;
    const parts: string[] = [];
    for (let i = 0; i < n && i < SHOWN_ENTRIES; i++) parts.push(fmt(list[i], depth + 1));
    if (n > SHOWN_ENTRIES) parts.push(`… ${n - SHOWN_ENTRIES} more`);
    return `[${parts.join(",")}]`;
  }
  if (depth >= SHOWN_DEPTH || ArrayBuffer.isView(v)) return describeValue(v);
  const keys = Object.keys(v);
  const parts: string[] = [];
  for (let i = 0; i < keys.length && i < SHOWN_ENTRIES; i++) {
    const k = keys[i]!;
    parts.push(`${JSON.stringify(k)}:${fmt((v as Record<string, unknown>)[k], depth + 1)}`);
  }
  if (keys.length > SHOWN_ENTRIES) parts.push(`… ${keys.length - SHOWN_ENTRIES} more`);
  return `{${parts.join(",")}}`;
}

/** A value for messages: a number as itself (`0`, `NaN`), anything else by `describeValue` (never throws). */
export function fmtValue(v: unknown): string {
  return typeof v === "number" ? String(v) : describeValue(v);
}

/** `Array.isArray` that never throws: a revoked Proxy is not an array. */
export function isArray(v: unknown): v is readonly unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** `v instanceof Int32Array` that never throws (a revoked Proxy is not one). */
export function isInt32Array(v: unknown): v is Int32Array {
  try {
    return v instanceof Int32Array;
  } catch {
    return false;
  }
}

/** True when a typed array's buffer was detached (transferred): it reads length 0 and cannot be read. */
export function isDetached(a: ArrayBufferView): boolean {
  if (a.byteLength !== 0) return false;
  try {
    new Uint8Array(a.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * The options object's values of `keys` (undefined: no options), each read once; anything else (a
 * non-object, an array, a Tensor, a revoked Proxy, a getter that throws) is refused, and so is a
 * key outside `keys`, so that a misspelt option is an error rather than silently ignored (as
 * PyTorch refuses an unknown keyword); `what` names the argument in messages (`options`, `attrs`).
 * @throws ArgumentError naming `fn`: for a non-object (an array, a Tensor, a revoked Proxy, ...),
 *   an unknown key, or keys that cannot be listed.
 */
export function readKnownOptions(
  fn: string,
  options: unknown,
  keys: readonly string[],
  what = "options",
): Record<string, unknown> {
  if (options === undefined) return {};
  let own: string[] | null = null;
  const out: Record<string, unknown> = {};
  if (options !== null && typeof options === "object" && !isArray(options) && !isTensor(options)) {
    try {
      own = Object.keys(options);
      for (const k of keys) out[k] = (options as Record<string, unknown>)[k];
    } catch {
      own = null;
    }
  }
  if (own === null) {
    throw new ArgumentError(
      fn,
      `${fn}: ${what} must be an object like { ${keys.join(", ")} }, got ${describeValue(options)}`,
    );
  }
  for (const k of own) {
    if (!keys.includes(k)) {
      const shown = JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
      const kind = what === "options" ? "option" : "attribute";
      throw new ArgumentError(fn, `${fn}: unknown ${kind} ${shown} in ${what} (valid: ${keys.join(", ")})`);
    }
  }
  return out;
}
