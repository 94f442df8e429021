/**
 * Reading the public functions' arguments without ever throwing anything but a gradgraph error:
 * Proxies that throw, getters that throw, sparse or huge array-likes, revoked objects.
 */
import { type AnyTensor, ArgumentError, describeValue, GradgraphError, isTensor } from "@gradgraph/core";
import { OnnxError } from "./builder.js";

/** Most entries an argument list (outputs, names, records) may have. */
export const MAX_ENTRIES = 2 ** 16;

/** `Array.isArray` that is false for a revoked Proxy instead of throwing. */
export function isArray(v: unknown): v is readonly unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** `v instanceof Uint8Array` that never throws; false for a view over a detached buffer too. */
export function isBytes(v: unknown): v is Uint8Array {
  try {
    if (!(v instanceof Uint8Array)) return false;
    new Uint8Array(v.buffer, 0, 0); // throws for a detached buffer
    return true;
  } catch {
    return false;
  }
}

/** True for an object that is not an array, a tensor, or a revoked Proxy. */
export function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === "object" && v !== null && !isArray(v) && !isTensor(v) && readable(v);
}

function readable(v: object): boolean {
  try {
    Object.keys(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * The own enumerable string-keyed entries of a record, read once.
 * @throws ArgumentError naming `fn` and `what` for anything that is not a readable plain object.
 */
export function entries(fn: string, what: string, v: unknown): [string, unknown][] {
  if (!isRecord(v)) throw new ArgumentError(fn, `${fn}: ${what} must be an object, got ${describeValue(v)}`);
  let list: [string, unknown][];
  try {
    list = Object.entries(v);
  } catch (e) {
    throw new ArgumentError(fn, `${fn}: ${what} could not be read: ${messageOf(e)}`);
  }
  if (list.length > MAX_ENTRIES) {
    throw new ArgumentError(fn, `${fn}: ${what} has ${list.length} entries, more than ${MAX_ENTRIES}`);
  }
  return list;
}

/** The elements of an array argument, read once (holes are undefined). @throws ArgumentError */
export function elements(fn: string, what: string, v: readonly unknown[]): unknown[] {
  let n: number;
  try {
    n = v.length;
  } catch (e) {
    throw new ArgumentError(fn, `${fn}: ${what} could not be read: ${messageOf(e)}`);
  }
  if (n > MAX_ENTRIES) throw new ArgumentError(fn, `${fn}: ${what} has ${n} entries, more than ${MAX_ENTRIES}`);
  const out = new Array<unknown>(n);
  try {
    for (let i = 0; i < n; i++) out[i] = v[i];
  } catch (e) {
    throw new ArgumentError(fn, `${fn}: ${what} could not be read: ${messageOf(e)}`);
  }
  return out;
}

/**
 * An options object's known keys, read once into a plain object.
 * @throws ArgumentError for a non-object, an unknown key, or a key that cannot be read.
 */
export function options<T>(fn: string, v: unknown, keys: readonly string[]): Partial<T> {
  if (v === undefined || v === null) return {};
  const list = entries(fn, "options", v);
  const out: Record<string, unknown> = {};
  for (const [k, value] of list) {
    if (!keys.includes(k)) {
      throw new ArgumentError(fn, `${fn}: unknown option ${JSON.stringify(k)} (valid: ${keys.join(", ")})`);
    }
    if (value !== undefined) out[k] = value;
  }
  return out as Partial<T>;
}

/** Named tensors from a record, checked. */
export function namedTensors(fn: string, what: string, record: unknown): [string, AnyTensor][] {
  return entries(fn, what, record).map(([k, t]) => {
    if (!isTensor(t)) throw new ArgumentError(fn, `${fn}: ${what}.${k} must be a Tensor, got ${describeValue(t)}`);
    if (k === "") throw new ArgumentError(fn, `${fn}: ${what} has an empty name`);
    return [k, t];
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : describeValue(e);
}

/**
 * Runs a public function's body: a gradgraph error passes; anything else (a tensor whose data or
 * shape was tampered with, a model whose predict throws a TypeError) becomes an OnnxError naming
 * `fn`, with the original as its `cause`.
 */
export function boundary<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof GradgraphError) throw e;
    throw new OnnxError(fn, `${fn}: failed: ${messageOf(e)}`, { cause: e });
  }
}
