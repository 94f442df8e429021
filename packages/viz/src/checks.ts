/**
 * Type tests that never throw, for arguments that may be anything (issue 1, "fail fast and
 * cleanly"): a revoked Proxy makes `Array.isArray`, `instanceof` and every property read throw a
 * TypeError, which the functions of this package turn into an ArgumentError naming themselves.
 * @internal
 */

/** `Array.isArray` that never throws: a revoked Proxy is not an array. */
export function isArray(v: unknown): v is readonly unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** `v instanceof C` that never throws (a revoked Proxy, or one whose getPrototypeOf throws, is not one). */
export function isInstance<T>(v: unknown, C: abstract new (...args: never[]) => T): v is T {
  try {
    return v instanceof C;
  } catch {
    return false;
  }
}

/** True for an object whose properties can be read: not null, not a primitive, not a revoked Proxy. */
export function isObject(v: unknown): v is object {
  if (v === null || typeof v !== "object") return false;
  try {
    Array.isArray(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * True for a function that cannot be called without `new` (a class, or a built-in constructor
 * such as `Map`): its `prototype` is read-only, where an ordinary function's is writable.
 */
export function isConstructorOnly(f: (...args: never[]) => unknown): boolean {
  if (f.prototype === undefined) return false;
  return Object.getOwnPropertyDescriptor(f, "prototype")?.writable === false;
}
