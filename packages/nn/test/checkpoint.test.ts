import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArgumentError, type Tensor, tensor } from "@gradgraph/core";
import { shapeArb } from "@gradgraph/core/testing";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  CheckpointError,
  DEFAULT_MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  fromBfloat16Bits,
  fromFloat16Bits,
  loadParams,
  loadParamsInto,
  parseSafetensors,
  saveParams,
  toBfloat16Bits,
  toFloat16Bits,
} from "../src/io/index.js";

// Faults injected into node:fs for the atomic-write tests. The checkpoint code reaches node:fs at
// call time through process.getBuiltinModule (so the package bundles for browsers), which returns
// the same module object as require("node:fs"): spies on that object's functions are what it sees.
const faults = { write: "none" as "none" | "partial-then-enospc", fsync: false, writeCalls: 0 };
const fsModule = process.getBuiltinModule("node:fs");
const realWriteSync = fsModule.writeSync;
const realFsyncSync = fsModule.fsyncSync;
const fail = (code: string, syscall: string): Error =>
  Object.assign(new Error(`${code}: injected failure, ${syscall}`), { code, syscall });
function injectFaults(): void {
  vi.spyOn(fsModule, "writeSync").mockImplementation(((
    fd: number,
    buffer: NodeJS.ArrayBufferView,
    offset?: number,
    length?: number,
  ): number => {
    if (faults.write === "partial-then-enospc") {
      faults.writeCalls++;
      if (faults.writeCalls === 1) return realWriteSync(fd, buffer, offset, Math.max(1, Math.floor((length ?? 2) / 2)));
      throw fail("ENOSPC", "write");
    }
    return realWriteSync(fd, buffer, offset, length);
  }) as typeof realWriteSync);
  vi.spyOn(fsModule, "fsyncSync").mockImplementation((fd: number): void => {
    if (faults.fsync) throw fail("EIO", "fsync");
    realFsyncSync(fd);
  });
}

// ------------------------------------------------------------------------------------------------
// helpers

/** Builds a safetensors file by hand: 8-byte length (the real one unless `declared`), header, data. */
function st(header: string | object | Uint8Array, data: ArrayLike<number> | number = 0, declared?: bigint): Uint8Array {
  const json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data) : Uint8Array.from(data);
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const entry = (dtype: string, shape: unknown, begin: unknown, end: unknown): object => ({
  dtype,
  shape,
  data_offsets: [begin, end],
});

/** Asserts that decoding throws a CheckpointError whose message matches `message`. */
function expectRejected(bytes: Uint8Array, message: RegExp, options = {}): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  expect((caught as CheckpointError).op).toBe("decodeSafetensors");
  expect((caught as Error).message).toMatch(/^decodeSafetensors: /);
  expect((caught as Error).message).toMatch(message);
}

/** Same length and, element by element, the same value (NaN equals NaN, -0 differs from 0). */
function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function u16le(values: readonly number[]): number[] {
  return values.flatMap((v) => [v & 0xff, v >> 8]);
}

function f32le(values: readonly number[]): number[] {
  return Array.from(new Uint8Array(Float32Array.from(values).buffer));
}

function f64le(values: readonly number[]): number[] {
  return Array.from(new Uint8Array(Float64Array.from(values).buffer));
}

function headerOf(bytes: Uint8Array): { text: string; json: Record<string, unknown> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return { text, json: JSON.parse(text) as Record<string, unknown> };
}

const nameArb = fc.string({ unit: "binary", maxLength: 10 }).filter((n) => n !== "__metadata__");

function tensorOf(dtype: "float32" | "float64"): fc.Arbitrary<Tensor> {
  return shapeArb({ maxRank: 4, maxDim: 4 }).chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = dtype === "float32" ? fc.float() : fc.double();
    return fc
      .array(values, { minLength: n, maxLength: n })
      .map((v) => tensor(dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v), { shape, dtype }));
  });
}

// ------------------------------------------------------------------------------------------------

describe("float16 conversion", () => {
  it("encodes a table of known values", () => {
    const table: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [1 / 3, 0x3555],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to 2^16: ties to even, i.e. overflows to Infinity
      [1e6, 0x7c00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [-65520, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -14 - 2 ** -25, 0x0400], // halfway between the largest subnormal and 2^-14: ties to even
      [2 ** -24, 0x0001], // smallest subnormal
      [-(2 ** -24), 0x8001],
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to even (0)
      [2 ** -25 * 1.0001, 0x0001],
      [-(2 ** -26), 0x8000], // underflows to -0
      [3 * 2 ** -25, 0x0002], // 1.5 units: ties to even (2)
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1 + 2^-10: ties to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [Number.MIN_VALUE, 0x0000],
      [Number.NaN, 0x7e00],
    ];
    for (const [x, bits] of table) {
      expect(toFloat16Bits(x), `toFloat16Bits(${x})`).toBe(bits);
    }
  });

  it("decodes a table of known bit patterns", () => {
    const table: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x7c00, Number.POSITIVE_INFINITY],
      [0xfc00, Number.NEGATIVE_INFINITY],
      [0x8000, -0],
      [0x0000, 0],
      [0x3555, 0.333251953125],
    ];
    for (const [bits, x] of table) expect(Object.is(fromFloat16Bits(bits), x), `bits ${bits}`).toBe(true);
    expect(fromFloat16Bits(0x7e00)).toBeNaN();
    expect(fromFloat16Bits(0xfc01)).toBeNaN();
  });

  it("round-trips all 65536 bit patterns (NaNs become 0x7e00) and rounds every halfway point to even", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = fromFloat16Bits(h);
      const nanBits = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      const back = toFloat16Bits(x);
      if (back !== (nanBits ? 0x7e00 : h))
        throw new Error(`bits 0x${h.toString(16)} -> ${x} -> 0x${back.toString(16)}`);
    }
    for (let m = 0; m < 0x7bff; m++) {
      const lo = fromFloat16Bits(m);
      const hi = fromFloat16Bits(m + 1);
      const mid = (lo + hi) / 2; // exact in float64
      const even = m % 2 === 0 ? m : m + 1;
      for (const sign of [0, 0x8000]) {
        const s = sign ? -1 : 1;
        if (toFloat16Bits(s * mid) !== (sign | even)) throw new Error(`tie ${s * mid} should round to even`);
        if (toFloat16Bits(s * (mid - (mid - lo) / 1024)) !== (sign | m)) throw new Error(`below ${s * mid}`);
        if (toFloat16Bits(s * (mid + (hi - mid) / 1024)) !== (sign | (m + 1))) throw new Error(`above ${s * mid}`);
      }
    }
  });

  it("rounds any double to the nearest half (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -65503, max: 65503 }), (x) => {
        const h = toFloat16Bits(x);
        const m = h & 0x7fff;
        const a = Math.abs(x);
        const err = Math.abs(a - fromFloat16Bits(m));
        if (m < 0x7bff) expect(err).toBeLessThanOrEqual(Math.abs(fromFloat16Bits(m + 1) - a));
        if (m > 0) expect(err).toBeLessThanOrEqual(Math.abs(a - fromFloat16Bits(m - 1)));
        expect(h & 0x8000 ? 1 : 0).toBe(x < 0 || Object.is(x, -0) ? 1 : 0);
      }),
    );
  });
});

describe("encodeSafetensors / decodeSafetensors round trip", () => {
  it("is exact for float32 (F32) and float64 (F64) tensors of any shape and value (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, fc.oneof(tensorOf("float32"), tensorOf("float64"))), {
          selector: ([name]) => name,
          maxLength: 5,
        }),
        (pairs) => {
          const input = new Map(pairs);
          const bytes = encodeSafetensors(input);
          const out = decodeSafetensors(bytes);
          expect([...out.keys()].sort()).toEqual([...input.keys()].sort());
          const { json } = headerOf(bytes);
          const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(headerLen % 8).toBe(0);
          for (const [name, t] of input) {
            const got = out.get(name)!;
            expect(got.dtype).toBe(t.dtype);
            expect(got.shape).toEqual(t.shape);
            expectSameValues(got.data, t.data);
            // every tensor is aligned to its element size within the file
            const info = json[name] as { data_offsets: [number, number] };
            expect((8 + headerLen + info.data_offsets[0]) % (t.dtype === "float64" ? 8 : 4)).toBe(0);
          }
          // deterministic: the insertion order does not matter, re-encoding gives the same bytes
          expect(encodeSafetensors(new Map([...pairs].reverse()))).toEqual(bytes);
          expect(encodeSafetensors(out)).toEqual(bytes);
        },
      ),
    );
  });

  it("keeps -0, subnormals, ±Infinity, NaN and the extremes exactly", () => {
    const f32 = [
      -0,
      0,
      1e-45,
      -1.401298464324817e-45,
      1.1754942106924411e-38,
      3.4028234663852886e38,
      Infinity,
      -Infinity,
      NaN,
    ];
    const f64 = [
      -0,
      5e-324,
      -5e-324,
      2.2250738585072014e-308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Infinity,
      -Infinity,
      NaN,
    ];
    const out = decodeSafetensors(
      encodeSafetensors({
        a: tensor(Float32Array.from(f32)),
        b: tensor(Float64Array.from(f64)),
      }),
    );
    expectSameValues(out.get("a")!.data, Float32Array.from(f32));
    expectSameValues(out.get("b")!.data, f64);
    expect(out.get("a")!.dtype).toBe("float32");
    expect(out.get("b")!.dtype).toBe("float64");
  });

  it("round-trips 0-d and zero-size tensors", () => {
    const out = decodeSafetensors(
      encodeSafetensors({
        scalar: tensor(2.5, { dtype: "float64" }),
        empty: tensor(new Float32Array(0), { shape: [3, 0, 2] }),
        empty0: tensor(new Float64Array(0), { shape: [0] }),
      }),
    );
    expect(out.get("scalar")!.shape).toEqual([]);
    expect(out.get("scalar")!.item()).toBe(2.5);
    expect(out.get("empty")!.shape).toEqual([3, 0, 2]);
    expect(out.get("empty")!.size).toBe(0);
    expect(out.get("empty0")!.shape).toEqual([0]);
  });

  it("converts with options.dtype: float32 as F64 is exact, float64 as F32 rounds like Math.fround", () => {
    fc.assert(
      fc.property(tensorOf("float32"), tensorOf("float64"), (a, b) => {
        const wide = decodeSafetensors(encodeSafetensors({ a }, { dtype: "F64" })).get("a")!;
        expect(wide.dtype).toBe("float64");
        expectSameValues(wide.data, a.data);
        const narrow = decodeSafetensors(encodeSafetensors({ b }, { dtype: "F32" })).get("b")!;
        expect(narrow.dtype).toBe("float32");
        expectSameValues(narrow.data, Array.from(b.data, Math.fround));
      }),
    );
  });

  it("F16 halves the data and decodes to float32 within float16 rounding (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 40 }), (values) => {
        const t = tensor(Float64Array.from(values));
        const bytes = encodeSafetensors({ t }, { dtype: "F16" });
        const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(bytes.length - 8 - headerLen).toBe(2 * values.length);
        const got = decodeSafetensors(bytes).get("t")!;
        expect(got.dtype).toBe("float32");
        values.forEach((x, i) => {
          const y = got.data[i]!;
          const a = Math.abs(x);
          if (Number.isNaN(x)) expect(y).toBeNaN();
          else if (a >= 65520) expect(y).toBe(Math.sign(x) * Number.POSITIVE_INFINITY);
          else if (a >= 2 ** -14) expect(Math.abs(y - x)).toBeLessThanOrEqual(2 ** -11 * a);
          else expect(Math.abs(y - x)).toBeLessThanOrEqual(2 ** -25);
          if (!Number.isNaN(x)) expect(y < 0 || Object.is(y, -0)).toBe(x < 0 || Object.is(x, -0));
        });
      }),
    );
  });

  it("F16 writes the known little-endian bit patterns", () => {
    const values = [1, 65504, 2 ** -24, 65520, -0, Number.NEGATIVE_INFINITY, Number.NaN, -2];
    const bytes = encodeSafetensors({ h: tensor(values) }, { dtype: "F16" });
    expect(Array.from(bytes.subarray(bytes.length - 16))).toEqual(
      u16le([0x3c00, 0x7bff, 0x0001, 0x7c00, 0x8000, 0xfc00, 0x7e00, 0xc000]),
    );
  });

  it("writes sorted keys, __metadata__ first, and returns the metadata through parseSafetensors", () => {
    const bytes = encodeSafetensors(
      new Map([
        ["b", tensor([1])],
        ["10", tensor([2])],
        ["a", tensor([3], { dtype: "float64" })],
        ["2", tensor([4])],
      ]),
      { metadata: { z: "last", format: "pt" } },
    );
    const { text } = headerOf(bytes);
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","z":"last"},' +
        '"10":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"2":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
        '"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}',
    );
    const contents = parseSafetensors(bytes);
    expect(contents.metadata).toEqual(
      new Map([
        ["format", "pt"],
        ["z", "last"],
      ]),
    );
    expect(contents.tensors.get("10")!.item()).toBe(2);
    expect(parseSafetensors(encodeSafetensors({ x: tensor([1]) })).metadata).toBeNull();
  });

  it("treats __proto__, constructor and toString as ordinary tensor names", () => {
    const input = new Map([
      ["__proto__", tensor([1, 2])],
      ["constructor", tensor([3])],
      ["toString", tensor([4])],
      ["hasOwnProperty", tensor([5])],
    ]);
    const out = decodeSafetensors(encodeSafetensors(input));
    expect([...out.keys()].sort()).toEqual([...input.keys()].sort());
    expectSameValues(out.get("__proto__")!.data, [1, 2]);
    expectSameValues(out.get("toString")!.data, [4]);
    // a plain object with an own "__proto__" key works too
    const record = Object.fromEntries([["__proto__", tensor([7])]]) as Record<string, Tensor>;
    expectSameValues(decodeSafetensors(encodeSafetensors(record)).get("__proto__")!.data, [7]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects what the format cannot hold", () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(
      /encodeSafetensors: "__metadata__" is reserved for the header's metadata/,
    );
    expect(() => encodeSafetensors({ "bad\uD800": tensor([1]) })).toThrow(/lone UTF-16 surrogate/);
    expect(() => encodeSafetensors({ x: tensor([1]) }, { metadata: { k: 1 as unknown as string } })).toThrow(
      /encodeSafetensors: options.metadata\["k"\] must be a string, got number 1/,
    );
    expect(() => encodeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow(ArgumentError);
    expect(() => encodeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow(
      /encodeSafetensors: tensors\["w"\] must be a Tensor, got array\(2\)/,
    );
    expect(() => encodeSafetensors({ x: tensor([1]) }, { dtype: "I32" as "F16" })).toThrow(
      /options.dtype must be "F16", "BF16", "F32" or "F64", got string "I32"/,
    );
    expect(() => encodeSafetensors(null as unknown as Map<string, Tensor>)).toThrow(
      /tensors must be a plain object or a Map of named Tensors, got null/,
    );
  });
});

describe("bfloat16 conversion", () => {
  it("encodes known values, rounding to nearest-even from the float64 value (no double rounding)", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3f80],
      [-2, 0xc000],
      [Math.PI, 0x4049], // 3.140625
      [Number.POSITIVE_INFINITY, 0x7f80],
      [Number.NEGATIVE_INFINITY, 0xff80],
      [Number.NaN, 0x7fc0],
      [3.3895313892515355e38, 0x7f7f], // the largest bfloat16
      [3.4e38, 0x7f80], // past the halfway point to 2^128: Infinity
      [2 ** -133, 0x0001], // the smallest subnormal
      [1 + 2 ** -8, 0x3f80], // a tie: to even (down)
      [1 + 3 * 2 ** -8, 0x3f82], // a tie: to even (up)
      // float32 rounds 1 + 2^-8 + 2^-30 to the tie 1 + 2^-8; the value itself is above it: up
      [1 + 2 ** -8 + 2 ** -30, 0x3f81],
      [-(1 + 2 ** -8 + 2 ** -30), 0xbf81],
      [1 + 2 ** -8 - 2 ** -30, 0x3f80],
    ];
    for (const [x, bits] of cases) expect([x, toBfloat16Bits(x)]).toEqual([x, bits]);
    expect(() => toBfloat16Bits("1" as unknown as number)).toThrow(/toBfloat16Bits: x must be a number/);
    expect(() => fromBfloat16Bits(0.5)).toThrow(/fromBfloat16Bits: bits must be an integer/);
  });

  it("round-trips all 65536 bit patterns (NaNs become 0x7fc0); decoding is float32 with those high bits", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let h = 0; h < 65536; h++) {
      const x = fromBfloat16Bits(h);
      u[0] = h << 16;
      expect(Object.is(x, f[0])).toBe(true);
      const nan = (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
      if (toBfloat16Bits(x) !== (nan ? 0x7fc0 : h)) throw new Error(`0x${h.toString(16)}`);
    }
  });

  it("rounds any double to a nearest bfloat16 (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -3e38, max: 3e38 }), (x) => {
        const y = fromBfloat16Bits(toBfloat16Bits(x));
        // the neighbours of y: no bfloat16 is closer to x
        const h = toBfloat16Bits(x);
        for (const n of [h - 1, h + 1]) {
          const z = fromBfloat16Bits(n & 0xffff);
          if (Number.isFinite(z) && (n & 0x7fff) !== 0x7fff && Math.abs(z - x) < Math.abs(y - x)) return false;
        }
        return Object.is(Math.sign(y), Math.sign(x)) || y === 0;
      }),
      { numRuns: 2000 },
    );
  });
});

describe("int32, bool and the other element types", () => {
  it("int32 tensors are stored as I32 and bool as BOOL, whatever options.dtype, and come back exactly", () => {
    const i = tensor(Int32Array.from([0, -1, 2147483647, -2147483648, 42, 7]), { shape: [2, 3] });
    const b = tensor(Uint8Array.from([1, 0, 1]), { dtype: "bool" });
    const w = tensor([1.5, -2.25], { dtype: "float32" });
    for (const dtype of [undefined, "F16", "BF16", "F64"] as const) {
      const bytes = encodeSafetensors({ i, b, w }, dtype === undefined ? {} : { dtype });
      const { json } = headerOf(bytes);
      expect((json.i as { dtype: string }).dtype).toBe("I32");
      expect((json.b as { dtype: string }).dtype).toBe("BOOL");
      expect((json.w as { dtype: string }).dtype).toBe(dtype ?? "F32");
      const back = decodeSafetensors(bytes);
      expect(back.get("i")!.dtype).toBe("int32");
      expect(back.get("i")!.shape).toEqual([2, 3]);
      expectSameValues(back.get("i")!.data, i.data);
      expect(back.get("b")!.dtype).toBe("bool");
      expectSameValues(back.get("b")!.data, [1, 0, 1]);
      expectSameValues(back.get("w")!.data, [1.5, -2.25]);
    }
  });

  it("reads the integer types into int32 and BOOL's non-zero bytes as true (a file built by hand)", () => {
    const le = (n: number, v: bigint) =>
      Array.from({ length: n }, (_, k) => Number((BigInt.asUintN(8 * n, v) >> BigInt(8 * k)) & 0xffn));
    const parts: [string, string, number, bigint[]][] = [
      ["i64", "I64", 8, [0n, -1n, 2147483647n, -2147483648n]],
      ["u64", "U64", 8, [0n, 2147483647n]],
      ["u32", "U32", 4, [5n, 2147483647n]],
      ["i16", "I16", 2, [-32768n, 32767n]],
      ["u16", "U16", 2, [65535n, 1n]],
      ["i8", "I8", 1, [-128n, 127n]],
      ["u8", "U8", 1, [255n, 0n]],
      ["flag", "BOOL", 1, [0n, 2n, 1n, 255n]],
      ["half", "BF16", 2, [0x3f80n, 0xc049n]],
    ];
    const header: Record<string, object> = {};
    const data: number[] = [];
    for (const [name, dtype, size, values] of parts) {
      header[name] = entry(dtype, [values.length], data.length, data.length + size * values.length);
      for (const v of values) data.push(...le(size, v));
    }
    const out = decodeSafetensors(st(header, data));
    const values = (n: string) => Array.from(out.get(n)!.data);
    expect(out.get("i64")!.dtype).toBe("int32");
    expect(values("i64")).toEqual([0, -1, 2147483647, -2147483648]);
    expect(values("u64")).toEqual([0, 2147483647]);
    expect(values("u32")).toEqual([5, 2147483647]);
    expect(values("i16")).toEqual([-32768, 32767]);
    expect(values("u16")).toEqual([65535, 1]);
    expect(values("i8")).toEqual([-128, 127]);
    expect(values("u8")).toEqual([255, 0]);
    expect(out.get("flag")!.dtype).toBe("bool");
    expect(values("flag")).toEqual([0, 1, 1, 1]);
    expect(out.get("half")!.dtype).toBe("float32");
    expect(values("half")).toEqual([1, -3.140625]);
  });

  it("refuses a 64- or 32-bit unsigned value outside int32's range, naming the tensor, element and value", () => {
    const le8 = (v: bigint) =>
      Array.from({ length: 8 }, (_, k) => Number((BigInt.asUintN(64, v) >> BigInt(8 * k)) & 0xffn));
    expectRejected(
      st({ n: entry("I64", [2], 0, 16) }, [...le8(3n), ...le8(2147483648n)]),
      /tensor "n" \(I64\) holds 2147483648 at element 1, outside int32's range \[-2147483648, 2147483647\]; gradgraph has no 64-bit integers/,
    );
    expectRejected(st({ n: entry("I64", [1], 0, 8) }, le8(-2147483649n)), /holds -2147483649 at element 0/);
    expectRejected(st({ n: entry("I64", [1], 0, 8) }, le8(-(2n ** 63n))), /holds -9223372036854775808 at element 0/);
    expectRejected(st({ n: entry("U64", [1], 0, 8) }, le8(2n ** 64n - 1n)), /\(U64\) holds 18446744073709551615/);
    expectRejected(st({ n: entry("U32", [1], 0, 4) }, [0, 0, 0, 0x80]), /\(U32\) holds 2147483648 at element 0/);
  });

  it("loadParamsInto copies int32 checkpoints into int32 tensors", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-int-"));
    try {
      const path = join(dir, "c.safetensors");
      saveParams(path, {
        steps: tensor(Int32Array.from([3, 4])),
        mask: tensor(Uint8Array.from([0, 1]), { dtype: "bool" }),
      });
      const steps = tensor(Int32Array.from([0, 0]));
      const mask = tensor(Uint8Array.from([1, 1]), { dtype: "bool" });
      loadParamsInto(path, { steps, mask });
      expect(Array.from(steps.data)).toEqual([3, 4]);
      expect(Array.from(mask.data)).toEqual([0, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("known-answer files", () => {
  it("decodes a file built by hand byte by byte", () => {
    const header =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F64","shape":[],"data_offsets":[8,16]},' +
      '"c":{"dtype":"F16","shape":[1,2],"data_offsets":[16,20]}}';
    const data = [
      ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], // F32 1, -2
      ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f], // F64 0.5
      ...[0x00, 0x3c, 0xff, 0x7b], // F16 1, 65504
    ];
    const out = decodeSafetensors(st(header, data));
    expect([...out.keys()]).toEqual(["a", "b", "c"]);
    expect(out.get("a")!.dtype).toBe("float32");
    expect(out.get("a")!.toArray()).toEqual([1, -2]);
    expect(out.get("b")!.dtype).toBe("float64");
    expect(out.get("b")!.shape).toEqual([]);
    expect(out.get("b")!.item()).toBe(0.5);
    expect(out.get("c")!.dtype).toBe("float32");
    expect(out.get("c")!.toArray()).toEqual([[1, 65504]]);
  });

  it("decodes the reference implementation's layout (metadata, 7 spaces of padding)", () => {
    // as written by huggingface/safetensors' Python tests (with F32 in place of I32)
    const text =
      '{"__metadata__":{"framework":"pt"},"test1":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}       ';
    const bytes = new Uint8Array([0x66, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(text), ...new Uint8Array(16)]);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual(new Map([["framework", "pt"]]));
    expect(tensors.get("test1")!.toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it("encodes exactly the expected bytes", () => {
    const bytes = encodeSafetensors({
      test: tensor([
        [1, 2],
        [3, 4],
      ]),
    });
    const text = '{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}    '; // 60 + 4 spaces
    expect(Array.from(bytes)).toEqual([
      64,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode(text),
      ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40],
    ]);
  });
});

describe("decodeSafetensors rejects malformed files", () => {
  const good = st({ w: entry("F32", [2, 2], 0, 16), b: entry("F64", [1], 16, 24) }, [
    ...f32le([1, 2, 3, 4]),
    ...f64le([5]),
  ]);
  const goodHeaderLen = good.length - 8 - 24;

  it("accepts the well-formed file the corpus starts from", () => {
    expect(decodeSafetensors(good).get("b")!.item()).toBe(5);
  });

  it.each([0, 1, 7])("rejects a file truncated to %i bytes (no header length)", (cut) => {
    expectRejected(good.subarray(0, cut), new RegExp(`the file is ${cut} bytes, too short for safetensors`));
  });

  it.each([8, 9, 40])("rejects a file truncated to %i bytes (inside the header)", (cut) => {
    expectRejected(
      good.subarray(0, cut),
      new RegExp(`header length ${goodHeaderLen} is more than the ${cut - 8} bytes after the length field`),
    );
  });

  it("rejects a file truncated after the header or inside the data", () => {
    expectRejected(
      good.subarray(0, 8 + goodHeaderLen),
      /tensor "[wb]" data_offsets \[\d+, \d+\] run past the end of the 0-byte data section/,
    );
    expectRejected(
      good.subarray(0, good.length - 1),
      /tensor "b" data_offsets \[16, 24\] run past the end of the 23-byte data section/,
    );
  });

  it("rejects a lying header length", () => {
    const body = good.slice();
    new DataView(body.buffer).setBigUint64(0, 1000n, true);
    expectRejected(body, /header length 1000 is more than the \d+ bytes after the length field/);
    new DataView(body.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    expectRejected(body, /header length 18446744073709551615 is more than the limit of 100000000 bytes/);
    new DataView(body.buffer).setBigUint64(0, BigInt(goodHeaderLen - 1), true);
    expectRejected(body, /the header is not valid JSON/);
  });

  it("rejects a huge header before reading it, and honours maxHeaderBytes and maxBytes", () => {
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(100_000_000);
    expectRejected(
      st("{}", 0, BigInt(DEFAULT_MAX_HEADER_BYTES + 1)),
      /header length 100000001 is more than the limit of 100000000 bytes \(maxHeaderBytes\)/,
    );
    const padded = st(`{}${" ".repeat(198)}`);
    expectRejected(padded, /header length 200 is more than the limit of 100 bytes/, { maxHeaderBytes: 100 });
    expect(decodeSafetensors(padded).size).toBe(0);
    expectRejected(good, new RegExp(`the file is ${good.length} bytes, more than maxBytes = 50`), { maxBytes: 50 });
    expect(() => decodeSafetensors(good, { maxBytes: -1 })).toThrow(ArgumentError);
  });

  it("rejects a header that does not start with '{', is not UTF-8 or not JSON", () => {
    expectRejected(st(""), /the header must start with '\{' \(0x7b\), got an empty header/);
    expectRejected(st(" {}"), /the header must start with '\{' \(0x7b\), got byte 0x20/);
    expectRejected(st("[]"), /got byte 0x5b/);
    expectRejected(st(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), /got byte 0xef/); // a BOM
    expectRejected(
      st(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      /the 7-byte header is not valid UTF-8/,
    );
    expectRejected(st('{"a":'), /the header is not valid JSON \(/);
    expectRejected(st("{} x"), /the header is not valid JSON/);
    expectRejected(st("{}\0"), /the header is not valid JSON/);
  });

  it("rejects duplicate keys, which JSON.parse would silently merge", () => {
    const one = JSON.stringify(entry("F32", [1], 0, 4));
    expectRejected(st(`{"a":${one},"a":${one}}`, 4), /the header has the key "a" more than once/);
    expectRejected(
      st('{"a":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
      /the header entry "a" has the key "dtype" more than once/,
    );
    expectRejected(
      st('{"__metadata__":{"k":"1","k":"2"}}'),
      /the header entry "__metadata__" has the key "k" more than once/,
    );
    // equal keys spelled differently are still equal
    expectRejected(st(`{"a":${one},"\\u0061":${one}}`, 4), /the header has the key "a" more than once/);
    // the same key in different entries, or deeper down, is fine
    expect(
      decodeSafetensors(st(`{"a":${one},"b":${JSON.stringify({ ...entry("F32", [1], 4, 8), x: { k: 1 } })}}`, 8)).size,
    ).toBe(2);
  });

  it("rejects entries that are not objects and bad dtypes", () => {
    expectRejected(st({ a: 3 }), /tensor "a" must be an object with dtype, shape and data_offsets, got number 3/);
    expectRejected(st({ a: null }), /tensor "a" must be an object with dtype, shape and data_offsets, got null/);
    expectRejected(st({ a: [] }), /tensor "a" must be an object .* got array\(0\)/);
    expectRejected(
      st({ a: entry("F8_E4M3", [1], 0, 1) }, 1),
      /tensor "a" has unsupported dtype "F8_E4M3" \(supported: F16, BF16, F32, F64, I32, BOOL, U8, I8, U16, I16, U32, I64, U64\)/,
    );
    expectRejected(st({ a: entry("F128", [1], 0, 16) }, 16), /tensor "a" has unknown dtype "F128"/);
    expectRejected(st({ a: entry("f32", [1], 0, 4) }, 4), /tensor "a" has unknown dtype "f32"/);
    expectRejected(st({ a: { ...entry("F32", [1], 0, 4), dtype: 4 } }, 4), /tensor "a" has unknown dtype number 4/);
    expectRejected(st({ a: { shape: [1], data_offsets: [0, 4] } }, 4), /tensor "a" has no dtype/);
  });

  it("rejects bad shapes and element-count overflow", () => {
    expectRejected(
      st({ a: entry("F32", "2", 0, 8) }, 8),
      /tensor "a" shape must be an array of non-negative integers, got string "2"/,
    );
    expectRejected(
      st({ a: { dtype: "F32", data_offsets: [0, 4] } }, 4),
      /tensor "a" shape must be an array .* got undefined/,
    );
    expectRejected(
      st({ a: entry("F32", [-1], 0, 4) }, 4),
      /tensor "a" shape\[0\] must be a non-negative safe integer, got number -1/,
    );
    expectRejected(st({ a: entry("F32", [2, 1.5], 0, 12) }, 12), /tensor "a" shape\[1\] must be .* got number 1.5/);
    expectRejected(st({ a: entry("F32", ["2"], 0, 8) }, 8), /shape\[0\] must be .* got string "2"/);
    expectRejected(st({ a: entry("F32", [null], 0, 4) }, 4), /shape\[0\] must be .* got null/);
    expectRejected(st({ a: entry("F32", [2 ** 53], 0, 4) }, 4), /shape\[0\] must be .* got number 9007199254740992/);
    expectRejected(st('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', 4), /got number Infinity/);
    expectRejected(
      st({ a: entry("F32", [2 ** 26, 2 ** 26, 2 ** 10], 0, 4) }, 4),
      /tensor "a" shape \[67108864, 67108864, 1024\] has too many elements \(the byte size overflows 2\^53\)/,
    );
  });

  it("rejects bad data_offsets", () => {
    expectRejected(
      st({ a: { dtype: "F32", shape: [1] } }, 4),
      /tensor "a" data_offsets must be \[begin, end\], got undefined/,
    );
    expectRejected(
      st({ a: { dtype: "F32", shape: [1], data_offsets: [0] } }, 4),
      /data_offsets must be \[begin, end\], got \[0\]/,
    );
    expectRejected(st({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4, 8] } }, 4), /got \[0,4,8\]/);
    expectRejected(
      st({ a: entry("F32", [1], "0", 4) }, 4),
      /data_offsets begin must be a non-negative safe integer, got string "0"/,
    );
    expectRejected(st({ a: entry("F32", [1], -4, 0) }, 4), /data_offsets begin must be .* got number -4/);
    expectRejected(
      st({ a: entry("F32", [1], 0, 2 ** 53) }, 4),
      /data_offsets end must be .* got number 9007199254740992/,
    );
    expectRejected(st({ a: entry("F32", [0], 8, 4) }, 8), /tensor "a" data_offsets \[8, 4\] end before they begin/);
    expectRejected(
      st({ a: entry("F32", [2], 0, 4) }, 4),
      /tensor "a" data_offsets \[0, 4\] span 4 bytes, but dtype F32 with shape \[2\] needs 2 × 4 = 8/,
    );
    expectRejected(
      st({ a: entry("F16", [3], 0, 8) }, 8),
      /tensor "a" data_offsets \[0, 8\] span 8 bytes, but dtype F16 with shape \[3\] needs 3 × 2 = 6/,
    );
    expectRejected(
      st({ a: entry("F32", [2], 0, 8) }, 4),
      /tensor "a" data_offsets \[0, 8\] run past the end of the 4-byte data section/,
    );
    expectRejected(
      st({ a: entry("F64", [1], 2 ** 40, 2 ** 40 + 8) }, 8),
      /data_offsets \[1099511627776, 1099511627784\] run past the end of the 8-byte data section/,
    );
  });

  it("rejects ranges that overlap, leave gaps or leave trailing bytes", () => {
    expectRejected(
      st({ a: entry("F32", [2], 0, 8), b: entry("F32", [2], 4, 12) }, 12),
      /tensor "b" data_offsets \[4, 12\] overlap tensor "a" data_offsets \[0, 8\]/,
    );
    expectRejected(
      st({ a: entry("F32", [2], 0, 8), b: entry("F32", [2], 0, 8) }, 8),
      /tensor "b" data_offsets \[0, 8\] overlap tensor "a" data_offsets \[0, 8\]/,
    );
    expectRejected(
      st({ a: entry("F32", [2], 0, 8), z: entry("F32", [0], 4, 4) }, 8),
      /tensor "z" data_offsets \[4, 4\] overlap tensor "a" data_offsets \[0, 8\]/,
    );
    expectRejected(
      st({ a: entry("F32", [1], 0, 4), b: entry("F32", [1], 8, 12) }, 12),
      /bytes \[4, 8\) of the data section belong to no tensor \(a gap before tensor "b" data_offsets \[8, 12\]\)/,
    );
    expectRejected(st({ a: entry("F32", [1], 4, 8) }, 8), /bytes \[0, 4\) of the data section belong to no tensor/);
    expectRejected(
      st({ a: entry("F32", [1], 0, 4) }, 8),
      /the data section has 4 trailing bytes: the tensors cover \[0, 4\) of its 8 bytes/,
    );
    expectRejected(st({}, 1), /the data section has 1 trailing bytes: the tensors cover \[0, 0\) of its 1 bytes/);
    // zero-size tensors at the edges of other ranges are fine
    const ok = st({ a: entry("F32", [1], 0, 4), e: entry("F64", [0, 5], 4, 4), f: entry("F16", [0], 0, 0) }, 4);
    expect(decodeSafetensors(ok).get("e")!.shape).toEqual([0, 5]);
  });

  it("rejects bad __metadata__", () => {
    expectRejected(st({ __metadata__: "x" }), /__metadata__ must be an object of strings, got string "x"/);
    expectRejected(st({ __metadata__: null }), /__metadata__ must be an object of strings, got null/);
    expectRejected(st({ __metadata__: ["a"] }), /__metadata__ must be an object of strings, got array\(1\)/);
    expectRejected(st({ __metadata__: { k: 1 } }), /__metadata__\["k"\] must be a string, got number 1/);
    expectRejected(st({ __metadata__: { k: { deep: "x" } } }), /__metadata__\["k"\] must be a string, got object/);
  });

  it("does not let __proto__ keys pollute prototypes or smuggle fields", () => {
    // a tensor entry named __proto__ is just a tensor
    const header =
      '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"constructor":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}';
    const out = decodeSafetensors(st(header, f32le([1.5, 2.5])));
    expect(out.get("__proto__")!.item()).toBe(1.5);
    expect(out.get("constructor")!.item()).toBe(2.5);
    // an attempt at pollution is rejected and leaves Object.prototype alone
    expectRejected(st('{"__proto__":{"polluted":"yes"}}'), /tensor "__proto__" has no dtype/);
    expectRejected(
      st('{"a":{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}', 4),
      /tensor "a" has no dtype/,
    );
    expectRejected(st('{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}', 4), /unknown dtype "toString"/);
    const meta = parseSafetensors(st('{"__metadata__":{"__proto__":"x","polluted":"y"}}')).metadata!;
    expect(meta.get("__proto__")).toBe("x");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it("handles deeply nested and large headers without recursion or a hang", () => {
    const depth = 200_000;
    const deep = `{"a":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
    expectRejected(st(deep), /tensor "a" has no dtype/); // V8 parses JSON iteratively
    const deepObj = `{"a":${'{"x":'.repeat(depth)}1${"}".repeat(depth)}}`;
    expectRejected(st(deepObj), /tensor "a" has no dtype/);
    // 20,000 zero-size tensors: a 1.3 MB header decodes quickly
    const many: Record<string, object> = {};
    for (let i = 0; i < 20_000; i++) many[`layer.${i}.weight`] = entry("F32", [0, i], 0, 0);
    const started = performance.now();
    expect(decodeSafetensors(st(many)).size).toBe(20_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("rejects non-Uint8Array input with an ArgumentError and decodes a Buffer at any offset", () => {
    expect(() => decodeSafetensors("abc" as unknown as Uint8Array)).toThrow(ArgumentError);
    const bytes = encodeSafetensors({ w: tensor([1, 2, 3], { dtype: "float64" }) });
    const shifted = Buffer.alloc(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeSafetensors(shifted.subarray(3)).get("w")!.toArray()).toEqual([1, 2, 3]);
  });
});

// ------------------------------------------------------------------------------------------------

describe("saveParams / loadParams / loadParamsInto", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gradgraph-checkpoint-"));
    faults.write = "none";
    faults.fsync = false;
    faults.writeCalls = 0;
    injectFaults();
  });
  afterEach(() => {
    faults.write = "none";
    faults.fsync = false;
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const params = () => ({
    W: tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "float64" },
    ),
    b: tensor([0.5, -0.5, 0]),
  });

  it("saves and loads back exactly, leaving no temporary files", () => {
    const path = join(dir, "model.safetensors");
    saveParams(path, params(), { metadata: { epoch: "3" } });
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    const loaded = loadParams(path);
    expect(loaded.get("W")!.dtype).toBe("float64");
    expect(loaded.get("W")!.toArray()).toEqual(params().W.toArray());
    expect(loaded.get("b")!.toArray()).toEqual([0.5, -0.5, 0]);
    expect(parseSafetensors(readFileSync(path)).metadata).toEqual(new Map([["epoch", "3"]]));
    // overwriting works and replaces the content
    saveParams(path, { b: tensor([9]) });
    expect([...loadParams(path).keys()]).toEqual(["b"]);
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  it("F16 checkpoints are half the data size", () => {
    const big = {
      w: tensor(
        new Float32Array(1000).map((_, i) => i / 7),
        { shape: [10, 100] },
      ),
    };
    saveParams(join(dir, "f32.safetensors"), big);
    saveParams(join(dir, "f16.safetensors"), big, { dtype: "F16" });
    const f32 = readFileSync(join(dir, "f32.safetensors")).length;
    const f16 = readFileSync(join(dir, "f16.safetensors")).length;
    expect(f32 - f16).toBe(2000);
    const w = loadParams(join(dir, "f16.safetensors")).get("w")!;
    expect(w.dtype).toBe("float32");
    expect(Math.abs(w.data[999]! - 999 / 7)).toBeLessThanOrEqual((999 / 7) * 2 ** -11);
  });

  describe("atomic write: a failed save leaves the old checkpoint byte-identical and no temporary file", () => {
    const setup = (): { path: string; before: Buffer } => {
      const path = join(dir, "model.safetensors");
      saveParams(path, params());
      return { path, before: readFileSync(path) };
    };
    const expectUntouched = (path: string, before: Buffer): void => {
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    };

    it("when a tensor cannot be encoded", () => {
      const { path, before } = setup();
      expect(() => saveParams(path, { __metadata__: tensor([1]) })).toThrow(CheckpointError);
      expect(() => saveParams(path, { w: "weights" as unknown as Tensor })).toThrow(
        /saveParams: params\["w"\] must be a Tensor, got string "weights"/,
      );
      expectUntouched(path, before);
    });

    it("when the disk fills up half-way through the write", () => {
      const { path, before } = setup();
      faults.write = "partial-then-enospc";
      expect(() => saveParams(path, params())).toThrow(/saveParams: could not write ".*model\.safetensors": ENOSPC/);
      expect(faults.writeCalls).toBe(2);
      expectUntouched(path, before);
    });

    it("when fsync fails", () => {
      const { path, before } = setup();
      faults.fsync = true;
      let caught: unknown;
      try {
        saveParams(path, params());
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CheckpointError);
      expect((caught as Error).message).toMatch(/saveParams: could not write .*: EIO/);
      expect(((caught as Error).cause as { code?: string }).code).toBe("EIO");
      expectUntouched(path, before);
    });

    it("when the rename fails because the target is a directory", () => {
      const target = join(dir, "model.safetensors");
      mkdirSync(target);
      writeFileSync(join(target, "keep"), "x");
      expect(() => saveParams(target, params())).toThrow(/saveParams: could not write ".*model\.safetensors": E/);
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
      expect(readFileSync(join(target, "keep"), "utf8")).toBe("x");
    });

    it("when the directory does not exist", () => {
      const path = join(dir, "missing", "model.safetensors");
      expect(() => saveParams(path, params())).toThrow(/saveParams: could not write .*: ENOENT/);
      expect(existsSync(join(dir, "missing"))).toBe(false);
    });
  });

  it("loadParams reports unreadable and malformed files with the path", () => {
    expect(() => loadParams(join(dir, "nope.safetensors"))).toThrow(
      /loadParams: could not read ".*nope\.safetensors": ENOENT/,
    );
    expect(() => loadParams(dir)).toThrow(/loadParams: ".*" is not a regular file/);
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, st({ a: entry("F32", [2], 0, 8) }, 4));
    expect(() => loadParams(bad)).toThrow(
      /loadParams: ".*bad\.safetensors": tensor "a" data_offsets \[0, 8\] run past the end of the 4-byte data section/,
    );
    writeFileSync(bad, new Uint8Array(3));
    expect(() => loadParams(bad)).toThrow(/loadParams: ".*bad\.safetensors": the file is 3 bytes, too short/);
    const path = join(dir, "model.safetensors");
    saveParams(path, params());
    expect(() => loadParams(path, { maxBytes: 16 })).toThrow(
      /loadParams: ".*model\.safetensors": the file is \d+ bytes, more than maxBytes = 16/,
    );
    expect(() => loadParams("")).toThrow(ArgumentError);
  });

  it("loadParamsInto copies in place, converting dtype and bumping versions", () => {
    const path = join(dir, "model.safetensors");
    saveParams(path, params());
    const target = {
      W: tensor(new Float32Array(6), { shape: [2, 3] }),
      b: tensor(new Float64Array(3), { requiresGrad: true }),
    };
    const data = target.W.data;
    const v0 = target.W.version;
    loadParamsInto(path, target);
    expect(target.W.data).toBe(data); // same storage, overwritten
    expect(target.W.dtype).toBe("float32");
    expect(target.W.toArray()).toEqual(params().W.toArray());
    expect(target.b.toArray()).toEqual([0.5, -0.5, 0]);
    expect(target.W.version).toBe(v0 + 1);
    const asMap = new Map([
      ["W", tensor(new Float64Array(6), { shape: [2, 3] })],
      ["b", tensor(new Float32Array(3))],
    ]);
    loadParamsInto(path, asMap);
    expect(asMap.get("W")!.toArray()).toEqual(params().W.toArray());
  });

  it("loadParamsInto names every missing and extra key and both shapes, and changes nothing on error", () => {
    const path = join(dir, "model.safetensors");
    saveParams(path, params());
    const target = {
      W: tensor(new Float32Array(6), { shape: [3, 2] }),
      c: tensor(new Float32Array(2)),
    };
    let caught: unknown;
    try {
      loadParamsInto(path, target);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CheckpointError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^loadParamsInto: ".*model\.safetensors" does not match the target: /);
    expect(message).toContain('tensor "W" has shape [2, 3] in the file but [3, 2] in the target');
    expect(message).toContain('tensor "c" (target shape [2]) is missing from the file');
    expect(message).toContain('the file has tensor "b" (shape [3]) that the target does not');
    expect(Array.from(target.W.data)).toEqual([0, 0, 0, 0, 0, 0]);
    // a plain object's inherited names are not parameters
    expect(() => loadParamsInto(path, { W: tensor(new Float32Array(6), { shape: [2, 3] }) })).toThrow(
      /the file has tensor "b" \(shape \[3\]\) that the target does not/,
    );
    expect(() => loadParamsInto(path, { W: 1 } as unknown as Record<string, Tensor>)).toThrow(ArgumentError);
  });
});
