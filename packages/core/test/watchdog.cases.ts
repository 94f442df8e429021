/**
 * Cases that misbehave on purpose, for watchdog.test.ts: a synchronous infinite loop, a promise
 * that never settles, a slow call, a bare TypeError, and a well-behaved function.
 */
import fc from "fast-check";
import { ArgumentError } from "../src/index.js";
import type { FuzzCases } from "./watchdog.js";

const spin = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: a synchronous call that takes `ms`
  }
};

export const cases: FuzzCases = {
  loops: {
    arb: fc.tuple(fc.constantFrom(1, 2, 7)),
    call: ([x]) => {
      if (x === 7) for (;;) {}
      return x;
    },
    check: () => {},
  },
  neverSettles: {
    arb: fc.tuple(fc.constantFrom(1, 9)),
    call: ([x]) => (x === 9 ? new Promise(() => {}) : Promise.resolve(x)),
    check: () => {},
  },
  slow: {
    arb: fc.tuple(fc.integer({ min: 0, max: 5 })),
    call: ([x]) => {
      spin(x === 3 ? 300 : 0);
      return x;
    },
    check: () => {},
  },
  typeError: {
    arb: fc.tuple(fc.constantFrom(null, 1)),
    call: ([x]) => (x as { y: number }).y,
    check: () => {},
  },
  graceful: {
    arb: fc.tuple(fc.integer()),
    call: ([x]) => {
      if ((x as number) < 0) throw new ArgumentError("graceful", `graceful: x must be >= 0, got ${x}`);
      return x;
    },
    check: () => {},
  },
};
