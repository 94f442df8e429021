/**
 * Atomic writes (`saveParams`, `writeFileAtomic`) and the stale temporary files of killed saves:
 * a save SIGKILLed mid-write leaves its old checkpoint intact and a temporary file behind, which
 * the next save to the same path removes; temporary files of live writers, of other paths and of
 * other names are kept.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ArgumentError, tensor } from "@gradgraph/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckpointError, loadParams, saveParams, writeFileAtomic } from "../src/index.js";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const fixture = fileURLToPath(new URL("./fixtures/save-and-hang.ts", import.meta.url));
const tsx = join(root, "node_modules", "tsx", "dist", "loader.mjs");
const TEMP = /^\.model\.safetensors\.(\d+)\.[0-9a-f]{16}\.tmp$/;

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gradgraph-atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that no process has now: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  expect(r.status).toBe(0);
  return r.pid!;
}

const hex = (k: number): string => k.toString(16).padStart(16, "0");

/** Resolves when `child` prints `text`; rejects when it exits first or after `ms`. */
function waitFor(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((ok, fail) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error(`no "${text}" within ${ms} ms; stderr: ${err}`)), ms);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the child exited (${code}) before "${text}"; stderr: ${err}`));
    });
  });
}

describe("a save killed mid-write", () => {
  it("leaves the old checkpoint intact; the next save removes the killed save's temporary file", async () => {
    const path = join(dir, "model.safetensors");
    saveParams(path, { w: tensor([1, 2, 3]) });
    const before = readFileSync(path);
    const child = spawn(process.execPath, ["--conditions=@gradgraph/source", "--import", tsx, fixture, path], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await waitFor(child, "mid-write", 60_000);
      // the child is blocked half-way through writing its temporary file
      const temps = readdirSync(dir).filter((f) => TEMP.test(f));
      expect(temps).toHaveLength(1);
      const temp = temps[0]!;
      expect(Number(TEMP.exec(temp)![1])).toBe(child.pid);
      expect(statSync(join(dir, temp)).size).toBeGreaterThan(0);
      expect(statSync(join(dir, temp)).size).toBeLessThan(4_000_000);
      const exited = new Promise((ok) => child.on("exit", ok));
      child.kill("SIGKILL");
      await exited;
      // killed: the old checkpoint is byte-identical, the partial temporary file stays behind
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual([temp, "model.safetensors"].sort());
      // the next save to the same path removes it, and writes a valid checkpoint
      saveParams(path, { w: tensor([4, 5]) });
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
      expect(loadParams(path).get("w")!.toArray()).toEqual([4, 5]);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("which temporary files count as stale", () => {
  it("removes the path's temporaries of dead processes and old ones; keeps live writers', other paths' and other names'", () => {
    const path = join(dir, "model.safetensors");
    const dead = deadPid();
    const live = process.ppid; // alive while this test runs, and not this process
    const hours = (h: number) => new Date(Date.now() - h * 3_600_000);
    const files: Record<string, { removed: boolean; age?: number }> = {
      [`.model.safetensors.${dead}.${hex(1)}.tmp`]: { removed: true },
      [`.model.safetensors.${live}.${hex(2)}.tmp`]: { removed: false }, // a concurrent save
      [`.model.safetensors.${live}.${hex(3)}.tmp`]: { removed: true, age: 2 }, // untouched for 2 h
      [`.model.safetensors.${process.pid}.${hex(4)}.tmp`]: { removed: false }, // this process (a worker?)
      [`.model.safetensors.${process.pid}.${hex(5)}.tmp`]: { removed: true, age: 2 },
      [`.model.safetensors.${live}.${hex(6)}.tmp`]: { removed: false, age: 0.9 },
      // not this writer's pattern for this path
      [`.other.safetensors.${dead}.${hex(7)}.tmp`]: { removed: false },
      [`model.safetensors.${dead}.${hex(8)}.tmp`]: { removed: false },
      [`.model.safetensors.${dead}.${hex(0xab9).toUpperCase()}.tmp`]: { removed: false },
      [`.model.safetensors.${dead}.abc.tmp`]: { removed: false },
      [`.model.safetensors.${dead}.${hex(10)}.tmp.bak`]: { removed: false },
      [`.model.safetensors.0.${hex(11)}.tmp`]: { removed: false },
      [`.model.safetensors.x${dead}.${hex(12)}.tmp`]: { removed: false },
      [`.model.safetensors.1.${dead}.${hex(13)}.tmp`]: { removed: false },
      "keep.txt": { removed: false },
    };
    for (const [name, { age }] of Object.entries(files)) {
      writeFileSync(join(dir, name), "partial");
      if (age !== undefined) utimesSync(join(dir, name), hours(age), hours(age));
    }
    // a folder with a stale name is not a file the writer made
    const folder = `.model.safetensors.${dead}.${hex(14)}.tmp`;
    mkdirSync(join(dir, folder));

    saveParams(path, { w: tensor([1]) });
    const left = new Set(readdirSync(dir));
    for (const [name, { removed }] of Object.entries(files)) expect([name, left.has(name)]).toEqual([name, !removed]);
    expect(left.has(folder)).toBe(true);
    expect(left.has("model.safetensors")).toBe(true);
    expect(left.size).toBe(Object.values(files).filter((f) => !f.removed).length + 2);
  });

  it("matches the name as the writer cuts it: the first 100 characters of a long file name", () => {
    const name = `${"n".repeat(150)}.safetensors`;
    const stale = `.${name.slice(0, 100)}.${deadPid()}.${hex(1)}.tmp`;
    writeFileSync(join(dir, stale), "partial");
    saveParams(join(dir, name), { w: tensor([1]) });
    expect(readdirSync(dir)).toEqual([name]);
  });

  it("writeFileAtomic cleans up the same way, and writes text and bytes", () => {
    const stale = `.report.html.${deadPid()}.${hex(1)}.tmp`;
    writeFileSync(join(dir, stale), "<html");
    writeFileAtomic(join(dir, "report.html"), "<!DOCTYPE html>…");
    expect(readdirSync(dir)).toEqual(["report.html"]);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toBe("<!DOCTYPE html>…");
    writeFileAtomic(join(dir, "report.html"), new Uint8Array([104, 105]));
    expect(readFileSync(join(dir, "report.html"), "utf8")).toBe("hi");
  });
});

describe("writeFileAtomic", () => {
  it("rejects bad arguments and reports failed writes with the path, leaving no temporary file", () => {
    expect(() => writeFileAtomic("", "x")).toThrow(ArgumentError);
    expect(() => writeFileAtomic(join(dir, "a"), 42 as unknown as string)).toThrow(
      /writeFileAtomic: data must be a string or a Uint8Array, got number 42/,
    );
    expect(() => writeFileAtomic(join(dir, "missing", "a.txt"), "x")).toThrow(
      /writeFileAtomic: could not write ".*a\.txt": ENOENT/,
    );
    mkdirSync(join(dir, "taken"));
    let caught: unknown;
    try {
      writeFileAtomic(join(dir, "taken"), "x");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CheckpointError);
    expect(((caught as Error).cause as { code?: string }).code).toMatch(/^E/);
    expect(readdirSync(dir)).toEqual(["taken"]);
    expect(existsSync(join(dir, "a"))).toBe(false);
  });
});
