// The seed's lost-updates demonstration on Linux: `@cpuhash = count(); @hash++;` on syscalls:sys_enter_getppid while
// one busy process per CPU calls getppid() a known number of times. count() lands in a per-CPU map (exact); `@hash++`
// is bpftrace's non-atomic lookup-add-update on one shared hash slot, so concurrent CPUs overwrite each other.
import { spawn } from "node:child_process";
import { runTrace } from "./trace.ts";
import type { RawEntry } from "../trace/index.ts";

export interface LostUpdates {
  readonly cpus: number;
  readonly events: bigint;
  readonly perCpu: bigint;
  readonly hash: bigint;
}

const COMM = "lostupdates";

function sumAll(entries: readonly RawEntry[]): bigint {
  let s = 0n;
  for (const e of entries) for (const v of e.values) s += new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
  return s;
}

/** Runs `workers` perl processes (named `lostupdates`) making `callsEach` getppid() calls each, traced by the script. */
export async function runLostUpdates(workers: number, callsEach: number): Promise<LostUpdates> {
  let perCpu = 0n, hash = 0n;
  // the workers wait for "go" on stdin, so all of them start together once the probes are attached
  const body = `$0 = "${COMM}"; my $go = <STDIN>; getppid() for 1..${callsEach};`;
  const procs: ReturnType<typeof spawn>[] = [];
  const ready = Promise.resolve();
  let release: () => void = () => {};
  const released = new Promise<void>((r) => { release = r; });
  for (let i = 0; i < workers; i++) procs.push(spawn("perl", ["-e", body], { stdio: ["pipe", "ignore", "inherit"] }));
  const done = Promise.all(procs.map((p) => new Promise<void>((r) => p.on("exit", () => r()))));
  await ready;
  const stop = (async () => { await released; await done; await new Promise((r) => setTimeout(r, 50)); })();
  const run = runTrace({
    source: `tracepoint:syscalls:sys_enter_getppid /comm == "${COMM}"/ { @cpuhash = count(); @hash++; }`,
    filename: "stdin", out: () => {}, err: (s) => process.stderr.write(s), stop, noExitDump: true,
    collect(maps) {
      for (const m of maps) {
        if (m.name === "@cpuhash") perCpu = sumAll(m.entries);
        if (m.name === "@hash") hash = sumAll(m.entries);
      }
    },
  });
  // attach happens synchronously inside runTrace before its first await on the event loop; give it a moment
  await new Promise((r) => setTimeout(r, 300));
  for (const p of procs) p.stdin!.end("go\n");
  release();
  await run;
  return { cpus: workers, events: BigInt(workers) * BigInt(callsEach), perCpu, hash };
}

export function formatLostUpdates(r: LostUpdates): string {
  const lost = r.perCpu - r.hash;
  const pct = r.perCpu === 0n ? "0.00" : ((Number(lost) * 100) / Number(r.perCpu)).toFixed(2);
  return [
    `${r.cpus} busy processes, ${r.events} getppid() calls`,
    `${"@cpuhash = count() (per-CPU)".padEnd(34)}${"@hash++ (shared hash)".padEnd(24)}lost updates`,
    `${String(r.perCpu).padEnd(34)}${String(r.hash).padEnd(24)}${lost} (${pct}%)`,
    "",
  ].join("\n");
}
