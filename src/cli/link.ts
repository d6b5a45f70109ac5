// `bpfkit link show|list [id N | pinned P]`: the kernel's links, printed exactly as `bpftool link` prints them.
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
  console.error(`bpfkit link: unknown subcommand '${verb}' (show, list)`);
  return 1;
}
