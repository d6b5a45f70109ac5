// `bpfkit btf dump file X [format raw|c]`, byte-identical to bpftool 7.1. `btf show` and `btf dump id N` need the
// kernel and are delegated to the kernel engineer's src/cli/kernel-btf.ts.
import { readFileSync, writeSync } from "node:fs";
import { isBpfError } from "../errors.ts";
import { dumpBtfC } from "../btf/dump-c.ts";
import { dumpBtfRaw, formatRawType } from "../btf/dump-raw.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import * as K from "../btf/kinds.ts";
import { JsonWriter } from "../kernel/json-writer.ts";
import { ERRNO, pickErrno } from "../uapi/index.ts";
import { moduleUrl } from "./module-url.ts";

// The errno libbpf reports for each BpfError code (user space has no ENOTSUPP: libbpf says EOPNOTSUPP).
const CODE_ERRNO: Record<string, number> = {
  ...pickErrno(["ENOENT", "EINVAL", "EPROTO", "ELOOP"]), FORMAT: ERRNO.EINVAL, ENOTSUPP: ERRNO.EOPNOTSUPP,
};
const STRERROR: Record<number, string> = {
  2: "No such file or directory", 5: "Input/output error", 13: "Permission denied", 22: "Invalid argument",
  40: "Too many levels of symbolic links", 95: "Operation not supported", 4001: "Unknown error 4001",
};
/** libbpf's LIBBPF_ERRNO__FORMAT: what btf__parse reports for a file that is neither raw BTF nor a readable ELF. */
const LIBBPF_ERRNO__FORMAT = 4001;

const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

export default async function btf(args: string[]): Promise<number> {
  // bpftool's global -B/--base-btf FILE: the base of a split BTF file
  let baseBtfPath: string | undefined;
  const bIdx = args.findIndex((a) => a === "-B" || a === "--base-btf");
  if (bIdx >= 0) {
    baseBtfPath = args[bIdx + 1];
    args = [...args.slice(0, bIdx), ...args.slice(bIdx + 2)];
  }
  const words = args.filter((a) => !JSON_FLAGS.has(a));
  const [sub, ...rest] = words;
  if (sub !== undefined && isPrefix(sub, "dump") && rest[0] !== undefined && isPrefix(rest[0], "file")) {
    const pretty = args.includes("-p") || args.includes("--pretty");
    return dumpFile(rest.slice(1), pretty || args.includes("-j") || args.includes("--json") ? { pretty } : undefined, baseBtfPath);
  }
  if (sub !== undefined && isPrefix(sub, "dump")) return dumpObject(args, rest, baseBtfPath);
  return delegateToKernel(args);
}

const JSON_FLAGS = new Set(["-j", "--json", "-p", "--pretty"]);

async function delegateToKernel(args: string[]): Promise<number> {
  try {
    const mod = (await import(moduleUrl("./kernel-btf").href)) as { btfKernelCommand(a: string[]): Promise<number> };
    return await mod.btfKernelCommand(args);
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      console.error("bpfkit btf: only `btf dump file X [format raw|c]` is available; `btf show`/`btf dump id` (src/cli/kernel-btf.ts) is not built yet");
      return 2;
    }
    throw e;
  }
}

/** bpftool's p_err: `Error: MSG` on stderr, or `{"error":"MSG"}` on stdout in JSON mode. */
function pErr(msg: string, json: { pretty: boolean } | undefined): void {
  if (json) process.stdout.write(new JsonWriter(json.pretty).startObject().field("error", msg).endObject().finish());
  else console.error(`Error: ${msg}`);
}

async function dumpFile(args: string[], json: { pretty: boolean } | undefined, baseBtfPath?: string): Promise<number> {
  const path = args[0];
  if (path === undefined) {
    pErr("expected file path", json);
    return 255;
  }
  let format = "raw";
  for (let i = 1; i < args.length; i++) {
    if (isPrefix(args[i]!, "format")) {
      const f = args[++i];
      if (f === undefined) {
        pErr("expecting value for 'format' option\n", json);
        return 234;
      }
      if (f !== "c" && f !== "raw") {
        pErr(`unrecognized format specifier: '${f}', possible values: raw, c`, json);
        return 234;
      }
      format = f;
    } else {
      pErr(`unrecognized option: '${args[i]}'`, json);
      return 234;
    }
  }
  let bytes: Uint8Array;
  let base: Btf | undefined;
  try {
    bytes = readFileSync(path);
    // module BTF is split over vmlinux, as bpftool resolves it; -B names another base
    if (baseBtfPath !== undefined) base = btfFromFileBytes(readFileSync(baseBtfPath));
    else if (path.startsWith("/sys/kernel/btf/") && path !== "/sys/kernel/btf/vmlinux") {
      base = btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux"));
    }
  } catch (e) {
    // libbpf reads the file itself; a directory or unreadable file ends as EIO there, a missing one as ENOENT
    const code = (e as { code?: string }).code;
    const errno = code === "ENOENT" ? ERRNO.ENOENT : code === "EACCES" ? ERRNO.EACCES : ERRNO.EIO;
    pErr(`failed to load BTF from ${path}: ${STRERROR[errno] ?? (e as Error).message}`, json);
    return (256 - errno) & 0xff;
  }
  let parsed: Btf;
  try {
    if (bytes.length < 2) throw Object.assign(new Error("short read"), { errno: 5 });
    parsed = btfFromFileBytes(bytes, base);
  } catch (e) {
    if (!isBpfError(e) && (e as { errno?: number }).errno !== 5) throw e;
    const errno = !isBpfError(e) ? ERRNO.EIO : e.message.startsWith("ELF: ") ? LIBBPF_ERRNO__FORMAT : (CODE_ERRNO[e.code] ?? ERRNO.EINVAL);
    if (process.env.BPFKIT_DEBUG) console.error((e as Error).message);
    pErr(`failed to load BTF from ${path}: ${STRERROR[errno] ?? (e as Error).message}`, json);
    return (256 - errno) & 0xff;
  }
  if (json && format === "c") {
    pErr("JSON output for C-syntax dump is not supported", json);
    return (256 - 95) & 0xff;
  }
  const out = new StdoutSink();
  try {
    if (json) out.write(dumpBtfJson(parsed, json.pretty));
    else if (format === "c") dumpBtfC(parsed, out.write);
    else dumpBtfRaw(parsed, out.write);
  } finally {
    await out.close();
  }
  return 0;
}

/** `dump id|map|prog …` on the kernel's objects (or the VM session's with --vm): src/cli/btf-dump.ts resolves the source. */
async function dumpObject(args: string[], rest: string[], baseBtfPath?: string): Promise<number> {
  const { parseToolArgs, toolBackend } = await import("../kernel/tool-args.ts");
  const { btfDumpSource } = await import("./btf-dump.ts");
  const a = parseToolArgs(args);
  const { backend, unavailable } = await toolBackend(a);
  if (unavailable !== undefined) {
    console.error(`bpfkit btf: ${unavailable}`);
    return 1;
  }
  const base = baseBtfPath !== undefined ? btfFromFileBytes(readFileSync(baseBtfPath)) : undefined;
  const plan = btfDumpSource(rest, { json: a.json, pretty: a.pretty, backend }, base);
  if ("code" in plan) {
    if (plan.stdout) process.stdout.write(plan.stdout);
    if (plan.stderr) process.stderr.write(plan.stderr);
    return plan.code;
  }
  if (plan.warning) process.stderr.write(plan.warning);
  const out = new StdoutSink();
  try {
    if (a.json) out.write(dumpBtfJson(plan.btf, a.pretty, plan.roots));
    else if (plan.c) dumpBtfC(plan.btf, out.write, plan.roots.length ? plan.roots : undefined);
    else if (plan.roots.length) for (const id of plan.roots) out.write(formatRawType(plan.btf, plan.btf.type(id)));
    else dumpBtfRaw(plan.btf, out.write);
  } finally {
    await out.close();
  }
  return 0;
}

/** bpftool's JSON form of the raw dump (dump_btf_type's json_output branch); `roots`: only those types. */
export function dumpBtfJson(btf: Btf, pretty: boolean, roots: readonly number[] = []): string {
  const w = new JsonWriter(pretty);
  const str = (off: number) => (off === 0 ? "(anon)" : btf.str(off) ?? "(invalid)");
  const enc = (e: number) => (e === 0 ? "(none)" : e === 1 ? "SIGNED" : e === 2 ? "CHAR" : e === 4 ? "BOOL" : "UNKN");
  const varLinkage = (l: number) => ["static", "global", "extern"][l] ?? "(unknown)";
  w.startObject().name("types").startArray();
  for (const t of roots.length ? roots.map((id) => btf.type(id)) : btf.ownTypes) {
    w.startObject().field("id", t.id).field("kind", K.BTF_KIND_NAMES[t.kind] ?? "UNKNOWN").field("name", str(t.nameOff));
    switch (t.kind) {
      case K.BTF_KIND_INT:
        w.field("size", t.sizeOrType).field("bits_offset", t.intOffset).field("nr_bits", t.intBits).field("encoding", enc(t.intEncoding));
        break;
      case K.BTF_KIND_PTR: case K.BTF_KIND_CONST: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_RESTRICT:
      case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_TYPE_TAG:
        w.field("type_id", t.sizeOrType);
        break;
      case K.BTF_KIND_ARRAY:
        w.field("type_id", t.arrayType).field("index_type_id", t.arrayIndexType).field("nr_elems", t.arrayNelems);
        break;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        w.field("size", t.sizeOrType).field("vlen", t.vlen).name("members").startArray();
        for (const m of t.members) {
          w.startObject().field("name", str(m.nameOff)).field("type_id", m.type).field("bits_offset", m.bitOffset);
          if (m.bitfieldSize) w.field("bitfield_size", m.bitfieldSize);
          w.endObject();
        }
        w.endArray();
        break;
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
        w.field("encoding", t.kflag ? "SIGNED" : "UNSIGNED").field("size", t.sizeOrType).field("vlen", t.vlen).name("values").startArray();
        for (const v of t.enumValues) {
          // bpftool passes a 32-bit enum's __s32 val to a 64-bit JSON field: sign-extended, even as unsigned
          const u = t.kind === K.BTF_KIND_ENUM ? BigInt(v.lo | 0) : (BigInt(v.hi >>> 0) << 32n) | BigInt(v.lo >>> 0);
          const val = t.kflag ? BigInt.asIntN(64, u) : BigInt.asUintN(64, u);
          w.startObject().field("name", str(v.nameOff)).field("val", val).endObject();
        }
        w.endArray();
        break;
      case K.BTF_KIND_FWD:
        w.field("fwd_kind", t.kflag ? "union" : "struct");
        break;
      case K.BTF_KIND_FUNC:
        w.field("type_id", t.sizeOrType).field("linkage", ["static", "global", "extern"][t.vlen] ?? "(unknown)");
        break;
      case K.BTF_KIND_FUNC_PROTO:
        w.field("ret_type_id", t.sizeOrType).field("vlen", t.vlen).name("params").startArray();
        for (const p of t.params) w.startObject().field("name", str(p.nameOff)).field("type_id", p.type).endObject();
        w.endArray();
        break;
      case K.BTF_KIND_VAR:
        w.field("type_id", t.sizeOrType).field("linkage", varLinkage(t.linkage));
        break;
      case K.BTF_KIND_DATASEC:
        w.field("size", t.sizeOrType).field("vlen", t.vlen).name("vars").startArray();
        for (const v of t.secinfos) w.startObject().field("type_id", v.type).field("offset", v.offset).field("size", v.size).endObject();
        w.endArray();
        break;
      case K.BTF_KIND_FLOAT:
        w.field("size", t.sizeOrType);
        break;
      case K.BTF_KIND_DECL_TAG:
        w.field("type_id", t.sizeOrType).field("component_idx", t.componentIdx);
        break;
    }
    w.endObject();
  }
  w.endArray().endObject();
  return w.finish();
}

/** Streams large text output to stdout as Latin-1 bytes (BTF names are raw bytes), writing synchronously in 1 MiB chunks. */
export class StdoutSink {
  private parts: string[] = [];
  private size = 0;
  readonly write = (chunk: string): void => {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= 1 << 20) this.flush();
  };
  flush(): void {
    if (!this.size) return;
    const buf = Buffer.from(this.parts.join(""), "latin1");
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(1, buf, off, buf.length - off);
      } catch (e) {
        if ((e as { code?: string }).code === "EAGAIN") continue;
        if ((e as { code?: string }).code === "EPIPE") return;
        throw e;
      }
    }
  }
  async close(): Promise<void> {
    this.flush();
  }
}
