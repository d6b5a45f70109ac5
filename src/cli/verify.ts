// `bpfkit verify [--type TYPE] [--prog NAME] [--log-level N] [--unpriv] [--explain] FILE...`: runs bpfkit's verifier on
// raw instruction files (.bin), assembly (kernel, llvm or conformance syntax) or ELF objects (every program, or
// --prog NAME). Prints `FILE: accepted` or `FILE: rejected: <kernel error line>` per program, then the log when
// --log-level is given; exits 1 if any program was rejected.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { BpfError } from "../errors.ts";
import { assemble, decodeProgram } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { loadObject } from "../object/index.ts";
import { type Btf, parseBtf } from "../btf/parse.ts";
import { isElfObject } from "./input.ts";
import { explain, verify, type VerifierMapSpec } from "../verifier/index.ts";

interface Unit { label: string; insns: readonly Insn[]; progType: number | string; maps: readonly VerifierMapSpec[]; btfFuncInfo?: boolean; license?: string; kernelBtf?: Btf }

const USAGE = "usage: bpfkit verify [--type TYPE] [--prog NAME] [--log-level N] [--unpriv] [--explain] FILE...";

/** The running kernel's BTF, or undefined where /sys/kernel/btf/vmlinux is missing (kfunc calls are then refused). */
function hostBtf(): Btf | undefined {
  try { return parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))); } catch { return undefined; }
}

function unitsOf(path: string, type: string | undefined, prog: string | undefined): Unit[] {
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(path)); } catch (e) {
    throw new BpfError("IO", `${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : (e as Error).message}`);
  }
  if (isElfObject(bytes)) {
    let obj = loadObject(bytes, { fileName: path });
    // kfunc calls name kernel functions by their ids in the host's vmlinux BTF (as libbpf resolves them)
    const kernelBtf = obj.externs.some((x) => x.kind === "ksym") ? hostBtf() : undefined;
    if (kernelBtf) obj = loadObject(bytes, { fileName: path, targetBtf: kernelBtf });
    const progs = obj.programs.filter((p) => prog === undefined || p.name === prog);
    if (progs.length === 0) throw new BpfError("ENOENT", `${path}: no program${prog ? ` named ${prog}` : "s"}`);
    return progs.map((p) => ({ label: `${path}:${p.name}`, insns: p.insns, progType: type ?? (p.progType || "socket_filter"), maps: obj.maps, btfFuncInfo: p.funcInfo.length > 0, license: obj.license, kernelBtf }));
  }
  const insns = path.endsWith(".bin") ? decodeProgram(bytes) : assemble(new TextDecoder().decode(bytes));
  return [{ label: path, insns, progType: type ?? "socket_filter", maps: [] }];
}

export default async function verifyCommand(args: string[]): Promise<number> {
  let type: string | undefined, prog: string | undefined, logLevel = 0, unpriv = false, wantExplain = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--type") type = args[++i];
    else if (a === "--prog") prog = args[++i];
    else if (a === "--log-level") logLevel = Number(args[++i]);
    else if (a === "--unpriv") unpriv = true;
    else if (a === "--explain") wantExplain = true;
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else if (a.startsWith("--")) { console.error(`bpfkit verify: unknown option ${a}\n${USAGE}`); return 2; }
    else files.push(a);
  }
  if (files.length === 0 || Number.isNaN(logLevel)) { console.error(USAGE); return 2; }
  let rejected = 0;
  for (const f of files) {
    for (const u of unitsOf(f, type, prog)) {
      const r = verify(u.insns, { progType: u.progType, maps: u.maps, unpriv, logLevel, nrCpus: availableParallelism(), btfFuncInfo: u.btfFuncInfo ?? false, license: u.license, kernelBtf: u.kernelBtf });
      console.log(r.accepted ? `${u.label}: accepted` : `${u.label}: rejected: ${r.error!.message}`);
      if (!r.accepted) rejected++;
      if (logLevel > 0) process.stdout.write(r.log);
      if (wantExplain && !r.accepted) console.log(explain(u.insns, r));
    }
  }
  return rejected ? 1 : 0;
}
