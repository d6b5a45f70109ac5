// `bpfkit trace`: bpftrace's command line — `-e 'PROGRAM'` or `FILE.bt`, `-l [PATTERN]`, `-c CMD`, `-p PID`,
// `-f text|json`, `-B line|full|none`, `-v`, `-d`, `--unsafe`, positional parameters after the script. On the real
// kernel when bpf() is usable (root on Linux), else — or with `--vm` — on bpfkit's VM, `--replay FILE` firing its events.
import { readFileSync } from "node:fs";

const USAGE = `USAGE:
    bpfkit trace [options] filename
    bpfkit trace [options] - <stdin input>
    bpfkit trace [options] -e 'program'

OPTIONS:
    -B MODE        output buffering mode ('full', 'none')
    -f FORMAT      output format ('text', 'json')
    -e 'program'   execute this program
    -l [search]    list probes
    -p PID         enable USDT probes on PID
    -c 'CMD'       run CMD and enable USDT probes on resulting process
    --unsafe       allow unsafe builtin functions
    -d             debug info dry run
    -v             verbose messages
    --vm           run on bpfkit's VM (the default when bpf() is unusable: not root, not Linux)
    --replay FILE  on the VM: fire the tracepoint events of FILE (JSON lines, as bpfkit exporter --vm.replay reads)`;

export default async function trace(args: string[]): Promise<number> {
  let program: string | undefined, file: string | undefined, cmd: string | undefined, pid: number | undefined;
  let mode: "text" | "json" = "text", list = false, listPattern: string | undefined;
  let verbose = false, debug = false, unsafe = false, vm = false, replayFile: string | undefined;
  const params: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`option '${a}' requires an argument`);
      return v;
    };
    if (a === "-e") program = val();
    else if (a === "-c") cmd = val();
    else if (a === "-p") pid = Number(val());
    else if (a === "-f") {
      const f = val();
      if (f !== "text" && f !== "json") { console.error(`ERROR: Invalid output format "${f}"\nValid formats: 'text', 'json'`); return 1; }
      mode = f;
    } else if (a === "-B") val();
    else if (a === "-l") { list = true; if (args[i + 1] !== undefined && !args[i + 1]!.startsWith("-")) listPattern = args[++i]; }
    else if (a === "-v") verbose = true;
    else if (a === "-d" || a === "-dd") debug = true;
    else if (a === "--unsafe") unsafe = true;
    else if (a === "--vm") vm = true;
    else if (a === "--replay") replayFile = val();
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else if (a.startsWith("-") && a !== "-") { console.error(`bpfkit trace: unknown option '${a}'\n${USAGE}`); return 1; }
    else if (program === undefined && file === undefined && !list) file = a;
    else params.push(a);
  }
  const { nativeUnavailable } = await import("../kernel/libc.ts");
  if (list) {
    if (program !== undefined) listPattern = program;
    if (replayFile !== undefined) vm = true;
    if (!vm) {
      const why = nativeUnavailable() ?? (process.getuid?.() === 0 ? undefined : "not running as root");
      if (why) { console.error(`bpfkit trace: bpf() is unusable here (${why.replace(/\.$/, "")}); listing bpfkit's VM probes`); vm = true; }
    }
    const { listProbes } = await import("../kernel/trace.ts");
    // the VM lists its own attach points: the tracepoints it has formats for (usdt:node:CHANNEL is any channel name)
    const env = vm ? (await import("../node/trace-vm.ts")).vmProbeEnv() : undefined;
    let found: string[];
    try { found = listProbes(listPattern, env); } catch (e) { console.error((e as Error).message); return 1; }
    for (const p of found) console.log(p);
    return 0;
  }
  let source: string, filename: string;
  if (program !== undefined) { source = program; filename = "stdin"; }
  else if (file !== undefined) {
    try { source = readFileSync(file === "-" ? 0 : file, "utf8"); } catch (e) { console.error(`ERROR: failed to open file '${file}': ${(e as Error).message}`); return 1; }
    filename = file === "-" ? "stdin" : file;
  } else { console.error(`${USAGE}\nERROR: No program specified`); return 1; }
  if (replayFile !== undefined) vm = true;
  if (!vm && !debug) {
    const why = nativeUnavailable() ?? (process.getuid?.() === 0 ? undefined : "not running as root");
    if (why) { console.error(`bpfkit trace: bpf() is unusable here (${why.replace(/\.$/, "")}); running on bpfkit's VM`); vm = true; }
  }
  if (vm) {
    if (cmd !== undefined || pid !== undefined) { console.error(`ERROR: -c and -p need the real kernel; bpfkit's VM has no processes to trace`); return 1; }
    const { runVmTrace } = await import("../node/trace-vm.ts");
    return runVmTrace({
      source, filename, mode, replayFile, unsafe, params,
      out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s),
    });
  }
  const { runTrace } = await import("../kernel/trace.ts");
  return runTrace({
    source, filename, mode, cmd, pid, unsafe, params, verbose, debug,
    out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s),
  });
}
