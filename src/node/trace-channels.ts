// `usdt:node:CHANNEL` on bpfkit's VM: every message published on Node's diagnostics_channel CHANNEL fires the
// script's program for that probe (a kprobe-type program; arg0 is the message's sequence number on the channel,
// arg1 the number of subscribers' messages so far in this process), so a Node developer aggregates their app's
// events with bpftrace's language and output, without root.
import diagnosticsChannel from "node:diagnostics_channel";
import type { VmTrace } from "../trace/vm-backend.ts";

const PT_REGS_SIZE = 168;
// x86-64 pt_regs offsets of di and si (arg0, arg1)
const DI = 112, SI = 104;

export function traceChannels(vm: VmTrace): { close(): void } {
  const subs: [string, (m: unknown) => void][] = [];
  let total = 0;
  vm.script.programs.forEach((p, i) => {
    if (p.probe.kind !== "usdt" || p.probe.target !== "node") return;
    let seq = 0;
    const ctx = new Uint8Array(PT_REGS_SIZE);
    const view = new DataView(ctx.buffer);
    const onMessage = () => {
      view.setBigUint64(DI, BigInt(seq++), true);
      view.setBigUint64(SI, BigInt(total++), true);
      vm.fire(i, ctx);
    };
    diagnosticsChannel.subscribe(p.probe.func, onMessage);
    subs.push([p.probe.func, onMessage]);
  });
  return { close() { for (const [ch, f] of subs) diagnosticsChannel.unsubscribe(ch, f); } };
}
