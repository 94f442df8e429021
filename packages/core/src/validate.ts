/**
 * Argument checks shared by the public functions that are not about shapes (shape.ts), dtypes
 * (dtype.ts) or tensors (tensor.ts).
 */
import { ArgumentError, describeValue } from "./errors.js";

/**
 * @internal True for a function that cannot be called without `new`: a class, or a built-in constructor
 * such as `Map` (their `prototype` is read-only; an ordinary function's is writable, and arrow
 * functions, methods and async functions have none).
 */
export function isConstructorOnly(f: (...args: never[]) => unknown): boolean {
  if (f.prototype === undefined) return false;
  return Object.getOwnPropertyDescriptor(f, "prototype")?.writable === false;
}

/**
 * @internal Checks a callback argument: a function that can be called (not a class).
 * @throws ArgumentError naming `fn` and `arg` for anything else.
 */
export function checkCallback(fn: string, arg: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") {
    throw new ArgumentError(fn, `${fn}: ${arg} must be a function, got ${describeValue(value)}`);
  }
  if (isConstructorOnly(value as (...args: never[]) => unknown)) {
    throw new ArgumentError(fn, `${fn}: ${arg} must be a function to call, got a class (it needs new)`);
  }
}

/**
 * @internal `Array.isArray` that never throws: a revoked Proxy (on which `Array.isArray` throws
 * a TypeError) is not an array.
 */
export function isArray(value: unknown): value is unknown[] {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/** @internal True for a revoked Proxy, on which every operation but `typeof` throws. */
export function isRevoked(value: object): boolean {
  try {
    Array.isArray(value);
    return false;
  } catch {
    return true;
  }
}

/**
 * @internal True for an object whose properties can be read: not null, not a primitive, not a
 * revoked Proxy (a Proxy whose traps throw is one: its errors are the caller's to see).
 */
export function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !isRevoked(value);
}
