// Property tests: every ALU/ALU64/JMP/JMP32 opcode (K and X forms, signed div/mod, movsx, byte swaps) against a BigInt
// reference model of the kernel's semantics, on random operands biased toward the edges (0, -1, INT_MIN, ...).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AddressSpace } from "./memory.ts";
import { Vm } from "./vm.ts";
import type { Insn } from "../isa/ebpf/insn.ts";

const M64 = (1n << 64n) - 1n, M32 = 0xffffffffn;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);

/** Kernel semantics on unsigned operands of `bits` width (after the verifier's div/mod-by-zero fixups). */
function aluModel(op: number, a: bigint, b: bigint, off: number, bits: 32 | 64): bigint {
  const m = bits === 64 ? M64 : M32;
  const sg = bits === 64 ? s64 : s32;
  a &= m; b &= m;
  const sh = b & BigInt(bits - 1);
  switch (op) {
    case 0x00: return (a + b) & m;
    case 0x10: return (a - b) & m;
    case 0x20: return (a * b) & m;
    case 0x30: if (b === 0n) return 0n; return off === 1 ? (sg(a) / sg(b)) & m : a / b;
    case 0x40: return a | b;
    case 0x50: return a & b;
    case 0x60: return (a << sh) & m;
    case 0x70: return a >> sh;
    case 0x80: return -a & m;
    case 0x90: if (b === 0n) return a; return off === 1 ? (sg(a) % sg(b)) & m : a % b;
    case 0xa0: return a ^ b;
    case 0xb0: return off === 0 ? b : BigInt.asIntN(off, b) & m;
    case 0xc0: return (sg(a) >> sh) & m;
    default: throw new Error(`no model for op ${op}`);
  }
}

function jmpModel(op: number, a: bigint, b: bigint, bits: 32 | 64): boolean {
  const m = bits === 64 ? M64 : M32, sg = bits === 64 ? s64 : s32;
  a &= m; b &= m;
  switch (op) {
    case 0x10: return a === b;
    case 0x20: return a > b;
    case 0x30: return a >= b;
    case 0x40: return (a & b) !== 0n;
    case 0x50: return a !== b;
    case 0x60: return sg(a) > sg(b);
    case 0x70: return sg(a) >= sg(b);
    case 0xa0: return a < b;
    case 0xb0: return a <= b;
    case 0xc0: return sg(a) < sg(b);
    case 0xd0: return sg(a) <= sg(b);
    default: throw new Error(`no model for jump ${op}`);
  }
}

const bswap = (v: bigint, bytes: number): bigint => {
  let r = 0n;
  for (let i = 0; i < bytes; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return r;
};

const lddw = (dst: number, v: bigint): Insn[] => {
  const u = v & M64;
  return [
    { code: 0x18, dst, src: 0, off: 0, imm: Number(s32(u & M32)) },
    { code: 0, dst: 0, src: 0, off: 0, imm: Number(s32(u >> 32n)) },
  ];
};
const EXIT: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

const edges64 = [0n, 1n, 2n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0x80000000n, 0x7fffffffn, M32, 0xffffffff80000000n, 1n << 32n, 31n, 32n, 63n, 64n];
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: M64 }), fc.constantFrom(...edges64), fc.bigInt({ min: 0n, max: 70n }));
const imm32 = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000, 31, 32, 63, 16), fc.integer({ min: -70, max: 70 }));

const space = new AddressSpace();
const vm = new Vm(space);

function run(insns: Insn[]): bigint {
  const p = vm.load(insns);
  try { return vm.run(p).value; } finally { vm.unload(p); }
}

const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
const RUNS = 150;

for (const bits of [64, 32] as const) {
  const cls = bits === 64 ? 0x07 : 0x04;
  for (const op of ALU_OPS) {
    const offs = op === 0x30 || op === 0x90 ? [0, 1] : [0];
    for (const off of offs) {
      const name = `alu${bits} op 0x${op.toString(16)}${off ? " signed" : ""}`;
      test(`${name} X matches the model`, () => {
        fc.assert(fc.property(u64, u64, (a, b) => {
          const got = run([...lddw(1, a), ...lddw(2, b), { code: op | 0x08 | cls, dst: 1, src: 2, off, imm: 0 },
            { code: 0xbf, dst: 0, src: 1, off: 0, imm: 0 }, EXIT]);
          assert.equal(got, aluModel(op, a, b, off, bits), `a=0x${a.toString(16)} b=0x${b.toString(16)}`);
        }), { numRuns: RUNS });
      });
      test(`${name} K matches the model`, () => {
        fc.assert(fc.property(u64, imm32, (a, k) => {
          // the shift forms take imm & (bits-1) (the verifier rejects larger shift immediates)
          const got = run([...lddw(1, a), { code: op | cls, dst: 1, src: 0, off, imm: k }, { code: 0xbf, dst: 0, src: 1, off: 0, imm: 0 }, EXIT]);
          const b = bits === 64 ? BigInt(k) & M64 : BigInt(k) & M32;
          assert.equal(got, aluModel(op, a, b, off, bits), `a=0x${a.toString(16)} k=${k}`);
        }), { numRuns: RUNS });
      });
    }
  }
  test(`alu${bits} neg matches the model`, () => {
    fc.assert(fc.property(u64, (a) => {
      assert.equal(run([...lddw(0, a), { code: 0x80 | cls, dst: 0, src: 0, off: 0, imm: 0 }, EXIT]), aluModel(0x80, a, 0n, 0, bits));
    }), { numRuns: RUNS });
  });
  const movsx = bits === 64 ? [8, 16, 32] : [8, 16];
  for (const off of movsx) {
    test(`movsx${bits} from ${off} bits matches the model`, () => {
      fc.assert(fc.property(u64, (b) => {
        const got = run([...lddw(2, b), { code: 0xb8 | cls, dst: 0, src: 2, off, imm: 0 }, EXIT]);
        assert.equal(got, aluModel(0xb0, 0n, b, off, bits));
      }), { numRuns: RUNS });
    });
  }
}

test("byte swaps (le, be, bswap) match the model", () => {
  fc.assert(fc.property(u64, fc.constantFrom(16, 32, 64), fc.constantFrom(0xd4, 0xdc, 0xd7), (a, w, code) => {
    const got = run([...lddw(0, a), { code, dst: 0, src: 0, off: 0, imm: w }, EXIT]);
    const mask = (1n << BigInt(w)) - 1n;
    const want = code === 0xd4 ? a & mask : bswap(a, w / 8);
    assert.equal(got, want);
  }), { numRuns: 300 });
});

const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
for (const bits of [64, 32] as const) {
  const cls = bits === 64 ? 0x05 : 0x06;
  for (const op of JMP_OPS) {
    // r0 = 0; if (cond) goto +1; exit; r0 = 1; exit
    const tail = (jmp: Insn): Insn[] => [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, jmp, EXIT, { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, EXIT];
    test(`jmp${bits} op 0x${op.toString(16)} X matches the model`, () => {
      fc.assert(fc.property(u64, u64, fc.boolean(), (a, b, same) => {
        if (same) b = a;
        const got = run([...lddw(1, a), ...lddw(2, b), ...tail({ code: op | 0x08 | cls, dst: 1, src: 2, off: 1, imm: 0 })]);
        assert.equal(got === 1n, jmpModel(op, a, b, bits), `a=0x${a.toString(16)} b=0x${b.toString(16)}`);
      }), { numRuns: RUNS });
    });
    test(`jmp${bits} op 0x${op.toString(16)} K matches the model`, () => {
      fc.assert(fc.property(u64, imm32, (a, k) => {
        const got = run([...lddw(1, a), ...tail({ code: op | cls, dst: 1, src: 0, off: 1, imm: k })]);
        assert.equal(got === 1n, jmpModel(op, a, BigInt(k) & M64, bits), `a=0x${a.toString(16)} k=${k}`);
      }), { numRuns: RUNS });
    });
  }
}
