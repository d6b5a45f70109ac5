import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isBpfError } from "../../errors.ts";
import { assemble } from "./assemble.ts";
import { decodeProgram } from "./encode.ts";
import { findProblem } from "./validate.ts";
import { disassembleKernel } from "./disasm-kernel.ts";
import { disassembleLlvm, llvmObjdumpSection } from "./disasm-llvm.ts";
import { validProgram } from "./valid-insns.testkit.ts";

const onlyBpfErrors = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!isBpfError(e)) throw e;
    assert.equal(e.code, "ASSEMBLE");
    assert.ok(e.location.line !== undefined && e.location.column !== undefined && e.location.column >= 1);
  }
};

test("the printers are total: any 8-byte slots print without throwing, in every dialect", () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }).map((b) => b.subarray(0, b.length - (b.length % 8))), (bytes) => {
    for (const bigEndian of [false, true]) {
      const insns = decodeProgram(bytes, { bigEndian });
      findProblem(insns);
      disassembleKernel(insns, { opcodes: true });
      disassembleKernel(insns, { dialect: "bpftool-7.1" });
      disassembleLlvm(insns);
      disassembleLlvm(insns, { modern: true, alu32: true });
      llvmObjdumpSection(insns, ".text", [{ name: "f", pc: 0 }], { bigEndian });
    }
  }), { numRuns: 300 });
});

test("the assembler ends in a result or a positioned ASSEMBLE error on arbitrary text", () => {
  const tokens = fc.constantFrom("r1", "w2", "%r3", "=", "+=", "*(u32 *)", "(r10 -4)", "[%r1+8]", "goto", "if", "pc+1",
    "call", "lock", "0x10", "-5", "ll", "exit", ",", "(", ")", "map[id:1]", "L1:", "ja", "mov32", "lddw", "#", ";", "<x>");
  const line = fc.oneof(fc.string({ maxLength: 30 }), fc.array(tokens, { maxLength: 8 }).map((t) => t.join(" ")));
  fc.assert(fc.property(fc.array(line, { maxLength: 8 }), (lines) => onlyBpfErrors(() => assemble(lines.join("\n")))), { numRuns: 1000 });
});

test("mutating valid listings never crashes the assembler", () => {
  fc.assert(fc.property(validProgram(12), fc.nat(), fc.string({ maxLength: 3 }), (p, at, junk) => {
    const text = disassembleKernel(p).join("\n") + "\n" + disassembleLlvm(p, { modern: true }).join("\n");
    const i = at % (text.length + 1);
    onlyBpfErrors(() => assemble(text.slice(0, i) + junk + text.slice(i + 1)));
  }), { numRuns: 500 });
});
