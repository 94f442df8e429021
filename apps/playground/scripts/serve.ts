/**
 * The playground's static server: a folder on 127.0.0.1, cross-origin isolated (COOP/COEP, so the
 * page may use SharedArrayBuffer and worker threads), nothing cached. `npm run demo` and the tests
 * use it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import sirv from "sirv";

/** A running server. */
export interface Served {
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 at `port` (0: a free one) with the COOP/COEP headers.
 * @throws (rejects) when the port cannot be bound, e.g. `EADDRINUSE`.
 */
export async function serveDir(dir: string, port = 0): Promise<Served> {
  const files = sirv(dir, {
    dev: true,
    setHeaders(res) {
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
