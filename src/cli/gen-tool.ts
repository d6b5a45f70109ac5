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
import { openInfoLines } from "../object/load.ts";
import { hostKconfig } from "../kernel/kconfig.ts";
import { kallsymsAddresses } from "../kernel/trace-symbols.ts";
import { parseBtf } from "../btf/parse.ts";
import { parseBtfExt } from "../btf/ext.ts";
import type { LinkerInput } from "../object/linker.ts";
import { cLightSkeleton, cLightSkeletonHead, cSkeleton, cSubskeleton, givenObjectName, skeletonObjectName } from "../object/skeleton-c.ts";
import { generateLoader, LoaderGenError } from "../object/loader-gen.ts";
import type { LoaderProgram } from "../object/loader-gen.ts";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { BIN, errorOutcome } from "./bpftool.ts";
import { JsonWriter } from "../kernel/json-writer.ts";
import type { Outcome } from "./bpftool.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { libbpfOpenError } from "./libbpf-errors.ts";

export interface GenOptions {
  readonly json: boolean;
  readonly pretty: boolean;
  /** -L: a light skeleton (libbpf's loader program), which bpfkit cannot generate yet */
  readonly useLoader?: boolean;
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory", EACCES: "Permission denied", EISDIR: "Is a directory", ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links", ENAMETOOLONG: "File name too long",
};

const COMMANDS = ["object", "skeleton", "subskeleton", "min_core_btf", "help"] as const;

/** `typed`: the word before the arguments as the user typed it (`sk`), which bpftool's argument-count errors echo. */
export function genCommand(words: readonly string[], o: GenOptions, typed?: string): Outcome {
  const usage = renderUsage(OBJECT_USAGE.gen!, BIN, "gen");
  const fail = (msg: string, withUsage = false): Outcome => errorOutcome(o, msg, withUsage ? usage : undefined);
  const [verbWord, ...args] = words;
  const verb = verbWord === undefined ? undefined : COMMANDS.find((c) => c.startsWith(verbWord) && verbWord.length > 0);
  if (verb === undefined || verb === "help") return { stdout: "", stderr: usage, code: verb ? 0 : 255 };
  const cArgs = args.filter((a) => a !== "--c");
  const out = genVerb(verb, cArgs, fail, o, typed);
  // bpftool's JSON writer ends its output with a newline when it is destroyed (errors already end with theirs)
  return o.json && out.code === 0 ? { ...out, stdout: `${out.stdout}\n` } : out;
}

function genVerb(verb: (typeof COMMANDS)[number], cArgs: readonly string[], fail: Fail, o: GenOptions, typed: string | undefined): Outcome {
  switch (verb) {
    case "skeleton":
    case "subskeleton":
      return skeleton(verb, cArgs, fail, typed ?? verb, o.useLoader === true);
    case "object":
      return object(cArgs, fail, typed ?? verb);
    case "min_core_btf":
      return minCore(cArgs, fail, o, typed ?? verb);
    default:
      return fail(`'gen ${verb}' is not supported by bpfkit yet`);
  }
}

type Fail = (msg: string, withUsage?: boolean) => Outcome;

/** The loader's refusals that libbpf itself warns about in the same words before bpftool's `Error:` line. */
const LIBBPF_WARNS = /^(elf: (legacy map definitions in 'maps' section|endianness mismatch in )|sec '[^']*': program '[^']*' is static and not supported$|failed to find BTF for extern )/;

const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** libbpf's possible-CPU count (the kernel's /sys/devices/system/cpu/possible list). */
function possibleCpus(): number {
  try {
    const text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
    let n = 0;
    for (const part of text.split(",")) {
      const [a, b] = part.split("-").map(Number);
      n += b === undefined ? 1 : b! - a! + 1;
    }
    return n;
  } catch {
    return cpus().length;
  }
}

/** `gen skeleton -L`: the object's load recorded as a loader program (libbpf's gen_loader), in a light skeleton. */
/**
 * An object's load recorded as a loader program (libbpf's gen_loader under bpftool): the loader, or what libbpf and
 * bpftool print when recording fails (stderr lines, the errno the load returned). `info`: libbpf's open-time notes.
 */
export function recordObjectLoad(obj: BpfObject, bytes: Uint8Array, path?: string): { info: string; loader?: LoaderProgram; warnings?: string; errno?: number } {
  const info = openInfoLines(parseElf(bytes)).map((l) => `libbpf: ${l}\n`).join("");
  try {
    return { info, loader: generateLoader(obj, { possibleCpus: possibleCpus(), pinnedExists: (m) => existsSync(`/sys/fs/bpf/${m}`), kallsyms: kallsymsAddresses, path }) };
  } catch (e) {
    if (!(e instanceof LoaderGenError)) throw e;
    return { info, warnings: e.warnings.map((w) => `libbpf: ${w}\n`).join(""), errno: e.errno };
  }
}

/** The .kconfig values a recorded load embeds: the running kernel's, with every feature assumed present. */
export const loaderKconfig = () => ({ ...hostKconfig(), LINUX_HAS_BPF_COOKIE: true, LINUX_HAS_SYSCALL_WRAPPER: true });

function lightSkeleton(obj: BpfObject, bytes: Uint8Array, name: string, fail: Fail): Outcome {
  const rec = recordObjectLoad(obj, bytes);
  if (!rec.loader) {
    // bpftool has printed the struct's first part when the recorded load fails
    const head = cLightSkeletonHead(obj, name);
    const out = fail("failed to load object file");
    const stderr = rec.info + head.warnings.map((w) => `Error: ${w}\n`).join("") + rec.warnings + out.stderr;
    return { stdout: head.text + out.stdout, stderr, code: -rec.errno! & 0xff };
  }
  const r = cLightSkeleton(obj, name, rec.loader);
  return { stdout: r.text, stderr: rec.info + r.warnings.map((w) => `Error: ${w}\n`).join(""), code: 0 };
}

function skeleton(verb: "skeleton" | "subskeleton", args: readonly string[], fail: Fail, typed: string, useLoader: boolean): Outcome {
  if (args.length < 1) return fail(`'${typed}' needs at least 1 arguments, 0 found`, true);
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
  if (useLoader && verb === "subskeleton") return fail("cannot use loader for subskeletons");
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
    // bpftool opens the object from memory with object_name set: libbpf's messages name the object (obj->path)
    if (verb === "skeleton") {
      // a light skeleton records the load: .kconfig holds the running kernel's values (every feature assumed present)
      const kconfig = useLoader ? loaderKconfig() : undefined;
      const obj = loadObject(bytes, { fileName: name, objectName: name, kconfig });
      // bpftool opens the object before it writes anything: bad input gets its errors first
      if (useLoader) return lightSkeleton(obj, bytes, name, fail);
      const r = cSkeleton(obj, bytes, name);
      // libbpf's open-time notes (sections it skips), then bpftool's own
      const info = openInfoLines(parseElf(bytes)).map((l) => `libbpf: ${l}\n`).join("");
      return { stdout: r.text, stderr: info + r.warnings.map((w) => `Error: ${w}\n`).join(""), code: 0 };
    }
    const obj = loadObject(bytes, { fileName: "", objectName: "" });
    return { stdout: cSubskeleton(obj, name), stderr: "", code: 0 };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    if (e.message.startsWith("need btf type information")) return fail(e.message);
    if (process.env.BPFKIT_DEBUG) process.stderr.write(`${e.message}\n`);
    const { errno, text } = libbpfOpenError(e);
    const out = fail(`failed to open BPF object file: ${text}`);
    // libbpf's own warning first, for a file that is not ELF at all (it names the object by its skeleton name)
    if (!isElf(bytes)) out.stderr = `libbpf: elf: '${verb === "skeleton" ? name : ""}' is not a proper ELF object\n${out.stderr}`;
    else if (LIBBPF_WARNS.test(e.message)) out.stderr = `libbpf: ${e.message}\n${out.stderr}`;
    // skeleton returns -errno; subskeleton its initial -1
    return verb === "skeleton" ? { ...out, code: -errno & 0xff } : out;
  }
}

const ERRNO_TEXT: Readonly<Record<string, readonly [number, string]>> = {
  ENOENT: [2, "No such file or directory"], EINVAL: [22, "Invalid argument"], EOPNOTSUPP: [95, "Operation not supported"],
  ENOTSUPP: [95, "Operation not supported"], EACCES: [13, "Permission denied"], EISDIR: [21, "Is a directory"],
  FORMAT: [22, "Invalid argument"], ELOOP: [40, "Too many levels of symbolic links"], E2BIG: [7, "Argument list too long"],
};

/** `gen object OUTPUT INPUT...`: bpftool's static linker. */
function object(args: readonly string[], fail: Fail, typed: string): Outcome {
  if (args.length < 2) return fail(`'${typed}' needs at least 2 arguments, ${args.length} found`, true);
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
      const out = fail(`failed to link '${file}': ${text} (${errno})`);
      return { ...out, stderr: `libbpf: failed to open file '${file}': -${errno}\n${out.stderr}`, code: -errno & 0xff };
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
    const input = inputs.find((i) => i.name === file);
    const warning = input && !isElf(input.bytes) ? `libbpf: failed to get ELF header for ${file}: invalid \`Elf' handle\n` : "";
    if (warning && file !== undefined) {
      const out = fail(`failed to link '${file}': ${text} (${errno})`);
      return { ...out, stderr: warning + out.stderr, code: -errno & 0xff };
    }
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

/** Several p_err in a row: `Error:` lines, or JSON error objects one after the other (`{…},{…}`). */
function errors(o: GenOptions, msgs: readonly string[], code: number, warnings = ""): Outcome {
  if (o.json) {
    const j = new JsonWriter(o.pretty);
    for (const m of msgs) j.startObject().name("error").raw(`"${m}"`).endObject();
    return { stdout: j.finish(), stderr: warnings, code };
  }
  return { stdout: "", stderr: warnings + msgs.map((m) => `Error: ${m}\n`).join(""), code };
}

const ERRNO_NUMBER: Readonly<Record<string, number>> = { ENOENT: 2, EIO: 5, EACCES: 13, ENOTDIR: 20, EINVAL: 22, ELOOP: 40, ENAMETOOLONG: 36 };
const errnoText = (n: number): string =>
  n === 5 ? "Input/output error" : n === 22 ? "Invalid argument" : n >= 4000 ? `Unknown error ${n}`
    : STRERROR[Object.keys(ERRNO_NUMBER).find((k) => ERRNO_NUMBER[k] === n) ?? ""] ?? `Unknown error ${n}`;

/**
 * Why libbpf 1.1's btf__parse(path) would fail on these bytes, before bpfkit parses them: it reads the file as raw BTF
 * (EIO when the 2-byte magic cannot be read, a directory included), else as ELF (its own FORMAT error 4001 when that
 * is not ELF either, ENOENT with no .BTF section). undefined: the file goes on to be parsed.
 */
function btfParseFailure(path: string): { errno: number; warning: string } | undefined {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    return { errno: code === "EISDIR" ? 5 : ERRNO_NUMBER[code] ?? 22, warning: "" };
  }
  if (bytes.length < 2) return { errno: 5, warning: "" };
  const magic = bytes[0]! | (bytes[1]! << 8);
  if (magic === 0xeb9f || magic === 0x9feb) return undefined;
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return { errno: 4001, warning: `libbpf: failed to get EHDR from ${path}\n` };
  }
  try {
    if (!parseElf(bytes, { anyMachine: true }).sectionByName(".BTF")) {
      return { errno: 2, warning: `libbpf: failed to find '.BTF' ELF section in ${path}\n` };
    }
  } catch { /* bpfkit's ELF reader says why below */ }
  return undefined;
}

/** `gen min_core_btf INPUT OUTPUT OBJECT...`: the part of INPUT's BTF the objects' CO-RE relocations use. */
function minCore(args: readonly string[], fail: Fail, o: GenOptions, typed: string): Outcome {
  if (args.length < 3) return fail(`'${typed}' needs at least 3 arguments, ${args.length} found`, true);
  const [input, output, ...objs] = args as [string, string, ...string[]];
  // bpftool reports a failed parse, then (with the errno still set) the failed setup around it; exit -errno
  const inputFailure = btfParseFailure(input);
  if (inputFailure) {
    const t = errnoText(inputFailure.errno);
    return errors(o, [`failed parsing '${input}' BTF file: ${t}`, `failed to allocate info structure: ${t}`], -inputFailure.errno & 0xff, inputFailure.warning);
  }
  let src;
  try {
    src = parsedInput(input);
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    return fail(`failed parsing '${input}' BTF file: ${STRERROR[code] ?? "Invalid argument"}`);
  }
  const objects: CoreObject[] = [];
  for (const path of objs) {
    const failure = btfParseFailure(path);
    if (failure) {
      const t = errnoText(failure.errno);
      return errors(o, [`failed to parse BPF object '${path}': ${t}`, `error recording relocations for ${path}: ${t}`], -failure.errno & 0xff, failure.warning);
    }
    try {
      const elf = parseElf(new Uint8Array(readFileSync(path)));
      // libbpf 1.1 reads .BTF.ext only in the host's byte order
      if (!elf.littleEndian && elf.sectionByName(".BTF.ext")) {
        return errors(o, [`failed to parse BPF object '${path}': Invalid argument`, `error recording relocations for ${path}: Invalid argument`], 234);
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
    const code = (e as { code?: string }).code ?? "";
    return { ...fail(`error saving btf file: ${STRERROR[code] ?? (e as Error).message}`), code: -(ERRNO_NUMBER[code] ?? 1) & 0xff };
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
