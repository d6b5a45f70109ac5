// A compiled script loaded into a backend through the runtime's one bpf() API (src/runtime/backend.ts), written once
// for Linux (LinuxBackend) and bpfkit's VM (System): its maps created, its programs loaded with map fds in lddw,
// attached where the probes say (AttachTarget), BEGIN/END run with BPF_PROG_TEST_RUN as bpftrace 0.17 runs them,
// perf-buffer records acted on (printf text, print/clear/zero/exit/time/system), and the maps read back and printed
// with bpftrace's printers. What differs per backend comes in as options: the perf buffer reader, clocks, the shell.
import type { Insn } from "../isa/ebpf/insn.ts";
import { BPF_PSEUDO_MAP_FD } from "../isa/ebpf/opcodes.ts";
import { BpfError } from "../errors.ts";
import { errnoOf, type AttachTarget, type Attachment, type Backend } from "../runtime/backend.ts";
import { mapTypeOf, type MapTypeName } from "../uapi/map-types.ts";
import { progTypeOf } from "../uapi/prog-types.ts";
import type { CompiledScript } from "./script.ts";
import type { ResolvedProbe } from "./probes.ts";
import { attachedMessage, decodeRecord, formatMap, printableMaps, type OutputMode, type RawEntry, type Resolver } from "./output.ts";

/** What reads the script's perf event array: Linux's mmap'd rings or the VM's (runtime/attach/output.ts). */
export interface PerfReader {
  /** Delivers every buffered record. */
  consume(): void;
  /** Starts delivering from the event loop as records arrive (Linux). */
  start?(): void;
  close(): void;
}

export interface TraceSessionOptions {
  readonly mode?: OutputMode;
  readonly out: (text: string) => void;
  /** Opens the reader of the perf event array `fd`; each record goes to `onRecord`. */
  readonly perfBuffer: (fd: number, onRecord: (data: Uint8Array) => void) => PerfReader;
  /** CLOCK_MONOTONIC at start in ns, `elapsed`'s origin (default: none written, elapsed counts from 0) */
  readonly startNs?: bigint;
  /** time(FMT)'s text now (default: nothing printed) */
  readonly time?: (format: string) => string;
  /** system(CMD)'s output (--unsafe; default: nothing printed) */
  readonly system?: (command: string) => string;
  /** -p PID: uprobes and usdt probes only in this process */
  readonly pid?: number;
  /** CPUs that profile/software/hardware probes sample on (default: every possible CPU) */
  readonly cpus?: readonly number[];
  /** kernel and user symbols, user names, cat()'s files (default: addresses in hex, uids as numbers, no file);
   * stack frames always come from the script's stack_trace maps */
  readonly resolver?: Resolver;
}

// perf_event_attr types and software/hardware configs bpftrace's names stand for
const PERF_TYPE_HARDWARE = 0, PERF_TYPE_SOFTWARE = 1;
const SW_CONFIG: Record<string, number> = {
  "cpu-clock": 0, cpu: 0, "task-clock": 1, "page-faults": 2, faults: 2, "context-switches": 3, cs: 3, "cpu-migrations": 4,
  "minor-faults": 5, "major-faults": 6, "alignment-faults": 7, "emulation-faults": 8, dummy: 9, "bpf-output": 10,
};
const SW_DEFAULT_PERIOD: Record<string, number> = {
  "cpu-clock": 1000000, cpu: 1000000, "task-clock": 1000000, "page-faults": 100, faults: 100, "context-switches": 1000,
  cs: 1000, "cpu-migrations": 1, "minor-faults": 100, "major-faults": 1, "alignment-faults": 1, "emulation-faults": 1,
  dummy: 1, "bpf-output": 1,
};
const HW_CONFIG: Record<string, number> = {
  "cpu-cycles": 0, cycles: 0, instructions: 1, "cache-references": 2, "cache-misses": 3, "branch-instructions": 4,
  branches: 4, "branch-misses": 5, "bus-cycles": 6, "frontend-stalls": 7, "backend-stalls": 8, "ref-cycles": 9,
};
const UNIT_NS: Record<string, number> = { s: 1e9, ms: 1e6, us: 1e3 };

/** Where a probe attaches, as the runtime names it; undefined for BEGIN/END (test runs) and probes no backend has. */
export function attachTargetOf(p: ResolvedProbe, o: { pid?: number; cpus?: readonly number[] } = {}): AttachTarget | undefined {
  const cpus = o.cpus;
  const timer = (on: readonly number[] | undefined): AttachTarget => (p.target === "hz"
    ? { kind: "perf_event", freqHz: p.freq, ...(on ? { cpus: on } : {}) }
    : { kind: "perf_event", freqHz: 0, period: p.freq * UNIT_NS[p.target]!, ...(on ? { cpus: on } : {}) });
  switch (p.kind) {
    case "tracepoint": return { kind: "tracepoint", category: p.target, name: p.func };
    case "rawtracepoint": return { kind: "raw_tracepoint", name: p.func };
    case "uprobe": case "uretprobe":
      return { kind: "uprobe", path: p.target, symbol: p.func, retprobe: p.kind === "uretprobe", ...(o.pid !== undefined ? { pid: o.pid } : {}) };
    case "usdt": {
      const i = p.func.lastIndexOf(":");
      return { kind: "usdt", path: p.target, provider: i < 0 ? "" : p.func.slice(0, i), name: p.func.slice(i + 1), ...(o.pid !== undefined ? { pid: o.pid } : {}) };
    }
    case "profile": return timer(cpus);
    case "interval": return timer([0]);
    case "software":
      return { kind: "perf_event", freqHz: 0, period: p.freq || SW_DEFAULT_PERIOD[p.target]!, event: { type: PERF_TYPE_SOFTWARE, config: SW_CONFIG[p.target]!, name: p.target }, ...(cpus ? { cpus } : {}) };
    case "hardware":
      return { kind: "perf_event", freqHz: 0, period: p.freq || 1000000, event: { type: PERF_TYPE_HARDWARE, config: HW_CONFIG[p.target]!, name: p.target }, ...(cpus ? { cpus } : {}) };
    default: return undefined;
  }
}

/** Replaces the compiler's lddw map indices by the backend's map fds. */
function withMapFds(insns: readonly Insn[], fds: readonly number[]): Insn[] {
  return insns.map((x, pc) => {
    if (x.code !== 0x18 || x.src !== BPF_PSEUDO_MAP_FD) return x;
    const fd = fds[x.imm];
    if (fd === undefined) throw new BpfError("EINVAL", `insn ${pc}: lddw refers to map index ${x.imm}, but the script has ${fds.length} maps`, { pc });
    return { ...x, imm: fd };
  });
}

const EAGAIN = 11;

export class TraceSession {
  readonly mode: OutputMode;
  /** map fds by the script's map index */
  readonly mapFds: readonly number[];
  /** program fds by the script's program index */
  readonly progFds: readonly number[];
  /** each program's attach target (undefined: BEGIN/END) */
  readonly targets: readonly (AttachTarget | undefined)[];
  private readonly links: Attachment[] = [];
  private readonly reader: PerfReader;
  private readonly userValueSize: readonly number[];
  /** set when a record asked for exit(); records after it are ignored until END runs */
  exited = false;
  private readonly res: Resolver;

  constructor(readonly backend: Backend, readonly script: CompiledScript, private readonly opts: TraceSessionOptions) {
    this.mode = opts.mode ?? "text";
    this.res = { ...opts.resolver, stackFrames: (limit, id) => this.stackFrames(limit, id) };
    const ncpus = backend.possibleCpus();
    const mapFds: number[] = [], progFds: number[] = [];
    this.mapFds = mapFds;
    this.progFds = progFds;
    this.userValueSize = script.mapDecls.map((d) => (d.type === "percpu_hash" ? ((d.valueSize + 7) & ~7) * ncpus : d.valueSize));
    try {
      for (const d of script.mapDecls) {
        mapFds.push(backend.mapCreate({
          mapType: mapTypeOf(d.type as MapTypeName), keySize: d.keySize, valueSize: d.valueSize,
          maxEntries: d.type === "perf_event_array" ? ncpus : d.maxEntries, name: d.name,
        }));
      }
      if (opts.startNs !== undefined) {
        backend.mapUpdateElem(mapFds[script.startMap]!, new Uint8Array(4), new Uint8Array(new BigUint64Array([opts.startNs]).buffer));
      }
      // bpftrace 0.17 starts a keyless count() map with a zero entry, so it prints "@c: 0" when no event came
      script.maps.forEach((L, i) => {
        if (L.info.keys.length === 0 && L.info.value.k === "agg" && L.info.value.fn === "count") {
          backend.mapUpdateElem(mapFds[i]!, new Uint8Array(L.keySize), new Uint8Array(this.userValueSize[i]!));
        }
      });
      for (const p of script.programs) {
        const insns = withMapFds(p.insns, mapFds);
        // the kernel's verifier gives up with EAGAIN when a signal arrives (a -c child stopping sends SIGCHLD); libbpf retries too
        for (let attempt = 1; ; attempt++) {
          try {
            progFds.push(backend.progLoad({ progType: progTypeOf(p.progType), insns, license: "GPL", name: p.name }).fd);
            break;
          } catch (e) {
            if (errnoOf(e) !== EAGAIN || attempt >= 5) throw e;
          }
        }
      }
      this.reader = opts.perfBuffer(mapFds[script.perfMap]!, (data) => this.onRecord(data));
    } catch (e) {
      this.closeFds();
      throw e;
    }
    this.targets = script.programs.map((p) => attachTargetOf(p.probe, { pid: opts.pid, cpus: opts.cpus }));
  }

  /** "Attaching N probes..." as bpftrace prints it before attaching. */
  attachingMessage(): void { this.opts.out(attachedMessage(this.script.attachCount, this.mode)); }

  /** Index of the program for a probe kind or full name ("BEGIN", "tracepoint:syscalls:sys_enter_write"), or -1. */
  probe(name: string): number {
    return this.script.programs.findIndex((p) => p.probe.kind === name || p.probe.name === name);
  }

  /** Runs BEGIN or END (a raw tracepoint program run once with BPF_PROG_TEST_RUN) and acts on its records. */
  run(kind: "BEGIN" | "END"): void {
    const i = this.probe(kind);
    if (i < 0) return;
    if (kind === "END") this.exited = false;
    this.backend.progTestRun(this.progFds[i]!, {});
    this.drain();
  }

  /** Attaches every probe program; the first failure detaches what was attached and throws, naming the probe. */
  attach(): void {
    this.targets.forEach((t, i) => {
      if (!t) return;
      try {
        this.links.push(this.backend.attach(this.progFds[i]!, t));
      } catch (e) {
        this.detach();
        throw Object.assign(e as Error, { probe: this.script.programs[i]!.probe.name });
      }
    });
    this.reader.start?.();
  }

  detach(): void {
    for (const l of this.links) l.close();
    this.links.length = 0;
  }

  /** Reads the perf buffer and acts on the records. */
  drain(): void { this.reader.consume(); }

  private onRecord(data: Uint8Array): void {
    if (this.exited) return;
    const ev = decodeRecord(this.script, data, this.mode, this.res);
    if (!ev) return;
    switch (ev.kind) {
      case "text": this.opts.out(ev.text); break;
      case "exit": this.exited = true; break;
      case "print": this.printMap(ev.map, ev.top, ev.div); break;
      case "clear": for (const e of this.entries(ev.map)) { try { this.backend.mapDeleteElem(this.mapFds[ev.map]!, e.key); } catch { /* gone */ } } break;
      case "zero": for (const e of this.entries(ev.map)) this.backend.mapUpdateElem(this.mapFds[ev.map]!, e.key, new Uint8Array(this.userValueSize[ev.map]!)); break;
      case "time": if (this.opts.time) this.opts.out(this.opts.time(ev.format)); break;
      case "system": if (this.opts.system) this.opts.out(this.opts.system(ev.command)); break;
    }
  }

  /** Map `i`'s entries with each CPU's value (per-CPU maps) or the one value. */
  entries(i: number): RawEntry[] {
    const L = this.script.maps[i]!, fd = this.mapFds[i]!, b = this.backend;
    const per = L.bpfType === "percpu_hash";
    const slot = per ? (L.valueSize + 7) & ~7 : L.valueSize;
    const value = new Uint8Array(this.userValueSize[i]!);
    const out: RawEntry[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const key: Uint8Array = new Uint8Array(L.keySize);
      if (!b.mapGetNextKey(fd, prev, key)) break;
      prev = key;
      try { b.mapLookupElem(fd, key, value); } catch { continue; } // deleted between the two calls
      const values = per ? Array.from({ length: value.length / slot }, (_, c) => value.slice(c * slot, c * slot + L.valueSize)) : [value.slice()];
      out.push({ key, values });
    }
    return out;
  }

  printMap(i: number, top = 0, div = 0): void {
    this.opts.out(formatMap(this.script.maps[i]!, this.entries(i), this.mode, top, div, this.res));
  }

  /** The frames of stack `id` in the script's stack_trace map of `limit` frames (undefined: no such stack). */
  private stackFrames(limit: number, id: number): bigint[] | undefined {
    const idx = this.script.stackMaps.get(limit);
    if (idx === undefined) return undefined;
    const v = new Uint8Array(8 * limit);
    try { this.backend.mapLookupElem(this.mapFds[idx]!, new Uint8Array(new Uint32Array([id]).buffer), v); } catch { return undefined; }
    const dv = new DataView(v.buffer);
    return Array.from({ length: limit }, (_, i) => dv.getBigUint64(i * 8, true));
  }

  /** The end of a run as bpftrace prints it: two newlines, then every map. */
  exitDump(): void {
    this.opts.out("\n\n");
    for (const L of printableMaps(this.script)) this.printMap(L.info.index);
  }

  private closeFds(): void {
    for (const fd of this.progFds) this.backend.close(fd);
    for (const fd of this.mapFds) this.backend.close(fd);
  }

  /** Detaches, closes the reader, the programs and the maps. */
  close(): void {
    this.detach();
    this.reader?.close();
    this.closeFds();
  }
}
