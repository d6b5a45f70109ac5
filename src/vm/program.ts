// Loading a program into the VM: check every slot is an instruction the interpreter knows (kernel:
// bpf_opcode_in_insntable), resolve lddw pseudo sources once, and pre-decode into flat typed arrays so the
// interpreter loop reads numbers, never objects. The program's bytes also live in a read-only "code" region, whose
// addresses are what `lddw rX, func` and callbacks use as function pointers.
import { BpfError } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE, MAX_BPF_REG,
} from "../isa/ebpf/opcodes.ts";
import type { AddressSpace, Region } from "./memory.ts";

/** How lddw pseudo sources become addresses (kernel: resolve_pseudo_ldimm64). */
export interface PseudoResolver {
  /** BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_IDX: the map handle address for fd or index `imm`. */
  map?(src: number, imm: number): number;
  /** BPF_PSEUDO_MAP_VALUE / BPF_PSEUDO_MAP_IDX_VALUE: address of the map's value plus `off`. */
  mapValue?(src: number, imm: number, off: number): number;
}

export interface LoadOptions {
  /** Program type name as bpftool prints it (socket_filter, xdp, sched_cls, ...). Informational for the VM. */
  readonly type?: string;
  readonly name?: string;
  readonly resolve?: PseudoResolver;
}

/** A program ready for the interpreter. Slot numbering equals the kernel's (lddw takes two slots). */
export interface LoadedProgram {
  readonly name: string;
  readonly type: string;
  readonly insns: readonly Insn[];
  readonly length: number;
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  /** op | dst << 8 | src << 12 in one word, what the interpreter loop reads per instruction. */
  readonly word: Int32Array;
  readonly off: Int32Array;
  /** imm; for lddw the first slot holds the low and the second slot the high half of the resolved value. */
  readonly imm: Int32Array;
  /** Read-only region holding the instruction bytes: the address of slot i is `code.start + 8 * i`. */
  readonly code: Region;
}

// Every opcode the interpreter executes (kernel/bpf/core.c BPF_INSN_MAP plus the cpu v4 additions).
const VALID = new Uint8Array(256);
{
  const aluOps = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
  for (const cls of [0x04, 0x07]) {
    for (const op of aluOps) { VALID[op | cls] = 1; VALID[op | 0x08 | cls] = 1; }
    VALID[0x80 | cls] = 1; // neg
  }
  VALID[0xd4] = 1; VALID[0xdc] = 1; VALID[0xd7] = 1; // le, be, bswap
  const jmpOps = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
  for (const cls of [0x05, 0x06]) for (const op of jmpOps) { VALID[op | cls] = 1; VALID[op | 0x08 | cls] = 1; }
  VALID[0x05] = 1; VALID[0x06] = 1; VALID[0x85] = 1; VALID[0x8d] = 1; VALID[0x95] = 1;
  VALID[0x18] = 1;
  for (const c of [0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) VALID[c] = 1; // ld_abs / ld_ind
  for (const sz of [0x00, 0x08, 0x10, 0x18]) { VALID[0x61 | sz] = 1; VALID[0x62 | sz] = 1; VALID[0x63 | sz] = 1; }
  for (const sz of [0x00, 0x08, 0x10]) VALID[0x81 | sz] = 1; // ldxs{w,h,b}
  for (const sz of [0x00, 0x08, 0x10, 0x18]) VALID[0xc3 | sz] = 1; // atomics (b/h only for acquire/release)
}

const ATOMIC_IMMS = new Set([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110]);

const bad = (pc: number, msg: string): BpfError => new BpfError("DECODE", `insn ${pc}: ${msg}`, { pc });

export function loadProgram(space: AddressSpace, insns: readonly Insn[], opts: LoadOptions = {}): LoadedProgram {
  const n = insns.length;
  if (n === 0) throw new BpfError("EINVAL", "empty program");
  const op = new Uint8Array(n), dst = new Uint8Array(n), src = new Uint8Array(n);
  const off = new Int32Array(n), imm = new Int32Array(n);
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    op[pc] = i.code; dst[pc] = i.dst; src[pc] = i.src; off[pc] = i.off; imm[pc] = i.imm;
  }
  const code = space.alloc(n * 8, { kind: "code", name: opts.name ? `code of ${opts.name}` : "code", writable: false });
  for (let pc = 0; pc < n; pc++) {
    const a = code.start + pc * 8;
    space.u8[a] = op[pc]!; space.u8[a + 1] = (dst[pc]! & 0xf) | ((src[pc]! & 0xf) << 4);
    space.dv.setInt16(a + 2, off[pc]!, true); space.dv.setInt32(a + 4, imm[pc]!, true);
  }
  for (let pc = 0; pc < n; pc++) {
    const c = op[pc]!;
    if (!VALID[c]) throw bad(pc, `unknown opcode 0x${c.toString(16).padStart(2, "0")}`);
    if (dst[pc]! >= MAX_BPF_REG || src[pc]! >= MAX_BPF_REG) throw bad(pc, `invalid register (dst r${dst[pc]}, src r${src[pc]})`);
    if ((c === 0xd4 || c === 0xdc || c === 0xd7) && imm[pc] !== 16 && imm[pc] !== 32 && imm[pc] !== 64) {
      throw bad(pc, `invalid byte swap width ${imm[pc]}`);
    }
    if ((c & 0xe7) === 0xc3 && !ATOMIC_IMMS.has(imm[pc]!)) throw bad(pc, `invalid atomic operation 0x${(imm[pc]! >>> 0).toString(16)}`);
    if ((c === 0xc3 + 0x10 || c === 0xc3 + 0x08) && imm[pc] !== 0x100 && imm[pc] !== 0x110) {
      throw bad(pc, "8- and 16-bit atomics exist only as load-acquire/store-release");
    }
    if (c === 0x18) {
      if (pc + 1 >= n) throw bad(pc, "lddw is missing its second half");
      if (op[pc + 1] !== 0) throw bad(pc + 1, "second half of lddw has a non-zero opcode");
      resolveLddw(pc, src[pc]!, imm, code, opts.resolve);
      pc++;
    }
  }
  const word = new Int32Array(n + 2);
  for (let pc = 0; pc < n; pc++) word[pc] = op[pc]! | (dst[pc]! << 8) | (src[pc]! << 12);
  word[n] = 0xff; // past the end: no such opcode, so the loop reports "jump out of the program"
  word[n + 1] = 0xff;
  return {
    name: opts.name ?? "prog", type: opts.type ?? "unspec", insns, length: n, op, dst, src, word, off, imm, code,
  };
}

function resolveLddw(pc: number, kind: number, imm: Int32Array, code: Region, resolve: PseudoResolver | undefined): void {
  let addr: number;
  switch (kind) {
    case 0: return;
    case BPF_PSEUDO_MAP_FD:
    case BPF_PSEUDO_MAP_IDX:
      if (!resolve?.map) throw bad(pc, `lddw refers to map ${kind === BPF_PSEUDO_MAP_FD ? "fd" : "index"} ${imm[pc]} but no maps were given`);
      addr = resolve.map(kind, imm[pc]!);
      break;
    case BPF_PSEUDO_MAP_VALUE:
    case BPF_PSEUDO_MAP_IDX_VALUE:
      if (!resolve?.mapValue) throw bad(pc, `lddw refers to the value of map ${imm[pc]} but no maps were given`);
      addr = resolve.mapValue(kind, imm[pc]!, imm[pc + 1]!);
      break;
    case BPF_PSEUDO_FUNC: {
      const target = pc + imm[pc]! + 1;
      if (target < 0 || target * 8 >= code.size) throw bad(pc, `lddw func target ${target} is outside the program`);
      addr = code.start + target * 8;
      break;
    }
    case BPF_PSEUDO_BTF_ID: throw bad(pc, "lddw of a BTF id (ksym) is not supported by the interpreter");
    default: throw bad(pc, `invalid lddw source ${kind}`);
  }
  imm[pc] = addr | 0;
  imm[pc + 1] = 0;
}
