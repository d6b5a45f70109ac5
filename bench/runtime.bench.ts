// The runtime's Backend surface: the same user-space map commands through the VM (System) and through Linux's bpf()
// (LinuxBackend), both via the Backend interface, in ns per operation; and events per second through a map-updating
// tracepoint program fired on the VM (one CPU, the calling thread), next to BPF_PROG_TEST_RUN of the same program
// in the kernel (its per-run duration). Linux columns need root and bpf().
import { System, fireTracepoint, type Backend } from "../src/runtime/index.ts";
import { accumulateInsns } from "../src/runtime/programs.test-util.ts";
import { kernelReady, time as timeOp } from "./maps.bench.ts";
import { linux } from "../src/kernel/backend.ts";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseBtf } from "../src/btf/parse.ts";
import { openObject } from "../src/runtime/index.ts";
import { buildOwnCorpus } from "../test/fixtures/c/build.ts";

const N = 100_000;
const time = (f: (i: number) => void, n = N): number => timeOp(f, n);

const u32 = (n: number) => new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]);

/** A program counting events in array[0]. */
const counter = (b: Backend, mapFd: number, progType: number): number =>
  b.progLoad({ progType, insns: accumulateInsns(mapFd), license: "GPL" }).fd;

export async function main(): Promise<void> {
  const why = kernelReady();
  const vm = new System();
  const backends: [string, Backend | undefined][] = [["VM", vm], ["Linux", why ? undefined : linux]];
  const value = new Uint8Array(8).fill(7), out = new Uint8Array(8), next = new Uint8Array(4);
  const keys = Array.from({ length: 8192 }, (_, i) => u32(i % 10000));
  console.log("Backend map commands, ns/op        VM (System)   Linux bpf()   ratio");
  for (const [name, type] of [["hash", 1], ["array", 2]] as const) {
    const fds = backends.map(([, b]) => b?.mapCreate({ mapType: type, keySize: 4, valueSize: 8, maxEntries: 10240 }));
    const ops: [string, (b: Backend, fd: number, i: number) => void][] = [
      ["update", (b, fd, i) => b.mapUpdateElem(fd, keys[i & 8191]!, value)],
      ["lookup", (b, fd, i) => b.mapLookupElem(fd, keys[i & 8191]!, out)],
      ["get_next_key", (b, fd, i) => b.mapGetNextKey(fd, keys[i & 8191]!, next)],
    ];
    for (const [op, f] of ops) {
      const t = backends.map(([, b], k) => (b ? time((i) => f(b, fds[k]!, i)) : NaN));
      console.log(`${`${name} ${op}`.padEnd(34)} ${t[0]!.toFixed(0).padStart(10)} ${why ? "           -" : t[1]!.toFixed(0).padStart(13)} ${why ? "" : (t[0]! / t[1]!).toFixed(2).padStart(7)}`);
    }
    backends.forEach(([, b], k) => { if (b && fds[k] !== undefined) b.close(fds[k]!); });
  }
  // events through a map-updating program
  const m = vm.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
  const p = counter(vm, m, 5);
  vm.attach(p, { kind: "tracepoint", category: "sched", name: "sched_switch" });
  const ev = { category: "sched", name: "sched_switch", values: { next_pid: 1 } };
  const perEvent = time(() => fireTracepoint(vm, ev), 50_000);
  let kernelText = "kernel -";
  if (!why) {
    const km = linux.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
    const kp = counter(linux, km, 1); // socket filter: test-runnable, same body
    const r = linux.progTestRun(kp, { dataIn: new Uint8Array(64), repeat: 1_000_000 });
    kernelText = `kernel (test_run, JIT) ${r.duration} ns/run = ${(1e9 / Math.max(1, r.duration) / 1e6).toFixed(1)}M/s | ratio ${(perEvent / Math.max(1, r.duration)).toFixed(1)}x`;
    linux.close(kp);
    linux.close(km);
  }
  console.log(`\ntracepoint events through a counting program, 1 CPU: VM ${perEvent.toFixed(0)} ns/event = ${(1e9 / perEvent / 1e6).toFixed(2)}M events/s | ${kernelText}`);
  kfuncLoop(why);
  if (why) console.log(`(Linux columns skipped: ${why})`);
}

/** A bpf_for loop (10 iterations: bpf_iter_num_new/next/destroy kfunc calls) per run, VM engines next to the kernel. */
function kfuncLoop(why: string | undefined): void {
  const built = buildOwnCorpus(fileURLToPath(new URL("../test/fixtures/verifier/kfunc/", import.meta.url)));
  const btf = existsSync("/sys/kernel/btf/vmlinux") ? parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))) : undefined;
  if (typeof built === "string" || !btf) { console.log(`kfunc loop: skipped (${typeof built === "string" ? built : "no vmlinux BTF"})`); return; }
  const bytes = new Uint8Array(readFileSync(built[0]!.path));
  const runs: [string, Backend | undefined][] = [
    ["VM jit", new System({ kernelBtf: btf })], ["VM interp", new System({ kernelBtf: btf, engine: "interp" })], ["Linux", why ? undefined : linux],
  ];
  const ns: string[] = [];
  const dur = new Map<string, number>();
  for (const [name, b] of runs) {
    if (!b) continue;
    const o = openObject(b, bytes, { programs: ["iter_sum"] });
    const p = o.programs.get("iter_sum")!;
    p.testRun(new Uint8Array(64), { repeat: 1000 });
    const d = p.testRun(new Uint8Array(64), { repeat: 20_000 }).duration;
    o.close();
    dur.set(name, d);
    ns.push(`${name} ${d} ns/run`);
  }
  const k = dur.get("Linux");
  const ratios = k === undefined ? "" : ` | VM jit ÷ kernel ${(dur.get("VM jit")! / Math.max(1, k)).toFixed(0)}x, interp ÷ kernel ${(dur.get("VM interp")! / Math.max(1, k)).toFixed(0)}x`;
  console.log(`kfunc loop (bpf_for over 10 numbers, test_run): ${ns.join(", ")}${ratios}`);
}
