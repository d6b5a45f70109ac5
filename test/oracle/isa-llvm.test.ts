// Differential test: our llvm disassembly (src/isa/ebpf/disasm-llvm.ts) against the installed llvm-objdump, line for line:
// (1) every code section of C programs compiled here with clang (bpfel and bpfeb, -mcpu v1..v3, with --mattr=+alu32),
// (2) random programs of valid instructions of every opcode, spliced into an object's .text,
// (3) when BPFKIT_ELF_SAMPLES points at the elf-samples objects, every code section of every object there;
// and `bpfkit asm --syntax llvm X.o` (ELF sections and symbols read by src/object) byte-identical to `llvm-objdump -d X.o`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { decodeProgram, encodeProgram } from "../../src/isa/ebpf/encode.ts";
import { llvmObjdumpSection, type LlvmSymbol } from "../../src/isa/ebpf/disasm-llvm.ts";
import { validProgram } from "../../src/isa/ebpf/valid-insns.testkit.ts";
import asmCommand from "../../src/cli/asm.ts";

const have = (tool: string): boolean => spawnSync(tool, ["--version"], { encoding: "utf8" }).status === 0;
const TOOLS = ["clang", "llvm-objdump", "llvm-objcopy"];
const missing = TOOLS.filter((t) => !have(t));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function codeSections(obj: string): string[] {
  return run("llvm-objdump", ["-h", obj]).split("\n")
    .map((l) => /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+TEXT\b/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && parseInt(m[2]!, 16) > 0).map((m) => m[1]!);
}

/** Non-section, non-file symbols of `section`, as llvm-objdump -t lists them. */
function symbolsOf(symtab: string, section: string): LlvmSymbol[] {
  const out: LlvmSymbol[] = [];
  for (const l of symtab.split("\n")) {
    const m = /^([0-9a-f]{16}) (.{7}) (.+?)\t[0-9a-f]+ (.+)$/.exec(l);
    if (!m || m[3] !== section || m[2]!.includes("d")) continue;
    out.push({ name: m[4]!.replace(/^\.(?:hidden|protected|internal) /, ""), pc: Number(BigInt("0x" + m[1]!) / 8n) });
  }
  return out;
}

/** `bpfkit asm --syntax llvm OBJ` must print exactly what `llvm-objdump -d OBJ` prints. */
async function compareWholeFile(obj: string): Promise<void> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    assert.equal(await asmCommand(["--syntax", "llvm", obj]), 0);
  } finally {
    console.log = log;
  }
  assert.equal(lines.join("\n") + "\n", run("llvm-objdump", ["-d", obj]), `bpfkit asm --syntax llvm ${obj}`);
}

/** Compares one object's code sections; returns the number of instruction lines compared. */
function compareObject(obj: string, dir: string, mattr: boolean): number {
  const bigEndian = readFileSync(obj)[5] === 2; // EI_DATA
  const symtab = run("llvm-objdump", ["-t", obj]);
  let lines = 0;
  for (const section of codeSections(obj)) {
    const bin = join(dir, "section.bin");
    run("llvm-objcopy", ["-O", "binary", `--only-section=${section}`, obj, bin]);
    const insns = decodeProgram(new Uint8Array(readFileSync(bin)), { bigEndian });
    const want = run("llvm-objdump", ["-d", ...(mattr ? ["--mattr=+alu32"] : []), `--section=${section}`, obj])
      .split("\n").slice(3).filter((l, i, a) => !(l === "" && i === a.length - 1));
    while (want.length && want[want.length - 1] === "") want.pop();
    const ours = llvmObjdumpSection(insns, section, symbolsOf(symtab, section), { alu32: mattr, bigEndian });
    assert.deepEqual(ours, want, `${obj} section ${section}${mattr ? " --mattr=+alu32" : ""}`);
    lines += ours.length;
  }
  return lines;
}

/** Sources and the -mcpu values they compile for (32-bit atomics need v3). */
const PROGRAMS: Record<string, string> = {
  "xdp.c": `
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long long u64;
struct xdp_md { u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
static void *(*lookup)(void *map, const void *key) = (void *)1;
static u64 (*now)(void) = (void *)5;
struct { int (*type)[2]; int (*max_entries)[4]; u32 *key; u64 *value; } counts __attribute__((section(".maps"), used));
int gvar = 3; volatile u64 big = 0x123456789abcdefULL;
static __attribute__((noinline)) int sub(int a) { return a * 3 + gvar - (a >> 2) + (a ^ 7); }
static __attribute__((noinline)) long sub2(long a, unsigned long b) { return (unsigned long)a / (b | 1) + (a << 5) - (a >> 60) + -a; }
__attribute__((section("xdp"), used)) int prog(struct xdp_md *ctx) {
  u32 k = 1; u64 *v = lookup(&counts, &k);
  if (v) { __sync_fetch_and_add(v, 1); *v += now() >> 3; __sync_fetch_and_or(v, 4); }
  u8 *data = (u8 *)(long)ctx->data, *end = (u8 *)(long)ctx->data_end;
  if (data + 34 > end) return 1;
  u16 p = *(u16 *)(data + 12);
  u64 s = 0;
  for (int i = 0; i < 20; i++) s += data[i] * (i & 3) + (data[i] > 7 ? i : -i);
  if (__builtin_bswap16(p) == 0x800) return (sub(k) & 1) + sub2(s, big) + (int)__builtin_bswap64(s);
  return s < 100 ? 2 : (s & 0x40 ? 3 : s / 5 + s % 9);
}
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`,
  "socket.c": `
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
__attribute__((section("socket"), used)) int filter(void *skb) {
  unsigned long long proto = load_half(skb, 12), ihl = load_byte(skb, 14) & 0xf;
  if (proto != 0x800) return 0;
  return load_word(skb, 14 + ihl * 4) == 0x50 ? -1 : 0;
}
`,
  "atomics.c": `
unsigned g32; unsigned long g64;
__attribute__((section("tc"), used)) int atomics(unsigned *p, unsigned v, unsigned long *q) {
  __sync_fetch_and_or(p, v); unsigned r = __sync_fetch_and_add(p, v); r += __sync_val_compare_and_swap(p, v, 3);
  r += __sync_lock_test_and_set(p, 9); __sync_fetch_and_add(p, 1); __sync_fetch_and_and(p, 6); __sync_fetch_and_xor(p, 2);
  __sync_fetch_and_xor(q, 5); g64 = __sync_fetch_and_and(q, 7); g64 += __sync_lock_test_and_set(q, 2);
  g64 += __sync_val_compare_and_swap(q, 4, 5); g32 = __sync_fetch_and_xor(p, 1);
  int x = (int)v; short s = (short)v; signed char c = (signed char)v;
  return r + (v % 7) + (*q & 0x10 ? 1 : 2) + (*q / 3) + (x < -3) + s + c + ((long)x >> 3);
}
`,
};

test("llvm disassembly matches llvm-objdump on clang-compiled programs", async (t) => {
  if (missing.length) return void (console.log(`SKIP isa-llvm: ${missing.join(", ")} not installed`), t.skip(`${missing.join(", ")} missing`));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-isa-llvm-"));
  try {
    let lines = 0;
    let objects = 0;
    for (const [name, source] of Object.entries(PROGRAMS)) {
      writeFileSync(join(dir, name), source);
      for (const target of ["bpfel", "bpfeb"]) {
        for (const cpu of name.startsWith("atomics") ? ["v3"] : ["v1", "v3"]) {
          const obj = join(dir, `${name}.${target}.${cpu}.o`);
          run("clang", ["-target", target, `-mcpu=${cpu}`, "-O2", "-g", "-fno-crash-diagnostics", "-c", join(dir, name), "-o", obj]);
          lines += compareObject(obj, dir, false);
          if (cpu === "v3") lines += compareObject(obj, dir, true);
          await compareWholeFile(obj);
          objects++;
        }
      }
    }
    console.log(`isa-llvm: ${objects} objects, ${lines} listing lines identical to llvm-objdump; bpfkit asm --syntax llvm byte-identical on each`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("llvm disassembly matches llvm-objdump on random programs of every valid opcode", (t) => {
  if (missing.length) return void (console.log(`SKIP isa-llvm: ${missing.join(", ")} not installed`), t.skip(`${missing.join(", ")} missing`));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-isa-llvm-"));
  try {
    writeFileSync(join(dir, "t.c"), "int f(void) { return 0; }\n");
    const template = join(dir, "t.o");
    run("clang", ["-target", "bpf", "-O2", "-c", join(dir, "t.c"), "-o", template]);
    const samples = fc.sample(validProgram(300, 200), { numRuns: 6, seed: 42 });
    let lines = 0;
    for (const [i, p] of samples.entries()) {
      const obj = join(dir, `r${i}.o`);
      copyFileSync(template, obj);
      writeFileSync(join(dir, "r.bin"), encodeProgram(p));
      run("llvm-objcopy", ["--update-section", `.text=${join(dir, "r.bin")}`, obj]);
      lines += compareObject(obj, dir, i % 2 === 1);
    }
    console.log(`isa-llvm: ${lines} lines of random valid instructions identical to llvm-objdump`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("llvm disassembly matches llvm-objdump on the elf-samples corpus", async (t) => {
  const samples = process.env.BPFKIT_ELF_SAMPLES;
  if (missing.length) return void (console.log(`SKIP isa-llvm: ${missing.join(", ")} not installed`), t.skip("tools missing"));
  if (!samples || !existsSync(samples)) return void (console.log("SKIP isa-llvm elf-samples: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-isa-llvm-"));
  try {
    let lines = 0;
    const files = readdirSync(samples).filter((n) => n.endsWith(".o")).sort();
    for (const f of files) {
      lines += compareObject(join(samples, f), dir, false);
      await compareWholeFile(join(samples, f));
    }
    console.log(`isa-llvm: ${files.length} elf-samples objects, ${lines} listing lines identical to llvm-objdump; bpfkit asm --syntax llvm byte-identical on each`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
