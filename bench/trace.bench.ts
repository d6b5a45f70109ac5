// The tracer's speed: events/s through count() and hist() programs on bpfkit's VM (interpreter and JIT from this
// thread, interpreter on 1 and 2 worker-thread CPUs), next to the per-event overhead the same scripts add to getppid() on Linux under
// Debian's bpftrace and under `bpfkit trace` (the kernel runs both programs; the figure is the cost of each), measured
// in the same run. The Linux columns need root, bpftrace and perl.
import { performance } from "node:perf_hooks";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { compileScript } from "../src/trace/script.ts";
import { VmTrace } from "../src/trace/vm-backend.ts";
import { nativeUnavailable } from "../src/kernel/libc.ts";
import { deterministicEnv } from "../src/helpers/env.ts";

const FORMAT = `name: sys_enter_getppid
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
`;
const env = { tracepoints: () => ["syscalls:sys_enter_getppid"], tracepointFormat: () => FORMAT };
const SCRIPTS: [string, string][] = [
  ["count()", `tracepoint:syscalls:sys_enter_getppid /comm == "tracebench"/ { @c = count(); }`],
  ["hist()", `tracepoint:syscalls:sys_enter_getppid /comm == "tracebench"/ { @h = hist(nsecs & 0xffff); }`],
];

function vmEventsPerSec(script: string, cpus: number, engine: "interp" | "jit"): number {
  const c = compileScript(script, { env, ncpus: cpus });
  const vm = new VmTrace(c, { cpus, engine, env: deterministicEnv({ comm: "tracebench" }) });
  const ctx = new Uint8Array(16);
  const n = 20000;
  for (let i = 0; i < 10000; i++) vm.fire(0, ctx, i % cpus);
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) vm.fire(0, ctx, i % cpus);
    best = Math.max(best, n / ((performance.now() - t) / 1000));
  }
  return best;
}

const CALLS = 300000;
function workloadNs(): number {
  const r = spawnSync("perl", ["-MTime::HiRes=time", "-e", `$0 = "tracebench"; my $t = time; getppid() for 1..${CALLS}; print time - $t;`], { encoding: "utf8" });
  return (Number(r.stdout) * 1e9) / CALLS;
}

async function underBpftrace(script: string): Promise<number> {
  const p = spawn("bpftrace", ["-e", script], { stdio: ["ignore", "pipe", "ignore"] });
  await new Promise<void>((res) => p.stdout.on("data", (d: Buffer) => { if (d.toString().includes("Attaching")) res(); }));
  await new Promise((r) => setTimeout(r, 300));
  const ns = workloadNs();
  p.kill("SIGINT");
  await new Promise((r) => p.on("exit", r));
  return ns;
}

async function underBpfkit(script: string): Promise<number> {
  const { runTrace } = await import("../src/kernel/trace.ts");
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  let attached!: () => void;
  const ready = new Promise<void>((r) => { attached = r; });
  const run = runTrace({ source: script, filename: "stdin", out: (s) => { if (s.startsWith("Attaching")) attached(); }, err: () => {}, stop: stopped, noExitDump: true });
  await ready;
  await new Promise((r) => setTimeout(r, 300));
  const ns = workloadNs();
  stop();
  await run;
  return ns;
}

function linuxMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const n = nativeUnavailable();
  if (n) return n;
  for (const t of ["bpftrace", "perl"]) { try { execFileSync("which", [t], { stdio: "ignore" }); } catch { return `${t} not installed`; } }
  return undefined;
}

async function workerEventsPerSec(script: string, cpus: number): Promise<number> {
  const { AddressSpace } = await import("../src/vm/index.ts");
  const { CpuPool } = await import("../src/node/cpu-pool.ts");
  const space = new AddressSpace({ shared: true });
  const vm = new VmTrace(compileScript(script.replace(/\/comm == "tracebench"\/ /, ""), { env, ncpus: cpus }), { cpus, space });
  const pool = await CpuPool.start(space, { nCpus: cpus });
  try {
    const each = 100000;
    await pool.fire(vm.program(0), { repeat: 10000 });
    const t = performance.now();
    await pool.fire(vm.program(0), { repeat: each });
    return (cpus * each) / ((performance.now() - t) / 1000);
  } finally {
    await pool.close();
  }
}

export async function main(): Promise<void> {
  console.log("bpfkit VM, events/s (fired from this thread)   interp 1 CPU   jit 1 CPU   worker CPUs x1   worker CPUs x2");
  for (const [name, s] of SCRIPTS) {
    const cols = [vmEventsPerSec(s, 1, "interp"), vmEventsPerSec(s, 1, "jit"), await workerEventsPerSec(s, 1), await workerEventsPerSec(s, 2)];
    console.log(`  ${name.padEnd(44)}${cols.map((x, i) => Math.round(x).toString().padStart([14, 12, 17, 17][i]!)).join("")}`);
  }
  console.log("  (this thread: one perf-buffer drain per event; worker CPUs: the program alone, no predicate, repeat on every CPU)");
  const why = linuxMissing();
  if (why) { console.log(`Linux per-event overhead: skipped (${why})`); return; }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  const base = median([workloadNs(), workloadNs(), workloadNs()]);
  console.log(`Linux getppid() ${base.toFixed(0)} ns untraced; added ns/event (median of 3) bpftrace   bpfkit trace   ratio`);
  for (const [name, s] of SCRIPTS) {
    const bts: number[] = [], bks: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const b = workloadNs();
      bts.push((await underBpftrace(s)) - b);
      bks.push((await underBpfkit(s)) - b);
    }
    const bt = median(bts), bk = median(bks);
    console.log(`  ${name.padEnd(52)}${bt.toFixed(0).padStart(8)}  ${bk.toFixed(0).padStart(12)}   ${(bk / bt).toFixed(2).padStart(5)}x`);
  }
  console.log("  (the kernel runs both tools' programs; the figure is the time each adds to one getppid() call)");
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
