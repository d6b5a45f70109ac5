// The playground's computations, with no DOM: each function takes what a tab's inputs hold and returns the text the
// matching `bpfkit` command prints (filter -d, verify, run, trace on the VM) plus what the page draws (DOT graphs,
// failing path, maps).
// Imports only the pure core, so the page, the browser tests and the Node side of the bench run exactly this code.
import { BpfError, isBpfError } from "../../src/errors.ts";
import { compileFilter, compileOfflineFilterJs, linkTypeByFileValue, pcapLeHeader } from "../../src/filter/index.ts";
import { dumpProgram, bpfImage } from "../../src/isa/cbpf/image.ts";
import type { CbpfInsn } from "../../src/isa/cbpf/insn.ts";
import { assembleWithLabels, decodeProgram, formatInsnKernel } from "../../src/isa/ebpf/index.ts";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { openCapture } from "../../src/capture/index.ts";
import { loadObject, xlatedCfg, xlatedDot, xlatedPlain } from "../../src/object/index.ts";
import type { BpfObject, ProgramSpec } from "../../src/object/index.ts";
import { explain, verify } from "../../src/verifier/index.ts";
import type { VerifyResult } from "../../src/verifier/index.ts";
import { AddressSpace } from "../../src/vm/index.ts";
import type { LoadedProgram } from "../../src/vm/index.ts";
import { createEngine, DEFAULT_ENGINE, type EngineKind } from "../../src/jit/index.ts";
import { defaultHelpers, hostEnv } from "../../src/helpers/index.ts";
import { PerfEventArrayMap, RingBufMap } from "../../src/maps/index.ts";
import { PROGRAM_TYPES, System, openObject, refusalLine, testRun } from "../../src/runtime/index.ts";
import type { BpfMap as RuntimeMap, LoadedObject } from "../../src/runtime/index.ts";
import { mapTypeName } from "../../src/maps/index.ts";
import { JsonWriter, dumpBtfValue } from "../../src/btf/index.ts";
import type { Btf } from "../../src/btf/index.ts";
import { compileScript, formatErrors, formatMap, TraceError, TraceErrors, VmTrace } from "../../src/trace/index.ts";
import type { CompiledScript, MapLayout, ProbeEnv, RawEntry } from "../../src/trace/index.ts";
import { deterministicEnv } from "../../src/helpers/index.ts";
import type { HelperEnv } from "../../src/helpers/env.ts";
import { BUNDLED_FORMATS } from "../../src/runtime/attach/tracepoint-formats.ts";
import { parseReplay, type ReplayEvent } from "../../src/runtime/attach/replay.ts";

/** An error placed in the editor: 0-based line and column when the core reported them. */
export interface SourceError { readonly message: string; readonly line?: number; readonly column?: number }

export function sourceError(e: unknown): SourceError {
  if (isBpfError(e)) {
    const l = e.location;
    return { message: e.message, ...(l.line !== undefined ? { line: l.line - 1 } : {}), ...(l.column !== undefined ? { column: l.column } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

// ---------------------------------------------------------------- Filter tab

export interface FilterRequest { readonly expr: string; readonly linktype: string; readonly optimize: boolean; readonly level: 1 | 2 | 3 }
export interface FilterResult {
  /** What `bpfkit filter -y LT [-O] -d EXPR` prints on stdout, or an error. */
  readonly text: string;
  readonly insns: readonly CbpfInsn[];
  readonly dot: string;
  readonly blocks: number;
  readonly error?: SourceError;
  /** The equivalent command line. */
  readonly command: string;
}

const SNAPLEN = 262144;

export function filterCommand(r: FilterRequest): string {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return `bpfkit filter -y ${r.linktype}${r.optimize ? "" : " -O"} -${"d".repeat(r.level)} ${q(r.expr)}`;
}

export function runFilter(r: FilterRequest): FilterResult {
  const command = filterCommand(r);
  try {
    const prog = compileFilter(r.expr, { linktype: r.linktype, optimize: r.optimize, snaplen: SNAPLEN });
    const { dot, blocks } = cbpfDot(prog.insns);
    return { text: dumpProgram(prog.insns, r.level), insns: prog.insns, dot, blocks, command };
  } catch (e) {
    const err = sourceError(e);
    return { text: `bpfkit filter: ${err.message}\n`, insns: [], dot: "", blocks: 0, error: err, command };
  }
}

/** Basic blocks of a classic program: leaders are insn 0, jump targets and the insn after a jump or return. */
export function cbpfBlocks(insns: readonly CbpfInsn[]): number[] {
  const leaders = new Set<number>([0]);
  insns.forEach((x, pc) => {
    const cls = x.code & 7;
    if (cls === 5) {
      if ((x.code & 0xf0) === 0) leaders.add(pc + 1 + x.k);
      else { leaders.add(pc + 1 + x.jt); leaders.add(pc + 1 + x.jf); }
      leaders.add(pc + 1);
    } else if (cls === 6) leaders.add(pc + 1);
  });
  return [...leaders].filter((l) => l < insns.length).sort((a, b) => a - b);
}

const dotEscape = (s: string) => s.replace(/[\\"{}|<>]/g, (c) => "\\" + c);

/** The classic program's control-flow graph in DOT: one record node per basic block (tcpdump -d lines), true edges
 * solid green, false edges dashed red. */
export function cbpfDot(insns: readonly CbpfInsn[]): { dot: string; blocks: number } {
  const leaders = cbpfBlocks(insns);
  let dot = 'digraph "cBPF" {\n\tnode [shape=record];\n';
  leaders.forEach((head, k) => {
    const tail = (leaders[k + 1] ?? insns.length) - 1;
    const lines: string[] = [];
    for (let pc = head; pc <= tail; pc++) lines.push(dotEscape(bpfImage(insns[pc]!, pc).replace(/\s+/g, " ")) + "\\l");
    dot += `\tb${head} [label="{${lines.join("|")}}"];\n`;
    const x = insns[tail]!;
    const cls = x.code & 7;
    if (cls === 5) {
      if ((x.code & 0xf0) === 0) dot += `\tb${head} -> b${tail + 1 + x.k};\n`;
      else {
        dot += `\tb${head} -> b${tail + 1 + x.jt} [color="#1a7f37",label="T"];\n`;
        dot += `\tb${head} -> b${tail + 1 + x.jf} [color="#cf222e",style=dashed,label="F"];\n`;
      }
    } else if (cls !== 6 && tail + 1 < insns.length) dot += `\tb${head} -> b${tail + 1};\n`;
  });
  return { dot: dot + "}\n", blocks: leaders.length };
}

// ---------------------------------------------------------------- captures

export interface PacketRow { readonly n: number; readonly time: string; readonly len: number; readonly summary: string }
export interface CaptureResult {
  readonly matched: number;
  readonly seen: number;
  /** The first matching packets (up to `rows`), summarized. */
  readonly rows: readonly PacketRow[];
  readonly linktype: number;
  readonly error?: string;
}

/** The capture filtered as `bpfkit filter -r FILE --count EXPR` filters it (same compile options, libpcap's
 * interpreter semantics); counts plus a summary of the first matches. */
export function filterCapture(bytes: Uint8Array, expr: string, optimize = true, maxRows = 200): CaptureResult {
  const rows: PacketRow[] = [];
  let matched = 0, seen = 0, linktype = 0;
  try {
    const fast = pcapLeHeader(bytes);
    const cap = openCapture(bytes);
    linktype = cap.info.linktype;
    const row = linkTypeByFileValue(cap.info.linktype);
    const prog = compileFilter(expr, { linktype: row ? row[1] : cap.info.linktype, optimize, snaplen: cap.info.snaplen,
      readingFile: true, swapped: cap.info.byteOrder === "be" });
    const run = compileOfflineFilterJs(prog.insns);
    if (fast !== null) {
      const r = filterPcapRecords(bytes, run, 24, bytes.length, (off, end, n) => {
        if (rows.length < maxRows) rows.push(summarizeRecord(bytes, off, end, n, linktype));
      });
      if (r !== null) return { matched: r.matched, seen: r.seen, rows, linktype };
    }
    for (const p of cap.packets()) {
      seen++;
      if (run(p.data, p.len, 0, p.data.length) !== 0) {
        matched++;
        if (rows.length < maxRows) rows.push({ n: seen, time: formatTime(p.ts.sec, p.ts.nsec), len: p.len, summary: summarize(p.data, linktype) });
      }
    }
    return { matched, seen, rows, linktype };
  } catch (e) {
    return { matched, seen, rows, linktype, error: e instanceof Error ? e.message : String(e) };
  }
}

type RunFilter = (p: Uint8Array, len: number, start: number, end: number) => number;

/** Filters the little-endian pcap records in bytes[from, to) in place; null if a record is irregular (the general
 * reader then reports it). Record numbers passed to onMatch count from `firstN`. */
export function filterPcapRecords(bytes: Uint8Array, run: RunFilter, from: number, to: number,
  onMatch?: (off: number, end: number, n: number) => void, firstN = 1): { matched: number; seen: number } | null {
  const hdr = pcapLeHeader(bytes);
  if (hdr === null) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let matched = 0, seen = 0;
  for (let off = from; off < to;) {
    if (off + 16 > to) return null;
    const caplen = view.getUint32(off + 8, true);
    const end = off + 16 + caplen;
    if (caplen > hdr.snaplen || end > to) return null;
    seen++;
    if (run(bytes, view.getUint32(off + 12, true), off + 16, end) !== 0) {
      matched++;
      onMatch?.(off, end, firstN + seen - 1);
    }
    off = end;
  }
  return { matched, seen };
}

/** Record boundaries splitting a little-endian pcap into about `parts` equal pieces (for worker CPUs). */
export function splitPcap(bytes: Uint8Array, parts: number): { from: number; to: number; firstN: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { from: number; to: number; firstN: number }[] = [];
  const step = Math.max(1, Math.ceil((bytes.length - 24) / parts));
  let from = 24, n = 1, count = 0, off = 24;
  while (off + 16 <= bytes.length) {
    const next = off + 16 + view.getUint32(off + 8, true);
    count++;
    if (next - from >= step) { out.push({ from, to: next, firstN: n }); from = next; n += count; count = 0; }
    off = next;
  }
  if (from < bytes.length) out.push({ from, to: bytes.length, firstN: n });
  return out;
}

export function summarizeRecord(bytes: Uint8Array, off: number, end: number, n: number, linktype: number): PacketRow {
  const v = new DataView(bytes.buffer, bytes.byteOffset + off, 16);
  return { n, time: formatTime(v.getUint32(0, true), v.getUint32(4, true) * (bytes[0] === 0x4d ? 1 : 1000)), len: v.getUint32(12, true),
    summary: summarize(bytes.subarray(off + 16, end), linktype) };
}

function formatTime(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  const p = (x: number, w = 2) => String(x).padStart(w, "0");
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(Math.floor(nsec / 1000), 6)}`;
}

const IP_PROTOS: Record<number, string> = { 1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "ICMPv6", 132: "SCTP" };

/** A one-line summary (addresses, protocol, ports) of an Ethernet, raw IP or Linux cooked frame. */
export function summarize(d: Uint8Array, linktype: number): string {
  let off: number, type: number;
  const u16 = (o: number) => (d[o]! << 8) | d[o + 1]!;
  if (linktype === 1) { if (d.length < 14) return "truncated"; off = 14; type = u16(12); while ((type === 0x8100 || type === 0x88a8) && d.length >= off + 4) { type = u16(off + 2); off += 4; } }
  else if (linktype === 113) { if (d.length < 16) return "truncated"; off = 16; type = u16(14); }
  else if (linktype === 101 || linktype === 12 || linktype === 14) { off = 0; type = (d[0]! >> 4) === 6 ? 0x86dd : 0x0800; }
  else return `link type ${linktype}, ${d.length} bytes`;
  const ports = (o: number, p: number) => (p === 6 || p === 17 || p === 132) && d.length >= o + 4 ? [`.${u16(o)}`, `.${u16(o + 2)}`] : ["", ""];
  if (type === 0x0800 && d.length >= off + 20) {
    const ihl = (d[off]! & 15) * 4, p = d[off + 9]!;
    const a = (o: number) => `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
    const [sp, dp] = ports(off + ihl, p);
    return `IP ${a(off + 12)}${sp} > ${a(off + 16)}${dp}: ${IP_PROTOS[p] ?? `proto ${p}`}`;
  }
  if (type === 0x86dd && d.length >= off + 40) {
    const a = (o: number) => Array.from({ length: 8 }, (_, i) => u16(o + 2 * i).toString(16)).join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
    const p = d[off + 6]!;
    const [sp, dp] = ports(off + 40, p);
    return `IP6 ${a(off + 8)}${sp} > ${a(off + 24)}${dp}: ${IP_PROTOS[p] ?? `next header ${p}`}`;
  }
  if (type === 0x0806) return "ARP";
  return `ethertype 0x${type.toString(16).padStart(4, "0")}, ${d.length} bytes`;
}

// ---------------------------------------------------------------- Program tab

export interface ProgramSource {
  /** Assembly text (kernel or llvm syntax), or undefined when `elf` is given. */
  readonly asm?: string;
  readonly elf?: Uint8Array;
  /** The file name the CLI would be given (labels its output lines). */
  readonly fileName: string;
  /** Program to pick from an ELF object (default: all). */
  readonly prog?: string;
  readonly type?: string;
}

export interface Unit { readonly label: string; readonly spec: ProgramSpec; readonly progType: number | string; readonly obj?: BpfObject }

/** The programs a source holds, named as the CLI names them (`FILE` or `FILE:prog`). */
export function programUnits(src: ProgramSource): Unit[] {
  if (src.elf !== undefined) {
    const obj = loadObject(src.elf, { fileName: src.fileName });
    const progs = obj.programs.filter((p) => src.prog === undefined || p.name === src.prog);
    if (progs.length === 0) throw new BpfError("ENOENT", `${src.fileName}: no program${src.prog ? ` named ${src.prog}` : "s"}`);
    return progs.map((p) => ({ label: `${src.fileName}:${p.name}`, spec: p, progType: src.type ?? (p.progType || "socket_filter"), obj }));
  }
  const insns = assembleWithLabels(src.asm ?? "").insns;
  const spec: ProgramSpec = { name: "prog", section: "", progType: 0, attachType: 0, attachTo: "", progFlags: 0, insns,
    funcInfo: [], lineInfo: [], relocs: [], sectionOffset: 0, coreRelos: 0 };
  return [{ label: src.fileName, spec, progType: src.type ?? "socket_filter" }];
}

export interface Step { readonly pc: number; readonly insn: string; readonly state: string; readonly source?: string }
export interface VerifyUnit {
  readonly label: string;
  readonly accepted: boolean;
  readonly result: VerifyResult;
  readonly disasm: readonly string[];
  readonly dot: string;
  /** DOT node names (fn_F_bb_B) of the basic blocks: all of them, and those on the failing path. */
  readonly blockNodes: readonly string[];
  readonly failingNodes: readonly string[];
  /** The DOT node drawing each pc's block, by pc. */
  readonly pcNodes: readonly string[];
  /** The failing path with the register/stack state the log shows after each step. */
  readonly steps: readonly Step[];
  readonly spec: ProgramSpec;
}
export interface VerifyOutput {
  /** What `bpfkit verify --log-level N --explain FILE` prints on stdout. */
  readonly text: string;
  readonly units: readonly VerifyUnit[];
  readonly error?: SourceError;
  readonly command: string;
}

export function verifyCommand(src: ProgramSource, logLevel: number): string {
  return `bpfkit verify${src.type ? ` --type ${src.type}` : ""}${src.prog ? ` --prog ${src.prog}` : ""} --log-level ${logLevel} --explain ${src.fileName}`;
}

export function verifySource(src: ProgramSource, logLevel: number, nrCpus: number): VerifyOutput {
  const command = verifyCommand(src, logLevel);
  let units: Unit[];
  try { units = programUnits(src); } catch (e) {
    const err = sourceError(e);
    return { text: `bpfkit verify: ${err.message}\n`, units: [], error: err, command };
  }
  let text = "";
  const out: VerifyUnit[] = [];
  for (const u of units) {
    const insns = u.spec.insns;
    const r = verify(insns, { progType: u.progType, maps: u.obj?.maps ?? [], logLevel, nrCpus,
      btfFuncInfo: u.spec.funcInfo.length > 0, ...(u.obj ? { license: u.obj.license } : {}) });
    text += r.accepted ? `${u.label}: accepted\n` : `${u.label}: rejected: ${r.error!.message}\n`;
    if (logLevel > 0) text += r.log;
    if (!r.accepted) text += explain(insns, r) + "\n";
    out.push({ label: u.label, accepted: r.accepted, result: r, spec: u.spec, disasm: xlatedPlain(u.spec, u.obj?.btf),
      dot: xlatedDot(u.spec), ...cfgMarks(insns, r.failingPath ?? []), steps: failingSteps(u, r) });
  }
  return { text, units: out, command };
}

function cfgMarks(insns: readonly Insn[], path: readonly number[]): { blockNodes: string[]; failingNodes: string[]; pcNodes: string[] } {
  const blockNodes: string[] = [];
  const pcNodes: string[] = [];
  const failing = new Set<string>();
  const onPath = new Set(path);
  for (const f of xlatedCfg(insns)) {
    for (const b of f.blocks) {
      const name = `fn_${f.idx}_bb_${b.idx}`;
      blockNodes.push(name);
      for (let pc = b.head; pc <= b.tail; pc++) {
        pcNodes[pc] = name;
        if (onPath.has(pc)) failing.add(name);
      }
    }
  }
  return { blockNodes, failingNodes: [...failing], pcNodes };
}

/** The failing path's steps: each pc with its instruction, the state the level-1 log printed last for it (`pc: ... ;
 * STATE` or a full `pc: STATE` line), and its source line from BTF line info. */
function failingSteps(u: Unit, r: VerifyResult): Step[] {
  if (r.accepted || !r.failingPath) return [];
  const states = new Map<number, string>();
  const logged = r.log.length > 0 ? r.log : verify(u.spec.insns, { progType: u.progType, maps: u.obj?.maps ?? [], logLevel: 1,
    btfFuncInfo: u.spec.funcInfo.length > 0, ...(u.obj ? { license: u.obj.license } : {}) }).log;
  for (const line of logged.split("\n")) {
    let m = /^(\d+): \([0-9a-f]{2}\) .*?;\s(.*)$/.exec(line);
    if (m) { states.set(Number(m[1]), m[2]!.trim()); continue; }
    m = /^(\d+): (R\d.*)$/.exec(line);
    if (m) states.set(Number(m[1]), m[2]!.trim());
  }
  const li = u.spec.lineInfo;
  return r.failingPath.map((pc) => {
    let source: string | undefined;
    for (const l of li) if (l.insnOff <= pc) source = l.line.trim(); else break;
    return { pc, insn: formatInsnKernel(u.spec.insns, pc), state: states.get(pc) ?? "", ...(source ? { source } : {}) };
  });
}

// ---------------------------------------------------------------- run

export interface MapView {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Key and value decoded through BTF when the object has it (else hex), and the key's hex bytes. */
  readonly entries: readonly { key: string; value: string; raw: string }[];
  /** False for maps without keys to list or edit (ring buffers, queues, stacks, prog/perf arrays, bloom filters). */
  readonly keyed: boolean;
}
export interface RunOutput {
  /** What `bpfkit run [--type T] [--data HEX] FILE` prints (the duration is measured, so it differs run to run). */
  readonly text: string;
  readonly r0?: number;
  readonly ringbuf: readonly string[];
  readonly printk: readonly string[];
  readonly command: string;
  readonly error?: SourceError;
  /** The loaded object's maps, for the Maps tab (empty for bare instructions). */
  readonly live: LiveObject;
}

export function parseHex(hex: string): Uint8Array {
  const h = hex.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(h)) throw new BpfError("EINVAL", `--data: '${h}' is not hex bytes`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function runCommand(src: ProgramSource, dataHex: string, engine: EngineKind = DEFAULT_ENGINE): string {
  const d = dataHex.replace(/[\s:]/g, "");
  return `bpfkit run${src.type && !src.elf ? ` --type ${src.type}` : ""}${d ? ` --data ${d}` : ""}${engine !== DEFAULT_ENGINE ? ` --engine ${engine}` : ""}${src.prog ? ` --prog ${src.prog}` : ""} ${src.fileName}`;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** Runs the source as `bpfkit run [--engine E]` does: bare instructions on the engine (no maps, no verifier); an ELF object
 * loaded into a fresh VM System by the runtime's openObject (maps, globals, prog arrays, every program verified),
 * then each selected program test-run on the data. Also reads out ring buffers and trace_printk lines. */
export function runSource(src: ProgramSource, dataHex: string, engine: EngineKind = DEFAULT_ENGINE): RunOutput {
  const command = runCommand(src, dataHex, engine);
  const printk: string[] = [];
  const env = hostEnv({ tracePrint: (l) => { printk.push(l); } });
  const empty: LiveObject = { maps: [], types: [] };
  let data: Uint8Array;
  try { data = parseHex(dataHex); } catch (e) {
    const err = sourceError(e);
    return { text: `${src.fileName}: ${err.message}\n`, ringbuf: [], printk, command, error: err, live: empty };
  }
  const fail = (e: unknown, label = src.fileName): string => {
    if (!isBpfError(e)) {
      const code = (e as { code?: unknown }).code;
      return typeof code === "string" && /^E[A-Z]+$/.test(code) ? `${label}: ${(e as Error).message}\n` : `${label}: internal error: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    return e.code === "FAULT" || e.code === "BUDGET" ? `${label}: fault: ${e.message}\n` : `${label}: ${e.message}\n`;
  };
  if (src.elf === undefined) {
    try {
      const insns = assembleWithLabels(src.asm ?? "").insns;
      const vm = createEngine(engine, new AddressSpace(), { helpers: defaultHelpers, env });
      const type = src.type ?? "raw";
      if (PROGRAM_TYPES[type] === undefined) {
        return { text: `${src.fileName}: program type '${type}' cannot be run (known: ${Object.keys(PROGRAM_TYPES).join(", ")})\n`, ringbuf: [], printk, command, live: empty };
      }
      const r = testRun(vm, vm.load(insns, { type, name: src.fileName }), { type, data });
      const r0 = Number(BigInt.asUintN(32, r.retval));
      return { text: `${src.fileName}: Return value: ${r0}, duration (average): ${r.duration}ns\n`, r0, ringbuf: [], printk, command, live: empty };
    } catch (e) {
      return { text: fail(e), ringbuf: [], printk, command, error: sourceError(e), live: empty };
    }
  }
  let text = "";
  let r0: number | undefined;
  let obj: LoadedObject;
  const sys = new System({ env, engine });
  try {
    obj = openObject(sys, src.elf, { fileName: src.fileName });
    if (src.prog !== undefined && !obj.object.programs.some((p) => p.name === src.prog)) throw new BpfError("ENOENT", `no program named '${src.prog}'`);
    if (obj.object.programs.length === 0) throw new BpfError("ENOENT", "the object has no programs");
  } catch (e) {
    return { text: fail(e), ringbuf: [], printk, command, error: sourceError(e), live: empty };
  }
  for (const p of obj.object.programs) {
    if (src.prog !== undefined && p.name !== src.prog) continue;
    const label = `${src.fileName}:${p.name}`;
    const prog = obj.programs.get(p.name);
    if (prog === undefined) { text += `${label}: ${refusalLine(obj.skipped.get(p.name) ?? "not loaded")}\n`; continue; }
    try {
      const r = prog.testRun(data);
      r0 = r.retval >>> 0;
      text += `${label}: Return value: ${r0}, duration (average): ${r.duration}ns\n`;
    } catch (e) { text += fail(e, label); }
  }
  const maps = [...obj.maps.values()];
  const ringbuf = outputLines(sys, maps);
  const specs = new Map(obj.object.maps.map((s) => [s.name, s]));
  const types = maps.map((m) => ({ key: specs.get(m.name)?.btfKeyTypeId ?? 0, value: specs.get(m.name)?.btfValueTypeId ?? 0 }));
  return { text, ...(r0 !== undefined ? { r0 } : {}), ringbuf, printk, command, live: { maps, btf: obj.object.btf, types } };
}

/** An object opened for worker CPUs: a VM System over a shared address space (the page's Web Worker CPUs run its
 * programs there, sharing its maps), with its programs' loaded images and its maps for the Maps tab. */
export interface SharedObject {
  readonly sys: System;
  readonly programs: ReadonlyMap<string, LoadedProgram>;
  readonly skipped: ReadonlyMap<string, string>;
  readonly live: LiveObject;
  close(): void;
}

/** Opens `elf` through the runtime's openObject into a System with `nCpus` CPUs over shared memory. */
export function openSharedObject(elf: Uint8Array, fileName: string, nCpus: number, engine: EngineKind = "interp"): SharedObject {
  const sys = new System({ env: hostEnv(), engine, nCpus, shared: true });
  const obj = openObject(sys, elf, { fileName });
  const programs = new Map<string, LoadedProgram>();
  for (const [name, p] of obj.programs) {
    const o = sys.object(p.fd);
    if (o?.kind === "prog") programs.set(name, o.loaded);
  }
  const maps = [...obj.maps.values()];
  // perf_buffer__new for every perf event array: one buffer per CPU in the shared memory, for the workers to write
  for (const m of maps) { const vm = sys.vmMap(m.fd); if (vm instanceof PerfEventArrayMap) vm.openBuffers(8); }
  const specs = new Map(obj.object.maps.map((m) => [m.name, m]));
  const types = maps.map((m) => ({ key: specs.get(m.name)?.btfKeyTypeId ?? 0, value: specs.get(m.name)?.btfValueTypeId ?? 0 }));
  return { sys, programs, skipped: obj.skipped, live: { maps, btf: obj.object.btf, types }, close: () => obj.close() };
}

/**
 * What programs sent to user space since the last call, one line per record: ring buffer samples (consumed) and,
 * where buffers are open, perf event samples with their CPU and lost counts; past `limit` lines, a count per map.
 */
export function outputLines(sys: System, maps: readonly RuntimeMap[], limit = Infinity): string[] {
  const out: string[] = [];
  for (const m of maps) {
    const vm = sys.vmMap(m.fd);
    let more = 0;
    const line = (text: string): void => { if (out.length < limit) out.push(text); else more++; };
    if (vm instanceof RingBufMap) vm.consume((sample) => { line(`${m.name}: ${hex(sample)}`); });
    else if (vm instanceof PerfEventArrayMap) vm.consume((sample, cpu) => { line(`${m.name} cpu ${cpu}: ${hex(sample)}`); }, (n, cpu) => { line(`${m.name} cpu ${cpu}: lost ${n} samples`); });
    if (more) out.push(`${m.name}: ${more} more records`);
  }
  return out;
}

/** The maps of the last run, kept so the Maps tab can edit them, with the BTF type ids of their keys and values. */
export interface LiveObject {
  readonly maps: readonly RuntimeMap[];
  readonly btf?: Btf | undefined;
  readonly types: readonly { readonly key: number; readonly value: number }[];
}

/** Bytes through their BTF type as bpftool's plain `map dump` prints them, or hex when there is no type. */
function decode(bytes: Uint8Array, btf: Btf | undefined, typeId: number | undefined): string {
  if (btf === undefined || !typeId) return hex(bytes);
  try {
    const j = new JsonWriter(false);
    dumpBtfValue(j, btf, typeId, bytes, 0, true);
    return j.finish().trimEnd();
  } catch { return hex(bytes); }
}

// prog_array, perf_event_array, queue, stack, ringbuf, bloom_filter, user_ringbuf: no keys to list
const NO_KEYS = new Set([3, 4, 22, 23, 27, 30, 31]);

export function viewMap(m: RuntimeMap, btf?: Btf, types?: { key: number; value: number }, limit = 256): MapView {
  const entries: { key: string; value: string; raw: string }[] = [];
  if (!NO_KEYS.has(m.type)) {
    try {
      for (const [key] of m.entries()) {
        if (entries.length >= limit) break;
        let value: string;
        try {
          const vs = m.lookupPerCpu(key) ?? [];
          // per-CPU maps: one value per possible CPU, as bpftool prints "values": [{cpu, value}]
          value = m.perCpu ? vs.map((v, c) => `cpu${c}: ${decode(v, btf, types?.value)}`).join(", ") : decode(vs[0] ?? new Uint8Array(0), btf, types?.value);
        } catch (e) { value = `<${e instanceof Error ? e.message : String(e)}>`; }
        entries.push({ key: decode(key, btf, types?.key), value, raw: hex(key) });
      }
    } catch { /* a map the backend cannot iterate lists nothing */ }
  }
  return { name: m.name, type: mapTypeName(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, entries, keyed: !NO_KEYS.has(m.type) };
}

/** BPF_MAP_UPDATE_ELEM from the Maps tab: key and value as hex bytes. */
export function updateMap(m: RuntimeMap, keyHex: string, valueHex: string): void {
  m.update(parseHex(keyHex), parseHex(valueHex));
}

export function deleteMapKey(m: RuntimeMap, keyHex: string): void {
  m.delete(parseHex(keyHex));
}

/** An `n`-instruction program for the bench: a ctx load, then diamonds on it (a bounded compare, a branch that
 * computes into registers dead after the join, so states prune as in real programs), then exit. */
export function syntheticProgram(n: number): string {
  const lines = ["r6 = r1", "r2 = *(u32 *)(r6 + 0)", "r0 = 0"];
  for (let k = 0; lines.length < n - 6; k++) lines.push("r3 = r2", "r3 &= 255", `if r3 > ${k % 250} goto +2`, "r4 = r3", "r4 *= 3");
  while (lines.length < n - 1) lines.push("r0 += 1");
  lines.push("exit");
  return lines.join("\n") + "\n";
}

export { decodeProgram };

// ---------------------------------------------------------------- Trace tab

/** Every tracepoint a script can name in the page: the formats bundled with the runtime (Linux 6.18's tracefs). */
export const TRACE_ENV: ProbeEnv = {
  tracepoints: () => Object.keys(BUNDLED_FORMATS),
  tracepointFormat: (c, n) => BUNDLED_FORMATS[`${c}:${n}`],
};

/** One synthetic block request: its size, direction and issuing command. */
export interface BlockEvent { readonly bytes: number; readonly rwbs: string; readonly comm: string }

const COMMS = ["kworker/u8:2", "postgres", "jbd2/sda1-8", "rsync"];

/** The synthetic block-I/O stream (a mix of 4K pages, 64K-1M reads, a few small writes), deterministic from `seed`;
 * returns the next seed with the batch so a caller can continue the stream. */
export function blockEvents(n: number, seed = 1): { events: BlockEvent[]; seed: number } {
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const events: BlockEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const bytes = r < 0.5 ? 4096 : r < 0.85 ? 65536 * (1 + Math.floor(rnd() * 15)) : Math.floor(rnd() * 4096);
    events.push({ bytes, rwbs: r < 0.85 ? "R" : "WS", comm: COMMS[Math.floor(rnd() * COMMS.length)]! });
  }
  return { events, seed };
}

function blockRecord(e: BlockEvent, sector: number): Uint8Array {
  const rec = new Uint8Array(64), d = new DataView(rec.buffer);
  d.setUint16(0, 2104, true);
  d.setUint32(8, (8 << 20) | 0, true); // 8:0, sda
  d.setBigUint64(16, BigInt(sector), true);
  d.setUint32(24, Math.ceil(e.bytes / 512), true);
  d.setUint32(28, e.bytes, true);
  const enc = new TextEncoder();
  rec.set(enc.encode(e.rwbs).subarray(0, 9), 34);
  rec.set(enc.encode(e.comm).subarray(0, 15), 44);
  return rec;
}

/** A script's error as bpftrace prints it (`stdin:L:C-E: ERROR: ...` with the source line and `~` marker), and where
 * the editor underlines it. */
export interface TraceCompileError extends SourceError { readonly text: string }

/** A map as the page draws it live: hist/lhist as bars (one per key group), the others as key/value rows. */
export type LiveMap =
  | { readonly kind: "hist"; readonly name: string; readonly groups: { readonly key: string; readonly bars: { label: string; count: bigint }[] }[] }
  | { readonly kind: "table"; readonly name: string; readonly rows: [string, string][] };

/** A bpftrace script compiled by src/trace and run on the VM over the synthetic block-I/O stream, or over an uploaded
 * event stream in the replay format `bpfkit exporter --vm.replay` reads (JSON lines: tracepoint, comm, pid, cpu, record
 * bytes in hex, repeat). */
export class TraceSession {
  readonly vm: VmTrace;
  private readonly env: HelperEnv;
  /** program indices by "tracepoint:CAT:NAME" */
  private readonly byProbe = new Map<string, number[]>();
  private seed = 1;
  private sector = 2048;
  private printed = 0;
  private stream: readonly ReplayEvent[] | undefined;
  private pos = 0;
  private left = 0;
  constructor(readonly script: CompiledScript) {
    this.env = deterministicEnv({ pid: 4242, tgid: 4242, comm: "fio" });
    this.vm = new VmTrace(script, { env: this.env });
    script.programs.forEach((p, i) => {
      const l = this.byProbe.get(p.probe.name);
      if (l) l.push(i); else this.byProbe.set(p.probe.name, [i]);
    });
    this.vm.begin();
  }

  /** Compiles `source` (bpftrace's front end, verified), or returns the error as bpftrace prints it. */
  static open(source: string): TraceSession | TraceCompileError {
    try {
      return new TraceSession(compileScript(source, { env: TRACE_ENV }));
    } catch (e) {
      const text = formatErrors(source, "stdin", e) ?? `ERROR: ${e instanceof Error ? e.message : String(e)}\n`;
      const loc = e instanceof TraceErrors ? e.errors[0]?.loc : e instanceof TraceError ? e.loc : undefined;
      return { message: text.trimEnd(), text, ...(loc ? { line: loc.line - 1, column: loc.col - 1 } : {}) };
    }
  }

  /** Replaces the synthetic stream by `events` (parsed with parseEventStream); feed() then fires them in order. */
  useStream(events: readonly ReplayEvent[]): void {
    this.stream = events;
    this.pos = 0;
    this.left = events[0]?.repeat ?? 1;
  }

  /** True once an uploaded stream has been fired to its end (the synthetic stream never ends). */
  get exhausted(): boolean { return this.stream !== undefined && this.pos >= this.stream.length; }

  /** Fires the next `n` events of the stream; events at tracepoints the script does not probe are consumed too. */
  feed(n: number): void {
    if (this.stream) { this.feedStream(n); return; }
    const b = blockEvents(n, this.seed);
    this.seed = b.seed;
    const progs = this.byProbe.get("tracepoint:block:block_rq_issue");
    if (!progs) return;
    for (const e of b.events) {
      if (this.vm.exited) return;
      const rec = blockRecord(e, this.sector);
      this.vm.fire(progs[0]!, rec); // fires every program attached at the tracepoint
      this.sector += Math.ceil(e.bytes / 512);
    }
  }

  private feedStream(n: number): void {
    const s = this.stream!;
    for (let k = 0; k < n && this.pos < s.length && !this.vm.exited; k++) {
      const ev = s[this.pos]!;
      const progs = this.byProbe.get(`tracepoint:${ev.tracepoint.replace("/", ":")}`);
      if (progs) {
        const env = this.vm.env; // the VM's copy of the env the programs read
        if (ev.comm !== undefined) env.comm = ev.comm;
        if (ev.pid !== undefined) { env.pid = ev.pid; env.tgid = ev.pid; }
        this.vm.fire(progs[0]!, ev.record, 0); // fires every program attached at the tracepoint
      }
      if (--this.left <= 0) { this.pos++; this.left = s[this.pos]?.repeat ?? 1; }
    }
  }

  /** Output printed since the last call (printf, print()). */
  takeOutput(): string {
    const t = this.vm.text(), s = t.slice(this.printed);
    this.printed = t.length;
    return s;
  }

  /** The script's maps as they stand. */
  maps(): LiveMap[] {
    return this.script.maps.map((L, i) => liveMap(L, this.vm.entries(i)));
  }

  /** END and the exit dump; returns the rest of the output (all of it: what `bpfkit trace` prints after Ctrl-C). */
  finish(): string {
    this.vm.finish();
    return this.takeOutput();
  }
}

/** Parses an uploaded event stream (the replay format: JSON lines); errors name the file and line. */
export function parseEventStream(text: string, file: string): ReplayEvent[] {
  return parseReplay(text, file);
}

function liveMap(L: MapLayout, entries: RawEntry[]): LiveMap {
  const v = L.info.value;
  if (v.k === "agg" && (v.fn === "hist" || v.fn === "lhist")) {
    // the histogram printer's own text, split per key group, gives bar labels and counts with bpftrace's rules
    const text = formatMap(L, entries, "text");
    const groups: { key: string; bars: { label: string; count: bigint }[] }[] = [];
    for (const line of text.split("\n")) {
      const head = /^(@\S*):\s*$/.exec(line);
      if (head) { groups.push({ key: head[1]!, bars: [] }); continue; }
      const bar = /^([[(].*?[\])])\s+(\d+)\s*\|/.exec(line);
      if (bar && groups.length) groups[groups.length - 1]!.bars.push({ label: bar[1]!, count: BigInt(bar[2]!) });
    }
    return { kind: "hist", name: L.info.name, groups };
  }
  const rows: [string, string][] = [];
  for (const line of formatMap(L, entries, "text").split("\n")) {
    const m = /^(@.*?): (.*)$/.exec(line);
    if (m) rows.push([m[1]!, m[2]!]);
  }
  return { kind: "table", name: L.info.name, rows };
}

/** What the Trace tab prints for `source` after `events` stream events: attach line, printf output, exit dump. */
export function traceScript(source: string, events: number): string {
  const s = TraceSession.open(source);
  if (!(s instanceof TraceSession)) return s.text;
  s.feed(events);
  s.vm.finish();
  return s.vm.text();
}
