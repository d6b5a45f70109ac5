import { test } from "node:test";
import assert from "node:assert/strict";
import { AddressSpace } from "../vm/memory.ts";
import { buildContext, buildMemContext, buildSkbContext, buildXdpContext } from "./contexts.ts";
import { SK_BUFF_FIELDS, SK_BUFF_SIZE } from "./layouts.ts";

const frame = (n: number, dst = 0x02): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (k === 0 ? dst : k === 12 ? 0x08 : k === 13 ? 0x00 : k));

test("__sk_buff layout ends at 192 bytes with no overlapping fields", () => {
  const sorted = [...SK_BUFF_FIELDS].sort((a, b) => a.offset - b.offset);
  for (let k = 1; k < sorted.length; k++) assert.ok(sorted[k]!.offset >= sorted[k - 1]!.offset + sorted[k - 1]!.size, sorted[k]!.name);
  const last = sorted.at(-1)!;
  assert.equal(last.offset + last.size, SK_BUFF_SIZE);
});

test("socket filter: data starts at the network header, len excludes the Ethernet header", () => {
  const space = new AddressSpace();
  const c = buildSkbContext(space, frame(60));
  assert.equal(c.field("len"), 46);
  assert.equal(c.field("protocol"), 0x0008); // htons(ETH_P_IP) as the program reads it
  assert.equal(c.field("pkt_type"), 3); // PACKET_OTHERHOST: not the loopback's address
  assert.equal(c.field("data_end") - c.field("data"), 46);
  assert.equal(c.run.packet!.macOffset, -14);
  assert.throws(() => buildSkbContext(space, frame(10)), /shorter than an Ethernet header/);
});

test("tc (l2): data starts at the mac header; the packet is writable, the ctx only in its writable fields", () => {
  const space = new AddressSpace();
  const c = buildContext(space, "sched_cls", frame(60, 0xff));
  assert.equal(c.field("len"), 60);
  assert.equal(c.field("pkt_type"), 2); // multicast bit set, not all-ones
  const pk = c.run.packet!;
  assert.ok(space.check(pk.data, 60, true));
  assert.ok(!space.check(c.run.ctx!, 4, true));
  assert.equal(c.run.ctxWritable![8], 1); // mark
  assert.equal(c.run.ctxWritable![0], 0); // len
  c.release();
  assert.ok(!space.check(pk.data, 1, false));
});

test("xdp: 256 bytes of headroom, data_out follows data/data_end", () => {
  const space = new AddressSpace();
  const c = buildXdpContext(space, frame(64));
  assert.equal(c.field("data_end") - c.field("data"), 64);
  assert.equal(c.run.packet!.data - c.run.packet!.bufferStart, 256 - 40);
  assert.deepEqual(c.dataOut(), frame(64));
  assert.equal(c.field("ingress_ifindex"), 1);
});

test("mem: r1 = a writable copy, r2 = its length; empty data gives r1 = 0", () => {
  const space = new AddressSpace();
  const c = buildMemContext(space, Uint8Array.of(1, 2, 3));
  assert.equal(c.run.r2, 3);
  assert.deepEqual(space.u8.slice(Number(c.run.r1), Number(c.run.r1) + 3), Uint8Array.of(1, 2, 3));
  assert.equal(buildMemContext(space, new Uint8Array(0)).run.r1, 0);
  assert.throws(() => buildContext(space, "nonsense", new Uint8Array(0)), /cannot be test-run/);
});

// What one run writes to the packet the next run sees: bpf_test_run runs the program `repeat` times on one context
// (checked against the kernel below: 0x41 + 3 after three runs).
const INCREMENT_FIRST_BYTE = "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, out\n"
  + "ldxb %r0, [%r2+0]\nadd %r0, 1\nstxb [%r2+0], %r0\nexit\nout:\nmov %r0, 99\nexit";

test("testRun repeats on one context (the kernel's bpf_test_run), reports r0, data_out and the average duration, on both engines", async () => {
  const { createEngine } = await import("../jit/select.ts");
  const { assemble } = await import("../isa/ebpf/index.ts");
  const { testRun } = await import("./test-run.ts");
  for (const kind of ["interp", "jit"] as const) {
    const space = new AddressSpace();
    const vm = createEngine(kind, space);
    // tc program: increments the first packet byte and returns it
    const prog = vm.load(assemble(INCREMENT_FIRST_BYTE), { type: "sched_cls" });
    let t = 0;
    const r = testRun(vm, prog, { data: frame(20, 0x41), repeat: 3, now: () => (t += 0.001) });
    assert.equal(r.retval, 0x44n, kind);
    assert.equal(r.dataOut[0], 0x44, kind);
    // the clock is read around the loop: one interval of 1 µs over three runs
    assert.equal(r.duration, 333, kind);
    assert.equal(r.ctxOut.length, SK_BUFF_SIZE, kind);
    assert.equal(r.insns, 9, kind);
  }
});

test("testRun repeat: the kernel's BPF_PROG_TEST_RUN gives the same retval and data_out", async (t) => {
  const k = await import("../../test/oracle/kernel.ts");
  if (k.skipWithoutKernel(t, "testRun repeat against the kernel")) return;
  const { assemble } = await import("../isa/ebpf/index.ts");
  const loaded = k.kernelLoad(assemble(INCREMENT_FIRST_BYTE), { progType: "sched_cls", name: "repeat" });
  assert.ok(loaded.accepted, loaded.log);
  try {
    for (const repeat of [1, 3, 10]) {
      const r = k.kernelTestRun(loaded.fd!, { data: frame(40, 0x41), repeat });
      assert.equal(r.retval, 0x41 + repeat, `repeat ${repeat}`);
      assert.equal(r.dataOut[0], 0x41 + repeat, `repeat ${repeat}`);
    }
  } finally { loaded.close(); }
});
