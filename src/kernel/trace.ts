// `bpfkit trace` on Linux: compiles a bpftrace script (src/trace), creates its maps and loads its programs through
// bpf(), runs BEGIN with BPF_PROG_TEST_RUN on a raw tracepoint program (as bpftrace 0.17 does), attaches the rest
// (tracepoints, raw tracepoints, uprobes, perf timers and software events), starts the -c child, prints perf-buffer
// records as they arrive, and at the end runs END and prints every map the way bpftrace does.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { execSync, spawn, type ChildProcess } from "node:child_process";
import { delimiter } from "node:path";
import {
  compileScript, decodeRecord, formatErrors, formatMap, attachedMessage, printableMaps, formatDiagnostic,
  type CompiledScript, type MapLayout, type OutputMode, type ProbeEnv, type RawEntry,
} from "../trace/index.ts";
import { closeFd, linkCreate, progLoad, progTestRun } from "./bpf.ts";
import { clockGettime, KernelError, possibleCpus } from "./libc.ts";
import { progTypeId } from "./names.ts";
import { attachRawTracepoint, attachTracepoint, attachUprobe, createKernelMap, resolveMapIndices, type Attachment } from "./loader.ts";
import { openPerfEvent, PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, tracefsRoot } from "./perf.ts";
import { PerfBufferReader } from "./perfbuf.ts";
import { elfFunctionNames } from "./elf-symbol.ts";
import type { KernelMap } from "./map-access.ts";
import { kernelSymbol, linuxResolver, userSymbol } from "./trace-symbols.ts";
import { LinuxBackend } from "./backend.ts";

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
    resolveBinary(name) {
      for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
      return undefined;
    },
    kernelSymbol, userSymbol, btf: () => new LinuxBackend().kernelBtf(),
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

const BPF_PERF_EVENT = 41;
const SW_CONFIG: Record<string, number> = {
  "cpu-clock": 0, cpu: 0, "task-clock": 1, "page-faults": 2, faults: 2, "context-switches": 3, cs: 3, "cpu-migrations": 4,
  "minor-faults": 5, "major-faults": 6, "alignment-faults": 7, "emulation-faults": 8, dummy: 9, "bpf-output": 10,
};
const SW_DEFAULT_PERIOD: Record<string, number> = { "cpu-clock": 1000000, cpu: 1000000, "task-clock": 1000000, "page-faults": 100, faults: 100, "context-switches": 1000, cs: 1000, "cpu-migrations": 1, "minor-faults": 100, "major-faults": 1, "alignment-faults": 1, "emulation-faults": 1, dummy: 1, "bpf-output": 1 };
const HW_CONFIG: Record<string, number> = {
  "cpu-cycles": 0, cycles: 0, instructions: 1, "cache-references": 2, "cache-misses": 3, "branch-instructions": 4,
  branches: 4, "branch-misses": 5, "bus-cycles": 6, "frontend-stalls": 7, "backend-stalls": 8, "ref-cycles": 9,
};

function perfLinks(progFd: number, type: number, config: number, period: number, freq: boolean, cpus: readonly number[]): Attachment {
  const fds: number[] = [];
  try {
    for (const cpu of cpus) {
      const pfd = openPerfEvent({ type, config: BigInt(config), samplePeriod: BigInt(period), freq }, -1, cpu);
      fds.push(pfd);
      fds.unshift(linkCreate({ progFd, target: pfd, attachType: BPF_PERF_EVENT }));
    }
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
  let open = true;
  return { kind: "perf_event", fd: fds[0]!, fds, close() { if (open) fds.forEach(closeFd); open = false; } };
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
  if (o.debug) {
    const { disassembleKernel } = await import("../isa/ebpf/index.ts");
    for (const p of script.programs) o.out(`${p.probe.name} (${p.progType}):\n${disassembleKernel(p.insns).join("\n")}\n\n`);
    cleanupChild();
    return 0;
  }
  // kprobes and fentry: this kernel has neither kprobe_events nor fentry permission; bpftrace says so at attach time
  const refused = script.programs.find((p) => ["kprobe", "kretprobe", "fentry", "fexit", "usdt", "watchpoint", "hardware"].includes(p.probe.kind)
    && !(p.probe.kind === "hardware" && existsSync("/sys/bus/event_source/devices/cpu")));

  const maps: KernelMap[] = [];
  const progs: number[] = [];
  const links: Attachment[] = [];
  let reader: PerfBufferReader | undefined;
  const close = () => {
    links.forEach((l) => l.close());
    links.length = 0;
    reader?.close();
    progs.forEach(closeFd);
    maps.forEach((m) => m.close());
  };
  let exitRequested = false, finalize = false;
  const print = (text: string) => o.out(text);
  const entriesOf = (m: KernelMap): RawEntry[] => {
    const out: RawEntry[] = [];
    for (const k of m.keys()) {
      const vs = m.lookupPerCpu(k);
      if (vs) out.push({ key: k, values: vs });
    }
    return out;
  };
  const res = linuxResolver((limit, id) => {
    const m = maps[script.stackMaps.get(limit) ?? -1];
    try { return m?.lookup(new Uint8Array(new Uint32Array([id]).buffer)); } catch { return undefined; }
  }, /\b(kstack|ksym)\b/.test(o.source));
  const printMap = (idx: number, top = 0, div = 0) => {
    const L = script.maps[idx]!;
    print(formatMap(L, entriesOf(maps[idx]!), mode, top, div, res));
  };
  try {
    for (const d of script.mapDecls) {
      maps.push(createKernelMap({ type: d.type, keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.type === "perf_event_array" ? ncpus : d.maxEntries, name: d.name }));
    }
    const [sec, nsec] = clockGettime(1);
    maps[script.startMap]!.update(new Uint8Array(4), new Uint8Array(new BigUint64Array([sec * 1000000000n + nsec]).buffer));
    // bpftrace 0.17 starts a keyless count() map with a zero entry, so it prints "@c: 0" when no event came
    script.maps.forEach((L, i) => {
      if (L.info.keys.length === 0 && L.info.value.k === "agg" && L.info.value.fn === "count") maps[i]!.update(new Uint8Array(L.keySize), new Uint8Array(L.valueSize));
    });
    const fds = maps.map((m) => m.fd);
    for (const p of script.programs) {
      // the verifier gives up with EAGAIN when a signal arrives (the -c child stopping sends SIGCHLD); libbpf retries too
      for (let attempt = 1; ; attempt++) {
        try {
          progs.push(progLoad({ progType: progTypeId(p.progType), insns: resolveMapIndices(p.insns, fds), license: "GPL", name: p.name }).fd);
          break;
        } catch (e) {
          if (!(e instanceof KernelError && e.errno === 11) || attempt >= 5) throw e; // EAGAIN
        }
      }
    }
    reader = new PerfBufferReader(maps[script.perfMap]!.fd, (_cpu, sample) => {
      if (finalize) return;
      const ev = decodeRecord(script, sample, mode, res);
      if (!ev) return;
      switch (ev.kind) {
        case "text": print(ev.text); break;
        case "exit": finalize = true; exitRequested = true; break;
        case "print": printMap(ev.map, ev.top, ev.div); break;
        case "clear": for (const k of [...maps[ev.map]!.keys()]) { try { maps[ev.map]!.delete(k); } catch { /* gone */ } } break;
        case "zero": {
          const m = maps[ev.map]!;
          for (const k of [...m.keys()]) m.update(k, new Uint8Array(m.valueSize));
          break;
        }
        case "time": print(strftime(ev.format, new Date())); break;
        case "system": {
          try { print(execSync(ev.command, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })); } catch { /* bpftrace ignores */ }
          break;
        }
      }
    }, 64);
    print(attachedMessage(script.attachCount, mode));
    if (refused) {
      const k = refused.probe.kind;
      if (k === "kprobe" || k === "kretprobe") {
        if (!existsSync(`${tracefsRoot()}/kprobe_events`)) o.err(`create_probe_event: open(${tracefsRoot()}/kprobe_events): No such file or directory\n`);
      }
      o.err(`ERROR: Error attaching probe: '${refused.probe.name}'\n`);
      cleanupChild();
      return 1;
    }
    const cpus = onlineCpus();
    const begin = script.programs.findIndex((p) => p.probe.kind === "BEGIN");
    if (begin >= 0) progTestRun(progs[begin]!, {});
    script.programs.forEach((p, i) => {
      const fd = progs[i]!;
      const pr = p.probe;
      switch (pr.kind) {
        case "tracepoint": links.push(attachTracepoint(fd, pr.target, pr.func)); break;
        case "rawtracepoint": links.push(attachRawTracepoint(fd, pr.func)); break;
        case "uprobe": case "uretprobe":
          links.push(attachUprobe(fd, pr.target, pr.func, { retprobe: pr.kind === "uretprobe", pid: o.pid })); break;
        case "profile":
          if (pr.target === "hz") links.push(perfLinks(fd, PERF_TYPE_SOFTWARE, 0, pr.freq, true, cpus));
          else links.push(perfLinks(fd, PERF_TYPE_SOFTWARE, 0, pr.freq * (pr.target === "s" ? 1e9 : pr.target === "ms" ? 1e6 : 1e3), false, cpus));
          break;
        case "interval":
          if (pr.target === "hz") links.push(perfLinks(fd, PERF_TYPE_SOFTWARE, 0, pr.freq, true, [0]));
          else links.push(perfLinks(fd, PERF_TYPE_SOFTWARE, 0, pr.freq * (pr.target === "s" ? 1e9 : pr.target === "ms" ? 1e6 : 1e3), false, [0]));
          break;
        case "software":
          links.push(perfLinks(fd, PERF_TYPE_SOFTWARE, SW_CONFIG[pr.target]!, pr.freq || SW_DEFAULT_PERIOD[pr.target]!, false, cpus)); break;
        case "hardware":
          links.push(perfLinks(fd, PERF_TYPE_HARDWARE, HW_CONFIG[pr.target]!, pr.freq || 1000000, false, cpus)); break;
        default: break;
      }
    });
    reader.start();
    child?.resume();
    let stopped = false;
    const stop = () => { stopped = true; };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    void o.stop?.then(stop);
    const pidAlive = () => o.pid === undefined || existsSync(`/proc/${o.pid}`);
    try {
      for (;;) {
        reader.consume();
        if (exitRequested || stopped) break;
        if (child && !child.alive()) break;
        if (!pidAlive()) break;
        await sleep(10);
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    links.forEach((l) => l.close());
    links.length = 0;
    finalize = false;
    const end = script.programs.findIndex((p) => p.probe.kind === "END");
    if (end >= 0) progTestRun(progs[end]!, {});
    reader.consume();
    o.collect?.(script.maps.map((L, i) => ({ name: L.info.name, layout: L, entries: entriesOf(maps[i]!) })));
    if (!o.noExitDump) {
      print("\n\n");
      for (const L of printableMaps(script)) printMap(L.info.index);
    }
    if (o.verbose && child) {
      const code = child.child.exitCode, sig = child.child.signalCode;
      if (sig) print(`Child terminated by signal: ${sig}\n`);
      else if (code !== null) print(`Child exited with code: ${code}\n`);
    }
    return 0;
  } finally {
    cleanupChild();
    close();
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
export function listProbes(pattern: string | undefined): string[] {
  const env = linuxProbeEnv();
  const all = env.tracepoints().map((t) => `tracepoint:${t}`).sort();
  const sw = ["alignment-faults", "bpf-output", "context-switches", "cpu-clock", "cpu-migrations", "dummy", "emulation-faults", "major-faults", "minor-faults", "page-faults", "task-clock"].map((s) => `software:${s}:`);
  const hw = ["backend-stalls", "branch-instructions", "branch-misses", "bus-cycles", "cache-misses", "cache-references", "cpu-cycles", "frontend-stalls", "instructions", "ref-cycles"].map((s) => `hardware:${s}:`);
  const items = [...all, ...sw, ...hw];
  if (!pattern) return items;
  const p = pattern.includes(":") ? pattern : `*${pattern}*`;
  const re = new RegExp("^" + p.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return items.filter((x) => re.test(x) || re.test(x.replace(/^tracepoint:/, "")));
}

