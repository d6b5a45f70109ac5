// Differential test: our kernel disassembly (src/isa/ebpf/disasm-kernel.ts, dialect "bpftool-7.1") of the xlated bytes
// of programs loaded into the running kernel, against `bpftool prog dump xlated` and `... opcodes` line for line.
// Needs root, bpffs at /sys/fs/bpf, clang and bpftool; skips visibly otherwise. Pins are removed in all cases.
// The names bpftool takes from kallsyms (helpers called through rewritten imms, bpf_prog_TAG_sub symbols of
// subprograms) are given to our printer through its hooks: helpers from /proc/kallsyms as bpftool does, subprogram
// symbols copied from bpftool's own line (they need the JIT's ksym addresses from bpf_prog_info).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProgram } from "../../src/isa/ebpf/encode.ts";
import { disassembleKernel, type KernelDisasmOptions } from "../../src/isa/ebpf/disasm-kernel.ts";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { kallsymsCallTarget } from "./kallsyms.ts";

const PRELUDE = `
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long long u64;
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, u64 flags) = (void *)2;
static u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_perf_event_output)(void *ctx, void *map, u64 flags, void *data, u64 size) = (void *)25;
static long (*bpf_loop)(u32 nr, void *fn, void *ctx, u64 flags) = (void *)181;
struct xdp_md { u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
char LICENSE[] SEC("license") = "GPL";
`;

const PROGRAMS: Record<string, string> = {
  xdp: `
struct { __uint(type, 2); __uint(max_entries, 4); __type(key, u32); __type(value, u64); } counts SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 64); __type(key, u32); __type(value, u64); } seen SEC(".maps");
int gvar = 3;
static __attribute__((noinline)) int sub(int a) { return a * 3 + gvar; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  u32 k = 1; u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (v) { __sync_fetch_and_add(v, 1); *v += bpf_ktime_get_ns() >> 3; }
  u64 one = 1; bpf_map_update_elem(&seen, &k, &one, 0);
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 14 > end) return 1;
  u16 p = *(u16 *)(data + 12);
  if (__builtin_bswap16(p) == 0x800) return sub(k) & 1 ? 2 : 3;
  return 2;
}`,
  socket: `
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
SEC("socket") int filter(void *skb) {
  if (load_half(skb, 12) != 0x800) return 0;
  return load_byte(skb, 23) == 6 ? -1 : 0;
}`,
  tracepoint: `
struct { __uint(type, 4); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");
static int cb(u32 i, void *ctx) { *(u64 *)ctx += i; return 0; }
SEC("tracepoint/syscalls/sys_enter_getpid") int tp(void *ctx) {
  u64 acc = bpf_get_current_pid_tgid() ^ bpf_get_smp_processor_id();
  bpf_loop(4, cb, &acc, 0);
  bpf_perf_event_output(ctx, &events, 0xffffffffULL, &acc, sizeof(acc));
  return 0;
}`,
  v3: `
u32 g32; u64 g64;
SEC("xdp") int atomics(struct xdp_md *ctx) {
  u32 v = ctx->rx_queue_index;
  __sync_fetch_and_add(&g32, v); __sync_fetch_and_or(&g64, 3); u32 old = __sync_fetch_and_xor(&g32, 1);
  u64 c = __sync_val_compare_and_swap(&g64, 3, 4);
  return (old < 7 && (int)v > -2) ? 2 : (int)(c & 1) + 1;
}`,
};

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const haveTools = ["clang", "bpftool"].every((t) => spawnSync(t, ["--version"], { encoding: "utf8" }).status === 0);

const bpftool = (...args: string[]) => spawnSync("bpftool", args, { encoding: "utf8" });

test("kernel disassembly matches bpftool prog dump xlated (plain and opcodes)", (t) => {
  if (!haveTools) return void (console.log("SKIP isa-bpftool: clang or bpftool not installed"), t.skip("tools missing"));
  if (!isRoot || !existsSync("/sys/fs/bpf")) return void (console.log("SKIP isa-bpftool: needs root and /sys/fs/bpf"), t.skip("needs root"));
  const helperAt = kallsymsCallTarget();
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-isa-bpftool-"));
  let compared = 0;
  try {
    for (const [name, body] of Object.entries(PROGRAMS)) {
      const src = join(dir, `${name}.c`);
      const obj = join(dir, `${name}.o`);
      writeFileSync(src, PRELUDE + body);
      const cc = spawnSync("clang", ["-target", "bpf", ...(name === "v3" ? ["-mcpu=v3"] : []), "-O2", "-g", "-fno-crash-diagnostics", "-c", src, "-o", obj], { encoding: "utf8" });
      assert.equal(cc.status, 0, cc.stderr);
      const pin = `/sys/fs/bpf/bpfkit_isa_${process.pid}_${name}`;
      try {
        const load = bpftool("prog", "load", obj, pin);
        assert.equal(load.status, 0, `bpftool prog load ${name}: ${load.stderr}`);
        const bin = join(dir, `${name}.xlated`);
        assert.equal(bpftool("prog", "dump", "xlated", "pinned", pin, "file", bin).status, 0);
        const insns = decodeProgram(new Uint8Array(readFileSync(bin)));
        for (const opcodes of [false, true]) {
          const out = bpftool("prog", "dump", "xlated", "pinned", pin, ...(opcodes ? ["opcodes"] : []));
          assert.equal(out.status, 0, out.stderr);
          // Keep instruction and byte lines; func signatures and `; source` lines are the ELF layer's.
          const want = out.stdout.split("\n").filter((l) => /^\s*\d+: /.test(l) || /^ {7}[0-9a-f]{2}( [0-9a-f]{2}){7}/.test(l));
          const subprogName = (pc: number): string | undefined => /#(\S+)$/.exec(want.find((l) => l.startsWith(`${String(pc).padStart(4)}: `)) ?? "")?.[1];
          const opts: KernelDisasmOptions = {
            dialect: "bpftool-7.1",
            opcodes,
            callTarget: (pc: number, x: Insn) => (x.src === 1 ? `${x.off >= 0 ? "+" : ""}${x.off}#${subprogName(pc)}` : helperAt(x.imm)),
          };
          assert.deepEqual(disassembleKernel(insns, opts), want, `${name}${opcodes ? " opcodes" : ""}`);
          compared += want.length;
        }
      } finally {
        rmSync(pin, { force: true });
      }
    }
    console.log(`isa-bpftool: ${Object.keys(PROGRAMS).length} programs, ${compared} lines identical to bpftool prog dump xlated`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
