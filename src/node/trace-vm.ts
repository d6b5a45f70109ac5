// `bpfkit trace` on bpfkit's VM (Node edge): compiles the script against the VM's tracepoints (the runtime's bundled
// format files, the host's tracefs where readable), loads it into a VmTrace and lets VmTrace.run drive it: replayed
// events from a --replay file (runtime/attach/replay.ts's JSON lines), or interval/profile ticks in real time until
// exit() or Ctrl-C; then END and the maps, printed as on Linux.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { compileScript, formatDiagnostic, formatErrors, type CompiledScript, type OutputMode, type ProbeEnv } from "../trace/index.ts";
import { VmTrace } from "../trace/vm-backend.ts";
import { BUNDLED_FORMATS } from "../runtime/attach/tracepoint-formats.ts";
import { parseReplay } from "../runtime/attach/replay.ts";

export interface VmTraceRunOptions {
  readonly source: string;
  readonly filename: string;
  readonly mode?: OutputMode;
  readonly replayFile?: string;
  readonly unsafe?: boolean;
  readonly params?: readonly string[];
  readonly cpus?: number;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

/** The VM's tracepoints: the host's format files where tracefs is readable, else the runtime's bundled ones. */
export function vmProbeEnv(): ProbeEnv {
  const host = (c: string, n: string) => {
    if (!/^[\w.-]+$/.test(c) || !/^[\w.-]+$/.test(n)) return undefined;
    try { return readFileSync(`/sys/kernel/tracing/events/${c}/${n}/format`, "utf8"); } catch { return undefined; }
  };
  return {
    tracepoints: () => Object.keys(BUNDLED_FORMATS),
    tracepointFormat: (c, n) => host(c, n) ?? BUNDLED_FORMATS[`${c}:${n}`],
  };
}

/** Runs a script on the VM to completion; returns bpftrace's exit status. */
export async function runVmTrace(o: VmTraceRunOptions): Promise<number> {
  let events;
  if (o.replayFile !== undefined) {
    let text: string;
    try { text = readFileSync(o.replayFile, "utf8"); } catch (e) { o.err(`ERROR: failed to open replay file '${o.replayFile}': ${(e as Error).message}\n`); return 1; }
    try { events = parseReplay(text, o.replayFile); } catch (e) { o.err(`ERROR: ${(e as Error).message}\n`); return 1; }
  }
  const ncpus = o.cpus ?? availableParallelism();
  let script: CompiledScript;
  try {
    script = compileScript(o.source, { env: vmProbeEnv(), unsafe: o.unsafe, params: o.params, ncpus });
  } catch (e) {
    const text = formatErrors(o.source, o.filename, e);
    if (text !== undefined) { o.err(text); return 1; }
    throw e;
  }
  for (const w of script.warnings) o.err(formatDiagnostic(o.source, o.filename, w));
  if (script.programs.length === 0) { o.out("No probes to attach\n"); return 1; }
  let vm: VmTrace;
  try {
    vm = new VmTrace(script, { cpus: ncpus, mode: o.mode, out: o.out });
  } catch (e) {
    const probe = (e as { probe?: string }).probe;
    if (probe === undefined) throw e;
    o.err(`ERROR: Error attaching probe: '${probe}'\n`);
    return 1;
  }
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await vm.run({ events, stop: stopped });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    vm.close();
  }
  return 0;
}
