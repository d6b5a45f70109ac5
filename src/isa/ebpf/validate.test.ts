import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfError } from "../../errors.ts";
import { insn, type Insn } from "./insn.ts";
import { decodeProgram } from "./encode.ts";
import { findProblem, validateProgram } from "./validate.ts";
import { assemble } from "./assemble.ts";

const EXIT = insn(0x95);

function rejects(p: Insn[], pc: number, re: RegExp, opts = {}): void {
  assert.throws(() => validateProgram(p, opts), (e: unknown) => {
    assert.ok(e instanceof BpfError);
    assert.equal(e.code, "DECODE");
    assert.equal(e.location.pc, pc);
    assert.match(e.message, new RegExp(`^insn ${pc}: `));
    assert.match(e.message, re);
    return true;
  }, re.source);
}

test("accepts a program using every instruction family", () => {
  validateProgram(assemble(`
    mov %r0, 1
    sdiv32 %r0, 3
    movsx1664 %r1, %r0
    bswap64 %r1
    le16 %r1
    lddw %r2, 0x123456789
    ldxsb %r3, [%r10-1]
    stdw [%r10-8], 7
    lock fetch add [%r10-8], %r0
    lock cmpxchg32 [%r10-8], %r1
    jsle32 %r0, %r1, +1
    ja32 +0
    call local f
    exit
f:  call 1
    exit`));
  validateProgram(assemble(`
    r1 = map[id:5]
    r2 = map[id:5][0]+16
    r3 = map[idx:1]+4
    r4 = subprog[+3]
    r0 = *(u16 *)skb[12]
    r0 = *(u8 *)skb[r6 + 2]
    may_goto pc+0
    r0 = load_acquire((u8 *)(r1 +0))
    store_release((u16 *)(r1 +0), r2)
    exit`));
});

test("unknown opcodes, including a lone second lddw slot and kernel-internal codes", () => {
  rejects([insn(0xff), EXIT], 0, /unknown opcode 0xff/);
  rejects([EXIT, insn(0x00)], 1, /unknown opcode 0x00/);
  rejects([insn(0xe4), EXIT], 0, /unknown opcode 0xe4/);
  rejects([insn(0x38), EXIT], 0, /unknown opcode 0x38/, {}); // BPF_LD|BPF_ABS|BPF_DW
  rejects([insn(0x99), EXIT], 0, /unknown opcode 0x99/); // BPF_LDX|BPF_MEMSX|BPF_DW
  rejects([insn(0xdf), EXIT], 0, /unknown opcode 0xdf/); // BPF_ALU64|BPF_END|BPF_TO_BE
  rejects([insn(0x86), EXIT], 0, /unknown opcode 0x86/); // BPF_JMP32|BPF_CALL
  rejects([insn(0x96), EXIT], 0, /unknown opcode 0x96/); // BPF_JMP32|BPF_EXIT
  rejects([insn(0xc2), EXIT], 0, /unknown opcode 0xc2/); // nospec
  rejects([insn(0x0d, 1), EXIT], 0, /unknown opcode 0x0d/); // gotox
});

test("invalid registers", () => {
  rejects([insn(0xb7, 11), EXIT], 0, /invalid dst register r11/);
  rejects([insn(0xbf, 1, 15), EXIT], 0, /invalid src register r15/);
});

test("reserved fields set", () => {
  rejects([insn(0xb7, 0, 1, 0, 5), EXIT], 0, /BPF_ALU with immediate: src uses reserved fields/);
  rejects([insn(0x07, 0, 0, 3, 5), EXIT], 0, /invalid off 3 for BPF_ALU64/);
  rejects([insn(0x0f, 0, 1, 0, 5), EXIT], 0, /BPF_ALU with register source: imm uses reserved fields/);
  rejects([insn(0x3c, 0, 1, 2), EXIT], 0, /invalid off 2 for BPF_ALU/);
  rejects([insn(0xbc, 0, 1, 32), EXIT], 0, /invalid off 32 for BPF_ALU /); // no movsx32 in ALU32
  rejects([insn(0x87, 0, 0, 0, 1), EXIT], 0, /BPF_NEG uses reserved fields/);
  rejects([insn(0xd4, 0, 0, 0, 8), EXIT], 0, /invalid byte swap width 8/);
  rejects([insn(0xdc, 0, 2, 0, 16), EXIT], 0, /BPF_END uses reserved fields/);
  rejects([insn(0x15, 0, 1, 0, 5), EXIT], 0, /BPF_JMP uses reserved fields/);
  rejects([insn(0x1e, 0, 1, 0, 5), EXIT], 0, /BPF_JMP32 uses reserved fields/);
  rejects([insn(0x05, 1, 0, 0), EXIT], 0, /BPF_JA uses reserved fields/);
  rejects([insn(0x06, 0, 0, 1, 0), EXIT], 0, /BPF_JMP32\|BPF_JA uses reserved fields/);
  rejects([insn(0xe5, 0, 1, 0), EXIT], 0, /invalid may_goto/);
  rejects([insn(0x85, 1, 0, 0, 1), EXIT], 0, /BPF_CALL uses reserved fields/);
  rejects([insn(0x85, 0, 0, 4, 1), EXIT], 0, /BPF_CALL uses reserved fields/);
  rejects([insn(0x85, 0, 3, 0, 1), EXIT], 0, /invalid call src 3/);
  rejects([insn(0x95, 0, 0, 0, 1)], 0, /BPF_EXIT uses reserved fields/);
  rejects([insn(0x20, 1, 0, 0, 1), EXIT], 0, /BPF_LD_\[ABS\|IND\] uses reserved fields/);
  rejects([insn(0x40, 0, 1, 2, 1), EXIT], 0, /BPF_LD_\[ABS\|IND\] uses reserved fields/);
  rejects([insn(0x61, 0, 1, 0, 1), EXIT], 0, /BPF_LDX uses reserved fields/);
  rejects([insn(0x62, 10, 1, -4, 1), EXIT], 0, /BPF_ST uses reserved fields/);
  rejects([insn(0x63, 10, 1, -4, 1), EXIT], 0, /BPF_STX uses reserved fields/);
  rejects([insn(0xbf, 1, 2, 1, 7), EXIT], 0, /addr_space_cast/);
  rejects([insn(0xbf, 1, 2, -1, 0), EXIT], 0, /invalid off -1/); // per-CPU move is kernel-internal
});

test("broken lddw pairs and bad pseudo sources", () => {
  rejects([insn(0x18, 1, 0, 0, 5)], 0, /lddw is missing its second half/);
  rejects([insn(0x18, 1, 0, 0, 5), insn(0x95), EXIT], 0, /second slot must be code 0/);
  rejects([insn(0x18, 1, 0, 0, 5), insn(0, 1), EXIT], 0, /second slot must be code 0/);
  rejects([insn(0x18, 1, 7, 0, 5), insn(0), EXIT], 0, /unrecognized bpf_ld_imm64 insn \(src 7\)/);
  rejects([insn(0x18, 1, 1, 0, 5), insn(0, 0, 0, 0, 8), EXIT], 0, /map reference with high imm 8/);
  rejects([insn(0x18, 1, 0, 3, 5), insn(0), EXIT], 0, /BPF_LD_IMM64 uses reserved fields/);
});

test("bad atomic operations and sizes", () => {
  rejects([insn(0xdb, 1, 2, 0, 0x10), EXIT], 0, /invalid atomic opcode 0x10/);
  rejects([insn(0xdb, 1, 2, 0, 0x02), EXIT], 0, /invalid atomic opcode 0x2/);
  rejects([insn(0xd3, 1, 2, 0, 0x00), EXIT], 0, /invalid atomic operand size/); // 8-bit add
  rejects([insn(0xcb, 1, 2, 0, 0xe1), EXIT], 0, /invalid atomic operand size/); // 16-bit xchg
  validateProgram([insn(0xd3, 1, 2, 0, 0x100), insn(0xcb, 1, 2, 0, 0x110), EXIT]);
});

test("jump and call targets must land on an instruction, not inside an lddw", () => {
  rejects([insn(0x05, 0, 0, 5), EXIT], 0, /jump out of range from insn 0 to 6/);
  rejects([insn(0x05, 0, 0, -2), EXIT], 0, /jump out of range from insn 0 to -1/);
  rejects([insn(0x05, 0, 0, 1), insn(0x18), insn(0), EXIT], 0, /jump into the middle of ldimm64 insn 1/);
  rejects([insn(0x85, 0, 1, 0, 9), EXIT], 0, /jump out of range/);
  rejects([insn(0x06, 0, 0, 0, 3), EXIT], 0, /jump out of range/);
  validateProgram([insn(0x05, 0, 0, 5), EXIT], { checkTargets: false });
});

test("callx is accepted unless Linux rules are asked for", () => {
  const p = [insn(0x8d, 2), EXIT];
  validateProgram(p);
  rejects(p, 0, /not supported by Linux/, { allowCallx: false });
});

test("findProblem returns the first problem without throwing; decodeProgram refuses a partial slot", () => {
  assert.equal(findProblem([EXIT]), undefined);
  assert.deepEqual(findProblem([EXIT, insn(0xff)]), { pc: 1, message: "unknown opcode 0xff" });
  assert.throws(() => decodeProgram(new Uint8Array(12)), /program length 12 is not a multiple of 8 bytes/);
});
