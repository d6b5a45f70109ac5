// perf_event programs on the VM: profile ticks per CPU. The context is struct bpf_perf_event_data — the interrupted
// pt_regs (168 bytes on x86-64), then sample_period and addr — and the program runs on the ticking CPU
// (bpf_get_smp_processor_id). Tick by hand, or start a timer that ticks every CPU at a frequency.
import type { System } from "../system.ts";
import { PT_REGS_SIZE } from "../layouts.ts";
import { encodeRegs, type RegValues } from "./uprobe.ts";

export const PERF_EVENT_DATA_SIZE = PT_REGS_SIZE + 16;

export interface Tick {
  readonly cpu?: number;
  /** The interrupted registers (ip, sp, ...); default zero. */
  readonly regs?: RegValues;
  readonly samplePeriod?: bigint | number;
  readonly addr?: bigint | number;
}

/** One profile tick: every perf_event program runs on the tick's CPU. Returns how many ran. */
export function tickPerfEvent(sys: System, tick: Tick = {}): number {
  const progs = sys.attached("perf_event:cpu-clock");
  if (progs.length === 0) return 0;
  const ctx = sys.space.alloc(PERF_EVENT_DATA_SIZE, { kind: "ctx", name: "bpf_perf_event_data", writable: false });
  try {
    sys.space.u8.set(encodeRegs(tick.regs ?? {}), ctx.start);
    sys.space.dv.setBigUint64(ctx.start + PT_REGS_SIZE, BigInt(tick.samplePeriod ?? 0), true);
    sys.space.dv.setBigUint64(ctx.start + PT_REGS_SIZE + 8, BigInt(tick.addr ?? 0), true);
    for (const p of progs) sys.run(p, { ctx: ctx.start, ctxRegion: ctx, cpu: tick.cpu ?? 0 });
  } finally {
    sys.space.release(ctx);
  }
  return progs.length;
}

/** Ticks every CPU of the system `freqHz` times a second (timers of the host); stop() ends it. */
export function startPerfTimer(sys: System, freqHz: number, regs?: () => RegValues): { stop(): void } {
  const period = BigInt(Math.round(1e9 / freqHz));
  const timer = setInterval(() => {
    for (let cpu = 0; cpu < sys.nCpus; cpu++) tickPerfEvent(sys, { cpu, samplePeriod: period, ...(regs ? { regs: regs() } : {}) });
  }, Math.max(1, 1000 / freqHz));
  (timer as { unref?: () => void }).unref?.();
  return { stop: () => clearInterval(timer) };
}
