import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { openCapture } from "./read.ts";
import { writePcap } from "./write.ts";

test("written pcap files read back with the same packets, in both byte orders and precisions", () => {
  const packet = fc.record({
    sec: fc.integer({ min: 0, max: 0x7fffffff }),
    nsec: fc.integer({ min: 0, max: 999_999_999 }),
    data: fc.uint8Array({ maxLength: 200 }),
    extra: fc.nat(1000),
  });
  fc.assert(fc.property(fc.array(packet, { maxLength: 20 }), fc.boolean(), fc.boolean(), (pkts, nano, bigEndian) => {
    const bytes = writePcap(pkts.map((p) => ({ ts: { sec: p.sec, nsec: p.nsec }, data: p.data, len: p.data.length + p.extra })),
      { linktype: 1, nano, bigEndian });
    const cap = openCapture(bytes);
    assert.equal(cap.info.byteOrder, bigEndian ? "be" : "le");
    assert.equal(cap.info.tsPrecision, nano ? "ns" : "us");
    const back = [...cap.packets()];
    assert.equal(back.length, pkts.length);
    back.forEach((b, i) => {
      const p = pkts[i]!;
      assert.deepEqual(b.data, p.data);
      assert.equal(b.len, p.data.length + p.extra);
      assert.equal(b.ts.sec, p.sec);
      assert.equal(b.ts.nsec, nano ? p.nsec : Math.floor(p.nsec / 1000) * 1000);
    });
  }), { numRuns: 200 });
});

test("packets longer than the snapshot length are cut when written", () => {
  const bytes = writePcap([{ ts: { sec: 1, nsec: 0 }, data: new Uint8Array(100) }], { linktype: 1, snaplen: 60 });
  const [p] = [...openCapture(bytes).packets()];
  assert.equal(p!.caplen, 60);
  assert.equal(p!.len, 100);
});
