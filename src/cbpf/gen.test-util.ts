// Random valid classic programs for property tests: every scratch word is stored first (so the kernel's
// load-before-store check passes), jumps go forward within range, the program ends with a return.
import fc from "fast-check";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF } from "../isa/cbpf/insn.ts";

const OFFSETS = fc.oneof(
  fc.integer({ min: 0, max: 80 }),
  fc.constantFrom(SKF_NET_OFF, SKF_NET_OFF + 2, SKF_LL_OFF + 1, 0x7fffffff, -5000),
  fc.constantFrom(...Array.from({ length: 16 }, (_, i) => SKF_AD_OFF + 4 * i)),
);
const K = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constant(0x80000000));

const body = fc.oneof(
  fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30), k: OFFSETS }),
  fc.record({ code: fc.constantFrom(0x40, 0x48, 0x50), k: fc.oneof(fc.integer({ min: -20, max: 60 }), OFFSETS) }),
  fc.record({ code: fc.constant(0xb1), k: fc.integer({ min: 0, max: 70 }) }),
  fc.record({ code: fc.constantFrom(0x00, 0x01), k: K }),
  fc.record({ code: fc.constantFrom(0x80, 0x81, 0x07, 0x87, 0x84), k: fc.constant(0) }),
  fc.record({ code: fc.constantFrom(0x60, 0x61, 0x02, 0x03), k: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ code: fc.constantFrom(0x04, 0x14, 0x24, 0x44, 0x54, 0xa4), k: K }),
  fc.record({ code: fc.constantFrom(0x34, 0x94), k: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ code: fc.constantFrom(0x64, 0x74), k: fc.integer({ min: 0, max: 31 }) }),
  fc.record({ code: fc.constantFrom(0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0x9c, 0xac), k: fc.constant(0) }),
  fc.record({ code: fc.constantFrom(0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d), k: K,
    jt: fc.integer({ min: 0, max: 6 }), jf: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ code: fc.constant(0x05), k: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ code: fc.constantFrom(0x06, 0x16), k: K }),
);

/** A random program that the kernel's checker accepts. */
export const validProgram: fc.Arbitrary<CbpfInsn[]> = fc.array(body, { minLength: 1, maxLength: 30 }).chain((raw) =>
  fc.constant(raw)).map((raw) => {
  const prologue: CbpfInsn[] = Array.from({ length: 16 }, (_, i) => ({ code: 0x02, jt: 0, jf: 0, k: i }));
  const n = raw.length;
  const insns = raw.map((r, i) => {
    const room = n - i - 1; // instructions after this one, before the final ret
    const jt = "jt" in r ? Math.min(r.jt as number, room) : 0;
    const jf = "jf" in r ? Math.min(r.jf as number, room) : 0;
    const k = r.code === 0x05 ? Math.min(r.k, room) : r.k;
    return { code: r.code, jt, jf, k: k >>> 0 };
  });
  return [...prologue, ...insns, { code: 0x16, jt: 0, jf: 0, k: 0 }];
});

/** Random packet with optional fragments and metadata. */
export const packetInput = fc.record({
  packet: fc.uint8Array({ maxLength: 72 }),
  frag: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 })),
  withDev: fc.boolean(),
  vlan: fc.boolean(),
  nh: fc.option(fc.integer({ min: 0, max: 20 })),
});
