// Stack slots held in wasm locals (slots.ts) against the interpreter: random mixes of 1/2/4/8-byte loads and stores
// at any offset inside a few frame slots, in a loop the JIT unrolls, with budgets that run out anywhere; r0, every
// byte of memory and the fault must match.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { JitVm } from "./engine.ts";
import { SCRATCH_SIZE } from "./compile.ts";
import { planSlots } from "./slots.ts";
import { functionBlocks, slotStarts } from "./cfg.ts";
import { loadProgram } from "../vm/program.ts";

const SIZES = [0x00, 0x08, 0x10, 0x18]; // w, h, b, dw
const BYTES = [4, 2, 1, 8];

const access = fc.record({ kind: fc.constantFrom(1, 2, 3), sz: fc.integer({ min: 0, max: 3 }), slot: fc.integer({ min: 1, max: 3 }),
  byte: fc.integer({ min: 0, max: 7 }), reg: fc.integer({ min: 0, max: 5 }), imm: fc.integer() })
  .map(({ kind, sz, slot, byte, reg, imm }): Insn => {
    const size = BYTES[sz]!, b = Math.min(byte, 8 - size), off = -8 * slot + b;
    if (kind === 1) return { code: 0x61 | SIZES[sz]!, dst: reg, src: 10, off, imm: 0 };
    if (kind === 2) return { code: 0x62 | SIZES[sz]!, dst: 10, src: 0, off, imm };
    return { code: 0x63 | SIZES[sz]!, dst: 10, src: reg, off, imm: 0 };
  });
const alu = fc.record({ code: fc.constantFrom(0x0f, 0xaf, 0x2f, 0x0c, 0x7f, 0x67), dst: fc.integer({ min: 0, max: 5 }), src: fc.integer({ min: 0, max: 5 }) })
  .map(({ code, dst, src }): Insn => ({ code, dst, src, off: 0, imm: code === 0x67 ? 0 : 0 }));
const shiftFix = (x: Insn): Insn => (x.code === 0x7f ? { ...x, code: 0x77, imm: 3 } : x.code === 0x67 ? { ...x, imm: 5 } : x);

function run(kind: "interp" | "jit", insns: Insn[], budget: number): { r0?: string; error?: string; mem: Uint8Array } {
  const space = new AddressSpace();
  const e = kind === "jit" ? new JitVm(space, {}) : new Vm(space, {});
  if (kind === "interp") space.alloc(SCRATCH_SIZE, { kind: "scratch", name: "stand-in", writable: false, align: 8 });
  const prog = e.load(insns);
  let r0: string | undefined, error: string | undefined;
  try { r0 = e.run(prog, { budget }).toString(); } catch (err) { error = (err as Error).message; }
  const scratch = space.regions().find((r) => r.kind === "scratch")!;
  const mem = space.u8.slice(0, scratch.start);
  return { ...(r0 !== undefined ? { r0 } : {}), ...(error !== undefined ? { error } : {}), mem };
}

test("stack slots in locals: mixed-size accesses in an unrolled loop match the interpreter, budget included", () => {
  fc.assert(fc.property(fc.array(fc.oneof(access, alu.map(shiftFix)), { minLength: 1, maxLength: 24 }),
    fc.integer({ min: 1, max: 6 }), fc.integer({ min: 3, max: 400 }), fc.integer(), (body, trips, budget, seed) => {
      const insns: Insn[] = [
        ...[0, 1, 2, 3, 4, 5].map((r): Insn => ({ code: 0xb7, dst: r, src: 0, off: 0, imm: seed ^ (r * 0x9e3779b9) })),
        { code: 0xb7, dst: 9, src: 0, off: 0, imm: trips },
        ...body,
        { code: 0x17, dst: 9, src: 0, off: 0, imm: 1 },
        { code: 0x55, dst: 9, src: 0, off: -(body.length + 2), imm: 0 },
        { code: 0x79, dst: 6, src: 10, off: -16, imm: 0 },
        { code: 0xaf, dst: 0, src: 6, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ];
      const a = run("interp", insns, budget), b = run("jit", insns, budget);
      assert.equal(b.error, a.error);
      assert.equal(b.r0, a.r0);
      const at = a.mem.findIndex((x, i) => x !== b.mem[i]);
      assert.equal(at, -1, `memory differs at 0x${at.toString(16)}: ${JSON.stringify(insns)} budget ${budget}`);
    }), { numRuns: 300 });
});

test("a slot read as a u32 and a byte beside it, and written whole once, is split into pieces", () => {
  const insns: Insn[] = [
    { code: 0x7a, dst: 10, src: 0, off: -8, imm: 2 }, // stdw [r10-8], 2
    { code: 0x61, dst: 1, src: 10, off: -8, imm: 0 }, // ldxw r1, [r10-8]
    { code: 0x63, dst: 10, src: 1, off: -8, imm: 0 }, // stxw [r10-8], r1
    { code: 0x73, dst: 10, src: 1, off: -4, imm: 0 }, // stxb [r10-4], r1
    { code: 0x55, dst: 1, src: 0, off: -4, imm: 0 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  const p = loadProgram(new AddressSpace(), insns);
  const blocks = functionBlocks(p.op, p.off, p.imm, 0, slotStarts(p.op));
  const plan = planSlots(p, blocks, 0);
  assert.deepEqual(plan.pieces.map((q) => [q.off, q.size]), [[-8, 4], [-4, 1], [-3, 3]]);
});
