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

/**
 * `prog load -L OBJ [PATH]`: the object's load recorded as a loader program (src/object/loader-gen.ts) and run in the
 * kernel through BPF_PROG_TEST_RUN, as bpftool 7.1 does: nothing is pinned, and what it loaded lives as long as the
 * process. The VM does not run BPF_PROG_TYPE_SYSCALL programs: refused there.
 */
async function loaderLoad(a: ToolArgs, rest: string[]): Promise<number> {
  const [file] = rest;
  // the JSON writer's closing newline, printed whatever happened
  const tail = a.json ? "\n" : "";
  if (file === undefined) return emit(errorOutcome(a, `'${a.typed ?? "load"}' needs at least 1 arguments, 0 found`));
  if (a.vm) return emit(errorOutcome(a, "loader programs (-L) run as BPF_PROG_TYPE_SYSCALL programs calling bpf_sys_bpf, which bpfkit's VM does not have; load without -L"));
  const { loadObject } = await import("../object/index.ts");
  const { recordObjectLoad, loaderKconfig } = await import("./gen-tool.ts");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    const text = (e as { code?: string }).code === "ENOENT" ? "No such file or directory" : (e as Error).message;
    // bpftool's do_loader returns its initial 0 after a failed open
    const out = errorOutcome(a, "failed to open object file");
    return emit({ ...out, stderr: `libbpf: elf: failed to open ${file}: ${text}\n${out.stderr}`, code: 0 });
  }
  let obj;
  try {
    obj = loadObject(bytes, { fileName: file, kconfig: loaderKconfig() });
  } catch (e) {
    const out = errorOutcome(a, "failed to open object file");
    return emit({ ...out, stderr: `libbpf: ${(e as Error).message}\n${out.stderr}`, code: 0 });
  }
  const rec = recordObjectLoad(obj, bytes, file);
  if (!rec.loader) {
    const out = errorOutcome(a, "failed to load object file");
    return emit({ ...out, stderr: rec.info + rec.warnings + out.stderr, code: -rec.errno! & 0xff });
  }
  const { linux } = await import("../kernel/backend.ts");
  const { runLoader } = await import("../runtime/loader-run.ts");
  // bpftool's context: struct bpf_loader_ctx and room for 64 descriptors of 16 bytes
  const ctx = new Uint8Array(24 + 64 * 16);
  new DataView(ctx.buffer).setUint32(0, ctx.length, true);
  const r = runLoader(linux, rec.loader, ctx);
  if (r.err < 0) return emit({ stdout: tail, stderr: `${rec.info}err ${r.err}\n${r.errstr}\n(null)`, code: r.err & 0xff });
  return emit({ stdout: tail, stderr: rec.info, code: 0 });
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
  // bpftool 7.1: `prog load -L` runs a loader program; `loadall` ignores -L
  if (verb === "load" && a.useLoader) return loaderLoad(a, rest);
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
