// The test-run contexts against the kernel's BPF_PROG_TEST_RUN: programs that return one __sk_buff / xdp_md field (or
// data_end - data, or an LD_ABS load) must return the same value in bpfkit as in the kernel, per program type.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../../src/vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../../src/helpers/index.ts";
import { buildContext, SK_BUFF_FIELDS, SK_BUFF_SIZE, XDP_MD_FIELDS } from "../../src/runtime/index.ts";
import { kernelAvailable, kernelLoad, kernelTestRun } from "./kernel.ts";

const i = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
const POINTERS = new Set(["data", "data_end", "data_meta", "flow_keys", "sk"]);

function programs(fields: typeof SK_BUFF_FIELDS): { name: string; insns: Insn[] }[] {
  const out: { name: string; insns: Insn[] }[] = [];
  for (const f of fields) {
    if (POINTERS.has(f.name)) continue;
    const code = f.size === 1 ? 0x71 : f.size === 8 ? 0x79 : 0x61;
    out.push({ name: `read ${f.name}`, insns: [i(code, 0, 1, f.offset), i(0x95)] });
  }
  const data = fields.find((f) => f.name === "data")!.offset, end = fields.find((f) => f.name === "data_end")!.offset;
  out.push({ name: "data_end - data", insns: [i(0x61, 2, 1, data), i(0x61, 0, 1, end), i(0x1f, 0, 2), i(0x95)] });
  return out;
}

const ldAbs = [
  { name: "ld_abs w 0", insns: [i(0xbf, 6, 1), i(0x20, 0, 0, 0, 0), i(0x95)] },
  { name: "ld_abs h 12", insns: [i(0xbf, 6, 1), i(0x28, 0, 0, 0, 12), i(0x95)] },
  { name: "ld_abs b past the end", insns: [i(0xbf, 6, 1), i(0xb7, 0, 0, 0, 5), i(0x30, 0, 0, 0, 1000), i(0x95)] },
  { name: "ld_abs net off", insns: [i(0xbf, 6, 1), i(0x30, 0, 0, 0, -0x100000 + 9), i(0x95)] },
  { name: "ld_abs ll off", insns: [i(0xbf, 6, 1), i(0x28, 0, 0, 0, -0x200000 + 12), i(0x95)] },
];

// IPv4/UDP-ish frame, destination MAC not ours (PACKET_OTHERHOST on lo)
const packet = Uint8Array.from({ length: 74 }, (_, k) => (k === 12 ? 0x08 : k === 13 ? 0 : k === 14 ? 0x45 : (k * 7) & 0xff));
const avail = kernelAvailable();

for (const type of ["socket_filter", "sched_cls", "xdp"] as const) {
  test(`${type} context fields match BPF_PROG_TEST_RUN`, (t) => {
    if (avail !== true) { console.log(`SKIP vm-contexts: ${avail}`); t.skip(avail); return; }
    const space = new AddressSpace();
    const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
    const cases = type === "xdp" ? programs(XDP_MD_FIELDS) : [...programs(SK_BUFF_FIELDS), ...ldAbs];
    let compared = 0;
    const mismatches: string[] = [];
    for (const c of cases) {
      const loaded = kernelLoad(c.insns, { progType: type, name: "ctxdiff" });
      if (!loaded.accepted) continue; // the verifier forbids this field for this type
      try {
        const kernel = kernelTestRun(loaded.fd!, { data: packet }).retval >>> 0;
        const ctx = buildContext(space, type, packet);
        const ours = vm.run(vm.load(c.insns, { type }), ctx.run).lo;
        ctx.release();
        compared++;
        if (ours !== kernel) mismatches.push(`${c.name}: bpfkit ${ours}, kernel ${kernel}`);
      } finally {
        loaded.close();
      }
    }
    console.log(`${type}: ${compared} context programs compared with the kernel`);
    assert.deepEqual(mismatches, []);
    assert.ok(compared >= 3, `only ${compared} programs were accepted`);
  });
}

function rng(seed: number): () => number {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
}

test("random LD_ABS/LD_IND loads (in and out of bounds, SKF_NET_OFF/SKF_LL_OFF) match the kernel", (t) => {
  if (avail !== true) { console.log(`SKIP vm-contexts: ${avail}`); t.skip(avail); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  const mismatches: string[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const len = 14 + (r() % 80);
    const data = Uint8Array.from({ length: len }, () => r() & 0xff);
    const insns: Insn[] = [i(0xbf, 6, 1), i(0xb7, 7, 0, 0, 0)];
    for (let k = 0; k < 6; k++) {
      const size = [0x00, 0x08, 0x10][r() % 3]!;
      const base = [0, 0, 0, -0x100000, -0x200000][r() % 5]!;
      const off = base + (r() % (len + 8)) - (base === 0 ? 0 : 16);
      if (r() % 2) insns.push(i(0x20 | size, 0, 0, 0, off));
      else insns.push(i(0xb7, 2, 0, 0, r() % 8), i(0x40 | size, 0, 2, 0, off));
      insns.push(i(0x27, 7, 0, 0, 31), i(0x0f, 7, 0));
    }
    insns.push(i(0xbf, 0, 7), i(0x95));
    for (const type of ["socket_filter", "sched_cls"] as const) {
      const loaded = kernelLoad(insns, { progType: type, name: "ldabs" });
      if (!loaded.accepted) { mismatches.push(`seed ${seed} ${type}: rejected: ${loaded.log.trim().split("\n").pop()}`); continue; }
      let kernel: number;
      try { kernel = kernelTestRun(loaded.fd!, { data }).retval >>> 0; } finally { loaded.close(); }
      const ctx = buildContext(vm.space, type, data);
      const ours = vm.run(vm.load(insns, { type }), ctx.run).lo;
      ctx.release();
      if (ours !== kernel) mismatches.push(`seed ${seed} ${type}: bpfkit ${ours}, kernel ${kernel}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test("packet writes by tc and XDP programs produce the kernel's data_out", (t) => {
  if (avail !== true) { console.log(`SKIP vm-contexts: ${avail}`); t.skip(avail); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  // if (data + 20 <= data_end) { data[3] = 0xab; *(u32 *)(data + 8) = 0x11223344; data[19] ^= 0xff } return 1
  const writer = (dataOff: number, endOff: number): Insn[] => [
    i(0x61, 2, 1, dataOff), i(0x61, 3, 1, endOff), i(0xbf, 4, 2), i(0x07, 4, 0, 0, 20), i(0x2d, 4, 3, 6),
    i(0x72, 2, 0, 3, 0xab), i(0x62, 2, 0, 8, 0x11223344), i(0x71, 5, 2, 19), i(0xa7, 5, 0, 0, 0xff), i(0x73, 2, 5, 19),
    i(0x05, 0, 0, 0), i(0xb7, 0, 0, 0, 1), i(0x95),
  ];
  // XDP: move data 4 bytes back (bpf_xdp_adjust_head(ctx, -4)), then write the new first bytes
  const xdpHead: Insn[] = [
    i(0xbf, 6, 1), i(0xb7, 2, 0, 0, -4), i(0x85, 0, 0, 0, 44), i(0x61, 2, 6, 0), i(0x61, 3, 6, 4), i(0xbf, 4, 2),
    i(0x07, 4, 0, 0, 4), i(0x2d, 4, 3, 1), i(0x62, 2, 0, 0, 0x55667788), i(0xb7, 0, 0, 0, 2), i(0x95),
  ];
  const data = Uint8Array.from({ length: 64 }, (_, k) => (k === 12 ? 8 : k === 13 ? 0 : k));
  const cases = [
    { type: "sched_cls", insns: writer(76, 80) },
    { type: "xdp", insns: writer(0, 4) },
    { type: "xdp", insns: xdpHead },
  ] as const;
  for (const c of cases) {
    const loaded = kernelLoad(c.insns, { progType: c.type, name: "pktwrite" });
    assert.ok(loaded.accepted, `${c.type}: rejected:\n${loaded.log}`);
    let kernel;
    try { kernel = kernelTestRun(loaded.fd!, { data }); } finally { loaded.close(); }
    const ctx = buildContext(vm.space, c.type, data);
    const r = vm.run(vm.load(c.insns, { type: c.type }), ctx.run);
    const out = ctx.dataOut();
    ctx.release();
    assert.equal(r.lo, kernel.retval >>> 0, `${c.type}: retval`);
    assert.deepEqual([...out], [...kernel.dataOut], `${c.type}: data_out`);
  }
});

test("tc writes to mark, priority and cb[] come back in ctx_out as in the kernel", (t) => {
  if (avail !== true) { console.log(`SKIP vm-contexts: ${avail}`); t.skip(avail); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  const insns: Insn[] = [
    i(0x62, 1, 0, 8, 0x1234), i(0x62, 1, 0, 32, 7), i(0x62, 1, 0, 48, -1), i(0x61, 2, 1, 0), i(0x63, 1, 2, 64),
    i(0xb7, 0, 0, 0, 0), i(0x95),
  ];
  const data = Uint8Array.from({ length: 60 }, (_, k) => (k === 12 ? 8 : k === 13 ? 0 : k));
  const loaded = kernelLoad(insns, { progType: "sched_cls", name: "ctxwrite" });
  assert.ok(loaded.accepted, loaded.log);
  let kernel;
  try { kernel = kernelTestRun(loaded.fd!, { data, ctx: new Uint8Array(SK_BUFF_SIZE) }); } finally { loaded.close(); }
  const ctx = buildContext(vm.space, "sched_cls", data);
  vm.run(vm.load(insns, { type: "sched_cls" }), ctx.run);
  const ours = ctx.ctxOut();
  ctx.release();
  const kdv = new DataView(kernel.ctxOut.buffer, kernel.ctxOut.byteOffset), odv = new DataView(ours.buffer);
  for (const f of ["mark", "priority", "cb"] as const) {
    const field = SK_BUFF_FIELDS.find((x) => x.name === f)!;
    for (let o = field.offset; o < field.offset + field.size; o += 4) {
      assert.equal(odv.getUint32(o, true), kdv.getUint32(o, true), `${f} at ${o}`);
    }
  }
});
