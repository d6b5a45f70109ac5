// The body of one worker-thread CPU (started by cpu-pool.ts): a src/cpus Cpu over the shared memory, answering the
// pool's messages. Synchronous runs answer through the shared control words; event streams by message.
import { parentPort, workerData } from "node:worker_threads";
import { BpfError } from "../errors.ts";
import { Cpu } from "../cpus/index.ts";
import type { CpuInit, CpuRunOptions, FireJob, SyncMessage } from "../cpus/index.ts";
import { ERR_TEXT, S_ERR, S_ERRLEN, S_HI, S_INSNS, S_LO, S_STATE } from "./cpu-pool.ts";

type Message =
  | { kind: "run"; sync: SyncMessage; prog: number; opts: CpuRunOptions }
  | { kind: "fire"; id: number; sync: SyncMessage; job: FireJob };

const data = workerData as CpuInit & { ctl: SharedArrayBuffer };
const port = parentPort!;
const ctl = new Int32Array(data.ctl, 0, 16);
const text = new Uint8Array(data.ctl, ERR_TEXT);
let cpu: Cpu;
try {
  cpu = new Cpu(data);
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  throw e;
}

port.on("message", (m: Message) => {
  if (m.kind === "run") {
    try {
      cpu.sync(m.sync);
      const r = cpu.run(m.prog, m.opts);
      ctl[S_LO] = r.lo; ctl[S_HI] = r.hi; ctl[S_INSNS] = r.insns; ctl[S_ERR] = 0;
    } catch (e) {
      const code = e instanceof BpfError ? e.code : "FAULT";
      const bytes = new TextEncoder().encode(`${code}\n${e instanceof Error ? e.message : String(e)}`).subarray(0, text.length);
      text.set(bytes);
      ctl[S_ERRLEN] = bytes.length;
      ctl[S_ERR] = 1;
    }
    Atomics.store(ctl, S_STATE, 2);
    Atomics.notify(ctl, S_STATE);
    return;
  }
  try {
    cpu.sync(m.sync);
    port.postMessage({ id: m.id, result: cpu.fire(m.job) });
  } catch (e) {
    port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
