// `bpfkit btf dump file X [format raw|c]`, byte-identical to bpftool 7.1. `btf show` and `btf dump id N` need the
// kernel and are delegated to the kernel engineer's src/cli/kernel-btf.ts.
import { readFileSync, writeSync } from "node:fs";
import { isBpfError } from "../errors.ts";
import { dumpBtfC } from "../btf/dump-c.ts";
import { dumpBtfRaw } from "../btf/dump-raw.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";

const ERRNO: Record<string, number> = { ENOENT: 2, EINVAL: 22, EPROTO: 71, ELOOP: 40, FORMAT: 22, ENOTSUPP: 95 };
const STRERROR: Record<number, string> = {
  2: "No such file or directory", 5: "Input/output error", 13: "Permission denied", 22: "Invalid argument",
  40: "Too many levels of symbolic links", 95: "Operation not supported", 4001: "Unknown error 4001",
};
/** libbpf's LIBBPF_ERRNO__FORMAT: what btf__parse reports for a file that is neither raw BTF nor a readable ELF. */
const LIBBPF_ERRNO__FORMAT = 4001;

const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

export default async function btf(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== undefined && isPrefix(sub, "dump") && rest[0] !== undefined && isPrefix(rest[0], "file")) return dumpFile(rest.slice(1));
  return delegateToKernel(args);
}

async function delegateToKernel(args: string[]): Promise<number> {
  try {
    const mod = (await import(new URL("./kernel-btf.ts", import.meta.url).href)) as { btfKernelCommand(a: string[]): Promise<number> };
    return await mod.btfKernelCommand(args);
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      console.error("bpfkit btf: only `btf dump file X [format raw|c]` is available; `btf show`/`btf dump id` (src/cli/kernel-btf.ts) is not built yet");
      return 2;
    }
    throw e;
  }
}

async function dumpFile(args: string[]): Promise<number> {
  const path = args[0];
  if (path === undefined) {
    console.error("Error: expected file path");
    return 255;
  }
  let format = "raw";
  for (let i = 1; i < args.length; i++) {
    if (isPrefix(args[i]!, "format")) {
      const f = args[++i];
      if (f === undefined) {
        console.error("Error: expecting value for 'format' option\n");
        return 234;
      }
      if (f !== "c" && f !== "raw") {
        console.error(`Error: unrecognized format specifier: '${f}', possible values: raw, c`);
        return 234;
      }
      format = f;
    } else {
      console.error(`Error: unrecognized option: '${args[i]}'`);
      return 234;
    }
  }
  let bytes: Uint8Array;
  let base: Btf | undefined;
  try {
    bytes = readFileSync(path);
    // module BTF is split over vmlinux, as bpftool resolves it
    if (path.startsWith("/sys/kernel/btf/") && path !== "/sys/kernel/btf/vmlinux") {
      base = btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux"));
    }
  } catch (e) {
    // libbpf reads the file itself; a directory or unreadable file ends as EIO there, a missing one as ENOENT
    const code = (e as { code?: string }).code;
    const errno = code === "ENOENT" ? 2 : code === "EACCES" ? 13 : 5;
    console.error(`Error: failed to load BTF from ${path}: ${STRERROR[errno] ?? (e as Error).message}`);
    return (256 - errno) & 0xff;
  }
  let parsed: Btf;
  try {
    if (bytes.length < 2) throw Object.assign(new Error("short read"), { errno: 5 });
    parsed = btfFromFileBytes(bytes, base);
  } catch (e) {
    if (!isBpfError(e) && (e as { errno?: number }).errno !== 5) throw e;
    const errno = !isBpfError(e) ? 5 : e.message.startsWith("ELF: ") ? LIBBPF_ERRNO__FORMAT : (ERRNO[e.code] ?? 22);
    if (process.env.BPFKIT_DEBUG) console.error((e as Error).message);
    console.error(`Error: failed to load BTF from ${path}: ${STRERROR[errno] ?? (e as Error).message}`);
    return (256 - errno) & 0xff;
  }
  const out = new StdoutSink();
  try {
    if (format === "c") dumpBtfC(parsed, out.write);
    else dumpBtfRaw(parsed, out.write);
  } finally {
    await out.close();
  }
  return 0;
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
