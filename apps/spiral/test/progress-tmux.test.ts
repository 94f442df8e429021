/**
 * The progress bar in a real terminal: tmux. The spiral job in a 40-column window, and a gated
 * run (test/fixtures/gated-training.ts) whose window shrinks from 80 to 40 columns mid-run; the
 * screen and its scrollback are captured with `tmux capture-pane` and must hold exactly one bar
 * while training (none after), no line wider than the window, and nothing but the job's own
 * lines. Without tmux the suite is skipped with a warning — unless GRADGRAPH_REQUIRE_TMUX=1 (set
 * by .ci/run, which installs Debian's tmux with scripts/ensure-tmux.sh), where it fails instead.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const tsx = join(root, "node_modules", "tsx", "dist", "loader.mjs");
const mainTs = join(root, "apps", "spiral", "src", "main.ts");
const fixture = fileURLToPath(new URL("./fixtures/gated-training.ts", import.meta.url));

const available = spawnSync("tmux", ["-V"]).status === 0;
const required = process.env.GRADGRAPH_REQUIRE_TMUX === "1";
if (!available && !required) {
  console.warn(
    "progress-tmux: SKIPPED — no tmux. Install it with `bash scripts/ensure-tmux.sh` (Debian's tmux); " +
      "CI sets GRADGRAPH_REQUIRE_TMUX=1 to fail instead.",
  );
}

it.skipIf(!available && !required)("finds tmux", () => {
  expect(available, "GRADGRAPH_REQUIRE_TMUX=1 but there is no tmux: run `bash scripts/ensure-tmux.sh`").toBe(true);
});

/** A progress bar, or a piece of one: bar cells, or the percentage and epoch. */
const BAR = /\[[#-]{2,}|\d+% epoch \d+\/\d+|[#-]{5,}\]/;
/** The lines the job prints (joined as they were written; a terminal wraps them). */
const LOSS_LINE = /^\| epoch \d+ \| iter 10 \/ 10 \| time \d+\[s\] \| loss \d+\.\d\d$/;

describe.skipIf(!available)("the progress bar in tmux", () => {
  const socket = `gradgraph-test-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-tmux-"));
  afterAll(() => {
    spawnSync("tmux", ["-L", socket, "kill-server"]);
    rmSync(dir, { recursive: true, force: true });
  });

  const tmux = (...args: string[]): string => {
    const r = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tmux ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  /** Starts `command` in a new detached session `name` of the given size; the pane stays after it ends. */
  const start = (name: string, width: number, command: string[]): void => {
    const line = `${command.map(q).join(" ")}; echo "exit $?"; sleep 600`;
    tmux("new-session", "-d", "-s", name, "-x", String(width), "-y", "30", line);
    expect(tmux("display-message", "-p", "-t", name, "#{window_width}").trim()).toBe(String(width));
  };
  /** The screen (or with `history`, the scrollback too), wrapped lines joined, trailing blanks cut. */
  const capture = (name: string, history = false): string[] =>
    tmux("capture-pane", "-p", "-J", "-t", name, ...(history ? ["-S", "-"] : []))
      .split("\n")
      .map((l) => l.trimEnd());
  const waitFor = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
    const until = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const node = (...args: string[]) => [process.execPath, "--conditions=@gradgraph/source", "--import", tsx, ...args];

  it("the spiral job in 40 columns: no line wider, no bar left, nothing but the job's lines", async () => {
    const out = join(dir, "job");
    start("job", 40, node(mainTs, "--epochs", "30", "--no-report", "--out", out));
    await waitFor("the job to end", () => capture("job").includes("exit 0"));
    const lines = capture("job", true);
    const raw = tmux("capture-pane", "-p", "-t", "job", "-S", "-").split("\n");
    for (const r of raw) expect(r.trimEnd().length, JSON.stringify(r)).toBeLessThanOrEqual(40);
    expect(lines.filter((l) => BAR.test(l))).toEqual([]);
    const body = lines.filter((l) => l !== "");
    expect(body[0]).toMatch(/^spiral: TwoLayerNet\(2, 10, 3\), sgd lr 1 \(default\), batch 30, 30 epochs/);
    const loss = body.slice(1, 31);
    for (const [i, l] of loss.entries()) {
      expect(l).toMatch(LOSS_LINE);
      expect(l.startsWith(`| epoch ${i + 1} |`)).toBe(true);
    }
    expect(body.slice(31)).toEqual([
      expect.stringMatching(/^final loss \d\.\d{4}, training accuracy [\d.]+%$/),
      `wrote ${join(out, "loss.json")}`,
      `wrote ${join(out, "model.safetensors")}`,
      `wrote ${join(out, "model.onnx")}`,
      "exit 0",
    ]);
  });

  it("a window narrowed from 80 to 40 columns mid-run: one bar that fits, no stale fragment", async () => {
    start("gated", 80, node(fixture, dir));
    const bars = () => capture("gated").filter((l) => BAR.test(l));
    await waitFor(
      "the first gate",
      () => existsSync(join(dir, "at-1")) && bars().some((b) => b.includes("epoch 20/50")),
    );
    expect(bars()).toHaveLength(1);
    expect(bars()[0]!.length).toBeLessThanOrEqual(79);
    expect(bars()[0]).toMatch(/^\[#+-+\] {2}40% epoch 20\/50$/);

    tmux("resize-window", "-t", "gated", "-x", "40", "-y", "30");
    await waitFor("the resize", () => tmux("display-message", "-p", "-t", "gated", "#{window_width}").trim() === "40");
    writeFileSync(join(dir, "go-1"), "");
    await waitFor(
      "the second gate",
      () => existsSync(join(dir, "at-2")) && bars().some((b) => b.includes("epoch 40/50")),
    );
    // the whole scrollback: the loss lines, then the one bar, drawn since the resize at 40 columns
    const shown = capture("gated", true).filter((l) => l !== "");
    expect(
      shown.filter((l) => BAR.test(l)),
      shown.join("\n"),
    ).toHaveLength(1);
    const bar = shown.at(-1)!;
    expect(bar.length).toBeLessThanOrEqual(39);
    expect(bar).toMatch(/^\[#+-+\] {2}80% epoch 40\/50$/);
    expect(shown).toHaveLength(41);
    for (const l of shown.slice(0, -1)) expect(l).toMatch(LOSS_LINE);

    writeFileSync(join(dir, "go-2"), "");
    await waitFor("the run to end", () => capture("gated").includes("exit 0"));
    const all = capture("gated", true).filter((l) => l !== "");
    expect(all.filter((l) => BAR.test(l))).toEqual([]);
    expect(all.slice(-2)).toEqual(["fixture: done", "exit 0"]);
    const loss = all.slice(0, -2);
    expect(loss).toHaveLength(50);
    for (const [i, l] of loss.entries()) {
      expect(l).toMatch(LOSS_LINE);
      expect(l.startsWith(`| epoch ${i + 1} |`)).toBe(true);
    }
  });
});
