// `bpfkit prog dump xlated file X.o [name NAME] [opcodes] [linum] [visual]`: bpftool's xlated dump of the programs of
// an object file, relocated and linked as libbpf would load them (see src/object/xlated.ts for what differs from a
// kernel dump). Unlike bpftool, opcodes and linum may be combined. CO-RE relocations are applied against
// /sys/kernel/btf/vmlinux as libbpf would (or `btf FILE`). The kernel engineer's src/cli/prog.ts delegates here.
import { existsSync, readFileSync } from "node:fs";
import { btfFromFileBytes, loadObject } from "../object/index.ts";
import { disasmOptions, lfind, xlatedDot, xlatedPlain } from "../object/xlated.ts";
import type { ProgramSpec } from "../object/index.ts";
import type { Btf } from "../btf/parse.ts";
import { typeOnlySignature } from "../btf/signature.ts";
import { formatInsnKernel } from "../isa/ebpf/index.ts";
import { JsonWriter } from "../kernel/json-writer.ts";
import { PROG_TYPES } from "../object/section-defs.ts";

const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

/** args as given to `bpfkit prog`: ["dump", "xlated", "file", "X.o", ...options]. */
export async function progFileCommand(args: string[]): Promise<number> {
  const words = args.filter((a) => a !== "-j" && a !== "--json" && a !== "-p" && a !== "--pretty");
  const pretty = args.includes("-p") || args.includes("--pretty");
  const json = pretty || args.includes("-j") || args.includes("--json");
  let i = 0;
  if (words[i] !== undefined && isPrefix(words[i]!, "dump")) i++;
  const mode = words[i++];
  if (mode === undefined || !(isPrefix(mode, "xlated") || isPrefix(mode, "jited"))) {
    console.error(`Error: expected 'xlated' or 'jited', got: ${mode ?? ""}`);
    return 255;
  }
  const jited = isPrefix(mode, "jited"); // bpfkit's WebAssembly JIT (src/jit listing.ts)
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
  if (json) {
    const w = new JsonWriter(pretty);
    if (progs.length > 1) w.startArray();
    for (const p of progs) {
      if (progs.length > 1) w.startObject().field("name", p.name).field("type", PROG_TYPES[p.progType] ?? String(p.progType)).name("insns");
      if (visual) w.raw("null");
      else xlatedJson(w, p, obj.btf, { opcodes, linum });
      if (progs.length > 1) w.endObject();
    }
    if (progs.length > 1) w.endArray();
    process.stdout.write(Buffer.from(w.finish(), "latin1"));
    return 0;
  }
  let out = "";
  if (jited) {
    const { jitedText } = await import("../jit/index.ts");
    for (const p of progs) out += `${progs.length > 1 ? `${p.name}:\n` : ""}${jitedText(p.insns, { opcodes, name: p.name }).join("\n")}\n`;
    process.stdout.write(out);
    return 0;
  }
  progs.forEach((p, k) => {
    if (progs.length > 1) out += `${k}: ${PROG_TYPES[p.progType] ?? p.progType}  name ${p.name}  section ${p.section}\n`;
    out += visual ? xlatedDot(p) : xlatedPlain(p, obj.btf, { opcodes, linum }).map((l) => l + "\n").join("");
    if (progs.length > 1 && k !== progs.length - 1) out += "\n";
  });
  process.stdout.write(Buffer.from(out, "latin1"));
  return 0;
}

/** bpftool's dump_xlated_json: one object per instruction with proto/src/file/line_num/line_col/disasm/opcodes. */
function xlatedJson(w: JsonWriter, prog: ProgramSpec, btf: Btf | undefined, opts: { opcodes: boolean; linum: boolean }): void {
  const insns = prog.insns;
  const hex = (bytes: number[]) => {
    w.startArray();
    for (const b of bytes) w.raw(`"0x${(b & 0xff).toString(16).padStart(2, "0")}"`);
    w.endArray();
  };
  const le32 = (v: number) => [v, v >>> 8, v >>> 16, v >>> 24];
  let fi = 0, nrSkip = 0;
  w.startArray();
  for (let pc = 0; pc < insns.length; pc++) {
    const x = insns[pc]!;
    const lddw = x.code === 0x18;
    w.startObject();
    const rec = prog.funcInfo[fi];
    if (btf && rec && rec.insnOff === pc) {
      const sig = typeOnlySignature(btf, rec.typeId);
      if (sig) w.name("proto").string(sig);
      fi++;
    }
    if (btf && prog.lineInfo.length) {
      const l = lfind(prog.lineInfo, pc, nrSkip);
      if (l) {
        w.field("src", l.line.replace(/^[ \t\n\v\f\r]+/, ""));
        if (opts.linum) {
          w.field("file", l.fileName);
          if (l.lineNum) w.field("line_num", l.lineNum);
          if (l.lineCol) w.field("line_col", l.lineCol);
        }
        nrSkip++;
      }
    }
    // print_insn_json quotes the disassembler's text as is (no escaping)
    w.name("disasm").raw(`"${formatInsnKernel(insns, pc, disasmOptions())}"`);
    if (opts.opcodes) {
      w.name("opcodes").startObject();
      w.name("code").raw(`"0x${x.code.toString(16).padStart(2, "0")}"`);
      w.name("src_reg").raw(`"0x${x.src.toString(16)}"`);
      w.name("dst_reg").raw(`"0x${x.dst.toString(16)}"`);
      w.name("off");
      hex([x.off & 0xff, (x.off >> 8) & 0xff]);
      w.name("imm");
      const next = insns[pc + 1];
      if (lddw && next) hex([...le32(x.imm), next.code, (next.src << 4) | next.dst, next.off & 0xff, (next.off >> 8) & 0xff, ...le32(next.imm)]);
      else hex(le32(x.imm));
      w.endObject();
    }
    w.endObject();
    if (lddw) pc++;
  }
  w.endArray();
}

export default async function progFile(args: string[]): Promise<number> {
  return progFileCommand(args);
}
