// Helpers against the real map implementations (src/maps): the program side through the VM, the user side with bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { AddressSpace } from "../vm/memory.ts";
import { Vm } from "../vm/vm.ts";
import { defaultHelpers, deterministicEnv } from "./index.ts";
import { createMap, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_RINGBUF } from "../maps/index.ts";
import type { ProgArrayMap, RingBufMap } from "../maps/index.ts";

const u32 = (v: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
const u64 = (v: bigint): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };

test("a hash map counter: the program increments, user space reads it", () => {
  const space = new AddressSpace();
  const map = createMap(space, { type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16, name: "counts" });
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const prog = vm.load(assemble(`
    stw [%r10-4], 7
    lddw %r1, 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jne %r0, 0, found
    stdw [%r10-16], 1
    lddw %r1, 0
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
    exit
  found:
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    mov %r0, 0
    exit`).map((x) => (x.code === 0x18 && x.dst === 1 ? { ...x, src: 1 } : x)), { resolve: { map: () => map.address } });
  for (let k = 0; k < 5; k++) assert.equal(vm.run(prog).value, 0n);
  assert.deepEqual(map.lookup(u32(7)), u64(5n));
});

test("tail calls through a real PROG_ARRAY", () => {
  const space = new AddressSpace();
  const arr = createMap(space, { type: BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }) as ProgArrayMap;
  const vm = new Vm(space, { helpers: defaultHelpers });
  const target = vm.load(assemble("mov %r0, 99\nexit"));
  arr.setProgram(1, target, 1);
  const caller = vm.load(assemble(`lddw %r2, ${arr.address}\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit`));
  assert.equal(vm.run(caller).value, 99n);
  arr.setProgram(1, undefined);
  assert.equal(vm.run(caller).value, 1n);
});

test("ringbuf_output and reserve/submit records reach the consumer", () => {
  const space = new AddressSpace();
  const rb = createMap(space, { type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
  const vm = new Vm(space, { helpers: defaultHelpers });
  const prog = vm.load(assemble(`
    stdw [%r10-8], 0x1122
    lddw %r1, ${rb.address}
    mov %r2, %r10
    add %r2, -8
    mov %r3, 8
    mov %r4, 0
    call 130
    lddw %r1, ${rb.address}
    mov %r2, 8
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    stdw [%r0+0], 0x3344
    mov %r1, %r0
    mov %r2, 0
    call 132
  out:
    mov %r0, 0
    exit`));
  vm.run(prog);
  const got: bigint[] = [];
  rb.consume((data: Uint8Array) => { got.push(new DataView(data.buffer, data.byteOffset).getBigUint64(0, true)); return 0; });
  assert.deepEqual(got, [0x1122n, 0x3344n]);
});
