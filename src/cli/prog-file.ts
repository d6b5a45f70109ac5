// `bpfkit prog dump xlated file X.o [name NAME] [opcodes] [linum] [visual]`: bpftool's xlated dump of the programs of
// an object file, relocated and linked as libbpf would load them (see src/object/xlated.ts for what differs from a
// kernel dump). Unlike bpftool, opcodes and linum may be combined. CO-RE relocations are applied against
// /sys/kernel/btf/vmlinux as libbpf would (or `btf FILE`). The kernel engineer's src/cli/prog.ts delegates here.
import { existsSync, readFileSync } from "node:fs";
import { btfFromFileBytes, loadObject } from "../object/index.ts";
import { xlatedDot, xlatedPlain } from "../object/xlated.ts";
import { PROG_TYPES } from "../object/section-defs.ts";

const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

/** args as given to `bpfkit prog`: ["dump", "xlated", "file", "X.o", ...options]. */
export async function progFileCommand(args: string[]): Promise<number> {
  const words = args.filter((a) => a !== "-j" && a !== "--json" && a !== "-p" && a !== "--pretty");
  let i = 0;
  if (words[i] !== undefined && isPrefix(words[i]!, "dump")) i++;
  const mode = words[i++];
  if (mode === undefined || !(isPrefix(mode, "xlated") || isPrefix(mode, "jited"))) {
    console.error(`Error: expected 'xlated' or 'jited', got: ${mode ?? ""}`);
    return 255;
  }
  if (isPrefix(mode, "jited")) {
    console.error("Error: `prog dump jited file X.o` needs the kernel JIT; load the program and dump it by id");
    return 255;
  }
  if (words[i] !== "file") {
    console.error(`Error: expected 'file', got: ${words[i] ?? ""}`);
    return 255;
  }
  const path = words[i + 1];
  if (path === undefined) {
    console.error("Error: expected file path");
    return 255;
  }
  i += 2;
  let name: string | undefined;
  let btfPath: string | undefined;
  let opcodes = false, linum = false, visual = false;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "name") {
      name = words[++i];
      if (name === undefined) {
        console.error("Error: expected program name");
        return 255;
      }
    } else if (w === "btf") {
      btfPath = words[++i];
      if (btfPath === undefined) {
        console.error("Error: expected BTF file path");
        return 255;
      }
    } else if (isPrefix(w, "opcodes")) opcodes = true;
    else if (isPrefix(w, "linum")) linum = true;
    else if (isPrefix(w, "visual")) visual = true;
    else {
      console.error(`Error: unknown option '${w}' (name NAME | btf FILE | opcodes | linum | visual)`);
      return 255;
    }
  }
  const bytes = readFileSync(path);
  let obj = loadObject(bytes, { fileName: path });
  const target = btfPath ?? (existsSync("/sys/kernel/btf/vmlinux") ? "/sys/kernel/btf/vmlinux" : undefined);
  if (target !== undefined && obj.programs.some((p) => p.coreRelos > 0)) {
    obj = loadObject(bytes, { fileName: path, targetBtf: btfFromFileBytes(readFileSync(target)) });
  }
  const progs = name === undefined ? obj.programs : obj.programs.filter((p) => p.name === name);
  if (progs.length === 0) {
    console.error(name === undefined ? `Error: no programs in ${path}` : `Error: can't find prog with name '${name}' in ${path}`);
    return 255;
  }
  if (visual && progs.length > 1) {
    console.error("Error: several programs matched");
    return 255;
  }
  let out = "";
  progs.forEach((p, k) => {
    if (progs.length > 1) out += `${k}: ${PROG_TYPES[p.progType] ?? p.progType}  name ${p.name}  section ${p.section}\n`;
    out += visual ? xlatedDot(p) : xlatedPlain(p, obj.btf, { opcodes, linum }).map((l) => l + "\n").join("");
    if (progs.length > 1 && k !== progs.length - 1) out += "\n";
  });
  process.stdout.write(Buffer.from(out, "latin1"));
  return 0;
}

export default async function progFile(args: string[]): Promise<number> {
  return progFileCommand(args);
}
