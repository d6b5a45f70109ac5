// `bpfkit run` against `bpftool prog run` on clang-built objects: bpf_loop callbacks, maps, global data, packet
// helpers, XDP head/tail adjustment, tail calls through a PROG_ARRAY the object initializes, and bpf_snprintf output. Each C program is compiled, loaded and pinned with bpftool, run with the same
// input, and the return values compared (bpftool prints the kernel's u32 retval). Needs root, clang and bpftool.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import run from "../../src/cli/run.ts";

const PRELUDE = `
typedef unsigned int __u32; typedef unsigned long long __u64; typedef unsigned char __u8;
#define SEC(x) __attribute__((section(x), used))
struct __sk_buff { __u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto, priority,
  ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid, data, data_end; };
struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *) 2;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *) 26;
static long (*bpf_xdp_adjust_head)(struct xdp_md *xdp, int delta) = (void *) 44;
static long (*bpf_xdp_adjust_tail)(struct xdp_md *xdp, int delta) = (void *) 65;
static long (*bpf_loop)(__u32 nr, void *cb, void *ctx, __u64 flags) = (void *) 181;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *) 12;
static long (*bpf_snprintf)(char *str, __u32 size, const char *fmt, __u64 *data, __u32 len) = (void *) 165;
char LICENSE[] SEC("license") = "GPL";
`;

/** Tail calls through a PROG_ARRAY whose slot `slot` the object fills with `target`; `miss` is an index to miss. */
const tailCallSource = (slot: number, miss: number): string => `
    int target(struct __sk_buff *skb);
    struct { int (*type)[3]; int (*max_entries)[4]; __u32 *key; int (*values[])(void *); } jt SEC(".maps") = {
      .values = { [${slot}] = (void *)&target },
    };
    SEC("socket") int entry(struct __sk_buff *skb) {
      bpf_tail_call(skb, &jt, skb->len % 3);
      bpf_tail_call(skb, &jt, ${miss});
      return 7;
    }
    SEC("socket") int target(struct __sk_buff *skb) { return 1000 + skb->len; }`;

/** bpf_snprintf of the same eight arguments with `fmt` into `size` bytes; returns a hash of the 72-byte buffer. */
const snprintfSource = (fmt: string, name: string, size: number): string => `
    const char fmt[] = "${fmt}";
    const char name[] = "${name}";
    SEC("socket") int prog(struct __sk_buff *skb) {
      char out[72] = {};
      __u64 args[8] = { (__u64)-5, 4000000000ULL, 0xbeef, 0xabc, (__u64)-1, skb->len, 'Z', (__u64)(long)name };
      long n = bpf_snprintf(out, ${size}, fmt, args, sizeof(args));
      __u64 h = n;
      for (int i = 0; i < 72; i += 8) h = h * 31 + *(__u64 *)(out + i);
      return h ^ (h >> 32);
    }`;

const PROGRAMS: { name: string; src: string }[] = [
  { name: "loop", src: `
    struct acc { __u64 sum; __u32 stop; };
    static int step(__u32 i, struct acc *a) { a->sum += i * 3 + 1; return i == a->stop; }
    SEC("socket") int prog(struct __sk_buff *skb) {
      struct acc a = { 0, skb->len % 7 };
      long n = bpf_loop(20, step, &a, 0);
      return (int)(n << 16) + (int)a.sum;
    }` },
  { name: "hashmap", src: `
    struct { int (*type)[1]; int (*max_entries)[8]; __u32 *key; __u64 *value; } m SEC(".maps");
    SEC("socket") int prog(struct __sk_buff *skb) {
      __u64 r = 0;
      for (__u32 j = 0; j < 10; j++) {
        __u32 k = (j * 7) % 10;
        __u64 v = k * 1000 + skb->len;
        long e = bpf_map_update_elem(&m, &k, &v, j & 1);
        r = r * 31 + (e & 0xff);
      }
      for (__u32 k = 0; k < 10; k++) {
        __u64 *p = bpf_map_lookup_elem(&m, &k);
        if (p) r = r * 31 + *p;
      }
      return r ^ (r >> 32);
    }` },
  { name: "globals", src: `
    volatile int counter = 41;
    const volatile int scale = 3;
    static __u64 table[4] = { 5, 6, 7, 8 };
    SEC("socket") int prog(struct __sk_buff *skb) {
      counter += 1;
      return counter * scale + table[skb->len & 3];
    }` },
  { name: "skbload", src: `
    SEC("socket") int prog(struct __sk_buff *skb) {
      __u8 b[6] = {};
      long e1 = bpf_skb_load_bytes(skb, 2, b, 6);
      long e2 = bpf_skb_load_bytes(skb, 1000, b + 4, 2);
      return b[0] + (b[5] << 8) + ((e1 & 0xff) << 16) + ((e2 & 0xff) << 24);
    }` },
  { name: "xdp", src: `
    SEC("xdp") int prog(struct xdp_md *ctx) {
      long e1 = bpf_xdp_adjust_head(ctx, -8);
      long e2 = bpf_xdp_adjust_tail(ctx, 16);
      long e3 = bpf_xdp_adjust_head(ctx, -4000);
      __u8 *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
      if (d + 10 > end) return 0;
      __u32 len = end - d, b = d[9];
      __u32 errs = (e1 & 0xf) | ((e2 & 0xf) << 4) | ((e3 & 0xff) << 8);
      asm volatile("" : "+r"(len));
      return len + (b << 8) + (errs << 16);
    }` },
  { name: "tailcall", src: tailCallSource(1, 3) },
  { name: "tailmiss", src: tailCallSource(2, 9) },
  { name: "tailloop", src: `
    int entry(struct __sk_buff *skb);
    struct { int (*type)[3]; int (*max_entries)[1]; __u32 *key; int (*values[])(void *); } jt SEC(".maps") = {
      .values = { [0] = (void *)&entry },
    };
    int count = 0;
    SEC("socket") int entry(struct __sk_buff *skb) {
      count++;
      bpf_tail_call(skb, &jt, 0);
      return count;
    }` },
  { name: "snprintf1", src: snprintfSource("%d|%u|%x|%X|%lld|%llu|%c|%s", "bpfkit", 72) },
  { name: "snprintf2", src: snprintfSource("[%5d] [%-6u] [%08x] [%+d] [% d] [%-3c] [%10s] %%", "bpfkit", 72) },
  { name: "snprintf3", src: snprintfSource("%ld %li %lx %llX %i %u %c %s", "bpfkit", 10) },
  { name: "snprintf4", src: snprintfSource("%pI4 %d %d %d %d %d %d %pi6", "bpf\\0it", 72) },
];

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["clang", "bpftool"]) if (spawnSync(tool, ["--version"]).status !== 0) return `${tool} is not installed`;
  return undefined;
}

/** bpfkit run on one program of the object; the others are loaded too (tail-call targets). */
async function ours(file: string, dataHex: string, prog: string): Promise<string> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(" ")); };
  try { await run(["--data", dataHex, "--prog", prog, file]); } finally { console.log = orig; }
  return lines.join("\n");
}

test("bpfkit run returns what bpftool prog run returns for clang-built programs", async (t) => {
  const why = unavailable();
  if (why) { console.log(`SKIP vm-bpftool: ${why}`); t.skip(why); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-vm-bpftool-"));
  const packet = Uint8Array.from({ length: 60 }, (_, k) => (k === 12 ? 8 : k === 13 ? 0 : (k * 13 + 1) & 0xff));
  const dataFile = join(dir, "in.bin");
  writeFileSync(dataFile, packet);
  const hex = Buffer.from(packet).toString("hex");
  const gaps = new Set<string>();
  try {
    for (const p of PROGRAMS) {
      const src = join(dir, `${p.name}.c`), obj = join(dir, `${p.name}.o`);
      writeFileSync(src, PRELUDE + p.src);
      execFileSync("clang", ["-O2", "-g", "-target", "bpf", "-c", src, "-o", obj]);
      // loadall pins every program by name, so the entry program is the one run (not just the object's first)
      const pins = `/sys/fs/bpf/bpfkit_vmtest_${process.pid}_${p.name}`;
      const entry = /int entry\(/.test(p.src) ? "entry" : "prog";
      let kernelLine: string;
      try {
        // maps are pinned too: a PROG_ARRAY loses its entries once no user-space reference holds it (map_release_uref)
        const load = spawnSync("bpftool", ["prog", "loadall", obj, pins, "pinmaps", `${pins}_maps`], { encoding: "utf8", maxBuffer: 64 << 20 });
        assert.equal(load.status, 0, `${p.name}: bpftool prog loadall failed:\n${load.stderr.split("\n").slice(-8).join("\n")}`);
        kernelLine = execFileSync("bpftool", ["prog", "run", "pinned", `${pins}/${entry}`, "data_in", dataFile, "repeat", "1"], { encoding: "utf8" });
      } finally {
        rmSync(pins, { recursive: true, force: true });
        rmSync(`${pins}_maps`, { recursive: true, force: true });
      }
      const kernel = Number(/Return value: (\d+)/.exec(kernelLine)?.[1]);
      const line = await ours(obj, hex, entry);
      // bpfkit run verifies like BPF_PROG_LOAD; helpers the verifier has no prototype for yet are refused, visibly
      const gap = /cannot use helper (bpf_\w+#\d+)/.exec(line);
      if (gap) { gaps.add(gap[1]!); continue; }
      const m = /Return value: (\d+)/.exec(line);
      assert.ok(m, `${p.name}: bpfkit printed '${line}'`);
      assert.equal(Number(BigInt(m[1]!) & 0xffffffffn), kernel, `${p.name}: bpfkit '${line}', bpftool '${kernelLine.trim()}'`);
    }
    if (gaps.size) console.log(`NOTE vm-bpftool: programs calling ${[...gaps].join(", ")} not compared: bpfkit's verifier has no prototype for it yet`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
