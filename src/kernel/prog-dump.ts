// `bpftool prog dump xlated {id N | tag T | name N | pinned P} [opcodes | linum | visual | file F]` for programs in
// the kernel, as bpftool 7.1 prints it: the kernel's translated image (map ids, helper calls as offsets from
// __bpf_call_base named through /proc/kallsyms, bpf-to-bpf calls with their JIT symbols), func_info signatures and
// line_info source lines from the program's BTF. The instruction text is the ISA layer's kernel printer.
import { readFileSync, writeFileSync } from "node:fs";
import type { Insn } from "../isa/ebpf/insn.ts";
import { decodeProgram, formatInsnKernel, opcodeLine, type KernelDisasmOptions } from "../isa/ebpf/index.ts";
import { HELPER_NAMES } from "../uapi/index.ts";
import type { Btf } from "../btf/parse.ts";
import { typeOnlySignature } from "../btf/signature.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import type { Backend } from "../runtime/backend.ts";
import type { KernelSymbolTable } from "../runtime/ksyms.ts";
import { linux } from "./backend.ts";
import { strerror } from "./libc.ts";
import type { ProgInfo } from "./info.ts";
import { Printer, isPrefix, progFullName, progHeaderJson, selectFds, bpftoolProgType, type OutputMode, type ToolOutput } from "./listing.ts";
import type { JsonWriter } from "./json-writer.ts";

// __BPF_FUNC_MAX_ID of the uapi header bpftool 7.1 was built with (Linux 6.2): disasm.c names helper ids below it.
const BPFTOOL_HELPER_MAX = 212;

type Kallsyms = KernelSymbolTable;

/**
 * /proc/kallsyms as bpftool's kernel_syms_load reads it (symbols at address 0, i.e. kptr_restrict, are dropped).
 * Read afresh for every dump: JIT symbols of programs loaded since (bpf_prog_TAG_NAME) must be found.
 */
function loadKallsyms(): Kallsyms {
  const byAddress = new Map<bigint, string>();
  let callBase = 0n;
  let text = "";
  try { text = readFileSync("/proc/kallsyms", "latin1"); } catch { /* no symbols: addresses print as hex */ }
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]+) \S (\S+)/.exec(line);
    if (!m) continue;
    const addr = BigInt("0x" + m[1]);
    if (m[2] === "__bpf_call_base") callBase = addr;
    if (addr !== 0n && !byAddress.has(addr)) byAddress.set(addr, m[2]!);
  }
  return { callBase, byAddress };
}

const signed = (n: number) => (n >= 0 ? "+" : "") + n;

/** The backend's own symbols (the VM's) or the running kernel's /proc/kallsyms. */
const symbolsOf = (b: Backend): Kallsyms => b.kernelSymbols?.() ?? loadKallsyms();

function disasmOptions(jitedKsyms: readonly bigint[] | undefined, syms: Kallsyms): KernelDisasmOptions {
  return {
    helperName: (id) => (id >= 0 && id < BPFTOOL_HELPER_MAX && HELPER_NAMES[id] ? `bpf_${HELPER_NAMES[id]}` : undefined),
    callTarget: (_pc, x) => {
      let address = BigInt.asUintN(64, syms.callBase + BigInt(x.imm));
      if (x.src === 1 && jitedKsyms && x.imm >>> 0 < jitedKsyms.length) address = jitedKsyms[x.imm >>> 0]!;
      const sym = syms.byAddress.get(address);
      if (x.src === 1) {
        if (!jitedKsyms || jitedKsyms.length === 0) return signed(x.off);
        return sym !== undefined ? `${signed(x.off)}#${sym}` : `${signed(x.off)}#0x${address.toString(16)}`;
      }
      return sym ?? `0x${address.toString(16)}`;
    },
  };
}

/**
 * bpftool 7.1's disasm.c (Linux 6.2) predates cpu v4 and the arena/percpu moves: it prints their register moves and
 * signed divisions as the plain forms, ignoring `off`. The ISA printer renders the modern forms; this maps them back.
 */
export function bpftool71Dialect(line: string): string {
  return line
    .replace(/^(\([0-9a-f]{2}\) [rw]\d+ = )&\(void __percpu \*\)\(([rw]\d+)\)$/, "$1$2")
    .replace(/^(\([0-9a-f]{2}\) [rw]\d+ = )addr_space_cast\(([rw]\d+), \d+, \d+\)$/, "$1$2")
    .replace(/^(\([0-9a-f]{2}\) [rw]\d+ = )\(s(8|16|32)\)([rw]\d+)$/, "$1$3")
    .replace(/^(\([0-9a-f]{2}\) [rw]\d+ )s([/%]=) /, "$1$2 ");
}

interface LineRec { insnOff: number; fileNameOff: number; lineOff: number; lineCol: number }

function lineRecords(bytes: Uint8Array | undefined, recSize: number): LineRec[] {
  if (!bytes || !recSize) return [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: LineRec[] = [];
  for (let o = 0; o + 16 <= bytes.length; o += recSize) {
    out.push({ insnOff: v.getUint32(o, true), fileNameOff: v.getUint32(o + 4, true), lineOff: v.getUint32(o + 8, true), lineCol: v.getUint32(o + 12, true) });
  }
  return out;
}

/** bpf_prog_linfo__lfind: the last record (from nrSkip on) at or before pc, unless record nrSkip is after pc. */
function lfind(li: readonly LineRec[], pc: number, nrSkip: number): LineRec | undefined {
  if (nrSkip >= li.length || pc < li[nrSkip]!.insnOff) return undefined;
  let i = nrSkip;
  while (i < li.length && li[i]!.insnOff <= pc) i++;
  return li[i - 1];
}

function loadBtf(b: Backend, btfId: number): Btf | undefined {
  if (!btfId) return undefined;
  const fd = b.getFdById("btf", btfId);
  try {
    const { data } = b.btfInfo(fd, true);
    return btfFromFileBytes(data ?? new Uint8Array(0));
  } finally {
    b.close(fd);
  }
}

interface XlatedImage {
  readonly insns: Insn[];
  readonly btf: Btf | undefined;
  readonly funcRecs: { insnOff: number; typeId: number }[];
  readonly lines: LineRec[];
  readonly dopts: KernelDisasmOptions;
}

function xlatedImage(b: Backend, fd: number): XlatedImage {
  const info = b.progInfo(fd);
  const extras = b.progInfoExtras(fd, { xlated: true, funcInfo: true, lineInfo: true, ksyms: true });
  const insns: Insn[] = extras.xlated ? decodeProgram(extras.xlated) : [];
  const funcRecs: { insnOff: number; typeId: number }[] = [];
  if (extras.funcInfo && info.funcInfoRecSize) {
    const v = new DataView(extras.funcInfo.buffer);
    for (let o = 0; o + 8 <= extras.funcInfo.length; o += info.funcInfoRecSize) funcRecs.push({ insnOff: v.getUint32(o, true), typeId: v.getUint32(o + 4, true) });
  }
  return {
    insns, btf: loadBtf(b, info.btfId), funcRecs, lines: lineRecords(extras.lineInfo, info.lineInfoRecSize),
    dopts: disasmOptions(extras.jitedKsyms, symbolsOf(b)),
  };
}

/** Walks an image as dump_xlated_plain/json do: the func_info record and line_info record (if any) of each pc. */
function walkXlated(img: XlatedImage, visit: (pc: number, sig: string | undefined, line: LineRec | undefined) => void): void {
  let fi = 0, nrSkip = 0;
  for (let pc = 0; pc < img.insns.length; pc++) {
    let sig: string | undefined;
    const rec = img.funcRecs[fi];
    if (img.btf && rec && rec.insnOff === pc) {
      sig = typeOnlySignature(img.btf, rec.typeId);
      fi++;
    }
    let line: LineRec | undefined;
    if (img.lines.length) {
      line = lfind(img.lines, pc, nrSkip);
      if (line) nrSkip++;
    }
    visit(pc, sig, line);
    if (img.insns[pc]!.code === 0x18) pc++;
  }
}

const ltrim = (s: string) => s.replace(/^[ \t\n\v\f\r]+/, "");

/** The plain xlated listing of one kernel program. */
export function xlatedKernelPlain(fd: number, opts: { opcodes?: boolean; linum?: boolean } = {}, b: Backend = linux): string {
  const img = xlatedImage(b, fd);
  let s = "";
  walkXlated(img, (pc, sig, l) => {
    if (sig) s += `${sig}:\n`;
    const text = l ? img.btf?.str(l.lineOff) : undefined;
    if (l && text !== undefined) {
      s += opts.linum
        ? `; ${ltrim(text)} [file:${img.btf!.str(l.fileNameOff) ?? ""} line_num:${l.lineCol >>> 10} line_col:${l.lineCol & 0x3ff}]\n`
        : `; ${ltrim(text)}\n`;
    }
    s += `${String(pc).padStart(4)}: ${bpftool71Dialect(formatInsnKernel(img.insns, pc, img.dopts))}\n`;
    if (opts.opcodes) s += opcodeLine(img.insns, pc) + "\n";
  });
  return s;
}

function hexArray(j: JsonWriter, bytes: readonly number[]): void {
  j.startArray();
  for (const b of bytes) j.raw(`"0x${(b & 0xff).toString(16).padStart(2, "0")}"`);
  j.endArray();
}

/** dump_xlated_json: one object per instruction (proto, src/file/line_num/line_col, disasm, opcodes). */
export function xlatedKernelJson(j: JsonWriter, fd: number, opts: { opcodes?: boolean; linum?: boolean } = {}, b: Backend = linux): void {
  const img = xlatedImage(b, fd);
  j.startArray();
  walkXlated(img, (pc, sig, l) => {
    j.startObject();
    if (sig) j.field("proto", sig);
    if (l) {
      const text = img.btf?.str(l.lineOff);
      if (text !== undefined) j.field("src", ltrim(text));
      if (opts.linum) {
        const file = img.btf?.str(l.fileNameOff);
        if (file !== undefined) j.field("file", file);
        if (l.lineCol >>> 10) j.field("line_num", l.lineCol >>> 10);
        if (l.lineCol & 0x3ff) j.field("line_col", l.lineCol & 0x3ff);
      }
    }
    // print_insn_json quotes the printed text as is (no escaping), like bpftool
    j.name("disasm").raw(`"${bpftool71Dialect(formatInsnKernel(img.insns, pc, img.dopts))}"`);
    if (opts.opcodes) {
      const x = img.insns[pc]!;
      j.name("opcodes").startObject();
      j.name("code").raw(`"0x${x.code.toString(16).padStart(2, "0")}"`);
      j.name("src_reg").raw(`"0x${x.src.toString(16)}"`);
      j.name("dst_reg").raw(`"0x${x.dst.toString(16)}"`);
      j.name("off");
      hexArray(j, [x.off & 0xff, (x.off >> 8) & 0xff]);
      j.name("imm");
      const imm = [x.imm, x.imm >> 8, x.imm >> 16, x.imm >> 24];
      const next = img.insns[pc + 1];
      if (x.code === 0x18 && next) {
        imm.push(next.code, (next.dst & 0xf) | ((next.src & 0xf) << 4), next.off, next.off >> 8, next.imm, next.imm >> 8, next.imm >> 16, next.imm >> 24);
      }
      hexArray(j, imm);
      j.endObject();
    }
    j.endObject();
  });
  j.endArray();
}

/** bpftool71Dialect for DOT labels, where `&` is escaped as `\&`. */
function dotDialect(dot: string): string {
  return dot
    .replace(/(\([0-9a-f]{2}\) [rw]\d+ = )\\&\(void __percpu \*\)\(([rw]\d+)\)/g, "$1$2")
    .replace(/(\([0-9a-f]{2}\) [rw]\d+ = )addr_space_cast\(([rw]\d+), \d+, \d+\)/g, "$1$2")
    .replace(/(\([0-9a-f]{2}\) [rw]\d+ = )\(s(?:8|16|32)\)([rw]\d+)/g, "$1$2")
    .replace(/(\([0-9a-f]{2}\) [rw]\d+ )s([/%]=) /g, "$1$2 ");
}

/**
 * bpftool's cfg.c treats a helper call ending a basic block as a jump to insn + off + 1 (off is 0): besides the
 * fall-through edge it adds a second, identical edge to the next block. xlatedDot draws one; add the twin.
 */
function cfgCallEdgeQuirk(dot: string): string {
  const endsInCall = new Set<string>();
  for (const m of dot.matchAll(/\t(fn_\d+_bb_\d+) \[shape=record,style=filled,label="\{([\s\S]*?)\}"\];/g)) {
    const rows = m[2]!.split("\\l\\\n").filter((r) => r.trim() !== "");
    const last = rows[rows.length - 1] ?? "";
    if (/\(85\) call (?!pc)/.test(last)) endsInCall.add(m[1]!);
  }
  return dot.replace(/^\t(fn_\d+_bb_\d+):s -> (fn_\d+_bb_\d+):n \[style="solid,bold", color=black, weight=10, constraint=true\];\n/gm,
    (line, from: string) => (endsInCall.has(from) ? line + line : line));
}

/** The `visual` DOT graph of one kernel program, through the object layer's cfg.c rendering. */
async function xlatedKernelDot(b: Backend, fd: number): Promise<string> {
  const { xlatedDot } = await import("../object/xlated.ts");
  const extras = b.progInfoExtras(fd, { xlated: true });
  // after JIT the kernel keeps a bpf-to-bpf call's relative target in `off` (imm becomes the subprogram index);
  // bpftool's graph follows and prints that offset, while xlatedDot reads object code's `imm`
  const insns = (extras.xlated ? decodeProgram(extras.xlated) : []).map((x) => (x.code === 0x85 && x.src === 1 ? { ...x, imm: x.off } : x));
  const dot = xlatedDot({ insns } as unknown as Parameters<typeof xlatedDot>[0]);
  // xlatedDot prints helper calls by id (object code); kernel images carry __bpf_call_base offsets, which bpftool
  // names through kallsyms: rename them here (an options hook in xlatedDot would make this unnecessary)
  const opts = disasmOptions(undefined, symbolsOf(b));
  return cfgCallEdgeQuirk(dotDialect(dot)).replace(/\(85\) call ([^\s#]+)#(-?\d+)/g, (whole, _name: string, imm: string) => {
    const x = { code: 0x85, dst: 0, src: 0, off: 0, imm: Number(imm) };
    const name = opts.helperName!(x.imm) ?? opts.callTarget!(0, x);
    return name === undefined ? whole : `(85) call ${name}#${imm}`;
  });
}

function headerPlain(b: Backend, info: ProgInfo, fd: number): string {
  const t = bpftoolProgType(info.type);
  let s = `${info.id}: ${t !== undefined ? t : `type ${info.type}`}  `;
  if (info.name) s += `name ${progFullName(b, info, fd)}  `;
  s += `tag ${info.tag}${info.gplCompatible ? "  gpl" : ""}`;
  if (info.runTimeNs) s += ` run_time_ns ${info.runTimeNs} run_cnt ${info.runCnt}`;
  if (info.recursionMisses) s += ` recursion_misses ${info.recursionMisses}`;
  return s + "\n";
}

/** `bpftool prog dump xlated|jited PROG [file F | opcodes | visual | linum]` */
export async function progDump(mode: OutputMode, args: readonly string[]): Promise<ToolOutput> {
  const out = new Printer(mode);
  const b = out.b;
  const [what, ...rest] = args;
  if (!isPrefix(what, "xlated")) {
    out.error(isPrefix(what, "jited") ? "bpfkit prints translated (xlated) images only; jited needs a native disassembler" : `expected 'xlated' or 'jited', got: ${what ?? "(null)"}`);
    return out.result();
  }
  if (rest.length < 2) {
    return out.usage();
  }
  const fds = selectFds(out, "prog", rest.slice(0, 2));
  if (fds === undefined) return out.result();
  if (fds.length === 0) return out.result(255);
  const opt = rest.slice(2);
  let file: string | undefined;
  let opcodes = false, linum = false, visual = false;
  try {
    if (isPrefix(opt[0], "file")) {
      if (opt[1] === undefined) { out.error("expected file path"); return out.result(); }
      if (fds.length > 1) { out.error("several programs matched"); return out.result(); }
      file = opt[1];
    } else if (isPrefix(opt[0], "opcodes")) opcodes = true;
    else if (isPrefix(opt[0], "visual")) visual = true;
    else if (isPrefix(opt[0], "linum")) linum = true;
    if (opt.length > (file !== undefined ? 2 : opt.length ? 1 : 0)) {
      return out.usage();
    }
    const j = out.json;
    if (j && fds.length > 1) j.startArray();
    for (let i = 0; i < fds.length; i++) {
      const fd = fds[i]!;
      if (j && fds.length > 1) {
        j.startObject();
        progHeaderJson(b, j, b.progInfo(fd), fd);
        j.name("insns");
      } else if (fds.length > 1) out.print(headerPlain(b, b.progInfo(fd), fd));
      if (file !== undefined) {
        const { xlated } = b.progInfoExtras(fd, { xlated: true });
        try {
          writeFileSync(file, xlated ?? new Uint8Array(0), { mode: 0o600 });
        } catch (e) {
          out.error(`can't open file ${file}: ${strerror((e as { errno?: number }).errno ? -(e as { errno: number }).errno : 2)}`);
          return out.result();
        }
        if (out.json) out.json.raw("null");
      } else if (visual) {
        if (j) j.raw("null");
        else out.print(await xlatedKernelDot(b, fd));
      } else if (j) xlatedKernelJson(j, fd, { opcodes, linum }, b);
      else out.print(xlatedKernelPlain(fd, { opcodes, linum }, b));
      if (j && fds.length > 1) j.endObject();
      else if (i !== fds.length - 1 && fds.length > 1) out.print("\n");
    }
    if (j && fds.length > 1) j.endArray();
  } finally {
    fds.forEach((fd) => b.close(fd));
  }
  return out.result(0);
}
