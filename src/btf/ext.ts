// .BTF.ext: per-section func_info, line_info and CO-RE relocation records (include/uapi/linux/btf.h + libbpf's
// btf_ext__new). Offsets in the object file are in bytes; they are kept in bytes here and converted to instruction
// indexes by the object loader, as libbpf does when it prepares a program.
import { BpfError } from "../errors.ts";
import { ByteReader } from "./bytes.ts";
import type { Btf } from "./parse.ts";

export interface FuncInfoRecord {
  readonly insnOff: number;
  readonly typeId: number;
}
export interface LineInfoRecord {
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly lineNum: number;
  readonly lineCol: number;
}
/** bpf_core_relo: insn_off (bytes), root type id, access string offset, relocation kind. */
export interface CoreReloRecord {
  readonly insnOff: number;
  readonly typeId: number;
  readonly accessStrOff: number;
  readonly kind: number;
}
export interface ExtSection<T> {
  readonly secName: string;
  readonly records: readonly T[];
}
export interface BtfExt {
  readonly funcInfo: readonly ExtSection<FuncInfoRecord>[];
  readonly lineInfo: readonly ExtSection<LineInfoRecord>[];
  readonly coreRelos: readonly ExtSection<CoreReloRecord>[];
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
}

/** Parse .BTF.ext against its .BTF (for section names). Record sizes larger than known are accepted, as the kernel does. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, opts: { fileOffset?: number } = {}): BtfExt {
  const what = "section '.BTF.ext'";
  if (bytes.length < 4) throw new BpfError("FORMAT", `${what}: header truncated (${bytes.length} bytes)`, { section: ".BTF.ext", offset: opts.fileOffset });
  const le = (bytes[0]! | (bytes[1]! << 8)) === 0xeb9f ? true : (bytes[0]! | (bytes[1]! << 8)) === 0x9feb ? false : undefined;
  const base = opts.fileOffset ?? 0;
  if (le === undefined) throw new BpfError("FORMAT", `${what}: invalid BTF.ext magic (offset 0x${base.toString(16)})`, { section: ".BTF.ext", offset: base });
  const r = new ByteReader(bytes, le, what, base);
  const version = r.u8(2);
  if (version !== 1) r.fail(2, `unsupported BTF.ext version ${version}`);
  const hdrLen = r.u32(4);
  if (hdrLen < 24 || hdrLen > bytes.length) r.fail(4, `BTF.ext header length ${hdrLen} invalid for ${bytes.length} bytes`);
  const fiOff = r.u32(8), fiLen = r.u32(12), liOff = r.u32(16), liLen = r.u32(20);
  const crOff = hdrLen >= 32 ? r.u32(24) : 0, crLen = hdrLen >= 32 ? r.u32(28) : 0;

  function sections<T>(off: number, len: number, minRec: number, label: string, read: (o: number) => T): { recSize: number; secs: ExtSection<T>[] } {
    if (len === 0) return { recSize: minRec, secs: [] };
    const start = hdrLen + off;
    const end = start + len;
    if (off % 4 || end > bytes.length) r.fail(start, `${label} at ${off} + ${len} lies outside the section`);
    const recSize = r.u32(start);
    if (recSize < minRec || recSize % 4) r.fail(start, `${label} record size ${recSize} invalid (need at least ${minRec})`);
    const secs: ExtSection<T>[] = [];
    let o = start + 4;
    while (o < end) {
      if (o + 8 > end) r.fail(o, `${label} section header truncated`);
      const nameOff = r.u32(o);
      const n = r.u32(o + 4);
      const secName = btf.str(nameOff);
      if (secName === undefined) r.fail(o, `${label} section name offset ${nameOff} is not in the BTF strings`);
      if (n === 0) r.fail(o + 4, `${label} for section '${secName}' has no records`);
      o += 8;
      if (o + n * recSize > end) r.fail(o, `${label} for section '${secName}' has ${n} records of ${recSize} bytes, past the end`);
      const records: T[] = [];
      for (let i = 0; i < n; i++, o += recSize) {
        // record offsets are byte offsets of instructions in the section
        if (r.u32(o) % 8) r.fail(o, `${label} record ${i} for section '${secName}': insn_off ${r.u32(o)} is not a multiple of 8`);
        records.push(read(o));
      }
      secs.push({ secName: secName!, records });
    }
    return { recSize, secs };
  }
  const fi = sections(fiOff, fiLen, 8, "func_info", (o) => ({ insnOff: r.u32(o), typeId: r.u32(o + 4) }));
  const li = sections(liOff, liLen, 16, "line_info", (o) => {
    const col = r.u32(o + 12);
    return { insnOff: r.u32(o), fileNameOff: r.u32(o + 4), lineOff: r.u32(o + 8), lineNum: col >>> 10, lineCol: col & 0x3ff };
  });
  const cr = sections(crOff, crLen, 16, "core_relo", (o) => ({ insnOff: r.u32(o), typeId: r.u32(o + 4), accessStrOff: r.u32(o + 8), kind: r.u32(o + 12) }));
  return { funcInfo: fi.secs, lineInfo: li.secs, coreRelos: cr.secs, funcInfoRecSize: fi.recSize, lineInfoRecSize: li.recSize };
}
