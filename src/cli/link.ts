// `bpfkit link show|list|pin|detach`: the kernel's (or --vm, the VM session's) links, as `bpftool link` does them.
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { isPrefix, linkShow } from "../kernel/listing.ts";

export default async function link(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit link: ${why}`);
    return 1;
  }
  if (verb === undefined || isPrefix(verb, "show") || isPrefix(verb, "list")) return emit(linkShow({ ...a, backend }, rest));
  const { LINK_COMMANDS, objectCommand } = await import("../kernel/prog-commands.ts");
  if (LINK_COMMANDS[verb] !== undefined) return emit(objectCommand({ ...a, backend }, LINK_COMMANDS, verb, rest, a.typed));
  console.error(`bpfkit link: unknown subcommand '${verb}' (show, list, pin, detach)`);
  return 1;
}
