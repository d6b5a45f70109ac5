// Classic BPF → wasm (cbpf.ts) against libpcap's interpreter (src/filter/offline.ts): hand-checked behaviours, random
// programs and random packets, and the pcap record scan against the same walk in JavaScript.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileClassicFilter, SCAN_END, SCAN_IRREGULAR, SCAN_LIMIT, SCAN_NEXT, SCAN_OUT, SCAN_SEEN, SCAN_STATUS } from "./cbpf.ts";
import { compileFilter, compileOfflineFilter } from "../filter/index.ts";
import { cbpfInsn, type CbpfInsn } from "../isa/cbpf/insn.ts";
import { validProgram } from "../cbpf/gen.test-util.ts";

const prog = (...i: [number, number, number, number][]): CbpfInsn[] => i.map(([c, jt, jf, k]) => cbpfInsn(c, jt, jf, k));

test("out-of-bounds loads and division by zero reject the packet; shifts by 32 or more give 0", () => {
  const abs = compileClassicFilter(prog([0x20, 0, 0, 10], [0x06, 0, 0, 1]));
  assert.equal(abs.run(new Uint8Array(13), 13), 0);
  assert.equal(abs.run(new Uint8Array(14), 14), 1);
  // k near 2^32: never in bounds, no wrap-around
  assert.equal(compileClassicFilter(prog([0x30, 0, 0, 0xffffffff], [0x06, 0, 0, 1])).run(new Uint8Array(64), 64), 0);
  // X + k past 2^32 does not wrap to a small offset
  const ind = compileClassicFilter(prog([0x01, 0, 0, 0xfffffffe], [0x50, 0, 0, 3], [0x06, 0, 0, 1]));
  assert.equal(ind.run(new Uint8Array(64), 64), 0);
  const div = compileClassicFilter(prog([0x01, 0, 0, 0], [0x00, 0, 0, 5], [0x3c, 0, 0, 0], [0x06, 0, 0, 7]));
  assert.equal(div.run(new Uint8Array(4), 4), 0);
  assert.equal(compileClassicFilter(prog([0x00, 0, 0, 5], [0x34, 0, 0, 0], [0x06, 0, 0, 7])).run(new Uint8Array(4), 4), 0);
  const shl = compileClassicFilter(prog([0x00, 0, 0, 5], [0x01, 0, 0, 33], [0x6c, 0, 0, 0], [0x16, 0, 0, 0]));
  assert.equal(shl.run(new Uint8Array(4), 4), 0);
  assert.equal(compileClassicFilter(prog([0x00, 0, 0, 5], [0x64, 0, 0, 40], [0x16, 0, 0, 0])).run(new Uint8Array(4), 4), 0);
});

test("big-endian loads, the wire length and a window inside a larger buffer", () => {
  // A = ld [1]; M0 = A; A = ldh [0]; X = A; A = M0; A += X; ret A
  const f = compileClassicFilter(prog([0x20, 0, 0, 1], [0x02, 0, 0, 0], [0x28, 0, 0, 0], [0x07, 0, 0, 0], [0x60, 0, 0, 0],
    [0x0c, 0, 0, 0], [0x16, 0, 0, 0]));
  const pkt = Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a);
  assert.equal(f.run(pkt, 5), (0x3456789a + 0x1234) >>> 0);
  assert.equal(compileClassicFilter(prog([0x80, 0, 0, 0], [0x16, 0, 0, 0])).run(pkt, 1500), 1500);
  const ip = compileClassicFilter(compileFilter("ip", { linktype: "EN10MB" }).insns);
  const buf = new Uint8Array(100);
  buf[50 + 12] = 0x08;
  assert.notEqual(ip.run(buf, 40, 50, 90), 0);
  assert.equal(ip.run(buf, 40, 0, 40), 0);
});

test("ja with a negative offset jumps backwards (protochain)", () => {
  // pc0: ja +2 -> pc3; pc1: ret 9; pc2: ret 0; pc3: ja -3 -> pc1
  const back = prog([0x05, 0, 0, 2], [0x06, 0, 0, 9], [0x06, 0, 0, 0], [0x05, 0, 0, -3 >>> 0]);
  assert.equal(compileClassicFilter(back).run(new Uint8Array(1), 1), 9);
  // a counting loop: A = 0; loop: A += 1; jeq #5 -> ret A; ja loop
  const loop = prog([0x00, 0, 0, 0], [0x04, 0, 0, 1], [0x15, 1, 0, 5], [0x05, 0, 0, -3 >>> 0], [0x16, 0, 0, 0]);
  assert.equal(compileClassicFilter(loop).run(new Uint8Array(1), 1), 5);
  // jumping past the end or before the start rejects
  assert.equal(compileClassicFilter(prog([0x05, 0, 0, 7], [0x06, 0, 0, 1])).run(new Uint8Array(1), 1), 0);
  assert.equal(compileClassicFilter(prog([0x05, 0, 0, -5 >>> 0], [0x06, 0, 0, 1])).run(new Uint8Array(1), 1), 0);
});

const EXPRS = ["tcp port 80", "ip6 protochain 58", "ip[2:2] - ((ip[0]&0xf)<<2) > 20", "vlan and udp", "ether multicast",
  "not net 10.0.0.0/8 and len > 60", "icmp[icmptype] = icmp-echo", "ip[0] % 3 = 1 or ip[1] / (ip[2] & 0) = 0", "ip protochain 6",
  "tcp[tcpflags] & tcp-syn != 0 and not net 10.0.0.0/8", "ip6 and udp port 53"];

const packet = fc.tuple(fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x0806), fc.constantFrom(0x45, 0x46, 0x60), fc.constantFrom(6, 17, 58, 1, 0),
  fc.uint8Array({ minLength: 0, maxLength: 120 }))
  .map(([type, first, proto, rest]) => {
    const p = new Uint8Array(14 + rest.length);
    p.set(rest, 14);
    p[12] = type >> 8;
    p[13] = type & 0xff;
    if (p.length > 14) p[14] = first;
    if (p.length > 23) p[23] = proto; // IPv4 protocol
    if (p.length > 20) p[20] = proto; // IPv6 next header
    return p;
  });

test("compiled tcpdump filters agree with libpcap's interpreter on random packets", () => {
  const pairs = EXPRS.map((e) => compileFilter(e, { linktype: "EN10MB", optimize: !e.includes("/ (") }).insns)
    .map((p) => [compileOfflineFilter(p), compileClassicFilter(p)] as const);
  fc.assert(fc.property(packet, fc.nat(20), (p, cut) => {
    const q = p.subarray(0, Math.max(0, p.length - cut));
    for (const [interp, wasm] of pairs) assert.equal(wasm.run(q, p.length), interp(q, p.length));
  }), { numRuns: 400 });
});

test("random classic programs agree with libpcap's interpreter", () => {
  fc.assert(fc.property(validProgram, fc.uint8Array({ maxLength: 72 }), fc.nat(2000), (insns, pkt, wire) => {
    assert.equal(compileClassicFilter(insns).run(pkt, wire), compileOfflineFilter(insns)(pkt, wire));
  }), { numRuns: 300 });
});

/** A little-endian pcap body (records only) of the given packets. */
function records(pkts: readonly Uint8Array[], caplenOf = (p: Uint8Array) => p.length): Uint8Array {
  const out = new Uint8Array(pkts.reduce((n, p) => n + 16 + p.length, 0));
  const dv = new DataView(out.buffer);
  let o = 0;
  pkts.forEach((p, i) => {
    dv.setUint32(o, i, true); dv.setUint32(o + 8, caplenOf(p), true); dv.setUint32(o + 12, p.length + 4, true);
    out.set(p, o + 16);
    o += 16 + p.length;
  });
  return out;
}

test("scan walks pcap records, copies the matches and stops at a partial record, a bad caplen or the limit", () => {
  const insns = compileFilter("ip and len > 20", { linktype: "EN10MB" }).insns;
  const interp = compileOfflineFilter(insns);
  const f = compileClassicFilter(insns);
  fc.assert(fc.property(fc.array(packet, { maxLength: 30 }), fc.nat(40), fc.integer({ min: 1, max: 40 }), (pkts, cut, limit) => {
    const body = records(pkts);
    const at = 4096, out = 32768;
    const end = Math.max(0, body.length - cut);
    new Uint8Array(f.memory.buffer).set(body.subarray(0, end), at);
    const n = f.scan(at, at + end, 262144, limit, out);
    // the same walk by hand
    let pos = 0, want = 0, seen = 0, status = SCAN_END;
    const copied: number[] = [];
    while (end - pos >= 16) {
      const len = body[pos + 8]! | (body[pos + 9]! << 8);
      if (pos + 16 + len > end) break;
      seen++;
      if (interp(body, len + 4, pos + 16, pos + 16 + len) !== 0) {
        copied.push(...body.subarray(pos, pos + 16 + len));
        if (++want >= limit) { pos += 16 + len; status = SCAN_LIMIT; break; }
      }
      pos += 16 + len;
    }
    const w = new Uint32Array(f.memory.buffer, 0, 4);
    assert.deepEqual([n, w[SCAN_NEXT >> 2], w[SCAN_SEEN >> 2], w[SCAN_STATUS >> 2], w[SCAN_OUT >> 2]],
      [want, at + pos, seen, status, out + copied.length]);
    assert.deepEqual([...new Uint8Array(f.memory.buffer, out, copied.length)], copied);
  }), { numRuns: 150 });
  // a caplen above the snapshot length stops the walk there
  const bad = records([new Uint8Array(60), new Uint8Array(70)]);
  new Uint8Array(f.memory.buffer).set(bad, 0x1000);
  f.scan(0x1000, 0x1000 + bad.length, 64, 100, 0);
  const w = new Uint32Array(f.memory.buffer, 0, 4);
  assert.deepEqual([w[SCAN_NEXT >> 2], w[SCAN_SEEN >> 2], w[SCAN_STATUS >> 2]], [0x1000 + 76, 1, SCAN_IRREGULAR]);
});
