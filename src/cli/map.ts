// `bpfkit [--vm] map show|list|dump|lookup|update|…`: the kernel's maps (or, with --vm, the VM session's), printed and
// changed exactly as `bpftool map` does (src/cli/bpftool.ts has already resolved the command's prefix).
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { isPrefix } from "../kernel/listing.ts";

export default async function map(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit map: ${why}`);
    return 1;
  }
  if (verb === undefined || isPrefix(verb, "show") || isPrefix(verb, "list")) {
    const { mapShow } = await import("../kernel/listing.ts");
    return emit(mapShow({ ...a, backend }, rest));
  }
  if (isPrefix(verb, "dump")) {
    const { mapDump } = await import("../kernel/map-dump.ts");
    const { withUsage } = await import("./bpftool-usage.ts");
    return emit(withUsage(mapDump({ ...a, backend }, rest), a.json, "map", a.typedObject));
  }
  if (verb === "event_pipe") {
    const { eventPipe } = await import("../kernel/event-pipe.ts");
    return emit(await eventPipe({ ...a, backend }, rest));
  }
  const { mapCommand } = await import("../kernel/map-commands.ts");
  const { withUsage } = await import("./bpftool-usage.ts");
  return emit(withUsage(mapCommand({ ...a, backend }, verb, rest, a.typed), a.json, "map", a.typedObject));
}
