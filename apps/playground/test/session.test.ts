/**
 * The playground's training logic in Node.js (the same modules the worker and the page bundle):
 * epoch-by-epoch training equals one `Trainer.fit`, every default learning rate trains the net,
 * the figures and the graph render, a diverged run does not break the drawing, and the form's
 * values are checked.
 */
import { createOptimizer, loadSpiral, OPTIMIZER_NAMES, Trainer, TwoLayerNet } from "@gradgraph/nn";
import { describe, expect, it } from "vitest";
import type { TrainConfig } from "../src/protocol.js";
import { SpiralSession } from "../src/session.js";
import { DEFAULT_CONFIG, DEFAULT_LR, parseConfig } from "../src/settings.js";

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_CONFIG, ...over });

describe("SpiralSession", () => {
  it("trains epoch by epoch exactly as one Trainer.fit does, the graph drawn first changing nothing", async () => {
    const c = config({ hidden: 12, optimizer: "adam", lr: 0.03, epochs: 25 });
    const session = new SpiralSession(c);
    const svg = await session.graphSvg();
    for (let e = 0; e < c.epochs; e++) session.epoch();

    const { x, t } = loadSpiral({ seed: c.seed });
    const model = new TwoLayerNet(2, c.hidden, 3, { seed: c.seed });
    const trainer = new Trainer(model, createOptimizer(c.optimizer, { lr: c.lr }));
    trainer.fit(x, t, { maxEpoch: c.epochs, batchSize: 30, evalInterval: 10, seed: c.seed, output: null });

    expect(session.epochsDone).toBe(c.epochs);
    expect(session.trainer.lossList).toEqual(trainer.lossList);
    expect(session.loss).toBe(trainer.lossList.at(-1));
    session.model.params.forEach((p, i) => {
      expect(Array.from(p.data), `param ${i}`).toEqual(Array.from(model.params[i]!.data));
    });
    expect(session.trainMs).toBeGreaterThan(0);
    // the graph of one step: its title, the four parameters with their gradients, what ops saved
    expect(svg).toContain("TwoLayerNet(2, 12, 3): one training step");
    for (const name of ["W1", "b1", "W2", "b2"]) expect(svg).toContain(`>${name}</text>`);
    expect(svg.match(/>grad \[/g)?.length).toBe(4);
    expect(svg).toContain("saved");
  });

  it.each(OPTIMIZER_NAMES)("%s at its default learning rate reaches ≥ 0.95 accuracy in 300 epochs", (optimizer) => {
    const session = new SpiralSession(config({ optimizer, lr: DEFAULT_LR[optimizer] }));
    for (let e = 0; e < 300; e++) session.epoch();
    expect(session.accuracy()).toBeGreaterThanOrEqual(0.95);
  });

  it("draws the loss curve and the decision boundary with viz", async () => {
    const session = new SpiralSession(config());
    for (let e = 0; e < 3; e++) session.epoch();
    const { lossSvg, boundarySvg } = await session.figures();
    expect(lossSvg).toMatch(/^<svg[^>]*><title>Training loss/);
    expect(boundarySvg).toMatch(/^<svg[^>]*><title>Decision boundary after 3 epochs<\/title>/);
  });

  it("draws what it can of a run that diverged: the finite part of the loss, no boundary", async () => {
    const session = new SpiralSession(config());
    session.epoch();
    session.trainer.lossList.push(Number.NaN);
    session.model.params[0]!.data.fill(Number.NaN);
    const { lossSvg, boundarySvg } = await session.figures();
    expect(lossSvg).toMatch(/<title>Training loss/);
    expect(boundarySvg).toBeNull();
    session.trainer.lossList.splice(0);
    session.trainer.lossList.push(Number.POSITIVE_INFINITY);
    expect((await session.figures()).lossSvg).toBeNull();
  });
});

describe("parseConfig", () => {
  const raw = { hidden: "10", lr: "1", optimizer: "sgd", epochs: "300" };

  it("reads the form's values into a run's settings", () => {
    expect(parseConfig(raw)).toEqual({ hidden: 10, lr: 1, optimizer: "sgd", epochs: 300, seed: 1984 });
    expect(parseConfig({ ...raw, lr: "0.03", optimizer: "adam", hidden: " 64 " })).toMatchObject({
      hidden: 64,
      lr: 0.03,
      optimizer: "adam",
    });
  });

  it.each([
    [{ hidden: "0" }, /hidden must be an integer from 1 to 256/],
    [{ hidden: "2.5" }, /hidden/],
    [{ hidden: "" }, /hidden/],
    [{ epochs: "20001" }, /epochs must be an integer from 1 to 20000/],
    [{ lr: "" }, /learning rate/],
    [{ lr: "-1" }, /learning rate/],
    [{ lr: "NaN" }, /learning rate/],
    [{ optimizer: "lbfgs" }, /unknown optimizer "lbfgs"/],
  ])("rejects %o", (bad, message) => {
    const got = parseConfig({ ...raw, ...bad });
    expect(got).toHaveProperty("error");
    expect((got as { error: string }).error).toMatch(message);
  });
});
