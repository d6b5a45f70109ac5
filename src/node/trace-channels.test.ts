// usdt:node:CHANNEL on the VM: an HTTP server in this process traced through diagnostics_channel, no root needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { compileScript } from "../trace/script.ts";
import { VmTrace } from "../trace/vm-backend.ts";
import { traceChannels } from "./trace-channels.ts";

const env = { tracepoints: () => [], tracepointFormat: () => undefined };

test("usdt:node:http.server.request.start counts the requests an HTTP server in this process handles", async () => {
  const script = `usdt:node:http.server.request.start { @requests = count(); @[probe] = count(); @seq = max(arg0); }
usdt:node:http.server.response.finish { @finished = count(); }`;
  const vm = new VmTrace(compileScript(script, { env }));
  const sub = traceChannels(vm);
  const server = http.createServer((_q, r) => r.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((r) => http.get(`http://127.0.0.1:${port}/`, (res) => { res.resume(); res.on("end", () => r()); }));
  }
  server.close();
  sub.close();
  assert.equal(vm.finish(), [
    "Attaching 2 probes...", "", "",
    "@[usdt:node:http.server.request.start]: 5",
    "@finished: 5",
    "@requests: 5",
    "@seq: 4",
    "",
  ].join("\n"));
});
