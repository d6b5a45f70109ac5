// `bpfkit object show X.o [-j|--json] [-p|--pretty]`: what an ELF object holds once opened the libbpf way —
// programs (type, section, attach point, instruction count), maps (type, sizes, max_entries, flags), BTF, license.
// The plain layout follows bpftool's listings ("N: type  name X  ..."); JSON uses bpftool's field names.
import { readFileSync } from "node:fs";
import { loadObject } from "../object/index.ts";
import type { BpfObject } from "../object/index.ts";
import { ATTACH_TYPES, PROG_TYPES } from "../object/section-defs.ts";
import { mapTypeName } from "../maps/types.ts";

const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

export function objectSummary(obj: BpfObject, file: string) {
  return {
    file,
    name: obj.name,
    license: obj.license,
    kern_version: obj.kernVersion,
    endian: obj.littleEndian ? "little" : "big",
    btf: obj.btf ? { types: obj.btf.typeCount - 1 } : null,
    programs: obj.programs.map((p) => ({
      name: p.name,
      type: PROG_TYPES[p.progType] ?? String(p.progType),
      section: p.section,
      ...(p.attachType ? { attach_type: ATTACH_TYPES[p.attachType] ?? String(p.attachType) } : {}),
      ...(p.attachTo ? { attach_to: p.attachTo } : {}),
      insns: p.insns.length,
      func_info: p.funcInfo.length,
      line_info: p.lineInfo.length,
      core_relos: p.coreRelos,
    })),
    maps: obj.maps.map((m) => ({
      name: m.name,
      type: mapTypeName(m.type),
      section: m.section,
      key_size: m.keySize,
      value_size: m.valueSize,
      max_entries: m.maxEntries,
      flags: m.flags,
      ...(m.pinning ? { pinning: "by_name" } : {}),
      ...(m.innerMap ? { inner_map: { type: mapTypeName(m.innerMap.type), key_size: m.innerMap.keySize, value_size: m.innerMap.valueSize, max_entries: m.innerMap.maxEntries } } : {}),
    })),
    externs: obj.externs.map((x) => ({ name: x.name, kind: x.kind, ...(x.kind === "kconfig" ? { offset: x.offset, size: x.size } : {}) })),
  };
}

export default async function object(args: string[]): Promise<number> {
  let json = false, pretty = false;
  const words: string[] = [];
  for (const a of args) {
    if (a === "-j" || a === "--json") json = true;
    else if (a === "-p" || a === "--pretty") json = pretty = true;
    else words.push(a);
  }
  const [verb, file] = words;
  if (verb === undefined || !isPrefix(verb, "show") || file === undefined) {
    console.error("Usage: bpfkit object show X.o [-j|--json] [-p|--pretty]");
    return 255;
  }
  const obj = loadObject(readFileSync(file), { fileName: file });
  const s = objectSummary(obj, file);
  if (json) {
    console.log(pretty ? JSON.stringify(s, null, 4) : JSON.stringify(s));
    return 0;
  }
  const lines: string[] = [`${file}: ${s.endian}-endian BPF object '${s.name}'  license ${JSON.stringify(s.license)}${s.kern_version ? `  kern_version 0x${s.kern_version.toString(16)}` : ""}`];
  lines.push(`btf: ${s.btf ? `${s.btf.types} types` : "none"}`);
  lines.push(`programs: ${s.programs.length}`);
  s.programs.forEach((p, i) => {
    let l = `${String(i).padStart(4)}: ${p.type}  name ${p.name}  section ${p.section}  insns ${p.insns}`;
    if (p.attach_type) l += `  attach_type ${p.attach_type}`;
    if (p.attach_to) l += `  attach_to ${p.attach_to}`;
    if (p.core_relos) l += `  core_relos ${p.core_relos}`;
    lines.push(l);
  });
  lines.push(`maps: ${s.maps.length}`);
  s.maps.forEach((m, i) => {
    let l = `${String(i).padStart(4)}: ${m.type}  name ${m.name}  key ${m.key_size}B  value ${m.value_size}B  max_entries ${m.max_entries}  flags 0x${m.flags.toString(16)}`;
    if (m.pinning) l += "  pinning by_name";
    if (m.inner_map) l += `  inner ${m.inner_map.type}(${m.inner_map.key_size}B, ${m.inner_map.value_size}B, ${m.inner_map.max_entries})`;
    lines.push(l);
  });
  if (s.externs.length) lines.push(`externs: ${s.externs.map((x) => `${x.name} (${x.kind})`).join(", ")}`);
  for (const w of obj.warnings) lines.push(`note: ${w}`);
  console.log(lines.join("\n"));
  return 0;
}
