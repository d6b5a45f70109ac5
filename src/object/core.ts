// Applying CO-RE relocations to one function's instructions, as libbpf's bpf_object__relocate_core and
// bpf_core_patch_insn do: ALU imm, LDX/ST/STX offset (and load size for unsigned ints and pointers), LD_IMM64 value;
// an unresolvable relocation poisons the instruction with `call 0xbad2310` (the verifier reports it if reachable).
import { BpfError } from "../errors.ts";
import { CORE_RELO_KIND_NAMES, resolveCoreRelo } from "../btf/core.ts";
import type { Btf } from "../btf/parse.ts";
import type { BtfExt } from "../btf/ext.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import type { ProgBody } from "./link.ts";

const POISON_IMM = 195896080; // 0xbad2310, "bad relo"
const SIZE_BYTES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const BYTES_SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

/** One line per patched instruction, in libbpf's debug wording ("relo #3: patched insn #5 (LDX/ST/STX) off 8 -> 16"). */
export type CoreLog = string[];

/** Apply the .BTF.ext CO-RE records falling inside `prog` against `target`; returns how many were applied. */
export function applyCoreRelos(prog: ProgBody, btf: Btf, ext: BtfExt, target: Btf | undefined, log?: CoreLog): number {
  let n = 0;
  const lo = prog.secInsnOff, hi = prog.secInsnOff + prog.insns.length;
  for (const sec of ext.coreRelos) {
    if (sec.secName !== prog.secName) continue;
    sec.records.forEach((rec, relIdx) => {
      const secInsn = rec.insnOff / 8;
      if (secInsn < lo || secInsn >= hi) return;
      n++;
      prog.coreRecords.push({ insnIdx: secInsn - lo, typeId: rec.typeId, accessStrOff: rec.accessStrOff, kind: rec.kind });
      if (!target) return; // compiled-in values are the local BTF's: nothing to change without a target
      const idx = secInsn - lo;
      const where = { section: prog.secName, pc: idx };
      let res;
      try {
        res = resolveCoreRelo(btf, rec, target);
      } catch (e) {
        if (e instanceof BpfError) throw new BpfError(e.code, `prog '${prog.name}': relo #${relIdx}: ${e.message.replace(/^relo: /, "")}`, where);
        throw e;
      }
      patch(prog, idx, relIdx, res, log);
    });
  }
  return n;
}

function patch(prog: ProgBody, idx: number, relIdx: number, res: ReturnType<typeof resolveCoreRelo>, log?: CoreLog): void {
  const insns = prog.insns;
  const insn = insns[idx]!;
  const where = { section: prog.secName, pc: idx };
  const err = (msg: string) => new BpfError("EINVAL", `prog '${prog.name}': relo #${relIdx}: ${msg}`, where);
  const set = (i: number, x: Partial<Insn>) => {
    insns[i] = { ...insns[i]!, ...x };
  };
  const poison = () => {
    if (insn.code === 0x18 && idx + 1 < insns.length) {
      set(idx + 1, { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_IMM });
      log?.push(`prog '${prog.name}': relo #${relIdx}: substituting insn #${idx + 1} w/ invalid insn`);
    }
    set(idx, { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_IMM });
    log?.push(`prog '${prog.name}': relo #${relIdx}: substituting insn #${idx} w/ invalid insn`);
  };
  if (res.poison) return poison();
  const cls = insn.code & 7;
  const orig = res.origVal, nv = res.newVal;
  if (cls === 4 || cls === 7) {
    if (insn.code & 0x08) throw err(`insn #${idx} is an ALU instruction with a register source`);
    if (res.validate && BigInt(insn.imm >>> 0) !== orig && BigInt(insn.imm) !== orig) {
      throw err(`unexpected insn #${idx} (ALU/ALU64) value: got ${insn.imm >>> 0}, exp ${orig} -> ${nv}`);
    }
    set(idx, { imm: Number(BigInt.asIntN(32, nv)) });
    log?.push(`prog '${prog.name}': relo #${relIdx}: patched insn #${idx} (ALU/ALU64) imm ${insn.imm >>> 0} -> ${nv}`);
  } else if (cls === 1 || cls === 2 || cls === 3) {
    if (res.validate && BigInt(insn.off) !== orig) throw err(`unexpected insn #${idx} (LDX/ST/STX) value: got ${insn.off}, exp ${orig} -> ${nv}`);
    if (nv > 32767n) throw new BpfError("ERANGE", `prog '${prog.name}': relo #${relIdx}: insn #${idx} (LDX/ST/STX) value too big: ${nv}`, where);
    if (res.failMemszAdjust) return poison();
    set(idx, { off: Number(nv) });
    log?.push(`prog '${prog.name}': relo #${relIdx}: patched insn #${idx} (LDX/ST/STX) off ${insn.off} -> ${nv}`);
    if (res.newSz !== res.origSz) {
      const have = SIZE_BYTES[insn.code & 0x18]!;
      if (have !== res.origSz) throw err(`insn #${idx} (LDX/ST/STX) unexpected mem size: got ${have}, exp ${res.origSz}`);
      const sz = BYTES_SIZE[res.newSz];
      if (sz === undefined) throw err(`insn #${idx} (LDX/ST/STX) invalid new mem size: ${res.newSz}`);
      set(idx, { code: (insn.code & 0xe7) | sz });
      log?.push(`prog '${prog.name}': relo #${relIdx}: patched insn #${idx} (LDX/ST/STX) mem_sz ${res.origSz} -> ${res.newSz}`);
    }
  } else if (insn.code === 0x18) {
    const next = insns[idx + 1];
    if (!next || insn.src !== 0 || insn.off !== 0 || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
      throw err(`insn #${idx} (LDIMM64) has unexpected form`);
    }
    const imm = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
    if (res.validate && imm !== orig) throw err(`unexpected insn #${idx} (LDIMM64) value: got ${imm}, exp ${orig} -> ${nv}`);
    set(idx, { imm: Number(BigInt.asIntN(32, nv)) });
    set(idx + 1, { imm: Number(BigInt.asIntN(32, nv >> 32n)) });
    log?.push(`prog '${prog.name}': relo #${relIdx}: patched insn #${idx} (LDIMM64) imm64 ${imm} -> ${nv}`);
  } else {
    throw err(`trying to relocate unrecognized insn #${idx}, code:0x${insn.code.toString(16)}, src:0x${insn.src.toString(16)}, dst:0x${insn.dst.toString(16)}, off:0x${(insn.off & 0xffff).toString(16)}, imm:0x${(insn.imm >>> 0).toString(16)}`);
  }
}

export { CORE_RELO_KIND_NAMES };
