/**
 * `npm run demo [-- --port N]`: builds the playground into apps/playground/dist/ and serves it on
 * 127.0.0.1 (port 8080 by default), cross-origin isolated, until Ctrl-C. Prints the URL. The port
 * is bound before the build, so a busy port fails at once and leaves dist/ alone.
 */
import { parseArgs } from "node:util";
import { serveDir } from "../../../scripts/browser.js";
import { buildPlayground, DEFAULT_OUT_DIR } from "./build.js";

const USAGE = "usage: npm run demo -- [--port N]   (default 8080; 0 picks a free port)";

async function main(): Promise<number> {
  let port = 8080;
  try {
    const { values } = parseArgs({ options: { port: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port must be 0 to 65535, got ${values.port}`);
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let served: Awaited<ReturnType<typeof serveDir>>;
  try {
    served = await serveDir(DEFAULT_OUT_DIR, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    console.error(
      code === "EADDRINUSE"
        ? `error: port ${port} is in use; pick another with npm run demo -- --port N`
        : `error: cannot serve on 127.0.0.1:${port}: ${(e as Error).message}`,
    );
    return 1;
  }
  const t0 = performance.now();
  let files: Record<string, number>;
  try {
    ({ files } = await buildPlayground(DEFAULT_OUT_DIR));
  } catch (e) {
    await served.close();
    throw e;
  }
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `playground: built apps/playground/dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(main.js ${kib(files["main.js"]!)}, worker.js ${kib(files["worker.js"]!)})`,
  );
  console.log(`playground: serving on ${served.url}  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await served.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
