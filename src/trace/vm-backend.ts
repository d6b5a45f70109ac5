// A compiled script on bpfkit's own VM: a runtime System (per-CPU maps sized for `cpus`, the interpreter or the JIT)
// into which the script loads and attaches through the same TraceSession as on Linux, so events reach its programs
// through the runtime's attach points: a tracepoint record (replayed or synthetic) fires every program attached at
// that tracepoint, pt_regs fire uprobe/usdt programs, samples fire perf_event programs. Output in bpftrace's format
// from the same printers the Linux backend uses.
import type { AddressSpace } from "../vm/memory.ts";
import type { EngineKind } from "../jit/select.ts";
import type { LoadedProgram } from "../vm/program.ts";
import { deterministicEnv } from "../helpers/index.ts";
import type { HelperEnv } from "../helpers/env.ts";
import { System, hookOf, type ProgObject } from "../runtime/system.ts";
import { fireHook } from "../runtime/attach/hook.ts";
import { PERF_EVENT_DATA_SIZE } from "../runtime/attach/perf-event.ts";
import { replay, type ReplayEvent } from "../runtime/attach/replay.ts";
import { openPerfBuffer } from "../runtime/attach/output.ts";
import type { CompiledScript } from "./script.ts";
import { TraceSession } from "./session.ts";
import type { OutputMode, RawEntry, Resolver } from "./output.ts";

export interface VmTraceOptions {
  readonly cpus?: number;
  /** the address space to create maps and programs in (shared, for worker-thread CPUs) */
  readonly space?: AddressSpace;
  /** the WebAssembly JIT (default) or the interpreter */
  readonly engine?: EngineKind;
  readonly env?: HelperEnv;
  readonly mode?: OutputMode;
  /** symbols, user names, files for the output (the VM has none of its own: addresses print in hex) */
  readonly resolver?: Resolver;
  /** where output goes as it is produced (default: kept, returned by text() and finish()) */
  readonly out?: (text: string) => void;
}

export interface VmRunOptions {
  /** replayed tracepoint events (runtime/attach/replay.ts); the run ends after the last one */
  readonly events?: Iterable<ReplayEvent>;
  /** resolves when the run should stop (Ctrl-C) */
  readonly stop?: Promise<void>;
}

export class VmTrace {
  /** the VM the script runs in (its bpf() commands, attach points and helper env) */
  readonly sys: System;
  readonly session: TraceSession;
  private out = "";

  constructor(readonly script: CompiledScript, opts: VmTraceOptions = {}) {
    // load times read a clock of their own, so a deterministic env's clock only moves for the programs
    this.sys = new System({ nCpus: opts.cpus ?? 1, env: opts.env ?? deterministicEnv(), engine: opts.engine, space: opts.space, bootNs: () => 0n });
    const sys = this.sys;
    this.session = new TraceSession(sys, script, {
      mode: opts.mode, out: opts.out ?? ((s) => { this.out += s; }), resolver: opts.resolver,
      perfBuffer: (fd, onRecord) => {
        const b = openPerfBuffer(sys, fd, 64);
        return { consume: () => { b.consume((d) => onRecord(d)); }, close() {} };
      },
    });
    this.session.attachingMessage();
    this.session.attach();
  }

  get space(): AddressSpace { return this.sys.space; }
  /** the helper env the programs see (comm, pid, clocks); set its fields to replay another task's events */
  get env(): HelperEnv { return this.sys.env; }
  /** set once exit() ran */
  get exited(): boolean { return this.session.exited; }

  /** The loaded program of probe `index`, for an executor such as the worker-CPU pool to fire. */
  program(index: number): LoadedProgram { return (this.sys.object(this.session.progFds[index]!) as ProgObject).loaded; }

  /** Index of the first program for a probe name ("BEGIN", "tracepoint:syscalls:sys_enter_write"). */
  probe(name: string): number {
    const i = this.script.programs.findIndex((p) => p.probe.name === name);
    if (i < 0) throw new Error(`the script has no probe ${name}`);
    return i;
  }

  /**
   * An event at probe `index`'s attach point with `ctx` as its context bytes (a tracepoint record, pt_regs, a perf
   * sample) on `cpu`: every program attached there runs, then the perf buffer is read.
   */
  fire(index: number, ctx: Uint8Array = new Uint8Array(64), cpu = 0): void {
    if (this.session.exited) return;
    const t = this.session.targets[index];
    if (t === undefined) throw new Error(`probe ${this.script.programs[index]?.probe.name ?? index} has no attach point (BEGIN/END run with begin()/finish())`);
    fireHook(this.sys, hookOf(t), ctx, cpu);
    this.drain();
  }

  /** One timer tick of perf_event probe `index` (interval/profile/software) on `cpu`: only that program runs. */
  tick(index: number, cpu = 0): void {
    if (this.session.exited) return;
    const t = this.session.targets[index];
    if (t?.kind !== "perf_event") throw new Error(`probe ${this.script.programs[index]?.probe.name ?? index} is not a timer`);
    const ctx = this.sys.space.alloc(PERF_EVENT_DATA_SIZE, { kind: "ctx", name: "bpf_perf_event_data", writable: false });
    try {
      this.sys.run(this.sys.object(this.session.progFds[index]!) as ProgObject, { ctx: ctx.start, ctxRegion: ctx, cpu });
    } finally {
      this.sys.space.release(ctx);
    }
    this.drain();
  }

  /**
   * A whole run as `bpfkit trace` makes it on the VM, like the Linux one: BEGIN, then each replayed event (the run
   * ends after the last) or, without events, interval/profile probes ticking in real time until exit() or `stop`;
   * then END and the maps. Returns everything printed when no `out` was given.
   */
  async run(o: VmRunOptions = {}): Promise<string> {
    this.begin();
    if (o.events) {
      for (const ev of o.events) {
        if (this.session.exited) break;
        replay(this.sys, [ev]);
        this.drain();
      }
    } else if (!this.session.exited) {
      const timers: ReturnType<typeof setInterval>[] = [];
      await new Promise<void>((resolve) => {
        const done = () => { for (const t of timers) clearInterval(t); resolve(); };
        void o.stop?.then(done);
        this.session.targets.forEach((t, i) => {
          if (t?.kind !== "perf_event") return;
          const ms = t.freqHz ? 1000 / t.freqHz : Number(t.period ?? 1000000) / 1e6;
          const cpus = t.cpus ?? Array.from({ length: this.sys.nCpus }, (_, c) => c);
          timers.push(setInterval(() => {
            for (const c of cpus) if (c < this.sys.nCpus) this.tick(i, c);
            if (this.session.exited) done();
          }, Math.max(1, ms)));
        });
      });
    }
    return this.finish();
  }

  /** Reads the perf buffers and acts on the records (printf text, print/clear/zero, exit). */
  drain(): void { this.session.drain(); }

  /** A map's entries with each CPU's value. */
  entries(i: number): RawEntry[] { return this.session.entries(i); }

  /** Runs BEGIN (when present). */
  begin(): void { this.session.run("BEGIN"); }

  /** Records still in the output buffers (every CPU's), then END and the exit dump, as bpftrace reads what is left before
   * running END; returns the whole output so far. */
  finish(): string {
    this.drain();
    this.session.run("END");
    this.session.exitDump();
    return this.out;
  }

  /** Output produced so far. */
  text(): string { return this.out; }

  /** Detaches and frees the script's programs and maps. */
  close(): void { this.session.close(); }
}
