// `bpftool prog dump xlated {id N | tag T | name N | pinned P} [opcodes | linum | visual | file F]` for programs in
// the kernel, as bpftool 7.1 prints it: the kernel's translated image (map ids, helper calls as offsets from
// __bpf_call_base named through /proc/kallsyms, bpf-to-bpf calls with their JIT symbols), func_info signatures and
// line_info source lines from the program's BTF. The instruction text is the ISA layer's kernel printer.
import { readFileSync, writeFileSync } from "node:fs";
import type { Insn } from "../isa/ebpf/insn.ts";
import { decodeProgram, formatInsnKernel, opcodeLine, type KernelDisasmOptions } from "../isa/ebpf/index.ts";
import { HELPER_NAMES } from "../helpers/ids.ts";
import type { Btf } from "../btf/parse.ts";
import { typeOnlySignature } from "../btf/signature.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { closeFd, getFdById } from "./bpf.ts";
import { strerror } from "./libc.ts";
import { btfInfo, progInfo, progInfoExtras, type ProgInfo } from "./info.ts";
import { Printer, isPrefix, progFullName, selectFds, bpftoolProgType, type OutputMode, type ToolOutput } from "./listing.ts";

// __BPF_FUNC_MAX_ID of the uapi header bpftool 7.1 was built with (Linux 6.2): disasm.c names helper ids below it.
const BPFTOOL_HELPER_MAX = 212;

interface Kallsyms {
  readonly callBase: bigint;
  readonly byAddress: Map<bigint, string>;
}

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

function disasmOptions(jitedKsyms: readonly bigint[] | undefined): KernelDisasmOptions {
  const syms = loadKallsyms();
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

function loadBtf(btfId: number): Btf | undefined {
  if (!btfId) return undefined;
  const fd = getFdById("btf", btfId);
  try {
    const { data } = btfInfo(fd, true);
    return btfFromFileBytes(data ?? new Uint8Array(0));
  } finally {
    closeFd(fd);
  }
}

/** The plain xlated listing of one kernel program. */
export function xlatedKernelPlain(fd: number, opts: { opcodes?: boolean; linum?: boolean } = {}): string {
  const info = progInfo(fd);
  const extras = progInfoExtras(fd, { xlated: true, funcInfo: true, lineInfo: true, ksyms: true });
  const insns: Insn[] = extras.xlated ? decodeProgram(extras.xlated) : [];
  const btf = loadBtf(info.btfId);
  const dopts = disasmOptions(extras.jitedKsyms);
  const funcRecs: { insnOff: number; typeId: number }[] = [];
  if (extras.funcInfo && info.funcInfoRecSize) {
    const v = new DataView(extras.funcInfo.buffer);
    for (let o = 0; o + 8 <= extras.funcInfo.length; o += info.funcInfoRecSize) funcRecs.push({ insnOff: v.getUint32(o, true), typeId: v.getUint32(o + 4, true) });
  }
  const lines = lineRecords(extras.lineInfo, info.lineInfoRecSize);
  let s = "";
  let fi = 0, nrSkip = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const rec = funcRecs[fi];
    if (btf && rec && rec.insnOff === pc) {
      const sig = typeOnlySignature(btf, rec.typeId);
      if (sig) s += `${sig}:\n`;
      fi++;
    }
    if (lines.length) {
      const l = lfind(lines, pc, nrSkip);
      if (l) {
        const text = btf?.str(l.lineOff);
        if (text !== undefined) {
          const src = text.replace(/^[ \t\n\v\f\r]+/, "");
          s += opts.linum
            ? `; ${src} [file:${btf!.str(l.fileNameOff) ?? ""} line_num:${l.lineCol >>> 10} line_col:${l.lineCol & 0x3ff}]\n`
            : `; ${src}\n`;
        }
        nrSkip++;
      }
    }
    s += `${String(pc).padStart(4)}: ${bpftool71Dialect(formatInsnKernel(insns, pc, dopts))}\n`;
    if (opts.opcodes) s += opcodeLine(insns, pc) + "\n";
    if (insns[pc]!.code === 0x18) pc++;
  }
  return s;
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
async function xlatedKernelDot(fd: number): Promise<string> {
  const { xlatedDot } = await import("../object/xlated.ts");
  const extras = progInfoExtras(fd, { xlated: true });
  // after JIT the kernel keeps a bpf-to-bpf call's relative target in `off` (imm becomes the subprogram index);
  // bpftool's graph follows and prints that offset, while xlatedDot reads object code's `imm`
  const insns = (extras.xlated ? decodeProgram(extras.xlated) : []).map((x) => (x.code === 0x85 && x.src === 1 ? { ...x, imm: x.off } : x));
  const dot = xlatedDot({ insns } as unknown as Parameters<typeof xlatedDot>[0]);
  // xlatedDot prints helper calls by id (object code); kernel images carry __bpf_call_base offsets, which bpftool
  // names through kallsyms: rename them here (an options hook in xlatedDot would make this unnecessary)
  const opts = disasmOptions(undefined);
  return cfgCallEdgeQuirk(dotDialect(dot)).replace(/\(85\) call ([^\s#]+)#(-?\d+)/g, (whole, _name: string, imm: string) => {
    const x = { code: 0x85, dst: 0, src: 0, off: 0, imm: Number(imm) };
    const name = opts.helperName!(x.imm) ?? opts.callTarget!(0, x);
    return name === undefined ? whole : `(85) call ${name}#${imm}`;
  });
}

function headerPlain(info: ProgInfo, fd: number): string {
  const t = bpftoolProgType(info.type);
  let s = `${info.id}: ${t !== undefined ? t : `type ${info.type}`}  `;
  if (info.name) s += `name ${progFullName(info, fd)}  `;
  s += `tag ${info.tag}${info.gplCompatible ? "  gpl" : ""}`;
  if (info.runTimeNs) s += ` run_time_ns ${info.runTimeNs} run_cnt ${info.runCnt}`;
  if (info.recursionMisses) s += ` recursion_misses ${info.recursionMisses}`;
  return s + "\n";
}

/** `bpftool prog dump xlated|jited PROG [file F | opcodes | visual | linum]` */
export async function progDump(mode: OutputMode, args: readonly string[]): Promise<ToolOutput> {
  const out = new Printer(mode);
  const [what, ...rest] = args;
  if (!isPrefix(what, "xlated")) {
    out.error(isPrefix(what, "jited") ? "bpfkit prints translated (xlated) images only; jited needs a native disassembler" : `expected 'xlated' or 'jited', got: ${what ?? ""}`);
    return out.result();
  }
  if (rest.length < 2) {
    out.err += "Usage: bpftool prog dump xlated PROG [{ file FILE | [opcodes] [linum] [visual] }]\n";
    return out.result(255);
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
      out.err += "Usage: bpftool prog dump xlated PROG [{ file FILE | [opcodes] [linum] [visual] }]\n";
      return out.result(255);
    }
    if (out.json && !file) {
      out.error("bpfkit does not produce the JSON form of `prog dump xlated` yet; use the plain form");
      return out.result();
    }
    for (let i = 0; i < fds.length; i++) {
      const fd = fds[i]!;
      if (fds.length > 1) out.print(headerPlain(progInfo(fd), fd));
      if (file !== undefined) {
        const { xlated } = progInfoExtras(fd, { xlated: true });
        try {
          writeFileSync(file, xlated ?? new Uint8Array(0), { mode: 0o600 });
        } catch (e) {
          out.error(`can't open file ${file}: ${strerror((e as { errno?: number }).errno ? -(e as { errno: number }).errno : 2)}`);
          return out.result();
        }
        if (out.json) out.json.raw("null");
      } else if (visual) out.print(await xlatedKernelDot(fd));
      else out.print(xlatedKernelPlain(fd, { opcodes, linum }));
      if (i !== fds.length - 1 && fds.length > 1) out.print("\n");
    }
  } finally {
    fds.forEach(closeFd);
  }
  return out.result(0);
}
