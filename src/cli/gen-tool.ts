// bpftool's `gen` commands with bpftool's arguments, output and errors: `skeleton FILE [name N] --c` and `subskeleton`
// (src/object/skeleton-c.ts), `object OUT IN...` (the static linker, src/object/linker.ts) and `min_core_btf`
// (src/btf/min-core.ts). Parse, call, print.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { BpfError, isBpfError } from "../errors.ts";
import type { BpfObject } from "../object/index.ts";
import { loadObject } from "../object/index.ts";
import { linkObjects } from "../object/linker.ts";
import { minCoreBtf } from "../btf/min-core.ts";
import type { CoreObject } from "../btf/min-core.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { parseElf } from "../object/elf.ts";
import { parseBtf } from "../btf/parse.ts";
import { parseBtfExt } from "../btf/ext.ts";
import type { LinkerInput } from "../object/linker.ts";
import { cSkeleton, cSubskeleton, givenObjectName, skeletonObjectName } from "../object/skeleton-c.ts";
import { BIN, errorOutcome } from "./bpftool.ts";
import type { Outcome } from "./bpftool.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { libbpfOpenError } from "./libbpf-errors.ts";

export interface GenOptions {
  readonly json: boolean;
  readonly pretty: boolean;
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory", EACCES: "Permission denied", EISDIR: "Is a directory", ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links", ENAMETOOLONG: "File name too long",
};

const COMMANDS = ["object", "skeleton", "subskeleton", "min_core_btf", "help"] as const;

export function genCommand(words: readonly string[], o: GenOptions): Outcome {
  const usage = renderUsage(OBJECT_USAGE.gen!, BIN, "gen");
  const fail = (msg: string, withUsage = false): Outcome => {
    const e = errorOutcome(o, msg);
    if (withUsage && !o.json) e.stderr += usage;
    return e;
  };
  const [verbWord, ...args] = words;
  const verb = verbWord === undefined ? undefined : COMMANDS.find((c) => c.startsWith(verbWord) && verbWord.length > 0);
  if (verb === undefined || verb === "help") return { stdout: "", stderr: usage, code: verb ? 0 : 255 };
  const cArgs = args.filter((a) => a !== "--c");
  switch (verb) {
    case "skeleton":
    case "subskeleton":
      return skeleton(verb, cArgs, fail);
    case "object":
      return object(cArgs, fail);
    case "min_core_btf":
      return minCore(cArgs, fail);
    default:
      return fail(`'gen ${verb}' is not supported by bpfkit yet`);
  }
}

type Fail = (msg: string, withUsage?: boolean) => Outcome;

function skeleton(verb: "skeleton" | "subskeleton", args: readonly string[], fail: Fail): Outcome {
  if (args.length < 1) return fail(`'${verb}' needs at least 1 arguments, 0 found`, true);
  const [file, ...rest] = args as [string, ...string[]];
  let name = "";
  for (let i = 0; i < rest.length; i += 2) {
    if (rest.length - i < 2) return fail(`'${rest[i - 1] ?? file}' needs at least 2 arguments, ${rest.length - i} found`);
    if (rest[i]!.length > 0 && "name".startsWith(rest[i]!)) {
      if (name !== "") return fail("object name already specified");
      name = givenObjectName(rest[i + 1]!);
    } else {
      return fail(`unknown arg ${rest[i]}`);
    }
  }
  let bytes: Uint8Array;
  try {
    statSync(file);
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (code === "EISDIR") return fail(`failed to mmap() ${file}: No such device`);
    return fail(`failed to stat() ${file}: ${STRERROR[code] ?? (e as Error).message}`);
  }
  if (name === "") name = skeletonObjectName(file);
  try {
    // libbpf checks the byte order first (EI_DATA: 1 = little-endian, the only order this host loads)
    if (bytes.length > 5 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[5] !== 1) throw new BpfError("FORMAT", "elf: endianness mismatch");
    if (verb === "skeleton") {
      const obj = libbpf1(loadObject(bytes, { fileName: file, objectName: name }));
      const r = cSkeleton(obj, bytes, name);
      return { stdout: r.text, stderr: r.warnings.map((w) => `Error: ${w}\n`).join(""), code: 0 };
    }
    const obj = libbpf1(loadObject(bytes, { fileName: file, objectName: "" }));
    return { stdout: cSubskeleton(obj, name), stderr: "", code: 0 };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    if (e.message.startsWith("need btf type information")) return fail(e.message);
    if (process.env.BPFKIT_DEBUG) process.stderr.write(`${e.message}\n`);
    const { errno, text } = libbpfOpenError(e);
    const out = fail(`failed to open BPF object file: ${text}`);
    // skeleton returns -errno; subskeleton its initial -1
    return verb === "skeleton" ? { ...out, code: -errno & 0xff } : out;
  }
}

/** What libbpf 1.1 refuses at open that bpfkit's loader accepts for its own use: other-endian objects, legacy maps. */
function libbpf1(obj: BpfObject): BpfObject {
  if (obj.maps.some((m) => m.origin === "legacy")) {
    throw new BpfError("EOPNOTSUPP", "elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+");
  }
  return obj;
}

const ERRNO_TEXT: Readonly<Record<string, readonly [number, string]>> = {
  ENOENT: [2, "No such file or directory"], EINVAL: [22, "Invalid argument"], EOPNOTSUPP: [95, "Operation not supported"],
  ENOTSUPP: [95, "Operation not supported"], EACCES: [13, "Permission denied"], EISDIR: [21, "Is a directory"],
  FORMAT: [22, "Invalid argument"], ELOOP: [40, "Too many levels of symbolic links"], E2BIG: [7, "Argument list too long"],
};

/** `gen object OUTPUT INPUT...`: bpftool's static linker. */
function object(args: readonly string[], fail: Fail): Outcome {
  if (args.length < 2) return fail(`'object' needs at least 2 arguments, ${args.length} found`, true);
  const [out, ...files] = args as [string, ...string[]];
  // bpf_linker__new creates (truncates) the output first: a failed link leaves it empty
  try {
    writeFileSync(out, new Uint8Array(0));
  } catch {
    return fail("failed to create BPF linker instance");
  }
  const inputs: LinkerInput[] = [];
  for (const file of files) {
    try {
      inputs.push({ name: file, bytes: new Uint8Array(readFileSync(file)) });
    } catch (e) {
      const [errno, text] = ERRNO_TEXT[(e as { code?: string }).code ?? ""] ?? ERRNO_TEXT.EINVAL!;
      return { ...fail(`failed to link '${file}': ${text} (${errno})`), code: -errno & 0xff };
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = linkObjects(inputs);
  } catch (e) {
    if (!isBpfError(e)) throw e;
    if (process.env.BPFKIT_DEBUG) process.stderr.write(`${e.message}\n`);
    const [errno, text] = ERRNO_TEXT[e.code] ?? ERRNO_TEXT.EINVAL!;
    const file = (e as { linkInput?: string }).linkInput;
    if (file === undefined) return { ...fail(`failed to finalize ELF file: ${text} (${errno})`), code: -errno & 0xff };
    return { ...fail(`failed to link '${file}': ${text} (${errno})`), code: -errno & 0xff };
  }
  try {
    writeFileSync(out, bytes);
  } catch (e) {
    return fail(`failed to finalize ELF file: ${(e as Error).message}`);
  }
  return { stdout: "", stderr: "", code: 0 };
}

/** `gen min_core_btf INPUT OUTPUT OBJECT...`: the part of INPUT's BTF the objects' CO-RE relocations use. */
function minCore(args: readonly string[], fail: Fail): Outcome {
  if (args.length < 3) return fail(`'min_core_btf' needs at least 3 arguments, ${args.length} found`, true);
  const [input, output, ...objs] = args as [string, string, ...string[]];
  let src;
  try {
    src = parsedInput(input);
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    return fail(`failed parsing '${input}' BTF file: ${STRERROR[code] ?? "Invalid argument"}`);
  }
  const objects: CoreObject[] = [];
  for (const path of objs) {
    try {
      const elf = parseElf(new Uint8Array(readFileSync(path)));
      // libbpf 1.1 reads .BTF.ext only in the host's byte order
      if (!elf.littleEndian && elf.sectionByName(".BTF.ext")) {
        const first = fail(`failed to parse BPF object '${path}': Invalid argument`);
        const second = fail(`error recording relocations for ${path}: Invalid argument`);
        return { stdout: first.stdout + second.stdout, stderr: first.stderr + second.stderr, code: 234 };
      }
      const btfSec = elf.sectionByName(".BTF");
      if (!btfSec) throw new BpfError("ENOENT", "no .BTF");
      const btf = parseBtf(btfSec.data);
      const extSec = elf.sectionByName(".BTF.ext");
      objects.push({ name: path, btf, ext: extSec ? parseBtfExt(extSec.data, btf) : undefined });
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      return fail(`error recording relocations for ${path}: ${STRERROR[code] ?? "Invalid argument"}`);
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = minCoreBtf(src, objects);
  } catch (e) {
    if (!isBpfError(e)) throw e;
    if (process.env.BPFKIT_DEBUG) process.stderr.write(`${e.message}\n`);
    const at = objects.find((o) => e.message.includes(`'${o.name}'`))?.name ?? objs[objs.length - 1];
    return fail(`error recording relocations for ${at}: ${STRERROR[e.code] ?? "Invalid argument"}`);
  }
  try {
    writeFileSync(output, bytes);
  } catch (e) {
    return fail(`error saving btf file: ${STRERROR[(e as { code?: string }).code ?? ""] ?? (e as Error).message}`);
  }
  return { stdout: "", stderr: "", code: 0 };
}

/** The INPUT BTF of min_core_btf, parsed once per file version (test runs call the command many times on vmlinux). */
let inputCache: { key: string; btf: ReturnType<typeof btfFromFileBytes> } | undefined;
function parsedInput(path: string): ReturnType<typeof btfFromFileBytes> {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  if (inputCache?.key !== key) inputCache = { key, btf: btfFromFileBytes(new Uint8Array(readFileSync(path))) };
  return inputCache.btf;
}
