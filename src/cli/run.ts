// `bpfkit run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine interp] FILE...`: run programs on the
// interpreter the way `bpftool prog run` runs them in the kernel (BPF_PROG_TEST_RUN), printing per file
// `FILE: Return value: N, duration (average): Tns`. Raw little-endian .bin, assembly (.asm/.s) and ELF objects.
import { readFileSync } from "node:fs";
import { BpfError, isBpfError } from "../errors.ts";
import { assemble, decodeProgram, validateProgram } from "../isa/ebpf/index.ts";
import { isElfObject, optionValue } from "./input.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { LoadedProgram, PseudoResolver } from "../vm/index.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import { ProgArrayMap } from "../maps/index.ts";
import { PROGRAM_TYPES, PROG_TYPE_NAMES, createObjectMaps, testRun } from "../runtime/index.ts";

interface Args {
  type?: string;
  data: Uint8Array;
  repeat: number;
  files: string[];
  prog?: string;
}

const USAGE = "usage: bpfkit run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine interp] [--prog NAME] FILE...";

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
      case "--engine": {
        const e = value();
        if (e !== "interp") throw new BpfError("ENOTSUPP", `--engine ${e}: only the interpreter (interp) is available`);
        break;
      }
      case "--prog": a.prog = value(); break;
      default:
        if (arg.startsWith("-")) throw new BpfError("EINVAL", `unknown option ${arg}\n${USAGE}`);
        a.files.push(arg);
    }
  }
  if (a.files.length === 0) throw new BpfError("EINVAL", USAGE);
  return a;
}

interface Loadable {
  readonly label: string;
  /** The program's own name (ELF function name), for prog-array slots that refer to it. */
  readonly name?: string;
  readonly insns: readonly Insn[];
  readonly type?: string;
  readonly resolve?: PseudoResolver;
  /** Loaded but not run (another program of the same object, e.g. a tail-call target). */
  readonly loadOnly?: boolean;
}

interface LoadedFile {
  readonly loadables: Loadable[];
  /** After every program is loaded: fill PROG_ARRAY slots the object initializes (`.values = { [i] = &prog }`). */
  readonly wire?: (byName: ReadonlyMap<string, LoadedProgram>) => void;
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

async function fromElf(file: string, bytes: Uint8Array, only: string | undefined, space: AddressSpace): Promise<LoadedFile> {
  const { loadObject } = await import("../object/index.ts");
  const obj = loadObject(bytes, { fileName: file });
  if (only !== undefined && !obj.programs.some((p) => p.name === only)) throw new BpfError("ENOENT", `no program named '${only}'`);
  if (obj.programs.length === 0) throw new BpfError("ENOENT", "the object has no programs");
  const maps = obj.maps.length > 0 ? createObjectMaps(obj.maps, space) : undefined;
  const loadables = obj.programs.map((p) => ({
    label: `${file}:${p.name}`, name: p.name, insns: p.insns, type: PROG_TYPE_NAMES[p.progType],
    ...(maps ? { resolve: maps.resolve } : {}), ...(only !== undefined && p.name !== only ? { loadOnly: true } : {}),
  }));
  return {
    loadables,
    wire: (byName) => {
      obj.maps.forEach((spec, idx) => {
        const m = maps?.created[idx];
        if (!(m instanceof ProgArrayMap)) return;
        spec.initSlots?.forEach((name, slot) => { if (name !== undefined && byName.has(name)) m.setProgram(slot, byName.get(name)); });
      });
    },
  };
}

async function loadFile(file: string, args: Args, space: AddressSpace): Promise<LoadedFile> {
  const bytes = new Uint8Array(readFileSync(file));
  if (isElfObject(bytes)) {
    return fromElf(file, bytes, args.prog, space);
  }
  if (/\.(asm|s|S)$/.test(file)) return { loadables: [{ label: file, insns: assemble(new TextDecoder().decode(bytes)) }] };
  return { loadables: [{ label: file, insns: fromRaw(bytes) }] };
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
    const space = new AddressSpace();
    const vm = new Vm(space, { helpers: defaultHelpers, env: hostEnv() });
    let loaded: LoadedFile;
    try {
      loaded = await loadFile(file, args, space);
    } catch (e) {
      console.log(render(file, e));
      status = 1;
      continue;
    }
    // load every program first (tail-call targets included), then wire prog arrays, then run
    const ready: { l: Loadable; prog: LoadedProgram; type: string }[] = [];
    const byName = new Map<string, LoadedProgram>();
    for (const l of loaded.loadables) {
      const type = l.loadOnly ? (l.type ?? "raw") : (args.type ?? l.type ?? "raw");
      try {
        const prog = vm.load(l.insns, { type, name: l.label, ...(l.resolve ? { resolve: l.resolve } : {}) });
        if (l.name !== undefined) byName.set(l.name, prog);
        if (!l.loadOnly) ready.push({ l, prog, type });
      } catch (e) {
        if (l.loadOnly) continue;
        console.log(render(l.label, e));
        status = 1;
      }
    }
    loaded.wire?.(byName);
    for (const { l, prog, type } of ready) {
      if (PROGRAM_TYPES[type] === undefined) {
        console.log(`${l.label}: program type '${type}' cannot be run (known: ${Object.keys(PROGRAM_TYPES).join(", ")})`);
        status = 1;
        continue;
      }
      try {
        const r = testRun(vm, prog, { type, data: args.data, repeat: args.repeat });
        console.log(`${l.label}: Return value: ${r.retval}, duration (average): ${r.duration}ns`);
      } catch (e) {
        console.log(render(l.label, e));
        status = 1;
      }
    }
  }
  return status;
}
