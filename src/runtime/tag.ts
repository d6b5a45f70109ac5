// The program tag bpftool prints (`tag 3b185187f1855c4c`): the first 8 bytes of the digest of the instruction image
// as bpf_prog_calc_tag computes it when the program is loaded (SHA-256 since Linux 6.18, SHA-1 before) — map-fd and map-value lddw carry fd numbers, which
// differ between processes, so their immediates (both slots) are zeroed before hashing.
import type { Insn } from "../isa/ebpf/insn.ts";
import { sha1, sha256, toHex } from "./digest.ts";

const LDDW = 0x18, PSEUDO_MAP_FD = 1, PSEUDO_MAP_VALUE = 2;

/** The kernel's 8-byte program tag as 16 hex digits. */
export function progTag(insns: readonly Insn[], hash: "sha256" | "sha1" = "sha256"): string {
  const bytes = new Uint8Array(insns.length * 8);
  const v = new DataView(bytes.buffer);
  let wasLdMap = false;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    let imm = x.imm;
    if (x.code === LDDW && (x.src === PSEUDO_MAP_FD || x.src === PSEUDO_MAP_VALUE)) {
      wasLdMap = true;
      imm = 0;
    } else if (wasLdMap) {
      wasLdMap = false;
      if (x.code === 0 && x.dst === 0 && x.src === 0 && x.off === 0) imm = 0;
    }
    v.setUint8(i * 8, x.code);
    v.setUint8(i * 8 + 1, (x.dst & 0xf) | ((x.src & 0xf) << 4));
    v.setInt16(i * 8 + 2, x.off, true);
    v.setInt32(i * 8 + 4, imm, true);
  }
  return toHex((hash === "sha1" ? sha1 : sha256)(bytes).subarray(0, 8));
}
