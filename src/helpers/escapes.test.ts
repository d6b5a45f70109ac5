// Regressions for helper escapes the hardening campaign found (issue 16): every length a helper uses is an integer
// checked by the address space, including lengths the program can rewrite in memory it owns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { isBpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import type { Region } from "../vm/memory.ts";
import { Vm } from "../vm/vm.ts";
import { defaultHelpers, deterministicEnv } from "./index.ts";
import { createMap, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_RINGBUF } from "../maps/index.ts";
import type { RingBufMap } from "../maps/index.ts";

/** Bytes that changed outside `allowed` since `before`. */
function changedOutside(space: AddressSpace, before: Uint8Array, allowed: readonly Region[]): number[] {
  const out: number[] = [];
  for (let a = 0; a < before.length; a++) {
    if (before[a] === space.u8[a]) continue;
    if (!allowed.some((r) => a >= r.start && a < r.start + r.size)) out.push(a);
  }
  return out;
}

test("a ring buffer record whose header the program rewrote is committed with its reserved length", () => {
  const space = new AddressSpace();
  const rb = createMap(space, { type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
  createMap(space, { type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 }); // something after the ring
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  // reserve 8 bytes, set the header's length to ~1 MiB (BUSY kept), submit
  const prog = vm.load(assemble(`
    lddw %r1, ${rb.address}
    mov %r2, 8
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    stw [%r0-8], 0x800ffff0
    mov %r1, %r0
    mov %r2, 0
    call 132
  out:
    mov %r0, 0
    exit`));
  const before = space.u8.slice();
  vm.run(prog);
  const stacks = space.regions().filter((r) => r.kind === "stack");
  assert.deepEqual(changedOutside(space, before, [rb.data, rb.control, ...stacks]), []);
  const got: number[] = [];
  rb.consume((s) => { got.push(s.length); });
  assert.deepEqual(got, [8]);
});

test("probe_read_str with a size of 2^53 or -1 faults instead of writing a NUL anywhere", () => {
  for (const size of ["-1", "0x20000000000000"]) {
    const space = new AddressSpace();
    const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
    const prog = vm.load(assemble(`
      lddw %r1, 0x100
      lddw %r2, ${size}
      mov %r3, %r10
      call 115
      exit`));
    const before = space.u8.slice();
    assert.throws(() => vm.run(prog), (e) => isBpfError(e) && e.code === "FAULT" && /pc 5: invalid write of 2\^53 or more bytes at 0x100/.test(e.message));
    assert.deepEqual(changedOutside(space, before, space.regions().filter((r) => r.kind === "stack")), []);
  }
});

test("probe_read with size 0 and a destination past memory is a fault, not a RangeError", () => {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const prog = vm.load(assemble(`
    lddw %r1, 0xfffffff0
    mov %r2, 0
    mov %r3, %r10
    call 113
    exit`));
  assert.throws(() => vm.run(prog), (e) => isBpfError(e) && e.code === "FAULT" && /pc 4: invalid write of 0 bytes at 0xfffffff0: unmapped address/.test(e.message));
});

test("helper size 0 on a mapped pointer (or NULL) touches nothing and succeeds", () => {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const prog = vm.load(assemble(`
    mov %r1, %r10
    mov %r2, 0
    mov %r3, %r10
    call 113
    exit`));
  assert.equal(vm.run(prog).value, 0n);
});

test("no helper changes a BPF_F_RDONLY_PROG map (found by the memory-safety fuzzer: update wrote .rodata)", () => {
  const space = new AddressSpace();
  const ro = createMap(space, { type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x80, name: "ro" });
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const prog = vm.load(assemble(`
    stw [%r10-4], 0
    stdw [%r10-16], -1
    lddw %r1, ${ro.address}
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
    exit`));
  const before = space.u8.slice();
  assert.throws(() => vm.run(prog), (e) => isBpfError(e) && e.code === "FAULT" && /pc 9: write into map forbidden/.test(e.message));
  assert.deepEqual(changedOutside(space, before, space.regions().filter((r) => r.kind === "stack")), []);
});
