import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import asm from "./asm.ts";

const dir = mkdtempSync(join(tmpdir(), "bpfkit-asm-"));
const file = (name: string, data: string | Uint8Array): string => { const p = join(dir, name); writeFileSync(p, data); return p; };

async function capture(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(" ")); };
  try {
    return { code: await asm(args), out: lines.join("\n") };
  } finally {
    console.log = orig;
  }
}

test("assembles to raw little-endian or big-endian bytes with -o, and disassembles a .bin", async () => {
  const src = file("p.s", "mov %r0, 1\nlddw %r1, 0x123456789\nexit\n");
  const out = join(dir, "p.bin");
  assert.equal((await capture(["-o", out, src])).code, 0);
  assert.deepEqual([...readFileSync(out).subarray(0, 8)], [0xb7, 0, 0, 0, 1, 0, 0, 0]);
  assert.equal(readFileSync(out).length, 32);
  const be = join(dir, "pbe.bin");
  await capture(["--big-endian", "-o", be, src]);
  assert.deepEqual([...readFileSync(be).subarray(0, 8)], [0xb7, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(await capture([out]), {
    code: 0, out: "   0: (b7) r0 = 1\n   1: (18) r1 = 0x123456789\n   3: (95) exit",
  });
  assert.equal((await capture(["--big-endian", be])).out, (await capture([out])).out);
  assert.equal((await capture(["--opcodes", out])).out.split("\n")[1], "       b7 00 00 00 01 00 00 00");
  assert.equal((await capture(["--syntax", "llvm", out])).out.split("\n")[1],
    "       1:\t18 01 00 00 89 67 45 23 00 00 00 00 01 00 00 00\tr1 = 4886718345 ll");
});

test("without -o an assembly file is listed in the chosen syntax", async () => {
  const src = file("q.s", "r0 = 0\nif r0 > 5 goto +1\nexit\nexit\n");
  assert.equal((await capture([src])).out, "   0: (b7) r0 = 0\n   1: (25) if r0 > 0x5 goto pc+1\n   2: (95) exit\n   3: (95) exit");
});

test("errors name the file with line:column or instruction index", async () => {
  await assert.rejects(asm([file("bad.s", "exit\n  add %r0, %r99\n")]), /bad\.s:2:12: invalid register '%r99'/);
  await assert.rejects(asm([file("jump.s", "ja +5\nexit\n")]), /jump\.s: insn 0: jump out of range from insn 0 to 6/);
  await assert.rejects(asm([file("odd.bin", new Uint8Array(12))]), /odd\.bin: program length 12 is not a multiple of 8 bytes/);
  await assert.rejects(asm([join(dir, "missing.s")]), /missing\.s: no such file/);
  await assert.rejects(asm(["--syntax", "intel", "x"]), /--syntax: expected kernel or llvm/);
  await assert.rejects(asm([]), /expected one FILE/);
});
