// tcpdump as oracle for the classic interpreter and the capture reader: tcpdump compiles a filter (-ddd), bpfkit runs
// it on every packet of a corpus file, and the packets it accepts must be exactly those `tcpdump -r F -w - EXPR`
// writes (which bpfkit's reader reads back). Skips visibly without tcpdump or the corpus.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileCbpf } from "../../src/cbpf/interp.ts";
import { openCapture } from "../../src/capture/read.ts";
import type { CbpfInsn } from "../../src/isa/cbpf/insn.ts";

const DIR = fileURLToPath(new URL("../../../shared/corpora/pcaps/", import.meta.url));

const CASES: [string, string[]][] = [
  ["tcpdump/dns_tcp.pcap", ["tcp port 53", "tcp[tcpflags] & tcp-syn != 0", "greater 100", "ip src 192.168.1.1"]],
  ["tcpdump/icmpv6.pcap", ["icmp6", "ip6 and len > 100", "ip6[40] == 135", "ip6 protochain 58"]],
  ["tcpdump/ipv6-routing-header.pcap", ["ip6 protochain 6", "ip6 protochain 58", "ip protochain 17"]],
  ["tcpdump/pim-packet-assortment.pcap", ["ip proto 103", "ip[8] < 2", "multicast", "ip[6:2] & 0x1fff != 0"]],
  ["tcpdump/802.1ad_QinQ.pcap", ["vlan", "vlan and vlan", "ether broadcast"]],
  ["tcpdump/arp-oobr.pcap", ["arp", "arp[6:2] = 2", "len <= 60"]],
  ["tcpdump/mptcp-v0.pcap", ["tcp[13] & 8 != 0", "tcp port 80 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)", "ip[2:2] > 100"]],
  ["derived/derived-pcapng-3if-be.pcapng", ["udp", "ip6", "tcp and len > 80"]],
  ["tcpdump/loopback.pcap", ["icmp", "ip host 127.0.0.1"]],
];

function tcpdump(args: string[]): { ok: boolean; out: Buffer; err: string } {
  const r = spawnSync("tcpdump", args, { maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: r.stdout ?? Buffer.alloc(0), err: r.stderr?.toString() ?? String(r.error) };
}

function ddd(text: string): CbpfInsn[] {
  const [n, ...rows] = text.trim().split("\n");
  assert.equal(rows.length, Number(n));
  return rows.map((r) => { const [code, jt, jf, k] = r.split(" ").map(Number) as [number, number, number, number]; return { code, jt, jf, k }; });
}

test("filters compiled by tcpdump select the same packets in bpfkit", (t) => {
  const probe = spawnSync("tcpdump", ["--version"]);
  if (probe.status !== 0 || !existsSync(DIR)) {
    const why = probe.status !== 0 ? "tcpdump not installed" : "pcaps corpus absent";
    console.log(`SKIP cbpf tcpdump oracle: ${why}`);
    t.skip(why);
    return;
  }
  let compared = 0;
  let nonEmpty = 0;
  for (const [file, exprs] of CASES) {
    const path = DIR + file;
    const packets = [...openCapture(new Uint8Array(readFileSync(path))).packets()].map((p) => ({ ...p, data: p.data.slice() }));
    for (const expr of exprs) {
      const compiled = tcpdump(["-r", path, "-ddd", expr]);
      assert.ok(compiled.ok, `${file} ${expr}: ${compiled.err}`);
      const filter = compileCbpf(ddd(compiled.out.toString()), { semantics: "libpcap" }); // what tcpdump -r runs
      const ours = packets.filter((p) => filter(p.data, p.len) !== 0).map((p) => Buffer.from(p.data).toString("hex"));
      const written = tcpdump(["-r", path, "-w", "-", expr]);
      assert.ok(written.ok, `${file} ${expr}: ${written.err}`);
      const theirs = [...openCapture(new Uint8Array(written.out)).packets()].map((p) => Buffer.from(p.data).toString("hex"));
      assert.deepEqual(ours, theirs, `${file}: ${expr}`);
      compared++;
      if (theirs.length > 0 && theirs.length < packets.length) nonEmpty++;
    }
  }
  assert.ok(nonEmpty >= 10, `only ${nonEmpty} filters selected a proper subset`);
  assert.equal(compared, CASES.reduce((n, [, e]) => n + e.length, 0));
});
