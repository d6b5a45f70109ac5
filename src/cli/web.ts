// `bpfkit web [--port N] [--host ADDR] [--no-build]`: builds the playground (web/build.ts, esbuild) into web/dist and
// serves it as static files. Localhost only unless --host says otherwise; every response carries COOP/COEP so the page
// is cross-origin isolated (SharedArrayBuffer, worker CPUs). The server computes nothing: the page does it all.
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { BpfError } from "../errors.ts";
import { optionValue } from "./input.ts";

const USAGE = "usage: bpfkit web [--port N] [--host ADDR] [--no-build]";
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml", ".pcap": "application/vnd.tcpdump.pcap",
};
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cross-Origin-Resource-Policy": "same-origin",
} as const;

export const DIST_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

export interface StaticServer { readonly server: Server; readonly url: string; close(): Promise<void> }

/** Serves `root` on host:port (0 picks a free port); `extra` maps request paths to files served beside it. */
export async function serveStatic(root: string, opts: { port?: number; host?: string; isolate?: boolean; extra?: Record<string, string> } = {}): Promise<StaticServer> {
  const host = opts.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = opts.extra?.[path] ?? join(root, normalize(path === "/" ? "/index.html" : path));
    if (opts.extra?.[path] === undefined && !file.startsWith(root.endsWith(sep) ? root : root + sep)) file = "";
    const headers: Record<string, string> = { "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", ...(opts.isolate === false ? {} : ISOLATION_HEADERS) };
    if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405, headers).end(); return; }
    if (file === "" || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n"); return; }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(req.method === "HEAD" ? undefined : readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(opts.port ?? 0, host, resolve); });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port ?? 0;
  const shown = host.includes(":") ? `[${host}]` : host;
  return { server, url: `http://${shown}:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

export default async function web(args: string[]): Promise<number> {
  let port = 8080, host = "127.0.0.1", rebuild = true;
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === "--port") {
      port = Number(optionValue(args, k++, USAGE));
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BpfError("EINVAL", `--port: expected 0..65535\n${USAGE}`);
    } else if (a === "--host") host = optionValue(args, k++, USAGE);
    else if (a === "--no-build") rebuild = false;
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else throw new BpfError("EINVAL", `unknown argument ${a}\n${USAGE}`);
  }
  if (rebuild) {
    let buildWeb: ((dir: string) => Promise<unknown>) | undefined;
    // a computed specifier: web/ is not part of the compiled package (from dist/ without tsx this import fails too)
    const builder = new URL("../../web/build.ts", import.meta.url).href;
    try { ({ buildWeb } = (await import(builder)) as { buildWeb: (dir: string) => Promise<unknown> }); } catch {
      // esbuild is a development dependency: without it, serve what `npm run build:web` left
    }
    if (buildWeb) { console.log("bpfkit web: building the playground"); await buildWeb(DIST_DIR); }
  }
  if (!existsSync(join(DIST_DIR, "index.html"))) throw new BpfError("ENOENT", `${DIST_DIR} has no build: run npm run build:web (needs the dev dependencies)`);
  const s = await serveStatic(DIST_DIR, { port, host });
  console.log(`bpfkit web: serving the playground at ${s.url} (Ctrl-C stops)`);
  await new Promise<void>((resolve) => { process.once("SIGINT", resolve); process.once("SIGTERM", resolve); });
  await s.close();
  return 0;
}
