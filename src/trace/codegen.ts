// The compiler: each resolved probe becomes one eBPF program in bpfkit's program model (Insn[] + program type +
// map indices in lddw), with the maps bpftrace 0.17 makes: count/sum/min/max/avg/stats/hist/lhist on per-CPU hashes
// (hist/lhist/avg/stats keyed by the map keys plus a bucket), `@x = …` and `@x++` on plain hashes updated
// non-atomically as bpftrace does, printf/print/clear/zero/exit/time as records on a perf event array.
// Values live in 8-byte stack slots; every key/record component is padded to 8 bytes (user space reads the same
// layout from `MapLayout`/`RecordLayout`).
import type { Expr, Stmt } from "./ast.ts";
import { insn, type Insn } from "../isa/ebpf/insn.ts";
import { BPF_PSEUDO_MAP_FD } from "../isa/ebpf/opcodes.ts";
import { TraceError } from "./errors.ts";
import type { Checked, CheckedProbe, MapInfo } from "./check.ts";
import type { ResolvedProbe } from "./probes.ts";
import { parseFormat } from "./printf.ts";
import { type TType, INT64, typeSize, isAggregate } from "./types.ts";
import { PT_REGS, signalNumber } from "./check.ts";
import { usdtArgInsns } from "./usdt-args.ts";

export const MAX_MAP_ENTRIES = 4096;
/** async record ids (printf records use their printf index) */
export const EV = { exit: 0x7fff0000, print: 0x7fff0001, clear: 0x7fff0002, zero: 0x7fff0003, time: 0x7fff0004, printValue: 0x7fff0005, systemBase: 0x7ffe0000, catBase: 0x7ffd0000, joinBase: 0x7ffc0000 } as const;

const r8 = (n: number) => (n + 7) & ~7;
const slotSize = (t: TType) => r8(typeSize(t));
/** join(): up to 16 strings of 64 bytes each (bpftrace reads 16 argument pointers) */
export const JOIN_ARGS = 16, JOIN_ARGSIZE = 64;

export interface MapLayout {
  readonly info: MapInfo;
  readonly bpfType: "hash" | "percpu_hash" | "array" | "perf_event_array";
  readonly keySize: number;
  readonly valueSize: number;
  /** byte offset of each key component */
  readonly keyOffsets: readonly number[];
  /** hist/lhist/avg/stats: the bucket word follows the keys (avg/stats use a 16-byte value instead) */
  readonly bucketed: boolean;
}

export interface RecordLayout {
  readonly pieces: ReturnType<typeof parseFormat>;
  readonly args: readonly { readonly type: TType; readonly off: number }[];
}

export interface CompiledProbe {
  readonly probe: ResolvedProbe;
  readonly progType: "raw_tracepoint" | "tracepoint" | "kprobe" | "perf_event";
  readonly insns: Insn[];
  readonly name: string;
}

export interface KernelMapDecl {
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly name: string;
}

export interface Compiled {
  readonly programs: CompiledProbe[];
  /** every BPF map, by index (lddw imm): user maps first, then the perf buffer, then the start-time array */
  readonly mapDecls: KernelMapDecl[];
  readonly maps: MapLayout[];
  readonly perfMap: number;
  readonly startMap: number;
  readonly printfs: RecordLayout[];
  readonly systems: RecordLayout[];
  readonly times: string[];
  readonly printValues: TType[];
  readonly cats: RecordLayout[];
  /** join() delimiters, by join id */
  readonly joins: string[];
  /** stack_trace maps by frame limit (lddw index) */
  readonly stackMaps: ReadonlyMap<number, number>;
  readonly attachCount: number;
}

export interface CompileOptions {
  readonly cpid?: number;
  readonly params?: readonly string[];
  readonly ncpus?: number;
}

export function layoutMap(info: MapInfo): MapLayout {
  const v = info.value;
  const bucketed = v.k === "agg" && (v.fn === "hist" || v.fn === "lhist");
  const keyOffsets: number[] = [];
  let size = 0;
  for (const k of info.keys) { keyOffsets.push(size); size += slotSize(k); }
  if (bucketed) size += 8;
  if (size === 0) size = 8;
  const valueSize = v.k === "agg" ? (["min", "max", "avg", "stats"].includes(v.fn) ? 16 : 8) : slotSize(v);
  return { info, bpfType: v.k === "agg" ? "percpu_hash" : "hash", keySize: size, valueSize, keyOffsets, bucketed };
}

export function compile(checked: Checked, opts: CompileOptions = {}): Compiled {
  const maps = checked.maps.map(layoutMap);
  const mapDecls: KernelMapDecl[] = maps.map((m) => ({
    type: m.bpfType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: MAX_MAP_ENTRIES, name: m.info.name === "@" ? "AT_" : `AT_${m.info.name.slice(1)}`.slice(0, 15),
  }));
  const perfMap = mapDecls.length;
  mapDecls.push({ type: "perf_event_array", keySize: 4, valueSize: 4, maxEntries: opts.ncpus ?? 1, name: "printf" });
  const startMap = mapDecls.length;
  mapDecls.push({ type: "array", keySize: 4, valueSize: 8, maxEntries: 1, name: "elapsed" });
  const stackMaps = new Map<number, number>();
  let join = false;
  for (const [e, t] of checked.types) {
    if (t.k === "stack" && !stackMaps.has(t.limit)) {
      stackMaps.set(t.limit, mapDecls.length);
      mapDecls.push({ type: "stack_trace", keySize: 4, valueSize: 8 * t.limit, maxEntries: MAX_MAP_ENTRIES, name: `stack_${t.limit}` });
    }
    if (e.kind === "call" && e.name === "join") join = true;
  }
  const joinMap = join ? mapDecls.length : -1;
  if (join) mapDecls.push({ type: "percpu_array", keySize: 4, valueSize: 8 + JOIN_ARGS * JOIN_ARGSIZE, maxEntries: 1, name: "join" });
  const shared: Shared = { checked, maps, perfMap, startMap, printfs: [], systems: [], times: [], printValues: [], cats: [], joins: [], stackMaps, joinMap, opts };
  const programs = checked.probes.map((cp, i) => {
    const g = new Gen(shared, cp);
    return { probe: cp.resolved, progType: progTypeOf(cp.resolved), insns: g.program(), name: progName(cp.resolved, i) };
  });
  return { programs, mapDecls, maps, perfMap, startMap, printfs: shared.printfs, systems: shared.systems, times: shared.times, printValues: shared.printValues, cats: shared.cats, joins: shared.joins, stackMaps, attachCount: checked.attachCount };
}

function progName(p: ResolvedProbe, i: number): string {
  return (p.kind === "BEGIN" || p.kind === "END" ? p.kind : `${p.kind}_${p.func}`).replace(/[^\w]/g, "_").slice(0, 15 - String(i).length) + (p.kind === "BEGIN" || p.kind === "END" ? "" : String(i));
}

function progTypeOf(p: ResolvedProbe): CompiledProbe["progType"] {
  switch (p.kind) {
    case "tracepoint": return "tracepoint";
    case "uprobe": case "uretprobe": case "kprobe": case "kretprobe": case "usdt": return "kprobe";
    case "profile": case "interval": case "software": case "hardware": return "perf_event";
    default: return "raw_tracepoint";
  }
}

/** What every probe's generator shares: the script-wide tables it fills (as `Compiled` returns them) and more. */
interface Shared extends Pick<Compiled, "maps" | "perfMap" | "startMap" | "printfs" | "systems" | "times" | "printValues" | "cats" | "joins" | "stackMaps"> {
  readonly checked: Checked;
  readonly joinMap: number;
  readonly opts: CompileOptions;
}

// x86-64 struct pt_regs offsets: di, si, dx, cx, r8, r9; ax (return value)
const PT_REGS_ARG = [112, 104, 96, 88, 72, 64];
const PT_REGS_RC = 80;

const H = { lookup: 1, update: 2, delete: 3, ktimeGetNs: 5, prandom: 7, smpProcessorId: 8, pidTgid: 14, uidGid: 15, comm: 16, perfOutput: 25, getStackid: 27, currentTask: 35, probeReadStr: 45, cgroupId: 80, sendSignal: 109, probeReadUser: 112, probeReadKernel: 113, probeReadKernelStr: 115, probeReadUserStr: 114 };

interface Label { pc: number }

class Gen {
  private readonly out: Insn[] = [];
  private readonly fixups: { at: number; label: Label }[] = [];
  private sp = 0;
  private readonly vars = new Map<string, { off: number; type: TType }>();
  private readonly exitLabel: Label = { pc: -1 };
  private readonly loops: { brk: Label; cont: Label }[] = [];

  constructor(private readonly s: Shared, private readonly cp: CheckedProbe) {}

  private fail(msg: string, e?: { loc: Expr["loc"] }): never { throw new TraceError(msg, e?.loc); }

  private emit(...xs: Insn[]): void { this.out.push(...xs); }
  private label(): Label { return { pc: -1 }; }
  private bind(l: Label): void { l.pc = this.out.length; }
  private jmp(code: number, dst: number, src: number, imm: number, l: Label): void {
    this.fixups.push({ at: this.out.length, label: l });
    this.out.push(insn(code, dst, src, 0, imm));
  }
  private alloc(size: number): number {
    this.sp += r8(size);
    if (this.sp > 512) this.fail(`${this.cp.resolved.name}: the program needs more than the 512 bytes of BPF stack`);
    return -this.sp;
  }
  private scoped<T>(f: () => T): T {
    const mark = this.sp;
    try { return f(); } finally { this.sp = mark; }
  }
  private type(e: Expr): TType { return this.s.checked.types.get(e) ?? INT64; }
  private ldMap(reg: number, idx: number): void { this.emit(insn(0x18, reg, BPF_PSEUDO_MAP_FD, 0, idx), insn(0)); }
  private lea(reg: number, off: number): void { this.emit(insn(0xbf, reg, 10), insn(0x07, reg, 0, 0, off)); }
  private zero(off: number, size: number): void { for (let i = 0; i < r8(size); i += 8) this.emit(insn(0x7a, 10, 0, off + i, 0)); }
  private mov64(reg: number, v: bigint): void {
    const x = BigInt.asIntN(64, v);
    if (x >= -(1n << 31n) && x < 1n << 31n) this.emit(insn(0xb7, reg, 0, 0, Number(x)));
    else {
      const u = BigInt.asUintN(64, v);
      this.emit(insn(0x18, reg, 0, 0, Number(BigInt.asIntN(32, u & 0xffffffffn))), insn(0, 0, 0, 0, Number(BigInt.asIntN(32, u >> 32n))));
    }
  }

  program(): Insn[] {
    this.emit(insn(0xbf, 6, 1)); // r6 = ctx
    this.collectVars(this.cp.probe.block);
    for (const v of this.vars.values()) this.zero(v.off, slotSize(v.type));
    const p = this.cp.probe;
    if (p.pred) {
      this.scoped(() => this.int(p.pred!));
      this.jmp(0x15, 0, 0, 0, this.exitLabel);
    }
    this.stmts(p.block);
    this.bind(this.exitLabel);
    this.emit(insn(0xb7, 0, 0, 0, 0), insn(0x95));
    for (const f of this.fixups) {
      const ins = this.out[f.at]!;
      this.out[f.at] = { ...ins, off: f.label.pc - f.at - 1 };
    }
    return this.out;
  }

  private collectVars(ss: readonly Stmt[]): void {
    const seen = new Map<string, TType>();
    const walk = (ss: readonly Stmt[]) => {
      for (const s of ss) {
        if (s.kind === "assignVar") {
          const t = this.type(s.v);
          const old = seen.get(s.v.name);
          if (!old || (t.k === "str" && old.k === "str" && t.size > old.size)) seen.set(s.v.name, t);
        } else if (s.kind === "if") { walk(s.then); if (s.else) walk(s.else); }
        else if (s.kind === "unroll" || s.kind === "while") walk(s.body);
      }
    };
    walk(ss);
    for (const [name, type] of seen) this.vars.set(name, { off: this.alloc(slotSize(type)), type });
  }

  private stmts(ss: readonly Stmt[]): void { for (const s of ss) this.scoped(() => this.stmt(s)); }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case "expr": {
        const e = s.expr;
        if (e.kind === "call") { this.callStmt(e); return; }
        if (isAggregate(this.type(e))) { const off = this.alloc(slotSize(this.type(e))); this.strInto(e, off, slotSize(this.type(e))); return; }
        this.int(e);
        return;
      }
      case "assignVar": {
        const v = this.vars.get(s.v.name)!;
        if (isAggregate(v.type)) { this.strInto(s.value, v.off, slotSize(v.type)); return; }
        if (s.compound) this.int({ kind: "binop", op: s.compound, left: s.v, right: s.value, loc: s.loc, opLoc: s.loc });
        else this.int(s.value);
        this.emit(insn(0x7b, 10, 0, v.off));
        return;
      }
      case "assignMap": this.assignMap(s); return;
      case "if": {
        const els = this.label(), end = this.label();
        this.scoped(() => this.int(s.cond));
        this.jmp(0x15, 0, 0, 0, els);
        this.stmts(s.then);
        if (s.else) this.jmp(0x05, 0, 0, 0, end);
        this.bind(els);
        if (s.else) { this.stmts(s.else); this.bind(end); }
        return;
      }
      case "unroll": for (let i = 0; i < s.count; i++) this.stmts(s.body); return;
      case "while": {
        const top = this.label(), end = this.label();
        this.bind(top);
        this.scoped(() => this.int(s.cond));
        this.jmp(0x15, 0, 0, 0, end);
        this.loops.push({ brk: end, cont: top });
        this.stmts(s.body);
        this.loops.pop();
        this.jmp(0x05, 0, 0, 0, top);
        this.bind(end);
        return;
      }
      case "jump": {
        if (s.which === "return") { this.jmp(0x05, 0, 0, 0, this.exitLabel); return; }
        const l = this.loops[this.loops.length - 1];
        if (!l) this.fail(`'${s.which}' statement is not allowed outside of a loop`, s);
        this.jmp(0x05, 0, 0, 0, s.which === "break" ? l.brk : l.cont);
        return;
      }
    }
  }

  // ---- maps
  private layout(name: string): MapLayout { return this.s.maps.find((m) => m.info.name === name)!; }

  /** Builds the key in a new stack buffer; with `bucket`, r0 holds the bucket number on entry... (stored last). */
  private key(m: Extract<Expr, { kind: "map" }>, bucketSlot?: number): number {
    const L = this.layout(m.name);
    const off = this.alloc(L.keySize);
    if (m.keys.length === 0 || L.keyOffsets.length === 0) this.zero(off, L.keySize);
    m.keys.forEach((k, i) => {
      const t = L.info.keys[i] ?? INT64;
      const at = off + L.keyOffsets[i]!;
      if (isAggregate(t)) this.strInto(k, at, slotSize(t));
      else { this.scoped(() => this.int(k)); this.emit(insn(0x7b, 10, 0, at)); }
    });
    if (bucketSlot !== undefined) {
      this.emit(insn(0x79, 1, 10, bucketSlot), insn(0x7b, 10, 1, off + L.keySize - 8));
    }
    return off;
  }

  private lookup(mapIdx: number, keyOff: number): void {
    this.ldMap(1, mapIdx);
    this.lea(2, keyOff);
    this.emit(insn(0x85, 0, 0, 0, H.lookup));
  }
  private update(mapIdx: number, keyOff: number, valOff: number): void {
    this.ldMap(1, mapIdx);
    this.lea(2, keyOff);
    this.lea(3, valOff);
    this.emit(insn(0xb7, 4, 0, 0, 0), insn(0x85, 0, 0, 0, H.update));
  }

  private assignMap(s: Extract<Stmt, { kind: "assignMap" }>): void {
    const L = this.layout(s.map.name);
    const idx = L.info.index;
    const v = s.value;
    const agg = L.info.value.k === "agg" ? L.info.value : undefined;
    if (agg && v.kind === "call" && !s.compound) {
      const arg = this.alloc(8);
      if (v.args[0]) { this.scoped(() => this.int(v.args[0]!)); this.emit(insn(0x7b, 10, 0, arg)); }
      else this.emit(insn(0x7a, 10, 0, arg, 1));
      let bucket: number | undefined;
      if (agg.fn === "hist" || agg.fn === "lhist") {
        bucket = this.alloc(8);
        this.emit(insn(0x79, 1, 10, arg));
        if (agg.fn === "hist") this.histSlot(); else this.lhistSlot(L.info.lhist!);
        this.emit(insn(0x7b, 10, 0, bucket), insn(0x7a, 10, 0, arg, 1));
      }
      const k = this.key(s.map, bucket);
      this.lookup(idx, k);
      const fresh = this.label(), done = this.label();
      this.jmp(0x15, 0, 0, 0, fresh);
      this.emit(insn(0x79, 2, 10, arg));
      switch (agg.fn) {
        case "count": case "sum": case "hist": case "lhist":
          this.emit(insn(0x79, 1, 0, 0), insn(0x0f, 1, 2), insn(0x7b, 0, 1, 0));
          break;
        case "avg": case "stats":
          this.emit(insn(0x79, 1, 0, 0), insn(0x07, 1, 0, 0, 1), insn(0x7b, 0, 1, 0));
          this.emit(insn(0x79, 1, 0, 8), insn(0x0f, 1, 2), insn(0x7b, 0, 1, 8));
          break;
        case "min": case "max": {
          const write = this.label();
          this.emit(insn(0x79, 3, 0, 8));
          this.jmp(0x15, 3, 0, 0, write);
          this.emit(insn(0x79, 1, 0, 0));
          // keep the stored value unless the new one is smaller (min) / larger (max)
          const keep = agg.fn === "min" ? (agg.signed ? 0x7d : 0x3d) : (agg.signed ? 0xdd : 0xbd);
          this.jmp(keep, 2, 1, 0, done);
          this.bind(write);
          this.emit(insn(0x7b, 0, 2, 0), insn(0x7a, 0, 0, 8, 1));
          break;
        }
      }
      this.jmp(0x05, 0, 0, 0, done);
      this.bind(fresh);
      const val = this.alloc(L.valueSize);
      this.emit(insn(0x79, 2, 10, arg));
      if (agg.fn === "avg" || agg.fn === "stats") this.emit(insn(0x7a, 10, 0, val, 1), insn(0x7b, 10, 2, val + 8));
      else if (agg.fn === "min" || agg.fn === "max") this.emit(insn(0x7b, 10, 2, val), insn(0x7a, 10, 0, val + 8, 1));
      else this.emit(insn(0x7b, 10, 2, val));
      this.update(idx, k, val);
      this.bind(done);
      return;
    }
    const k = this.key(s.map);
    const val = this.alloc(L.valueSize);
    if (isAggregate(L.info.value)) this.strInto(v, val, L.valueSize);
    else {
      if (s.compound) {
        const cur = this.alloc(8);
        this.readMapInt(idx, k);
        this.emit(insn(0x7b, 10, 0, cur));
        this.scoped(() => this.int(v));
        this.emit(insn(0xbf, 2, 0), insn(0x79, 1, 10, cur));
        this.arith(s.compound, L.info.value.k === "int" && L.info.value.signed);
      } else this.scoped(() => this.int(v));
      this.emit(insn(0x7b, 10, 0, val));
    }
    this.update(idx, k, val);
  }

  /** r0 = the map's u64 at key (0 when absent) */
  private readMapInt(idx: number, keyOff: number): void {
    this.lookup(idx, keyOff);
    const l = this.label();
    this.jmp(0x15, 0, 0, 0, l);
    this.emit(insn(0x79, 0, 0, 0));
    this.bind(l);
  }

  /** r1 = value → r0 = bpftrace's hist slot */
  private histSlot(): void {
    const neg = this.label(), zero = this.label(), done = this.label();
    this.jmp(0xc5, 1, 0, 0, neg);
    this.jmp(0x15, 1, 0, 0, zero);
    this.emit(insn(0xb7, 0, 0, 0, 2));
    for (const shift of [32, 16, 8, 4, 2, 1]) {
      const skip = this.label();
      this.emit(insn(0xbf, 3, 1), insn(0x77, 3, 0, 0, shift));
      this.jmp(0x15, 3, 0, 0, skip);
      this.emit(insn(0xbf, 1, 3), insn(0x07, 0, 0, 0, shift));
      this.bind(skip);
    }
    this.jmp(0x05, 0, 0, 0, done);
    this.bind(neg);
    this.emit(insn(0xb7, 0, 0, 0, 0));
    this.jmp(0x05, 0, 0, 0, done);
    this.bind(zero);
    this.emit(insn(0xb7, 0, 0, 0, 1));
    this.bind(done);
  }

  /** r1 = value → r0 = lhist slot (0 below min, buckets + 1 at or above max) */
  private lhistSlot(b: { min: number; max: number; step: number }): void {
    const buckets = Math.floor((b.max - b.min) / b.step);
    const below = this.label(), above = this.label(), done = this.label();
    this.jmp(0xc5, 1, 0, b.min, below);
    this.jmp(0x75, 1, 0, b.max, above);
    this.emit(insn(0xbf, 0, 1), insn(0x17, 0, 0, 0, b.min), insn(0x37, 0, 0, 0, b.step), insn(0x07, 0, 0, 0, 1));
    this.jmp(0x05, 0, 0, 0, done);
    this.bind(below);
    this.emit(insn(0xb7, 0, 0, 0, 0));
    this.jmp(0x05, 0, 0, 0, done);
    this.bind(above);
    this.emit(insn(0xb7, 0, 0, 0, buckets + 1));
    this.bind(done);
  }

  // ---- calls as statements
  private record(id: number, words: (() => void)[] = []): { off: number; size: number } {
    const size = 8 + words.length * 8;
    const off = this.alloc(size);
    this.mov64(1, BigInt(id));
    this.emit(insn(0x7b, 10, 1, off));
    words.forEach((w, i) => { this.scoped(w); this.emit(insn(0x7b, 10, 0, off + 8 + i * 8)); });
    return { off, size };
  }

  private output(off: number, size: number): void {
    this.emit(insn(0xbf, 1, 6));
    this.ldMap(2, this.s.perfMap);
    this.emit(insn(0xb4, 3, 0, 0, -1)); // BPF_F_CURRENT_CPU
    this.lea(4, off);
    this.emit(insn(0xb7, 5, 0, 0, size), insn(0x85, 0, 0, 0, H.perfOutput));
  }

  private formatted(c: Extract<Expr, { kind: "call" }>, list: RecordLayout[], base: number): void {
    const fmt = c.args[0] as Extract<Expr, { kind: "str" }>;
    const args: { type: TType; off: number }[] = [];
    let size = 8;
    for (const a of c.args.slice(1)) {
      const t = this.type(a);
      args.push({ type: t, off: size });
      size += slotSize(t);
    }
    const id = list.length;
    list.push({ pieces: parseFormat(fmt.value), args });
    const off = this.alloc(size);
    this.mov64(1, BigInt(base + id));
    this.emit(insn(0x7b, 10, 1, off));
    c.args.slice(1).forEach((a, i) => {
      const { type, off: at } = args[i]!;
      if (isAggregate(type)) this.strInto(a, off + at, slotSize(type));
      else { this.scoped(() => this.int(a)); this.emit(insn(0x7b, 10, 0, off + at)); }
    });
    this.output(off, size);
  }

  private callStmt(c: Extract<Expr, { kind: "call" }>): void {
    switch (c.name) {
      case "printf": this.formatted(c, this.s.printfs, 0); return;
      case "system": this.formatted(c, this.s.systems, EV.systemBase); return;
      case "cat": this.formatted(c, this.s.cats, EV.catBase); return;
      case "join": this.join(c); return;
      case "signal": {
        const a = c.args[0]!;
        if (a.kind === "str") this.emit(insn(0xb7, 1, 0, 0, signalNumber(a.value) ?? 0));
        else { this.int(a); this.emit(insn(0xbf, 1, 0)); }
        this.emit(insn(0x85, 0, 0, 0, H.sendSignal));
        return;
      }
      case "exit": {
        const r = this.record(EV.exit);
        this.output(r.off, r.size);
        this.jmp(0x05, 0, 0, 0, this.exitLabel);
        return;
      }
      case "time": {
        const f = c.args[0];
        this.s.times.push(f && f.kind === "str" ? f.value : "%H:%M:%S\n");
        const idx = this.s.times.length - 1;
        const r = this.record(EV.time, [() => this.emit(insn(0xb7, 0, 0, 0, idx))]);
        this.output(r.off, r.size);
        return;
      }
      case "print": {
        const a = c.args[0]!;
        if (a.kind === "map") {
          const idx = this.layout(a.name).info.index;
          const r = this.record(EV.print, [
            () => this.emit(insn(0xb7, 0, 0, 0, idx)),
            () => (c.args[1] ? this.int(c.args[1]) : this.emit(insn(0xb7, 0, 0, 0, 0))),
            () => (c.args[2] ? this.int(c.args[2]) : this.emit(insn(0xb7, 0, 0, 0, 0))),
          ]);
          this.output(r.off, r.size);
          return;
        }
        const t = this.type(a);
        this.s.printValues.push(t);
        const id = this.s.printValues.length - 1;
        const size = 16 + slotSize(t);
        const off = this.alloc(size);
        this.mov64(1, BigInt(EV.printValue));
        this.emit(insn(0x7b, 10, 1, off), insn(0x7a, 10, 0, off + 8, id));
        if (isAggregate(t)) this.strInto(a, off + 16, slotSize(t));
        else { this.scoped(() => this.int(a)); this.emit(insn(0x7b, 10, 0, off + 16)); }
        this.output(off, size);
        return;
      }
      case "clear": case "zero": {
        const a = c.args[0] as Extract<Expr, { kind: "map" }>;
        const idx = this.layout(a.name).info.index;
        const r = this.record(c.name === "clear" ? EV.clear : EV.zero, [() => this.emit(insn(0xb7, 0, 0, 0, idx))]);
        this.output(r.off, r.size);
        return;
      }
      case "delete": {
        const a = c.args[0] as Extract<Expr, { kind: "map" }>;
        const L = this.layout(a.name);
        const k = this.key(a);
        this.ldMap(1, L.info.index);
        this.lea(2, k);
        this.emit(insn(0x85, 0, 0, 0, H.delete));
        return;
      }
      default:
        this.int(c);
    }
  }

  // ---- integer expressions: result in r0
  private arith(op: string, signed: boolean): void {
    // r1 op r2 → r0
    const alu: Record<string, number> = { "+": 0x0f, "-": 0x1f, "*": 0x2f, "/": 0x3f, "%": 0x9f, "&": 0x5f, "|": 0x4f, "^": 0xaf, "<<": 0x6f, ">>": 0x7f };
    if (alu[op] !== undefined) { this.emit(insn(alu[op]!, 1, 2), insn(0xbf, 0, 1)); return; }
    const cmp: Record<string, [number, number]> = {
      "==": [0x1d, 0x1d], "!=": [0x5d, 0x5d], "<": [0xad, 0xcd], "<=": [0xbd, 0xdd], ">": [0x2d, 0x6d], ">=": [0x3d, 0x7d],
    };
    const c = cmp[op];
    if (!c) this.fail(`operator ${op} is not supported`);
    this.emit(insn(0xb7, 0, 0, 0, 1), insn(signed ? c[1] : c[0], 1, 2, 1), insn(0xb7, 0, 0, 0, 0));
  }

  int(e: Expr): void {
    switch (e.kind) {
      case "int": this.mov64(0, e.value); return;
      case "param": {
        const v = e.n < 0 ? String(this.s.opts.params?.length ?? 0) : this.s.opts.params?.[e.n - 1] ?? "0";
        this.mov64(0, /^-?\d+$/.test(v) ? BigInt(v) : 0n);
        return;
      }
      case "builtin": this.builtin(e); return;
      case "var": {
        const v = this.vars.get(e.name);
        if (!v) this.fail(`Undefined or undeclared variable: ${e.name}`, e);
        this.emit(insn(0x79, 0, 10, v.off));
        return;
      }
      case "map": {
        const L = this.layout(e.name);
        const k = this.key(e);
        this.readMapInt(L.info.index, k);
        return;
      }
      case "binop": {
        const lt = this.type(e.left), rt = this.type(e.right);
        if (lt.k === "str" && rt.k === "str") { this.strCompare(e.left, e.right, lt.size, rt.size, e.op === "!="); return; }
        if (e.op === "&&" || e.op === "||") {
          const and = e.op === "&&";
          const short = this.label(), done = this.label();
          this.int(e.left);
          this.jmp(and ? 0x15 : 0x55, 0, 0, 0, short);
          this.int(e.right);
          this.jmp(and ? 0x15 : 0x55, 0, 0, 0, short);
          this.emit(insn(0xb7, 0, 0, 0, and ? 1 : 0));
          this.jmp(0x05, 0, 0, 0, done);
          this.bind(short);
          this.emit(insn(0xb7, 0, 0, 0, and ? 0 : 1));
          this.bind(done);
          return;
        }
        const slot = this.alloc(8);
        this.int(e.left);
        this.emit(insn(0x7b, 10, 0, slot));
        this.int(e.right);
        this.emit(insn(0xbf, 2, 0), insn(0x79, 1, 10, slot));
        const signed = lt.k === "int" && rt.k === "int" && lt.signed && rt.signed;
        this.arith(e.op, signed);
        // bpftrace sign-extends a pointer comparison's i1: true is -1
        if ((lt.k === "ptr" || rt.k === "ptr") && ["==", "!=", "<", ">", "<=", ">="].includes(e.op)) this.emit(insn(0x87, 0));
        return;
      }
      case "unop": {
        if (e.op === "++" || e.op === "--") { this.incdec(e); return; }
        if (e.op === "*") {
          const pt = this.type(e.operand);
          this.int(e.operand);
          const size = pt.k === "ptr" && pt.to.k === "int" ? pt.to.bits / 8 : 8;
          this.readAt(size, pt.k === "ptr" && pt.to.k === "int" && pt.to.signed, this.userAddr(e.operand));
          return;
        }
        this.int(e.operand);
        if (e.op === "-") this.emit(insn(0x87, 0));
        else if (e.op === "~") this.emit(insn(0xa7, 0, 0, 0, -1));
        else if (e.op === "!") { this.emit(insn(0xbf, 1, 0), insn(0xb7, 0, 0, 0, 1), insn(0x15, 1, 0, 1, 0), insn(0xb7, 0, 0, 0, 0)); }
        return;
      }
      case "ternary": {
        const els = this.label(), done = this.label();
        this.int(e.cond);
        this.jmp(0x15, 0, 0, 0, els);
        this.int(e.then);
        this.jmp(0x05, 0, 0, 0, done);
        this.bind(els);
        this.int(e.else);
        this.bind(done);
        return;
      }
      case "tuple": this.fail("a tuple is not an integer", e); return;
      case "cast": {
        this.int(e.operand);
        const t = this.type(e);
        if (t.k === "int" && t.bits < 64) {
          const sh = 64 - t.bits;
          this.emit(insn(0x67, 0, 0, 0, sh), insn(t.signed ? 0xc7 : 0x77, 0, 0, 0, sh));
        }
        return;
      }
      case "field": {
        const bt = this.type(e.base);
        if (bt.k === "tuple") { this.scoped(() => { const tmp = this.alloc(slotSize(bt)); this.strInto(e.base, tmp, slotSize(bt)); this.emit(insn(0x79, 0, 10, tmp + this.tupleOffset(bt, Number(e.field)))); }); return; }
        if (!(e.base.kind === "builtin" && e.base.name === "args")) { this.readField(e); return; }
        const f = this.cp.fields?.find((x) => x.name === e.field);
        if (!f) this.fail(`no field ${e.field}`, e);
        const code = f.size === 1 ? 0x71 : f.size === 2 ? 0x69 : f.size === 4 ? 0x61 : 0x79;
        this.emit(insn(code, 0, 6, f.offset));
        if (f.signed && f.size < 8) {
          const sh = 64 - f.size * 8;
          this.emit(insn(0x67, 0, 0, 0, sh), insn(0xc7, 0, 0, 0, sh));
        }
        return;
      }
      case "call": {
        const k = this.s.checked.consts.get(e);
        if (k !== undefined) { this.mov64(0, k); return; }
        if (e.name === "kstack" || e.name === "ustack") { this.stackId(this.type(e)); return; }
        if (e.name === "ksym" || e.name === "usym") { this.int(e.args[0]!); return; }
        if (e.name === "reg") {
          const off = PT_REGS[(e.args[0] as { value: string }).value] ?? 0;
          const kind = this.cp.resolved.kind;
          if (kind === "profile" || kind === "interval" || kind === "software" || kind === "hardware") this.emit(insn(0x79, 0, 6, off));
          else this.emit(insn(0x79, 0, 6, off));
          return;
        }
        if (e.name === "bswap") {
          this.int(e.args[0]!);
          this.emit(insn(0xdc, 0, 0, 0, 64));
          return;
        }
        if (e.name === "strncmp") {
          const a = e.args[0]!, b = e.args[1]!, n = Number((e.args[2] as { value?: bigint }).value ?? 0n);
          this.strCompare(a, b, Math.min(n, this.strSize(a)), Math.min(n, this.strSize(b)), true, n);
          return;
        }
        this.callStmt(e);
        this.emit(insn(0xb7, 0, 0, 0, 0));
        return;
      }
      default:
        this.fail(`bpfkit trace cannot compile this ${e.kind} expression`, e);
    }
  }

  private strSize(e: Expr): number { const t = this.type(e); return t.k === "str" ? t.size : 8; }

  private incdec(e: Extract<Expr, { kind: "unop" }>): void {
    const delta = e.op === "++" ? 1 : -1;
    const o = e.operand;
    if (o.kind === "var") {
      const v = this.vars.get(o.name)!;
      this.emit(insn(0x79, 0, 10, v.off), insn(0xbf, 1, 0), insn(0x07, 1, 0, 0, delta), insn(0x7b, 10, 1, v.off));
      if (!e.post) this.emit(insn(0xbf, 0, 1));
      return;
    }
    if (o.kind !== "map") this.fail("The ++ operator must be applied to a map or variable", e);
    const L = this.layout(o.name);
    const k = this.key(o);
    const old = this.alloc(8), val = this.alloc(8);
    this.readMapInt(L.info.index, k);
    this.emit(insn(0x7b, 10, 0, old), insn(0x07, 0, 0, 0, delta), insn(0x7b, 10, 0, val));
    this.update(L.info.index, k, val);
    this.emit(insn(0x79, 0, 10, e.post ? old : val));
  }

  private builtin(e: Extract<Expr, { kind: "builtin" }>): void {
    const kind = this.cp.resolved.kind;
    const m = /^arg([0-9])$/.exec(e.name);
    if (m) {
      const i = Number(m[1]);
      const usdt = this.cp.resolved.usdtArgs;
      if (usdt) {
        const a = usdt[i];
        if (a === undefined) this.fail(i < usdt.length ? `bpfkit trace cannot read usdt argument ${i} of ${this.cp.resolved.name}` : `usdt probe ${this.cp.resolved.name} has no argument ${i}`, e);
        this.emit(...usdtArgInsns(a!, this.alloc(8)));
        return;
      }
      if (kind === "rawtracepoint") this.emit(insn(0x79, 0, 6, i * 8));
      else if (i < PT_REGS_ARG.length) this.emit(insn(0x79, 0, 6, PT_REGS_ARG[i]!));
      else this.emit(insn(0xb7, 0, 0, 0, 0));
      return;
    }
    switch (e.name) {
      case "pid": this.emit(insn(0x85, 0, 0, 0, H.pidTgid), insn(0x77, 0, 0, 0, 32)); return;
      case "tid": this.emit(insn(0x85, 0, 0, 0, H.pidTgid), insn(0xbc, 0, 0)); return;
      case "uid": this.emit(insn(0x85, 0, 0, 0, H.uidGid), insn(0xbc, 0, 0)); return;
      case "gid": this.emit(insn(0x85, 0, 0, 0, H.uidGid), insn(0x77, 0, 0, 0, 32)); return;
      case "cpu": this.emit(insn(0x85, 0, 0, 0, H.smpProcessorId)); return;
      case "nsecs": this.emit(insn(0x85, 0, 0, 0, H.ktimeGetNs)); return;
      case "rand": this.emit(insn(0x85, 0, 0, 0, H.prandom)); return;
      case "cpid": this.mov64(0, BigInt(this.s.opts.cpid ?? 0)); return;
      case "cgroup": this.emit(insn(0x85, 0, 0, 0, H.cgroupId)); return;
      case "username": this.emit(insn(0x85, 0, 0, 0, H.uidGid), insn(0xbc, 0, 0)); return;
      case "curtask": this.emit(insn(0x85, 0, 0, 0, H.currentTask)); return;
      case "ctx": this.emit(insn(0xbf, 0, 6)); return;
      case "kstack": case "ustack": this.stackId(this.type(e)); return;
      case "retval": this.emit(insn(0x79, 0, 6, PT_REGS_RC)); return;
      case "elapsed": {
        const k = this.alloc(8);
        this.emit(insn(0x7a, 10, 0, k, 0));
        this.lookup(this.s.startMap, k);
        const l = this.label();
        this.emit(insn(0xbf, 7, 0));
        this.emit(insn(0x85, 0, 0, 0, H.ktimeGetNs));
        this.jmp(0x15, 7, 0, 0, l);
        this.emit(insn(0x79, 1, 7, 0), insn(0x1f, 0, 1));
        this.bind(l);
        return;
      }
      default:
        this.fail(`bpfkit trace cannot use ${e.name} as an integer`, e);
    }
  }

  // ---- strings: written zero-padded into [off, off + size)
  strInto(e: Expr, off: number, size: number): void {
    const t = this.type(e);
    if ((t.k !== "str" || e.kind === "field") && this.aggregateInto(e, t, off, size)) return;
    switch (e.kind) {
      case "str": {
        const b = new Uint8Array(r8(size));
        b.set(new TextEncoder().encode(e.value).subarray(0, size - 1));
        const dv = new DataView(b.buffer);
        for (let i = 0; i < size; i += 4) this.emit(insn(0x62, 10, 0, off + i, dv.getInt32(i, true)));
        return;
      }
      case "builtin":
        if (e.name === "comm") {
          this.zero(off, size);
          this.lea(1, off);
          this.emit(insn(0xb7, 2, 0, 0, Math.min(16, size)), insn(0x85, 0, 0, 0, H.comm));
          return;
        }
        if (e.name === "probe") { this.strInto({ kind: "str", value: this.cp.resolved.name, loc: e.loc }, off, size); return; }
        if (e.name === "func") { this.strInto({ kind: "str", value: this.cp.resolved.func, loc: e.loc }, off, size); return; }
        if (e.name === "username") { this.fail("username is not supported", e); }
        break;
      case "var": {
        const v = this.vars.get(e.name)!;
        this.copyWords(10, v.off, off, Math.min(size, slotSize(v.type)), size);
        return;
      }
      case "map": {
        const L = this.layout(e.name);
        const k = this.key(e);
        this.lookup(L.info.index, k);
        const none = this.label(), done = this.label();
        this.jmp(0x15, 0, 0, 0, none);
        this.copyWords(0, 0, off, Math.min(size, L.valueSize), size);
        this.jmp(0x05, 0, 0, 0, done);
        this.bind(none);
        this.zero(off, size);
        this.bind(done);
        return;
      }
      case "ternary": {
        const els = this.label(), done = this.label();
        this.scoped(() => this.int(e.cond));
        this.jmp(0x15, 0, 0, 0, els);
        this.strInto(e.then, off, size);
        this.jmp(0x05, 0, 0, 0, done);
        this.bind(els);
        this.strInto(e.else, off, size);
        this.bind(done);
        return;
      }
      case "field": {
        const f = this.cp.fields?.find((x) => x.name === e.field);
        if (!f) break;
        this.zero(off, size);
        if (f.kind === "data_loc") {
          this.emit(insn(0x61, 3, 6, f.offset), insn(0x57, 3, 0, 0, 0xffff), insn(0x0f, 3, 6));
          this.lea(1, off);
          this.emit(insn(0xb7, 2, 0, 0, size), insn(0x85, 0, 0, 0, H.probeReadKernelStr));
          return;
        }
        this.lea(1, off);
        this.emit(insn(0xb7, 2, 0, 0, Math.min(f.size, size)), insn(0xbf, 3, 6), insn(0x07, 3, 0, 0, f.offset), insn(0x85, 0, 0, 0, H.probeReadKernel));
        return;
      }
      case "call":
        if (e.name === "str") {
          const a = e.args[0]!;
          const at = this.type(a);
          const t = this.type(e);
          const n = Math.min(size, t.k === "str" ? t.size : size);
          if (at.k === "str") { this.scoped(() => { const tmp = this.alloc(slotSize(at)); this.strInto(a, tmp, slotSize(at)); this.copyWords(10, tmp, off, Math.min(slotSize(at), size), size); }); return; }
          this.zero(off, size);
          this.scoped(() => this.int(a));
          this.emit(insn(0xbf, 3, 0));
          this.lea(1, off);
          const user = ["uprobe", "uretprobe", "usdt"].includes(this.cp.resolved.kind) || (this.cp.resolved.kind === "tracepoint" && this.cp.resolved.target === "syscalls");
          this.emit(insn(0xb7, 2, 0, 0, n), insn(0x85, 0, 0, 0, user ? H.probeReadUserStr : H.probeReadKernelStr));
          return;
        }
        break;
    }
    this.fail(`bpfkit trace cannot use this ${e.kind} as a string`, e);
  }

  /** tuples, usym, inet, buf and field reads written into [off, off + size); false when `e` is a plain location (variable, map) */
  private aggregateInto(e: Expr, t: TType, off: number, size: number): boolean {
    if (e.kind === "tuple" && t.k === "tuple") {
      this.zero(off, size);
      e.elems.forEach((x, i) => {
        const et = t.elems[i]!, at = off + this.tupleOffset(t, i);
        if (isAggregate(et)) this.strInto(x, at, slotSize(et));
        else { this.scoped(() => this.int(x)); this.emit(insn(0x7b, 10, 0, at)); }
      });
      return true;
    }
    if ((e.kind === "call" && e.name === "usym") || (e.kind === "builtin" && e.name === "func")) {
      if (e.kind === "call") this.scoped(() => this.int(e.args[0]!));
      else this.emit(insn(0x79, 0, 6, PT_REGS.ip!));
      this.emit(insn(0x7b, 10, 0, off), insn(0x85, 0, 0, 0, H.pidTgid), insn(0x77, 0, 0, 0, 32), insn(0x7b, 10, 0, off + 8));
      return true;
    }
    if (e.kind === "call" && e.name === "ntop") {
      this.zero(off, size);
      const a = e.args[e.args.length - 1]!;
      const at = this.type(a);
      if (e.args.length === 2) this.scoped(() => this.int(e.args[0]!));
      else this.emit(insn(0xb7, 0, 0, 0, at.k === "str" && at.size === 16 ? 10 : 2));
      this.emit(insn(0x7b, 10, 0, off));
      if (at.k === "str") this.scoped(() => { const tmp = this.alloc(slotSize(at)); this.strInto(a, tmp, slotSize(at)); this.copyWords(10, tmp, off + 8, at.size, 16); });
      else { this.scoped(() => this.int(a)); this.emit(insn(0x63, 10, 0, off + 8)); }
      return true;
    }
    if (e.kind === "call" && e.name === "buf") {
      const n = (t as { size: number }).size - 1;
      this.zero(off, size);
      const a = e.args[0]!;
      const at = this.type(a);
      this.emit(insn(0x72, 10, 0, off, n));
      if (at.k === "str") { this.scoped(() => { const tmp = this.alloc(slotSize(at)); this.strInto(a, tmp, slotSize(at)); for (let i = 0; i < n && i < at.size; i++) this.emit(insn(0x71, 1, 10, tmp + i), insn(0x73, 10, 1, off + 1 + i)); }); return true; }
      this.scoped(() => this.int(a));
      this.emit(insn(0xbf, 3, 0));
      this.lea(1, off + 1);
      this.emit(insn(0xb7, 2, 0, 0, n), insn(0x85, 0, 0, 0, this.userAddr(a) ? H.probeReadUser : H.probeReadKernel));
      return true;
    }
    if (e.kind === "field" && !(e.base.kind === "builtin" && e.base.name === "args")) {
      const bt = this.type(e.base);
      if (bt.k === "tuple") {
        this.scoped(() => { const tmp = this.alloc(slotSize(bt)); this.strInto(e.base, tmp, slotSize(bt)); this.copyWords(10, tmp + this.tupleOffset(bt, Number(e.field)), off, size, size); });
        return true;
      }
      if (t.k === "str") {
        this.zero(off, size);
        this.scoped(() => this.fieldAddr(e));
        this.emit(insn(0xbf, 3, 0));
        this.lea(1, off);
        this.emit(insn(0xb7, 2, 0, 0, Math.min(size, t.size)), insn(0x85, 0, 0, 0, this.userAddr(e) ? H.probeReadUser : H.probeReadKernel));
        return true;
      }
    }
    return false;
  }

  private tupleOffset(t: Extract<TType, { k: "tuple" }>, i: number): number {
    let o = 0;
    for (let j = 0; j < i; j++) o += slotSize(t.elems[j]!);
    return o;
  }

  /** r0 = a stack id from bpf_get_stackid (ustack: the pid in the upper 32 bits, as bpftrace keeps it) */
  private stackId(t: TType): void {
    if (t.k !== "stack") this.fail("not a stack");
    this.emit(insn(0xbf, 1, 6));
    this.ldMap(2, this.s.stackMaps.get(t.limit)!);
    this.emit(insn(0xb7, 3, 0, 0, t.user ? 256 : 0), insn(0x85, 0, 0, 0, H.getStackid));
    this.emit(insn(0x67, 0, 0, 0, 32), insn(0x77, 0, 0, 0, 32));
    if (t.user) {
      this.emit(insn(0xbf, 7, 0), insn(0x85, 0, 0, 0, H.pidTgid), insn(0x77, 0, 0, 0, 32), insn(0x67, 0, 0, 0, 32), insn(0x4f, 0, 7));
    }
  }

  /** whether the pointer an expression yields is a user-space address (bpftrace's address spaces, simplified) */
  private userAddr(e: Expr): boolean {
    for (let x: Expr | undefined = e; x;) {
      if (x.kind === "builtin") {
        if (x.name === "curtask" || x.name === "ctx") return false;
        break;
      }
      if (x.kind === "call") { if (x.name === "kaddr") return false; if (x.name === "uaddr") return true; break; }
      x = x.kind === "cast" ? x.operand : x.kind === "field" ? x.base : x.kind === "unop" ? x.operand : undefined;
    }
    const k = this.cp.resolved.kind;
    return ["uprobe", "uretprobe", "usdt"].includes(k) || (k === "tracepoint" && this.cp.resolved.target === "syscalls");
  }

  /** r0 = the address of a struct member reached through `->` / `.` */
  private fieldAddr(e: Expr): void {
    if (e.kind === "field") {
      const bt = this.type(e.base);
      const rec = bt.k === "ptr" ? bt.to : bt;
      if (rec.k !== "record") this.fail(`cannot take the address of this field`, e);
      const f = this.s.checked.ctypes.field(rec, e.field);
      if (!f) this.fail(`no field ${e.field}`, e);
      if (e.arrow) this.int(e.base); else this.fieldAddr(e.base);
      if (f.offset) this.emit(insn(0x07, 0, 0, 0, f.offset));
      return;
    }
    if (e.kind === "unop" && e.op === "*") { this.int(e.operand); return; }
    this.int(e);
  }

  /** r0 = the integer at address r0 (`size` bytes, sign-extended when signed), read with bpf_probe_read_{user,kernel} */
  private readAt(size: number, signed: boolean, user: boolean): void {
    const tmp = this.alloc(8);
    this.emit(insn(0x7a, 10, 0, tmp, 0), insn(0xbf, 3, 0));
    this.lea(1, tmp);
    this.emit(insn(0xb7, 2, 0, 0, size), insn(0x85, 0, 0, 0, user ? H.probeReadUser : H.probeReadKernel));
    const code = size === 1 ? 0x71 : size === 2 ? 0x69 : size === 4 ? 0x61 : 0x79;
    this.emit(insn(code, 0, 10, tmp));
    if (signed && size < 8) { const sh = 64 - size * 8; this.emit(insn(0x67, 0, 0, 0, sh), insn(0xc7, 0, 0, 0, sh)); }
  }

  private readField(e: Extract<Expr, { kind: "field" }>): void {
    const bt = this.type(e.base);
    const rec = bt.k === "ptr" ? bt.to : bt;
    const f = rec.k === "record" ? this.s.checked.ctypes.field(rec, e.field) : undefined;
    if (!f) this.fail(`no field ${e.field}`, e);
    // ctx->member: a direct context load
    if (e.arrow && e.base.kind === "builtin" && e.base.name === "ctx" && (f.size === 8 || f.size === 4)) {
      this.emit(insn(f.size === 8 ? 0x79 : 0x61, 0, 6, f.offset));
      return;
    }
    this.scoped(() => {
      this.fieldAddr(e);
      this.readAt(f.size > 8 ? 8 : f.size, f.type.k === "int" && f.type.signed, this.userAddr(e));
    });
  }

  private join(c: Extract<Expr, { kind: "call" }>): void {
    const delim = c.args[1] && c.args[1].kind === "str" ? c.args[1].value : " ";
    this.s.joins.push(delim);
    const id = this.s.joins.length - 1;
    const user = this.userAddr(c.args[0]!);
    this.scoped(() => {
      const arr = this.alloc(8), key = this.alloc(8);
      this.int(c.args[0]!);
      this.emit(insn(0x7b, 10, 0, arr), insn(0x7a, 10, 0, key, 0));
      this.lookup(this.s.joinMap, key);
      const out = this.label();
      this.jmp(0x15, 0, 0, 0, out);
      this.emit(insn(0xbf, 7, 0));
      this.mov64(1, BigInt(EV.joinBase + id));
      this.emit(insn(0x7b, 7, 1, 0));
      const done = this.label();
      for (let i = 0; i < JOIN_ARGS; i++) {
        const o = 8 + i * JOIN_ARGSIZE;
        this.emit(insn(0x72, 7, 0, o, 0));
      }
      for (let i = 0; i < JOIN_ARGS; i++) {
        const o = 8 + i * JOIN_ARGSIZE;
        // the i-th pointer of the array, then the string it points to
        this.emit(insn(0x79, 3, 10, arr), insn(0x07, 3, 0, 0, i * 8), insn(0xbf, 1, 10), insn(0x07, 1, 0, 0, key), insn(0xb7, 2, 0, 0, 8));
        this.emit(insn(0x85, 0, 0, 0, user ? H.probeReadUser : H.probeReadKernel));
        this.emit(insn(0x79, 3, 10, key));
        this.jmp(0x15, 3, 0, 0, done);
        this.emit(insn(0xbf, 1, 7), insn(0x07, 1, 0, 0, o), insn(0xb7, 2, 0, 0, JOIN_ARGSIZE));
        this.emit(insn(0x85, 0, 0, 0, user ? H.probeReadUserStr : H.probeReadKernelStr));
      }
      this.bind(done);
      this.emit(insn(0xbf, 1, 6));
      this.ldMap(2, this.s.perfMap);
      this.emit(insn(0xb4, 3, 0, 0, -1), insn(0xbf, 4, 7), insn(0xb7, 5, 0, 0, 8 + JOIN_ARGS * JOIN_ARGSIZE), insn(0x85, 0, 0, 0, H.perfOutput));
      this.bind(out);
    });
  }

  /** copies `n` bytes (rounded to words) from [base + from] to the stack at `to`, zero-filling up to `size` */
  private copyWords(base: number, from: number, to: number, n: number, size: number): void {
    const words = r8(n);
    for (let i = 0; i < words && i < size; i += 8) this.emit(insn(0x79, 1, base, from + i), insn(0x7b, 10, 1, to + i));
    for (let i = words; i < r8(size); i += 8) this.emit(insn(0x7a, 10, 0, to + i, 0));
  }

  private strCompare(a: Expr, b: Expr, sa: number, sb: number, negate: boolean, limit?: number): void {
    const size = r8(Math.max(sa, sb, 8));
    const A = this.alloc(size), B = this.alloc(size);
    this.strInto(a, A, size);
    this.strInto(b, B, size);
    const ne = this.label(), done = this.label();
    const bytes = limit ?? size;
    let i = 0;
    for (; i + 8 <= bytes && i < size; i += 8) {
      this.emit(insn(0x79, 1, 10, A + i), insn(0x79, 2, 10, B + i));
      this.jmp(0x5d, 1, 2, 0, ne);
    }
    for (; i < bytes && i < size; i++) {
      this.emit(insn(0x71, 1, 10, A + i), insn(0x71, 2, 10, B + i));
      this.jmp(0x5d, 1, 2, 0, ne);
    }
    this.emit(insn(0xb7, 0, 0, 0, negate ? 0 : 1));
    this.jmp(0x05, 0, 0, 0, done);
    this.bind(ne);
    this.emit(insn(0xb7, 0, 0, 0, negate ? 1 : 0));
    this.bind(done);
  }
}
