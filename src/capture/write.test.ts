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

test("an out-of-range nanosecond fraction scales down as libpcap's: signed in a native-order file, unsigned byte-swapped", () => {
  // tcpdump -r F -w OUT on this little-endian host: 3,283,263,000 ns is -1,011,704 µs from a little-endian file
  // (the field read as int32) and 3,283,263 µs from a big-endian one (the byte swap yields it unsigned)
  for (const [bigEndian, usec] of [[false, 0xfff09008], [true, 3283263]] as const) {
    const file = new Uint8Array(24 + 16 + 4);
    const v = new DataView(file.buffer);
    const le = !bigEndian;
    v.setUint32(0, 0xa1b23c4d, le); v.setUint16(4, 2, le); v.setUint16(6, 4, le); v.setUint32(16, 65535, le); v.setUint32(20, 1, le);
    v.setUint32(24, 1000, le); v.setUint32(28, 3283263000, le); v.setUint32(32, 4, le); v.setUint32(36, 4, le);
    const [p] = [...openCapture(file).packets()];
    const out = writePcap([{ ts: p!.ts, data: p!.data }], { linktype: 1, snaplen: 65535 });
    assert.equal(new DataView(out.buffer, out.byteOffset).getUint32(28, true), usec, bigEndian ? "big-endian" : "little-endian");
  }
});
