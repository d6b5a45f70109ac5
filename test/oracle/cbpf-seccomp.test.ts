// The kernel as oracle for the seccomp checker. A first, allow-everything filter is installed on this test process
// with SECCOMP_FILTER_FLAG_NEW_LISTENER; every filter tested after it also asks for a listener, so the kernel runs
// all of seccomp_prepare_filter() (bpf_check_classic, seccomp_check_filter, conversion) and then refuses to attach
// it with EBUSY (one listener per chain). EBUSY therefore means "accepted", anything else is the checker's errno.
// Node runs each test file in its own process, so the harmless filter stays here. Skips visibly where unavailable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { checkCbpf } from "../../src/cbpf/prepare.ts";
import { encodeCbpf } from "../../src/isa/cbpf/insn.ts";
import type { CbpfInsn } from "../../src/isa/cbpf/insn.ts";
import { validProgram } from "../../src/cbpf/gen.test-util.ts";

type Fn = (...args: unknown[]) => number | bigint;
const SYS_SECCOMP = 317, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_NEW_LISTENER = 8, PR_SET_NO_NEW_PRIVS = 38;

function bind(): { install: (insns: readonly CbpfInsn[]) => string } | string {
  if (process.platform !== "linux" || process.arch !== "x64") return "needs Linux on x86-64";
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(p: string): { func(d: string): Fn }; errno(): number; address(p: unknown): bigint;
      os: { errno: Record<string, number> };
    };
    const libc = koffi.load("libc.so.6");
    const syscall = libc.func("long syscall(long, unsigned int, unsigned int, void *)");
    const prctl = libc.func("int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)");
    const memchr = libc.func("void *memchr(void *, int, size_t)");
    const names = new Map(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));
    if (Number(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) !== 0) return "prctl(PR_SET_NO_NEW_PRIVS) failed";
    const install = (insns: readonly CbpfInsn[]): string => {
      const filter = Buffer.from(encodeCbpf(insns.length ? insns : [{ code: 6, jt: 0, jf: 0, k: 0 }]));
      const fprog = Buffer.alloc(16);
      fprog.writeUInt16LE(insns.length, 0);
      fprog.writeBigUInt64LE(koffi.address(memchr(filter, filter[0]!, 1)), 8);
      const r = Number(syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, fprog));
      return r >= 0 ? "installed" : names.get(koffi.errno()) ?? `E${koffi.errno()}`;
    };
    const first = install([{ code: 6, jt: 0, jf: 0, k: 0x7fff0000 }]); // SECCOMP_RET_ALLOW for every syscall
    if (first !== "installed") return `cannot install the listener filter: ${first}`;
    return { install };
  } catch (e) {
    return `koffi/libc unavailable: ${(e as Error).message.split("\n")[0]}`;
  }
}

const ours = (insns: readonly CbpfInsn[]): string => {
  const e = checkCbpf(insns, { seccomp: true });
  return e ? e.code : "EBUSY";
};

const seccompInsn = fc.record({
  code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x80, 0x81, 0x00, 0x01, 0x60, 0x61, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x24,
    0x34, 0x3c, 0x94, 0x9c, 0x44, 0x54, 0xa4, 0x64, 0x74, 0x84, 0x07, 0x87, 0x05, 0x15, 0x1d, 0x25, 0x35, 0x45, 0x06,
    0x16, 0x0e, 0xb1, 0x21),
  jt: fc.integer({ min: 0, max: 4 }),
  jf: fc.integer({ min: 0, max: 4 }),
  k: fc.oneof(fc.constantFrom(0, 4, 8, 16, 60, 62, 64, 68, 2, 0xfffff000, 0x7fff0000), fc.integer({ min: 0, max: 20 })),
});

// Seccomp-legal programs: scratch words stored first, aligned loads in seccomp_data, forward jumps, a final return.
const LEGAL = [0x20, 0x80, 0x81, 0x00, 0x01, 0x60, 0x61, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x24, 0x34, 0x3c, 0x44, 0x54,
  0xa4, 0x64, 0x74, 0x84, 0x07, 0x87, 0x05, 0x15, 0x1d, 0x25, 0x35, 0x45, 0x06, 0x16];
const seccompProgram = fc.array(fc.record({ code: fc.constantFrom(...LEGAL), jt: fc.nat(3), jf: fc.nat(3), k: fc.nat(15) }),
  { minLength: 1, maxLength: 12 }).map((raw) => {
  const n = raw.length;
  const body = raw.map((r, i) => {
    const room = n - i - 1;
    // aligned seccomp_data words; ja in range; no division by the constant 0; M[k] and shifts below their limits
    const k = r.code === 0x20 ? r.k * 4 : r.code === 0x05 ? Math.min(r.k, room) : r.code === 0x34 ? r.k + 1 : r.k;
    return { code: r.code, jt: Math.min(r.jt, room), jf: Math.min(r.jf, room), k };
  });
  const stores = Array.from({ length: 16 }, (_, i) => ({ code: 0x02, jt: 0, jf: 0, k: i }));
  return [...stores, ...body, { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }];
});

test("seccomp filter verdicts equal the kernel's", (t) => {
  const k = bind();
  if (typeof k === "string") {
    console.log(`SKIP cbpf seccomp kernel oracle: ${k}`);
    t.skip(k);
    return;
  }
  assert.equal(k.install([]), ours([]));
  assert.equal(k.install([{ code: 0x20, jt: 0, jf: 0, k: 4 }, { code: 0x16, jt: 0, jf: 0, k: 0 }]), "EBUSY");
  fc.assert(fc.property(fc.array(seccompInsn, { minLength: 1, maxLength: 8 }), (p) => {
    assert.equal(ours(p), k.install(p), JSON.stringify(p));
  }), { numRuns: 2000 });
  fc.assert(fc.property(seccompProgram, (p) => {
    assert.equal(ours(p), k.install(p), JSON.stringify(p));
  }), { numRuns: 500 });
  // Near misses: one instruction of a legal (seccomp or socket) program replaced.
  fc.assert(fc.property(fc.oneof(seccompProgram, validProgram), fc.nat(), seccompInsn, (p, at, insn) => {
    const m = p.slice();
    m[at % m.length] = insn;
    assert.equal(ours(m), k.install(m), JSON.stringify(m));
  }), { numRuns: 1000 });
});
