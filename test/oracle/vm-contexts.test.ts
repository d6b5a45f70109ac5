// The test-run contexts against the kernel's BPF_PROG_TEST_RUN: programs that return one __sk_buff / xdp_md field (or
// data_end - data, or an LD_ABS load) must return the same value in bpfkit as in the kernel, per program type.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../../src/vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../../src/helpers/index.ts";
import { buildContext, SK_BUFF_FIELDS, XDP_MD_FIELDS } from "../../src/runtime/index.ts";
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
