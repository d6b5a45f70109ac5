// `bpfkit run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine interp] FILE...`: run programs on the
// interpreter the way `bpftool prog run` runs them in the kernel (BPF_PROG_TEST_RUN), printing per file
// `FILE: Return value: N, duration (average): Tns`. Raw little-endian .bin, assembly (.asm/.s) and ELF objects.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { BpfError, isBpfError } from "../errors.ts";
import { assemble, decodeProgram, validateProgram } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { LoadedProgram, PseudoResolver } from "../vm/index.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import { createMap } from "../maps/index.ts";
import type { MapSpec } from "../maps/index.ts";
import type { MapSpec as ObjectMapSpec } from "../object/index.ts";
import { buildContext, PROGRAM_TYPES, PROG_TYPE_NAMES } from "../runtime/index.ts";

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
    const value = (): string => {
      const v = argv[++k];
      if (v === undefined) throw new BpfError("EINVAL", `${arg} needs a value\n${USAGE}`);
      return v;
    };
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
  readonly insns: readonly Insn[];
  readonly type?: string;
  readonly resolve?: PseudoResolver;
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

async function fromElf(file: string, bytes: Uint8Array, only: string | undefined, space: AddressSpace): Promise<Loadable[]> {
  const { loadObject } = await import("../object/index.ts");
  const obj = loadObject(bytes, { fileName: file });
  const progs = obj.programs.filter((p) => only === undefined || p.name === only);
  if (progs.length === 0) throw new BpfError("ENOENT", only ? `no program named '${only}'` : "the object has no programs");
  const resolve = obj.maps.length > 0 ? mapResolver(obj.maps, space) : undefined;
  return progs.map((p) => ({
    label: `${file}:${p.name}`, insns: p.insns, type: PROG_TYPE_NAMES[p.progType], ...(resolve ? { resolve } : {}),
  }));
}

/** Creates the object's maps in the address space (src/maps) with their initial data, for lddw map references. */
function mapResolver(specs: readonly ObjectMapSpec[], space: AddressSpace): PseudoResolver {
  const created = specs.map((spec) => {
    const m = createMap(space, toMapSpec(spec));
    // global data (.data/.rodata/.bss): one array element holding the section's bytes, as libbpf sets it up
    if (spec.initialValue !== undefined) m.update(new Uint8Array(4), spec.initialValue);
    return m;
  });
  return {
    map: (_src, idx) => mapAt(created, idx).address,
    mapValue: (_src, idx, off) => {
      const m = mapAt(created, idx);
      const key = space.alloc(4, { kind: "scratch", name: "key 0" });
      const v = m.lookupElem(key.start, 0);
      space.release(key);
      if (v === 0) throw new BpfError("EINVAL", `map ${m.name} has no value to point into`);
      return v + off;
    },
  };
}

/** The object's map declaration as BPF_MAP_CREATE takes it. */
function toMapSpec(s: ObjectMapSpec): MapSpec {
  return {
    type: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags, name: s.name,
    ...(s.innerMap ? { innerMap: toMapSpec(s.innerMap) } : {}),
    ...(s.mapExtra ? { mapExtra: BigInt(s.mapExtra) } : {}),
  };
}

function mapAt<M>(maps: readonly M[], idx: number): M {
  const m = maps[idx];
  if (m === undefined) throw new BpfError("EINVAL", `lddw refers to map index ${idx}, but the object has ${maps.length} maps`);
  return m;
}

async function loadFile(file: string, args: Args, space: AddressSpace): Promise<Loadable[]> {
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    return fromElf(file, bytes, args.prog, space);
  }
  if (/\.(asm|s|S)$/.test(file)) return [{ label: file, insns: assemble(new TextDecoder().decode(bytes)) }];
  return [{ label: file, insns: fromRaw(bytes) }];
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
    let loadables: Loadable[];
    try {
      loadables = await loadFile(file, args, space);
    } catch (e) {
      console.log(render(file, e));
      status = 1;
      continue;
    }
    for (const l of loadables) {
      const type = args.type ?? l.type ?? "raw";
      if (PROGRAM_TYPES[type] === undefined) {
        console.log(`${l.label}: program type '${type}' cannot be run (known: ${Object.keys(PROGRAM_TYPES).join(", ")})`);
        status = 1;
        continue;
      }
      let prog: LoadedProgram;
      try {
        prog = vm.load(l.insns, { type, name: l.label, ...(l.resolve ? { resolve: l.resolve } : {}) });
      } catch (e) {
        console.log(render(l.label, e));
        status = 1;
        continue;
      }
      try {
        let total = 0;
        let value = 0n;
        for (let k = 0; k < args.repeat; k++) {
          // like test_run, each repetition starts from a fresh copy of the input
          const ctx = buildContext(space, type, args.data);
          try {
            const t0 = performance.now();
            const r = vm.run(prog, ctx.run);
            total += performance.now() - t0;
            value = r.value;
          } finally {
            ctx.release();
          }
        }
        console.log(`${l.label}: Return value: ${value}, duration (average): ${Math.round((total * 1e6) / args.repeat)}ns`);
      } catch (e) {
        console.log(render(l.label, e));
        status = 1;
      }
    }
  }
  return status;
}
