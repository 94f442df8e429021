/** The report page's run metadata (`renderReportHtml`'s `metadata`): the `#run` table. */
import { ArgumentError } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../src/report.js";

const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>';
const base = {
  title: "Spiral run",
  hyperParams: { lr: 1 },
  finalLoss: 0.1,
  accuracy: 0.96,
  lossSvg: svg,
  boundarySvg: svg,
  graphSvg: svg,
};

describe("renderReportHtml: metadata", () => {
  it("is the #run table, in order, between the result and the hyper-parameters, escaped, with ids", () => {
    const html = renderReportHtml({
      ...base,
      metadata: {
        date: "2026-01-02T03:04:05.000Z",
        commit: "abc1234",
        "wall time": "1.50 s (training 0.25 s)",
        "kernel backend": "wasm-simd, 1 thread",
        "Node.js": "v20.16.0",
        gradgraph: "<0.2.0> & co",
        epochs: 300,
      },
    });
    const run = /<section id="run" aria-labelledby="run-h">([\s\S]*?)<\/section>/.exec(html)![1]!;
    expect(run).toContain('<h2 id="run-h">Run</h2>');
    const rows = [...run.matchAll(/<tr><th scope="row">(.*?)<\/th><td id="(.*?)">(.*?)<\/td><\/tr>/g)].map((m) =>
      m.slice(1),
    );
    expect(rows).toEqual([
      ["date", "run-date", "2026-01-02T03:04:05.000Z"],
      ["commit", "run-commit", "abc1234"],
      ["wall time", "run-wall-time", "1.50 s (training 0.25 s)"],
      ["kernel backend", "run-kernel-backend", "wasm-simd, 1 thread"],
      ["Node.js", "run-node-js", "v20.16.0"],
      ["gradgraph", "run-gradgraph", "&lt;0.2.0&gt; &amp; co"],
      ["epochs", "run-epochs", "300"],
    ]);
    expect(html.indexOf('id="summary"')).toBeLessThan(html.indexOf('id="run"'));
    expect(html.indexOf('id="run"')).toBeLessThan(html.indexOf('id="hyper-parameters"'));
  });

  it("is absent without metadata, and a row says so for an empty one", () => {
    expect(renderReportHtml(base)).not.toContain('id="run"');
    expect(renderReportHtml({ ...base, metadata: {} })).toContain('<tr><td colspan="2">(none)</td></tr>');
  });

  it("rejects values that are not strings or finite numbers, naming the entry", () => {
    expect(() => renderReportHtml({ ...base, metadata: { date: Number.NaN } })).toThrow(
      /renderReportHtml: metadata\.date must be a string or a finite number, got number NaN/,
    );
    expect(() => renderReportHtml({ ...base, metadata: [] as unknown as Record<string, string> })).toThrow(
      ArgumentError,
    );
    expect(() => renderReportHtml({ ...base, metadata: "x" as unknown as Record<string, string> })).toThrow(
      /renderReportHtml: metadata must be an object of names to values, got string "x"/,
    );
  });
});
