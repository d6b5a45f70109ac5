import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cbpf, { parseCbpfNumbers, readCbpfProgram } from "./cbpf.ts";
import { encodeCbpf } from "../isa/cbpf/insn.ts";

async function capture(args: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const log = console.log;
  let out = "";
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  console.log = (...a: unknown[]) => { out += a.join(" ") + "\n"; };
  try {
    return { code: await cbpf(args), out };
  } finally {
    process.stdout.write = write;
    console.log = log;
  }
}

const dir = mkdtempSync(join(tmpdir(), "bpfkit-cbpf-"));
const asm = join(dir, "arp.bpf");
writeFileSync(asm, "ldh [12]\njne #0x806, drop\nret #-1\ndrop: ret #0\n");

test("cbpf asm prints tcpdump -ddd numbers, bpf_asm's line with --bpf-asm", async () => {
  assert.deepEqual(await capture(["asm", asm]), { code: 0, out: "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4294967295\n6 0 0 0\n" });
  assert.deepEqual(await capture(["asm", "--bpf-asm", asm]), { code: 0, out: "4,40 0 0 12,21 0 1 2054,6 0 0 4294967295,6 0 0 0,\n" });
});

test("programs are read from source, numbers in either layout, or raw sock_filter bytes", () => {
  const want = readCbpfProgram(asm);
  const ddd = join(dir, "arp.ddd");
  writeFileSync(ddd, "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4294967295\n6 0 0 0\n");
  const bin = join(dir, "arp.bin");
  writeFileSync(bin, encodeCbpf(want));
  assert.deepEqual(readCbpfProgram(ddd), want);
  assert.deepEqual(readCbpfProgram(bin), want);
  assert.deepEqual(parseCbpfNumbers("4,40 0 0 12,21 0 1 2054,6 0 0 4294967295,6 0 0 0,"), want);
  assert.throws(() => parseCbpfNumbers("3\n1 2 3 4\n"), /expected 3 instructions/);
});

test("cbpf disasm prints bpf_asm source", async () => {
  const ddd = join(dir, "arp2.ddd");
  writeFileSync(ddd, "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4294967295\n6 0 0 0\n");
  assert.deepEqual(await capture(["disasm", ddd]), { code: 0, out: "ldh [12]\njeq #0x806, l2, l3\nl2: ret #0xffffffff\nl3: ret #0x0\n" });
});

test("cbpf check and run", async () => {
  assert.match((await capture(["check", asm])).out, /^ok: 4 classic instructions accepted, 26 eBPF instructions/);
  const arp = "ffffffffffff00000000000108060001";
  assert.deepEqual(await capture(["run", asm, "--data", arp]), { code: 0, out: "4294967295\n" });
  const sc = join(dir, "sc.bpf");
  writeFileSync(sc, "ld [0]\njeq #257, deny\nret #0x7fff0000\ndeny: ret #0x50001\n");
  assert.deepEqual(await capture(["run", "--seccomp", sc, "--nr", "257"]), { code: 0, out: "errno 1 (0x00050001)\n" });
  assert.deepEqual(await capture(["run", "--seccomp", sc, "--nr", "1"]), { code: 0, out: "allow (0x7fff0000)\n" });
});
