// The kernel's classic checker: bpf_check_basics_ok() + bpf_check_classic() + check_load_and_stores()
// (net/core/filter.c), then the limits of bpf_convert_filter() (converted jumps must fit a 16-bit offset).
// Same verdict and errno as the kernel; every rejection says which instruction and why.

import { BpfError } from "../errors.ts";
import type { BpfErrorCode } from "../errors.ts";
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS,
  BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA,
  BPF_W, BPF_X, BPF_XOR, SKF_AD_OFF, ancillaryOf,
} from "../isa/cbpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";

/** chk_code_allowed(): the opcodes a classic program may use, with their names for messages. */
export const CBPF_ALLOWED_CODES: ReadonlyMap<number, string> = new Map([
  [BPF_ALU | BPF_ADD | BPF_K, "add #k"], [BPF_ALU | BPF_ADD | BPF_X, "add x"],
  [BPF_ALU | BPF_SUB | BPF_K, "sub #k"], [BPF_ALU | BPF_SUB | BPF_X, "sub x"],
  [BPF_ALU | BPF_MUL | BPF_K, "mul #k"], [BPF_ALU | BPF_MUL | BPF_X, "mul x"],
  [BPF_ALU | BPF_DIV | BPF_K, "div #k"], [BPF_ALU | BPF_DIV | BPF_X, "div x"],
  [BPF_ALU | BPF_MOD | BPF_K, "mod #k"], [BPF_ALU | BPF_MOD | BPF_X, "mod x"],
  [BPF_ALU | BPF_AND | BPF_K, "and #k"], [BPF_ALU | BPF_AND | BPF_X, "and x"],
  [BPF_ALU | BPF_OR | BPF_K, "or #k"], [BPF_ALU | BPF_OR | BPF_X, "or x"],
  [BPF_ALU | BPF_XOR | BPF_K, "xor #k"], [BPF_ALU | BPF_XOR | BPF_X, "xor x"],
  [BPF_ALU | BPF_LSH | BPF_K, "lsh #k"], [BPF_ALU | BPF_LSH | BPF_X, "lsh x"],
  [BPF_ALU | BPF_RSH | BPF_K, "rsh #k"], [BPF_ALU | BPF_RSH | BPF_X, "rsh x"],
  [BPF_ALU | BPF_NEG, "neg"],
  [BPF_LD | BPF_W | BPF_ABS, "ld [k]"], [BPF_LD | BPF_H | BPF_ABS, "ldh [k]"], [BPF_LD | BPF_B | BPF_ABS, "ldb [k]"],
  [BPF_LD | BPF_W | BPF_LEN, "ld #len"],
  [BPF_LD | BPF_W | BPF_IND, "ld [x + k]"], [BPF_LD | BPF_H | BPF_IND, "ldh [x + k]"],
  [BPF_LD | BPF_B | BPF_IND, "ldb [x + k]"],
  [BPF_LD | BPF_IMM, "ld #k"], [BPF_LD | BPF_MEM, "ld M[k]"],
  [BPF_LDX | BPF_W | BPF_LEN, "ldx #len"], [BPF_LDX | BPF_B | BPF_MSH, "ldx 4*([k]&0xf)"],
  [BPF_LDX | BPF_IMM, "ldx #k"], [BPF_LDX | BPF_MEM, "ldx M[k]"],
  [BPF_ST, "st M[k]"], [BPF_STX, "stx M[k]"],
  [BPF_MISC | BPF_TAX, "tax"], [BPF_MISC | BPF_TXA, "txa"],
  [BPF_RET | BPF_K, "ret #k"], [BPF_RET | BPF_A, "ret a"],
  [BPF_JMP | BPF_JA, "ja"],
  [BPF_JMP | BPF_JEQ | BPF_K, "jeq #k"], [BPF_JMP | BPF_JEQ | BPF_X, "jeq x"],
  [BPF_JMP | BPF_JGE | BPF_K, "jge #k"], [BPF_JMP | BPF_JGE | BPF_X, "jge x"],
  [BPF_JMP | BPF_JGT | BPF_K, "jgt #k"], [BPF_JMP | BPF_JGT | BPF_X, "jgt x"],
  [BPF_JMP | BPF_JSET | BPF_K, "jset #k"], [BPF_JMP | BPF_JSET | BPF_X, "jset x"],
]);

export const isConditionalJump = (code: number): boolean =>
  (code & 0x07) === BPF_JMP && code !== (BPF_JMP | BPF_JA);

function reject(code: BpfErrorCode, pc: number | undefined, message: string): never {
  const where = pc === undefined ? "classic program" : `classic instruction ${pc}`;
  throw new BpfError(code, `${where}: ${message}`, pc === undefined ? {} : { pc });
}

/** bpf_check_basics_ok(): 1..BPF_MAXINSNS instructions, else EINVAL. */
export function checkCbpfBasics(insns: readonly CbpfInsn[]): void {
  if (insns.length === 0) reject("EINVAL", undefined, "is empty (the kernel requires 1 to 4096 instructions)");
  if (insns.length > BPF_MAXINSNS) {
    reject("EINVAL", undefined, `has ${insns.length} instructions, more than BPF_MAXINSNS (${BPF_MAXINSNS})`);
  }
}

export interface StructureOptions {
  /** Also accept the seccomp checker's rewritten context load (BPF_LDX | BPF_W | BPF_ABS). */
  readonly seccomp?: boolean;
}

/** bpf_check_basics_ok() + bpf_check_classic(): throws a BpfError (EINVAL) naming the first bad instruction. */
export function checkCbpfStructure(insns: readonly CbpfInsn[], options: StructureOptions = {}): void {
  checkCbpfBasics(insns);
  const flen = insns.length;
  for (let pc = 0; pc < flen; pc++) {
    const { code, jt, jf } = insns[pc]!;
    const k = insns[pc]!.k >>> 0;
    const seccompLoad = options.seccomp && code === (BPF_LDX | BPF_W | BPF_ABS);
    if (!CBPF_ALLOWED_CODES.has(code) && !seccompLoad) {
      reject("EINVAL", pc, `opcode 0x${code.toString(16).padStart(2, "0")} is not a valid classic BPF instruction`);
    }
    if (seccompLoad && (k >= 64 || (k & 3) !== 0)) {
      reject("EINVAL", pc, `seccomp_data load at offset ${k} is not an aligned word inside the 64-byte struct`);
    }
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) reject("EINVAL", pc, `${CBPF_ALLOWED_CODES.get(code)} divides by the constant 0`);
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) reject("EINVAL", pc, `shift by ${k} is not below 32`);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) reject("EINVAL", pc, `scratch slot M[${k}] is out of range (M[0]..M[${BPF_MEMWORDS - 1}])`);
        break;
      case BPF_JMP | BPF_JA:
        if (k >= flen - pc - 1) reject("EINVAL", pc, `ja +${k} jumps to ${pc + 1 + k}, past the last instruction ${flen - 1}`);
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS:
        if (k >= (SKF_AD_OFF >>> 0) && ancillaryOf(k) < 0) {
          reject("EINVAL", pc, `ancillary load SKF_AD_OFF+${(k | 0) - SKF_AD_OFF} is unknown or unsupported`);
        }
        break;
      default:
        if (isConditionalJump(code) && (pc + jt + 1 >= flen || pc + jf + 1 >= flen)) {
          reject("EINVAL", pc, `conditional jump (jt ${jt}, jf ${jf}) lands past the last instruction ${flen - 1}`);
        }
    }
  }
  const last = insns[flen - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) {
    reject("EINVAL", flen - 1, "the last instruction must be ret #k or ret a");
  }
  checkLoadAndStores(insns);
}

/** check_load_and_stores(): along every path, a scratch word is stored before it is loaded. */
function checkLoadAndStores(insns: readonly CbpfInsn[]): void {
  const masks = new Uint16Array(insns.length).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    memvalid &= masks[pc]!;
    const { code, k, jt, jf } = insns[pc]!;
    switch (code) {
      case BPF_ST:
      case BPF_STX:
        memvalid |= 1 << k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if (!(memvalid & (1 << k))) {
          reject("EINVAL", pc, `M[${k}] is read before it is written on some path`);
        }
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + k] &= memvalid;
        memvalid = 0xffff;
        break;
      default:
        if (isConditionalJump(code)) {
          masks[pc + 1 + jt] &= memvalid;
          masks[pc + 1 + jf] &= memvalid;
          memvalid = 0xffff;
        }
    }
  }
}

