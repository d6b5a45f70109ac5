// `btf show [id N]` and `btf dump id N [format raw|c]` for the kernel's BTF objects, as bpftool prints them;
// src/cli/btf.ts (file dumps) delegates here. The dump reuses the BTF engineer's parser and dumpers.
import { readFileSync } from "node:fs";
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { isPrefix, btfShow, parseId } from "../kernel/listing.ts";
import { btfInfo } from "../kernel/info.ts";
import { closeFd, getFdById } from "../kernel/bpf.ts";
import { KernelError, strerror } from "../kernel/libc.ts";

/** Handles `show|list [id N]` and `dump id N [format raw|c]` (args start at the verb). */
export async function btfKernelCommand(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit btf: ${why}`);
    return 1;
  }
  if (verb === undefined || isPrefix(verb, "show") || isPrefix(verb, "list")) return emit(btfShow({ ...a, backend }, rest));
  if (backend !== undefined) {
    console.error("bpfkit btf: `--vm btf dump id N` is not supported yet (use `btf dump file X.o`)");
    return 1;
  }
  if (isPrefix(verb, "dump")) return dumpById(rest);
  console.error(`bpfkit btf: unknown subcommand '${verb}' (show, list, dump)`);
  return 1;
}

async function dumpById(args: string[]): Promise<number> {
  if (!isPrefix(args[0], "id") || args[1] === undefined) {
    console.error(`Error: unrecognized BTF source specifier: '${args[0] ?? ""}'`);
    return 255;
  }
  const id = parseId(args[1]);
  if (id === undefined) {
    console.error(`Error: can't parse ${args[1]} as ID`);
    return 255;
  }
  let format = "raw";
  for (let i = 2; i < args.length; i++) {
    if (isPrefix(args[i], "format") && (args[i + 1] === "raw" || args[i + 1] === "c")) format = args[++i]!;
    else {
      console.error(`Error: unrecognized option: '${args[i]}'`);
      return 255;
    }
  }
  let data: Uint8Array | undefined, kernel = false, name = "";
  try {
    const fd = getFdById("btf", id);
    try {
      const info = btfInfo(fd, true);
      data = info.data;
      kernel = info.kernelBtf;
      name = info.name;
    } finally {
      closeFd(fd);
    }
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    console.error(`Error: get btf by id (${id}): ${strerror(e.errno)}`);
    return 255;
  }
  const [{ btfFromFileBytes }, { dumpBtfRaw }, { dumpBtfC }, { StdoutSink }] = await Promise.all([
    import("../object/btf-file.ts"), import("../btf/dump-raw.ts"), import("../btf/dump-c.ts"), import("./btf.ts"),
  ]);
  // module BTF is split BTF over vmlinux, as bpftool loads it
  const base = kernel && name !== "vmlinux" ? btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux")) : undefined;
  const btf = btfFromFileBytes(data ?? new Uint8Array(0), base);
  const out = new StdoutSink();
  try {
    if (format === "c") dumpBtfC(btf, out.write);
    else dumpBtfRaw(btf, out.write);
  } finally {
    await out.close();
  }
  return 0;
}
