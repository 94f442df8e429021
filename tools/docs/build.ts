/**
 * `npm run docs`: writes the HTML API reference to out/docs/ and prints one line saying where.
 * `npm run docs -- --check` validates only (every export documented, links resolve, public
 * signatures mention only exported types) and writes nothing. Exits 1 after printing typedoc's
 * messages when anything is wrong.
 */
import { relative } from "node:path";
import { runTypedoc } from "./typedoc-run.js";

const check = process.argv.includes("--check");
const result = await runTypedoc({ emit: !check });
if (!result.ok) {
  for (const message of result.messages) console.error(message);
  console.error(`docs: ${result.messages.length} problem(s); see tools/docs/typedoc.config.mjs for the rules`);
  process.exit(1);
}
console.log(
  result.index === undefined
    ? "docs: every export is documented"
    : `API reference: ${relative(process.cwd(), result.index)}`,
);
