// The kernel as oracle for the classic checker: SO_ATTACH_FILTER on a socket runs bpf_check_basics_ok,
// bpf_check_classic and bpf_convert_filter; its errno must be bpfkit's verdict, on valid, mutated and random programs.
// Skips (visibly) without Linux, koffi or a socket. Long programs also check the socket option memory limit (ENOMEM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { checkSocketFilter } from "../../src/cbpf/prepare.ts";
import { readFileSync } from "node:fs";
import { encodeCbpf } from "../../src/isa/cbpf/insn.ts";
import type { CbpfInsn } from "../../src/isa/cbpf/insn.ts";
import { validProgram } from "../../src/cbpf/gen.test-util.ts";

type Fn = (...args: unknown[]) => number;
interface Native { socket: Fn; setsockopt: Fn; close: Fn; errno: () => number; addressOf: (b: Uint8Array) => bigint; errnoName: (n: number) => string }

function bind(): Native | string {
  if (process.platform !== "linux") return "needs Linux";
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(p: string): { func(d: string): (...a: unknown[]) => unknown };
      errno(): number; address(p: unknown): bigint; os: { errno: Record<string, number> };
    };
    const libc = koffi.load("libc.so.6");
    const memchr = libc.func("void *memchr(void *, int, size_t)");
    const names = new Map(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));
    return {
      socket: libc.func("int socket(int, int, int)") as Fn,
      setsockopt: libc.func("int setsockopt(int, int, int, void *, uint32_t)") as Fn,
      close: libc.func("int close(int)") as Fn,
      errno: () => koffi.errno(),
      // memchr(buf, buf[0], 1) returns buf itself: the stable address of a Node buffer's bytes.
      addressOf: (b) => koffi.address(memchr(b, b[0]!, 1)),
      errnoName: (n) => names.get(n) ?? `E${n}`,
    };
  } catch (e) {
    return `koffi/libc unavailable: ${(e as Error).message.split("\n")[0]}`;
  }
}

const SOL_SOCKET = 1, SO_ATTACH_FILTER = 26, SO_DETACH_FILTER = 27, AF_INET = 2, SOCK_DGRAM = 2;

function kernelVerdict(n: Native, fd: number, insns: readonly CbpfInsn[]): string {
  const filter = Buffer.from(encodeCbpf(insns.length ? insns : [{ code: 0, jt: 0, jf: 0, k: 0 }]));
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(insns.length, 0);
  fprog.writeBigUInt64LE(n.addressOf(filter), 8);
  const r = n.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16);
  if (r === 0) {
    n.setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, Buffer.alloc(4), 4);
    return "ok";
  }
  return n.errnoName(n.errno());
}

const optmemMax = (() => {
  try { return Number(readFileSync("/proc/sys/net/core/optmem_max", "utf8")); } catch { return 131072; }
})();
const ours = (insns: readonly CbpfInsn[]): string => checkSocketFilter(insns, { optmemMax })?.code ?? "ok";

// Mutations that hit every rule: opcodes (valid and not), jump offsets, scratch slots, shifts, divisors, ancillary k.
const anyInsn = fc.record({
  code: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x0e, 0x15, 0x16, 0x20, 0x28, 0x30, 0x34,
    0x40, 0x60, 0x61, 0x64, 0x74, 0x80, 0x87, 0x94, 0xb1, 0xa4, 0x3d, 0x45), fc.integer({ min: 0, max: 0xff })),
  jt: fc.integer({ min: 0, max: 8 }),
  jf: fc.integer({ min: 0, max: 8 }),
  k: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0xfffff000, 0xfffff03c, 0xfffff040, 0xfffff001,
    0xfff00000, 0xffe00000), fc.integer({ min: 0, max: 0xffffffff })),
});

test("SO_ATTACH_FILTER verdicts equal bpfkit's checker", (t) => {
  const n = bind();
  if (typeof n === "string") {
    console.log(`SKIP cbpf kernel oracle: ${n}`);
    t.skip(n);
    return;
  }
  const fd = n.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    console.log("SKIP cbpf kernel oracle: socket() failed");
    t.skip("socket() failed");
    return;
  }
  try {
    const fixed: CbpfInsn[][] = [[], [{ code: 6, jt: 0, jf: 0, k: 0 }],
      Array.from({ length: 4097 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 }))];
    for (const p of fixed) assert.equal(ours(p), kernelVerdict(n, fd, p), `length ${p.length}`);
    // Around the option-memory limit: ldx MSH expands to 19 eBPF instructions, ld #k to 1 (limit at 861 + 3).
    for (const msh of [0, 700, 860, 861, 862, 900, 4000]) {
      for (const extra of [0, 1, 2, 3, 4, 5, 19, 20, 21]) {
        const p: CbpfInsn[] = [...Array.from({ length: msh }, () => ({ code: 0xb1, jt: 0, jf: 0, k: 14 })),
          ...Array.from({ length: extra }, () => ({ code: 0, jt: 0, jf: 0, k: 1 })), { code: 6, jt: 0, jf: 0, k: 0 }];
        if (p.length <= 4096) assert.equal(ours(p), kernelVerdict(n, fd, p), `${msh} msh + ${extra} ld`);
      }
    }
    fc.assert(fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 12 }), (p) => {
      assert.equal(ours(p), kernelVerdict(n, fd, p), JSON.stringify(p));
    }), { numRuns: 3000 });
    fc.assert(fc.property(validProgram, (p) => {
      assert.equal(ours(p), kernelVerdict(n, fd, p), JSON.stringify(p));
    }), { numRuns: 500 });
    // One mutated instruction in an otherwise valid program: near-misses of every rule.
    fc.assert(fc.property(validProgram, fc.nat(), anyInsn, (p, at, insn) => {
      const m = p.slice();
      m[at % m.length] = insn;
      assert.equal(ours(m), kernelVerdict(n, fd, m), JSON.stringify(m));
    }), { numRuns: 2000 });
  } finally {
    n.close(fd);
  }
});
