// bpftool's global options as its getopt_long sees them (GNU permutation: options may follow the subcommand):
// -j/--json, -p/--pretty (implies JSON), -f/--bpffs, -d/--debug, -m/--mapcompat, -n/--nomount. The rest are words.
import { nativeUnavailable } from "./libc.ts";
import type { ToolOutput } from "./listing.ts";

export interface ToolArgs {
  readonly json: boolean;
  readonly pretty: boolean;
  readonly bpffs: boolean;
  readonly words: string[];
}

const FLAGS: Record<string, keyof Omit<ToolArgs, "words"> | "ignored"> = {
  "-j": "json", "--json": "json", "-p": "pretty", "--pretty": "pretty", "-f": "bpffs", "--bpffs": "bpffs",
  "-d": "ignored", "--debug": "ignored", "-m": "ignored", "--mapcompat": "ignored", "-n": "ignored", "--nomount": "ignored",
};

export function parseToolArgs(args: readonly string[]): ToolArgs {
  let json = false, pretty = false, bpffs = false;
  const words: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest) { words.push(a); continue; }
    if (a === "--") { rest = true; continue; }
    const f = FLAGS[a];
    if (f === undefined && /^-[jpfdmn]{2,}$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === "j") json = true;
        else if (c === "p") { pretty = true; json = true; }
        else if (c === "f") bpffs = true;
      }
      continue;
    }
    if (f === "json") json = true;
    else if (f === "pretty") { pretty = true; json = true; }
    else if (f === "bpffs") bpffs = true;
    else if (f === undefined) words.push(a);
  }
  return { json, pretty, bpffs, words };
}

/** Why kernel listings cannot run here (non-Linux, no koffi, not root), or undefined. */
export function listingUnavailable(): string | undefined {
  const why = nativeUnavailable();
  if (why !== undefined) return why;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "reading kernel BPF objects needs root (CAP_SYS_ADMIN/CAP_BPF); try sudo";
  }
  return undefined;
}

/** Writes a ToolOutput and returns its exit code. */
export function emit(o: ToolOutput): number {
  if (o.stdout) process.stdout.write(o.stdout);
  if (o.stderr) process.stderr.write(o.stderr);
  return o.code;
}
