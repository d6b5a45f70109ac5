// eBPF opcode fields (RFC 9669 + Linux uapi/linux/bpf.h, bpf_common.h). One source of truth for every layer.

// Instruction classes (low 3 bits).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Size (bits 3-4) for LD/LDX/ST/STX.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Mode (bits 5-7) for LD/LDX/ST/STX.
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80; // classic only
export const BPF_MSH = 0xa0; // classic only
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Source (bit 3) for ALU/JMP.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
// For BPF_END: BPF_TO_LE shares the value of BPF_K, BPF_TO_BE of BPF_X.
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// ALU operations (bits 4-7).
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Jump operations (bits 4-7).
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// Atomic operations (in imm of BPF_STX|BPF_ATOMIC).
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// LD_IMM64 pseudo sources (src_reg of the first slot).
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// CALL sources (src_reg).
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

// Registers.
export const BPF_REG_0 = 0;
export const BPF_REG_1 = 1;
export const BPF_REG_10 = 10;
export const MAX_BPF_REG = 11;

// Limits (include/linux/bpf.h, filter.h).
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
export const MAX_TAIL_CALL_CNT = 33;
export const BPF_MAXINSNS = 4096;
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;

/** Size in bytes of a BPF_W/H/B/DW size field. */
export const sizeBytes = (size: number): number => (size === BPF_W ? 4 : size === BPF_H ? 2 : size === BPF_B ? 1 : 8);
