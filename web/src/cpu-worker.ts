// One Web Worker CPU (started by cpu-pool.ts): a src/cpus Cpu over the page's shared WebAssembly.Memory, answering
// event-stream jobs by message (the browser's main thread may not block, so there are no synchronous runs here).
import { Cpu } from "../../src/cpus/index.ts";
import type { CpuInit, FireJob, SyncMessage } from "../../src/cpus/index.ts";

let cpu: Cpu | undefined;
const post = (m: unknown) => (self as unknown as Worker).postMessage(m);

self.onmessage = (ev: MessageEvent<{ init: CpuInit } | { id: number; sync: SyncMessage; job: FireJob }>) => {
  const m = ev.data;
  if ("init" in m) {
    try { cpu = new Cpu(m.init); post({ ready: true }); } catch (e) { post({ error: e instanceof Error ? e.message : String(e) }); }
    return;
  }
  try {
    cpu!.sync(m.sync);
    post({ id: m.id, result: cpu!.fire(m.job) });
  } catch (e) {
    post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
};
