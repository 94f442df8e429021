/**
 * The fuzz watchdog itself: a call that never returns (a synchronous loop, or a promise that never
 * settles) fails its test with the input and a fresh worker runs the next case; a slow call fails
 * its property (and is shrunk); a bare TypeError fails as in the in-thread fuzz tests.
 */
import { afterAll, describe, expect, it } from "vitest";
import { FuzzWatchdog } from "./watchdog.js";

const watchdog = new FuzzWatchdog(new URL("./watchdog.cases.ts", import.meta.url), {
  hardTimeoutMs: 1_000,
  softTimeoutMs: 100,
});
afterAll(() => watchdog.close());

describe("FuzzWatchdog", () => {
  it("fails a synchronous infinite loop with its input, then goes on in a fresh worker", async () => {
    await expect(watchdog.run("loops", 50)).rejects.toThrow(
      /^watchdog: loops did not return within 1000 ms \(call #\d+\); the worker was terminated\. Input: \[7\]$/,
    );
    await expect(watchdog.run("graceful", 50)).resolves.toBeUndefined();
  });

  it("fails a promise that never settles", async () => {
    await expect(watchdog.run("neverSettles", 50)).rejects.toThrow(/neverSettles did not return .* Input: \[9\]/);
  });

  it("fails a call slower than the soft bound, shrunk like any property failure", async () => {
    await expect(watchdog.run("slow", 50)).rejects.toThrow(
      /Counterexample: \[\[3\]\][\s\S]*slow took \d+ ms, more than 100 ms, for \[3\]/,
    );
  });

  it("fails a bare TypeError and names it", async () => {
    await expect(watchdog.run("typeError", 20)).rejects.toThrow(/typeError threw a bare TypeError/);
  });
});
