// `bpfkit struct_ops show|dump [id ID | name NAME]`: struct_ops maps as `bpftool struct_ops` lists them.
import { parseToolArgs, toolBackend, emit } from "../kernel/tool-args.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { BIN } from "./bpftool.ts";

export default async function structOps(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const { backend, unavailable: why } = await toolBackend(a);
  if (why !== undefined) {
    console.error(`bpfkit struct_ops: ${why}`);
    return 1;
  }
  if (verb !== "show" && verb !== "list" && verb !== "dump") {
    console.error(`Error: 'struct_ops ${verb}' is not supported by bpfkit yet`);
    return 255;
  }
  const { structOpsCommand } = await import("../kernel/struct-ops.ts");
  const r = structOpsCommand({ ...a, backend }, verb === "dump" ? "dump" : "show", rest);
  if (typeof r === "symbol") {
    // bpftool's usage(): the object's help (null under -j), exit 255
    if (a.json) process.stdout.write("null\n");
    else process.stderr.write(renderUsage(OBJECT_USAGE.struct_ops!, BIN, "struct_ops"));
    return 255;
  }
  return emit(r);
}
