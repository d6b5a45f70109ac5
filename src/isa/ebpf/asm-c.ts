// The C-like syntaxes, read by one parser because they differ only in details:
//   kernel/bpftool: `r1 += -8`, `*(u32 *)(r10 -4) = r1`, `if r1 > 0x5 goto pc+3`, `call bpf_map_lookup_elem#1`,
//                   `r1 = map[id:5]`, `r0 = atomic64_fetch_add((u64 *)(r1 +0), r0)`, `r0 = bswap16 r0`
//   llvm-objdump:   `r1 = *(u64 *)(r0 + 8)`, `if r1 > 5 goto +3 <LBB0_2>`, `r0 = 0x123456789 ll`, `r2 = xchg_64(r1 + 0, r2)`
// A `w` register selects the 32-bit class (ALU, JMP32). Jump targets are `pc+N`, `+N`, `-N` or a label.

import type { AsmContext, Token } from "./asm-context.ts";
import { insn, type Insn } from "./insn.ts";
import { parseIntLiteral, toImm32, toImm64Halves, toOff16 } from "./asm-numbers.ts";
import {
  ALU_OPS, ATOMIC_ALU_OPS, BPF_ADDR_PERCPU, BPF_ADDR_SPACE_CAST, BPF_LOAD_ACQ, BPF_NOSPEC, BPF_STORE_REL, COND_JMP_OPS, sizeOfBits,
} from "./opcode-table.ts";
import { HELPER_IDS } from "../../uapi/index.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH,
  BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_NEG,
  BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_ST, BPF_STX, BPF_TO_BE, BPF_TO_LE, BPF_X, BPF_XCHG,
} from "./opcodes.ts";

const NUM = String.raw`[+-]?\s*(?:0x[0-9a-fA-F]+|\d+)`;
const REG = String.raw`[rw]\d+`;
const MEM = String.raw`\(\s*(r\d+)\s*(?:([+-])\s*(0x[0-9a-fA-F]+|\d+))?\s*\)`;
const TYPE = String.raw`\*?\(\s*([us](?:8|16|32|64))\s*\*\s*\)\s*`;
const TARGET = String.raw`(?:pc\s*)?([+-]\s*(?:0x[0-9a-fA-F]+|\d+)|[A-Za-z_.$][\w.$]*)(?:\s*<[^>]*>)?`;

/** Operator → [op, off]: the ALU table's operators and their signed (off=1) variants. */
const ALU_BY_SYMBOL = new Map<string, readonly [number, number]>(ALU_OPS.filter((a) => a.op !== BPF_NEG && a.op !== BPF_END)
  .flatMap((a) => [[a.symbol, [a.op, 0]] as const, ...(a.signed ? [[a.signed.symbol, [a.op, 1]] as const] : [])]));
const JMP_BY_SYMBOL = new Map(COND_JMP_OPS.map((j) => [j.symbol, j.op]));
const ATOMIC_BY_SYMBOL = new Map(ATOMIC_ALU_OPS.map((a) => [a.symbol, a.op]));
const ATOMIC_BY_NAME = new Map(ATOMIC_ALU_OPS.map((a) => [a.name, a.op]));
const sizeField = (bits: string): number => sizeOfBits(Number(bits))!.size;

type Match = RegExpExecArray & { indices: [number, number][] };
type Handler = (p: Parsed) => void;

/** A matched line: groups with their 1-based columns, and helpers that read them or fail at them. */
class Parsed {
  constructor(readonly ctx: AsmContext, readonly m: Match, readonly column: number, readonly codeHint?: number) {}
  has(i: number): boolean {
    return this.m[i] !== undefined;
  }
  text(i: number): string {
    return this.m[i]!;
  }
  tok(i: number): Token {
    return { text: this.m[i]!.replace(/\s+/g, ""), column: this.column + (this.m.indices[i]?.[0] ?? 0) };
  }
  fail(message: string, i = 0): never {
    return this.ctx.fail(message, this.tok(i).column);
  }
  reg(i: number): number {
    const n = Number(this.text(i).slice(1));
    if (n > 15) this.fail(`invalid register '${this.text(i)}'`, i);
    return n;
  }
  wide(i: number): boolean {
    return this.text(i)[0] === "r";
  }
  imm(i: number): number {
    const v = parseIntLiteral(this.tok(i).text);
    const r = v === undefined ? undefined : toImm32(v);
    if (r === undefined) this.fail(`immediate ${this.text(i)} does not fit in 32 bits`, i);
    return r;
  }
  off(i: number, signIdx?: number): number {
    if (!this.has(i)) return 0;
    const text = (signIdx !== undefined && this.has(signIdx) ? this.text(signIdx) : "") + this.tok(i).text;
    const v = parseIntLiteral(text);
    const r = v === undefined ? undefined : toOff16(v, /0x/i.test(text));
    if (r === undefined) this.fail(`offset ${text} does not fit in 16 bits`, i);
    return r;
  }
  sameWidth(a: number, b: number): void {
    if (this.wide(a) !== this.wide(b)) this.fail(`'${this.text(a)}' and '${this.text(b)}' mix 64-bit (r) and 32-bit (w) registers`, b);
  }
  /** Emits a jump/call whose `field` comes from the TARGET group `i`. */
  target(base: Insn, field: "off" | "imm", i: number): void {
    const t = this.tok(i);
    if (/^[+-]/.test(t.text)) {
      const v = field === "off" ? this.off(i) : this.imm(i);
      return this.ctx.emit({ ...base, [field]: v });
    }
    this.ctx.emitToLabel(base, field, t);
  }
}

const sizeOfType = (p: Parsed, i: number, allowSigned: boolean): [number, boolean] => {
  const t = p.text(i);
  if (t[0] === "s" && (!allowSigned || t === "s64")) p.fail(`'${t}' is not a valid access type here`, i);
  return [sizeField(t.slice(1)), t[0] === "s"];
};

const RULES: readonly [RegExp, Handler][] = [
  // r1 = 0x123 ll (llvm) — must precede the plain ALU rule.
  [re(`(r\\d+)\\s*=\\s*(${NUM})\\s*ll`), (p) => emitLddw(p, p.reg(1), 0, 2)],
  [re(`ld_pseudo\\s+(r\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(${NUM})`), (p) => {
    p.ctx.emit(insn(BPF_LD | BPF_IMM | BPF_DW, p.reg(1), Number(p.text(2)) & 0xf, 0, p.imm(3)));
    p.ctx.emit(insn(0));
  }],
  // Kernel ldimm64 operands: map[id:5], map[id:5][0]+16, map[idx:3]+8, subprog[+5].
  [re(`(r\\d+)\\s*=\\s*map\\[(id|fd|idx):(${NUM})\\](\\[0\\])?(?:\\s*\\+\\s*(${NUM}))?`), (p) => {
    const idx = p.text(2) === "idx";
    const withValue = p.has(4) || p.has(5);
    const src = idx ? (withValue ? BPF_PSEUDO_MAP_IDX_VALUE : BPF_PSEUDO_MAP_IDX) : (withValue ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD);
    p.ctx.emit(insn(BPF_LD | BPF_IMM | BPF_DW, p.reg(1), src, 0, p.imm(3)));
    p.ctx.emit(insn(0, 0, 0, 0, p.has(5) ? p.imm(5) : 0));
  }],
  [re(`(r\\d+)\\s*=\\s*subprog\\[\\s*(${TARGET})\\s*\\]`), (p) => {
    p.target(insn(BPF_LD | BPF_IMM | BPF_DW, p.reg(1), BPF_PSEUDO_FUNC), "imm", 3);
    p.ctx.emit(insn(0));
  }],
  // ALU: r1 += 5, w1 = w2, r1 s/= r2, w1 = (s8)w2.
  [re(`(${REG})\\s*(s>>=|s\\/=|s%=|<<=|>>=|\\+=|-=|\\*=|\\/=|\\|=|&=|%=|\\^=|=)\\s*(\\(s(8|16|32)\\)\\s*)?(${REG}|${NUM})`), (p) => {
    const [op, off0] = ALU_BY_SYMBOL.get(p.text(2))!;
    const cls = p.wide(1) ? BPF_ALU64 : BPF_ALU;
    const isReg = /^[rw]/.test(p.text(5));
    if (p.has(3)) {
      if (op !== BPF_MOV || !isReg) p.fail(`a sign-extending cast needs 'dst = (sN)src'`, 3);
      p.sameWidth(1, 5);
      return p.ctx.emit(insn(cls | BPF_MOV | BPF_X, p.reg(1), p.reg(5), Number(p.text(4)), 0));
    }
    if (isReg) {
      p.sameWidth(1, 5);
      return p.ctx.emit(insn(cls | op | BPF_X, p.reg(1), p.reg(5), off0, 0));
    }
    if (op === BPF_MOV && cls === BPF_ALU64) {
      // `r1 = 0x123456789` without `ll` (kernel syntax) needs an lddw; so does any value under a `(18)` prefix.
      const v = parseIntLiteral(p.tok(5).text);
      if (p.codeHint === (BPF_LD | BPF_IMM | BPF_DW) || (v !== undefined && toImm32(v) === undefined)) return emitLddw(p, p.reg(1), 0, 5);
    }
    p.ctx.emit(insn(cls | op | BPF_K, p.reg(1), 0, off0, p.imm(5)));
  }],
  [re(`(${REG})\\s*=\\s*-\\s*(${REG})`), (p) => {
    if (p.text(1) !== p.text(2)) p.fail(`negation is in place: write '${p.text(1)} = -${p.text(1)}'`, 2);
    p.ctx.emit(insn((p.wide(1) ? BPF_ALU64 : BPF_ALU) | BPF_NEG | BPF_K, p.reg(1)));
  }],
  [re(`(r\\d+)\\s*=\\s*(be|le|bswap)(16|32|64)\\s+(r\\d+)`), (p) => {
    if (p.text(1) !== p.text(4)) p.fail(`byte swaps are in place: write '${p.text(1)} = ${p.text(2)}${p.text(3)} ${p.text(1)}'`, 4);
    const code = p.text(2) === "bswap" ? BPF_ALU64 | BPF_END | BPF_TO_LE : BPF_ALU | BPF_END | (p.text(2) === "be" ? BPF_TO_BE : BPF_TO_LE);
    p.ctx.emit(insn(code, p.reg(1), 0, 0, Number(p.text(3))));
  }],
  [re(`(r\\d+)\\s*=\\s*addr_space_cast\\(\\s*(r\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)`), (p) => {
    p.ctx.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, p.reg(1), p.reg(2), BPF_ADDR_SPACE_CAST, ((Number(p.text(3)) << 16) | (Number(p.text(4)) & 0xffff)) | 0));
  }],
  [re(`(r\\d+)\\s*=\\s*&\\(\\s*void\\s+__percpu\\s*\\*\\s*\\)\\s*\\(\\s*(r\\d+)\\s*\\)`), (p) => {
    p.ctx.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, p.reg(1), p.reg(2), BPF_ADDR_PERCPU, 0));
  }],
  // Packet loads: r0 = *(u16 *)skb[12], r0 = *(u8 *)skb[r2 + 4], llvm's r0 = *(u8 *)skb[r2].
  [re(`r0\\s*=\\s*${TYPE}skb\\[\\s*(?:(r\\d+)\\s*(?:\\+\\s*(${NUM}))?|(${NUM}))\\s*\\]`), (p) => {
    const [size] = sizeOfType(p, 1, false);
    if (p.has(2)) p.ctx.emit(insn(BPF_LD | BPF_IND | size, 0, p.reg(2), 0, p.has(3) ? p.imm(3) : 0));
    else p.ctx.emit(insn(BPF_LD | BPF_ABS | size, 0, 0, 0, p.imm(4)));
  }],
  // Loads: r1 = *(u32 *)(r2 + 8), r1 = *(s8 *)(r2 -1), llvm alu32 w1 = *(u32 *)(r2 + 0).
  [re(`(${REG})\\s*=\\s*${TYPE}${MEM}`), (p) => {
    const [size, sx] = sizeOfType(p, 2, true);
    p.ctx.emit(insn(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | size, p.reg(1), p.reg(3), p.off(5, 4), 0));
  }],
  // Stores: *(u32 *)(r10 -4) = r1 | 5.
  [re(`${TYPE}${MEM}\\s*=\\s*(${REG}|${NUM})`), (p) => {
    const [size] = sizeOfType(p, 1, false);
    if (/^[rw]/.test(p.text(5))) p.ctx.emit(insn(BPF_STX | BPF_MEM | size, p.reg(2), p.reg(5), p.off(4, 3), 0));
    else p.ctx.emit(insn(BPF_ST | BPF_MEM | size, p.reg(2), 0, p.off(4, 3), p.imm(5)));
  }],
  [re(`lock\\s+${TYPE}${MEM}\\s*(\\+=|\\|=|&=|\\^=)\\s*(${REG})`), (p) => {
    const [size] = sizeOfType(p, 1, false);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(2), p.reg(6), p.off(4, 3), ATOMIC_BY_SYMBOL.get(p.text(5))!));
  }],
  // r0 = atomic64_fetch_add((u64 *)(r1 +0), r0) (kernel) | r0 = atomic_fetch_add((u64 *)(r1 + 0), r0) (llvm).
  [re(`(${REG})\\s*=\\s*atomic(?:64)?_fetch_(add|and|or|xor)\\(\\s*${TYPE}${MEM}\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    const [size] = sizeOfType(p, 3, false);
    if (p.text(1).slice(1) !== p.text(7).slice(1)) p.fail(`atomic fetch returns into its source register '${p.text(7)}'`, 1);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(4), p.reg(7), p.off(6, 5), ATOMIC_BY_NAME.get(p.text(2))! | BPF_FETCH));
  }],
  [re(`(${REG})\\s*=\\s*atomic(?:64)?_xchg\\(\\s*${TYPE}${MEM}\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    const [size] = sizeOfType(p, 2, false);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(3), p.reg(6), p.off(5, 4), BPF_XCHG));
  }],
  [re(`(${REG})\\s*=\\s*atomic(?:64)?_cmpxchg\\(\\s*${TYPE}${MEM}\\s*,\\s*[rw]0\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    const [size] = sizeOfType(p, 2, false);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(3), p.reg(6), p.off(5, 4), BPF_CMPXCHG));
  }],
  // llvm: r2 = xchg_64(r1 + 8, r2), w2 = xchg32_32(r1 - 8, w2), r0 = cmpxchg_64(r1 + 8, r0, r2).
  [re(`(${REG})\\s*=\\s*xchg(?:32)?_(32|64)\\(\\s*(r\\d+)\\s*([+-])\\s*(0x[0-9a-fA-F]+|\\d+)\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | sizeField(p.text(2)), p.reg(3), p.reg(6), p.off(5, 4), BPF_XCHG));
  }],
  [re(`(${REG})\\s*=\\s*cmpxchg(?:32)?_(32|64)\\(\\s*(r\\d+)\\s*([+-])\\s*(0x[0-9a-fA-F]+|\\d+)\\s*,\\s*[rw]0\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | sizeField(p.text(2)), p.reg(3), p.reg(6), p.off(5, 4), BPF_CMPXCHG));
  }],
  [re(`(${REG})\\s*=\\s*load_acquire\\(\\s*${TYPE}${MEM}\\s*\\)`), (p) => {
    const [size] = sizeOfType(p, 2, false);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(1), p.reg(3), p.off(5, 4), BPF_LOAD_ACQ));
  }],
  [re(`store_release\\(\\s*${TYPE}${MEM}\\s*,\\s*(${REG})\\s*\\)`), (p) => {
    const [size] = sizeOfType(p, 1, false);
    p.ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, p.reg(2), p.reg(5), p.off(4, 3), BPF_STORE_REL));
  }],
  // if r1 > 0x5 goto pc+3 | if w1 s< w2 goto -1 <LBB0_3>
  [re(`if\\s+(${REG})\\s*(s>=|s<=|s>|s<|==|!=|>=|<=|>|<|&)\\s*(${REG}|${NUM})\\s+goto\\s+${TARGET}`), (p) => {
    const cls = p.wide(1) ? BPF_JMP : BPF_JMP32;
    const op = JMP_BY_SYMBOL.get(p.text(2))!;
    if (/^[rw]/.test(p.text(3))) {
      p.sameWidth(1, 3);
      return p.target(insn(cls | op | BPF_X, p.reg(1), p.reg(3)), "off", 4);
    }
    p.target(insn(cls | op | BPF_K, p.reg(1), 0, 0, p.imm(3)), "off", 4);
  }],
  [re(`goto\\s+${TARGET}`), (p) => p.target(insn(BPF_JMP | BPF_JA), "off", 1)],
  [re(`gotol\\s+${TARGET}`), (p) => p.target(insn(BPF_JMP32 | BPF_JA), "imm", 1)],
  [re(`may_goto\\s+${TARGET}`), (p) => p.target(insn(BPF_JMP | 0xe0), "off", 1)],
  [re(`gotox\\s+(r\\d+)`), (p) => p.ctx.emit(insn(BPF_JMP | BPF_JA | BPF_X, p.reg(1)))],
  // call pc+5 (bpf-to-bpf; bpftool appends #name), call bpf_map_lookup_elem#1, call kernel-function#N, call 1.
  [re(`call\\s+pc\\s*([+-]\\s*\\d+)(?:#\\S*)?`), (p) => p.ctx.emit(insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, p.imm(1)))],
  [re(`call\\s+([A-Za-z_][\\w.-]*)#(${NUM})`), (p) => {
    const src = p.text(1) === "kernel-function" ? BPF_PSEUDO_KFUNC_CALL : 0;
    p.ctx.emit(insn(BPF_JMP | BPF_CALL, 0, src, 0, p.imm(2)));
  }],
  [re(`call\\s+(${NUM})`), (p) => p.ctx.emit(insn(BPF_JMP | BPF_CALL, 0, 0, 0, p.imm(1)))],
  [re(`call\\s+([A-Za-z_.$][\\w.$]*)`), (p) => {
    // A helper by name (`call bpf_ktime_get_ns`), else a label: a bpf-to-bpf call.
    const id = HELPER_IDS.get(p.text(1).replace(/^bpf_/, ""));
    if (id !== undefined && p.text(1).startsWith("bpf_")) return p.ctx.emit(insn(BPF_JMP | BPF_CALL, 0, 0, 0, id));
    p.target(insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL), "imm", 1);
  }],
  [re(`callx\\s+(r\\d+)`), (p) => p.ctx.emit(insn(BPF_JMP | BPF_CALL | BPF_X, p.reg(1)))],
  [re(`exit`), (p) => p.ctx.emit(insn(BPF_JMP | BPF_EXIT))],
  [re(`nospec`), (p) => p.ctx.emit(insn(BPF_ST | BPF_NOSPEC))],
];

function re(body: string): RegExp {
  return new RegExp(`^${body}$`, "d");
}

function emitLddw(p: Parsed, dst: number, src: number, i: number): void {
  const v = parseIntLiteral(p.tok(i).text);
  const halves = v === undefined ? undefined : toImm64Halves(v);
  if (!halves) p.fail(`immediate ${p.text(i)} does not fit in 64 bits`, i);
  p.ctx.emit(insn(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, halves.lo));
  p.ctx.emit(insn(0, 0, 0, 0, halves.hi));
}

/** Assembles one C-like instruction `text` starting at 1-based `column`; `codeHint` is a bpftool `(xx)` prefix's code. */
export function assembleCLine(ctx: AsmContext, text: string, column: number, codeHint?: number): void {
  for (const [pattern, handle] of RULES) {
    const m = pattern.exec(text) as Match | null;
    if (m) return handle(new Parsed(ctx, m, column, codeHint));
  }
  if (text === "<unknown>") ctx.fail("cannot assemble '<unknown>' (an encoding llvm-objdump could not decode)", column);
  const word = /^[^\s(]+/.exec(text)?.[0] ?? text;
  const known = /^(?:[rw]\d+|if|goto|gotol|gotox|may_goto|call|callx|lock|exit|ld_pseudo|store_release|\*)$/.test(word);
  ctx.fail(/^[A-Za-z_]\w*$/.test(word) && !known ? `unknown instruction '${word}'` : `cannot parse '${text}'`, column);
}
