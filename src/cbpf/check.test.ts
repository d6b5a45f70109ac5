// The classic checker's verdicts, rule by rule (kernel bpf_check_classic / check_load_and_stores).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCbpf } from "./prepare.ts";
import { assembleCbpf } from "../isa/cbpf/asm.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";

const verdict = (p: string | CbpfInsn[]) => {
  const e = checkCbpf(typeof p === "string" ? assembleCbpf(p) : p);
  return e ? `${e.code}: ${e.message}` : "ok";
};

test("accepted programs", () => {
  assert.equal(verdict("ldh [12]\njeq #0x800, yes, no\nyes: ret #-1\nno: ret #0"), "ok");
  assert.equal(verdict("ld #1\nst M[0]\nldx M[0]\nret a"), "ok");
  assert.equal(verdict("ld proto\nld vlan_avail\nld #poff\nret a"), "ok");
  assert.equal(verdict("div x\nmod x\nret a"), "ok"); // division by X is checked at run time
});

test("rejections carry EINVAL, the instruction and the reason", () => {
  const cases: [string | CbpfInsn[], RegExp][] = [
    [[], /EINVAL: classic program: is empty/],
    [Array.from({ length: 4097 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 })), /more than BPF_MAXINSNS/],
    ["ld #1", /instruction 0: the last instruction must be ret/],
    ["div #0\nret a", /instruction 0: div #k divides by the constant 0/],
    ["mod #0\nret a", /mod #k divides by the constant 0/],
    ["lsh #32\nret a", /shift by 32/],
    ["ld M[16]\nret a", /M\[16\] is out of range/],
    ["ld M[2]\nret a", /M\[2\] is read before it is written/],
    ["jeq #1, yes, no\nyes: st M[0]\nno: ld M[0]\nret a", /instruction 2: M\[0\] is read before/],
    ["ret x", /opcode 0x0e is not a valid classic BPF instruction/],
    [[{ code: 0x35, jt: 5, jf: 0, k: 0 }, { code: 6, jt: 0, jf: 0, k: 0 }], /conditional jump \(jt 5, jf 0\) lands past/],
    [[{ code: 0x05, jt: 0, jf: 0, k: 1 }, { code: 6, jt: 0, jf: 0, k: 0 }], /ja \+1 jumps to 2, past the last/],
    [[{ code: 0x20, jt: 0, jf: 0, k: 0xfffff000 + 64 }, { code: 6, jt: 0, jf: 0, k: 0 }], /SKF_AD_OFF\+64 is unknown/],
    [[{ code: 0x20, jt: 0, jf: 0, k: 0xfffff001 }, { code: 6, jt: 0, jf: 0, k: 0 }], /SKF_AD_OFF\+1 is unknown/],
    [[{ code: 0x28 | 0x40, jt: 0, jf: 0, k: 0 }, { code: 6, jt: 0, jf: 0, k: 0 }], /opcode 0x68/],
  ];
  for (const [p, re] of cases) assert.match(verdict(p), re);
  for (const [p] of cases) assert.match(verdict(p), /^EINVAL/);
});

test("a store on both branches makes the load valid; on one branch it does not", () => {
  assert.equal(verdict("jeq #1, yes, no\nyes: st M[1]\nja done\nno: st M[1]\ndone: ld M[1]\nret a"), "ok");
  assert.match(verdict("jeq #1, yes, no\nyes: st M[1]\nja done\nno: st M[2]\ndone: ld M[1]\nret a"), /M\[1\]/);
});

test("a ja over 4000 ldx MSH expands past the 16-bit eBPF offset: EINVAL (kernel BPF_MAXINSNS: jump over MSH)", () => {
  const prog: CbpfInsn[] = [{ code: 0x05, jt: 0, jf: 0, k: 4093 },
    ...Array.from({ length: 4093 }, () => ({ code: 0xb1, jt: 0, jf: 0, k: 14 })), { code: 6, jt: 0, jf: 0, k: 0 },
    { code: 6, jt: 0, jf: 0, k: 1 }];
  assert.match(verdict(prog), /EINVAL: classic instruction 0: converted to eBPF, the jump/);
});

test("SO_ATTACH_FILTER charges the converted program to the socket's option memory (ENOMEM past optmem_max)", async () => {
  const { checkSocketFilter } = await import("./prepare.ts");
  const prog = (msh: number, extra: number): CbpfInsn[] => [
    ...Array.from({ length: msh }, () => ({ code: 0xb1, jt: 0, jf: 0, k: 14 })),
    ...Array.from({ length: extra }, () => ({ code: 0, jt: 0, jf: 0, k: 1 })), { code: 6, jt: 0, jf: 0, k: 0 }];
  // prologue 7 + 19 per ldx MSH + 1 per ld #k + 2 for ret: 7 + 19 * 861 + 3 + 2 = 16371 eBPF instructions,
  // 96 + 8 * 16371 = 131064 < 131072; one more does not fit.
  assert.equal(checkSocketFilter(prog(861, 3)), null);
  assert.match(checkSocketFilter(prog(861, 4))?.message ?? "", /16372 eBPF instructions it needs 131072 bytes/);
  assert.equal(checkSocketFilter(prog(861, 4))?.code, "ENOMEM");
  assert.equal(checkSocketFilter(prog(861, 4), { optmemMax: 1 << 20 }), null);
});
