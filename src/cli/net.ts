// `bpfkit net show|list [dev NAME]`, `net attach ATTACH_TYPE PROG dev NAME [overwrite]`, `net detach ATTACH_TYPE dev
// NAME`: XDP and tc programs on network devices, as `bpftool net` does them (src/kernel/net-commands.ts).
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { withUsage } from "./bpftool-usage.ts";

export default async function net(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const chosen = await toolBackend(a);
  const why = chosen.unavailable;
  // as `bpfkit trace`: where bpf() is unusable (not root, not Linux), bpfkit's VM answers, said once
  if (why !== undefined) console.error(`bpfkit net: bpf() is unusable here (${why.replace(/\.$/, "")}); running on bpfkit's VM`);
  const { backend } = why === undefined ? chosen : await toolBackend({ ...a, vm: true });
  const { netCommand } = await import("../kernel/net-commands.ts");
  return emit(withUsage(netCommand({ ...a, backend }, verb ?? "show", rest, a.typed ?? verb), a.json, "net", a.typedObject));
}
