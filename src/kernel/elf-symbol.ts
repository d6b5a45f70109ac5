// The file offset of a function symbol in an ELF64 executable or shared library, as a uprobe needs it
// (st_value - sh_addr + sh_offset of the section holding it, the rule libbpf's elf_find_func_offset applies),
// searching .symtab then .dynsym.
import { readFileSync } from "node:fs";
import { BpfError } from "../errors.ts";

const SHT_SYMTAB = 2, SHT_DYNSYM = 11, STT_FUNC = 2, STT_GNU_IFUNC = 10;

/** Every function symbol name of an ELF64 file (.symtab and .dynsym), for uprobe wildcards. */
export function elfFunctionNames(path: string): string[] {
  const names = new Set<string>();
  try { elfFunctionOffset(path, "", (n) => { names.add(n); }); } catch { /* the walk ends without a match */ }
  return [...names].filter((n) => n !== "");
}

export function elfFunctionOffset(path: string, symbol: string, visit?: (name: string) => void): number {
  const bytes = readFileSync(path);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || v.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) {
    throw new BpfError("FORMAT", `${path}: not a little-endian ELF64 file`);
  }
  const shoff = Number(v.getBigUint64(0x28, true)), shentsize = v.getUint16(0x3a, true), shnum = v.getUint16(0x3c, true);
  const sec = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      type: v.getUint32(o + 4, true), addr: Number(v.getBigUint64(o + 16, true)), offset: Number(v.getBigUint64(o + 24, true)),
      size: Number(v.getBigUint64(o + 32, true)), link: v.getUint32(o + 40, true),
    };
  };
  for (const wanted of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (let i = 0; i < shnum; i++) {
      const s = sec(i);
      if (s.type !== wanted) continue;
      const strtab = sec(s.link);
      for (let p = s.offset; p + 24 <= s.offset + s.size; p += 24) {
        const type = bytes[p + 4]! & 0xf, shndx = v.getUint16(p + 6, true);
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0 || shndx >= shnum) continue;
        const nameStart = strtab.offset + v.getUint32(p, true);
        let end = nameStart;
        while (bytes[end] !== 0 && end < bytes.length) end++;
        const name = bytes.toString("latin1", nameStart, end);
        if (visit) { visit(name); continue; }
        if (name !== symbol) continue;
        const value = Number(v.getBigUint64(p + 8, true));
        const holder = sec(shndx);
        return value - holder.addr + holder.offset;
      }
    }
  }
  throw new BpfError("ENOENT", `${path}: no function symbol '${symbol}'`);
}
