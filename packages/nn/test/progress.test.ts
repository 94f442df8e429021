/**
 * The progress bar `Trainer.fit` draws on a terminal: it fits the width (never the last column),
 * reads the width at every redraw (after a Node.js TTY stream's `_refreshSize()`: fit is
 * synchronous, so Node.js's SIGWINCH handler would not update `columns` during it), erases a bar
 * a narrower terminal reflowed onto two rows, and leaves no bar behind. The real terminal check is apps/spiral/test/progress-tmux.test.ts.
 */
import type { Tensor } from "@gradgraph/core";
import type { Labels } from "@gradgraph/nodes";
import { describe, expect, it } from "vitest";
import { loadSpiral, type ProgressOutput, SGD, Trainer, TwoLayerNet } from "../src/index.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what it removes
const ESCAPES = /\x1b\[\d*[A-Za-z]/g;

/** Trains a small net for `epochs` (10 steps each) with `out` and returns what was written. */
type Terminal = Omit<ProgressOutput, "write"> & { _refreshSize?: () => void };

function run(out: Terminal, epochs = 4): string[] {
  const chunks: string[] = [];
  const { x, t } = loadSpiral({ seed: 1 });
  new Trainer(new TwoLayerNet(2, 4, 3, { seed: 1 }), new SGD({ lr: 1 })).fit(x, t, {
    maxEpoch: epochs,
    batchSize: 30,
    evalInterval: 10,
    seed: 1,
    output: { ...out, write: (s: string) => chunks.push(s) },
  });
  return chunks;
}

/** The bar texts drawn: each write's text after its last carriage return, without escapes. */
function bars(chunks: readonly string[]): string[] {
  return chunks
    .map((c) => c.slice(c.lastIndexOf("\r") + 1).replace(ESCAPES, ""))
    .filter((s) => s !== "" && !s.endsWith("\n"));
}

describe("the progress bar", () => {
  it("never reaches the last column, at any width; shrinks the bar, then drops it", () => {
    for (const columns of [1, 2, 10, 20, 30, 39, 40, 41, 80, 200]) {
      const drawn = bars(run({ isTTY: true, columns }));
      expect(drawn.length, `${columns} columns`).toBeGreaterThan(0);
      for (const b of drawn) {
        expect(b.length, `${JSON.stringify(b)} at ${columns} columns`).toBeLessThanOrEqual(Math.max(1, columns - 1));
        expect(b).not.toContain("\n");
      }
      const last = drawn.at(-1)!;
      if (columns >= 40) expect(last).toMatch(/^\[#+\] 100% epoch 4\/4$/);
      if (columns <= 20) expect(last).not.toContain("[");
    }
    // 30 cells at most, on a wide terminal
    expect(bars(run({ isTTY: true, columns: 200 })).at(-1)).toBe(`[${"#".repeat(30)}] 100% epoch 4/4`);
  });

  it("assumes 80 columns without a width; refreshes a Node.js TTY stream's size before each redraw", () => {
    for (const b of bars(run({ isTTY: true }))) expect(b.length).toBeLessThanOrEqual(79);
    let refreshed = 0;
    const tty: Terminal = {
      isTTY: true,
      columns: 200,
      _refreshSize() {
        refreshed++;
        this.columns = 30;
      },
    };
    const sized = bars(run(tty));
    expect(refreshed).toBeGreaterThanOrEqual(sized.length);
    for (const b of sized) expect(b.length).toBeLessThanOrEqual(29);
    // a stream that is no longer a terminal: the last known columns
    const broken = bars(
      run({
        isTTY: true,
        columns: 25,
        _refreshSize: () => {
          throw new Error("EBADF");
        },
      }),
    );
    for (const b of broken) expect(b.length).toBeLessThanOrEqual(24);
  });

  it("after the terminal narrows, moves up over the reflowed bar and clears to the end of the screen", () => {
    const out: string[] = [];
    let width = 80;
    const { x, t } = loadSpiral({ seed: 1 });
    const tty = {
      isTTY: true,
      columns: 80,
      _refreshSize() {
        this.columns = width;
      },
      write: (s: string) => {
        out.push(s);
        if (out.length === 15) width = 40; // after the 15th redraw the terminal is 40 wide
      },
    };
    new Trainer(new TwoLayerNet(2, 4, 3, { seed: 1 }), new SGD({ lr: 1 })).fit(x, t, {
      maxEpoch: 4,
      batchSize: 30,
      evalInterval: 100, // no loss lines: only the bar
      seed: 1,
      output: tty,
    });
    expect(out.slice(0, 15).some((c) => c.includes("\x1b[1A"))).toBe(false);
    const before = out[14]!.replace(ESCAPES, "").replace("\r", "");
    expect(before.length).toBeGreaterThan(40); // the bar drawn at 80 columns: two rows at 40
    expect(out[15]!.startsWith("\x1b[1A\r\x1b[J")).toBe(true);
    for (const b of bars(out.slice(15))) expect(b.length).toBeLessThanOrEqual(39);
    expect(out.slice(16).some((c) => c.includes("\x1b[1A"))).toBe(false); // only once
  });

  it("prints the loss lines above the bar, redraws it, and erases it at the end", () => {
    const chunks = run({ isTTY: true, columns: 60 });
    const lines = chunks.filter((c) => c.endsWith("\n"));
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(l.startsWith("\r\x1b[K| epoch ")).toBe(true);
      expect(l).toMatch(/\| epoch \d \| iter 10 \/ 10/);
    }
    // after each loss line, the bar comes back at once
    const i = chunks.indexOf(lines[0]!);
    expect(bars([chunks[i + 1]!])).toHaveLength(1);
    expect(chunks.at(-1)).toBe("\r\x1b[K");
  });

  it("erases the bar when a step throws, so the error is not printed after it", () => {
    const chunks: string[] = [];
    const { x, t } = loadSpiral({ seed: 1 });
    const net = new TwoLayerNet(2, 4, 3, { seed: 1 });
    let steps = 0;
    const model = {
      params: net.params,
      grads: net.grads,
      predict: (b: Tensor) => net.predict(b),
      forward: (b: Tensor, l: Labels) => {
        if (++steps === 15) throw new Error("boom");
        return net.forward(b, l);
      },
      backward: (d?: number) => net.backward(d),
    };
    expect(() =>
      new Trainer(model, new SGD({ lr: 1 })).fit(x, t, {
        maxEpoch: 4,
        batchSize: 30,
        seed: 1,
        output: { isTTY: true, columns: 80, write: (s: string) => chunks.push(s) },
      }),
    ).toThrow("boom");
    expect(bars(chunks).length).toBeGreaterThan(0);
    expect(chunks.at(-1)).toBe("\r\x1b[K");
  });

  it("writes no escape codes where the output is not a terminal", () => {
    const chunks = run({ isTTY: false, columns: 40 });
    expect(chunks.join("")).not.toContain("\r");
    expect(chunks.join("")).not.toContain("\x1b");
    expect(chunks).toHaveLength(4);
  });
});
