// bpfkit's classic → eBPF socket_filter translation (src/cbpf/socket-filter.ts) against the classic semantics: each
// filter is loaded into the kernel (the verifier must accept it) and test-run over corpus frames; the kernel's verdict
// must equal bpfkit's classic interpreter's. Needs root and bpf(); skips visibly otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileFilter } from "../../src/filter/index.ts";
import { cbpfToSocketFilter, runCbpf } from "../../src/cbpf/index.ts";
import { readCapture } from "../../src/capture/index.ts";
import { corpusFiles } from "./tcpdump-diff.ts";

const EXPRS = [
  "tcp port 80", "udp", "ip[2:2] > 40", "tcp[tcpflags] & tcp-syn != 0", "vlan", "len > 100", "ip6 and tcp",
  "ether[0] & 1 = 0", "net 10.0.0.0/8", "portrange 1-1000", "ip proto 47 or (udp and port 53)", "arp or icmp",
  "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "ip[0] & 0xf != 5", "ether multicast", "",
];

test("classic filters as eBPF socket_filter programs: the kernel's verdicts equal the classic interpreter's", async (t) => {
  const k = await import("../../src/kernel/index.ts");
  const why = process.getuid?.() !== 0 ? "needs root" : k.nativeUnavailable();
  if (why !== undefined) { console.log(`SKIP socket filter translation: ${why}`); t.skip(why); return; }
  const frames: Uint8Array[] = [];
  for (const f of corpusFiles().filter((f) => /dns_udp|vxlan|mpls|IGMP_V1|icmpv6|arp-oobr|mptcp-v0|802.1ad/.test(f))) {
    let n = 0;
    try {
      // whole frames test-run accepts (it builds an skb in one page)
      for (const p of readCapture(readFileSync(f))) { if (n++ >= 40) break; if (p.data.length === p.len && p.len >= 14 && p.len <= 1500) frames.push(p.data); }
    } catch { /* a capture bpfkit cannot read: skip it */ }
  }
  assert.ok(frames.length > 20, "frames from the corpus");
  for (const expr of EXPRS) {
    const insns = compileFilter(expr, { linktype: "EN10MB", snaplen: 262144 }).insns;
    const ebpf = cbpfToSocketFilter(insns);
    assert.ok(ebpf !== null, expr);
    const { fd } = k.progLoad({ progType: 1, insns: ebpf!, license: "GPL", name: "sockfilt_test" });
    try {
      for (const data of frames) {
        // test-run pulls an Ethernet header off before the filter runs: a dummy one goes first
        const dataIn = new Uint8Array(14 + data.length);
        dataIn.set([0x08, 0x00], 12);
        dataIn.set(data, 14);
        const got = k.progTestRun(fd, { dataIn }).retval;
        assert.equal(got, runCbpf(insns, data, data.length), `${expr}: verdict on a ${data.length}-byte frame`);
      }
    } finally {
      k.closeFd(fd);
    }
  }
});
