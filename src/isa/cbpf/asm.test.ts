import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleCbpf, formatBpfAsm, formatBpfAsmC } from "./asm.ts";
import { isBpfError } from "../../errors.ts";

test("the kernel documentation's ARP example assembles like bpf_asm", () => {
  const insns = assembleCbpf(`
    ldh [12]
    jne #0x806, drop
    ret #-1
    drop: ret #0
  `);
  assert.equal(formatBpfAsm(insns), "4,40 0 0 12,21 0 1 2054,6 0 0 4294967295,6 0 0 0,\n");
  assert.equal(formatBpfAsmC(insns),
    "{ 0x28,  0,  0, 0x0000000c },\n{ 0x15,  0,  1, 0x00000806 },\n{ 0x06,  0,  0, 0xffffffff },\n{ 0x06,  0,  0, 0000000000 },\n");
});

test("every addressing form and mnemonic maps to its opcode", () => {
  const insns = assembleCbpf(`
    ld [12]            ; 0x20
    LDH [x + 2]        /* 0x48 */
    ldb [%x + 1]
    ld #len
    ldx len
    ld #7
    ldi 8
    ldxi #9
    ldx #10
    ld M[3]
    ldx M[4]
    st M[3]
    stx M[4]
    ldx 4*([14]&0xf)
    ldxb 4*([15]&0xf)
    ld proto
    ldh #vlan_tci
    ldb rand
    ld #poff
    add #1
    sub x
    mul %x
    div #3
    mod x
    neg
    and #0xff
    or x
    xor #0b101
    lsh #2
    rsh #010
    tax
    txa
    ret a
    ret %x
  `);
  assert.deepEqual(insns.map((n) => [n.code, n.k]), [
    [0x20, 12], [0x48, 2], [0x50, 1], [0x80, 0], [0x81, 0], [0x00, 7], [0x00, 8], [0x01, 9], [0x01, 10],
    [0x60, 3], [0x61, 4], [0x02, 3], [0x03, 4], [0xb1, 14], [0xb1, 15],
    [0x20, 0xfffff000], [0x28, 0xfffff02c], [0x30, 0xfffff038], [0x20, 0xfffff034],
    [0x04, 1], [0x1c, 0], [0x2c, 0], [0x34, 3], [0x9c, 0], [0x84, 0], [0x54, 0xff], [0x4c, 0], [0xa4, 5],
    [0x64, 2], [0x74, 8], [0x07, 0], [0x87, 0], [0x16, 0], [0x0e, 0],
  ]);
});

test("conditional jumps: two labels, one label, and the inverted forms", () => {
  const insns = assembleCbpf(`
    start: jeq #1, yes, no
    jgt x, yes
    jneq #2, no
    jlt #3, no
    jle x, no
    jset #4, yes, no
    ja no
    yes: ret #1
    no: ret #0
  `);
  assert.deepEqual(insns.map((n) => [n.code, n.jt, n.jf, n.k]), [
    [0x15, 6, 7, 1], [0x2d, 5, 0, 0], [0x15, 0, 5, 2], [0x35, 0, 4, 3], [0x2d, 0, 3, 0], [0x45, 1, 2, 4],
    [0x05, 0, 0, 1], [0x06, 0, 0, 1], [0x06, 0, 0, 0],
  ]);
});

test("errors name the line and column", () => {
  const cases: [string, RegExp][] = [
    ["ld [12]\n  foo bar\n", /line 2:7: syntax error near 'bar'/],
    ["jeq #1, t, f\nt: ret #1\nf: ret #0", /unknown character 't'/],
    ["jeq #1, nowhere\nret #0", /no such label 'nowhere'/],
    ["ret #0 $", /unknown character '\$'/],
    ["ldx 3*([14]&0xf)\nret #0", /ldxb offset not supported!/],
    ["jeq #1, back\nback: ret #0\njeq #1, back\nret #0", /insn #2 jumps to insn #1, which is out of range/],
    ["ld", /syntax error near 'end of input'/],
    ["ret #1\n".repeat(4097), /only max 4096 insns allowed!/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => assembleCbpf(src), (e) => isBpfError(e) && re.test(e.message), src.slice(0, 30));
  }
});

test("numbers follow strtol/strtoul: negative decimals wrap, octal, hex, binary", () => {
  const k = (src: string) => assembleCbpf(src)[0]!.k;
  assert.equal(k("ret #-1"), 0xffffffff);
  assert.equal(k("ret #+5"), 5);
  assert.equal(k("ret #017"), 15);
  assert.equal(k("ret #0XFF"), 255);
  assert.equal(k("ret #0b11"), 3);
  assert.equal(k("ret #0x1ffffffff"), 0xffffffff);
});

test("lines starting with # are comments", () => {
  assert.equal(assembleCbpf("# a comment\nret #1\n").length, 1);
});

test("disassembling and assembling again gives the program back", async () => {
  const fc = (await import("fast-check")).default;
  const { disassembleCbpf } = await import("./disasm.ts");
  const { validProgram } = await import("../../cbpf/gen.test-util.ts");
  // bpf_asm writes k = 0 where the instruction ignores it, and jt = jf = 0 outside conditional jumps.
  const ignoresK = (c: number) => [0x16, 0x0e, 0x07, 0x87, 0x84, 0x80, 0x81].includes(c) || ((c & 7) >= 4 && (c & 7) <= 5 && (c & 8) !== 0);
  const canonical = (i: { code: number; jt: number; jf: number; k: number }) => {
    const cond = (i.code & 7) === 5 && i.code !== 0x05;
    return { code: i.code, jt: cond ? i.jt : 0, jf: cond ? i.jf : 0, k: ignoresK(i.code) ? 0 : i.k >>> 0 };
  };
  fc.assert(fc.property(validProgram, (p) => {
    assert.deepEqual(assembleCbpf(disassembleCbpf(p)), p.map(canonical));
  }), { numRuns: 500 });
  assert.equal(disassembleCbpf(assembleCbpf("ld proto\nldh [x + 2]\njeq #1, yes, no\nyes: ret a\nno: ret #0")),
    "ld proto\nldh [x + 2]\njeq #0x1, l3, l4\nl3: ret a\nl4: ret #0x0\n");
});
