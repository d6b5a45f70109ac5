// Robustness: random instruction streams (valid opcodes with random registers, offsets and immediates, plus raw random
// slots) either load and run to an exit, or fail with a BpfError (DECODE, FAULT, BUDGET, UNSUPPORTED); never another
// exception and never a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isBpfError } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { AddressSpace } from "./memory.ts";
import { Vm } from "./vm.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import { buildSkbContext } from "../runtime/contexts.ts";

const OPCODES = [
  0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7,
  0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c,
  0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d,
  0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd, 0x06, 0x16, 0x1e, 0x26,
  0x85, 0x8d, 0x95, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72,
  0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb,
];

const slot = fc.oneof(
  { weight: 9, arbitrary: fc.record({
    code: fc.constantFrom(...OPCODES), dst: fc.integer({ min: 0, max: 10 }), src: fc.integer({ min: 0, max: 10 }),
    off: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -600, max: 100 })),
    imm: fc.oneof(fc.integer({ min: -3, max: 200 }), fc.constantFrom(16, 32, 64, 0x01, 0xe1, 0xf1, 12, 1, 5, 6), fc.integer()),
  }) },
  { weight: 1, arbitrary: fc.record({
    code: fc.integer({ min: 0, max: 255 }), dst: fc.integer({ min: 0, max: 15 }), src: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }), imm: fc.integer(),
  }) },
);

test("random programs end in an exit or a BpfError, never a crash or a hang", () => {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const skb = buildSkbContext(space, new Uint8Array(64), { l2: true });
  let ran = 0;
  fc.assert(fc.property(fc.array(slot, { minLength: 1, maxLength: 40 }), (body: Insn[]) => {
    const insns = [...body, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
    let prog;
    try {
      prog = vm.load(insns);
    } catch (e) {
      assert.ok(isBpfError(e), `load threw ${String(e)}`);
      return;
    }
    try {
      vm.run(prog, { ...skb.run, budget: 10_000 });
      ran++;
    } catch (e) {
      assert.ok(isBpfError(e), `run threw ${e instanceof Error ? e.stack : String(e)}`);
    } finally {
      vm.unload(prog);
    }
  }), { numRuns: 1500 });
  assert.ok(ran > 50, `only ${ran} programs ran to an exit`);
});
