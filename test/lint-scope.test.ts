/**
 * `npm run lint` (Biome) covers the project's own folders and nothing else: an untracked scratch
 * folder in a clone does not fail it, and a bad file in one of the project's folders does.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const BAD = "var x = 1;;\ndebugger\n";

function lint(): { status: number | null; out: string } {
  const r = spawnSync(join(root, "node_modules", ".bin", "biome"), ["check", "."], { cwd: root, encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("lint scope", () => {
  it("ignores a scratch folder outside the project's folders, and checks a file inside them", () => {
    const scratch = join(root, `scratch-lint-probe-${process.pid}`);
    const inside = join(root, "test", `lint-probe-${process.pid}.ts`);
    mkdirSync(scratch, { recursive: true });
    try {
      writeFileSync(join(scratch, "bad.ts"), BAD);
      const outside = lint();
      expect(outside.out).not.toContain("scratch-lint-probe");
      writeFileSync(inside, BAD);
      const checked = lint();
      expect(checked.status).not.toBe(0);
      expect(checked.out).toContain(`lint-probe-${process.pid}.ts`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      rmSync(inside, { force: true });
    }
  });
});
