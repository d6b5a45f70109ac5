// The opcode table: for each of the 256 code bytes, what instruction it is (or undefined when it is none).
// Built once from the small operation tables below; decoding, validateProgram, and both disassemblers read it.
// Sources: RFC 9669 (the ISA), include/uapi/linux/bpf.h and kernel/bpf/disasm.c (Linux 6.18 additions and spellings).

import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_DW, BPF_END, BPF_EXIT, BPF_H, BPF_IMM, BPF_IND, BPF_JA,
  BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_NEG, BPF_ST, BPF_STX, BPF_W, BPF_X,
} from "./opcodes.ts";

/** Conditional pseudo-jump op (may_goto), not yet in opcodes.ts. */
export const BPF_JCOND = 0xe0;
export const BPF_MAY_GOTO = 0;
/** Kernel-internal ST mode for speculation barriers, printed as `nospec` (no UAPI). */
export const BPF_NOSPEC = 0xc0;
/** Atomic imm values added in Linux 6.15. */
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;
/** ALU64 MOV X with off=1 is the arena address-space cast; off=-1 the kernel-internal per-CPU address move. */
export const BPF_ADDR_SPACE_CAST = 1;
export const BPF_ADDR_PERCPU = -1;

export interface AluOp {
  readonly op: number;
  /** bpf_conformance mnemonic stem. */
  readonly name: string;
  /** C-like operator as kernel/disasm.c and llvm print it (`+=`, `s>>=`, `=`). */
  readonly symbol: string;
  /** The signed variant selected by off=1 (sdiv/smod, RFC 9669 §4.1): mnemonic stem and operator. */
  readonly signed?: { readonly name: string; readonly symbol: string };
}

export const ALU_OPS: readonly AluOp[] = [
  { op: 0x00, name: "add", symbol: "+=" }, { op: 0x10, name: "sub", symbol: "-=" },
  { op: 0x20, name: "mul", symbol: "*=" }, { op: 0x30, name: "div", symbol: "/=", signed: { name: "sdiv", symbol: "s/=" } },
  { op: 0x40, name: "or", symbol: "|=" }, { op: 0x50, name: "and", symbol: "&=" },
  { op: 0x60, name: "lsh", symbol: "<<=" }, { op: 0x70, name: "rsh", symbol: ">>=" },
  { op: 0x80, name: "neg", symbol: "neg" }, { op: 0x90, name: "mod", symbol: "%=", signed: { name: "smod", symbol: "s%=" } },
  { op: 0xa0, name: "xor", symbol: "^=" }, { op: 0xb0, name: "mov", symbol: "=" },
  { op: 0xc0, name: "arsh", symbol: "s>>=" }, { op: 0xd0, name: "end", symbol: "endian" },
];

export const aluOp = (op: number): AluOp | undefined => ALU_OPS.find((a) => a.op === (op & 0xf0));

/** The ALU operations that also exist as atomic read-modify-write operations (imm of STX|ATOMIC, ± BPF_FETCH). */
export const ATOMIC_ALU_OPS: readonly AluOp[] = ALU_OPS.filter((a) => a.op === 0x00 || a.op === 0x40 || a.op === 0x50 || a.op === 0xa0);
export const atomicAluOp = (imm: number): AluOp | undefined => ATOMIC_ALU_OPS.find((a) => a.op === imm);

/** Sign-extending moves: MOV X with off = 8, 16 or 32 (ALU64) / 8, 16 (ALU). */
export const MOVSX_WIDTHS: readonly number[] = [8, 16, 32];

export interface JmpOp {
  readonly op: number;
  readonly name: string;
  readonly symbol: string;
}

/** Conditional jumps (JA, CALL, EXIT and JCOND are special forms). */
export const COND_JMP_OPS: readonly JmpOp[] = [
  { op: 0x10, name: "jeq", symbol: "==" }, { op: 0x20, name: "jgt", symbol: ">" },
  { op: 0x30, name: "jge", symbol: ">=" }, { op: 0x40, name: "jset", symbol: "&" },
  { op: 0x50, name: "jne", symbol: "!=" }, { op: 0x60, name: "jsgt", symbol: "s>" },
  { op: 0x70, name: "jsge", symbol: "s>=" }, { op: 0xa0, name: "jlt", symbol: "<" },
  { op: 0xb0, name: "jle", symbol: "<=" }, { op: 0xc0, name: "jslt", symbol: "s<" },
  { op: 0xd0, name: "jsle", symbol: "s<=" },
];

export const condJmpOp = (op: number): JmpOp | undefined => COND_JMP_OPS.find((j) => j.op === (op & 0xf0));

export interface AtomicOp {
  readonly imm: number;
  readonly name: string;
}

/** Atomic operations in the imm of STX|ATOMIC; `fetch` variants are imm | BPF_FETCH (0x01). */
export const ATOMIC_OPS: readonly AtomicOp[] = [
  { imm: 0x00, name: "add" }, { imm: 0x01, name: "fetch_add" },
  { imm: 0x40, name: "or" }, { imm: 0x41, name: "fetch_or" },
  { imm: 0x50, name: "and" }, { imm: 0x51, name: "fetch_and" },
  { imm: 0xa0, name: "xor" }, { imm: 0xa1, name: "fetch_xor" },
  { imm: 0xe1, name: "xchg" }, { imm: 0xf1, name: "cmpxchg" },
  { imm: BPF_LOAD_ACQ, name: "load_acquire" }, { imm: BPF_STORE_REL, name: "store_release" },
];

export const atomicOp = (imm: number): AtomicOp | undefined => ATOMIC_OPS.find((a) => a.imm === imm);

/** Memory access sizes: the size field, bytes, and the C type the disassemblers print. */
export const SIZES: readonly { readonly size: number; readonly bytes: number; readonly utype: string; readonly stype: string; readonly suffix: string }[] = [
  { size: BPF_W, bytes: 4, utype: "u32", stype: "s32", suffix: "w" },
  { size: BPF_H, bytes: 2, utype: "u16", stype: "s16", suffix: "h" },
  { size: BPF_B, bytes: 1, utype: "u8", stype: "s8", suffix: "b" },
  { size: BPF_DW, bytes: 8, utype: "u64", stype: "s64", suffix: "dw" },
];
export const sizeInfo = (code: number): (typeof SIZES)[number] => SIZES.find((s) => s.size === (code & 0x18))!;
/** The size whose width in bits is `bits` (8, 16, 32, 64). */
export const sizeOfBits = (bits: number): (typeof SIZES)[number] | undefined => SIZES.find((s) => s.bytes * 8 === bits);

export type InsnKind =
  | "alu" | "neg" | "end" | "bswap"
  | "jcond" | "ja" | "gotol" | "gotox" | "may_goto" | "call" | "callx" | "exit"
  | "lddw" | "ldabs" | "ldind" | "ldx" | "ldxs" | "st" | "stx" | "atomic" | "nospec";

export interface OpcodeInfo {
  readonly code: number;
  readonly kind: InsnKind;
  /** ALU32 or JMP32 class: operands are the 32-bit subregisters (printed `w`). */
  readonly is32: boolean;
  /** Operand is a register (BPF_X), else the immediate. */
  readonly useSrcReg: boolean;
  /** Memory access width in bytes (loads, stores, atomics, packet loads). */
  readonly bytes: number;
  /** ALU or conditional-jump operation, when the kind has one. */
  readonly alu?: AluOp;
  readonly jmp?: JmpOp;
  /**
   * Where the code exists: "isa" = RFC 9669 + Linux UAPI; "kernel" = only inside the kernel's xlated image (nospec,
   * gotox); "ubpf" = accepted by bpf_conformance/uBPF but refused by the Linux verifier (callx).
   */
  readonly origin: "isa" | "kernel" | "ubpf";
}

function buildTable(): readonly (OpcodeInfo | undefined)[] {
  const t: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);
  const put = (code: number, kind: InsnKind, extra: Partial<OpcodeInfo> = {}): void => {
    t[code] = { code, kind, is32: false, useSrcReg: (code & BPF_X) !== 0 && (code & 7) >= BPF_ALU, bytes: 0, origin: "isa", ...extra };
  };
  for (const cls of [BPF_ALU, BPF_ALU64]) {
    const is32 = cls === BPF_ALU;
    for (const alu of ALU_OPS) {
      if (alu.op === BPF_NEG) put(cls | BPF_NEG | BPF_K, "neg", { is32, alu });
      else if (alu.op === BPF_END) {
        // ALU|END: TO_LE/TO_BE conversions; ALU64|END|TO_LE: unconditional bswap (ALU64|END|TO_BE is reserved).
        if (is32) { put(cls | BPF_END | BPF_K, "end", { is32, alu, useSrcReg: false }); put(cls | BPF_END | BPF_X, "end", { is32, alu, useSrcReg: false }); }
        else put(cls | BPF_END | BPF_K, "bswap", { is32, alu });
      } else for (const src of [BPF_K, BPF_X]) put(cls | alu.op | src, "alu", { is32, alu });
    }
  }
  for (const cls of [BPF_JMP, BPF_JMP32]) {
    const is32 = cls === BPF_JMP32;
    for (const jmp of COND_JMP_OPS) for (const src of [BPF_K, BPF_X]) put(cls | jmp.op | src, "jcond", { is32, jmp });
  }
  put(BPF_JMP | BPF_JA | BPF_K, "ja");
  put(BPF_JMP | BPF_JA | BPF_X, "gotox", { origin: "kernel" });
  put(BPF_JMP32 | BPF_JA | BPF_K, "gotol", { is32: true });
  put(BPF_JMP | BPF_JCOND | BPF_K, "may_goto");
  put(BPF_JMP | BPF_CALL | BPF_K, "call");
  put(BPF_JMP | BPF_CALL | BPF_X, "callx", { origin: "ubpf" });
  put(BPF_JMP | BPF_EXIT | BPF_K, "exit");
  put(BPF_LD | BPF_IMM | BPF_DW, "lddw", { bytes: 8 });
  for (const s of SIZES) {
    if (s.size !== BPF_DW) {
      put(BPF_LD | BPF_ABS | s.size, "ldabs", { bytes: s.bytes });
      put(BPF_LD | BPF_IND | s.size, "ldind", { bytes: s.bytes });
      put(BPF_LDX | BPF_MEMSX | s.size, "ldxs", { bytes: s.bytes });
    }
    put(BPF_LDX | BPF_MEM | s.size, "ldx", { bytes: s.bytes });
    put(BPF_ST | BPF_MEM | s.size, "st", { bytes: s.bytes });
    put(BPF_STX | BPF_MEM | s.size, "stx", { bytes: s.bytes });
    // 8/16-bit atomics exist only for load_acquire/store_release; validateProgram checks the imm per size.
    put(BPF_STX | BPF_ATOMIC | s.size, "atomic", { bytes: s.bytes });
  }
  put(BPF_ST | BPF_NOSPEC, "nospec", { origin: "kernel" });
  return t;
}

/** Index = code byte. */
export const OPCODES: readonly (OpcodeInfo | undefined)[] = buildTable();

export const opcodeInfo = (code: number): OpcodeInfo | undefined => OPCODES[code & 0xff];
