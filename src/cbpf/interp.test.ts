// Classic interpreter semantics that the kernel's converted programs have.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleCbpf } from "../isa/cbpf/asm.ts";
import { compileCbpf, runCbpf } from "./interp.ts";
import { isBpfError } from "../errors.ts";

const run = (src: string, pkt: number[] = [], meta = {}, len?: number) =>
  runCbpf(assembleCbpf(src), Uint8Array.from(pkt), len ?? pkt.length, meta);

test("division and modulo by X == 0 end the program returning 0", () => {
  assert.equal(run("ld #7\nldx #0\ndiv x\nret #5"), 0);
  assert.equal(run("ld #7\nldx #0\nmod x\nret #5"), 0);
  assert.equal(run("ld #7\nldx #2\ndiv x\nret a"), 3);
  assert.equal(run("ld #7\nldx #4\nmod x\nret a"), 3);
});

test("packet loads are big-endian; out of bounds ends the program returning 0", () => {
  assert.equal(run("ld [0]\nret a", [1, 2, 3, 4]), 0x01020304);
  assert.equal(run("ldh [2]\nret a", [1, 2, 3, 4]), 0x0304);
  assert.equal(run("ld [1]\nret #9", [1, 2, 3, 4]), 0);
  assert.equal(run("ldx #3\nldb [x + 0]\nret a", [1, 2, 3, 4]), 4);
  assert.equal(run("ldx #0xffffffff\nldb [x + 1]\nret a", [9]), 9); // X + k wraps to 0
  assert.equal(run("ldx 4*([0]&0xf)\ntxa\nret a", [0x45]), 20);
});

test("ld #len reads the wire length, loads are bounded by the captured bytes", () => {
  assert.equal(run("ld #len\nret a", [1, 2], {}, 1500), 1500);
  assert.equal(run("ldb [5]\nret #1", [1, 2], {}, 1500), 0);
});

test("loads cross into fragments like skb_copy_bits", () => {
  const meta = { frags: [Uint8Array.from([5, 6]), Uint8Array.from([7, 8, 9])] };
  assert.equal(run("ld [2]\nret a", [1, 2, 3, 4], meta), 0x03040506);
  assert.equal(run("ld [5]\nret a", [1, 2, 3, 4], meta), 0x06070809);
  assert.equal(run("ld [6]\nret a", [1, 2, 3, 4], meta), 0);
});

test("negative offsets read relative to the network and mac headers, within the linear part", () => {
  const pkt = [0, 1, 2, 3, 4, 5, 6, 7];
  assert.equal(run(`ldb [${-0x100000 + 1}]\nret a`, pkt, { networkOffset: 4 }), 5);
  assert.equal(run(`ldb [${-0x200000 + 1}]\nret a`, pkt, { macOffset: 0 }), 1);
  assert.equal(run(`ldb [${-0x100000 + 1}]\nret #3`, pkt, {}), 0); // network header not set
  assert.equal(run(`ldh [${-0x100000 + 3}]\nret #3`, pkt, { networkOffset: 4 }), 0);
});

test("ancillary loads read SkbMeta; ifindex without a device returns A as it stands", () => {
  const meta = { protocol: 0x86dd, pktType: 4, ifindex: 3, hatype: 772, mark: 0xdead, queueMapping: 2, hash: 77,
    cpu: 1, vlanTci: 0x0123, vlanProto: 0x88a8 };
  assert.equal(run("ld proto\nret a", [], meta), 0x86dd);
  assert.equal(run("ld type\nret a", [], meta), 4);
  assert.equal(run("ld ifidx\nret a", [], meta), 3);
  assert.equal(run("ld hatype\nret a", [], meta), 772);
  assert.equal(run("ld mark\nret a", [], meta), 0xdead);
  assert.equal(run("ld queue\nret a", [], meta), 2);
  assert.equal(run("ld rxhash\nret a", [], meta), 77);
  assert.equal(run("ld cpu\nret a", [], meta), 1);
  assert.equal(run("ld vlan_tci\nret a", [], meta), 0x123);
  assert.equal(run("ld vlan_avail\nret a", [], meta), 1);
  assert.equal(run("ld vlan_avail\nret a", [], {}), 0);
  assert.equal(run("ld vlan_tpid\nret a", [], meta), 0x88a8);
  assert.equal(run("ld #42\nld ifidx\nret #0", [], {}), 42);
  assert.equal(run("ld rand\nret a", [], { random: () => 1234 }), 1234);
  assert.equal(run("ld #0x0f\nldx #0xf0\nld [-4056]\nret a"), 0xff); // SKF_AD_ALU_XOR_X
});

test("netlink attribute lookups (SKF_AD_NLATTR / NLATTR_NEST)", () => {
  // attr(len 8, type 1) then attr(len 12, type 2 nested: attr(len 8, type 5))
  const pkt = [8, 0, 1, 0, 0, 0, 0, 0, 12, 0, 2, 0x80, 8, 0, 5, 0, 0, 0, 0, 0];
  assert.equal(run("ld #0\nldx #2\nld nla\nret a", pkt), 8);
  assert.equal(run("ld #0\nldx #9\nld nla\nret a", pkt), 0);
  assert.equal(run("ld #8\nldx #5\nld nlan\nret a", pkt), 12);
});

test("SKF_AD_PAY_OFFSET follows IPv4/IPv6/VLAN to the payload", () => {
  const ipv4Tcp = new Array(14 + 20 + 20).fill(0);
  ipv4Tcp[14] = 0x45; ipv4Tcp[14 + 9] = 6; ipv4Tcp[14 + 20 + 12] = 0x80; // TCP data offset 8 words
  assert.equal(run("ld poff\nret a", ipv4Tcp, { protocol: 0x0800, networkOffset: 14 }), 14 + 20 + 32);
  const ipv6Udp = new Array(14 + 40 + 8).fill(0);
  ipv6Udp[14] = 0x60; ipv6Udp[14 + 6] = 17;
  assert.equal(run("ld poff\nret a", ipv6Udp, { protocol: 0x86dd, networkOffset: 14 }), 14 + 40 + 8);
  assert.equal(run("ld poff\nret a", [1, 2, 3], { protocol: 0x0800, networkOffset: 0 }), 0);
});

test("a compiled filter is reusable and allocation-free across packets", () => {
  const f = compileCbpf(assembleCbpf("ldh [12]\njeq #0x800, yes, no\nyes: ret #-1\nno: ret #0"));
  const ip = new Uint8Array(60); ip[12] = 8;
  const arp = new Uint8Array(60); arp[12] = 8; arp[13] = 6;
  for (let i = 0; i < 1000; i++) {
    assert.equal(f(ip, 60), 0xffffffff);
    assert.equal(f(arp, 60), 0);
  }
});

test("compileCbpf rejects what the kernel checker rejects", () => {
  assert.throws(() => compileCbpf(assembleCbpf("ld M[0]\nret a")), (e) => isBpfError(e) && e.code === "EINVAL");
});

test("libpcap semantics: what tcpdump -r applies", () => {
  const pcap = (src: string, pkt: number[] = [], meta?: object) =>
    compileCbpf(assembleCbpf(src), { semantics: "libpcap" })(Uint8Array.from(pkt), pkt.length, meta);
  assert.equal(pcap("ldx #0xffffffff\nldb [x + 1]\nret #7", [9]), 0); // X + k does not wrap
  assert.equal(pcap("ld #1\nldx #32\nlsh x\nret a"), 0); // kernel: shift count modulo 32 → 1
  assert.equal(run("ld #1\nldx #32\nlsh x\nret a"), 1);
  assert.equal(pcap("ld proto\nret #1", [1, 2, 3], { protocol: 0x800 }), 0); // no ancillary loads
  assert.equal(pcap("ld vlan_avail\nret a", [], { vlanTci: 5 }), 1);
  assert.equal(pcap("ld vlan_avail\nret #3"), 0); // no aux data: the load fails
  assert.equal(pcap(`ldb [${-0x100000}]\nret #3`, [1, 2], { networkOffset: 0 }), 0);
  assert.equal(pcap("ld M[0]\nret #5"), 5); // no scratch-order check
  // A backward ja (libpcap's ip6 protochain loops) runs, and a runaway loop hits the budget.
  const back = [{ code: 0x00, jt: 0, jf: 0, k: 0 }, { code: 0x04, jt: 0, jf: 0, k: 1 },
    { code: 0x25, jt: 1, jf: 0, k: 4 }, { code: 0x05, jt: 0, jf: 0, k: 0xfffffffd }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
  assert.equal(compileCbpf(back, { semantics: "libpcap" })(new Uint8Array(0), 0), 5);
  assert.throws(() => compileCbpf(back), /ja \+4294967293/);
  const forever = [{ code: 0x05, jt: 0, jf: 0, k: 0xffffffff }, { code: 0x06, jt: 0, jf: 0, k: 0 }];
  assert.throws(() => compileCbpf(forever, { semantics: "libpcap", budget: 100 })(new Uint8Array(0), 0),
    (e) => isBpfError(e) && e.code === "BUDGET");
  assert.throws(() => compileCbpf([{ code: 0x05, jt: 0, jf: 0, k: 0xfffffffd }, { code: 6, jt: 0, jf: 0, k: 0 }],
    { semantics: "libpcap" }), /ja lands outside the program/);
});
