// libpcap bpf_filter semantics (offline.ts) and its JavaScript-compiled form (offline-js.ts): hand-checked
// behaviours, then a property: on compiled filters and random packets both give the same result.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileFilter, compileOfflineFilter, compileOfflineFilterJs } from "./index.ts";
import { cbpfInsn, type CbpfInsn } from "../isa/cbpf/insn.ts";

const prog = (...i: [number, number, number, number][]): CbpfInsn[] => i.map(([c, jt, jf, k]) => cbpfInsn(c, jt, jf, k));

test("out-of-bounds loads reject the packet (return 0)", () => {
  const p = prog([0x20, 0, 0, 10], [0x06, 0, 0, 1]);
  for (const f of [compileOfflineFilter(p), compileOfflineFilterJs(p)]) {
    assert.equal(f(new Uint8Array(13), 13), 0);
    assert.equal(f(new Uint8Array(14), 14), 1);
  }
});

test("division by zero in X rejects; ja with a negative offset jumps backwards (protochain)", () => {
  const div = prog([0x01, 0, 0, 0], [0x00, 0, 0, 5], [0x3c, 0, 0, 0], [0x06, 0, 0, 7]);
  assert.equal(compileOfflineFilter(div)(new Uint8Array(4), 4), 0);
  assert.equal(compileOfflineFilterJs(div)(new Uint8Array(4), 4), 0);
  // pc0: ja +2 -> pc3; pc1: ret 9; pc2: ret 0; pc3: ja -3 -> pc1
  const back = prog([0x05, 0, 0, 2], [0x06, 0, 0, 9], [0x06, 0, 0, 0], [0x05, 0, 0, -3 >>> 0]);
  assert.equal(compileOfflineFilter(back)(new Uint8Array(1), 1), 9);
  assert.equal(compileOfflineFilterJs(back)(new Uint8Array(1), 1), 9);
});

test("a packet window (start, end) inside a larger buffer", () => {
  const p = compileFilter("ip", { linktype: "EN10MB" }).insns;
  const buf = new Uint8Array(100);
  buf[50 + 12] = 0x08;
  for (const f of [compileOfflineFilter(p), compileOfflineFilterJs(p)]) {
    assert.notEqual(f(buf, 40, 50, 90), 0);
    assert.equal(f(buf, 40, 0, 40), 0);
  }
});

const EXPRS = ["tcp port 80", "ip6 protochain 58", "ip[2:2] - ((ip[0]&0xf)<<2) > 20", "vlan and udp", "ether multicast",
  "not net 10.0.0.0/8 and len > 60", "icmp[icmptype] = icmp-echo", "ip[0] % 3 = 1 or ip[1] / (ip[2] & 0) = 0", "ip protochain 6"];

test("the JavaScript-compiled filter agrees with the interpreter on random packets", () => {
  const compiled = EXPRS.map((e) => compileFilter(e, { linktype: "EN10MB", optimize: !e.includes("/ (") }).insns);
  const pairs = compiled.map((p) => [compileOfflineFilter(p), compileOfflineFilterJs(p)] as const);
  const packet = fc.tuple(fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x0806), fc.uint8Array({ minLength: 0, maxLength: 120 }))
    .map(([type, rest]) => {
      const p = new Uint8Array(14 + rest.length);
      p.set(rest, 14);
      p[12] = type >> 8;
      p[13] = type & 0xff;
      return p.subarray(0, Math.max(0, Math.min(p.length, 14 + rest.length)));
    });
  fc.assert(fc.property(packet, fc.nat(3), (p, cut) => {
    const q = p.subarray(0, Math.max(0, p.length - cut));
    for (const [interp, js] of pairs) assert.equal(js(q, p.length), interp(q, p.length));
  }), { numRuns: 500 });
});
