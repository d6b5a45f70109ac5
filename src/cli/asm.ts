// `bpfkit asm [--syntax kernel|llvm] [--opcodes] [--big-endian] [-o OUT.bin] FILE`
//   FILE.bin (raw instructions): prints its disassembly, kernel (bpftool xlated) syntax by default, or llvm-objdump's.
//   FILE.o (ELF): each code section's disassembly; with --syntax llvm exactly what `llvm-objdump -d FILE` prints.
//   any other FILE (assembly in the bpf_conformance, llvm-objdump or kernel syntax): assembles and checks it, writes the
//   raw little-endian (or --big-endian) instructions to OUT.bin with -o (`-o -` for stdout), else prints the listing.
// Errors name the file, the line:column or instruction index, and the reason; the exit code is then 1.
import { readFileSync, writeFileSync } from "node:fs";
import { BpfError, isBpfError } from "../errors.ts";
import {
  assemble, decodeProgram, disassembleKernel, encodeProgram, llvmObjdumpFile, llvmObjdumpLines, validateProgram,
  type LlvmCodeSection,
} from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { parseElf } from "../object/index.ts";
import { isElfObject, optionValue } from "./input.ts";

const USAGE = "usage: bpfkit asm [--syntax kernel|llvm] [--opcodes] [--big-endian] [-o OUT.bin] FILE";

interface Args {
  syntax: "kernel" | "llvm";
  opcodes: boolean;
  bigEndian: boolean;
  out?: string;
  file: string;
}

function parseArgs(argv: string[]): Args {
  let syntax: Args["syntax"] = "kernel";
  let opcodes = false;
  let bigEndian = false;
  let out: string | undefined;
  const files: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    const value = (): string => optionValue(argv, k++, USAGE);
    if (arg === "--syntax") {
      const v = value();
      if (v !== "kernel" && v !== "llvm") throw new BpfError("EINVAL", `--syntax: expected kernel or llvm, got '${v}'`);
      syntax = v;
    } else if (arg === "--opcodes") opcodes = true;
    else if (arg === "--big-endian") bigEndian = true;
    else if (arg === "-o") out = value();
    else if (arg.startsWith("-") && arg !== "-") throw new BpfError("EINVAL", `unknown option '${arg}'\n${USAGE}`);
    else files.push(arg);
  }
  if (files.length !== 1) throw new BpfError("EINVAL", `expected one FILE\n${USAGE}`);
  return { syntax, opcodes, bigEndian, out, file: files[0]! };
}

function listing(insns: readonly Insn[], a: Args, bigEndian = a.bigEndian): string[] {
  if (a.syntax === "kernel") return disassembleKernel(insns, { opcodes: a.opcodes });
  return llvmObjdumpLines(insns, [], { bigEndian });
}

const SHF_EXECINSTR = 0x4;
const STT_SECTION = 3;
const STT_FILE = 4;

/** The code sections of an ELF object with their symbols, as llvm-objdump walks them. */
function elfCodeSections(bytes: Uint8Array): { sections: LlvmCodeSection[]; bigEndian: boolean } {
  const elf = parseElf(bytes);
  const bigEndian = !elf.littleEndian;
  const sections = elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0).map((s) => ({
    name: s.name,
    insns: decodeProgram(s.data.subarray(0, s.data.length - (s.data.length % 8)), { bigEndian }),
    symbols: elf.symbols.filter((y) => y.shndx === s.index && y.type !== STT_SECTION && y.type !== STT_FILE && y.name !== "")
      .map((y) => ({ name: y.name, pc: Math.floor(y.value / 8) })),
  }));
  return { sections, bigEndian };
}

/** Puts the file name in front of the position an assembler or decoder error carries. */
function located(file: string, e: unknown): unknown {
  if (!isBpfError(e)) return e;
  const { line, column, pc } = e.location;
  if (line !== undefined) {
    const reason = e.message.replace(/^line \d+:\d+: /, "");
    return new BpfError(e.code, `${file}:${line}:${column ?? 1}: ${reason}`, { ...e.location, file });
  }
  if (pc !== undefined || e.code === "DECODE") return new BpfError(e.code, `${file}: ${e.message}`, { ...e.location, file });
  return e;
}

export default async function asm(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(a.file));
  } catch (e) {
    throw new BpfError("IO", `${a.file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, { file: a.file });
  }
  try {
    if (isElfObject(bytes)) {
      const { sections, bigEndian } = elfCodeSections(bytes);
      if (a.syntax === "llvm") for (const line of llvmObjdumpFile(a.file, sections, { bigEndian })) console.log(line);
      else sections.forEach((s, i) => console.log([...(i ? [""] : []), `${s.name}:`, ...listing(s.insns, a, bigEndian)].join("\n")));
      return 0;
    }
    if (a.file.endsWith(".bin")) {
      const insns = decodeProgram(bytes, { bigEndian: a.bigEndian });
      for (const line of listing(insns, a)) console.log(line);
      return 0;
    }
    const insns = assemble(new TextDecoder().decode(bytes));
    validateProgram(insns);
    if (a.out === "-") process.stdout.write(encodeProgram(insns, { bigEndian: a.bigEndian }));
    else if (a.out !== undefined) writeFileSync(a.out, encodeProgram(insns, { bigEndian: a.bigEndian }));
    else for (const line of listing(insns, a)) console.log(line);
    return 0;
  } catch (e) {
    throw located(a.file, e);
  }
}
