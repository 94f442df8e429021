/**
 * Shared by the browser tests: a static server for a folder on 127.0.0.1 (optionally cross-origin
 * isolated, for SharedArrayBuffer and worker threads) and headless Chromium (Debian's, driven by
 * playwright-core; no browser download), with the switches this closed network needs.
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
export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 at a free port, without caching. With `isolated`, every response
 * carries the COOP/COEP headers that make the page `crossOriginIsolated`.
 */
export async function serveStatic(dir: string, isolated = true): Promise<StaticServer> {
  const files = sirv(dir, {
    dev: true,
    setHeaders(res) {
      if (isolated) {
        res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
        res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
      }
    },
  });
  const server: Server = createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
