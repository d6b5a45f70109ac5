import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import run from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "bpfkit-run-"));
const file = (name: string, data: string | Uint8Array): string => { const p = join(dir, name); writeFileSync(p, data); return p; };
const slot = (code: number, regs: number, off: number, imm: number): number[] => {
  const b = Buffer.alloc(8); b[0] = code; b[1] = regs; b.writeInt16LE(off, 2); b.writeInt32LE(imm, 4); return [...b];
};

/** Runs the command, capturing what it prints. */
async function capture(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(" ")); };
  try {
    const code = await run(args);
    return { code, out: lines.join("\n") };
  } finally {
    console.log = orig;
  }
}

test("prints the return value as bpftool prog run does (its 32-bit retval, unsigned) and the average duration", async () => {
  const bin = file("m1.bin", Uint8Array.from([...slot(0xb7, 0, 0, -1), ...slot(0x95, 0, 0, 0)]));
  const r = await capture(["--repeat", "3", bin]);
  assert.equal(r.code, 0);
  assert.match(r.out, new RegExp(`^${bin}: Return value: 4294967295, duration \\(average\\): \\d+ns$`));
});

test("assembly files run with --data as the mem context (r1 = data, r2 = length)", async () => {
  const asm = file("len.asm", "mov %r0, %r2\nldxb %r1, [%r1+1]\nadd %r0, %r1\nexit\n");
  const r = await capture(["--data", "0a0b0c", asm]);
  assert.match(r.out, /Return value: 14,/);
});

test("a fault prints one line naming pc, address and reason, exit code 1", async () => {
  const asm = file("fault.asm", "mov %r1, 16\nldxw %r0, [%r1+0]\nexit\n");
  const r = await capture([asm]);
  assert.equal(r.code, 1);
  assert.equal(r.out, `${asm}: fault: pc 1: invalid read of 4 bytes at 0x10: unmapped address`);
});

test("malformed files name the instruction: truncated, bad opcode, lddw cut in half", async () => {
  const trunc = file("t.bin", Uint8Array.from([...slot(0xb7, 0, 0, 1), 0x95, 0, 0]));
  const badop = file("o.bin", Uint8Array.from([...slot(0xb7, 0, 0, 1), ...slot(0xff, 0, 0, 0)]));
  const half = file("l.bin", Uint8Array.from(slot(0x18, 0, 0, 1)));
  const r = await capture([trunc, badop, half]);
  assert.equal(r.code, 1);
  const lines = r.out.split("\n");
  assert.equal(lines[0], `${trunc}: insn 1: truncated instruction (3 of 8 bytes)`);
  assert.match(lines[1]!, new RegExp(`^${badop}: insn 1: `));
  assert.match(lines[2]!, new RegExp(`^${half}: insn 0: `));
});

test("socket filters get an __sk_buff whose len excludes the Ethernet header", async () => {
  const asm = file("skb.asm", "ldxw %r0, [%r1+0]\nexit\n");
  const r = await capture(["--type", "socket_filter", "--data", "00".repeat(60), asm]);
  assert.match(r.out, /Return value: 46,/);
});
