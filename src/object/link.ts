// Linking a program the way libbpf's bpf_object__relocate does: CO-RE first (per function), then for each entry
// program the called sub-programs are appended depth-first in first-call order (bpf_object__reloc_code), call and
// ld_imm64-of-function immediates recomputed for their new place, func/line info carried along, and finally map,
// global-data and extern references rewritten (bpf_object__relocate_data) as map indexes.
import { BpfError } from "../errors.ts";
import type { Btf } from "../btf/parse.ts";
import type { BtfExt } from "../btf/ext.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from "../isa/ebpf/opcodes.ts";
import type { ElfFile } from "./elf.ts";
import type { MapDecl } from "./maps.ts";
import { applyCoreRelos } from "./core.ts";
import type { CoreRecord, ExternRef, FuncInfo, InsnReloc, LineInfo, ProgramSpec } from "./types.ts";

export interface RelocDesc {
  readonly type: "ld64" | "data" | "call" | "subprog_addr" | "extern_var" | "extern_func";
  insnIdx: number;
  readonly symOff: number;
  readonly mapIndex: number;
  readonly extern?: ExternRef;
}

/** One FUNC symbol's code as found in its section, before linking. */
export interface ProgBody {
  readonly name: string;
  readonly secName: string;
  readonly secIndex: number;
  /** Instruction index of the function's start inside its section. */
  readonly secInsnOff: number;
  insns: Insn[];
  readonly relocs: RelocDesc[];
  isSubprog: boolean;
  readonly progType: number;
  readonly attachType: number;
  readonly attachTo: string;
  readonly progFlags: number;
  /** A global symbol with hidden (or internal) visibility. */
  readonly hidden?: boolean;
  coreRelos: number;
  /** The CO-RE records inside this function, as found (insnIdx relative to the function). */
  readonly coreRecords: CoreRecord[];
}

export interface LinkInput {
  readonly elf: ElfFile;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
  readonly progs: ProgBody[];
  readonly maps: readonly MapDecl[];
  readonly externs: readonly ExternRef[];
  readonly kconfigMapIndex: number;
  readonly targetBtf: Btf | undefined;
  readonly warnings: string[];
  readonly coreLog?: string[];
}

const isSubprogCall = (i: Insn) => i.code === 0x85 && i.src === 1 && i.dst === 0 && i.off === 0;
const isPseudoFunc = (i: Insn) => i.code === 0x18 && i.src === BPF_PSEUDO_FUNC;

export function linkPrograms(inp: LinkInput): ProgramSpec[] {
  const { btf, btfExt, progs } = inp;
  if (btfExt && btf) for (const p of progs) p.coreRelos = applyCoreRelos(p, btf, btfExt, inp.targetBtf, inp.coreLog);
  // libbpf marks ld_imm64 of a sub-program address as BPF_PSEUDO_FUNC before linking (clang leaves src_reg 0)
  for (const p of progs) {
    for (const r of p.relocs) {
      if (r.type === "subprog_addr") p.insns[r.insnIdx] = { ...p.insns[r.insnIdx]!, src: BPF_PSEUDO_FUNC };
    }
  }
  const textSubprogs = progs.filter((p) => p.isSubprog);
  const out: ProgramSpec[] = [];
  for (const main of progs) {
    if (main.isSubprog) continue;
    const insns: Insn[] = main.insns.slice();
    const relocs: RelocDesc[] = main.relocs.map((r) => ({ ...r }));
    const subOff = new Map<ProgBody, number>([[main, 0]]);
    const funcInfo: FuncInfo[] = [];
    const lineInfo: LineInfo[] = [];

    const relocCode = (prog: ProgBody): void => {
      const base = subOff.get(prog)!;
      addExtInfo(inp, prog, base, funcInfo, lineInfo);
      for (let i = 0; i < prog.insns.length; i++) {
        const insn = insns[base + i]!;
        if (!isSubprogCall(insn) && !isPseudoFunc(insn)) continue;
        const relo = prog.relocs.find((r) => r.insnIdx === i);
        if (relo && relo.type === "extern_func") continue;
        const where = { section: prog.secName, pc: i };
        if (relo && relo.type !== "call" && relo.type !== "subprog_addr") {
          throw new BpfError("EINVAL", `prog '${prog.name}': unexpected relo for insn #${i}, type ${relo.type}`, where);
        }
        let subInsn: number;
        if (relo) subInsn = relo.type === "call" ? relo.symOff / 8 + insn.imm + 1 : (relo.symOff + insn.imm) / 8;
        else if (isPseudoFunc(insn)) throw new BpfError("EINVAL", `prog '${prog.name}': missing subprog addr relo for insn #${i}`, where);
        else {
          // a call to a static function of the same section carries no relocation: imm is section-relative
          subInsn = prog.secInsnOff + i + insn.imm + 1;
        }
        const sub = textSubprogs.find((p) => subInsn >= p.secInsnOff && subInsn < p.secInsnOff + p.insns.length);
        if (!sub) throw new BpfError("EINVAL", `prog '${prog.name}': no .text section found yet sub-program call exists (insn #${i})`, where);
        if (sub.secInsnOff !== subInsn) {
          throw new BpfError("EINVAL", `prog '${prog.name}': call at insn #${i} lands inside sub-program '${sub.name}', not at its start`, where);
        }
        if (!subOff.has(sub)) {
          const at = insns.length;
          subOff.set(sub, at);
          insns.push(...sub.insns);
          for (const r of sub.relocs) relocs.push({ ...r, insnIdx: r.insnIdx + at });
          relocCode(sub);
        }
        const cur = insns[base + i]!;
        insns[base + i] = { ...cur, imm: subOff.get(sub)! - (base + i) - 1 };
      }
    };
    relocCode(main);

    const out2: InsnReloc[] = [];
    for (const r of relocs) {
      const at = r.insnIdx;
      const i0 = insns[at]!;
      switch (r.type) {
        case "ld64":
          insns[at] = { ...i0, src: BPF_PSEUDO_MAP_IDX, imm: r.mapIndex };
          out2.push({ insnIdx: at, kind: "map", mapIndex: r.mapIndex });
          break;
        case "data": {
          const i1 = insns[at + 1]!;
          insns[at + 1] = { ...i1, imm: (i0.imm + r.symOff) | 0 };
          insns[at] = { ...i0, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: r.mapIndex };
          out2.push({ insnIdx: at, kind: "map_value", mapIndex: r.mapIndex });
          break;
        }
        case "extern_var": {
          const ext = r.extern!;
          if (ext.kind === "kconfig") {
            insns[at] = { ...i0, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: inp.kconfigMapIndex };
            insns[at + 1] = { ...insns[at + 1]!, imm: ext.offset };
            out2.push({ insnIdx: at, kind: "kconfig", mapIndex: inp.kconfigMapIndex, extern: ext.name });
          } else {
            // libbpf: a resolved typed ksym is BPF_PSEUDO_BTF_ID with the kernel's BTF id (object fd 0: vmlinux);
            // unresolved (no target BTF, a missing weak one, or typeless) it stays a plain 64-bit 0 for the loader
            const resolved = ext.kernelBtfId !== 0;
            insns[at] = { ...i0, src: resolved ? BPF_PSEUDO_BTF_ID : i0.src, imm: resolved ? ext.kernelBtfId : 0 };
            insns[at + 1] = { ...insns[at + 1]!, imm: 0 };
            out2.push({ insnIdx: at, kind: "ksym", extern: ext.name });
          }
          break;
        }
        case "extern_func":
          insns[at] = { ...i0, src: BPF_PSEUDO_KFUNC_CALL, imm: r.extern!.kernelBtfId, off: 0 };
          out2.push({ insnIdx: at, kind: "kfunc", extern: r.extern!.name });
          break;
        case "subprog_addr":
          if (i0.src !== BPF_PSEUDO_FUNC) {
            throw new BpfError("EINVAL", `prog '${main.name}': relo for insn #${at}: bad insn`, { section: main.secName, pc: at });
          }
          out2.push({ insnIdx: at, kind: "subprog_addr" });
          break;
        case "call":
          out2.push({ insnIdx: at, kind: "call" });
          break;
      }
    }
    let core = 0;
    const coreRecords: CoreRecord[] = [];
    for (const [p, at] of subOff) {
      core += p.coreRelos;
      for (const c of p.coreRecords) coreRecords.push({ ...c, insnIdx: c.insnIdx + at });
    }
    // libbpf sorts a function's relocations by instruction (stable here), then appends each sub-program's in turn
    coreRecords.sort((a, b) => a.insnIdx - b.insnIdx);
    out.push({
      name: main.name, section: main.secName, progType: main.progType, attachType: main.attachType, attachTo: main.attachTo,
      progFlags: main.progFlags, insns, funcInfo, lineInfo, relocs: out2.sort((a, b) => a.insnIdx - b.insnIdx),
      sectionOffset: main.secInsnOff * 8, coreRelos: core, coreRecords,
    });
  }
  return out;
}

/** libbpf's reloc_prog_func_and_line_info: the function's records from .BTF.ext, moved to where it now sits. */
function addExtInfo(inp: LinkInput, prog: ProgBody, base: number, fi: FuncInfo[], li: LineInfo[]): void {
  const ext = inp.btfExt;
  const btf = inp.btf;
  if (!ext || !btf) return;
  const lo = prog.secInsnOff, hi = prog.secInsnOff + prog.insns.length;
  for (const sec of ext.funcInfo) {
    if (sec.secName !== prog.secName) continue;
    for (const r of sec.records) {
      const idx = r.insnOff / 8;
      if (idx >= lo && idx < hi) fi.push({ insnOff: idx - lo + base, typeId: r.typeId });
    }
  }
  for (const sec of ext.lineInfo) {
    if (sec.secName !== prog.secName) continue;
    for (const r of sec.records) {
      const idx = r.insnOff / 8;
      if (idx >= lo && idx < hi) {
        li.push({
          insnOff: idx - lo + base, fileName: btf.str(r.fileNameOff) ?? "", line: btf.str(r.lineOff) ?? "",
          lineNum: r.lineNum, lineCol: r.lineCol, fileNameOff: r.fileNameOff, lineOff: r.lineOff,
        });
      }
    }
  }
}
