// tcpdump's listings: bpf_image spacing and operand forms, -dd and -ddd formats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bpfImage, dumpProgram } from "./image.ts";
import { cbpfInsn } from "./insn.ts";

test("-d lines: mnemonic padded to 8, jump operand to 16, targets absolute", () => {
  assert.equal(bpfImage(cbpfInsn(0x28, 0, 0, 12), 0), "(000) ldh      [12]");
  assert.equal(bpfImage(cbpfInsn(0x15, 0, 6, 0x800), 1), "(001) jeq      #0x800           jt 2\tjf 8");
  assert.equal(bpfImage(cbpfInsn(0xb1, 0, 0, 14), 13), "(013) ldxb     4*([14]&0xf)");
  assert.equal(bpfImage(cbpfInsn(0x06, 0, 0, 262144), 18), "(018) ret      #262144");
  assert.equal(bpfImage(cbpfInsn(0x07, 0, 0, 0), 3), "(003) tax      ");
  assert.equal(bpfImage(cbpfInsn(0x05, 0, 0, -16 >>> 0), 40), "(040) ja       25");
});

test("ancillary loads are named, unknown codes are unimp", () => {
  assert.equal(bpfImage(cbpfInsn(0x28, 0, 0, (-0x1000 + 4) >>> 0), 0), "(000) ldh      [type]");
  assert.equal(bpfImage(cbpfInsn(0x20, 0, 0, (-0x1000 + 8) >>> 0), 0), "(000) ld       [ifidx]");
  assert.equal(bpfImage(cbpfInsn(0xff, 0, 0, 0), 2), "(002) unimp    0xff");
});

test("-dd and -ddd", () => {
  const p = [cbpfInsn(0x28, 0, 0, 12), cbpfInsn(0x06, 0, 0, 0)];
  assert.equal(dumpProgram(p, 2), "{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00000000 },\n");
  assert.equal(dumpProgram(p, 3), "2\n40 0 0 12\n6 0 0 0\n");
});
