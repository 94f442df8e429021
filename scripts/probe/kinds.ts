/**
 * The bad values the API probe (scripts/probe/run.ts) passes, one at a time, in every argument
 * position of every export: wrong types, odd numbers, BigInts, Symbols, array-likes of length
 * 2^32, sparse and cyclic arrays, deep nesting, detached and BigInt typed arrays, frozen objects,
 * fake and tampered tensors, Proxies that throw or return junk, options whose every key is junk.
 * Each kind is a factory: a fresh value per call, since calls may mutate or detach what they get.
 */
import { Tensor, tensor } from "@gradgraph/core";

/** One kind of bad value. */
export interface BadKind {
  /** A short name for the report. */
  readonly name: string;
  /** Makes a fresh value of this kind. */
  readonly make: () => unknown;
}

/** A Float32Array whose buffer was transferred away (detached): length 0, every access throws. */
export function detachedFloat32(): Float32Array {
  const a = new Float32Array(4);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/** An array that contains itself: `a[0] = a`. */
function cyclicArray(): unknown[] {
  const a: unknown[] = [1];
  a[0] = a;
  return a;
}

/** `depth` nested one-element arrays around a number, with a ragged sibling at the bottom. */
function deepRagged(depth: number): unknown[] {
  let v: unknown = [1, 2];
  for (let i = 0; i < depth; i++) v = i === 0 ? [v, [1]] : [v];
  return v as unknown[];
}

function deepRegular(depth: number): unknown[] {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v as unknown[];
}

/** An object whose every property read returns `value` (options whose every key is junk). */
function everyKey(value: () => unknown): object {
  return new Proxy(
    {},
    {
      get: (_t, k) => (k === Symbol.toPrimitive || k === "then" || k === "toJSON" ? undefined : value()),
      has: () => true,
    },
  );
}

/** A Proxy whose every trap throws. */
function throwingProxy(): object {
  const boom = (): never => {
    throw new Error("probe: proxy trap");
  };
  return new Proxy(
    {},
    {
      get: boom,
      has: boom,
      ownKeys: boom,
      getPrototypeOf: boom,
      getOwnPropertyDescriptor: boom,
      set: boom,
      defineProperty: boom,
      deleteProperty: boom,
      isExtensible: boom,
      preventExtensions: boom,
    },
  );
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A real tensor with its own fields deleted. */
function gutted(): Tensor {
  const t = tensor([1, 2, 3]);
  const r = t as unknown as Record<string, unknown>;
  delete r.data;
  delete r.shape;
  delete r.size;
  delete r.dtype;
  return t;
}

/** A real tensor whose data was detached after it was made. */
function detachedTensor(): Tensor {
  const t = tensor([1, 2, 3], { requiresGrad: true });
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
}

/** The kinds, in report order. */
export const KINDS: readonly BadKind[] = [
  { name: "undefined", make: () => undefined },
  { name: "null", make: () => null },
  { name: "true", make: () => true },
  { name: "0", make: () => 0 },
  { name: "-0", make: () => -0 },
  { name: "-1", make: () => -1 },
  { name: "1.5", make: () => 1.5 },
  { name: "NaN", make: () => Number.NaN },
  { name: "Infinity", make: () => Number.POSITIVE_INFINITY },
  { name: "-Infinity", make: () => Number.NEGATIVE_INFINITY },
  { name: "2**31", make: () => 2 ** 31 },
  { name: "2**32", make: () => 2 ** 32 },
  { name: "2**53", make: () => 2 ** 53 },
  { name: "1e308", make: () => 1e308 },
  { name: "-2**31", make: () => -(2 ** 31) },
  { name: "BigInt 3n", make: () => 3n },
  { name: "BigInt 2n**64n", make: () => 2n ** 64n },
  { name: "''", make: () => "" },
  { name: "'abc'", make: () => "abc" },
  { name: "'2'", make: () => "2" },
  { name: "long string", make: () => "x".repeat(100_000) },
  { name: "Symbol", make: () => Symbol("probe") },
  { name: "{}", make: () => ({}) },
  { name: "Object.create(null)", make: () => Object.create(null) },
  { name: "[]", make: () => [] },
  { name: "[[]]", make: () => [[]] },
  { name: "[1,[2]] ragged", make: () => [1, [2]] },
  { name: "[NaN]", make: () => [Number.NaN] },
  { name: "['a']", make: () => ["a"] },
  { name: "[null]", make: () => [null] },
  { name: "[Symbol]", make: () => [Symbol("probe")] },
  { name: "[3n]", make: () => [3n] },
  { name: "[2, 3n]", make: () => [2, 3n] },
  { name: "[2**31, 2**31]", make: () => [2 ** 31, 2 ** 31] },
  { name: "[Infinity]", make: () => [Number.POSITIVE_INFINITY] },
  { name: "[-1]", make: () => [-1] },
  // biome-ignore lint/suspicious/noSparseArray: a hole is the point
  { name: "[,1] sparse", make: () => [, 1] },
  { name: "Array(3)", make: () => new Array(3) },
  { name: "Array(2**32-1)", make: () => new Array(2 ** 32 - 1) },
  { name: "huge sparse 1e9 [0]=0", make: () => Object.assign(new Array(1e9), { 0: 0 }) },
  { name: "{length: 2**32}", make: () => ({ length: 2 ** 32 }) },
  { name: "{length: Infinity}", make: () => ({ length: Number.POSITIVE_INFINITY }) },
  { name: "{length: -1}", make: () => ({ length: -1 }) },
  { name: "cyclic array", make: cyclicArray },
  {
    name: "cyclic object",
    make: () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      o.data = o;
      o.shape = o;
      return o;
    },
  },
  { name: "ragged 10000 deep", make: () => deepRagged(10_000) },
  { name: "nested 10000 deep", make: () => deepRegular(10_000) },
  { name: "frozen {}", make: () => Object.freeze({}) },
  { name: "frozen [2,3]", make: () => Object.freeze([2, 3]) },
  // as a receiver: the method's own kind of object, frozen (see plan.ts); as an argument, {}
  { name: "frozen instance", make: () => Object.freeze({}) },
  { name: "frozen tensor", make: () => Object.freeze(tensor([[1, 2, 3]], { requiresGrad: true })) },
  { name: "Object.create(Tensor.prototype)", make: () => Object.create(Tensor.prototype) },
  {
    name: "fake tensor (fields, Tensor.prototype)",
    make: () =>
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
  },
  { name: "structuredClone(tensor)", make: () => structuredClone({ ...tensor([1, 2]) }) },
  { name: "tensor, fields deleted", make: gutted },
  { name: "tensor, data detached", make: detachedTensor },
  { name: "detached Float32Array", make: detachedFloat32 },
  { name: "BigInt64Array", make: () => new BigInt64Array(2) },
  { name: "BigUint64Array", make: () => new BigUint64Array(2) },
  { name: "Int32Array", make: () => new Int32Array(2) },
  { name: "Float32Array(0)", make: () => new Float32Array(0) },
  { name: "DataView", make: () => new DataView(new ArrayBuffer(8)) },
  { name: "ArrayBuffer", make: () => new ArrayBuffer(8) },
  { name: "Map", make: () => new Map([[1, 2]]) },
  { name: "Date", make: () => new Date(0) },
  { name: "Promise", make: () => Promise.resolve(1) },
  { name: "function", make: () => () => 1 },
  {
    name: "throwing function",
    make: () => () => {
      throw new Error("probe: thrown by a callback");
    },
  },
  { name: "async function", make: () => async () => 1 },
  { name: "class", make: () => class Probe {} },
  { name: "Proxy, every trap throws", make: throwingProxy },
  { name: "revoked Proxy", make: revokedProxy },
  {
    name: "getters throw",
    make: () =>
      new Proxy(
        {},
        {
          get: () => {
            throw new Error("probe: getter");
          },
        },
      ),
  },
  {
    name: "toPrimitive throws",
    make: () => ({
      [Symbol.toPrimitive]() {
        throw new Error("probe: toPrimitive");
      },
    }),
  },
  { name: "{constructor: Symbol}", make: () => ({ constructor: { name: Symbol("c") } }) },
  { name: "every key Symbol", make: () => everyKey(() => Symbol("k")) },
  { name: "every key 2**31", make: () => everyKey(() => 2 ** 31) },
  { name: "every key -1", make: () => everyKey(() => -1) },
  { name: "every key NaN", make: () => everyKey(() => Number.NaN) },
  { name: "every key 'x'", make: () => everyKey(() => "x") },
  { name: "every key 3n", make: () => everyKey(() => 3n) },
  { name: "every key {}", make: () => everyKey(() => ({})) },
  { name: "every key Array(2**32-1)", make: () => everyKey(() => new Array(2 ** 32 - 1)) },
];
