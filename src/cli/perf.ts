// `bpfkit perf [show|list]`: BPF programs attached through perf events and raw tracepoints, exactly as `bpftool perf`.
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { isPrefix } from "../kernel/listing.ts";

export default async function perf(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (backend !== undefined) {
    console.error("bpfkit perf: the VM's perf-event attachments are not listed yet (use `bpfkit --vm link show`)");
    return 1;
  }
  if (why !== undefined) {
    console.error(`bpfkit perf: ${why}`);
    return 1;
  }
  if (verb !== undefined && !isPrefix(verb, "show") && !isPrefix(verb, "list")) {
    console.error(`bpfkit perf: unknown subcommand '${verb}' (show, list)`);
    return 1;
  }
  const { perfShow } = await import("../kernel/perf-listing.ts");
  return emit(perfShow(a, rest));
}
