// BTF from a file's bytes the way libbpf's btf__parse does it: raw BTF when the magic says so, else the `.BTF`
// section of an ELF object (pointer size then taken from the ELF class, as libbpf does).
import { BpfError } from "../errors.ts";
import { parseBtf } from "../btf/parse.ts";
import type { Btf } from "../btf/parse.ts";
import { parseElf } from "./elf.ts";

export function isRawBtf(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f));
}

/** Parse BTF from raw BTF or an ELF object's `.BTF`; ENOENT when the object has none. */
export function btfFromFileBytes(bytes: Uint8Array, base?: Btf): Btf {
  if (isRawBtf(bytes)) return parseBtf(bytes, { base, what: "BTF" });
  const elf = parseElf(bytes, { anyMachine: true });
  const sec = elf.sectionByName(".BTF");
  if (!sec) throw new BpfError("ENOENT", "failed to find '.BTF' ELF section", { section: ".BTF" });
  const btf = parseBtf(sec.data, { base, what: "section '.BTF'", fileOffset: sec.offset });
  btf.pointerSize = 8; // ELFCLASS64
  return btf;
}
