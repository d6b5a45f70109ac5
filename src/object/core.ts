// CO-RE relocations of one function (libbpf relo_core.c semantics): placeholder until the CO-RE engine lands; without
// a target BTF the compiled-in values (the local BTF's) are kept, which is what running against the same BTF means.
import type { Btf } from "../btf/parse.ts";
import type { BtfExt } from "../btf/ext.ts";
import type { ProgBody } from "./link.ts";

/** Apply the .BTF.ext CO-RE records falling inside `prog`; returns how many records concern it. */
export function applyCoreRelos(prog: ProgBody, _btf: Btf, ext: BtfExt, _target: Btf | undefined): number {
  let n = 0;
  const lo = prog.secInsnOff, hi = prog.secInsnOff + prog.insns.length;
  for (const sec of ext.coreRelos) {
    if (sec.secName !== prog.secName) continue;
    for (const r of sec.records) {
      const idx = r.insnOff / 8;
      if (idx >= lo && idx < hi) n++;
    }
  }
  return n;
}
