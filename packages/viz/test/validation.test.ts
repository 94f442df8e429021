/**
 * Issue 1, "fail fast and cleanly", for @gradgraph/viz: fake tensors and nodes are refused, and a
 * long loss list is decimated so that it draws in well under a second (a million points took
 * 5.6 s); the figure covers the same pixels.
 */
import { Node, Tensor, tensor } from "@gradgraph/core";
import { mul } from "@gradgraph/nodes";
import { describe, expect, it } from "vitest";
import { lossPlotSvg, renderReportHtml, snapshot, toDot } from "../src/index.js";
import { decimate } from "../src/plots/loss.js";

describe("lossPlotSvg on long lists", () => {
  it("keeps every entry up to 4 per pixel column, and then the first, last, smallest and largest of each", () => {
    const short = Array.from({ length: 1920 }, (_, i) => Math.sin(i));
    expect(decimate(short, 480)).toEqual(short.map((_, i) => i));
    const n = 100_003;
    const values = Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * Math.exp(-i / n) + ((i * 7919) % 13) / 100);
    const kept = decimate(values, 480);
    expect(kept.length).toBeLessThanOrEqual(4 * 480);
    expect(kept).toEqual([...kept].sort((a, c) => a - c));
    expect(new Set(kept).size).toBe(kept.length);
    for (let b = 0; b < 480; b++) {
      const s = Math.floor((b * n) / 480);
      const e = Math.floor(((b + 1) * n) / 480);
      const column = values.slice(s, e);
      const inColumn = kept.filter((i) => i >= s && i < e).map((i) => values[i]!);
      // the extremes of every column survive, so the line spans the same pixels
      expect(Math.min(...inColumn)).toBe(Math.min(...column));
      expect(Math.max(...inColumn)).toBe(Math.max(...column));
      expect(kept).toContain(s);
      expect(kept).toContain(e - 1);
    }
  });

  it("draws a million points, a figure with at most 4 points per pixel column", async () => {
    const losses = Array.from({ length: 1_000_000 }, (_, i) => 1 / (1 + i / 1000) + 0.01 * Math.sin(i));
    const svg = await lossPlotSvg(losses);
    const line = /aria-roledescription="line mark" d="M([^"]*)"/.exec(svg)?.[1] ?? "";
    const points = line.split("L").length;
    expect(points).toBeGreaterThan(480);
    expect(points).toBeLessThanOrEqual(4 * 480);
  });
});

describe("fake tensors and nodes", () => {
  it("are refused by snapshot and toDot with an ArgumentError naming them", async () => {
    const fake = Object.create(Tensor.prototype) as Tensor;
    expect(() => snapshot(fake)).toThrow(/^snapshot: outputs must be a Tensor or an array of tensors/);
    expect(() => toDot(fake)).toThrow(/^toDot: /);
    const y = mul(tensor([1, 2], { requiresGrad: true }), 2);
    const snap = snapshot(y);
    expect(() => toDot(snap, { highlight: Object.create(Node.prototype) })).toThrow(/^toDot: /);
  });
});

describe("renderReportHtml", () => {
  it("refuses a revoked Proxy as its input or its hyper-parameters (a foreign TypeError before)", () => {
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    };
    expect(() => renderReportHtml(revoked() as never)).toThrow(
      /^renderReportHtml: input must be an object, got revoked Proxy/,
    );
    expect(() => renderReportHtml({ title: "t", hyperParams: revoked() } as never)).toThrow(
      /^renderReportHtml: hyperParams must be an object/,
    );
  });
});
