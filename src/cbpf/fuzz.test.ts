// Arbitrary input never crashes: random instructions are accepted or rejected with a BpfError, accepted programs
// run on random packets to a u32 without throwing, and random assembler text assembles or fails with a BpfError.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isBpfError } from "../errors.ts";
import { compileCbpf } from "./interp.ts";
import { checkCbpf } from "./prepare.ts";
import { compileSeccomp } from "./seccomp.ts";
import { assembleCbpf } from "../isa/cbpf/asm.ts";

const insn = fc.record({
  code: fc.integer({ min: 0, max: 0xffff }).map((c) => (c & 0x100 ? c & 0xff : c)),
  jt: fc.integer({ min: 0, max: 255 }).map((j) => j % 6),
  jf: fc.integer({ min: 0, max: 255 }).map((j) => j % 6),
  k: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff })),
});

const swallow = (f: () => void) => {
  try { f(); } catch (e) { if (!isBpfError(e)) throw e; }
};

test("random programs: BpfError or a filter that returns a u32 for any packet", () => {
  fc.assert(fc.property(fc.array(insn, { minLength: 0, maxLength: 20 }), fc.uint8Array({ maxLength: 64 }), (p, pkt) => {
    assert.ok(checkCbpf(p) === null || isBpfError(checkCbpf(p)));
    for (const semantics of ["kernel", "libpcap"] as const) {
      swallow(() => {
        const r = compileCbpf(p, { semantics, budget: 1000 })(pkt, pkt.length, { networkOffset: 0, macOffset: 0 });
        assert.ok(Number.isInteger(r) && r >= 0 && r <= 0xffffffff);
      });
    }
    swallow(() => { compileSeccomp(p).run({ nr: 1, args: [1n, 2n] }); });
  }), { numRuns: 3000 });
});

test("random assembler text: instructions or a BpfError", () => {
  const words = fc.constantFrom("ld", "ldh", "ldb", "ldx", "jeq", "jneq", "ret", "add", "#", "[", "]", "x", "+", ",",
    ":", "M", "4*([14]&0xf)", "#len", "proto", "lbl", "lbl:", "0x10", "-1", "07", "\n", " ", ";c\n", "/*", "*/", "%");
  fc.assert(fc.property(fc.array(words, { maxLength: 30 }), fc.string({ maxLength: 20 }), (ws, junk) => {
    swallow(() => { assembleCbpf(ws.join(" ")); });
    swallow(() => { assembleCbpf(junk); });
  }), { numRuns: 2000 });
});
