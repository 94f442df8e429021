/**
 * Issue 1, "fail fast and cleanly": the API probe (scripts/probe) calls every function,
 * constructor, method and accessor of the user-facing entry points with ~90 kinds of bad value in
 * each argument and as the receiver (~37,000 calls), each in a child process that is restarted
 * after a call that hangs (4 s) or crashes it. Every call must return, or throw a GradgraphError:
 * no TypeError or RangeError from inside gradgraph, no hang, no crash.
 */
import { describe, expect, it } from "vitest";
import { type Finding, runProbe, USER_FACING } from "../scripts/probe/run.js";

const left = (findings: readonly Finding[]): string[] => findings.map((f) => `${f.what}: ${f.name}: ${f.detail}`);

describe("API probe of the user-facing entry points", () => {
  it(`finds no foreign error, hang or crash in ${USER_FACING.join(", ")}`, async () => {
    const result = await runProbe();
    expect(result.total).toBeGreaterThan(30_000);
    // most calls are refused with a GradgraphError; some (odd but valid values) return
    expect(result.counts.gg).toBeGreaterThan(result.total / 2);
    expect(left(result.findings)).toEqual([]);
  }, 900_000);

  it("can fail: it reports a foreign error, a hang and a crash, each at its call, and nothing for a clean function", async () => {
    const target = new URL("./fixtures/probe-target.ts", import.meta.url).href;
    const result = await runProbe({ modules: [target], hangMs: 1000 });
    const seen = result.findings.map((f) => `${f.what} ${f.name.replace(/^.*:/, "")}`);
    expect(seen).toContain("foreign readsLength arg 0 = undefined");
    expect(seen).toContain("hang spins arg 0 = 2**31");
    expect(seen).toContain("crash dies arg 0 = cyclic array");
    expect(seen.filter((s) => / clean /.test(s))).toEqual([]);
    // a restarted child goes on from the next call: every other call is made and reported
    expect(Object.values(result.counts).reduce((a, b) => a + b, 0)).toBe(result.total - 2);
  }, 900_000);
});
