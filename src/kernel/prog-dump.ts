// placeholder replaced below
import type { OutputMode, ToolOutput } from "./listing.ts";
export async function progDump(_mode: OutputMode, _args: readonly string[]): Promise<ToolOutput> {
  return { stdout: "", stderr: "Error: prog dump is not built yet\n", code: 255 };
}
