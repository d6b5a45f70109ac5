// The llvm-objdump instruction printer, as Debian's LLVM 14 prints BPF: `r1 = *(u32 *)(r2 - 3)`, `w1 += -7`,
// `if r1 == -7 goto -3 <f+0x58>`, `r1 = 4886718345 ll`, `lock *(u64 *)(r1 + 8) += r2`, decimal numbers throughout.
// LLVM 14 does not know the v4 instructions (movsx, sdiv/smod, bswap, ldxs*, st imm, gotol, may_goto), mod or jset: it
// prints `<unknown>` for them, and so do we unless `modern` asks for the newer LLVM spellings of those instructions.

import type { Insn } from "./insn.ts";
import { MOVSX_WIDTHS, aluOp, atomicAluOp, condJmpOp, opcodeInfo, sizeInfo } from "./opcode-table.ts";
import {
  BPF_DW, BPF_IMM, BPF_JSET, BPF_LD, BPF_MOD, BPF_MOV, BPF_TO_BE, BPF_W, bpfOp, bpfSrc,
} from "./opcodes.ts";
import { insnHexBytes } from "./encode.ts";

export interface LlvmDisasmOptions {
  /** As `llvm-objdump --mattr=+alu32`: 32-bit loads/stores and 32-bit atomics print `w` registers (and decode). */
  readonly alu32?: boolean;
  /** Print newer LLVM spellings (`r1 = (s8)r2`, `r1 s/= 3`, `gotol +5`, ...) where LLVM 14 prints `<unknown>`. */
  readonly modern?: boolean;
  /** Byte order of the raw byte column in listings (a bpfeb object). */
  readonly bigEndian?: boolean;
}

/** A symbol of the disassembled section, for objdump's `<name>:` headers and `<name+0x18>` jump annotations. */
export interface LlvmSymbol {
  readonly name: string;
  /** Instruction index (byte offset / 8) within the section. */
  readonly pc: number;
}

const UNKNOWN = "<unknown>";
const signed = (n: number): string => (n >= 0 ? "+" : "") + n;
const mem = (reg: number, off: number): string => `(r${reg} ${off < 0 ? "-" : "+"} ${Math.abs(off)})`;
/** The instruction text llvm-objdump prints for the slot at `pc` (an lddw covers pc and pc+1). */
export function formatInsnLlvm(insns: readonly Insn[], pc: number, opts: LlvmDisasmOptions = {}): string {
  const x = insns[pc]!;
  const info = opcodeInfo(x.code);
  if (!info) return UNKNOWN;
  const modern = opts.modern === true;
  const r = info.is32 ? "w" : "r";
  const op = bpfOp(x.code);
  switch (info.kind) {
    case "alu": {
      // LLVM 14 has no mod and ignores off, so sdiv prints as div.
      if (op === BPF_MOD && !modern) return UNKNOWN;
      const alu = aluOp(op)!;
      const sym = (modern && x.off === 1 ? alu.signed?.symbol : undefined) ?? alu.symbol;
      if (!info.useSrcReg) return `${r}${x.dst} ${sym} ${x.imm}`;
      const cast = modern && op === BPF_MOV && MOVSX_WIDTHS.includes(x.off) ? `(s${x.off})` : "";
      return `${r}${x.dst} ${sym} ${cast}${r}${x.src}`;
    }
    case "neg":
      return `${r}${x.dst} = -${r}${x.dst}`;
    case "end":
      return `r${x.dst} = ${bpfSrc(x.code) === BPF_TO_BE ? "be" : "le"}${x.imm} r${x.dst}`;
    case "bswap":
      return modern ? `r${x.dst} = bswap${x.imm} r${x.dst}` : UNKNOWN;
    case "jcond":
      if (op === BPF_JSET && !modern) return UNKNOWN;
      return `if ${r}${x.dst} ${condJmpOp(op)!.symbol} ${info.useSrcReg ? r + x.src : x.imm} goto ${signed(x.off)}`;
    case "ja":
      return `goto ${signed(x.off)}`;
    case "gotol":
      return modern ? `gotol ${signed(x.imm)}` : UNKNOWN;
    case "may_goto":
      return modern ? `may_goto ${signed(x.off)}` : UNKNOWN;
    case "call":
      return `call ${x.imm}`;
    case "callx":
      // LLVM 14 reads the register from imm; later LLVM (and the kernel, uBPF) from dst.
      if (modern) return `callx r${x.dst}`;
      return x.imm >= 0 && x.imm <= 10 ? `callx r${x.imm}` : UNKNOWN;
    case "exit":
      // LLVM's decoder matches exit on all 64 bits; any stray field makes it unknown.
      return x.dst || x.src || x.off || x.imm ? UNKNOWN : "exit";
    case "lddw": {
      // LLVM prints the first imm only, as unsigned 32-bit.
      if (x.src !== 0) return `ld_pseudo\tr${x.dst}, ${x.src}, ${x.imm >>> 0}`;
      const hi = insns[pc + 1]?.imm ?? 0;
      return `r${x.dst} = ${(BigInt(hi) << 32n) | BigInt(x.imm >>> 0)} ll`;
    }
    case "ldabs":
      return `r0 = *(${sizeInfo(x.code).utype} *)skb[${x.imm}]`;
    case "ldind":
      return `r0 = *(${sizeInfo(x.code).utype} *)skb[r${x.src}]`;
    case "ldx":
      return `${regForSize(x.code, opts)}${x.dst} = *(${sizeInfo(x.code).utype} *)${mem(x.src, x.off)}`;
    case "ldxs":
      return modern ? `${regForSize(x.code, opts)}${x.dst} = *(${sizeInfo(x.code).stype} *)${mem(x.src, x.off)}` : UNKNOWN;
    case "st":
      return modern ? `*(${sizeInfo(x.code).utype} *)${mem(x.dst, x.off)} = ${x.imm}` : UNKNOWN;
    case "stx":
      return `*(${sizeInfo(x.code).utype} *)${mem(x.dst, x.off)} = ${regForSize(x.code, opts)}${x.src}`;
    case "atomic":
      return formatAtomic(x, opts);
    case "gotox":
    case "nospec":
      return UNKNOWN;
  }
}

/** Sub-register `w` for 8/16/32-bit memory operands under alu32, as LLVM's BPF backend prints them. */
function regForSize(code: number, opts: LlvmDisasmOptions): string {
  return opts.alu32 && (code & 0x18) !== BPF_DW ? "w" : "r";
}

function formatAtomic(insn: Insn, opts: LlvmDisasmOptions): string {
  // LLVM 14's decoder reads only the low 8 bits of the atomic imm.
  const x = opts.modern ? insn : { ...insn, imm: insn.imm & 0xff };
  const is64 = (x.code & 0x18) === BPF_DW;
  const size = x.code & 0x18;
  const where = mem(x.dst, x.off);
  if (is64 || (size === BPF_W && (opts.alu32 || opts.modern))) {
    const r = is64 ? "r" : "w";
    const t = is64 ? "u64" : "u32";
    const rmw = atomicAluOp(x.imm & ~1);
    if (rmw && (x.imm & 1) === 0) return `lock *(${t} *)${where} ${rmw.symbol} ${r}${x.src}`;
    if (rmw) return `${r}${x.src} = atomic_fetch_${rmw.name}((${t} *)${where}, ${r}${x.src})`;
    if (x.imm === 0xe1) return is64 ? `r${x.src} = xchg_64(r${x.dst} ${sign(x.off)}, r${x.src})` : `w${x.src} = xchg32_32(r${x.dst} ${sign(x.off)}, w${x.src})`;
    if (x.imm === 0xf1) return is64 ? `r0 = cmpxchg_64(r${x.dst} ${sign(x.off)}, r0, r${x.src})` : `w0 = cmpxchg32_32(r${x.dst} ${sign(x.off)}, w0, w${x.src})`;
    if (x.imm === 0x100 && opts.modern) return `${r}${x.dst} = load_acquire((${t} *)${mem(x.src, x.off)})`;
    if (x.imm === 0x110 && opts.modern) return `store_release((${t} *)${where}, ${r}${x.src})`;
    return UNKNOWN;
  }
  // Without alu32 LLVM 14 knows only XADDW, whose pattern leaves imm bit 0 free.
  if (size === BPF_W && (x.imm & 0xfe) === 0 && !opts.modern) return `lock *(u32 *)${where} += r${x.src}`;
  if (opts.modern && (x.imm === 0x100 || x.imm === 0x110)) {
    const t = sizeInfo(x.code).utype;
    return x.imm === 0x100 ? `w${x.dst} = load_acquire((${t} *)${mem(x.src, x.off)})` : `store_release((${t} *)${where}, w${x.src})`;
  }
  return UNKNOWN;
}

const sign = (off: number): string => `${off < 0 ? "-" : "+"} ${Math.abs(off)}`;

/** The instruction texts llvm-objdump prints, one per instruction (an lddw is one entry covering two slots). */
export function disassembleLlvm(insns: readonly Insn[], opts: LlvmDisasmOptions = {}): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    out.push(formatInsnLlvm(insns, pc, opts));
    if (isLddw(insns[pc]!) && pc + 1 < insns.length) pc++;
  }
  return out;
}

const isLddw = (x: Insn): boolean => x.code === (BPF_LD | BPF_IMM | BPF_DW);

/**
 * objdump's ` <sym+0x18>` after a jump: the last symbol at or before the target byte address, compared as unsigned
 * 64-bit (a jump before the section start wraps to `<f+0xfffffffffffffce8>`, as llvm-objdump prints it).
 */
function jumpAnnotation(insns: readonly Insn[], pc: number, symbols: readonly LlvmSymbol[]): string {
  const x = insns[pc]!;
  const kind = opcodeInfo(x.code)?.kind;
  if (kind !== "ja" && kind !== "jcond") return "";
  const target = BigInt.asUintN(64, BigInt(pc + 1 + x.off) * 8n);
  let best: LlvmSymbol | undefined;
  for (const s of symbols) if (BigInt(s.pc * 8) <= target && (!best || s.pc >= best.pc)) best = s;
  if (!best) return "";
  const delta = target - BigInt(best.pc * 8);
  return delta === 0n ? ` <${best.name}>` : ` <${best.name}+0x${delta.toString(16)}>`;
}

/** One `llvm-objdump -d` instruction line: `%8d:\tBYTES\tTEXT` (16 bytes for an lddw), with the jump annotation. */
export function llvmObjdumpLine(
  insns: readonly Insn[], pc: number, symbols: readonly LlvmSymbol[] = [], opts: LlvmDisasmOptions = {},
): string {
  const x = insns[pc]!;
  const text = formatInsnLlvm(insns, pc, opts);
  const known = text !== UNKNOWN;
  const order = { bigEndian: opts.bigEndian === true };
  const two = isLddw(x) && known && pc + 1 < insns.length;
  const bytes = insnHexBytes(x, " ", order) + (two ? " " + insnHexBytes(insns[pc + 1]!, " ", order) : "");
  return `${String(pc).padStart(8)}:\t${bytes}\t${text}${known ? jumpAnnotation(insns, pc, symbols) : ""}`;
}

/** How many slots the line at `pc` covers (2 for a decoded lddw with its second slot present). */
const slotsOfLine = (insns: readonly Insn[], pc: number, opts: LlvmDisasmOptions): number =>
  isLddw(insns[pc]!) && pc + 1 < insns.length && formatInsnLlvm(insns, pc, opts) !== UNKNOWN ? 2 : 1;

/** The instruction lines alone (no section or symbol headers), e.g. for a raw .bin. */
export function llvmObjdumpLines(insns: readonly Insn[], symbols: readonly LlvmSymbol[] = [], opts: LlvmDisasmOptions = {}): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc += slotsOfLine(insns, pc, opts)) out.push(llvmObjdumpLine(insns, pc, symbols, opts));
  return out;
}

/** The first lines of `llvm-objdump -d FILE`: a blank line and `FILE:\tfile format elf64-bpf` (either byte order). */
export const llvmObjdumpHeader = (fileName: string): string[] => ["", `${fileName}:\tfile format elf64-bpf`];

/**
 * The lines `llvm-objdump -d` prints for one section: `Disassembly of section NAME:`, a blank line, then for each symbol a
 * `%016x <name>:` header and the instructions (`%8d:\tBYTES\tTEXT`), symbol groups separated by blank lines.
 */
export function llvmObjdumpSection(
  insns: readonly Insn[], sectionName: string, symbols: readonly LlvmSymbol[] = [], opts: LlvmDisasmOptions = {},
): string[] {
  const out = [`Disassembly of section ${sectionName}:`];
  // With no symbol at the section start, llvm-objdump names the start after the section.
  const syms = symbols.some((s) => s.pc === 0) ? symbols : [{ name: sectionName, pc: 0 }, ...symbols];
  const byPc = new Map<number, string>();
  for (const s of syms) if (!byPc.has(s.pc)) byPc.set(s.pc, s.name);
  for (let pc = 0; pc < insns.length; pc += slotsOfLine(insns, pc, opts)) {
    const name = byPc.get(pc);
    if (name !== undefined) out.push("", `${(pc * 8).toString(16).padStart(16, "0")} <${name}>:`);
    out.push(llvmObjdumpLine(insns, pc, syms, opts));
  }
  return out;
}

export interface LlvmCodeSection {
  readonly name: string;
  readonly insns: readonly Insn[];
  readonly symbols: readonly LlvmSymbol[];
}

/** All of `llvm-objdump -d FILE` for an object's non-empty code sections, in section order (lines, no final newline). */
export function llvmObjdumpFile(fileName: string, sections: readonly LlvmCodeSection[], opts: LlvmDisasmOptions = {}): string[] {
  const out = llvmObjdumpHeader(fileName);
  for (const s of sections) if (s.insns.length > 0) out.push("", ...llvmObjdumpSection(s.insns, s.name, s.symbols, opts));
  return out;
}

/** Whether `formatInsnLlvm` would print `<unknown>` (what LLVM 14 cannot decode). */
export const isUnknownToLlvm = (insns: readonly Insn[], pc: number, opts: LlvmDisasmOptions = {}): boolean =>
  formatInsnLlvm(insns, pc, opts) === UNKNOWN;
