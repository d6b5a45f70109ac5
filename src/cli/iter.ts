// `bpfkit iter pin OBJ PATH [map MAP]`: an iterator program's link pinned in bpffs, as `bpftool iter pin` does it.
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { BIN } from "./bpftool.ts";

export default async function iter(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  if (verb !== "pin") return 255;
  if (rest.length < 2) {
    // bpftool's REQ_ARGS, then usage(): the object's help, exit status 255
    const msg = `'pin' needs at least 2 arguments, ${rest.length} found`;
    if (a.json) process.stdout.write(`{"error":"${msg}"}\n`);
    else process.stderr.write(`Error: ${msg}\n`);
    process.stderr.write(renderUsage(OBJECT_USAGE.iter!, BIN, "iter"));
    return 255;
  }
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit iter: ${why}`);
    return 1;
  }
  const { ITER_COMMANDS, objectCommand } = await import("../kernel/prog-commands.ts");
  return emit(objectCommand({ ...a, backend }, ITER_COMMANDS, verb, rest));
}
