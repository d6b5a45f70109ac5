// `bpfkit run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine jit|interp] FILE...`: run programs on the
// JIT (default) or the interpreter the way `bpftool prog run` runs them in the kernel (BPF_PROG_TEST_RUN), printing per file
// `FILE: Return value: N, duration (average): Tns`. Raw little-endian .bin and assembly (.asm/.s) run bare; ELF
// objects load into a VM System through openObject (verified like BPF_PROG_LOAD, maps and prog arrays set up).
import { readFileSync } from "node:fs";
import { BpfError, isBpfError } from "../errors.ts";
import { assemble, decodeProgram, validateProgram } from "../isa/ebpf/index.ts";
import { isElfObject, optionValue } from "./input.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { AddressSpace } from "../vm/index.ts";
import { createEngine, DEFAULT_ENGINE, engineKind, type EngineKind } from "../jit/index.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import { PROGRAM_TYPES, System, openObject, refusalLine as refusal, testRun } from "../runtime/index.ts";

interface Args {
  type?: string;
  data: Uint8Array;
  repeat: number;
  files: string[];
  prog?: string;
  engine?: EngineKind;
}

const USAGE = "usage: bpfkit run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine jit|interp] [--prog NAME] FILE...";

function parseArgs(argv: string[]): Args {
  const a: Args = { data: new Uint8Array(0), repeat: 1, files: [] };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    const value = (): string => optionValue(argv, k++, USAGE);
    switch (arg) {
      case "--type": a.type = value(); break;
      case "--data": {
        const hex = value().replace(/^0x/i, "").replace(/[\s:]/g, "");
        if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new BpfError("EINVAL", `--data: '${hex}' is not hex bytes`);
        a.data = Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
        break;
      }
      case "--data-file": a.data = new Uint8Array(readFileSync(value())); break;
      case "--repeat": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new BpfError("EINVAL", `--repeat: expected a positive integer`);
        a.repeat = n;
        break;
      }
      case "--engine": a.engine = engineKind(value()); break;
      case "--prog": a.prog = value(); break;
      default:
        if (arg.startsWith("-")) throw new BpfError("EINVAL", `unknown option ${arg}\n${USAGE}`);
        a.files.push(arg);
    }
  }
  if (a.files.length === 0) throw new BpfError("EINVAL", USAGE);
  return a;
}

/** Raw .bin: 8-byte little-endian slots; a trailing partial slot is a truncated instruction. */
function fromRaw(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) {
    throw new BpfError("DECODE", `insn ${Math.floor(bytes.length / 8)}: truncated instruction (${bytes.length % 8} of 8 bytes)`,
      { pc: Math.floor(bytes.length / 8) });
  }
  if (bytes.length === 0) throw new BpfError("DECODE", "insn 0: empty program", { pc: 0 });
  const insns = decodeProgram(bytes);
  validateProgram(insns);
  return insns;
}

/** Bare instructions (.bin, assembly) run as bpf_conformance runs them: no maps, no verifier (all accesses checked). */
function runInsns(label: string, insns: readonly Insn[], args: Args): boolean {
  const space = new AddressSpace();
  const vm = createEngine(args.engine ?? DEFAULT_ENGINE, space, { helpers: defaultHelpers, env: hostEnv() });
  const type = args.type ?? "raw";
  if (PROGRAM_TYPES[type] === undefined) {
    console.log(`${label}: program type '${type}' cannot be run (known: ${Object.keys(PROGRAM_TYPES).join(", ")})`);
    return false;
  }
  const r = testRun(vm, vm.load(insns, { type, name: label }), { type, data: args.data, repeat: args.repeat });
  console.log(`${label}: Return value: ${BigInt.asUintN(32, r.retval)}, duration (average): ${r.duration}ns`);
  return true;
}

/** An ELF object loaded into a fresh VM system (maps, globals, prog arrays; every program verified), then test-run. */
function runObject(file: string, bytes: Uint8Array, args: Args): boolean {
  if (args.type !== undefined) throw new BpfError("EINVAL", "--type applies to raw and assembly files; an object's programs have their section's type");
  const obj = openObject(new System({ engine: args.engine ?? DEFAULT_ENGINE }), bytes, { fileName: file });
  if (args.prog !== undefined && !obj.object.programs.some((p) => p.name === args.prog)) throw new BpfError("ENOENT", `no program named '${args.prog}'`);
  if (obj.object.programs.length === 0) throw new BpfError("ENOENT", "the object has no programs");
  let ok = true;
  for (const p of obj.object.programs) {
    if (args.prog !== undefined && p.name !== args.prog) continue;
    const label = `${file}:${p.name}`;
    const prog = obj.programs.get(p.name);
    if (prog === undefined) {
      console.log(`${label}: ${refusal(obj.skipped.get(p.name) ?? "not loaded")}`);
      ok = false;
      continue;
    }
    try {
      const r = prog.testRun(args.data, { repeat: args.repeat });
      console.log(`${label}: Return value: ${r.retval >>> 0}, duration (average): ${r.duration}ns`);
    } catch (e) {
      console.log(render(label, e));
      ok = false;
    }
  }
  obj.close();
  return ok;
}

function render(label: string, e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (!isBpfError(e) && typeof code === "string" && /^E[A-Z]+$/.test(code)) return `${label}: ${(e as Error).message}`;
  if (!isBpfError(e)) return `${label}: internal error: ${e instanceof Error ? e.message : String(e)}`;
  if (e.code === "FAULT" || e.code === "BUDGET") return `${label}: fault: ${e.message}`;
  return `${label}: ${e.message}`;
}

export default async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  let status = 0;
  for (const file of args.files) {
    try {
      const bytes = new Uint8Array(readFileSync(file));
      let ok: boolean;
      if (isElfObject(bytes)) ok = runObject(file, bytes, args);
      else if (/\.(asm|s|S)$/.test(file)) ok = runInsns(file, assemble(new TextDecoder().decode(bytes)), args);
      else ok = runInsns(file, fromRaw(bytes), args);
      if (!ok) status = 1;
    } catch (e) {
      console.log(render(file, e));
      status = 1;
    }
  }
  return status;
}
