// Offline filtering speed: packets per second of `bpfkit filter -r FILE -w /dev/null EXPR` on both engines (the command
// run in process: read the capture, compile, filter, write the matches; Node's start-up is not counted, tcpdump's
// process start is) against `tcpdump -r FILE -w /dev/null EXPR` on the same generated capture, for a few filters, in
// the same run. The capture is generated in a temporary directory and deleted afterwards.
import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { writePcap } from "../src/capture/index.ts";
import filter from "../src/cli/filter.ts";

const PACKETS = 400_000;
const FILTERS = ["tcp port 80", "host 10.0.0.7 and udp", "tcp[tcpflags] & tcp-syn != 0 and not net 10.0.0.0/8", "ip6 and udp port 53", "vlan and ip"];

/** A mix of Ethernet frames: IPv4 TCP/UDP, IPv6 UDP, ARP and VLAN-tagged IPv4, with varied addresses and ports. */
export function generate(n: number): Uint8Array {
  let seed = 12345;
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  const packets = [];
  for (let i = 0; i < n; i++) {
    const kind = rnd() % 10;
    const vlan = kind === 9;
    const v6 = kind === 7 || kind === 8;
    const arp = kind === 6;
    const l3 = v6 ? 40 : arp ? 28 : 20;
    const l4 = arp ? 0 : 20;
    const tagLen = vlan ? 4 : 0;
    const pkt = new Uint8Array(14 + tagLen + l3 + l4 + 26);
    const d = new DataView(pkt.buffer);
    for (let j = 0; j < 12; j++) pkt[j] = rnd() & 0xff;
    let o = 12;
    if (vlan) { d.setUint16(o, 0x8100); d.setUint16(o + 2, rnd() & 0xfff); o += 4; }
    d.setUint16(o, v6 ? 0x86dd : arp ? 0x0806 : 0x0800);
    o += 2;
    const proto = kind < 4 ? 6 : 17;
    if (v6) {
      pkt[o] = 0x60; d.setUint16(o + 4, l4 + 26); pkt[o + 6] = proto; pkt[o + 7] = 64;
      for (let j = 8; j < 40; j++) pkt[o + j] = rnd() & 0xff;
    } else if (!arp) {
      pkt[o] = 0x45; d.setUint16(o + 2, l3 + l4 + 26); pkt[o + 8] = 64; pkt[o + 9] = proto;
      d.setUint32(o + 12, (10 << 24) | (rnd() & 0xff)); d.setUint32(o + 16, rnd() % 3 === 0 ? (10 << 24) | 7 : rnd());
    } else {
      d.setUint16(o, 1); d.setUint16(o + 2, 0x0800); pkt[o + 4] = 6; pkt[o + 5] = 4; d.setUint16(o + 6, 1);
    }
    o += l3;
    if (!arp) {
      const ports = [80, 443, 53, 22, 8080];
      d.setUint16(o, ports[rnd() % 5]!); d.setUint16(o + 2, 1024 + (rnd() % 60000));
      if (proto === 6) { pkt[o + 12] = 0x50; pkt[o + 13] = rnd() % 4 === 0 ? 0x02 : 0x10; }
    }
    packets.push({ ts: { sec: 1_700_000_000 + (i >> 10), nsec: (i & 1023) * 1000 }, data: pkt });
  }
  return writePcap(packets, { linktype: 1, snaplen: 262144 });
}

/** `bpfkit filter -r FILE -w OUT EXPR`, in process (its stderr summary line is captured for the match count). */
async function bpfkitRun(file: string, out: string, expr: string, engine: string): Promise<number> {
  const write = process.stderr.write.bind(process.stderr);
  let line = "";
  process.stderr.write = ((chunk: string) => { line += chunk; return true; }) as typeof process.stderr.write;
  try {
    await filter(["-r", file, "-w", out, "--engine", engine, expr]);
  } finally {
    process.stderr.write = write;
  }
  return Number(/^(\d+) packets matched/.exec(line)?.[1] ?? NaN);
}

const RUNS = 5;
const rate = (ms: number): string => Math.round(PACKETS / (ms / 1000)).toLocaleString("en-US").padStart(11);

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-filter-bench-"));
  try {
    const file = join(dir, "bench.pcap");
    writeFileSync(file, generate(PACKETS));
    const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
    console.log(`filter: ${PACKETS} packets, offline filtering with -w /dev/null for both tools (packets/second, higher is better;`);
    console.log(`  best of ${RUNS} interleaved runs each; bpfkit in process (Node's start-up not counted), tcpdump as a process)`);
    if (!haveTcpdump) console.log("  (tcpdump not installed: no comparison)");
    // Warm the reader and the record loop once (tcpdump is compiled ahead of time; our loop needs V8's JIT).
    for (const engine of ["jit", "interp"]) await bpfkitRun(file, "/dev/null", "ip or ip6", engine);
    for (const expr of FILTERS) {
      // interleaved, best of RUNS for each: the machine is shared
      const best = { jit: Infinity, interp: Infinity, tcpdump: Infinity };
      let matched = 0;
      let failed = "";
      for (let r = 0; r < RUNS; r++) {
        for (const engine of ["jit", "interp"] as const) {
          const t = performance.now();
          matched = await bpfkitRun(file, "/dev/null", expr, engine);
          best[engine] = Math.min(best[engine], performance.now() - t);
        }
        if (!haveTcpdump) continue;
        const t = performance.now();
        const res = spawnSync("tcpdump", ["-r", file, "-w", "/dev/null", "--", expr], { encoding: "utf8" });
        best.tcpdump = Math.min(best.tcpdump, performance.now() - t);
        if (res.status !== 0) failed = res.stderr.trim();
      }
      console.log(`  ${expr.padEnd(52)} (${matched} matched)`);
      const vs = (ms: number): string => haveTcpdump && !failed ? `  ${(best.tcpdump / ms).toFixed(2)}x tcpdump` : "";
      console.log(`    bpfkit --engine jit (default) ${rate(best.jit)} pkt/s${vs(best.jit)}`);
      console.log(`    bpfkit --engine interp        ${rate(best.interp)} pkt/s${vs(best.interp)}`);
      if (haveTcpdump) console.log(failed ? `    tcpdump failed: ${failed}` : `    tcpdump -w /dev/null          ${rate(best.tcpdump)} pkt/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
