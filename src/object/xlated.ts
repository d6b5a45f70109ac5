// `bpftool prog dump xlated` for a program of an object file, before the kernel sees it: bpftool's plain dump
// (func_info headers, `; source` line annotations found like bpf_prog_linfo__lfind, `opcodes` byte lines) and its
// `visual` DOT graph (cfg.c: functions split at bpf-to-bpf call targets, basic blocks, ENTRY/EXIT, edges).
// Map references print as `map[idx:N]` / `map[idx:N]+off` (the object's map index; the kernel prints map ids), and a
// bpf-to-bpf call as `call pc+N` (bpftool's form for a program without JIT symbols).
import type { Btf } from "../btf/parse.ts";
import { typeOnlySignature } from "../btf/signature.ts";
import { formatInsnKernel, opcodeLine } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import type { KernelDisasmOptions } from "../isa/ebpf/index.ts";
import type { LineInfo, ProgramSpec } from "./types.ts";

const LDDW = 0x18;
const signed = (n: number) => (n >= 0 ? "+" : "") + n;

/** The disassembler hooks for object code (map indexes, pc-relative calls). */
export function disasmOptions(): KernelDisasmOptions {
  return {
    callTarget: (_pc, x) => (x.src === 1 ? signed(x.imm) : undefined),
    mapRef: (_pc, x, next) => {
      if (x.src === 5) return `map[idx:${x.imm}]`;
      if (x.src === 6) return `map[idx:${x.imm}]+${next?.imm ?? 0}`;
      return undefined;
    },
  };
}

/** bpf_prog_linfo__lfind: the last record (from nr_skip on) at or before `pc`, if record nr_skip is not after it. */
export function lfind(li: readonly LineInfo[], pc: number, nrSkip: number): LineInfo | undefined {
  if (nrSkip >= li.length || pc < li[nrSkip]!.insnOff) return undefined;
  let i = nrSkip;
  while (i < li.length && li[i]!.insnOff <= pc) i++;
  return li[i - 1];
}

export interface XlatedOptions {
  readonly opcodes?: boolean;
  readonly linum?: boolean;
}

/** The plain dump's lines (no trailing newline on each). */
export function xlatedPlain(prog: ProgramSpec, btf: Btf | undefined, opts: XlatedOptions = {}): string[] {
  const out: string[] = [];
  const insns = prog.insns;
  const dopts = disasmOptions();
  let fi = 0;
  let nrSkip = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const rec = prog.funcInfo[fi];
    if (btf && rec && rec.insnOff === pc) {
      const sig = typeOnlySignature(btf, rec.typeId);
      if (sig) out.push(`${sig}:`);
      fi++;
    }
    if (btf && prog.lineInfo.length) {
      const l = lfind(prog.lineInfo, pc, nrSkip);
      if (l) {
        const src = l.line.replace(/^[ \t\n\v\f\r]+/, "");
        out.push(opts.linum ? `; ${src} [file:${l.fileName} line_num:${l.lineNum} line_col:${l.lineCol}]` : `; ${src}`);
        nrSkip++;
      }
    }
    out.push(`${String(pc).padStart(4)}: ${formatInsnKernel(insns, pc, dopts)}`);
    if (opts.opcodes) out.push(opcodeLine(insns, pc));
    if (insns[pc]!.code === LDDW) pc++;
  }
  return out;
}

export interface CfgBlock { readonly head: number; readonly tail: number; readonly idx: number }
export interface CfgFunc { readonly start: number; readonly end: number; readonly idx: number; readonly blocks: readonly CfgBlock[] }
interface Func { start: number; end: number; idx: number; blocks: CfgBlock[] }

const isJmp = (code: number) => (code & 7) === 5 || (code & 7) === 6;
const op = (code: number) => code & 0xf0;
/** A bpf-to-bpf call's target offset: `off` in kernel-translated code, `imm` in object code (see header). */
const callOff = (x: Insn) => x.imm;
/** cfg.c follows `off` for every jump (bpftool 7.1 predates gotol's imm offset). */
const jmpOff = (x: Insn) => x.off;

/** cfg.c's functions and basic blocks: functions start at the entry and every bpf-to-bpf call target, blocks at jump
 * targets and after conditional jumps; block idx counts from 2 (0 and 1 are ENTRY and EXIT in the DOT graph). */
export function xlatedCfg(insns: readonly Insn[]): readonly CfgFunc[] {
  const n = insns.length;
  // functions: entry plus every pseudo-call target
  const starts = new Set<number>([0]);
  for (let i = 0; i < n; i++) {
    const x = insns[i]!;
    if (x.code === 0x85 && x.src === 1) starts.add(i + callOff(x) + 1);
  }
  const sorted = [...starts].filter((s) => s >= 0 && s < n).sort((a, b) => a - b);
  const funcs: Func[] = sorted.map((start, k) => ({ start, end: (sorted[k + 1] ?? n) - 1, idx: 0, blocks: [] }));
  // cfg_append_func numbers functions in discovery order: entry 0, then call targets as first seen
  const order = [0];
  for (let i = 0; i < n; i++) {
    const x = insns[i]!;
    if (x.code === 0x85 && x.src === 1) {
      const t = i + callOff(x) + 1;
      if (t >= 0 && t < n && !order.includes(t)) order.push(t);
    }
  }
  for (const f of funcs) {
    f.idx = order.indexOf(f.start);
    const heads = new Set<number>([f.start]);
    for (let i = f.start; i <= f.end; i++) {
      const x = insns[i]!;
      if (!isJmp(x.code)) continue;
      const o = op(x.code);
      if (o === 0x90 || o === 0x80) continue;
      heads.add(i + jmpOff(x) + 1);
      if (o !== 0x00) heads.add(i + 1);
    }
    // a jump outside its function (malformed code) would make bpftool read garbage; such heads are left out
    const hs = [...heads].filter((h) => h >= f.start && h <= f.end).sort((a, b) => a - b);
    f.blocks = hs.map((head, k) => ({ head, tail: (hs[k + 1] ?? f.end + 1) - 1, idx: k + 2 }));
  }
  return funcs;
}

/** cfg.c's DOT graph of the program, as one string. */
export function xlatedDot(prog: ProgramSpec): string {
  const insns = prog.insns;
  const funcs = xlatedCfg(insns);
  let dot = 'digraph "DOT graph for eBPF program" {\n';
  for (const f of funcs) {
    dot += `subgraph "cluster_${f.idx}" {\n\tstyle="dashed";\n\tcolor="black";\n\tlabel="func_${f.idx} ()";\n`;
    dot += `\tfn_${f.idx}_bb_0 [shape=Mdiamond,style=filled,label="ENTRY"];\n\n`;
    for (const b of f.blocks) {
      let label = "";
      // bpftool (with the 2023 fix Debian carries) skips an lddw's second slot, keeping the separator after it
      for (let i = b.head; i <= b.tail; i++) {
        label += `${String(i - f.start).padStart(4)}: ${graphInsn(insns, i)}`;
        if (i !== b.tail) label += " | ";
        if (insns[i]!.code === LDDW) i++;
      }
      dot += `\tfn_${f.idx}_bb_${b.idx} [shape=record,style=filled,label="{${label}}"];\n\n`;
    }
    dot += `\tfn_${f.idx}_bb_1 [shape=Mdiamond,style=filled,label="EXIT"];\n\n`;
    const edge = (a: number, b: number) => b < 0 ? "" :
      `\tfn_${f.idx}_bb_${a}:s -> fn_${f.idx}_bb_${b}:n [style="solid,bold", color=black, weight=10, constraint=true];\n`;
    const byHead = (h: number) => f.blocks.find((b) => b.head === h)?.idx ?? -1;
    dot += edge(0, f.blocks[0]?.idx ?? 1);
    f.blocks.forEach((b, k) => {
      const next = f.blocks[k + 1]?.idx ?? 1;
      const x = insns[b.tail]!;
      if (!isJmp(x.code) || op(x.code) === 0x90 || op(x.code) === 0x80) dot += edge(b.idx, next);
      else if (op(x.code) === 0x00) dot += edge(b.idx, byHead(b.tail + jmpOff(x) + 1));
      else {
        dot += edge(b.idx, next);
        dot += edge(b.idx, byHead(b.tail + jmpOff(x) + 1));
      }
    });
    dot += `\tfn_${f.idx}_bb_0:s -> fn_${f.idx}_bb_1:n [style="invis", constraint=true];\n`;
    dot += "}\n";
  }
  return dot + "}\n";
}

/** print_insn_for_graph: the insn text with its newline, cut to 63 bytes, `\n` → `\l\` + newline, `<>|&` escaped. */
function graphInsn(insns: readonly Insn[], i: number): string {
  const text = formatInsnKernel(insns, i, disasmOptions()) + "\n";
  const cut = text.length > 63 ? text.slice(0, 63) : text;
  let s = "";
  for (const ch of cut) {
    if (ch === "\n") s += "\\l\\\n";
    else if (ch === "<" || ch === ">" || ch === "|" || ch === "&") s += "\\" + ch;
    else s += ch;
  }
  return s;
}
