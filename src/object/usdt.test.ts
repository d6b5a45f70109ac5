// USDT argument specs as <sys/sdt.h> writes them for x86-64, and notes read from a hand-built ELF.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseUsdtArg, usdtNotes, matchUsdt } from "./usdt.ts";

test("argument specs: registers of every width, constants, memory with displacement and index", () => {
  assert.deepEqual(parseUsdtArg("-4@%edi"), { kind: "reg", size: 4, signed: true, reg: "di" });
  assert.deepEqual(parseUsdtArg("8@%r12"), { kind: "reg", size: 8, signed: false, reg: "r12" });
  assert.deepEqual(parseUsdtArg("-1@%r8b"), { kind: "reg", size: 1, signed: true, reg: "r8" });
  assert.deepEqual(parseUsdtArg("4@$-5"), { kind: "imm", size: 4, signed: false, value: -5n });
  assert.deepEqual(parseUsdtArg("8@$0x10"), { kind: "imm", size: 8, signed: false, value: 16n });
  assert.deepEqual(parseUsdtArg("-4@-20(%rbp)"), { kind: "mem", size: 4, signed: true, reg: "bp", disp: -20 });
  assert.deepEqual(parseUsdtArg("-8@(%r9,%rax,8)"), { kind: "mem", size: 8, signed: true, reg: "r9", disp: 0, index: "ax", scale: 8 });
  for (const bad of ["", "4@", "3@%eax", "8@foo(%rip)", "4@%xmm0", "8@(%rip,%rax)"]) assert.equal(parseUsdtArg(bad), undefined, bad);
});

/** An ELF64 with one PT_LOAD (vaddr 0x400000 at offset 0) and a .note.stapsdt section holding `notes`. */
function elfWith(notes: { pc: bigint; sem: bigint; provider: string; name: string; args: string }[]): Uint8Array {
  const enc = new TextEncoder();
  const descs = notes.map((n) => {
    const strs = enc.encode(`${n.provider}\0${n.name}\0${n.args}\0`);
    const d = new Uint8Array(24 + strs.length);
    const v = new DataView(d.buffer);
    v.setBigUint64(0, n.pc, true); v.setBigUint64(8, 0n, true); v.setBigUint64(16, n.sem, true);
    d.set(strs, 24);
    return d;
  });
  const noteBytes: number[] = [];
  for (const d of descs) {
    const h = new DataView(new ArrayBuffer(12));
    h.setUint32(0, 8, true); h.setUint32(4, d.length, true); h.setUint32(8, 3, true);
    noteBytes.push(...new Uint8Array(h.buffer), ...enc.encode("stapsdt\0"), ...d, ...new Array((4 - (d.length % 4)) % 4).fill(0));
  }
  const shstr = enc.encode("\0.note.stapsdt\0.shstrtab\0");
  const noteOff = 64 + 56, shstrOff = noteOff + noteBytes.length, shOff = (shstrOff + shstr.length + 7) & ~7;
  const b = new Uint8Array(shOff + 3 * 64);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setBigUint64(0x20, 64n, true); v.setBigUint64(0x28, BigInt(shOff), true);
  v.setUint16(0x36, 56, true); v.setUint16(0x38, 1, true); v.setUint16(0x3a, 64, true); v.setUint16(0x3c, 3, true); v.setUint16(0x3e, 2, true);
  v.setUint32(64, 1, true); v.setBigUint64(64 + 8, 0n, true); v.setBigUint64(64 + 16, 0x400000n, true); v.setBigUint64(64 + 32, 0x10000n, true);
  b.set(noteBytes, noteOff);
  b.set(shstr, shstrOff);
  const sec = (i: number, name: number, type: number, off: number, size: number) => {
    const o = shOff + i * 64;
    v.setUint32(o, name, true); v.setUint32(o + 4, type, true); v.setBigUint64(o + 24, BigInt(off), true); v.setBigUint64(o + 32, BigInt(size), true);
  };
  sec(1, 1, 7, noteOff, noteBytes.length);
  sec(2, 15, 3, shstrOff, shstr.length);
  return b;
}

test("notes: provider, name, file offsets of the site and the semaphore, parsed arguments; matching with wildcards", () => {
  const notes = usdtNotes(elfWith([
    { pc: 0x401234n, sem: 0x400100n, provider: "app", name: "loop", args: "-4@%eax 8@$7" },
    { pc: 0x401300n, sem: 0n, provider: "other", name: "done", args: "" },
  ]));
  assert.equal(notes.length, 2);
  assert.deepEqual({ ...notes[0]!, args: undefined }, { provider: "app", name: "loop", address: 0x401234n, offset: 0x1234, semaphore: 0x400100n, semaphoreOffset: 0x100, argText: "-4@%eax 8@$7", args: undefined });
  assert.deepEqual(notes[0]!.args, [{ kind: "reg", size: 4, signed: true, reg: "ax" }, { kind: "imm", size: 8, signed: false, value: 7n }]);
  assert.deepEqual(notes[1]!.args, []);
  assert.deepEqual(matchUsdt(notes, "", "done").map((n) => n.name), ["done"]);
  assert.deepEqual(matchUsdt(notes, "a*", "*").map((n) => n.name), ["loop"]);
  assert.throws(() => usdtNotes(new Uint8Array(10)), /not a little-endian ELF64/);
});
