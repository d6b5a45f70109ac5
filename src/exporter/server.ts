// The exporter's HTTP face (Node): /metrics (Prometheus text, or OpenMetrics when the Accept header asks for it),
// /debug and /maps (each map's raw rows with their decoded labels), and a small index page. A failing scrape answers
// 500 with the reason; the server keeps running.
import { createServer, type Server } from "node:http";
import { BpfError } from "../errors.ts";
import type { Exporter } from "./exporter.ts";

export interface ListenAddress { host: string | undefined; port: number }

/** Go's listen-address form: ":9435", "127.0.0.1:9435", "[::1]:9435". */
export function parseListenAddress(s: string): ListenAddress {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new BpfError("EINVAL", `--web.listen-address: '${s}' is not host:port`);
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port };
}

export function startServer(exporter: Exporter, addr: ListenAddress, telemetryPath = "/metrics"): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === telemetryPath) {
      exporter.metricsText(req.headers.accept ?? "").then(
        ({ contentType, body }) => reply(200, contentType, body),
        (e: unknown) => reply(500, "text/plain; charset=utf-8", `error collecting metrics: ${(e as Error).message}\n`),
      );
    } else if (path === "/debug" || path === "/maps") {
      try { reply(200, "text/plain; charset=utf-8", exporter.debugText()); } catch (e) { reply(500, "text/plain; charset=utf-8", `${(e as Error).message}\n`); }
    } else if (path === "/") {
      reply(200, "text/html; charset=utf-8", `<html><head><title>bpfkit exporter</title></head><body><h1>bpfkit exporter</h1><p><a href="${telemetryPath}">Metrics</a></p><p><a href="/debug">Maps</a></p></body></html>\n`);
    } else reply(404, "text/plain; charset=utf-8", "404 page not found\n");
  });
  // scrapers keep connections open between scrapes: idle sockets live longer than a scrape interval, so a request is
  // never sent on a socket the server is just closing (ECONNRESET under load)
  server.keepAliveTimeout = 65_000;
  // no deadline for a request's headers or body, as Go's http.Server (ebpf_exporter's) has none by default: on a
  // starved machine Node's periodic check would otherwise close connections whose bytes the busy event loop has not
  // read yet, and closing a socket with unread data resets it (ECONNRESET at the scraper)
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new BpfError("EINVAL", `cannot listen on ${addr.host ?? ""}:${addr.port}: ${e.code ?? e.message}`)));
    server.listen(addr.port, addr.host, () => resolve(server));
  });
}
