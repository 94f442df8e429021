/**
 * Fuzzing of the safetensors decoder with mutated files. Every case must either decode to
 * well-formed tensors (a mutation may happen to keep the file valid) or throw a gradgraph error
 * (a `CheckpointError`, or another `GradgraphError` subclass): never a TypeError, RangeError or
 * SyntaxError, never a hang, never an allocation the file's size does not justify.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AnyTensor, GradgraphError, shapeSize, type Tensor, tensor } from "@gradgraph/core";
import fc from "fast-check";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  CheckpointError,
  DEFAULT_MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  loadParams,
  saveParams,
} from "../src/io/index.js";

// the properties run thousands of cases; each one is fast, the file as a whole is not
vi.setConfig({ testTimeout: 120_000 });

// ------------------------------------------------------------------------------------------------
// outcome bookkeeping

interface Counts {
  cases: number;
  decoded: number;
  rejected: Record<string, number>;
}

const counts = new Map<string, Counts>();

function countsFor(property: string): Counts {
  let c = counts.get(property);
  if (c === undefined) {
    c = { cases: 0, decoded: 0, rejected: {} };
    counts.set(property, c);
  }
  return c;
}

/** A case that took more CPU time than this is reported as a (near-)hang. */
const SLOW_CASE_MS = 2_000;

/** This process's CPU time (user + system) in milliseconds. */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const cpuSince = (start: number): number => cpuNow() - start;

function hexHead(bytes: Uint8Array, n = 96): string {
  const head = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join("");
  return bytes.length > n ? `${head}… (${bytes.length} bytes)` : `${head} (${bytes.length} bytes)`;
}

/** Checks that a decoded tensor is well formed: a sane shape, and data of exactly that size. */
function checkTensor(name: string, t: AnyTensor): void {
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`tensor ${JSON.stringify(name)} has a bad dimension ${d}`);
  }
  if (t.data.length !== shapeSize(t.shape) || t.size !== t.data.length) {
    throw new Error(
      `tensor ${JSON.stringify(name)} has ${t.data.length} elements for shape [${t.shape.join(", ")}] (size ${t.size})`,
    );
  }
  if (t.dtype !== "float32" && t.dtype !== "float64" && t.dtype !== "int32" && t.dtype !== "bool")
    throw new Error(`tensor ${JSON.stringify(name)} dtype ${t.dtype}`);
  if (t.creator !== null || t.requiresGrad) throw new Error(`tensor ${JSON.stringify(name)} is not a plain leaf`);
}

/**
 * Decodes `bytes` and checks the outcome: well-formed tensors, or a GradgraphError. Anything else
 * (a bare TypeError, RangeError, SyntaxError, a slow case) fails the property with the input.
 * @returns the tensors when the file decoded, else null.
 */
function decodeChecked(property: string, bytes: Uint8Array, options = {}): Map<string, AnyTensor> | null {
  const c = countsFor(property);
  c.cases++;
  const started = performance.now();
  const startedCpu = cpuNow();
  let out: Map<string, AnyTensor> | null = null;
  try {
    out = decodeSafetensors(bytes, options);
  } catch (err) {
    if (err instanceof GradgraphError) {
      const name = err.constructor.name;
      c.rejected[name] = (c.rejected[name] ?? 0) + 1;
      if (!err.message.startsWith("decodeSafetensors: ")) {
        throw new Error(`${property}: error message does not name decodeSafetensors: ${err.message}`);
      }
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      throw new Error(
        `${property}: decodeSafetensors threw a non-gradgraph ${e.constructor.name}: ${e.message}\ninput: ${hexHead(bytes)}\n${e.stack ?? ""}`,
      );
    }
  }
  const ms = performance.now() - started;
  // judged on this process's CPU time, which other processes on a loaded machine do not inflate
  // (a case that loops still burns CPU); the wall time is reported beside it
  const cpuMs = cpuSince(startedCpu);
  if (cpuMs > SLOW_CASE_MS) {
    throw new Error(
      `${property}: a case took ${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall)\ninput: ${hexHead(bytes)}`,
    );
  }
  if (out !== null) {
    c.decoded++;
    for (const [name, t] of out) checkTensor(name, t);
  }
  return out;
}

afterAll(() => {
  let total = 0;
  const lines: string[] = [];
  for (const [property, c] of counts) {
    total += c.cases;
    const rejected = Object.entries(c.rejected)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    lines.push(`  ${property}: ${c.cases} cases, ${c.decoded} decoded, rejected: ${rejected || "none"}`);
  }
  console.log(`checkpoint fuzz: ${total} decodeSafetensors cases in total\n${lines.join("\n")}`);
});

// ------------------------------------------------------------------------------------------------
// generators

const DTYPE_OPTIONS = [undefined, "F16", "BF16", "F32", "F64"] as const;

const tensorArb: fc.Arbitrary<AnyTensor> = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    fc.constantFrom<"float32" | "float64" | "int32" | "bool">("float32", "float64", "int32", "bool"),
  )
  .chain(([shape, dtype]) =>
    fc
      .array(fc.double({ noDefaultInfinity: false }), {
        minLength: shapeSize(shape),
        maxLength: shapeSize(shape),
      })
      .map((v): AnyTensor => {
        if (dtype === "int32")
          return tensor(
            Int32Array.from(v, (x) => (Number.isFinite(x) ? x | 0 : 7)),
            { shape },
          );
        if (dtype === "bool")
          return tensor(
            Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)),
            { shape, dtype },
          );
        return tensor(dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v), { shape, dtype });
      }),
  );

const nameArb = fc.oneof(
  fc.constantFrom("w", "b", "layer.0.weight", "__proto__", "constructor", "toString", "prototype", "hasOwnProperty"),
  fc.string({ maxLength: 8 }),
);

/** Valid safetensors files with up to 4 small tensors, any stored dtype, sometimes metadata. */
const validFileArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.uniqueArray(fc.tuple(nameArb, tensorArb), {
      maxLength: 4,
      selector: ([n]) => n,
    }),
    fc.constantFrom(...DTYPE_OPTIONS),
    fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }), {
      nil: undefined,
    }),
  )
  .map(([entries, dtype, metadata]) => {
    const named = new Map<string, AnyTensor>();
    for (const [n, t] of entries) if (n !== "__metadata__" && !/[\uD800-\uDFFF]/u.test(n)) named.set(n, t);
    const opts: { dtype?: "F16" | "BF16" | "F32" | "F64"; metadata?: Record<string, string> } = {};
    if (dtype !== undefined) opts.dtype = dtype;
    if (metadata !== undefined && Object.keys(metadata).every((k) => !/[\uD800-\uDFFF]/u.test(k))) {
      const m: Record<string, string> = {};
      for (const [k, v] of Object.entries(metadata)) {
        if (!/[\uD800-\uDFFF]/u.test(v)) Object.defineProperty(m, k, { value: v, enumerable: true });
      }
      opts.metadata = m;
    }
    return encodeSafetensors(named, opts);
  });

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
}

/** A file made of an 8-byte prefix (the real header length unless `declared`), a header and data. */
function assemble(header: string | Uint8Array, data: Uint8Array, declared?: bigint): Uint8Array {
  const json = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

// A small JSON model that can express what JSON.stringify cannot: duplicate keys, `__proto__` as
// an own key, raw number tokens such as `1e400`, `-0` or `4.0`.
class Raw {
  constructor(readonly text: string) {}
}
class Obj {
  constructor(readonly pairs: [string, J][]) {}
}
type J = null | boolean | number | string | Raw | Obj | J[];

function ser(v: J): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(",")}]`;
  return JSON.stringify(v);
}

/** Turns a parsed header into the model (keys in file order). */
function toJ(v: unknown): J {
  if (Array.isArray(v)) return v.map(toJ);
  if (typeof v === "object" && v !== null) return new Obj(Object.entries(v).map(([k, x]) => [k, toJ(x)]));
  return v as J;
}

const nastyNumber: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom<J>(
    -1,
    new Raw("-0"),
    0.5,
    1.5,
    new Raw("4.0"),
    new Raw("1E2"),
    1e300,
    new Raw("1e400"),
    new Raw("-1e400"),
    new Raw("1e-400"),
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    2 ** 50,
    Number.MAX_SAFE_INTEGER,
    -(2 ** 53),
    new Raw("18446744073709551616"),
    new Raw("123456789012345678901234567890"),
    "4",
    "",
    null,
    true,
    false,
    [],
    [4],
    new Obj([]),
    new Obj([["valueOf", 4]]),
  ),
  fc.integer({ min: -10, max: 4096 }),
  fc.double(),
);

const nastyDtype: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom<J>(
    "F16",
    "F32",
    "F64",
    "BF16",
    "I64",
    "U8",
    "BOOL",
    "F8_E4M3",
    "f32",
    " F32",
    "F32\u0000",
    "toString",
    "__proto__",
    "constructor",
    "",
    null,
    4,
    ["F32"],
    new Obj([["F32", true]]),
  ),
  fc.string({ maxLength: 5 }),
);

const OVERFLOW_SHAPES: readonly J[] = [
  [2 ** 25, 2 ** 25], // 2^50 elements
  [2 ** 50],
  [2 ** 26, 2 ** 26, 2 ** 26],
  [Number.MAX_SAFE_INTEGER, 2],
  [2 ** 32, 2 ** 32],
  [65536, 65536, 65536, 65536],
  [3, 0, 2 ** 60],
  [1e300, 1e300],
  new Array<J>(64).fill(2),
  new Array<J>(1000).fill(1),
];

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__metadata__"];

/** One structural edit of a header; `pick` chooses an entry by index. */
type Edit =
  | { kind: "field"; entry: number; field: string; value: J }
  | { kind: "dim"; entry: number; index: number; value: J }
  | { kind: "offset"; entry: number; index: number; value: J }
  | { kind: "shift"; entry: number; delta: number }
  | { kind: "copyOffsets"; from: number; to: number }
  | { kind: "pastEnd"; entry: number; extra: number }
  | { kind: "overflowShape"; entry: number; shape: number; matchOffsets: boolean }
  | { kind: "delete"; entry: number; field: string }
  | { kind: "addRoot"; key: string; value: J }
  | { kind: "addInEntry"; entry: number; key: string; value: J }
  | { kind: "duplicate"; entry: number }
  | { kind: "text"; at: number; insert: string; remove: number };

const entryIdx = fc.nat({ max: 7 });
const fieldName = fc.constantFrom("dtype", "shape", "data_offsets", "__proto__", "constructor");

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("field" as const),
    entry: entryIdx,
    field: fieldName,
    value: fc.oneof(nastyNumber, nastyDtype, fc.array(nastyNumber, { maxLength: 3 })),
  }),
  fc.record({ kind: fc.constant("dim" as const), entry: entryIdx, index: fc.nat({ max: 3 }), value: nastyNumber }),
  fc.record({ kind: fc.constant("offset" as const), entry: entryIdx, index: fc.nat({ max: 2 }), value: nastyNumber }),
  fc.record({ kind: fc.constant("shift" as const), entry: entryIdx, delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({ kind: fc.constant("copyOffsets" as const), from: entryIdx, to: entryIdx }),
  fc.record({ kind: fc.constant("pastEnd" as const), entry: entryIdx, extra: fc.integer({ min: 1, max: 2 ** 40 }) }),
  fc.record({
    kind: fc.constant("overflowShape" as const),
    entry: entryIdx,
    shape: fc.nat({ max: OVERFLOW_SHAPES.length - 1 }),
    matchOffsets: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("delete" as const), entry: entryIdx, field: fieldName }),
  fc.record({
    kind: fc.constant("addRoot" as const),
    key: fc.constantFrom(...PROTO_KEYS),
    value: fc.oneof(
      nastyNumber,
      fc.constant<J>(new Obj([["polluted", "yes"]])),
      fc.constant<J>(
        new Obj([
          ["dtype", "F32"],
          ["shape", [0]],
          ["data_offsets", [0, 0]],
        ]),
      ),
    ),
  }),
  fc.record({
    kind: fc.constant("addInEntry" as const),
    entry: entryIdx,
    key: fc.constantFrom(...PROTO_KEYS),
    value: fc.oneof(nastyNumber, nastyDtype),
  }),
  fc.record({ kind: fc.constant("duplicate" as const), entry: entryIdx }),
  fc.record({
    kind: fc.constant("text" as const),
    at: fc.nat(),
    insert: fc.string({ unit: fc.constantFrom(...'{}[]":,0123456789-.eE \\u\u00e9\ud800'.split("")), maxLength: 4 }),
    remove: fc.nat({ max: 3 }),
  }),
);

function getPair(o: Obj, key: string): J | undefined {
  for (const [k, v] of o.pairs) if (k === key) return v;
  return undefined;
}

function setPair(o: Obj, key: string, value: J): void {
  for (const p of o.pairs) {
    if (p[0] === key) {
      p[1] = value;
      return;
    }
  }
  o.pairs.push([key, value]);
}

/**
 * A deep copy of a model value. An edit's value may be one of the arbitraries' shared constants
 * (`new Obj(...)`, `[4]`), and later edits change what they insert: inserting the constant itself
 * would carry those changes into other cases, up to an object that contains itself (which `ser`
 * never finishes serialising).
 */
function cloneJ(v: J): J {
  if (v instanceof Obj) return new Obj(v.pairs.map(([k, x]) => [k, cloneJ(x)]));
  if (Array.isArray(v)) return v.map(cloneJ);
  return v;
}

/** Applies an edit to the header model (tensor entries only; `__metadata__` is left as it is). */
function applyEdit(root: Obj, edit: Edit, dataLen: number): string | null {
  const entries = root.pairs.filter(([k, v]) => k !== "__metadata__" && v instanceof Obj) as [string, Obj][];
  const at = (i: number): Obj | undefined => (entries.length === 0 ? undefined : entries[i % entries.length]?.[1]);
  switch (edit.kind) {
    case "field":
      at(edit.entry) && setPair(at(edit.entry)!, edit.field, cloneJ(edit.value));
      break;
    case "dim": {
      const shape = at(edit.entry) && getPair(at(edit.entry)!, "shape");
      if (Array.isArray(shape)) shape[edit.index] = cloneJ(edit.value);
      break;
    }
    case "offset": {
      const offsets = at(edit.entry) && getPair(at(edit.entry)!, "data_offsets");
      if (Array.isArray(offsets)) offsets[edit.index] = cloneJ(edit.value);
      break;
    }
    case "shift": {
      const offsets = at(edit.entry) && getPair(at(edit.entry)!, "data_offsets");
      if (Array.isArray(offsets)) {
        const [b, e] = offsets;
        if (typeof b === "number" && typeof e === "number") offsets.splice(0, 2, b + edit.delta, e + edit.delta);
      }
      break;
    }
    case "copyOffsets": {
      const from = at(edit.from);
      const to = at(edit.to);
      const offsets = from && getPair(from, "data_offsets");
      if (to && Array.isArray(offsets)) setPair(to, "data_offsets", offsets.slice());
      break;
    }
    case "pastEnd": {
      const offsets = at(edit.entry) && getPair(at(edit.entry)!, "data_offsets");
      if (Array.isArray(offsets) && typeof offsets[0] === "number") {
        offsets[1] = dataLen + edit.extra;
      }
      break;
    }
    case "overflowShape": {
      const e = at(edit.entry);
      const shape = OVERFLOW_SHAPES[edit.shape]!;
      if (e) {
        setPair(e, "shape", Array.isArray(shape) ? shape.slice() : shape);
        if (edit.matchOffsets && Array.isArray(shape)) {
          // claim exactly the byte size the shape needs (as a double; may be inexact or huge)
          const n = (shape as number[]).reduce((a, b) => a * b, 1);
          const item = getPair(e, "dtype") === "F64" ? 8 : getPair(e, "dtype") === "F16" ? 2 : 4;
          setPair(e, "data_offsets", [0, n * item]);
        }
      }
      break;
    }
    case "delete": {
      const e = at(edit.entry);
      if (e) {
        const i = e.pairs.findIndex(([k]) => k === edit.field);
        if (i >= 0) e.pairs.splice(i, 1);
      }
      break;
    }
    case "addRoot":
      root.pairs.push([edit.key, cloneJ(edit.value)]);
      break;
    case "addInEntry":
      at(edit.entry)?.pairs.push([edit.key, cloneJ(edit.value)]);
      break;
    case "duplicate": {
      const e = entries.length === 0 ? undefined : entries[edit.entry % entries.length];
      if (e) root.pairs.push([e[0], e[1]]);
      break;
    }
    case "text": {
      const text = ser(root);
      const pos = edit.at % (text.length + 1);
      return text.slice(0, pos) + edit.insert + text.slice(pos + edit.remove);
    }
  }
  return null;
}

// ------------------------------------------------------------------------------------------------

describe("decodeSafetensors under fuzzing: well-formed tensors or a gradgraph error, nothing else", () => {
  it("random bytes (2,000 cases) and random bytes behind a plausible prefix (1,000 cases)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeChecked("random bytes", bytes);
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 }), (body, n) => {
        const declared = BigInt(Math.min(n, body.length));
        const bytes = assemble(Uint8Array.of(0x7b, ...body), new Uint8Array(0), declared + 1n);
        decodeChecked("random bytes behind a prefix and '{'", bytes);
      }),
      { numRuns: 1_000 },
    );
  });

  it("valid files decode, and every tensor is well formed (500 cases)", () => {
    fc.assert(
      fc.property(validFileArb, (bytes) => {
        expect(decodeChecked("valid files", bytes)).not.toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it("valid files with random byte flips (2,000 cases)", () => {
    fc.assert(
      fc.property(
        validFileArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (file, flips) => {
          const bytes = file.slice();
          for (const [pos, value] of flips) bytes[pos % bytes.length] = value;
          decodeChecked("byte flips", bytes);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("valid files truncated, or with bytes inserted or deleted anywhere (2,000 cases)", () => {
    fc.assert(
      fc.property(validFileArb, fc.nat(), (file, cut) => {
        decodeChecked("truncations", file.subarray(0, cut % file.length));
      }),
      { numRuns: 1_000 },
    );
    fc.assert(
      fc.property(
        validFileArb,
        fc.nat(),
        fc.uint8Array({ maxLength: 16 }),
        fc.nat({ max: 16 }),
        (file, at, insert, remove) => {
          const pos = at % (file.length + 1);
          const bytes = new Uint8Array([...file.subarray(0, pos), ...insert, ...file.subarray(pos + remove)]);
          decodeChecked("insertions and deletions", bytes);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("flipped or lying 8-byte header lengths (1,500 cases)", () => {
    const declaredArb = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 1024n }),
      fc.constantFrom(
        2n ** 63n,
        2n ** 64n - 1n,
        2n ** 53n,
        2n ** 53n + 1n,
        BigInt(DEFAULT_MAX_HEADER_BYTES),
        BigInt(DEFAULT_MAX_HEADER_BYTES) + 1n,
        BigInt(Number.MAX_SAFE_INTEGER),
      ),
    );
    fc.assert(
      fc.property(validFileArb, declaredArb, (file, declared) => {
        const bytes = file.slice();
        new DataView(bytes.buffer).setBigUint64(0, declared, true);
        decodeChecked("lying header lengths", bytes);
      }),
      { numRuns: 1_000 },
    );
    fc.assert(
      fc.property(validFileArb, fc.integer({ min: -16, max: 16 }), fc.nat({ max: 63 }), (file, delta, bit) => {
        const bytes = file.slice();
        const view = new DataView(bytes.buffer);
        const real = view.getBigUint64(0, true);
        // off by a few bytes, or one bit of the 64 flipped
        const declared = delta !== 0 ? BigInt.asUintN(64, real + BigInt(delta)) : real ^ (1n << BigInt(bit));
        view.setBigUint64(0, declared, true);
        decodeChecked("off-by-k and bit-flipped header lengths", bytes);
      }),
      { numRuns: 500 },
    );
  });

  it("header JSON edits: bad numbers, offsets, dtypes, overflowing shapes, prototype keys, duplicates (3,000 cases)", () => {
    fc.assert(
      fc.property(
        validFileArb,
        fc.array(editArb, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -8, max: 8 }),
        (file, edits, dataDelta) => {
          const n = headerLength(file);
          const root = toJ(JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)))) as Obj;
          let data = file.subarray(8 + n);
          let text: string | null = null;
          for (const edit of edits) {
            text = applyEdit(root, edit, data.length);
            if (text !== null) break; // a text edit ends the structural ones
          }
          if (dataDelta < 0) data = data.subarray(0, Math.max(0, data.length + dataDelta));
          else if (dataDelta > 0) data = new Uint8Array([...data, ...new Uint8Array(dataDelta)]);
          decodeChecked("header JSON edits", assemble(text ?? ser(root), data));
        },
      ),
      { numRuns: 3_000 },
    );
    // nothing leaked into the prototypes
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });

  it("claims of 2^50 and more elements are rejected before anything is allocated", () => {
    const claims: [string, J, J][] = [
      ["F32", [2 ** 25, 2 ** 25], [0, 2 ** 52]],
      ["F16", [2 ** 50], [0, 2 ** 51]],
      ["F64", [2 ** 50], [0, 2 ** 53]],
      ["F32", [2 ** 28], [0, 2 ** 30]], // 1 GiB: allocatable, but not backed by the file
      ["F32", [2 ** 26, 2 ** 26, 2 ** 26], [0, 4]],
      ["F64", [Number.MAX_SAFE_INTEGER], [0, Number.MAX_SAFE_INTEGER]],
    ];
    for (const [dtype, shape, offsets] of claims) {
      for (const dataLen of [0, 4, 64]) {
        const header = ser(
          new Obj([
            [
              "w",
              new Obj([
                ["dtype", dtype],
                ["shape", shape],
                ["data_offsets", offsets],
              ]),
            ],
          ]),
        );
        const before = process.memoryUsage().arrayBuffers;
        const started = cpuNow();
        const out = decodeChecked("2^50-element claims", assemble(header, new Uint8Array(dataLen)));
        expect(out).toBeNull();
        // refused before any allocation: well under the hang limit in CPU time (and memory below)
        expect(cpuSince(started)).toBeLessThan(500);
        // a 1 GiB (or larger) typed array would show here until the next collection
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
      }
    }
  });

  it("deeply nested JSON (100,000 levels) anywhere in the header, closed or not (108 cases)", () => {
    const depth = 100_000;
    const fixed = [
      "[".repeat(depth),
      `${"[".repeat(depth)}${"]".repeat(depth)}`,
      `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`,
      `{"a":${"[".repeat(depth)}}`,
      `{"a":${'{"x":'.repeat(depth)}1${"}".repeat(depth)}}`,
      `{"a":{"dtype":"F32","shape":${"[".repeat(depth)}${"]".repeat(depth)},"data_offsets":[0,0]}}`,
      `{"__metadata__":${'{"k":'.repeat(depth)}"v"${"}".repeat(depth)}}`,
      `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":${"[{".repeat(depth / 2)}}`,
    ];
    for (const header of fixed) decodeChecked("deep nesting", assemble(header, new Uint8Array(0)));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: depth }),
        fc.constantFrom("[", '{"k":', "[{"),
        fc.boolean(),
        fc.constantFrom('{"a":', '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"z":', '{"__metadata__":'),
        (d, open, close, prefix) => {
          const closer = open === "[" ? "]" : open === "[{" ? "}]" : "}";
          const inner = open === '{"k":' ? "1" : "";
          const body = `${open.repeat(d)}${inner}${close ? closer.repeat(d) : ""}`;
          const suffix = prefix.includes("dtype") ? "}}" : "}";
          decodeChecked("deep nesting", assemble(`${prefix}${body}${suffix}`, new Uint8Array(0)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("huge headers at and around the caps (10 cases)", () => {
    // declared lengths at the default cap are not read from a short file, nor one byte above it
    for (const declared of [DEFAULT_MAX_HEADER_BYTES - 1, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_BYTES + 1]) {
      expect(decodeChecked("huge headers", assemble("{}", new Uint8Array(0), BigInt(declared)))).toBeNull();
    }
    // a real header of exactly the default cap: 100,000,000 bytes of `{`, spaces and `}`
    const big = new Uint8Array(8 + DEFAULT_MAX_HEADER_BYTES).fill(0x20);
    new DataView(big.buffer).setBigUint64(0, BigInt(DEFAULT_MAX_HEADER_BYTES), true);
    big[8] = 0x7b;
    big[big.length - 1] = 0x7d;
    expect(decodeChecked("huge headers", big)!.size).toBe(0);
    // one byte more than the cap is refused from the prefix alone
    const over = new Uint8Array(8 + 16);
    new DataView(over.buffer).setBigUint64(0, BigInt(DEFAULT_MAX_HEADER_BYTES + 1), true);
    expect(decodeChecked("huge headers", over)).toBeNull();
    // a small cap: at the cap decodes, one above is rejected
    const header = `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    const file = assemble(header, new Uint8Array(4));
    expect(decodeChecked("huge headers", file, { maxHeaderBytes: header.length })!.size).toBe(1);
    expect(decodeChecked("huge headers", file, { maxHeaderBytes: header.length - 1 })).toBeNull();
    expect(decodeChecked("huge headers", file, { maxHeaderBytes: 0 })).toBeNull();
    expect(decodeChecked("huge headers", file, { maxBytes: file.length - 1 })).toBeNull();
    // many long keys close to a 1 MB cap
    const many = `{${Array.from({ length: 4_000 }, (_, i) => `"${"k".repeat(240)}${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",")}}`;
    const bytes = new TextEncoder().encode(many);
    expect(
      decodeChecked("huge headers", assemble(bytes, new Uint8Array(0)), { maxHeaderBytes: bytes.length })!.size,
    ).toBe(4_000);
  });
});

describe("saveParams under fuzzing", () => {
  it("a failed save never replaces the old checkpoint, and a successful one round-trips (200 cases)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-fuzz-"));
    const path = join(dir, "model.safetensors");
    let failed = 0;
    let saved = 0;
    try {
      saveParams(path, { w: tensor([1, 2, 3]) });
      const badValue = fc.constantFrom<unknown>("weights", null, 1, [tensor([1])], { data: [1] }, undefined);
      const badName = fc.constantFrom("__metadata__", "lone\ud800surrogate", "\udfff");
      const paramsArb = fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), tensorArb) },
          { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), badValue) },
          { weight: 1, arbitrary: fc.tuple(badName, tensorArb) },
        ),
        { maxLength: 4 },
      );
      fc.assert(
        fc.property(paramsArb, (pairs) => {
          const params: Record<string, unknown> = {};
          for (const [k, v] of pairs)
            Object.defineProperty(params, k, { value: v, enumerable: true, configurable: true });
          const before = readFileSync(path);
          let error: unknown = null;
          try {
            saveParams(path, params as Record<string, Tensor>);
          } catch (err) {
            error = err;
          }
          expect(readdirSync(dir)).toEqual(["model.safetensors"]); // no temporary file left behind
          if (error !== null) {
            failed++;
            expect(error).toBeInstanceOf(GradgraphError);
            expect(readFileSync(path).equals(before)).toBe(true);
          } else {
            saved++;
            const loaded = loadParams(path);
            expect([...loaded.keys()].sort()).toEqual(Object.keys(params).sort());
            for (const [k, t] of loaded) expect(t.shape).toEqual((params[k] as Tensor).shape);
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`checkpoint fuzz: saveParams ${failed + saved} cases, ${failed} failed cleanly, ${saved} saved`);
    expect(failed).toBeGreaterThan(0);
    expect(saved).toBeGreaterThan(0);
    expect(CheckpointError.prototype).toBeInstanceOf(GradgraphError);
  });
});
