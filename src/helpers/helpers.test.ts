import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { AddressSpace } from "../vm/memory.ts";
import { Vm } from "../vm/vm.ts";
import type { RunOptions } from "../vm/vm.ts";
import { bpfFormat, defaultHelpers, deterministicEnv } from "./index.ts";
import type { ProgramMap } from "./types.ts";
import { buildSkbContext, buildXdpContext } from "../runtime/contexts.ts";

function setup(maps: Record<number, ProgramMap> = {}, env = deterministicEnv()) {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env, mapAt: (a) => maps[a] });
  const run = (asm: string, opts: RunOptions = {}): bigint => vm.run(vm.load(assemble(asm)), opts).value;
  return { space, vm, env, run };
}

/** Store a string on the stack at r10-off (8-byte stores), for format strings. */
const pushString = (s: string, off: number): string => {
  const bytes = [...Buffer.from(s + "\0")];
  while (bytes.length % 8) bytes.push(0);
  let asm = "";
  for (let k = 0; k < bytes.length; k += 8) {
    const v = bytes.slice(k, k + 8).reduce((acc, b, j) => acc | (BigInt(b) << BigInt(8 * j)), 0n);
    asm += `lddw %r1, 0x${v.toString(16)}\nstxdw [%r10-${off - k}], %r1\n`;
  }
  return asm;
};

test("bpfFormat follows the kernel's printf dialect", () => {
  const str = { str: () => "abc", bytes: (_a: bigint, n: number) => Uint8Array.from({ length: n }, (_, k) => (k === 0 ? 10 : k === 3 ? 1 : 0)) };
  assert.equal(bpfFormat("%d %u %x %ld %5d|%-4x|%05d %s %c %%", [-1n, -1n, 255n, -1n, 42n, 10n, -7n, 0n, 65n], 12, str),
    "-1 4294967295 ff -1    42|a   |-0007 abc A %");
  assert.equal(bpfFormat("%llu %llx", [-1n, 0x1234n], 12, str), "18446744073709551615 1234");
  assert.equal(bpfFormat("%d %d %d %d", [1n, 2n, 3n, 4n], 3, str), undefined); // too many args
  assert.equal(bpfFormat("%f", [1n], 3, str), undefined);
  assert.equal(bpfFormat("%pI4", [1n], 3, str), "10.0.0.1");
  assert.equal(bpfFormat("%pi6", [1n], 3, str), "0a000001000000000000000000000000");
  assert.equal(bpfFormat("%sx", [1n], 3, str), undefined); // %s must end at a space, punctuation or the end
  assert.equal(bpfFormat("%s.", [1n], 3, str), "abc.");
  assert.equal(bpfFormat("%pa", [1n], 3, str), undefined);
  assert.equal(bpfFormat("%px %p", [255n, 1n], 3, str), "00000000000000ff 0000000000000001");
  assert.equal(bpfFormat("%.2d", [1n], 3, str), undefined);
});

test("trace_printk formats its arguments and returns the length", () => {
  const { run, env } = setup();
  const r = run(`${pushString("x=%d y=%x\n", 16)}mov %r1, %r10\nadd %r1, -16\nmov %r2, 11\nmov %r3, -5\nmov %r4, 255\ncall 6\nexit`);
  assert.deepEqual(env.printed, ["x=-5 y=ff\n"]);
  assert.equal(r, 10n);
});

test("trace_printk with an unterminated format returns -EINVAL", () => {
  const { run } = setup();
  const r = run(`stdw [%r10-8], 0x41414141\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\ncall 6\nexit`);
  assert.equal(r, BigInt.asUintN(64, -22n));
});

test("snprintf writes a truncated NUL-terminated string and returns the full size", () => {
  const { run, space, vm } = setup();
  void space; void vm;
  const asm = `${pushString("v=%d", 40)}stdw [%r10-24], 12345\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 5\nmov %r3, %r10\nadd %r3, -40\n`
    + `mov %r4, %r10\nadd %r4, -24\nmov %r5, 8\ncall 165\nldxw %r1, [%r10-8]\nlsh %r0, 32\nor %r0, %r1\nexit`;
  const r = run(asm);
  assert.equal(r >> 32n, 8n); // "v=12345" + NUL
  assert.equal(Number(r & 0xffffffffn), Buffer.from("v=12").readUInt32LE(0));
});

test("pid_tgid, uid_gid, comm and the clocks come from the environment", () => {
  const env = deterministicEnv({ pid: 7, tgid: 9, uid: 1, gid: 2, comm: "a-very-long-command-name" });
  const { run } = setup({}, env);
  assert.equal(run("call 14\nexit"), (9n << 32n) | 7n);
  assert.equal(run("call 15\nexit"), (2n << 32n) | 1n);
  const comm = run("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nldxdw %r0, [%r10-16]\nldxdw %r1, [%r10-8]\nrsh %r1, 56\nadd %r0, %r1\nexit");
  assert.equal(comm, Buffer.from("a-very-l").readBigUInt64LE(0)); // byte 15 is the NUL
  assert.equal(run("call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit"), 1000n);
});

test("probe_read_str copies up to size-1 bytes and a NUL; a foreign address faults softly", () => {
  const env = deterministicEnv({ readForeign: (addr, size) => {
    const k = Number(addr - 0xffff0000n);
    return k >= 0 && k + size <= 8 ? Buffer.from("kernel!\0").subarray(k, k + size) : undefined;
  } });
  const { run } = setup({}, env);
  const r = run("mov %r1, %r10\nadd %r1, -8\nmov %r2, 5\nlddw %r3, 0xffff0000\ncall 115\nldxw %r1, [%r10-8]\nlsh %r0, 32\nor %r0, %r1\nexit");
  assert.equal(r >> 32n, 5n);
  assert.equal(Number(r & 0xffffffffn), Buffer.from("kern").readUInt32LE(0));
  const bad = run("stdw [%r10-8], -1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nlddw %r3, 0xdead0000\ncall 113\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit");
  assert.equal(bad, BigInt.asUintN(64, -14n)); // -EFAULT and the buffer zeroed
});

test("map helpers pass key/value addresses to the map and return its answers", () => {
  const space0 = new AddressSpace();
  void space0;
  const calls: string[] = [];
  let valueAddr = 0;
  const map: ProgramMap = {
    keySize: 4, valueSize: 8,
    lookupElem: (k) => { calls.push(`lookup ${k > 0}`); return valueAddr; },
    updateElem: (_k, _v, flags) => { calls.push(`update ${flags}`); return 0; },
    deleteElem: () => -2,
  };
  const { run, space } = setup({ 0x1234: map });
  const value = space.alloc(8, { kind: "map_value", name: "value" });
  valueAddr = value.start;
  space.dv.setUint32(value.start, 99, true);
  assert.equal(run("stw [%r10-4], 1\nlddw %r1, 0x1234\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxw %r0, [%r0+0]\nexit"), 99n);
  assert.equal(run("stw [%r10-4], 1\nstdw [%r10-16], 5\nlddw %r1, 0x1234\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 2\ncall 2\nexit"), 0n);
  assert.equal(run("stw [%r10-4], 1\nlddw %r1, 0x1234\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit"), BigInt.asUintN(64, -2n));
  assert.deepEqual(calls, ["lookup true", "update 2"]);
  // a key pointer that does not cover key_size bytes faults
  assert.throws(() => run("lddw %r1, 0x1234\nmov %r2, %r10\nadd %r2, -2\ncall 1\nexit"), (e: { code?: string }) => e.code === "FAULT");
});

test("ringbuf reserve/submit hand the sample back to the map that reserved it", () => {
  const events: string[] = [];
  let sample = 0;
  const rb: ProgramMap = {
    reserve: (size) => { events.push(`reserve ${size}`); return sample; },
    submit: (addr) => events.push(`submit ${addr === sample}`),
    discard: () => events.push("discard"),
  };
  const { run, space } = setup({ 0x2000: rb });
  sample = space.alloc(16, { kind: "ringbuf", name: "sample" }).start;
  const r = run("lddw %r1, 0x2000\nmov %r2, 16\nmov %r3, 0\ncall 131\njeq %r0, 0, out\nstdw [%r0+0], 7\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 1\nout:\nexit");
  assert.equal(r, 1n);
  assert.deepEqual(events, ["reserve 16", "submit true"]);
  assert.equal(space.dv.getUint32(sample, true), 7);
});

test("for_each_map_elem calls back with (map, key, value, ctx) until the callback returns 1", () => {
  const { space, vm } = setup();
  const kv = space.alloc(16, { kind: "map_value" });
  const seen: number[] = [];
  const map: ProgramMap = {
    forEach: (visit) => { let n = 0; for (let k = 0; k < 5; k++) { n++; seen.push(k); if (visit(kv.start, kv.start + 8)) break; } return n; },
  };
  const vm2 = new Vm(space, { helpers: defaultHelpers, mapAt: (a) => (a === 0x3000 ? map : undefined) });
  void vm;
  // callback returns 1 on the third call (counter in the ctx stack slot)
  const prog = [
    ...assemble("stdw [%r10-8], 0\nlddw %r1, 0x3000"),
    { code: 0x18, dst: 2, src: 4, off: 0, imm: 6 }, { code: 0, dst: 0, src: 0, off: 0, imm: 0 },
    ...assemble("mov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 164\nexit"),
    // callback at pc 11: (*ctx)++; return *ctx == 3
    ...assemble("ldxdw %r1, [%r3+0]\nadd %r1, 1\nstxdw [%r3+0], %r1\nmov %r0, 0\njne %r1, 3, +1\nmov %r0, 1\nexit"),
  ];
  assert.equal(vm2.run(vm2.load(prog)).value, 3n);
  assert.deepEqual(seen, [0, 1, 2]);
});

test("skb_load_bytes copies packet bytes and fails past the end", () => {
  const { run, space } = setup();
  const skb = buildSkbContext(space, Uint8Array.from({ length: 30 }, (_, k) => k), { l2: true });
  assert.equal(run("mov %r2, 10\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\ncall 26\nldxw %r0, [%r10-8]\nexit", skb.run), 0x0d0c0b0an);
  assert.equal(run("mov %r2, 28\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\ncall 26\nexit", skb.run), BigInt.asUintN(64, -14n));
});

test("xdp_adjust_head and adjust_tail move data/data_end within the kernel's bounds", () => {
  const { run, space } = setup();
  const xdp = buildXdpContext(space, new Uint8Array(64));
  // grow the head by 16 bytes: data moves back, xdp_md->data follows
  assert.equal(run("mov %r6, %r1\nmov %r2, -16\ncall 44\nldxw %r1, [%r6+4]\nldxw %r2, [%r6+0]\nsub %r1, %r2\nlsh %r0, 32\nor %r0, %r1\nexit", xdp.run), 80n);
  assert.equal(xdp.dataOut().length, 80);
  assert.equal(run("mov %r2, -300\ncall 44\nexit", xdp.run), BigInt.asUintN(64, -22n)); // beyond the headroom
  assert.equal(run("mov %r2, -70\ncall 65\nexit", xdp.run), BigInt.asUintN(64, -22n)); // fewer than ETH_HLEN bytes left
  assert.equal(run("mov %r2, 20\ncall 65\nexit", xdp.run), 0n);
  assert.equal(xdp.dataOut().length, 100);
});

test("get_stack copies the environment's stack after skipping frames and zero-fills the rest", () => {
  const env = deterministicEnv({ stack: () => [0x1111n, 0x2222n, 0x3333n] });
  const { run } = setup({}, env);
  const asm = (flags: number) => `stdw [%r10-8], -1\nmov %r2, %r10\nadd %r2, -32\nmov %r3, 32\nmov %r4, ${flags}\ncall 67\n`
    + "ldxdw %r1, [%r10-32]\nldxdw %r2, [%r10-8]\nlsh %r0, 32\nadd %r0, %r1\nadd %r0, %r2\nexit";
  assert.equal(run(asm(0)), (24n << 32n) + 0x1111n);
  assert.equal(run(asm(1)), (16n << 32n) + 0x2222n);
  assert.equal(run(asm(1 << 11)), 0xffffffea00000000n); // build ids: -EINVAL, buffer zeroed
});
