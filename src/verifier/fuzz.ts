// A structured program generator for differential testing against the kernel and for soundness properties:
// programs built from the idioms real BPF code uses (ctx loads, stack spills, map lookups with null checks, packet
// bounds checks, ALU on scalars, forward branches), with deliberate mistakes mixed in at a controlled rate.
import type { Insn } from "../isa/ebpf/insn.ts";
import { insn } from "../isa/ebpf/insn.ts";
import type { VerifierMapSpec } from "./env.ts";

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedProgram {
  readonly seed: number;
  readonly progType: string;
  readonly maps: VerifierMapSpec[];
  readonly insns: Insn[];
}

export const FUZZ_MAPS: VerifierMapSpec[] = [
  { type: 2, keySize: 4, valueSize: 48, maxEntries: 4, name: "arr" },
  { type: 1, keySize: 8, valueSize: 16, maxEntries: 16, name: "hash" },
];

const TYPES = ["socket_filter", "xdp", "kprobe", "sched_cls"] as const;
const SIZES = [0x00, 0x08, 0x10, 0x18]; // W H B DW
const SIZE_BYTES = [4, 2, 1, 8];
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xc0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];

/** Builds one program from `seed`. `mistakes` is the per-block probability of an unsafe variant. */
export function generateProgram(seed: number, mistakes = 0.15): GeneratedProgram {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const bad = (): boolean => rnd() < mistakes;
  const progType = pick(TYPES);
  const out: Insn[] = [];
  const emit = (...xs: Insn[]): void => { out.push(...xs); };
  // r6 = ctx, r0 = 0 to start; r7/r8/r9 get scalars as blocks run.
  emit(insn(0xbf, 6, 1), insn(0xb7, 0, 0, 0, 0));
  const scalars = [0];
  const blocks = int(2, 8);
  let subprogBody: Insn[] | undefined;
  for (let b = 0; b < blocks; b++) {
    const kind = int(0, 11);
    const reg = pick([7, 8, 9]);
    switch (kind) {
      case 0: { // scalar from ctx
        const ctxOff: Record<string, number[]> = {
          socket_filter: [0, 4, 8, 16, 48, 52, 68], xdp: [12, 16], kprobe: [0, 8, 16, 80, 112], sched_cls: [0, 4, 8, 16, 48, 44],
        };
        const off = bad() ? int(-4, 200) : pick(ctxOff[progType]!);
        const sz = progType === "kprobe" ? (bad() ? pick([0, 1, 2]) : 3) : (bad() ? int(0, 3) : 0);
        emit(insn(0x61 | SIZES[sz]!, reg, 6, off, 0));
        scalars.push(reg);
        break;
      }
      case 1: { // ALU on a scalar
        const r = bad() ? int(0, 9) : pick(scalars);
        const op = pick(ALU_OPS);
        const cls = rnd() < 0.3 ? 0x04 : 0x07;
        if (rnd() < 0.5) {
          let imm = pick([0, 1, 2, 3, 7, 8, 31, 32, 63, 255, -1, -8, 0x7fffffff, int(-1000, 1000)]);
          if (op === 0x30 || op === 0x90) imm = bad() ? 0 : imm || 1;
          if (op === 0x60 || op === 0x70 || op === 0xc0) imm = bad() ? int(0, 70) : int(0, cls === 0x04 ? 31 : 63);
          emit(insn(cls | op, r, 0, 0, imm));
        } else {
          const s = bad() ? int(0, 10) : pick(scalars);
          emit(insn(cls | op | 0x08, r, s, 0, 0));
        }
        if (!scalars.includes(r) && r !== 6 && r !== 10) scalars.push(r);
        break;
      }
      case 2: { // stack store then load
        const off = bad() ? pick([-516, -3, 0, 8, -1]) : -8 * int(1, 8);
        const sz = int(0, 3);
        const src = pick(scalars);
        emit(insn(0x63 | SIZES[sz]!, 10, src, off, 0));
        if (rnd() < 0.7) emit(insn(0x61 | SIZES[sz]!, reg, 10, bad() ? off - 8 : off, 0)), scalars.push(reg);
        break;
      }
      case 3: { // map lookup, null check, access
        const m = int(0, 1);
        const ks = FUZZ_MAPS[m]!.keySize;
        emit(insn(0x7a, 10, 0, -16, 0)); // *(u64 *)(r10 -16) = 0
        if (ks === 8 || bad()) emit(insn(0x7a, 10, 0, -8, 0));
        emit(insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -16));
        emit(insn(0x18, 1, 1, 0, m), insn(0, 0, 0, 0, 0));
        emit(insn(0x85, 0, 0, 0, 1));
        const vs = FUZZ_MAPS[m]!.valueSize;
        const sz = int(0, 3);
        const off = bad() ? pick([vs, vs - 1, -1, int(0, vs)]) : int(0, Math.floor(vs / SIZE_BYTES[sz]!) - 1) * SIZE_BYTES[sz]!;
        const skipNull = bad() && rnd() < 0.3;
        const variable = rnd() < 0.3;
        const body: Insn[] = [];
        if (variable) {
          const s = pick(scalars);
          body.push(insn(0xbf, 3, s), insn(0x57, 3, 0, 0, bad() ? 63 : 15), insn(0x0f, 0, 3));
        }
        body.push(insn(0x61 | SIZES[sz]!, reg, 0, off, 0));
        if (!skipNull) emit(insn(0x15, 0, 0, body.length, 0));
        emit(...body);
        emit(insn(0xb7, 0, 0, 0, 0));
        scalars.splice(0, scalars.length, 0, ...scalars.filter((x) => x >= 6 && x !== 6));
        if (!skipNull) { if (!scalars.includes(reg)) scalars.push(reg); } else scalars.push(reg);
        break;
      }
      case 4: { // forward conditional jump over a block
        const r = pick(scalars);
        const op = pick(JMP_OPS);
        const cls = rnd() < 0.3 ? 0x06 : 0x05;
        const skip = int(1, 2);
        if (rnd() < 0.5) emit(insn(cls | op, r, 0, skip, pick([0, 1, 5, 16, 40, -1, 255])));
        else emit(insn(cls | op | 0x08, r, pick(scalars), skip, 0));
        for (let i = 0; i < skip; i++) emit(insn(0x07, pick(scalars), 0, 0, int(-4, 4)));
        break;
      }
      case 5: { // packet bounds check and read (packet program types)
        if (progType !== "xdp" && progType !== "sched_cls") { emit(insn(0xb7, reg, 0, 0, int(0, 100))); scalars.push(reg); break; }
        const [d, e] = progType === "xdp" ? [0, 4] : [76, 80];
        const n = int(1, 64);
        const sz = int(0, 3);
        const acc = bad() ? n - SIZE_BYTES[sz]! + int(1, 4) : Math.max(0, n - SIZE_BYTES[sz]! - int(0, 4));
        emit(insn(0x61, 2, 6, d, 0), insn(0x61, 3, 6, e, 0), insn(0xbf, 4, 2), insn(0x07, 4, 0, 0, n));
        const op = pick([0x2d, 0x3d]); // r4 > r3, r4 >= r3
        emit(insn(0x05 | (op & 0xf0) | 0x08, 4, 3, 1, 0));
        emit(insn(0x61 | SIZES[sz]!, reg, 2, acc, 0));
        scalars.push(reg);
        break;
      }
      case 6: { // a helper call
        if (progType === "kprobe" && rnd() < 0.5) {
          emit(insn(0xbf, 1, 10), insn(0x07, 1, 0, 0, -16), insn(0xb7, 2, 0, 0, bad() ? pick([0, 32, 17]) : int(1, 16)));
          emit(insn(0x85, 0, 0, 0, 16));
        } else emit(insn(0x85, 0, 0, 0, pick([5, 7, 8])));
        scalars.splice(0, scalars.length, 0, ...scalars.filter((x) => x >= 6));
        break;
      }
      case 8: { // spill a pointer or scalar, overwrite part of it maybe, fill and use
        const src = pick([6, 10, ...scalars]);
        const off = -8 * int(1, 6);
        emit(insn(0x7b, 10, src, off, 0));
        if (bad()) emit(insn(0x62, 10, 0, off + pick([0, 4]), 0));
        emit(insn(0x79, reg, 10, off, 0));
        if (src === 6) emit(insn(0x61, reg, reg, bad() ? 2 : 0, 0));
        if (!scalars.includes(reg)) scalars.push(reg);
        break;
      }
      case 9: { // variable-offset stack access
        const s = pick(scalars);
        emit(insn(0xbf, 3, s), insn(0x57, 3, 0, 0, bad() ? 0xff : 0x18), insn(0xbf, 4, 10), insn(0x07, 4, 0, 0, -32), insn(0x0f, 4, 3));
        emit(insn(0x7a, 4, 0, bad() ? 4 : 0, 1));
        if (rnd() < 0.5) { emit(insn(0x79, reg, 4, 0, 0)); if (!scalars.includes(reg)) scalars.push(reg); }
        break;
      }
      case 10: { // ringbuf-free reference: a bpf-to-bpf call to a small subprogram
        if (!subprogBody) subprogBody = [insn(0xbf, 0, 1), insn(0x07, 0, 0, 0, int(0, 9)), insn(0x95)];
        emit(insn(0xbf, 1, pick(scalars)), insn(0x85, 0, 1, 0, 0x7fff)); // patched below
        scalars.splice(0, scalars.length, 0, ...scalars.filter((x) => x >= 6));
        break;
      }
      case 11: { // 32-bit compare and ALU
        const r = pick(scalars);
        emit(insn(0x04 | pick([0x00, 0x50, 0xa0, 0x60]), r, 0, 0, int(0, 31)));
        emit(insn(0x06 | pick(JMP_OPS), r, 0, 1, pick([0, 7, -1, 100])), insn(0xb4, r, 0, 0, int(0, 9)));
        break;
      }
      case 7: { // bounded loop
        const r = reg;
        const n = int(1, 20);
        emit(insn(0xb7, r, 0, 0, 0), insn(0x07, r, 0, 0, 1), insn(0xa5, r, 0, -2, bad() && rnd() < 0.2 ? 0 : n));
        if (!scalars.includes(r)) scalars.push(r);
        break;
      }
    }
  }
  if (bad()) emit(insn(0xbf, 0, pick([1, 2, 3, 6, 10])));
  else emit(insn(0xbf, 0, pick(scalars)));
  if (progType === "xdp") emit(insn(0x57, 0, 0, 0, 3));
  emit(insn(0x95));
  if (subprogBody) {
    // Calls were emitted with a placeholder; point them at the subprogram appended after the main program.
    const start = out.length;
    out.forEach((x, pc) => { if (x.code === 0x85 && x.src === 1 && x.imm === 0x7fff) out[pc] = insn(0x85, 0, 1, 0, start - pc - 1); });
    out.push(...subprogBody);
  }
  return { seed, progType, maps: FUZZ_MAPS, insns: out };
}
