/**
 * `writeFileAtomic`, the atomic write every package saving a file shares (nn's checkpoints and
 * report pages, onnx's models): whole files or none, FileError naming the path on failure. The
 * stale-temporary-file cleanup is exercised through nn's saves (packages/nn/test/atomic-write.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArgumentError, FileError, GradgraphError, writeFileAtomic } from "../src/index.js";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gradgraph-fs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  it("writes text and bytes, replacing the file, and leaves no temporary file", () => {
    const file = join(dir, "a.txt");
    writeFileAtomic(file, "first");
    writeFileAtomic(file, new Uint8Array([104, 105]));
    expect(readFileSync(file, "utf8")).toBe("hi");
    expect(readdirSync(dir)).toEqual(["a.txt"]);
  });

  it("fails with a FileError naming the path (the Node error as cause), or an ArgumentError for bad arguments", () => {
    const missing = join(dir, "missing", "a.txt");
    let caught: unknown;
    try {
      writeFileAtomic(missing, "x");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FileError);
    expect(caught).toBeInstanceOf(GradgraphError);
    expect((caught as Error).message).toMatch(/^writeFileAtomic: could not write ".*a\.txt": ENOENT/);
    expect(((caught as Error).cause as { code?: string }).code).toBe("ENOENT");
    expect(() => writeFileAtomic("", "x")).toThrow(ArgumentError);
    expect(() => writeFileAtomic(join(dir, "b"), 42 as unknown as string)).toThrow(
      /^writeFileAtomic: data must be a string or a Uint8Array, got number 42/,
    );
  });
});
