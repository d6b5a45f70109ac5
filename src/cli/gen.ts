// `bpfkit gen skeleton X.o [--runtime SPECIFIER]`: a typed TypeScript skeleton of an object, like bpftool's C
// skeletons: the object embedded (base64), its maps with key/value types and codecs generated from BTF, its programs,
// and its global variables (.data/.rodata/.bss/.kconfig) as typed properties. `open()` loads it into bpfkit's VM,
// `open("kernel")` into the running kernel (bpf(), root), both through src/runtime's openObject.
// This module is also the skeleton's runtime (openSkeleton), which the generated file imports when opened; the codecs
// and handle types live in src/object/skeleton-codecs.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BpfError } from "../errors.ts";
import * as K from "../btf/kinds.ts";
import { resolveSize } from "../btf/layout.ts";
import type { Btf } from "../btf/parse.ts";
import { loadObject } from "../object/index.ts";
import type { BpfObject } from "../object/index.ts";
import { System, errnoOf, openObject } from "../runtime/index.ts";
import type { Backend, BpfMap, LoadedObject } from "../runtime/index.ts";
import type { Codec, SkeletonMap, SkeletonProgram } from "../object/skeleton-codecs.ts";
import { moduleUrl } from "./module-url.ts";

// ------------------------------------------------------------------------------------------------ runtime

export { C } from "../object/skeleton-codecs.ts";
export type { Codec, SkeletonMap, SkeletonProgram, RunOutput } from "../object/skeleton-codecs.ts";

export interface SkeletonLayout {
  readonly maps: Record<string, readonly [Codec<unknown> | undefined, Codec<unknown> | undefined]>;
  /** Per data section property: variable name → [offset, codec]. */
  readonly globals: Record<string, readonly [string, Record<string, readonly [number, Codec<unknown>]>]>;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Where a skeleton loads its object: bpfkit's VM, or the running kernel (root; through bpf()). */
export type SkeletonBackend = "vm" | "kernel";

/**
 * Load an embedded object into a fresh VM or the kernel and wrap its maps, programs and globals with the codecs.
 * `init` sets global variables before the maps are created (libbpf's open-then-load: .rodata is frozen at load).
 */
export async function openSkeleton(objectBase64: string, fileName: string, layout: SkeletonLayout, backend: SkeletonBackend = "vm",
  init: Record<string, Record<string, unknown>> = {}): Promise<unknown> {
  const b: Backend = backend === "kernel" ? (await import("../kernel/backend.ts")).linux : new System();
  const obj = loadObject(decodeBase64(objectBase64), { fileName, targetBtf: b.kernelBtf() });
  for (const [prop, values] of Object.entries(init)) {
    const [section, vars] = layout.globals[prop] ?? [];
    const spec = obj.maps.find((m) => m.realName === section);
    if (!spec?.initialValue || !vars) throw new BpfError("ENOENT", `the object has no global data '${prop}'`);
    for (const [name, v] of Object.entries(values)) {
      const at = vars[name];
      if (!at) throw new BpfError("ENOENT", `'${prop}' has no variable '${name}'`);
      at[1].write(spec.initialValue, at[0], v);
    }
  }
  return skeletonOf(openObject(b, obj), layout, backend === "vm" ? { system: b } : {});
}

function typedMap(raw: BpfMap, realName: string, kc: Codec<unknown> | undefined, vc: Codec<unknown> | undefined): SkeletonMap<unknown, unknown> {
  const enc = (c: Codec<unknown> | undefined, size: number, v: unknown): Uint8Array => {
    if (!c) return v as Uint8Array;
    const b = new Uint8Array(Math.max(size, c.size));
    c.write(b, 0, v);
    return b.subarray(0, size);
  };
  const dec = (c: Codec<unknown> | undefined, b: Uint8Array): unknown => (c ? c.read(b, 0) : b);
  const key = (k: unknown) => (raw.keySize ? enc(kc, raw.keySize, k) : null);
  void realName;
  return {
    name: raw.name,
    map: raw,
    lookup(k) {
      const v = raw.lookup(key(k));
      return v === undefined ? undefined : dec(vc, v);
    },
    update: (k, v, flags = 0) => raw.update(key(k), enc(vc, raw.valueSize, v), flags),
    delete: (k) => {
      try {
        raw.delete(enc(kc, raw.keySize, k));
        return true;
      } catch (e) {
        if (errnoOf(e) === 2) return false;
        throw e;
      }
    },
    keys() {
      const out: unknown[] = [];
      for (const k of raw.keys()) out.push(dec(kc, k));
      return out;
    },
  };
}

/** Global variables as properties over a data map's single value (key 0). */
function globalsView(raw: BpfMap, vars: Record<string, readonly [number, Codec<unknown>]>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  const zero = new Uint8Array(4);
  for (const [name, [off, c]] of Object.entries(vars)) {
    Object.defineProperty(view, name, {
      enumerable: true,
      get: () => c.read(raw.lookup(zero) ?? new Uint8Array(raw.valueSize), off),
      set: (v: unknown) => {
        const b = new Uint8Array(raw.lookup(zero) ?? new Uint8Array(raw.valueSize));
        c.write(b, off, v);
        raw.update(zero, b.subarray(0, raw.valueSize), 0);
      },
    });
  }
  return view;
}

/** The skeleton over an object loaded by src/runtime's openObject into either backend. */
function skeletonOf(loaded: LoadedObject, layout: SkeletonLayout, extra: Record<string, unknown>): Record<string, unknown> {
  const obj = loaded.object;
  const maps: Record<string, SkeletonMap<unknown, unknown>> = {};
  for (const s of obj.maps) {
    const [kc, vc] = layout.maps[s.realName] ?? [undefined, undefined];
    maps[s.realName] = typedMap(loaded.maps.get(s.realName)!, s.realName, kc, vc);
  }
  const progs: Record<string, SkeletonProgram> = {};
  for (const [name, p] of loaded.programs) {
    progs[name] = {
      name, section: p.section, loaded: p,
      run(data = new Uint8Array(0)) {
        const r = p.testRun(data);
        return { retval: BigInt(r.retval >>> 0), dataOut: r.dataOut };
      },
    };
  }
  const skel: Record<string, unknown> = { object: obj, maps, progs, skipped: loaded.skipped, close: () => loaded.close(), ...extra };
  for (const [prop, [section]] of Object.entries(layout.globals)) {
    const m = loaded.maps.get(section);
    if (m) skel[prop] = globalsView(m, layout.globals[prop]![1]);
  }
  return skel;
}

// ------------------------------------------------------------------------------------------------ generator

const ident = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(\d)/, "_$1");

interface TypeOut { ts: string; codec: string }

class TypeGen {
  readonly decls: string[] = [];
  private readonly named = new Map<number, string>();
  constructor(private readonly btf: Btf) {}

  private skip(id: number): number {
    for (let i = 0; i < 32 && id; i++) {
      const t = this.btf.type(id);
      if (t.kind !== K.BTF_KIND_TYPEDEF && !K.isModifier(t.kind)) return id;
      id = t.sizeOrType;
    }
    return id;
  }

  private readonly visiting = new Set<number>();

  /** The TypeScript type and codec of a BTF type; a type that contains itself (not through a pointer) is refused. */
  of(id: number): TypeOut {
    id = this.skip(id);
    if (this.visiting.has(id)) {
      throw new BpfError("ELOOP", `gen skeleton: BTF type [${id}] contains itself (a type cycle not broken by a pointer)`);
    }
    this.visiting.add(id);
    try {
      return this.typeOf(id);
    } finally {
      this.visiting.delete(id);
    }
  }

  private typeOf(id: number): TypeOut {
    const btf = this.btf;
    if (id === 0) return { ts: "Uint8Array", codec: "C.bytes(0)" };
    const t = btf.type(id);
    switch (t.kind) {
      case K.BTF_KIND_INT: {
        const signed = (t.intEncoding & K.BTF_INT_SIGNED) !== 0;
        if (t.intEncoding & K.BTF_INT_BOOL) return { ts: "boolean", codec: `C.bool(${t.sizeOrType})` };
        if (t.sizeOrType === 8) return { ts: "bigint", codec: `C.int64(${signed})` };
        if (t.sizeOrType <= 4 && [1, 2, 4].includes(t.sizeOrType)) return { ts: "number", codec: `C.int(${t.sizeOrType}, ${signed})` };
        return { ts: "Uint8Array", codec: `C.bytes(${t.sizeOrType})` };
      }
      case K.BTF_KIND_ENUM:
        return t.sizeOrType === 8 ? { ts: "bigint", codec: `C.int64(${t.kflag})` } : { ts: "number", codec: `C.int(${[1, 2, 4].includes(t.sizeOrType) ? t.sizeOrType : 4} as 1 | 2 | 4, ${t.kflag})` };
      case K.BTF_KIND_ENUM64:
        return { ts: "bigint", codec: `C.int64(${t.kflag})` };
      case K.BTF_KIND_FLOAT:
        return t.sizeOrType === 4 || t.sizeOrType === 8 ? { ts: "number", codec: `C.float(${t.sizeOrType})` } : { ts: "Uint8Array", codec: `C.bytes(${t.sizeOrType})` };
      case K.BTF_KIND_PTR:
        return { ts: "bigint", codec: "C.int64(false)" };
      case K.BTF_KIND_ARRAY: {
        const elemId = this.skip(t.arrayType);
        const elem = btf.type(elemId);
        const stride = Math.max(0, resolveSize(btf, elemId));
        if (elem.kind === K.BTF_KIND_INT && elem.sizeOrType === 1) return { ts: "Uint8Array", codec: `C.bytes(${t.arrayNelems})` };
        const e = this.of(elemId);
        return { ts: `${e.ts.includes("|") ? `(${e.ts})` : e.ts}[]`, codec: `C.array(${e.codec}, ${t.arrayNelems}, ${stride})` };
      }
      case K.BTF_KIND_STRUCT: {
        const name = btf.name(t);
        if (name) {
          let tsName = this.named.get(id);
          if (!tsName) {
            tsName = ident(name);
            if ([...this.named.values()].includes(tsName)) tsName = `${tsName}_${id}`;
            this.named.set(id, tsName);
            const body = this.structBody(id);
            this.decls.push(`export interface ${tsName} ${body.ts}\nconst ${tsName}_codec = ${body.codec};\n`);
          }
          return { ts: tsName, codec: `${tsName}_codec as Codec<${tsName}>` };
        }
        return this.structBody(id);
      }
      default: // unions, functions: raw bytes
        return { ts: "Uint8Array", codec: `C.bytes(${Math.max(0, resolveSize(btf, id))})` };
    }
  }

  private structBody(id: number): TypeOut {
    const btf = this.btf;
    const t = btf.type(id);
    const fields: string[] = [];
    const codecs: string[] = [];
    t.members.forEach((m, i) => {
      const name = btf.str(m.nameOff) || `_anon${i}`;
      if (m.bitfieldSize) {
        const mt = btf.type(this.skip(m.type));
        const signed = mt.kind === K.BTF_KIND_INT ? (mt.intEncoding & K.BTF_INT_SIGNED) !== 0 : mt.kflag;
        fields.push(`${ident(name)}: number;`);
        codecs.push(`["${ident(name)}", 0, C.bits(${m.bitOffset}, ${m.bitfieldSize}, ${signed})]`);
        return;
      }
      const f = this.of(m.type);
      fields.push(`${ident(name)}: ${f.ts};`);
      codecs.push(`["${ident(name)}", ${m.bitOffset / 8}, ${f.codec}]`);
    });
    return { ts: `{ ${fields.join(" ")} }`, codec: `C.struct(${t.sizeOrType}, [${codecs.join(", ")}] as const)` };
  }
}

/** The skeleton's TypeScript source. */
export function generateSkeleton(obj: BpfObject, objectBytes: Uint8Array, fileName: string, runtime: string, codecs: string): string {
  const gen = obj.btf ? new TypeGen(obj.btf) : undefined;
  const base = ident(obj.name);
  const raw = (size: number): TypeOut =>
    size === 4 ? { ts: "number", codec: "C.int(4, false)" } : size === 8 ? { ts: "bigint", codec: "C.int64(false)" } : { ts: "Uint8Array", codec: `C.bytes(${size})` };
  const mapLines: string[] = [];
  const layoutMaps: string[] = [];
  const globalsTypes: string[] = [];
  const globalsInit: string[] = [];
  const layoutGlobals: string[] = [];
  for (const m of obj.maps) {
    if (m.origin === "data" || m.origin === "rodata" || m.origin === "bss" || m.origin === "kconfig") {
      const datasec = m.btfValueTypeId && gen ? obj.btf!.type(m.btfValueTypeId) : undefined;
      const vars: string[] = [], lay: string[] = [];
      for (const vi of datasec?.secinfos ?? []) {
        const v = obj.btf!.type(vi.type);
        if (v.kind !== K.BTF_KIND_VAR) continue;
        const ty = gen!.of(v.sizeOrType);
        const n = ident(obj.btf!.name(v));
        vars.push(`${m.origin === "rodata" || m.origin === "kconfig" ? "" : ""}${n}: ${ty.ts};`);
        lay.push(`${n}: [${vi.offset}, ${ty.codec}]`);
      }
      const prop = ident(m.realName.replace(/^\./, ""));
      globalsTypes.push(`  readonly ${prop}: { ${vars.join(" ")} };`);
      globalsInit.push(`${prop}?: Partial<${base}_skeleton[${JSON.stringify(prop)}]>;`);
      layoutGlobals.push(`    ${prop}: [${JSON.stringify(m.realName)}, { ${lay.join(", ")} }],`);
      continue;
    }
    const k = m.btfKeyTypeId && gen ? gen.of(m.btfKeyTypeId) : raw(m.keySize);
    const v = m.btfValueTypeId && gen ? gen.of(m.btfValueTypeId) : raw(m.valueSize);
    mapLines.push(`    readonly ${ident(m.realName)}: SkeletonMap<${k.ts}, ${v.ts}>;`);
    layoutMaps.push(`    ${JSON.stringify(m.realName)}: [${m.keySize ? k.codec : "undefined"}, ${m.valueSize ? v.codec : "undefined"}],`);
  }
  const progLines = obj.programs.map((p) => `    readonly ${ident(p.name)}: SkeletonProgram;`);
  const b64 = Buffer.from(objectBytes).toString("base64").replace(/.{1,120}/g, (s) => `  "${s}" +\n`);
  return [
    `// Generated by \`bpfkit gen skeleton ${fileName}\`: typed access to the maps, programs and global variables of '${obj.name}'.`,
    "// Do not edit; regenerate when the object changes.",
    `import { C } from ${JSON.stringify(codecs)};`,
    `import type { Codec, SkeletonMap, SkeletonProgram } from ${JSON.stringify(codecs)};`,
    "",
    "// the VM runtime is imported when opening, so type-checking this file only needs the codecs module",
    `const RUNTIME: string = ${JSON.stringify(runtime)};`,
    "",
    ...(gen?.decls ?? []),
    `export interface ${base}_skeleton {`,
    "  readonly maps: {",
    ...mapLines,
    "  };",
    "  readonly progs: {",
    ...progLines,
    "  };",
    ...globalsTypes,
    "}",
    "",
    "const OBJECT =",
    `${b64}  "";`,
    "",
    "const LAYOUT = {",
    "  maps: {",
    ...layoutMaps,
    "  },",
    "  globals: {",
    ...layoutGlobals,
    "  },",
    "};",
    "",
    `/** Load '${obj.name}' into a fresh bpfkit VM, or the kernel (maps created, global data initialised, programs loaded). */`,
    `/** Global variables to set before load (.rodata is read-only once loaded, as with libbpf). */`,
    `export type ${base}_init = { ${globalsInit.join(" ")} };`,
    "",
    `export async function open(backend: "vm" | "kernel" = "vm", init: ${base}_init = {}): Promise<${base}_skeleton> {`,
    "  const rt = (await import(RUNTIME)) as { openSkeleton(object: string, file: string, layout: unknown, backend: string, init: unknown): Promise<unknown> };",
    `  return (await rt.openSkeleton(OBJECT, ${JSON.stringify(fileName)}, LAYOUT, backend, init)) as ${base}_skeleton;`,
    "}",
    "",
    "// keep the Codec type import used even when no struct is generated",
    "export type { Codec };",
    "",
  ].join("\n");
}

/** bpfkit's TypeScript skeleton (`gen skeleton X.o [--runtime M] [--codecs M]`). */
function tsSkeleton(file: string, rest: readonly string[]): number {
  let runtime = fileURLToPath(import.meta.url);
  let codecs = fileURLToPath(moduleUrl("../object/skeleton-codecs"));
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--runtime" && rest[i + 1] !== undefined) runtime = rest[++i]!;
    else if (rest[i] === "--codecs" && rest[i + 1] !== undefined) codecs = rest[++i]!;
    else throw new BpfError("EINVAL", `gen skeleton: unknown option '${rest[i]}'`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new BpfError("ENOENT", `failed to read ${file}: ${(e as Error).message}`);
  }
  const obj = loadObject(bytes, { fileName: file });
  process.stdout.write(generateSkeleton(obj, bytes, file.slice(file.lastIndexOf("/") + 1), runtime, codecs));
  return 0;
}

/**
 * `gen object|skeleton|subskeleton|min_core_btf` as bpftool runs them (src/cli/gen-tool.ts); `gen skeleton` without
 * `--c` is bpfkit's TypeScript skeleton.
 */
export default async function gen(args: string[]): Promise<number> {
  const t = args.indexOf(TYPED);
  const typed = t >= 0 ? args[t + 1] : undefined;
  const useLoader = args.slice(0, t < 0 ? undefined : t).includes(USE_LOADER);
  const words = args.filter((a, i) => !GLOBAL_FLAGS.has(a) && (t < 0 || (i !== t && i !== t + 1)) && !(a === USE_LOADER && (t < 0 || i < t)));
  const [sub, ...rest] = words;
  if (sub === "skeleton" && !useLoader && !rest.includes("--c") && rest[0] !== undefined && !rest.includes("name")) return tsSkeleton(rest[0], rest.slice(1));
  const { genCommand } = await import("./gen-tool.ts");
  const json = args.includes("-j") || args.includes("-p");
  const out = genCommand(words, { json, pretty: args.includes("-p"), useLoader }, typed);
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  return out.code;
}

import { TYPED } from "../kernel/tool-args.ts";
import { USE_LOADER } from "./bpftool.ts";

const GLOBAL_FLAGS = new Set(["-j", "-p", "-f", "-d", "-m", "-n", "--vm", "--"]);
