// A compiled script on bpfkit's own VM: its maps created in one address space (per-CPU maps sized for `cpus`), its
// programs loaded into the interpreter, events fired by the caller (a replayed or synthetic tracepoint record, a timer
// tick) on a chosen CPU, and output in bpftrace's format from the same printers the Linux backend uses. Until the
// runtime's attach points land, the caller is the event source.
import { AddressSpace } from "../vm/memory.ts";
import { createEngine, type Engine, type EngineKind } from "../jit/select.ts";
import type { LoadedProgram } from "../vm/program.ts";
import { createMap } from "../maps/create.ts";
import type { BpfMap } from "../maps/index.ts";
import type { PerfEventArrayMap } from "../maps/perf.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import type { HelperEnv } from "../helpers/env.ts";
import { mapTypeOf, type MapTypeName } from "../uapi/map-types.ts";
import type { CompiledScript } from "./script.ts";
import { attachedMessage, decodeRecord, formatMap, printableMaps, type OutputMode, type RawEntry, type Resolver } from "./output.ts";

export interface VmTraceOptions {
  readonly cpus?: number;
  /** the address space to create maps and programs in (shared, for worker-thread CPUs) */
  readonly space?: AddressSpace;
  /** the interpreter (default) or the WebAssembly JIT */
  readonly engine?: EngineKind;
  readonly env?: HelperEnv;
  readonly mode?: OutputMode;
  /** symbols, user names, files for the output (the VM has none of its own: addresses print in hex); stack frames
   * always come from the script's stack_trace maps */
  readonly resolver?: Resolver;
}

export class VmTrace {
  readonly space: AddressSpace;
  private readonly maps: BpfMap[];
  private readonly vms: Engine[];
  private readonly progs: LoadedProgram[][];
  private readonly perf: PerfEventArrayMap;
  private readonly cpus: number;
  private readonly mode: OutputMode;
  private readonly res: Resolver;
  private out = "";
  /** set once exit() ran */
  exited = false;

  constructor(readonly script: CompiledScript, opts: VmTraceOptions = {}) {
    this.cpus = opts.cpus ?? 1;
    this.space = opts.space ?? new AddressSpace();
    this.mode = opts.mode ?? "text";
    this.res = { ...opts.resolver, stackFrames: (limit, id) => this.stackFrames(limit, id) };
    this.maps = script.mapDecls.map((d) => createMap(this.space, {
      type: mapTypeOf(d.type as MapTypeName), keySize: d.keySize, valueSize: d.valueSize,
      maxEntries: d.type === "perf_event_array" ? this.cpus : d.maxEntries, name: d.name,
    }, { nCpus: this.cpus }));
    this.perf = this.maps[script.perfMap] as PerfEventArrayMap;
    this.perf.openBuffers(64);
    const env = opts.env ?? deterministicEnv();
    this.vms = Array.from({ length: this.cpus }, (_, cpu) => createEngine(opts.engine ?? "interp", this.space, { helpers: defaultHelpers, env, cpu }));
    const resolve = { map: (_kind: number, idx: number) => this.maps[idx]!.address };
    this.progs = this.vms.map((vm) => script.programs.map((p) => vm.load(p.insns, { type: p.progType, name: p.name, resolve } as never)));
    script.maps.forEach((L, i) => {
      if (L.info.keys.length === 0 && L.info.value.k === "agg" && L.info.value.fn === "count") this.maps[i]!.update(new Uint8Array(L.keySize), new Uint8Array(this.valueBytes(i)));
    });
    this.out += attachedMessage(script.attachCount, this.mode);
  }

  /** The loaded program of probe `index` (CPU 0's copy), for an executor such as the worker-CPU pool to fire. */
  program(index: number): LoadedProgram { return this.progs[0]![index]!; }

  /** Index of the first program for a probe name ("BEGIN", "tracepoint:syscalls:sys_enter_write"). */
  probe(name: string): number {
    const i = this.script.programs.findIndex((p) => p.probe.name === name);
    if (i < 0) throw new Error(`the script has no probe ${name}`);
    return i;
  }

  /** Runs program `index` on `cpu` with `ctx` as its context bytes (a tracepoint record, raw tracepoint args). */
  fire(index: number, ctx: Uint8Array = new Uint8Array(64), cpu = 0): void {
    if (this.exited) return;
    const region = this.space.alloc(Math.max(8, ctx.length), { kind: "ctx", name: "trace ctx", writable: false } as never);
    this.space.u8.set(ctx, region.start);
    try {
      this.vms[cpu]!.run(this.progs[cpu]![index]!, { ctx: region.start, cpu });
    } finally {
      this.space.release(region);
    }
    this.drain();
  }

  /** Reads the perf buffers and acts on the records (printf text, print/clear/zero, exit). */
  drain(): void {
    this.perf.consume((data) => {
      if (this.exited) return;
      const ev = decodeRecord(this.script, data, this.mode, this.res);
      if (!ev) return;
      if (ev.kind === "text") this.out += ev.text;
      else if (ev.kind === "exit") this.exited = true;
      else if (ev.kind === "print") this.out += formatMap(this.script.maps[ev.map]!, this.entries(ev.map), this.mode, ev.top, ev.div, this.res);
      else if (ev.kind === "clear") for (const e of this.entries(ev.map)) this.maps[ev.map]!.delete(e.key);
      else if (ev.kind === "zero") for (const e of this.entries(ev.map)) this.maps[ev.map]!.update(e.key, new Uint8Array(this.valueBytes(ev.map)));
    });
  }

  private stackFrames(limit: number, id: number): bigint[] | undefined {
    const idx = this.script.stackMaps.get(limit);
    if (idx === undefined) return undefined;
    let v: Uint8Array | undefined;
    try { v = this.maps[idx]!.lookup(new Uint8Array(new Uint32Array([id]).buffer)) ?? undefined; } catch { return undefined; }
    if (!v) return undefined;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return Array.from({ length: v.length >> 3 }, (_, i) => dv.getBigUint64(i * 8, true));
  }

  /** bytes of a whole value as user space passes it (per-CPU maps: one 8-byte-aligned slot per CPU) */
  private valueBytes(i: number): number {
    const L = this.script.maps[i]!;
    return L.bpfType === "percpu_hash" ? ((L.valueSize + 7) & ~7) * this.cpus : L.valueSize;
  }

  /** A map's entries with each CPU's value. */
  entries(i: number): RawEntry[] {
    const m = this.maps[i]!, L = this.script.maps[i]!;
    const per = L.bpfType === "percpu_hash";
    const out: RawEntry[] = [];
    const vs = per ? (L.valueSize + 7) & ~7 : L.valueSize;
    for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) {
      const v = m.lookup(k);
      const values = per ? Array.from({ length: this.cpus }, (_, c) => v.slice(c * vs, c * vs + L.valueSize)) : [v];
      out.push({ key: k, values });
    }
    return out;
  }

  /** Runs BEGIN (when present). */
  begin(): void {
    const i = this.script.programs.findIndex((p) => p.probe.kind === "BEGIN");
    if (i >= 0) this.fire(i);
  }

  /** END, then the exit dump: everything bpftrace prints after its run; returns the whole output so far. */
  finish(): string {
    this.exited = false;
    const i = this.script.programs.findIndex((p) => p.probe.kind === "END");
    if (i >= 0) this.fire(i);
    this.out += "\n\n";
    for (const L of printableMaps(this.script)) this.out += formatMap(L, this.entries(L.info.index), this.mode, 0, 0, this.res);
    return this.out;
  }

  /** Output produced so far. */
  text(): string { return this.out; }
}
