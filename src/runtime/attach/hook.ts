// The one way an event reaches VM programs: every program attached at a hook (see hookOf) runs, in attach order, on
// the event's context bytes copied into a read-only context region, on the event's CPU. The attach-point modules
// (tracepoint records, pt_regs for uprobes and USDT probes, perf samples) build the bytes and call this.
import type { System } from "../system.ts";

/** Runs the programs attached at `hook` with `ctx` as their context on `cpu`; returns how many ran. */
export function fireHook(sys: System, hook: string, ctx: Uint8Array, cpu = 0, name = hook): number {
  const progs = sys.attached(hook);
  if (progs.length === 0) return 0;
  const region = sys.space.alloc(Math.max(8, ctx.length), { kind: "ctx", name, writable: false });
  try {
    sys.space.u8.set(ctx, region.start);
    const opts = { ctx: region.start, ctxRegion: region, cpu };
    for (const p of progs) sys.run(p, opts);
  } finally {
    sys.space.release(region);
  }
  return progs.length;
}
