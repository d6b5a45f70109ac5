// What programs send to user space on the VM, delivered as on Linux: ring buffer samples (BPF_MAP_TYPE_RINGBUF,
// libbpf's ring_buffer__consume), perf event samples (bpf_perf_event_output into a PERF_EVENT_ARRAY, one buffer per
// CPU as perf_buffer__new opens them) and bpf_trace_printk lines (trace_pipe).
import { BpfError } from "../../errors.ts";
import { PerfEventArrayMap, RingBufMap } from "../../maps/index.ts";
import type { System } from "../system.ts";

/** Hands every committed ring buffer sample to `cb`; returns how many. */
export function consumeRingBuffer(sys: System, mapFd: number, cb: (sample: Uint8Array) => void): number {
  const m = sys.vmMap(mapFd);
  if (!(m instanceof RingBufMap)) throw new BpfError("EINVAL", `map fd ${mapFd} is not a ring buffer`);
  return m.consume((s) => { cb(s); });
}

/** A perf buffer over a PERF_EVENT_ARRAY: one ring per CPU (perf_buffer__new); consume() reads them all. */
export function openPerfBuffer(sys: System, mapFd: number, pages = 8): { consume(onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number } {
  const m = sys.vmMap(mapFd);
  if (!(m instanceof PerfEventArrayMap)) throw new BpfError("EINVAL", `map fd ${mapFd} is not a perf event array`);
  m.openBuffers(pages);
  return { consume: (onSample, onLost) => m.consume(onSample, onLost) };
}

/**
 * A trace_pipe line as Linux prints a bpf_trace_printk message: task-pid, [cpu], the irq/preempt flags, the
 * timestamp in seconds with microseconds, then `bpf_trace_printk: msg`.
 */
export function tracePipeLine(msg: string, at: { comm: string; pid: number; cpu: number; ns: bigint }): string {
  const task = `${at.comm}-${at.pid}`.padStart(22);
  const ts = `${at.ns / 1000000000n}.${String((at.ns % 1000000000n) / 1000n).padStart(6, "0")}`;
  return `${task} [${String(at.cpu).padStart(3, "0")}] ....1 ${ts.padStart(12)}: bpf_trace_printk: ${msg}`;
}
