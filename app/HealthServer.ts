import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthSource {
  /** Connected to the feed and subscribed. */
  readonly ready: boolean;
  /** When the feed connection was lost; undefined while connected. */
  readonly disconnectedSince: number | undefined;
}

export interface HealthServerOptions {
  readonly source: HealthSource;
  readonly registry: Registry;
  /** /healthz answers 503 once the feed has been disconnected this long. */
  readonly unhealthyAfterMs: number;
  readonly now?: () => number;
}

/** GET /healthz (liveness), /readyz (connected and subscribed) and /metrics (Prometheus text). */
export class HealthServer {
  private readonly server: Server;
  private readonly now: () => number;

  constructor(private readonly options: HealthServerOptions) {
    this.now = options.now ?? Date.now;
    this.server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/healthz") {
        const since = this.options.source.disconnectedSince;
        const downMs = since === undefined ? 0 : this.now() - since;
        const ok = downMs < this.options.unhealthyAfterMs;
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ok, disconnectedForMs: downMs }));
      } else if (path === "/readyz") {
        const ready = this.options.source.ready;
        res.writeHead(ready ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ready }));
      } else if (path === "/metrics") {
        this.options.registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": this.options.registry.contentType }).end(text),
          (error: Error) => res.writeHead(500).end(error.message),
        );
      } else {
        res.writeHead(404).end();
      }
    });
  }

  /** Listens on the port (0 picks a free one) and resolves with the port in use. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
