import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Insn } from "./insn.ts";
import { decodeProgram } from "./encode.ts";
import { disassembleLlvm, formatInsnLlvm, llvmObjdumpSection } from "./disasm-llvm.ts";
import { insn } from "./insn.ts";

/** Golden listings captured from llvm-objdump 14 (see the header of each file); the bytes column gives the input. */
function golden(name: string): { insns: Insn[]; lines: string[] } {
  const lines = readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8").split("\n").filter((l) => /^\s+\d+:\t/.test(l));
  const hex = lines.map((l) => l.split("\t")[1]!).join(" ").split(" ");
  return { insns: decodeProgram(Uint8Array.from(hex, (b) => parseInt(b, 16))), lines };
}

for (const [file, alu32] of [["llvm14-objdump.txt", false], ["llvm14-objdump-alu32.txt", true]] as const) {
  test(`reproduces llvm-objdump 14 on every opcode (${file})`, () => {
    const { insns, lines } = golden(file);
    const ours = llvmObjdumpSection(insns, ".text", [{ name: "f", pc: 0 }], { alu32 }).filter((l) => /^\s+\d+:\t/.test(l));
    assert.deepEqual(ours, lines);
  });
}

test("instruction texts, and the newer spellings with `modern`", () => {
  const cases: [Insn, string, string][] = [
    [insn(0xbf, 1, 2, 8), "r1 = r2", "r1 = (s8)r2"],
    [insn(0x3f, 1, 2, 1), "r1 /= r2", "r1 s/= r2"],
    [insn(0x97, 1, 0, 1, 3), "<unknown>", "r1 s%= 3"],
    [insn(0x9c, 1, 2), "<unknown>", "w1 %= w2"],
    [insn(0xd7, 1, 0, 0, 16), "<unknown>", "r1 = bswap16 r1"],
    [insn(0x91, 1, 2, -3), "<unknown>", "r1 = *(s8 *)(r2 - 3)"],
    [insn(0x7a, 1, 0, 8, -5), "<unknown>", "*(u64 *)(r1 + 8) = -5"],
    [insn(0x06, 0, 0, 0, 70000), "<unknown>", "gotol +70000"],
    [insn(0xe5, 0, 0, 3), "<unknown>", "may_goto +3"],
    [insn(0x45, 1, 0, 1, 8), "<unknown>", "if r1 & 8 goto +1"],
    [insn(0x8d, 3), "callx r0", "callx r3"],
    [insn(0xc3, 1, 2, 0, 0x41), "<unknown>", "w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)"],
    [insn(0xdb, 0, 1, 0, 0x100), "lock *(u64 *)(r0 + 0) += r1", "r0 = load_acquire((u64 *)(r1 + 0))"],
    [insn(0x95), "exit", "exit"],
  ];
  for (const [x, v14, modern] of cases) {
    assert.equal(formatInsnLlvm([x], 0), v14);
    assert.equal(formatInsnLlvm([x], 0, { modern: true }), modern);
  }
  assert.deepEqual(disassembleLlvm([insn(0x18, 1, 0, 0, -1), insn(0, 0, 0, 0, 0), insn(0x95)]), ["r1 = 4294967295 ll", "exit"]);
});

test("jump annotations name the nearest symbol at or before the target, wrapping below the section start", () => {
  const p = [insn(0x05, 0, 0, -100), insn(0x05, 0, 0, 1), insn(0x95), insn(0x95)];
  const lines = llvmObjdumpSection(p, "xdp", [{ name: "prog", pc: 0 }, { name: "LBB0_3", pc: 3 }]);
  assert.deepEqual(lines, [
    "Disassembly of section xdp:",
    "",
    "0000000000000000 <prog>:",
    "       0:\t05 00 9c ff 00 00 00 00\tgoto -100 <LBB0_3+0xfffffffffffffcd0>",
    "       1:\t05 00 01 00 00 00 00 00\tgoto +1 <LBB0_3>",
    "       2:\t95 00 00 00 00 00 00 00\texit",
    "",
    "0000000000000018 <LBB0_3>:",
    "       3:\t95 00 00 00 00 00 00 00\texit",
  ]);
});

test("a whole llvm-objdump -d listing: header, sections in order, the section name where no symbol starts it", async () => {
  const { llvmObjdumpFile } = await import("./disasm-llvm.ts");
  const exit = [insn(0xb7, 0, 0, 0, 2), insn(0x95)];
  assert.deepEqual(llvmObjdumpFile("e.o", [
    { name: ".text", insns: [], symbols: [] },
    { name: "xdp", insns: exit, symbols: [] },
    { name: "tc", insns: exit, symbols: [{ name: "prog2", pc: 0 }] },
  ]).join("\n") + "\n", `
e.o:\tfile format elf64-bpf

Disassembly of section xdp:

0000000000000000 <xdp>:
       0:\tb7 00 00 00 02 00 00 00\tr0 = 2
       1:\t95 00 00 00 00 00 00 00\texit

Disassembly of section tc:

0000000000000000 <prog2>:
       0:\tb7 00 00 00 02 00 00 00\tr0 = 2
       1:\t95 00 00 00 00 00 00 00\texit
`);
  assert.deepEqual(llvmObjdumpFile("none.o", []), ["", "none.o:\tfile format elf64-bpf"]);
});
