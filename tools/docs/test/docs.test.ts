/**
 * The API reference's checks (tools/docs/typedoc.config.mjs): every export of the public entry
 * points has a doc comment, every `{@link}` resolves and no public signature mentions a type the
 * entry points do not export. The broken fixture proves the same checks fail; its good twin, the
 * same code with the problems fixed, proves that the failure comes from the problems.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DOCS_DIR, runTypedoc } from "../typedoc-run.js";

const FIXTURES = join(DOCS_DIR, "test", "fixtures");

/** The typedoc options that point the docs config at one fixture instead of the packages. */
function fixture(name: "good" | "broken") {
  return { entryPoints: [join(FIXTURES, name, "index.ts")], tsconfig: join(FIXTURES, "tsconfig.json") };
}

describe("API reference", () => {
  it("documents every export of the public entry points", async () => {
    const result = await runTypedoc({ emit: false });
    expect(result.messages).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("rejects an undocumented export, a broken link and an unexported type in a signature", async () => {
    const result = await runTypedoc({ emit: false, overrides: fixture("broken") });
    expect(result.ok).toBe(false);
    const messages = [...result.messages].sort();
    expect(messages).toEqual([
      'warning: Failed to resolve link to "Nowhere" in comment for brokenLink',
      "warning: Hidden, defined in @gradgraph/docs/test/fixtures/broken/index.ts, is referenced by leaksHidden but not included in the documentation",
      "warning: undocumented (CallSignature), defined in @gradgraph/docs/test/fixtures/broken/index.ts, does not have any documentation",
    ]);
  });

  it("accepts the broken fixture's twin with the problems fixed, and writes its HTML", async () => {
    const out = mkdtempSync(join(tmpdir(), "gradgraph-docs-"));
    try {
      const result = await runTypedoc({ emit: true, overrides: { ...fixture("good"), out } });
      expect(result.messages).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.index).toBe(join(out, "index.html"));
      expect(existsSync(join(out, "index.html"))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
