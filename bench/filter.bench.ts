// Offline filtering speed: packets per second of `bpfkit filter -r FILE -w OUT EXPR` (the command run in process:
// read the capture, compile, filter, write the matches; Node's start-up is not counted, tcpdump's process start is) against `tcpdump -r FILE -w /dev/null EXPR` on the same generated capture,
// for a few filters, in the same run. The capture is generated in a temporary directory and deleted afterwards.
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
async function bpfkitRun(file: string, out: string, expr: string): Promise<number> {
  const write = process.stderr.write.bind(process.stderr);
  let line = "";
  process.stderr.write = ((chunk: string) => { line += chunk; return true; }) as typeof process.stderr.write;
  try {
    await filter(["-r", file, "-w", out, expr]);
  } finally {
    process.stderr.write = write;
  }
  return Number(/^(\d+) packets matched/.exec(line)?.[1] ?? NaN);
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-filter-bench-"));
  try {
    const file = join(dir, "bench.pcap");
    writeFileSync(file, generate(PACKETS));
    const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
    console.log(`filter: ${PACKETS} packets, offline filtering with -w (packets/second, higher is better)`);
    // Warm the reader and the record loop once (tcpdump is compiled ahead of time; our loop needs the JIT).
    await bpfkitRun(file, join(dir, "warm.pcap"), "ip or ip6");
    for (const expr of FILTERS) {
      // best of 3 runs for both tools: the machine is shared, and the first run includes JIT warm-up
      let best = Infinity;
      let matched = 0;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        matched = await bpfkitRun(file, join(dir, "out.pcap"), expr);
        best = Math.min(best, performance.now() - t);
      }
      const ours = PACKETS / (best / 1000);
      let line = `  ${expr.padEnd(52)} bpfkit ${Math.round(ours).toLocaleString("en-US").padStart(11)} pkt/s (${matched} matched)`;
      if (haveTcpdump) {
        let bestT = Infinity;
        let r = spawnSync("true", { encoding: "utf8" });
        for (let k = 0; k < 3; k++) {
          const t = performance.now();
          r = spawnSync("tcpdump", ["-r", file, "-w", "/dev/null", "--", expr], { encoding: "utf8" });
          bestT = Math.min(bestT, performance.now() - t);
        }
        const theirs = PACKETS / (bestT / 1000);
        line += r.status === 0
          ? `  tcpdump ${Math.round(theirs).toLocaleString("en-US").padStart(11)} pkt/s  ratio ${(ours / theirs).toFixed(2)}x`
          : `  tcpdump failed: ${r.stderr.trim()}`;
      } else line += "  (tcpdump not installed: no comparison)";
      console.log(line);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
