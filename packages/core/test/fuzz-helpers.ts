/**
 * Shared fast-check arbitraries and the property of issue 7 ("bad input never crashes"): junk
 * JavaScript values, odd-but-valid tensors (0-d, zero-size, NaN/Inf, float32/float64), and
 * `expectGraceful`, which accepts a call that returns a well-formed result or throws a
 * `GradgraphError` whose message names the function.
 */
import fc from "fast-check";
import { type DType, GradgraphError, type Storage, Tensor, tensor } from "../src/index.js";

/** A Float32Array whose buffer was transferred away (detached): length 0, and reading it throws. */
export function detachedArray(): Float32Array {
  const a = new Float32Array(4);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/** An array that contains itself, `a[0] = a` (`tensor()` on one crashed V8). */
function cyclicArray(): unknown[] {
  const a: unknown[] = [1];
  a[0] = a;
  return a;
}

/** `depth` one-element arrays around a ragged pair (a stack overflow for recursive walks). */
function deeplyNested(depth: number, ragged: boolean): unknown[] {
  let v: unknown = ragged ? [[1, 2], [1]] : 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v as unknown[];
}

/**
 * A Proxy that has been revoked: every operation on it but `typeof` throws a TypeError. Not among
 * the fuzzed kinds (fast-check's own value handling throws on one); the regression tests and the
 * API probe (scripts/probe) pass them.
 */
export function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/**
 * Things that look like tensors but are not intact ones: made without the constructor
 * (`Object.create(Tensor.prototype)`, with or without a tensor's fields), a structured clone, a
 * real tensor whose fields were deleted, and one whose data's buffer was detached. Each must be
 * refused with a GradgraphError wherever a tensor is expected (the brand check, not `instanceof`).
 */
export const fakeTensorArb: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => Object.create(Tensor.prototype),
    () =>
      Object.assign(Object.create(Tensor.prototype), {
        data: new Float32Array(2),
        shape: [2],
        size: 2,
        dtype: "float32",
        creator: null,
        grad: null,
        _requiresGrad: true,
        _version: 0,
      }),
    () => structuredClone({ ...tensor([1, 2]) }),
    () => {
      const t = tensor([1, 2, 3]) as unknown as Record<string, unknown>;
      delete t.data;
      delete t.shape;
      return t;
    },
    () => {
      // a tensor of its own buffer (over 4 KiB, so not on a shared slab) whose buffer was transferred
      const t = tensor(new Float32Array(2048), { requiresGrad: true });
      structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
      return t;
    },
  )
  .map((make) => make());

/**
 * Issue 1's kinds of bad value ("fail fast and cleanly"): BigInts (alone, in shapes, as typed
 * arrays), Symbols in lists, 2^32-length array-likes, cyclic arrays and objects, arrays nested
 * 10,000 deep (ragged or not), detached typed arrays, frozen objects and arrays, classes where
 * functions are expected, and fake tensors.
 */
export const hostileArb: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .constantFrom<() => unknown>(
      () => [2, 3n],
      () => [3n],
      () => 2n ** 64n,
      () => new BigInt64Array(2),
      () => new BigUint64Array(2),
      () => [Symbol("s")],
      () => ({ length: 2 ** 32 }),
      () => ({ length: Number.POSITIVE_INFINITY }),
      () => [2 ** 31, 2 ** 31],
      () => [Number.POSITIVE_INFINITY],
      () => cyclicArray(),
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        o.shape = o;
        return o;
      },
      () => deeplyNested(10_000, true),
      () => deeplyNested(10_000, false),
      () => detachedArray(),
      () => Object.freeze({}),
      () => Object.freeze([2, 3]),
      () => class Junk {},
    )
    .map((make) => make()),
  fakeTensorArb,
);

/** Values of the wrong kind passed from JavaScript. */
export const junkArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: plainJunkArb() },
  { weight: 1, arbitrary: hostileArb },
);

function plainJunkArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      1.5,
      -1,
      2 ** 40,
      true,
      "",
      "abc",
      "2",
      10n,
      Symbol("junk"),
      () => 1,
      {},
      { shape: [2], data: [1, 2] },
      [],
      [[]],
      [1, [2, 3]],
      ["a", "b"],
      [null],
      [Number.NaN, 1],
      new Date(0),
      new Map(),
      new Float32Array(2),
      Object.create(null),
    ),
    fc.integer({ min: -6, max: 6 }),
    fc.string({ maxLength: 4 }),
    fc.array(fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constant("x"), fc.constant(null), fc.double()), {
      maxLength: 4,
    }),
  );
}

/**
 * Arrays with holes: `Array(3)` and a sparse array of length 2^32 − 1, which `forEach`/`some`/
 * `map` skip hole by hole (about a minute for the long one) instead of failing at the first.
 */
export const sparseArb: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  // biome-ignore lint/suspicious/noSparseArray: a hole is the point
  [, 1],
  new Array(3),
  new Array(2 ** 32 - 1),
  Object.assign(new Array(1e9), { 0: 0 }),
);

/** Small shapes: rank 0..3, dims 0..3 (zero-size included). */
export const smallShapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });

const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0) },
);

/**
 * A tensor of `shape` with mostly finite values and occasional NaN/Inf, of either float dtype and
 * storage; one in five is int32 or bool instead (values converted as `cast` does; never requiring
 * grad), unless `requiresGrad` is given (true or false: a float tensor with that flag).
 */
export function oddTensorArb(shape: readonly number[], requiresGrad?: boolean): fc.Arbitrary<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .tuple(
      fc.array(valueArb, { minLength: n, maxLength: n }),
      requiresGrad !== undefined
        ? fc.constantFrom<DType>("float32", "float64")
        : fc.constantFrom<DType>(
            "float32",
            "float64",
            "float32",
            "float64",
            "float32",
            "float64",
            "float32",
            "float64",
            "int32",
            "bool",
          ),
      requiresGrad === undefined ? fc.boolean() : fc.constant(requiresGrad),
      fc.constantFrom<Storage>("js", "js", "wasm"),
    )
    .map(([values, dtype, rg, storage]) =>
      dtype === "int32" || dtype === "bool"
        ? (tensor(Float64Array.from(values), { shape: [...shape], dtype }) as unknown as Tensor)
        : tensor(Float64Array.from(values), { shape: [...shape], dtype, requiresGrad: rg, storage }),
    );
}

/** Valid tensors of random small shapes. */
export const oddTensor: fc.Arbitrary<Tensor> = smallShapeArb.chain((s) => oddTensorArb(s));

/** Either a valid tensor (often; sometimes frozen, a read-only input), a plain number, or junk. */
export const argArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: oddTensor },
  { weight: 1, arbitrary: oddTensor.map((t) => Object.freeze(t)) },
  { weight: 1, arbitrary: fc.double({ min: -3, max: 3 }) },
  { weight: 3, arbitrary: junkArb },
);

/** Axis-like values: valid, out of range, non-integer or junk. */
export const axisArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -4, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 1e9, -1e9, 2 ** 31) },
  { weight: 2, arbitrary: junkArb },
);

/** Elements of an array (or typed array) that `show` prints before abridging the rest. */
const SHOW_HEAD = 24;
/** Nesting depth (arrays and plain objects) that `show` prints; deeper values are abridged. */
const SHOW_DEPTH = 6;

/**
 * Describes a fuzz input for failure reports and the watchdog (fast-check's own stringifier handles
 * symbols etc.). Long arrays and typed arrays keep their first SHOW_HEAD elements and their length:
 * the watchdog describes every call's input, and stringifying the inputs with 2^20-element arrays
 * in full took most of the fuzz files' time (the string is flattened when cut to fit). Never throws:
 * a value whose reading throws (a fake tensor's getter, a revoked proxy) is described as such.
 */
export function show(args: readonly unknown[]): string {
  try {
    return fc.stringify(args.map((a) => abridge(a, 0)));
  } catch (e) {
    return `(input not printable: ${String(e)})`;
  }
}

/** `v` for `show`: tensors described, long arrays cut, nesting bounded (cycles end there too). */
function abridge(v: unknown, depth: number): unknown {
  try {
    if (v instanceof Tensor) {
      return Array.isArray(v.shape)
        ? `Tensor(${v.dtype} [${v.shape.join(",")}]${v.creator !== null ? `, ${v.creator.op.name}` : v.requiresGrad ? ", requiresGrad" : ""})`
        : "Object.create(Tensor.prototype)";
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const t = v as unknown as { length: number; subarray(a: number, b: number): ArrayLike<number | bigint> };
      if (t.length <= SHOW_HEAD) return v;
      return `${v.constructor.name}(${t.length}) [${Array.from(t.subarray(0, SHOW_HEAD)).join(",")}, …]`;
    }
    if (Array.isArray(v)) {
      if (depth >= SHOW_DEPTH) return `[… ${v.length} elements]`;
      const n = Math.min(v.length, SHOW_HEAD);
      const out = new Array<unknown>(n);
      // an index loop: a hole stays a hole (undefined), a huge sparse array costs SHOW_HEAD reads
      for (let i = 0; i < n; i++) if (i in v) out[i] = abridge(v[i], depth + 1);
      if (v.length > SHOW_HEAD) out.push(`… ${v.length - SHOW_HEAD} more (length ${v.length})`);
      return out;
    }
    if (typeof v === "object" && v !== null) {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return v;
      if (depth >= SHOW_DEPTH) return "{…}";
      const keys = Object.keys(v);
      const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
      // defined, not assigned: an own "__proto__" key stays a key
      const put = (k: string, value: unknown) =>
        Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      for (const k of keys.slice(0, SHOW_HEAD)) put(k, abridge((v as Record<string, unknown>)[k], depth + 1));
      if (keys.length > SHOW_HEAD) put("…", `${keys.length - SHOW_HEAD} more keys`);
      return out;
    }
    return v;
  } catch (e) {
    return `(not printable: ${String(e)})`;
  }
}

/** Checks a result is a well-formed tensor: data length equals the product of its shape. */
export function checkTensorResult(fn: string, args: readonly unknown[], value: unknown): void {
  if (!(value instanceof Tensor)) throw new Error(`${fn} returned a non-Tensor ${String(value)} for ${show(args)}`);
  const size = value.shape.reduce((a, b) => a * b, 1);
  if (value.data.length !== size || value.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${fn} returned a malformed Tensor (shape [${value.shape}], ${value.data.length} elements)`);
  }
}

/**
 * Judges a thrown value: it must be a `GradgraphError` whose message names one of `names` and, when
 * `argNames` is given, one of those too (the offending argument). Throws a description otherwise.
 */
export function checkThrown(
  fn: string,
  args: readonly unknown[],
  e: unknown,
  names: readonly string[] = [fn],
  argNames?: readonly string[],
): void {
  if (!(e instanceof GradgraphError)) {
    throw new Error(
      `${fn} threw a bare ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)} for ${show(args)}`,
    );
  }
  if (!names.some((n) => e.message.includes(n))) {
    throw new Error(`${fn} threw ${e.name} whose message does not name "${fn}": ${e.message} for ${show(args)}`);
  }
  if (argNames !== undefined && !argNames.some((n) => e.message.includes(n))) {
    throw new Error(
      `${fn} threw ${e.name} whose message names none of its arguments (${argNames.join(", ")}): ${e.message} for ${show(args)}`,
    );
  }
}

/**
 * Runs `call`; a throw must be a `GradgraphError` naming `fn` (as `fn:` or `fn(`). A return is
 * handed to `check` (default: must be a well-formed Tensor). Returns the thrown error or undefined.
 */
export function expectGraceful(
  fn: string,
  args: readonly unknown[],
  call: () => unknown,
  check: (value: unknown) => void = (v) => checkTensorResult(fn, args, v),
  names: readonly string[] = [fn],
  argNames?: readonly string[],
): unknown {
  let value: unknown;
  try {
    value = call();
  } catch (e) {
    checkThrown(fn, args, e, names, argNames);
    return e;
  }
  check(value);
  return undefined;
}

/**
 * `expectGraceful` for functions that may return a Promise: a rejection is judged like a throw,
 * a fulfilled value is handed to `check`.
 */
export async function expectGracefulAsync(
  fn: string,
  args: readonly unknown[],
  call: () => unknown,
  check: (value: unknown) => void = (v) => checkTensorResult(fn, args, v),
  names: readonly string[] = [fn],
  argNames?: readonly string[],
): Promise<unknown> {
  let value: unknown;
  try {
    value = await call();
  } catch (e) {
    checkThrown(fn, args, e, names, argNames);
    return e;
  }
  check(value);
  return undefined;
}

/** Number of runs per property, overridable by FUZZ_RUNS. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
