/** The browser entry (bundled by esbuild): runs the smoke test and shows the result in the page. */
import { smoke } from "./smoke.js";

const out = document.getElementById("result")!;
smoke().then(
  (r) => {
    out.textContent = JSON.stringify(r);
  },
  (e: unknown) => {
    out.textContent = JSON.stringify({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  },
);
