// `bpfkit tcpdump` against tcpdump, whole process (Node's start-up and tsx included), in the same run: reading a
// generated capture and printing every packet (-nn, output to /dev/null), and copying the matches of a filter to a
// file (-w). Best of 3 wall-clock runs each, as ratios (above 1 means bpfkit is faster).
import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { generate } from "./filter.bench.ts";

const PACKETS = 200_000;
/** -w moves bytes without printing: a larger capture, so that per-packet costs and not Node's start-up decide. */
const W_PACKETS = 2_000_000;
const BIN = join(import.meta.dirname, "..", "bin", "tcpdump.mjs");

function best(cmd: string, args: string[]): { ms: number; status: number | null; stderr: string } {
  let ms = Infinity;
  let status: number | null = null;
  let stderr = "";
  for (let i = 0; i < 3; i++) {
    const devnull = openSync("/dev/null", "w");
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: ["ignore", devnull, "pipe"], encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    ms = Math.min(ms, performance.now() - t);
    closeSync(devnull);
    status = r.status;
    stderr = r.stderr;
  }
  return { ms, status, stderr };
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-bench-"));
  try {
    const file = join(dir, "bench.pcap");
    writeFileSync(file, generate(PACKETS));
    const big = join(dir, "big.pcap");
    writeFileSync(big, generate(W_PACKETS));
    const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
    console.log(`tcpdump: ${PACKETS} packets, whole process, best of 3 (ms, lower is better)`);
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
      } else line += "  (tcpdump not installed: no comparison)";
      console.log(line);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
