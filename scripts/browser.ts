/**
 * Shared by the browser tests, `npm run demo` and `npm run bench:browser`: a static server for a
 * folder on 127.0.0.1 (cross-origin isolated unless asked otherwise, for SharedArrayBuffer and
 * worker threads) and headless Chromium (Debian's, driven by playwright-core; no browser
 * download), with the switches this closed network needs.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import sirv from "sirv";

/** The Chromium binary: GRADGRAPH_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.GRADGRAPH_CHROMIUM ?? "/usr/bin/chromium";
/** Whether it exists. */
export const chromiumAvailable = existsSync(CHROMIUM);
/** Set by .ci/run: a missing Chromium fails the browser tests instead of skipping them. */
export const chromiumRequired = process.env.GRADGRAPH_REQUIRE_CHROMIUM === "1";

/** A running static server. */
export interface Served {
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 at `port` (0: a free one), nothing cached. Unless `isolated` is false,
 * every response carries the COOP/COEP headers that make the page `crossOriginIsolated` (so it may
 * use SharedArrayBuffer and worker threads).
 * @throws (rejects) when the port cannot be bound, e.g. `EADDRINUSE`.
 */
export async function serveDir(dir: string, port = 0, isolated = true): Promise<Served> {
  const files = sirv(dir, {
    dev: true,
    setHeaders(res) {
      if (!isolated) return;
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    },
  });
  const server: Server = createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Launches headless Chromium with the switches a machine without outside network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 60_000,
  });
}
