// bpftool's global options as its getopt_long sees them (GNU permutation: options may follow the subcommand):
// -j/--json, -p/--pretty (implies JSON), -f/--bpffs, -d/--debug, -m/--mapcompat, -n/--nomount, and bpfkit's --vm.
// The rest are words.
import { nativeUnavailable } from "./libc.ts";
import type { ToolOutput } from "./listing.ts";
import type { Backend } from "../runtime/backend.ts";

export interface ToolArgs {
  readonly json: boolean;
  readonly pretty: boolean;
  readonly bpffs: boolean;
  /** --vm: bpfkit's VM (a session kept between commands, src/node/vm-session.ts) instead of the kernel */
  readonly vm: boolean;
  readonly words: string[];
  /** the command word as the user typed it (`s` for show), for bpftool's messages that echo it */
  readonly typed?: string;
  /** the object word as the user typed it (`n` for net), for usage texts that echo it */
  readonly typedObject?: string;
  /** -L/--use-loader (the front door passes it to prog and gen only) */
  readonly useLoader?: boolean;
}

const FLAGS: Record<string, keyof Omit<ToolArgs, "words"> | "ignored"> = {
  "-j": "json", "--json": "json", "-p": "pretty", "--pretty": "pretty", "-f": "bpffs", "--bpffs": "bpffs",
  "-d": "ignored", "--debug": "ignored", "-m": "ignored", "--mapcompat": "ignored", "-n": "ignored", "--nomount": "ignored",
};

/** bpfkit's front door (src/cli/bpftool.ts) passes the command word as typed after this marker. */
export const TYPED = "--bpfkit-typed";
/** ... and the object word as typed, after this one (when it differs from the object's name). */
export const TYPED_OBJECT = "--bpfkit-typed-object";

export function parseToolArgs(args: readonly string[]): ToolArgs {
  let json = false, pretty = false, bpffs = false, vm = false, useLoader = false;
  const words: string[] = [];
  let rest = false;
  let typed: string | undefined, typedObject: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === TYPED && !rest) { typed = args[++i]; continue; }
    if (a === TYPED_OBJECT && !rest) { typedObject = args[++i]; continue; }
    if (rest) { words.push(a); continue; }
    if (a === "--") { rest = true; continue; }
    if (a === "--vm") { vm = true; continue; }
    if (a === "--use-loader") { useLoader = true; continue; }
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
  return { json, pretty, bpffs, vm, words, ...(useLoader ? { useLoader } : {}), ...(typed !== undefined ? { typed } : {}), ...(typedObject !== undefined ? { typedObject } : {}) };
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

/** The backend a listing command reads: with --vm the VM session's System, else the kernel (undefined). */
export async function toolBackend(a: ToolArgs): Promise<{ backend?: Backend; unavailable?: string }> {
  if (a.vm) {
    const { VmSession } = await import("../node/vm-session.ts");
    return { backend: VmSession.open().backend() };
  }
  return { unavailable: listingUnavailable() };
}

/** Writes a ToolOutput and returns its exit code. */
export function emit(o: ToolOutput): number {
  if (o.stdout) process.stdout.write(o.stdout);
  if (o.stderr) process.stderr.write(o.stderr);
  return o.code;
}
