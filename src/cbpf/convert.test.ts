// The eBPF conversion gives the same result as the classic interpreter on random programs and packets, and has
// the kernel's shape (register mapping, prologue, expansion sizes).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileCbpf } from "./interp.ts";
import { convertCbpf } from "./convert.ts";
import { prepareCbpf } from "./prepare.ts";
import { ConvertedCbpfRunner } from "./vmrun.ts";
import type { SkbMeta } from "./skb.ts";
import { packetInput, validProgram } from "./gen.test-util.ts";
import { assembleCbpf } from "../isa/cbpf/asm.ts";

test("converted programs on the eBPF VM return what the classic interpreter returns", () => {
  const runner = new ConvertedCbpfRunner();
  fc.assert(fc.property(validProgram, packetInput, (insns, input) => {
    const prepared = prepareCbpf(insns);
    const meta: SkbMeta = {
      protocol: 0x0800, pktType: 1, mark: 7, hash: 9, queueMapping: 3, cpu: 0, macOffset: 0,
      ...(input.withDev ? { ifindex: 4, hatype: 1 } : {}),
      ...(input.vlan ? { vlanTci: 0x123, vlanProto: 0x8100 } : {}),
      ...(input.nh !== null ? { networkOffset: input.nh } : {}),
      frags: input.frag ? [input.frag] : [], random: () => 42,
    };
    const len = input.packet.length + (input.frag?.length ?? 0);
    const classic = compileCbpf(insns)(input.packet, len, meta);
    const converted = runner.run(prepared, input.packet, len, meta);
    assert.equal(converted, classic);
  }), { numRuns: 400 });
});

test("conversion has the kernel's prologue and register mapping", () => {
  const { insns, seenLdAbs, stackDepth } = convertCbpf(assembleCbpf("ldh [12]\nst M[2]\nret a"));
  assert.equal(seenLdAbs, true);
  assert.equal(stackDepth, 12);
  // xor a,a; xor x,x; r6 = r1; r8 = skb->data; r9 = len; r2 = data_len; r9 -= r2
  assert.deepEqual(insns.slice(0, 7).map((i) => [i.code, i.dst, i.src]),
    [[0xac, 0, 0], [0xac, 7, 7], [0xbf, 6, 1], [0x79, 8, 6], [0x61, 9, 6], [0x61, 2, 6], [0x1c, 9, 2]]);
  // ldh [12]: fast path of 6 (mov, sub, jslt, ldx, be16, ja) + slow path of 8, then st, then exit.
  assert.equal(insns.length, 7 + 14 + 1 + 1);
  assert.deepEqual(insns[insns.length - 2], { code: 0x63, dst: 10, src: 0, off: -12, imm: 0 });
});

test("jumps over long conversions fail with EINVAL like the kernel", () => {
  const msh = Array.from({ length: 2000 }, () => "ldx 4*([1]&0xf)").join("\n");
  const src = `jeq #1, far\n${msh}\nfar: ret #0`;
  assert.throws(() => prepareCbpf(assembleCbpf(src.replace("jeq #1, far", "ja far"))), /16-bit offset/);
});
