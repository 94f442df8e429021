#!/usr/bin/env node
// What `npm start`, `npm test` and `npm run bench` run first (their npm "pre" scripts): installs the
// workspace with pnpm (frozen lockfile), then builds the kernels and the packages (scripts/build.mjs).
// One line per step, so a first run on a fresh clone (about a minute, most of it the install) is
// never silent.
import { spawnSync } from "node:child_process";
import { build, step } from "./build.mjs";

const PNPM = "pnpm@12.4.2";

const installed = step(`setup: installing dependencies (${PNPM}, frozen lockfile)`, false, () => {
  const r = spawnSync("npx", ["--yes", PNPM, "install", "--frozen-lockfile", "--reporter=silent"], {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`pnpm install failed (exit ${r.status})\n${r.stdout}${r.stderr}`);
  return "done";
});
if (!installed || !build()) process.exit(1);
