// Events replayed into bpfkit's VM (the exporter's --vm.replay, `bpfkit trace --replay`, the web Trace tab): each
// event names a tracepoint, the task it happened in (comm, pid, cpu) and the tracepoint record's bytes; every program attached there runs over a
// read-only copy of the record, as the kernel runs tracepoint programs over the ring-buffer entry. The replay file
// is JSON lines: {"tracepoint":"raw_syscalls/sys_enter","comm":"bash","pid":7,"cpu":0,"record":"<hex>","repeat":3}.
// Pure.
import { BpfError } from "../../errors.ts";
import { hookOf, type System } from "../system.ts";

export interface ReplayEvent {
  /** "category/name" */
  readonly tracepoint: string;
  readonly comm?: string;
  readonly pid?: number;
  readonly cpu?: number;
  readonly record: Uint8Array;
  /** how many times the event happens (default 1) */
  readonly repeat?: number;
}

/** Parses a replay file (JSON lines); errors name the line. */
export function parseReplay(text: string, file = "replay"): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim() || line.trimStart().startsWith("#")) return;
    const at = `${file}:${i + 1}`;
    let o: Record<string, unknown>;
    try { o = JSON.parse(line) as Record<string, unknown>; } catch (e) { throw new BpfError("PARSE", `${at}: ${(e as Error).message}`, { file, line: i + 1 }); }
    if (typeof o.tracepoint !== "string" || !/^[\w-]+\/[\w-]+$/.test(o.tracepoint)) throw new BpfError("PARSE", `${at}: tracepoint: expected "category/name"`, { file, line: i + 1 });
    if (typeof o.record !== "string" || !/^([0-9a-fA-F]{2})*$/.test(o.record)) throw new BpfError("PARSE", `${at}: record: expected the record's bytes in hex`, { file, line: i + 1 });
    const num = (k: string) => {
      const v = o[k];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new BpfError("PARSE", `${at}: ${k}: expected a non-negative integer`, { file, line: i + 1 });
      return v;
    };
    if (o.comm !== undefined && typeof o.comm !== "string") throw new BpfError("PARSE", `${at}: comm: expected a string`, { file, line: i + 1 });
    const record = new Uint8Array(o.record.length / 2);
    for (let j = 0; j < record.length; j++) record[j] = parseInt(o.record.slice(j * 2, j * 2 + 2), 16);
    out.push({ tracepoint: o.tracepoint, comm: o.comm as string | undefined, pid: num("pid"), cpu: num("cpu"), record, repeat: num("repeat") });
  });
  return out;
}

/** A syscalls/raw_syscalls sys_enter record: the 8-byte common header, the syscall number, six arguments. */
export function sysEnterRecord(nr: number, args: readonly number[] = [], pid = 0): Uint8Array {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  v.setInt32(4, pid, true);
  v.setBigInt64(8, BigInt(nr), true);
  args.forEach((a, i) => v.setBigUint64(16 + i * 8, BigInt(a), true));
  return b;
}

/** Runs every program attached at each event's tracepoint; returns the number of program runs. */
export function replay(sys: System, events: Iterable<ReplayEvent>): number {
  let runs = 0;
  const env = sys.env;
  for (const ev of events) {
    const [category, name] = ev.tracepoint.split("/") as [string, string];
    const progs = sys.attached(hookOf({ kind: "tracepoint", category, name }));
    if (progs.length === 0) continue;
    if (ev.comm !== undefined) env.comm = ev.comm;
    if (ev.pid !== undefined) { env.pid = ev.pid; env.tgid = ev.pid; }
    const cpu = Math.min(ev.cpu ?? 0, sys.nCpus - 1);
    const ctx = sys.space.alloc(Math.max(ev.record.length, 8), { kind: "ctx", name: "tracepoint", writable: false });
    try {
      sys.space.u8.set(ev.record, ctx.start);
      for (let n = 0; n < (ev.repeat ?? 1); n++) {
        for (const p of progs) { sys.run(p, { ctx: ctx.start, ctxRegion: ctx, cpu }); runs++; }
      }
    } finally {
      sys.space.release(ctx);
    }
  }
  return runs;
}
