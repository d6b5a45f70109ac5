// bpf-to-bpf calls against the kernel: nested subprogram calls with their own stack frames (callee-saved r6-r9
// preserved). bpf_loop callbacks need BTF func_info, so they are compared through clang objects in vm-bpftool.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../../src/isa/ebpf/index.ts";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../../src/vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../../src/helpers/index.ts";
import { kernelAvailable, kernelLoad, kernelTestRun } from "./kernel.ts";

const avail = kernelAvailable();

function compare(t: { skip: (m: string) => void }, programs: Insn[][]): void {
  if (avail !== true) { console.log(`SKIP vm-calls: ${avail}`); t.skip(avail); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  for (const [k, insns] of programs.entries()) {
    const loaded = kernelLoad(insns, { progType: "socket_filter", name: "calldiff" });
    assert.ok(loaded.accepted, `program ${k}: the kernel rejected it:\n${loaded.log}`);
    let kernel: number;
    try { kernel = kernelTestRun(loaded.fd!, { data: new Uint8Array(64) }).retval >>> 0; } finally { loaded.close(); }
    const ours = vm.run(vm.load(insns)).lo;
    assert.equal(ours, kernel, `program ${k}: bpfkit ${ours}, kernel ${kernel}`);
  }
}

test("nested bpf-to-bpf calls with stack frames agree with the kernel", (t) => {
  const programs = [3, 17, -5, 1000, 123456].map((x) => assemble(`
    mov %r6, ${x}
    mov %r7, 7
    stdw [%r10-8], 11
    mov %r1, %r6
    mov %r2, 3
    call local f
    ldxdw %r1, [%r10-8]
    add %r0, %r1
    mul %r0, %r7
    add %r0, %r6
    exit
  f:
    stdw [%r10-8], 100
    mov %r6, %r1
    mul %r6, %r2
    mov %r1, %r6
    call local g
    ldxdw %r1, [%r10-8]
    add %r0, %r1
    add %r0, %r6
    exit
  g:
    stdw [%r10-16], 5
    ldxdw %r0, [%r10-16]
    lsh %r1, 2
    add %r0, %r1
    exit`));
  compare(t, programs);
});
