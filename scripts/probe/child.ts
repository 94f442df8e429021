/**
 * The probe's worker process: builds the plan, then makes the calls from index `--from` on,
 * reporting on file descriptor 3 a line before each call (`S i`) and one after (`R i outcome ms
 * detail`), so that the parent (run.ts) can tell a hang or a crash from a slow call.
 */
import { existsSync, readFileSync, writeSync } from "node:fs";
import { GradgraphError } from "@gradgraph/core";
import { buildPlan, materialize } from "./plan.js";

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const from = Number(arg("from") ?? 0);
const only = arg("only");
const modules: [string, Record<string, unknown>][] = [];
for (const m of (arg("modules") ?? "").split(",")) {
  if (m !== "") modules.push([m, (await import(m)) as Record<string, unknown>]);
}

const out = (line: string): void => {
  writeSync(3, `${line.replace(/\n/g, "\\n")}\n`);
};

let current = -1;
process.on("uncaughtException", (e) => out(`A ${current} ${JSON.stringify(String(e))}`));
process.on("unhandledRejection", (e) => out(`A ${current} ${JSON.stringify(String(e))}`));

const cacheFile = arg("baselines");
const cached =
  cacheFile !== undefined && existsSync(cacheFile)
    ? (JSON.parse(readFileSync(cacheFile, "utf8")) as Record<string, number[] | null>)
    : null;
const { calls, baselines } = await buildPlan(modules, only === undefined ? null : new RegExp(only), cached);
if (from === 0) {
  for (const [name, b] of baselines) out(`B ${JSON.stringify(name)} ${JSON.stringify(b)}`);
  out(
    `N ${JSON.stringify(calls.map((c) => `${c.entry.name} arg ${c.position === -1 ? "this" : c.position} = ${c.kind.name}`))}`,
  );
}
out(`P ${calls.length}`);
for (let i = from; i < calls.length; i++) {
  const c = calls[i]!;
  current = i;
  out(`S ${i}`);
  let outcome: string;
  let detail = "";
  const t0 = performance.now();
  try {
    const { self, args } = materialize(c);
    let v = c.entry.call(self, args);
    if (v instanceof Promise) v = await v;
    outcome = "ok";
  } catch (e) {
    if (e instanceof GradgraphError) {
      outcome = "gg";
      detail = `${e.name}: ${e.message.slice(0, 200)}`;
    } else if (String((e as { message?: unknown })?.message).startsWith("probe:")) {
      // an error thrown by the probe's own value (a getter, a trap, a callback), passed through
      outcome = "user";
    } else {
      outcome = "foreign";
      const err = e as { name?: unknown; message?: unknown; stack?: unknown };
      detail = `${String(err?.name)}: ${String(err?.message).slice(0, 200)} @ ${String(err?.stack).split("\n").slice(1, 4).join(" | ")}`;
    }
  }
  const ms = performance.now() - t0;
  out(`R ${i} ${outcome} ${ms.toFixed(1)} ${JSON.stringify(detail)}`);
}
out("D");
process.exit(0);
