// `bpfkit trace` on Linux: compiles a bpftrace script (src/trace) against this system's probes (tracefs formats, ELF
// symbols, USDT notes), hands it to the tracer's TraceSession over the Linux backend (maps, programs, BEGIN through
// BPF_PROG_TEST_RUN as bpftrace 0.17 does, attachment of tracepoints, uprobes, usdt, perf timers and counters), starts
// the -c child stopped until the probes are attached, reads the perf buffer until exit, then runs END and prints the
// maps the way bpftrace does.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { BpfError } from "../errors.ts";
import { execSync, spawn, type ChildProcess } from "node:child_process";
import { delimiter } from "node:path";
import {
  compileScript, formatErrors, formatDiagnostic, type CompiledScript, type MapLayout, type OutputMode, type ProbeEnv, type RawEntry,
} from "../trace/index.ts";
import { TraceSession } from "../trace/session.ts";
import { kernelSymbol, linuxResolver, userSymbol } from "./trace-symbols.ts";
import { clockGettime, possibleCpus } from "./libc.ts";
import { tracefsRoot } from "./perf.ts";
import { PerfBufferReader } from "./perfbuf.ts";
import { elfFunctionNames } from "./elf-symbol.ts";
import { linux } from "./backend.ts";
import { readUsdtNotes } from "./usdt.ts";

/** Tracepoints, formats and binaries as the running system has them. */
export function linuxProbeEnv(): ProbeEnv {
  let list: string[] | undefined;
  const root = () => `${tracefsRoot()}/events`;
  return {
    tracepoints() {
      if (!list) {
        list = [];
        for (const c of readdirSync(root())) {
          let names: string[];
          try { names = readdirSync(`${root()}/${c}`); } catch { continue; }
          for (const n of names) if (existsSync(`${root()}/${c}/${n}/format`)) list.push(`${c}:${n}`);
        }
      }
      return list;
    },
    tracepointFormat(c, n) {
      if (!/^[\w.-]+$/.test(c) || !/^[\w.-]+$/.test(n)) return undefined;
      try { return readFileSync(`${root()}/${c}/${n}/format`, "utf8"); } catch { return undefined; }
    },
    symbols(binary) {
      try { return elfFunctionNames(binary); } catch { return []; }
    },
    traceable(func) {
      try { return new RegExp(`^${func.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( |$)`, "m").test(readFileSync(`${tracefsRoot()}/available_filter_functions`, "utf8")); } catch { return false; }
    },
    usdt(binary) { return readUsdtNotes(binary); },
    resolveBinary(name) {
      for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
      return undefined;
    },
    kernelSymbol, userSymbol, btf: () => linux.kernelBtf(),
  };
}

export interface TraceRunOptions {
  readonly source: string;
  /** "stdin" for -e, else the script's path (diagnostics prefix) */
  readonly filename: string;
  readonly mode?: OutputMode;
  readonly cmd?: string;
  readonly pid?: number;
  readonly unsafe?: boolean;
  readonly params?: readonly string[];
  readonly verbose?: boolean;
  /** -d: print the programs instead of running them */
  readonly debug?: boolean;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** resolves when the run should stop (tests); SIGINT/SIGTERM always stop it */
  readonly stop?: Promise<void>;
  /** called once after END with every user map's merged entries (tools read counts this way) */
  readonly collect?: (maps: readonly { readonly name: string; readonly layout: MapLayout; readonly entries: RawEntry[] }[]) => void;
  /** skip the exit dump of the maps */
  readonly noExitDump?: boolean;
}

function onlineCpus(): number[] {
  try {
    const text = readFileSync("/sys/devices/system/cpu/online", "utf8").trim();
    const out: number[] = [];
    for (const part of text.split(",")) {
      const [a, b] = part.split("-").map(Number);
      for (let c = a!; c <= (b ?? a!); c++) out.push(c);
    }
    return out;
  } catch {
    return [0];
  }
}

export const onlineCpuCount = (): number => onlineCpus().length;

/** Starts CMD stopped (a shell that stops itself, then execs), so its pid is known before compiling and it makes no
 * traced system call between resume() and exec, as bpftrace's forked child. */
async function startChild(cmd: string): Promise<{ child: ChildProcess; resume(): void; exited: Promise<void>; alive(): boolean }> {
  const argv = cmd.split(" ").filter((x) => x !== "");
  const child = spawn("/bin/sh", ["-c", 'kill -STOP $$; exec "$@"', "sh", ...argv], { stdio: "inherit" });
  let alive = true;
  const exited = new Promise<void>((res) => child.on("exit", () => { alive = false; res(); }));
  for (let i = 0; i < 500 && alive; i++) {
    let state = "";
    try { state = readFileSync(`/proc/${child.pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] ?? ""; } catch { break; }
    if (state === "T") break;
    await sleep(2);
  }
  return { child, exited, alive: () => alive, resume() { child.kill("SIGCONT"); } };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs a script to completion; returns bpftrace's exit status. */
export async function runTrace(o: TraceRunOptions): Promise<number> {
  const mode = o.mode ?? "text";
  const env = linuxProbeEnv();
  const child = o.cmd ? await startChild(o.cmd) : undefined;
  // a child still stopped before exec only acts on SIGTERM once continued
  const cleanupChild = () => { if (child?.alive()) { child.child.kill("SIGTERM"); child.child.kill("SIGCONT"); } };
  let script: CompiledScript;
  const ncpus = possibleCpus();
  try {
    script = compileScript(o.source, { env, hasChild: child !== undefined, cpid: child?.child.pid, unsafe: o.unsafe, params: o.params, ncpus });
  } catch (e) {
    cleanupChild();
    const text = formatErrors(o.source, o.filename, e);
    if (text !== undefined) { o.err(text); return 1; }
    throw e;
  }
  for (const w of script.warnings) o.err(formatDiagnostic(o.source, o.filename, w));
  if (script.programs.length === 0) {
    cleanupChild();
    o.out("No probes to attach\n");
    return 1;
  }
  if (o.debug) {
    const { disassembleKernel } = await import("../isa/ebpf/index.ts");
    for (const p of script.programs) o.out(`${p.probe.name} (${p.progType}):\n${disassembleKernel(p.insns).join("\n")}\n\n`);
    cleanupChild();
    return 0;
  }
  // kprobes and fentry: this kernel has neither kprobe_events nor fentry permission; bpftrace says so at attach time
  const refused = script.programs.find((p) => ["kprobe", "kretprobe", "fentry", "fexit", "watchpoint", "hardware"].includes(p.probe.kind)
    && !(p.probe.kind === "hardware" && existsSync("/sys/bus/event_source/devices/cpu")));
  let session: TraceSession | undefined;
  try {
    const [sec, nsec] = clockGettime(1);
    // symbols (kallsyms read before the programs load, as bpftrace's cache is), user names, cat()
    const resolver = linuxResolver(/\b(kstack|ksym)\b/.test(o.source));
    session = new TraceSession(linux, script, {
      mode, out: o.out, resolver, startNs: sec * 1000000000n + nsec, pid: o.pid, cpus: onlineCpus(),
      perfBuffer: (fd, onRecord) => new PerfBufferReader(fd, (_cpu, sample) => onRecord(sample), 64),
      time: (fmt) => strftime(fmt, new Date()),
      system: (cmd) => { try { return execSync(cmd, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }); } catch { return ""; } },
    });
    session.attachingMessage();
    if (refused) {
      const k = refused.probe.kind;
      if (k === "kprobe" || k === "kretprobe") {
        if (!existsSync(`${tracefsRoot()}/kprobe_events`)) o.err(`create_probe_event: open(${tracefsRoot()}/kprobe_events): No such file or directory\n`);
      }
      o.err(`ERROR: Error attaching probe: '${refused.probe.name}'\n`);
      return 1;
    }
    session.run("BEGIN");
    try {
      session.attach();
    } catch (e) {
      const probe = (e as { probe?: string }).probe;
      if (probe === undefined) throw e;
      o.err(`ERROR: Error attaching probe: '${probe}'\n`);
      return 1;
    }
    child?.resume();
    let stopped = false;
    const stop = () => { stopped = true; };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    void o.stop?.then(stop);
    const pidAlive = () => o.pid === undefined || existsSync(`/proc/${o.pid}`);
    try {
      for (;;) {
        session.drain();
        if (session.exited || stopped) break;
        if (child && !child.alive()) break;
        if (!pidAlive()) break;
        await sleep(10);
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    session.detach();
    session.run("END");
    const s = session;
    o.collect?.(script.maps.map((L, i) => ({ name: L.info.name, layout: L, entries: s.entries(i) })));
    if (!o.noExitDump) session.exitDump();
    if (o.verbose && child) {
      const code = child.child.exitCode, sig = child.child.signalCode;
      if (sig) o.out(`Child terminated by signal: ${sig}\n`);
      else if (code !== null) o.out(`Child exited with code: ${code}\n`);
    }
    return 0;
  } finally {
    cleanupChild();
    session?.close();
  }
}

function strftime(fmt: string, d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, "0");
  return fmt.replace(/%([HMSdmYyjp%])/g, (_, c: string) => {
    switch (c) {
      case "H": return p2(d.getHours());
      case "M": return p2(d.getMinutes());
      case "S": return p2(d.getSeconds());
      case "d": return p2(d.getDate());
      case "m": return p2(d.getMonth() + 1);
      case "Y": return String(d.getFullYear());
      case "y": return p2(d.getFullYear() % 100);
      case "%": return "%";
      default: return c;
    }
  });
}

/** `-l [PATTERN]`: tracepoints (and BEGIN/END-less providers) as bpftrace lists them. */
/** `-l [PATTERN]`: this kernel's probes (tracefs, perf events, a binary's USDT notes), or with `vmEnv` the VM's
 * tracepoints (bpfkit's VM has no perf events to list; its timers are interval/profile). */
export function listProbes(pattern: string | undefined, vmEnv?: ProbeEnv): string[] {
  const env = vmEnv ?? linuxProbeEnv();
  if (pattern?.startsWith("usdt:") || pattern?.startsWith("U:")) return listUsdt(env, pattern);
  const all = env.tracepoints().map((t) => `tracepoint:${t}`).sort();
  if (vmEnv) return filterProbes(all, pattern);
  const sw = ["alignment-faults", "bpf-output", "context-switches", "cpu-clock", "cpu-migrations", "dummy", "emulation-faults", "major-faults", "minor-faults", "page-faults", "task-clock"].map((s) => `software:${s}:`);
  const hw = ["backend-stalls", "branch-instructions", "branch-misses", "bus-cycles", "cache-misses", "cache-references", "cpu-cycles", "frontend-stalls", "instructions", "ref-cycles"].map((s) => `hardware:${s}:`);
  return filterProbes([...all, ...sw, ...hw], pattern);
}

function filterProbes(items: string[], pattern: string | undefined): string[] {
  if (!pattern) return items;
  const p = pattern.includes(":") ? pattern : `*${pattern}*`;
  const re = new RegExp("^" + p.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return items.filter((x) => re.test(x) || re.test(x.replace(/^tracepoint:/, "")));
}


/** `-l 'usdt:BIN:[PROVIDER:]NAME'`: the binary's USDT notes matching, as usdt:BIN:PROVIDER:NAME, sorted. */
function listUsdt(env: ProbeEnv, pattern: string): string[] {
  const parts = pattern.split(":");
  if (parts.length < 3 || parts.length > 4) {
    throw new BpfError("EINVAL", `stdin:1:1-${pattern.length + 1}: ERROR: usdt probe type requires 2 or 3 arguments\n${pattern}\n${"~".repeat(pattern.length)}`);
  }
  let bin = parts[1]!;
  if (!bin.includes("/")) bin = env.resolveBinary?.(bin) ?? bin;
  const [prov, name] = parts.length === 4 ? [parts[2]!, parts[3]!] : ["*", parts[2]!];
  const glob = (g: string) => new RegExp("^" + g.replace(/[.+^${}()|\\[\]]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  const rp = glob(prov), rn = glob(name);
  const out = new Set<string>();
  for (const n of env.usdt?.(bin) ?? []) if (rp.test(n.provider) && rn.test(n.name)) out.add(`usdt:${bin}:${n.provider}:${n.name}`);
  return [...out].sort();
}
