// tcpdump's program listings (libpcap bpf_image.c and bpf_dump.c): `-d` one line per instruction in
// `(000) ldh      [12]` form, `-dd` as C initialisers, `-ddd` as decimal numbers after a count line.
// One table of mnemonics and operand styles drives the `-d` printer.
import { type CbpfInsn, SKF_AD_OFF } from "./insn.ts";

/** Names bpf_image gives to ancillary loads (SKF_AD_OFF + n). */
const ANCILLARY: Readonly<Record<number, string>> = {
  0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark", 24: "queue", 28: "hatype", 32: "rxhash",
  36: "cpu", 40: "xor_x", 44: "vlan_tci", 48: "vlanp", 52: "poff", 56: "random", 60: "vlan_tpid",
};

const s32 = (k: number): number => k | 0;
const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`;
function absOperand(k: number): string {
  const rel = (k >>> 0) - (SKF_AD_OFF >>> 0);
  if (rel >= 0 && rel < 64 && ANCILLARY[rel] !== undefined) return `[${ANCILLARY[rel]}]`;
  return `[${s32(k)}]`;
}

type Operand = (k: number, pc: number) => string;
const ALU_OPS: ReadonlyArray<readonly [number, string, "dec" | "hex"]> = [
  [0x00, "add", "dec"], [0x10, "sub", "dec"], [0x20, "mul", "dec"], [0x30, "div", "dec"], [0x90, "mod", "dec"],
  [0x50, "and", "hex"], [0x40, "or", "hex"], [0xa0, "xor", "hex"], [0x60, "lsh", "dec"], [0x70, "rsh", "dec"],
];
const JMP_OPS: ReadonlyArray<readonly [number, string]> = [[0x20, "jgt"], [0x30, "jge"], [0x10, "jeq"], [0x40, "jset"]];

/** code → [mnemonic, operand printer], as bpf_image's switch. */
const MNEMONICS = new Map<number, readonly [string, Operand]>([
  [0x06, ["ret", (k) => `#${s32(k)}`]],
  [0x16, ["ret", () => ""]],
  [0x20, ["ld", absOperand]], [0x28, ["ldh", absOperand]], [0x30, ["ldb", absOperand]],
  [0x80, ["ld", () => "#pktlen"]],
  [0x40, ["ld", (k) => `[x + ${s32(k)}]`]], [0x48, ["ldh", (k) => `[x + ${s32(k)}]`]], [0x50, ["ldb", (k) => `[x + ${s32(k)}]`]],
  [0x00, ["ld", (k) => `#${hex(k)}`]], [0x01, ["ldx", (k) => `#${hex(k)}`]],
  [0xb1, ["ldxb", (k) => `4*([${s32(k)}]&0xf)`]],
  [0x60, ["ld", (k) => `M[${s32(k)}]`]], [0x61, ["ldx", (k) => `M[${s32(k)}]`]],
  [0x02, ["st", (k) => `M[${s32(k)}]`]], [0x03, ["stx", (k) => `M[${s32(k)}]`]],
  [0x05, ["ja", (k, pc) => `${(pc + 1 + k) | 0}`]],
  [0x84, ["neg", () => ""]], [0x07, ["tax", () => ""]], [0x87, ["txa", () => ""]],
  ...JMP_OPS.flatMap(([op, name]) => [
    [0x05 | op, [name, (k: number) => `#${hex(k)}`]] as const,
    [0x0d | op, [name, () => "x"]] as const,
  ]),
  ...ALU_OPS.flatMap(([op, name, style]) => [
    [0x04 | op, [name, style === "hex" ? (k: number) => `#${hex(k)}` : (k: number) => `#${s32(k)}`]] as const,
    [0x0c | op, [name, () => "x"]] as const,
  ]),
]);

/** bpf_image: one `-d` line (without newline). */
export function bpfImage(insn: CbpfInsn, pc: number): string {
  const m = MNEMONICS.get(insn.code);
  const op = m ? m[0] : "unimp";
  const operand = m ? m[1](insn.k >>> 0, pc) : `0x${insn.code.toString(16)}`;
  const n = String(pc).padStart(3, "0");
  if ((insn.code & 0x07) === 0x05 && (insn.code & 0xf0) !== 0x00) {
    return `(${n}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${pc + 1 + insn.jt}\tjf ${pc + 1 + insn.jf}`;
  }
  return `(${n}) ${op.padEnd(8)} ${operand}`;
}

/** tcpdump -d / -dd / -ddd output, one string with a trailing newline per line. */
export function dumpProgram(prog: readonly CbpfInsn[], level: 1 | 2 | 3): string {
  if (level >= 3) {
    return `${prog.length}\n` + prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join("");
  }
  if (level === 2) {
    return prog.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, "0")} },\n`).join("");
  }
  return prog.map((i, pc) => bpfImage(i, pc) + "\n").join("");
}
