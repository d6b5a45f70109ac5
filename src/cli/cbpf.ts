// `bpfkit cbpf`: classic BPF tools.
//   cbpf asm [-c | --bpf-asm] FILE          assemble bpf_asm source; prints tcpdump -ddd style numbers by default,
//                                           `-c` as bpf_asm -c (C initializers), `--bpf-asm` as bpf_asm's one line
//   cbpf disasm FILE                        a program (numbers or raw bytes) back to bpf_asm source
//   cbpf check [--seccomp] FILE             the kernel's verdict (SO_ATTACH_FILTER or seccomp(2): bpf_check_classic,
//                                           seccomp_check_filter, conversion, option memory)
//   cbpf run FILE (--data HEX | -r CAPTURE) run a socket filter on a packet or on every packet of a capture file
//   cbpf run --seccomp FILE --nr N [--arch A] [--args A,B,..] [--ip IP]   run a seccomp filter on one syscall
// FILE holds bpf_asm source, tcpdump -ddd / bpf_asm numbers, or raw struct sock_filter bytes.
import { readFileSync } from "node:fs";
import { BpfError } from "../errors.ts";
import { assembleCbpf, decodeCbpf, disassembleCbpf, formatBpfAsm, formatBpfAsmC } from "../isa/cbpf/index.ts";
import type { CbpfInsn } from "../isa/cbpf/index.ts";
import { attachSocketFilter, compileCbpf, compileSeccomp, decodeSeccompAction, prepareCbpf } from "../cbpf/index.ts";
import { openCapture } from "../capture/index.ts";

const USAGE = `Usage: bpfkit cbpf asm [-c|--bpf-asm] FILE
       bpfkit cbpf disasm FILE
       bpfkit cbpf check [--seccomp] FILE
       bpfkit cbpf run FILE (--data HEX | -r CAPTURE)
       bpfkit cbpf run --seccomp FILE --nr N [--arch A] [--args A,B,...] [--ip IP]`;

/** Parses tcpdump -ddd ("N\\ncode jt jf k\\n...") or bpf_asm ("N,code jt jf k,...") numbers. */
export function parseCbpfNumbers(text: string): CbpfInsn[] {
  const fields = text.trim().split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "");
  const count = Number(fields[0]);
  const rows = fields.slice(1);
  if (!Number.isInteger(count) || rows.length !== count) {
    throw new BpfError("PARSE", `expected ${fields[0]} instructions after the count, found ${rows.length}`);
  }
  return rows.map((row, i) => {
    const nums = row.split(/\s+/).map(Number);
    if (nums.length !== 4 || nums.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new BpfError("PARSE", `instruction ${i}: expected "code jt jf k", got "${row}"`, { pc: i });
    }
    const [code, jt, jf, k] = nums as [number, number, number, number];
    if (code > 0xffff || jt > 255 || jf > 255 || k > 0xffffffff) {
      throw new BpfError("PARSE", `instruction ${i}: a field is out of range in "${row}"`, { pc: i });
    }
    return { code, jt, jf, k };
  });
}

/** Reads a program file in any of the three forms. */
export function readCbpfProgram(path: string): CbpfInsn[] {
  const bytes = new Uint8Array(readFileSync(path));
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const printable = !/[\x00-\x08\x0e-\x1f]/.test(text);
  if (!printable) return decodeCbpf(bytes);
  if (/^\s*\d+\s*[,\n]/.test(text)) return parseCbpfNumbers(text);
  return assembleCbpf(text);
}

const ddd = (insns: readonly CbpfInsn[]): string =>
  `${insns.length}\n${insns.map((n) => `${n.code} ${n.jt} ${n.jf} ${n.k >>> 0}\n`).join("")}`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new BpfError("PARSE", `${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function flag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

const hex = (s: string): Uint8Array => {
  const clean = s.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (clean.length % 2 || /[^0-9a-f]/i.test(clean)) throw new BpfError("PARSE", `--data is not hex bytes: ${s}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
};

export default async function cbpf(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = [...rest];
  switch (sub) {
    case "asm": {
      const c = flag(args, "-c");
      const line = flag(args, "--bpf-asm");
      if (args.length !== 1) { console.error(USAGE); return 1; }
      const insns = assembleCbpf(readFileSync(args[0]!, "utf8"));
      process.stdout.write(c ? formatBpfAsmC(insns) : line ? formatBpfAsm(insns) : ddd(insns));
      return 0;
    }
    case "disasm": {
      if (args.length !== 1) { console.error(USAGE); return 1; }
      process.stdout.write(disassembleCbpf(readCbpfProgram(args[0]!)));
      return 0;
    }
    case "check": {
      const seccomp = flag(args, "--seccomp");
      if (args.length !== 1) { console.error(USAGE); return 1; }
      const insns = readCbpfProgram(args[0]!);
      // A socket filter is checked as SO_ATTACH_FILTER does, option-memory charge included.
      const prepared = seccomp ? prepareCbpf(insns, { seccomp }) : attachSocketFilter(insns);
      console.log(`ok: ${insns.length} classic instructions accepted${seccomp ? " as a seccomp filter" : ""}, `
        + `${prepared.converted.insns.length} eBPF instructions after conversion`);
      return 0;
    }
    case "run": {
      const seccomp = flag(args, "--seccomp");
      if (seccomp) {
        const nr = option(args, "--nr");
        const arch = option(args, "--arch");
        const list = option(args, "--args");
        const ip = option(args, "--ip");
        if (args.length !== 1 || nr === undefined) { console.error(USAGE); return 1; }
        const filter = compileSeccomp(readCbpfProgram(args[0]!));
        const value = filter.run({
          nr: Number(nr), ...(arch !== undefined ? { arch: Number(arch) } : {}),
          ...(ip !== undefined ? { instructionPointer: BigInt(ip) } : {}),
          args: list ? list.split(",").map((a) => BigInt(a.trim())) : [],
        });
        const a = decodeSeccompAction(value);
        const data = a.action === "errno" || a.action === "trap" || a.action === "trace" ? ` ${a.data}` : "";
        console.log(`${a.action}${data} (0x${value.toString(16).padStart(8, "0")})${a.unknown ? " unknown action" : ""}`);
        return 0;
      }
      const data = option(args, "--data");
      const capture = option(args, "-r");
      if (args.length !== 1 || (data === undefined) === (capture === undefined)) { console.error(USAGE); return 1; }
      const filter = compileCbpf(readCbpfProgram(args[0]!));
      if (data !== undefined) {
        const pkt = hex(data);
        console.log(String(filter(pkt, pkt.length)));
        return 0;
      }
      const cap = openCapture(new Uint8Array(readFileSync(capture!)));
      for (const p of cap.packets()) console.log(String(filter(p.data, p.len)));
      return 0;
    }
    default:
      console.error(USAGE);
      return 1;
  }
}
