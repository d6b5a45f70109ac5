// `bpfkit cgroup show|tree|attach|detach`: programs on cgroup v2 directories, as `bpftool cgroup` does them.
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";

export default async function cgroup(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit cgroup: ${why}`);
    return 1;
  }
  const { cgroupCommand } = await import("../kernel/cgroup-commands.ts");
  return emit(cgroupCommand({ ...a, backend }, verb ?? "show", rest, a.typed));
}
