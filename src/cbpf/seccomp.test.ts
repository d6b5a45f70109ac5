import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleCbpf } from "../isa/cbpf/asm.ts";
import {
  compileSeccomp, decodeSeccompAction, SeccompFilterChain, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_TRAP, SECCOMP_RET_LOG, AUDIT_ARCH_X86_64,
} from "./seccomp.ts";
import { prepareCbpf, checkCbpf } from "./prepare.ts";

// A typical filter: check the arch, deny openat (257) with EPERM, allow the rest.
const FILTER = `
  ld [4]
  jneq #${AUDIT_ARCH_X86_64}, kill
  ld [0]
  jeq #257, deny
  ld [16]             ; low half of args[0]
  jgt #100, trap
  ret #0x7fff0000
  deny: ret #0x50001
  trap: ret #0x30007
  kill: ret #0x80000000
`;

test("a seccomp filter decides by syscall number, arch and arguments", () => {
  const f = compileSeccomp(assembleCbpf(FILTER));
  const run = (nr: number, args: number[] = [], arch?: number) =>
    decodeSeccompAction(f.run({ nr, args, ...(arch !== undefined ? { arch } : {}) }));
  assert.deepEqual(run(0), { value: SECCOMP_RET_ALLOW, action: "allow", data: 0, unknown: false });
  assert.deepEqual(run(257), { value: SECCOMP_RET_ERRNO | 1, action: "errno", data: 1, unknown: false });
  assert.deepEqual(run(1, [101]), { value: SECCOMP_RET_TRAP | 7, action: "trap", data: 7, unknown: false });
  assert.equal(run(0, [], 0x40000003).action, "kill_process");
});

test("actions decode with their data; unknown actions kill the process; errno is capped at 4095", () => {
  assert.equal(decodeSeccompAction(SECCOMP_RET_LOG).action, "log");
  assert.equal(decodeSeccompAction(0).action, "kill_thread");
  assert.equal(decodeSeccompAction(0x7fc00000).action, "user_notif");
  assert.equal(decodeSeccompAction(0x7ff00005).action, "trace");
  assert.deepEqual(decodeSeccompAction(0x00060000), { value: 0x00060000, action: "kill_process", data: 0, unknown: true });
  assert.equal(decodeSeccompAction(SECCOMP_RET_ERRNO | 0xffff).data, 4095);
});

test("seccomp_check_filter: only aligned loads inside seccomp_data, no packet or mod instructions", () => {
  const why = (src: string) => checkCbpf(assembleCbpf(src), { seccomp: true })?.message ?? "ok";
  assert.equal(why("ld [60]\nret a"), "ok");
  assert.match(why("ld [64]\nret a"), /aligned 32-bit words .* not offset 64/);
  assert.match(why("ld [2]\nret a"), /not offset 2/);
  assert.match(why("ldh [0]\nret a"), /opcode 0x28 is not allowed in a seccomp filter/);
  assert.match(why("ld [x + 0]\nret a"), /opcode 0x40/);
  assert.match(why("mod #3\nret a"), /opcode 0x94/);
  assert.match(why("ldx 4*([0]&0xf)\nret a"), /opcode 0xb1/);
  // The classic checks run first, as bpf_prepare_filter runs bpf_check_classic before the seccomp transformation.
  assert.match(why("ld M[0]\nret a"), /read before it is written/);
});

test("ld #len becomes the size of seccomp_data", () => {
  const prepared = prepareCbpf(assembleCbpf("ld #len\nret a"), { seccomp: true });
  assert.deepEqual(prepared.insns[0], { code: 0, jt: 0, jf: 0, k: 64 });
  assert.equal(compileSeccomp(assembleCbpf("ldx len\ntxa\nret a")).run({ nr: 0 }), 64);
});

test("a chain of filters returns the action with the lowest precedence, and has an instruction budget", () => {
  const chain = new SeccompFilterChain();
  assert.equal(chain.evaluate({ nr: 1 }).action, "allow");
  chain.attach(assembleCbpf("ret #0x7ffc0000")); // log
  chain.attach(assembleCbpf("ld [0]\njeq #5, deny\nret #0x7fff0000\ndeny: ret #0x50002"));
  assert.equal(chain.evaluate({ nr: 1 }).action, "log");
  assert.deepEqual(chain.evaluate({ nr: 5 }), { value: SECCOMP_RET_ERRNO | 2, action: "errno", data: 2, unknown: false });
  chain.attach(assembleCbpf(`ret #${SECCOMP_RET_KILL_PROCESS}`));
  assert.equal(chain.evaluate({ nr: 1 }).action, "kill_process");
  const big = Array.from({ length: 4096 }, () => ({ code: 6, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW }));
  const c2 = new SeccompFilterChain();
  for (let i = 0; i < 7; i++) c2.attach(big);
  assert.throws(() => c2.attach(big), (e: Error & { code?: string }) => e.code === "ENOMEM");
});

test("64-bit arguments and the instruction pointer lay out little-endian", () => {
  const f = compileSeccomp(assembleCbpf("ld [20]\nret a")); // high half of args[0]
  assert.equal(f.run({ nr: 0, args: [0x1234567800000000n] }), 0x12345678);
  const ip = compileSeccomp(assembleCbpf("ld [8]\nret a"));
  assert.equal(ip.run({ nr: 0, instructionPointer: 0xdeadbeef }), 0xdeadbeef);
});
