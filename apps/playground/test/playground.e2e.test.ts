/**
 * The playground in headless Chromium (Debian's, driven by playwright-core, as the other browser
 * tests): built as `npm run demo` builds it, served as it serves it (cross-origin isolated), then
 * a run with the default settings (1,000 epochs, so that even a fast machine redraws the figures
 * between the first and the last epoch) trains to ≥ 0.9 accuracy in the worker on the WASM kernels,
 * with the loss curve and the decision boundary redrawn while it trains and the recorded graph
 * shown; a second run is stopped early and stays stopped; the main thread keeps drawing frames
 * throughout; and nothing is logged as an error or warning. Without a Chromium the suite is
 * skipped with a warning, unless GRADGRAPH_REQUIRE_CHROMIUM=1 (CI), where it fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHROMIUM,
  chromiumAvailable,
  chromiumRequired,
  launchChromium,
  type Served,
  serveDir,
} from "../../../scripts/browser.js";
import { buildPlayground } from "../scripts/build.js";

if (!chromiumAvailable && !chromiumRequired) {
  console.warn(
    `playground.e2e: SKIPPED — no Chromium at ${CHROMIUM}. Install it with \`bash scripts/ensure-chromium.sh\` ` +
      "or point GRADGRAPH_CHROMIUM at one; CI sets GRADGRAPH_REQUIRE_CHROMIUM=1 to fail instead.",
  );
}

/** What the page recorded while a run went on (installed by {@link WATCH}). */
interface Watch {
  /** requestAnimationFrame callbacks since it was installed. */
  frames: number;
  /**
   * Every figure update: figure id, the epoch drawn, a hash of its drawn marks (vega's
   * `g.role-mark` groups: the line, the regions and points; not the title or the axes), the
   * frame count then.
   */
  updates: { id: string; epoch: number; hash: number; frame: number }[];
}

/**
 * Run in the page (JavaScript text: this file is type-checked without the DOM library): counts
 * animation frames and records every figure update (a change of the figure's `data-epoch`).
 */
const WATCH = `(() => {
  const w = { frames: 0, updates: [] };
  globalThis.watched = w;
  const tick = () => {
    w.frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  for (const id of ["fig-loss", "fig-boundary", "fig-graph"]) {
    const figure = document.getElementById(id);
    new MutationObserver(() => {
      let html = "";
      for (const g of figure.querySelectorAll(".plot g.role-mark")) html += g.outerHTML;
      let hash = 0;
      for (let i = 0; i < html.length; i++) hash = (Math.imul(hash, 31) + html.charCodeAt(i)) | 0;
      w.updates.push({ id, epoch: Number(figure.dataset.epoch), hash, frame: w.frames });
    }).observe(figure, { attributes: true, attributeFilter: ["data-epoch"] });
  }
})()`;

const watched = (page: Page): Promise<Watch> => page.evaluate("globalThis.watched") as Promise<Watch>;
/** A condition on the text of element `#id`, for `page.waitForFunction`. */
const textOf = (id: string, test: string): string =>
  `(() => { const s = document.getElementById(${JSON.stringify(id)}).textContent; return ${test}; })()`;
const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector)) ?? "";

it.skipIf(!chromiumAvailable && !chromiumRequired)(`finds Chromium at ${CHROMIUM}`, () => {
  expect(
    chromiumAvailable,
    `GRADGRAPH_REQUIRE_CHROMIUM=1 but there is no Chromium at ${CHROMIUM}: run \`bash scripts/ensure-chromium.sh\``,
  ).toBe(true);
});

describe.skipIf(!chromiumAvailable)("the playground in headless Chromium", () => {
  let dir = "";
  let server: Served | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gradgraph-playground-"));
    await buildPlayground(dir);
    server = await serveDir(dir);
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("trains to ≥ 0.9 in a worker on WASM kernels, redraws the figures while training, and stops on demand", async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1600 } });
    const problems: string[] = [];
    const requests: string[] = [];
    const listen = (where: string, m: { type(): string; text(): string }) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${where} console.${m.type()}: ${m.text()}`);
    };
    page.on("console", (m) => listen("page", m));
    page.on("worker", (w) => w.on("console", (m) => listen("worker", m)));
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(server!.url);

    // the kernels: WASM, announced on the page; the server made the page cross-origin isolated
    await page.waitForFunction('!document.getElementById("start").disabled', null, { timeout: 30_000 });
    expect(await text(page, "#backend")).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(await page.evaluate("crossOriginIsolated")).toBe(true);
    expect(await text(page, "#start")).toBe("Start training");
    expect(page.workers()).toHaveLength(1);

    // the controls: six optimizers; switching one sets its learning rate
    expect(await page.locator("#optimizer option").evaluateAll((os) => os.map((o) => o.getAttribute("value")))).toEqual(
      ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
    );
    await page.selectOption("#optimizer", "adam");
    expect(await page.inputValue("#lr")).toBe("0.03");
    await page.selectOption("#optimizer", "sgd");
    expect(await page.inputValue("#lr")).toBe("1");
    await page.fill("#hidden", "10");
    await page.fill("#epochs", "1000");

    // run 1: the default settings, to the end
    await page.evaluate(WATCH);
    await page.click("#start");
    expect(await text(page, "#start")).toBe("Stop");
    expect(await page.isDisabled("#epochs")).toBe(true);
    await page.waitForFunction(textOf("status", 's === "finished"'), null, { timeout: 45_000 });
    const run1 = await watched(page);
    expect(await text(page, "#epoch")).toBe("1000 / 1000");
    const acc = Number(await page.getAttribute("#accuracy", "data-value"));
    expect(acc).toBeGreaterThanOrEqual(0.9);
    expect(await text(page, "#accuracy")).toBe(`${(100 * acc).toFixed(1)}%`);
    expect(Number.parseFloat(await text(page, "#loss"))).toBeLessThan(0.3);
    expect(await text(page, "#train-time")).toMatch(/^\d+\.\d+ s$/);
    expect(await text(page, "#redraws")).toMatch(/^\d+ redraws, \d+ ms each$/);
    expect(await text(page, "#start")).toBe("Start training");
    expect(await page.isDisabled("#epochs")).toBe(false);

    // the figures changed while it trained: drawn after the first epoch, at least once more
    // before the end, and at the end, each time with different marks
    for (const id of ["fig-loss", "fig-boundary"]) {
      const ups = run1.updates.filter((u) => u.id === id);
      const epochs = ups.map((u) => u.epoch);
      expect(epochs[0], id).toBe(1);
      expect(epochs.at(-1), id).toBe(1000);
      expect(epochs.length, `${id} drawn at epochs ${epochs.join(", ")}`).toBeGreaterThanOrEqual(3);
      expect(
        [...epochs].sort((a, b) => a - b),
        id,
      ).toEqual(epochs);
      // the marks changed: the loss line at every redraw, the boundary's regions since the first
      if (id === "fig-loss") expect(new Set(ups.map((u) => u.hash)).size, id).toBe(ups.length);
      else expect(ups.at(-1)!.hash, id).not.toBe(ups[0]!.hash);
    }
    // the main thread stayed responsive: it drew frames while the worker trained, between the
    // figure updates (a blocked main thread would handle all the updates at one frame count)
    const frames = run1.updates.filter((u) => u.id === "fig-boundary").map((u) => u.frame);
    expect(new Set(frames).size, `frames counted at each update: ${frames.join(", ")}`).toBeGreaterThanOrEqual(3);
    expect(run1.frames).toBeGreaterThanOrEqual(10);

    // the three figures are shown, sized, and drawn: one loss line, 300 points on the boundary's
    // regions, the graph's nodes with the parameters' gradients
    for (const id of ["fig-loss", "fig-boundary", "fig-graph"]) {
      const svg = page.locator(`#${id} .plot > svg`);
      expect(await svg.isVisible(), id).toBe(true);
      const box = await svg.boundingBox();
      expect(box!.width, id).toBeGreaterThan(200);
      expect(box!.height, id).toBeGreaterThan(200);
      expect(box!.x + box!.width, `${id} fits the page`).toBeLessThanOrEqual(1280);
      expect(await page.locator(`#${id} figcaption`).isVisible(), id).toBe(true);
    }
    const lossLine = page.locator("#fig-loss g.mark-line.role-mark > path");
    expect(await lossLine.count()).toBe(1);
    expect((await lossLine.getAttribute("d"))!.length).toBeGreaterThan(100);
    expect(await page.locator("#fig-boundary g.mark-symbol.role-mark > path").count()).toBe(300);
    expect(await page.locator("#fig-boundary g.mark-rect.role-mark > path").count()).toBeGreaterThan(10);
    expect(await text(page, "#fig-boundary svg > title")).toBe("Decision boundary after 1000 epochs");
    expect(await page.locator("#fig-graph g.node").count()).toBeGreaterThanOrEqual(9);
    expect(await page.locator("#fig-graph g.node", { hasText: "grad [" }).count()).toBe(4);
    expect(await text(page, "#fig-graph svg")).toContain("TwoLayerNet(2, 10, 3): one training step");

    // run 2: other settings, far too many epochs, stopped early
    await page.selectOption("#optimizer", "adam");
    await page.fill("#hidden", "24");
    await page.fill("#epochs", "20000");
    await page.click("#start");
    await page.waitForFunction(textOf("epoch", "Number.parseInt(s, 10) >= 20"));
    expect(await text(page, "#fig-graph svg")).toContain("TwoLayerNet(2, 24, 3): one training step");
    await page.click("#start"); // now "Stop"
    await page.waitForFunction(textOf("status", String.raw`/^stopped after \d+ epochs$/.test(s)`));
    const stoppedAt = await text(page, "#epoch");
    const epoch = Number.parseInt(stoppedAt, 10);
    expect(epoch).toBeGreaterThanOrEqual(20);
    expect(epoch).toBeLessThan(20000);
    const boundaryEpoch = await page.getAttribute("#fig-boundary", "data-epoch");
    expect(Number(boundaryEpoch)).toBe(epoch); // the figures show where it stopped
    // it stays stopped: nothing advances while the page goes on drawing frames
    const before = (await watched(page)).frames;
    await page.waitForFunction(`globalThis.watched.frames >= ${before + 30}`);
    expect(await text(page, "#epoch")).toBe(stoppedAt);
    expect(await page.getAttribute("#fig-boundary", "data-epoch")).toBe(boundaryEpoch);
    expect(await text(page, "#start")).toBe("Start training");
    expect(page.workers()).toHaveLength(1); // stopped by the worker itself, not replaced

    expect(problems).toEqual([]);
    const origin = new URL(server!.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);
    await page.close();
  }, 90_000);
});
