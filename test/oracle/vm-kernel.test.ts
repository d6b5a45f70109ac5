// Differential test of the interpreter against the running kernel: random straight-line ALU programs, random programs
// with forward branches, and random stack load/store/atomic programs, loaded as socket filters and run with
// BPF_PROG_TEST_RUN; the kernel's retval (the low 32 bits of r0) must equal bpfkit's. Every register (and the stack) is
// folded into r0 first, so all 64-bit state is observed.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { AddressSpace } from "../../src/vm/index.ts";
import { createEngine, ENGINE_KINDS } from "../../src/jit/index.ts";
import { kernelAvailable, kernelLoad, kernelTestRun } from "./kernel.ts";

/** Deterministic xorshift so a failing program can be regenerated from its seed. */
function rng(seed: number): () => number {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
}

const EDGES = [0, 1, -1, 0x7fffffff, -0x80000000, 31, 32, 63, 2, -2, 0xffff, 0x80];

function genProgram(seed: number, branches: boolean): Insn[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r() % xs.length]!;
  const imm = (): number => (r() % 3 === 0 ? pick(EDGES) : r() | 0);
  const reg = (): number => r() % 10;
  const out: Insn[] = [];
  for (let k = 0; k < 10; k++) {
    out.push({ code: 0x18, dst: k, src: 0, off: 0, imm: imm() }, { code: 0, dst: 0, src: 0, off: 0, imm: r() % 4 === 0 ? imm() >> 31 : imm() });
  }
  const body: Insn[] = [];
  const n = 20 + (r() % 30);
  for (let k = 0; k < n; k++) {
    const cls = r() % 2 === 0 ? 0x07 : 0x04;
    const bits = cls === 0x07 ? 64 : 32;
    const kind = r() % 16;
    if (kind < 11) {
      const op = pick([0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0]);
      const x = r() % 2 === 0;
      const signed = (op === 0x30 || op === 0x90) && r() % 2 === 0 ? 1 : 0;
      let k32 = imm();
      if (op === 0x60 || op === 0x70 || op === 0xc0) k32 = r() % bits; // the verifier rejects larger shift immediates
      if ((op === 0x30 || op === 0x90) && k32 === 0) k32 = 1; // and division by an immediate zero
      body.push({ code: op | (x ? 0x08 : 0) | cls, dst: reg(), src: x ? reg() : 0, off: signed, imm: x ? 0 : k32 });
    } else if (kind === 11) body.push({ code: 0x80 | cls, dst: reg(), src: 0, off: 0, imm: 0 });
    else if (kind === 12) {
      const off = cls === 0x07 ? pick([8, 16, 32]) : pick([8, 16]);
      body.push({ code: 0xb8 | cls, dst: reg(), src: reg(), off, imm: 0 });
    } else if (kind === 13) body.push({ code: pick([0xd4, 0xdc, 0xd7]), dst: reg(), src: 0, off: 0, imm: pick([16, 32, 64]) });
    else if (branches) {
      const jcls = r() % 2 === 0 ? 0x05 : 0x06;
      const op = pick([0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]);
      const x = r() % 2 === 0;
      body.push({ code: op | (x ? 0x08 : 0) | jcls, dst: reg(), src: x ? reg() : 0, off: 1 + (r() % 4), imm: x ? 0 : imm() });
    } else body.push({ code: 0xbf, dst: reg(), src: reg(), off: 0, imm: 0 });
  }
  // forward jumps may not leave the body: pad so every target is inside
  for (let k = 0; k < 5; k++) body.push({ code: 0x07, dst: 0, src: 0, off: 0, imm: 1 });
  out.push(...body);
  // r0 = fold(r0..r9): r0 = r0 * 31 + rk, then r0 ^= r0 >> 32
  for (let k = 1; k < 10; k++) {
    out.push({ code: 0x27, dst: 0, src: 0, off: 0, imm: 31 }, { code: 0x0f, dst: 0, src: k, off: 0, imm: 0 });
  }
  out.push({ code: 0xbf, dst: 1, src: 0, off: 0, imm: 0 }, { code: 0x77, dst: 1, src: 0, off: 0, imm: 32 },
    { code: 0xaf, dst: 0, src: 1, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return out;
}

/** Registers and a 64-byte stack area initialized, then random loads, stores (plain, sign-extending) and atomics. */
function genMemProgram(seed: number): Insn[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r() % xs.length]!;
  const reg = (): number => r() % 10;
  const out: Insn[] = [];
  for (let k = 0; k < 10; k++) out.push({ code: 0x18, dst: k, src: 0, off: 0, imm: r() | 0 }, { code: 0, dst: 0, src: 0, off: 0, imm: r() | 0 });
  for (let k = 0; k < 8; k++) out.push({ code: 0x7b, dst: 10, src: k, off: -8 * (k + 1), imm: 0 });
  const sizes = [[0x18, 8], [0x00, 4], [0x08, 2], [0x10, 1]] as const;
  const n = 20 + (r() % 30);
  for (let k = 0; k < n; k++) {
    const kind = r() % 6;
    const [sz, bytes] = pick(sizes);
    const off = -bytes - bytes * (r() % (64 / bytes)); // aligned slot inside [r10-64, r10)
    if (kind === 0) out.push({ code: 0x61 | sz, dst: reg(), src: 10, off, imm: 0 });
    else if (kind === 1 && sz !== 0x18) out.push({ code: 0x81 | sz, dst: reg(), src: 10, off, imm: 0 });
    else if (kind === 2) out.push({ code: 0x62 | sz, dst: 10, src: 0, off, imm: r() | 0 });
    else if (kind === 3) out.push({ code: 0x63 | sz, dst: 10, src: reg(), off, imm: 0 });
    else if (kind === 4) {
      const wide = r() % 2 === 0;
      const aoff = wide ? -8 - 8 * (r() % 8) : -4 - 4 * (r() % 16);
      const op = pick([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]);
      out.push({ code: wide ? 0xdb : 0xc3, dst: 10, src: reg(), off: aoff, imm: op });
    } else {
      const op = pick([0x00, 0x10, 0x20, 0x50, 0xa0, 0xb0]);
      out.push({ code: op | 0x08 | (r() % 2 ? 0x07 : 0x04), dst: reg(), src: reg(), off: 0, imm: 0 });
    }
  }
  // fold r0..r9 and the eight stack words into r0
  for (let k = 1; k < 10; k++) out.push({ code: 0x27, dst: 0, src: 0, off: 0, imm: 31 }, { code: 0x0f, dst: 0, src: k, off: 0, imm: 0 });
  for (let k = 0; k < 8; k++) {
    out.push({ code: 0x79, dst: 1, src: 10, off: -8 * (k + 1), imm: 0 }, { code: 0x27, dst: 0, src: 0, off: 0, imm: 31 },
      { code: 0x0f, dst: 0, src: 1, off: 0, imm: 0 });
  }
  out.push({ code: 0xbf, dst: 1, src: 0, off: 0, imm: 0 }, { code: 0x77, dst: 1, src: 0, off: 0, imm: 32 },
    { code: 0xaf, dst: 0, src: 1, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return out;
}

const avail = kernelAvailable();
const packet = new Uint8Array(64);

function compare(t: { skip: (m: string) => void }, count: number, gen: (seed: number) => Insn[], seed0: number): void {
  if (avail !== true) { console.log(`SKIP vm-kernel differential: ${avail}`); t.skip(avail); return; }
  const vms = ENGINE_KINDS.map((kind) => ({ kind, vm: createEngine(kind, new AddressSpace()) }));
  let rejected = 0;
  for (let k = 0; k < count; k++) {
    const seed = seed0 + k;
    const insns = gen(seed);
    const loaded = kernelLoad(insns, { progType: "socket_filter", name: "vmdiff" });
    if (!loaded.accepted) { rejected++; continue; }
    try {
      const kernel = kernelTestRun(loaded.fd!, { data: packet }).retval >>> 0;
      for (const { kind, vm } of vms) {
        const p = vm.load(insns);
        const ours = vm.run(p).lo;
        vm.unload(p);
        assert.equal(ours, kernel, `seed ${seed} (${kind}): bpfkit r0 = 0x${ours.toString(16)}, kernel retval 0x${kernel.toString(16)}`);
      }
    } finally {
      loaded.close();
    }
  }
  // none are expected to be refused: every register is initialized, shifts are in range, no division by imm 0
  assert.equal(rejected, 0, `${rejected} of ${count} programs were rejected by the verifier`);
}

test("random straight-line ALU programs: bpfkit r0 (interpreter and JIT) equals the kernel's retval", (t) => compare(t, 400, (s) => genProgram(s, false), 1000));
test("random programs with forward branches: bpfkit r0 (interpreter and JIT) equals the kernel's retval", (t) => compare(t, 100, (s) => genProgram(s, true), 50000));
test("random stack loads, stores and atomics: bpfkit r0 (interpreter and JIT) equals the kernel's retval", (t) => compare(t, 150, genMemProgram, 90000));
