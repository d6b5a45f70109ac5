import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { isBpfError } from "../errors.ts";
import { AddressSpace } from "./memory.ts";
import { Vm } from "./vm.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import type { ProgramMap } from "../helpers/types.ts";
import { buildSkbContext } from "../runtime/contexts.ts";

const i = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

function setup(opts: ConstructorParameters<typeof Vm>[1] = {}) {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv(), ...opts });
  return { space, vm };
}

const runAsm = (text: string, opts = {}): bigint => {
  const { vm } = setup();
  return vm.run(vm.load(assemble(text)), opts).value;
};

const faultOf = (f: () => unknown): string => {
  try { f(); } catch (e) { if (isBpfError(e)) return `${e.code}: ${e.message}`; throw e; }
  return "no error";
};

test("div by zero yields 0 and mod by zero leaves dst (32-bit: zero-extended)", () => {
  assert.equal(runAsm("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0n);
  assert.equal(runAsm("lddw %r0, 0x100000007\nmov %r1, 0\nmod %r0, %r1\nexit"), 0x100000007n);
  assert.equal(runAsm("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit"), 7n);
});

test("ALU32 zero-extends its result", () => {
  assert.equal(runAsm("lddw %r0, 0xffffffffffffffff\nadd32 %r0, 1\nexit"), 0n);
  assert.equal(runAsm("mov32 %r0, -1\nexit"), 0xffffffffn);
});

test("reading unmapped memory faults naming pc, address and size", () => {
  const { vm } = setup();
  const p = vm.load(assemble("mov %r1, 16\nldxw %r0, [%r1+0]\nexit"));
  assert.match(faultOf(() => vm.run(p)), /^FAULT: pc 1: invalid read of 4 bytes at 0x10: unmapped address/);
});

test("a pointer with a non-zero high half faults", () => {
  const { vm } = setup();
  const p = vm.load(assemble("lddw %r1, 0x100000000\nldxb %r0, [%r1+0]\nexit"));
  assert.match(faultOf(() => vm.run(p)), /pc 2: invalid read of 1 bytes at 0x100000000/);
});

test("stack accesses beyond the 512-byte frame fault", () => {
  const { vm } = setup();
  assert.equal(vm.run(vm.load(assemble("stdw [%r10-512], 5\nldxdw %r0, [%r10-512]\nexit"))).value, 5n);
  assert.match(faultOf(() => vm.run(vm.load(assemble("ldxdw %r0, [%r10-520]\nexit")))), /FAULT: pc 0/);
  assert.match(faultOf(() => vm.run(vm.load(assemble("stb [%r10+0], 1\nexit")))), /FAULT: pc 0: invalid write of 1 bytes/);
});

test("context is read-only except the writable fields", () => {
  const { vm, space } = setup();
  const skb = buildSkbContext(space, new Uint8Array(60), { writableFields: ["cb", "mark"] });
  const p = vm.load(assemble("mov %r2, 77\nstxw [%r1+8], %r2\nstxw [%r1+48], %r2\nmov %r0, 0\nexit"));
  vm.run(p, skb.run);
  assert.equal(skb.field("mark"), 77);
  assert.equal(skb.field("cb"), 77);
  const q = vm.load(assemble("mov %r2, 1\nstxw [%r1+0], %r2\nexit"));
  assert.match(faultOf(() => vm.run(q, skb.run)), /pc 1: invalid write of 4 bytes .*read-only __sk_buff/);
});

test("the instruction budget stops an endless loop naming the pc", () => {
  const { vm } = setup();
  const p = vm.load(assemble("mov %r0, 0\nl:\nadd %r0, 1\nja l\nexit"));
  const e = faultOf(() => vm.run(p, { budget: 1000 }));
  assert.match(e, /^BUDGET: pc \d: instruction budget exhausted/);
});

test("load rejects an unknown opcode and a cut lddw", () => {
  const { vm } = setup();
  assert.match(faultOf(() => vm.load([i(0xff), i(0x95)])), /DECODE: insn 0: unknown opcode 0xff/);
  assert.match(faultOf(() => vm.load([i(0xb7), i(0x18, 1)])), /DECODE: insn 1: lddw is missing its second half/);
  assert.match(faultOf(() => vm.load([i(0xb7, 12), i(0x95)])), /invalid register/);
});

test("falling off the end or jumping into lddw faults", () => {
  const { vm } = setup();
  assert.match(faultOf(() => vm.run(vm.load([i(0xb7)]))), /pc 1: jump out of the program/);
  assert.match(faultOf(() => vm.run(vm.load([i(0x05, 0, 0, 1), i(0x18), i(0), i(0x95)]))), /pc 2: jump into the middle of an lddw/);
});

test("bpf-to-bpf calls preserve r6-r9, get a fresh frame, and nest at most 8 deep", () => {
  assert.equal(runAsm("mov %r6, 5\nstdw [%r10-8], 9\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r6\nadd %r0, %r1\nexit\nf:\nstdw [%r10-8], 100\nmov %r6, 1\nmov %r0, 1000\nexit"), 1014n);
  const deep = "call local f\nexit\nf:\ncall local f\nexit";
  assert.match(faultOf(() => runAsm(deep)), /call exceeds the maximum depth of 8 frames/);
});

test("LD_ABS/LD_IND read network byte order; out of bounds exits with r0 = 0", () => {
  const { vm, space } = setup();
  const pkt = Uint8Array.from({ length: 40 }, (_, k) => k);
  const skb = buildSkbContext(space, pkt, { l2: true });
  assert.equal(vm.run(vm.load(assemble("ldabsw 12\nexit")), skb.run).value, 0x0c0d0e0fn);
  assert.equal(vm.run(vm.load(assemble("mov %r1, 2\nldindh %r1, 3\nexit")), skb.run).value, 0x0506n);
  assert.equal(vm.run(vm.load(assemble("mov %r0, 9\nldabsb 40\nmov %r0, 7\nexit")), skb.run).value, 0n);
  // SKF_NET_OFF: relative to the network header (14)
  assert.equal(vm.run(vm.load(assemble("ldabsb -1048576\nexit")), skb.run).value, 14n);
});

test("tail calls jump to the target program and fall through on a miss", () => {
  const { vm, space } = setup();
  const target = vm.load(assemble("mov %r0, 42\nexit"));
  const handle = space.alloc(8, { kind: "helper", name: "prog array", writable: false });
  const progArray: ProgramMap = { maxEntries: 4, getProgram: (k) => (k === 1 ? target : undefined) };
  const vm2 = new Vm(space, { helpers: defaultHelpers, mapAt: (a) => (a === handle.start ? progArray : undefined) });
  const caller = (idx: number) => vm2.load([
    ...assemble(`lddw %r2, ${handle.start}\nmov %r3, ${idx}\ncall 12\nmov %r0, 7\nexit`),
  ]);
  assert.equal(vm2.run(caller(1)).value, 42n);
  assert.equal(vm2.run(caller(2)).value, 7n);
  assert.equal(vm2.run(caller(9)).value, 7n);
  // a program that tail-calls itself stops after 33 tail calls
  let self: ReturnType<typeof vm.load> | undefined;
  const selfMap: ProgramMap = { maxEntries: 1, getProgram: () => self };
  const vm3 = new Vm(space, { helpers: defaultHelpers, mapAt: () => selfMap });
  self = vm3.load(assemble(`ldxdw %r0, [%r10-8]\nadd %r0, 1\nstxdw [%r10-8], %r0\nlddw %r2, ${handle.start}\nmov %r3, 0\ncall 12\nldxdw %r0, [%r10-8]\nexit`));
  assert.equal(vm3.run(self).value, 34n);
});

test("bpf_loop runs a callback in a new frame and stops when it returns 1", () => {
  const { vm } = setup();
  // r6 accumulates through the ctx pointer (a stack slot of the caller)
  const prog = [
    i(0x7a, 10, 0, -8, 0), // *(u64 *)(r10-8) = 0
    i(0xb7, 1, 0, 0, 10), // r1 = 10 loops
    i(0x18, 2, 4, 0, 9), i(0), // r2 = &callback (pc 3 + 9 + 1 = 13... relative to the lddw: 2 + 9 + 1 = 12)
    i(0xbf, 3, 10), i(0x07, 3, 0, 0, -8), // r3 = r10 - 8
    i(0xb7, 4, 0, 0, 0), // flags
    i(0x85, 0, 0, 0, 181), // bpf_loop
    i(0x79, 1, 10, -8), // r1 = sum
    i(0x67, 0, 0, 0, 32), i(0x4f, 0, 1), // r0 = iterations << 32 | sum
    i(0x95),
    // callback(index r1, ctx r2): *ctx += index; return index == 4
    i(0x79, 3, 2, 0), i(0x0f, 3, 1), i(0x7b, 2, 3, 0),
    i(0xb7, 0, 0, 0, 0), i(0x55, 1, 0, 1, 4), i(0xb7, 0, 0, 0, 1), i(0x95),
  ];
  const r = vm.run(vm.load(prog)).value;
  assert.equal(r >> 32n, 5n);
  assert.equal(r & 0xffffffffn, 0n + 1n + 2n + 3n + 4n);
});

test("atomics: fetch-add, xchg and cmpxchg (32-bit results zero-extended)", () => {
  assert.equal(runAsm("stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit"), (8n << 8n) | 5n);
  assert.equal(runAsm("stw [%r10-8], -1\nmov %r0, -1\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1\nldxw %r1, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit"), (0xffffffffn << 8n) | 9n);
});

test("a missing helper faults with its name", () => {
  assert.match(faultOf(() => runAsm("call 9\nexit")), /UNSUPPORTED: pc 0: helper bpf_skb_store_bytes#9 is not available/);
});

test("cached region bounds never outlive the region: an unmapped buffer faults on the next run", () => {
  const { vm, space } = setup();
  const a = space.alloc(16, { kind: "scratch", name: "a" });
  const b = space.alloc(16, { kind: "scratch", name: "b" });
  // touch b, then the stack, then a: all three regions land in the read/write caches
  const p = vm.load(assemble("stdw [%r10-8], 1\nldxdw %r0, [%r2+0]\nstxdw [%r1+0], %r0\nldxdw %r0, [%r1+0]\nexit"));
  space.dv.setUint32(b.start, 7, true);
  assert.equal(vm.run(p, { r1: a.start, r2: b.start }).value, 7n);
  space.release(a);
  assert.match(faultOf(() => vm.run(p, { r1: a.start, r2: b.start })), /FAULT: pc 2: invalid write of 8 bytes .*unmapped address/);
  const ro = space.alloc(16, { kind: "scratch", name: "ro", writable: false });
  assert.match(faultOf(() => vm.run(p, { r1: ro.start, r2: b.start })), /FAULT: pc 2: invalid write of 8 bytes .*read-only ro/);
});

test("bpf_loop callbacks are charged per call (7, as the kernel's inlined loop) on top of what they run", () => {
  const { vm } = setup();
  const loopCall = (n: number, cbOff: number) => [
    i(0xb7, 1, 0, 0, n), i(0x18, 2, 4, 0, cbOff), i(0), i(0xb7, 3, 0, 0, 0), i(0xb7, 4, 0, 0, 0), i(0x85, 0, 0, 0, 181),
  ];
  const nested = (inner: number) => [
    ...loopCall(1, 5), i(0x95), // pc 0-6: bpf_loop(1, outer callback at 7)
    ...loopCall(inner, 6), i(0xb7, 0, 0, 0, 0), i(0x95), // pc 7-14: bpf_loop(inner, callback at 15); return 0
    i(0xb7, 0, 0, 0, 0), i(0x95), // pc 15-16: return 0
  ];
  const used = (inner: number): number => vm.run(vm.load(nested(inner))).insns;
  assert.equal(used(2000) - used(1000), 1000 * (2 + 7));
  // nested loops of 2^23 that run nothing end on the budget, not after 2^46 calls
  assert.throws(() => vm.run(vm.load(nested(0x800000)), { budget: 1_000_000 }), (e) => isBpfError(e) && e.code === "BUDGET");
});
