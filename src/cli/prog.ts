// `bpfkit [--vm] prog show|list|dump|load|loadall ...`: programs exactly as `bpftool prog` prints them, from the
// kernel or (--vm) bpfkit's VM session. `prog dump xlated file X.o` belongs to src/cli/prog-file.ts.
import { readFileSync } from "node:fs";
import { parseToolArgs, toolBackend, emit, type ToolArgs } from "../kernel/tool-args.ts";
import type { ToolOutput } from "../kernel/listing.ts";
import { errorOutcome } from "./bpftool.ts";
import { isPrefix } from "../kernel/listing.ts";
import { moduleUrl } from "./module-url.ts";
import { loadAndPin } from "../runtime/index.ts";
import { loadObject } from "../object/index.ts";
import { isBpfError } from "../errors.ts";

async function delegateFile(args: string[]): Promise<number> {
  try {
    const mod = (await import(moduleUrl("./prog-file").href)) as { progFileCommand(a: string[]): Promise<number> };
    return await mod.progFileCommand(args);
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      console.error("bpfkit prog: `prog dump xlated file X.o` (src/cli/prog-file.ts) is not built yet in this version");
      return 2;
    }
    throw e;
  }
}

/**
 * bpftool's `prog load`/`loadall` open the object (bpf_object__open) before loading anything: what the object opener
 * refuses prints libbpf's warning, then bpftool's "failed to open object file" (exit 255); undefined when it opens.
 */
export function openRefusal(a: Pick<ToolArgs, "json" | "pretty">, file: string): ToolOutput | undefined {
  try {
    loadObject(new Uint8Array(readFileSync(file)), { fileName: file });
    return undefined;
  } catch (e) {
    if (!isBpfError(e)) throw e;
    const out = errorOutcome(a, "failed to open object file");
    return { ...out, stderr: `libbpf: ${e.message.split("\n")[0]}\n${out.stderr}` };
  }
}

/** `prog load OBJ PATH` / `prog loadall OBJ DIR` into the VM session or the kernel. */
async function load(a: ToolArgs, op: "load" | "loadall", rest: string[]): Promise<number> {
  const [file, path] = rest;
  if (file === undefined || path === undefined) {
    // bpftool's REQ_ARGS(2), echoing the command word as typed
    return emit(errorOutcome(a, `'${a.typed ?? op}' needs at least 2 arguments, ${rest.length} found`));
  }
  const refused = openRefusal(a, file);
  if (refused !== undefined) return emit(refused);
  if (a.vm) {
    const { VmSession } = await import("../node/vm-session.ts");
    VmSession.open().load(op, file, path);
  } else {
    const { linux } = await import("../kernel/backend.ts");
    loadAndPin(linux, new Uint8Array(readFileSync(file)), file, op, path);
  }
  return 0;
}

export default async function prog(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  // `dump xlated file X.o` reads an object file; `dump xlated id N file OUT` writes a kernel image (bpftool's form)
  if (verb !== undefined && isPrefix(verb, "dump") && rest[1] === "file") return delegateFile(args.filter((x) => x !== "--vm"));
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit prog: ${why}`);
    return 1;
  }
  if (verb === "load" || verb === "loadall") return load(a, verb, rest);
  if (verb === undefined || isPrefix(verb, "show") || isPrefix(verb, "list")) {
    const { progShow } = await import("../kernel/listing.ts");
    return emit(progShow({ ...a, backend }, rest));
  }
  if (isPrefix(verb, "dump")) {
    const { progDump } = await import("../kernel/prog-dump.ts");
    const { withUsage } = await import("./bpftool-usage.ts");
    return emit(withUsage(await progDump({ ...a, backend }, rest), a.json, "prog"));
  }
  if (verb === "tracelog") {
    const { tracelog } = await import("../kernel/tracelog.ts");
    return tracelog(a);
  }
  const { PROG_COMMANDS, objectCommand } = await import("../kernel/prog-commands.ts");
  if (PROG_COMMANDS[verb] !== undefined) return emit(objectCommand({ ...a, backend }, PROG_COMMANDS, verb, rest, a.typed));
  console.error(`bpfkit prog: unknown subcommand '${verb}' (show, list, dump, load, loadall, pin, attach, detach, run, tracelog, profile)`);
  return 1;
}
