// placeholder replaced below
import type { OutputMode, ToolOutput } from "./listing.ts";
export function mapDump(_mode: OutputMode, _args: readonly string[]): ToolOutput {
  return { stdout: "", stderr: "Error: map dump is not built yet\n", code: 255 };
}
