// `bpfkit tcpdump` against tcpdump, whole process (Node's start-up and tsx included), in the same run: reading a
// generated capture and printing every packet (-nn, output to /dev/null), and copying the matches of a filter to a
// file (-w). Best of 3 wall-clock runs each, as ratios (above 1 means bpfkit is faster), and with /usr/bin/time the
// best CPU time (user + system) of the same runs.
import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { generate } from "./filter.bench.ts";

const PACKETS = 200_000;
/** -w moves bytes without printing: a larger capture, so that per-packet costs and not Node's start-up decide. */
const W_PACKETS = 2_000_000;
const BIN = join(import.meta.dirname, "..", "bin", "tcpdump.mjs");

/** /usr/bin/time, when installed, also gives each run's CPU time (user + system): steadier than wall time on a loaded machine. */
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

function best(cmd: string, args: string[]): { ms: number; cpu: number; status: number | null; stderr: string } {
  let ms = Infinity;
  let cpu = Infinity;
  let status: number | null = null;
  let stderr = "";
  for (let i = 0; i < 3; i++) {
    const devnull = openSync("/dev/null", "w");
    const t = performance.now();
    const r = TIME !== null
      ? spawnSync(TIME, ["-f", "cpu %U %S", cmd, ...args], { stdio: ["ignore", devnull, "pipe"], encoding: "utf8", env: { ...process.env, TZ: "UTC" } })
      : spawnSync(cmd, args, { stdio: ["ignore", devnull, "pipe"], encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    ms = Math.min(ms, performance.now() - t);
    closeSync(devnull);
    status = r.status;
    stderr = r.stderr;
    const m = /cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr);
    if (m) {
      cpu = Math.min(cpu, 1000 * (Number(m[1]) + Number(m[2])));
      stderr = r.stderr.slice(0, m.index);
    }
  }
  return { ms, cpu, status, stderr };
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-bench-"));
  try {
    const file = join(dir, "bench.pcap");
    writeFileSync(file, generate(PACKETS));
    const big = join(dir, "big.pcap");
    writeFileSync(big, generate(W_PACKETS));
    const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
    console.log(`tcpdump: ${PACKETS} packets, whole process, best of 3 (ms, lower is better; ratio = tcpdump / bpfkit)`);
    const cases: [string, string[]][] = [
      ["-r F -nn (print to /dev/null)", ["-nn", "-r", file]],
      // -S: absolute sequence numbers, no conversation table (tcpdump's is a chained hash that the generated
      // capture's many conversations make slow; this line compares the printers alone)
      ["-r F -nn -S (print to /dev/null)", ["-nn", "-S", "-r", file]],
      ["-r F -nn -v (print to /dev/null)", ["-nn", "-v", "-r", file]],
      ["-r F -w OUT tcp port 80", ["-r", file, "-w", join(dir, "out.pcap"), "tcp port 80"]],
      ["-r F -w OUT (every packet)", ["-r", file, "-w", join(dir, "all.pcap")]],
      [`-r BIG -w /dev/null tcp port 80 (${W_PACKETS / 1e6}M)`, ["-r", big, "-w", "/dev/null", "tcp port 80"]],
      [`-r BIG -w /dev/null (every packet, ${W_PACKETS / 1e6}M)`, ["-r", big, "-w", "/dev/null"]],
    ];
    for (const [name, args] of cases) {
      const ours = best(process.execPath, [BIN, ...args]);
      let line = `  ${name.padEnd(36)} bpfkit ${ours.ms.toFixed(0).padStart(7)} ms`;
      if (ours.status !== 0) line += ` (exit ${ours.status}: ${ours.stderr.trim().split("\n").pop()})`;
      if (haveTcpdump) {
        const theirs = best("tcpdump", args);
        line += `  tcpdump ${theirs.ms.toFixed(0).padStart(7)} ms  ratio ${(theirs.ms / ours.ms).toFixed(2)}x`;
        if (Number.isFinite(ours.cpu) && Number.isFinite(theirs.cpu)) {
          line += ` | cpu bpfkit ${ours.cpu.toFixed(0)} ms tcpdump ${theirs.cpu.toFixed(0)} ms ratio ${(theirs.cpu / Math.max(ours.cpu, 1)).toFixed(2)}x`;
        }
      } else line += "  (tcpdump not installed: no comparison)";
      console.log(line);
    }
    await socketFilters();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Live capture's filter attached as the classic program (SO_ATTACH_FILTER: the kernel converts it to eBPF and JITs
 * it) or as bpfkit's conversion loaded through bpf() (SO_ATTACH_BPF, BPFKIT_SOCKET_FILTER=ebpf): the cost of opening
 * and attaching each way (best of 20), and the converted program's cost per packet in the kernel (BPF_PROG_TEST_RUN,
 * 1M runs; the classic program, converted and JITed inside the kernel, cannot be test-run).
 */
export async function socketFilters(): Promise<void> {
  const { nativeUnavailable } = await import("../src/kernel/index.ts");
  const why = process.getuid?.() !== 0 ? "needs root" : nativeUnavailable();
  if (why !== undefined) { console.log(`  socket filter attach: SKIP (${why})`); return; }
  const k = await import("../src/kernel/index.ts");
  const { compileFilter } = await import("../src/filter/index.ts");
  const { cbpfToSocketFilter } = await import("../src/cbpf/index.ts");
  const { encodeCbpf } = await import("../src/isa/cbpf/insn.ts");
  const { loadSocketFilter } = await import("../src/node/live.ts");
  const insns = compileFilter("tcp port 80", { linktype: "EN10MB", snaplen: 262144 }).insns;
  const bytes = encodeCbpf(insns);
  const time = (f: () => void): number => {
    let ms = Infinity;
    for (let i = 0; i < 20; i++) { const t = performance.now(); f(); ms = Math.min(ms, performance.now() - t); }
    return ms;
  };
  const classic = time(() => new k.PacketSocket(1, bytes, 262144, false).close());
  let ebpfMs = Infinity;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const prog = (await loadSocketFilter(insns))!;
    new k.PacketSocket(1, prog, 262144, false).close();
    prog.close();
    ebpfMs = Math.min(ebpfMs, performance.now() - t);
  }
  console.log(`  socket filter attach (tcp port 80)    classic ${(classic * 1000).toFixed(0)} us  eBPF via bpf() ${(ebpfMs * 1000).toFixed(0)} us  ratio ${(ebpfMs / classic).toFixed(2)}x`);
  const { fd } = k.progLoad({ progType: 1, insns: cbpfToSocketFilter(insns)!, license: "GPL", name: "bench_sockfilt" });
  try {
    // test-run pulls an Ethernet header off the data before a socket filter runs: a dummy one goes first
    const frame = (dport: number): Uint8Array => {
      const b = new Uint8Array(14 + 64);
      b.set([0x08, 0x00], 12); b.set([0x08, 0x00], 26); b.set([0x45, 0, 0, 50, 0, 0, 0, 0, 64, 6], 28);
      b.set([10, 0, 0, 1, 10, 0, 0, 2], 40); b.set([0x30, 0x39, dport >> 8, dport & 0xff], 48);
      return b;
    };
    const runs = [["match", frame(80)], ["no match", frame(443)]] as const;
    const text = runs.map(([name, data]) => `${name} ${k.progTestRun(fd, { dataIn: data, repeat: 1_000_000 }).duration} ns`).join(", ");
    console.log(`  socket filter in the kernel per packet (converted eBPF, JIT): ${text}`);
  } finally {
    k.closeFd(fd);
  }
}
