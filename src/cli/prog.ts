// `bpfkit prog show|list|dump ...`: the kernel's programs exactly as `bpftool prog` prints them.
// `prog dump xlated file X.o` belongs to the ELF engineer (src/cli/prog-file.ts) and is delegated there.
import { parseToolArgs, listingUnavailable, emit } from "../kernel/tool-args.ts";
import { isPrefix } from "../kernel/listing.ts";
import { moduleUrl } from "./module-url.ts";

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

export default async function prog(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  // `dump xlated file X.o` reads an object file; `dump xlated id N file OUT` writes a kernel image (bpftool's form)
  if (verb !== undefined && isPrefix(verb, "dump") && rest[1] === "file") return delegateFile(args);
  const why = listingUnavailable();
  if (why !== undefined) {
    console.error(`bpfkit prog: ${why}`);
    return 1;
  }
  if (verb === undefined || isPrefix(verb, "show") || isPrefix(verb, "list")) {
    const { progShow } = await import("../kernel/listing.ts");
    return emit(progShow(a, rest));
  }
  if (isPrefix(verb, "dump")) {
    const { progDump } = await import("../kernel/prog-dump.ts");
    return emit(await progDump(a, rest));
  }
  console.error(`bpfkit prog: unknown subcommand '${verb}' (show, list, dump)`);
  return 1;
}
