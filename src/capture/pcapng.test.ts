// pcapng features the corpus does not cover, on files built here: several sections, the obsolete Packet Block,
// if_tsoffset, binary if_tsresol, unknown blocks, and libpcap's error texts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openCapture } from "./read.ts";
import { CaptureError } from "./types.ts";

class Builder {
  private parts: number[] = [];
  constructor(private readonly le = true) {}
  private u16(v: number) { this.parts.push(...(this.le ? [v & 0xff, v >>> 8] : [v >>> 8, v & 0xff])); }
  private u32(v: number) {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    this.parts.push(...(this.le ? b : b.reverse()));
  }
  block(type: number, body: (b: Builder) => void, totalOverride?: number): this {
    const inner = new Builder(this.le);
    body(inner);
    const pad = (4 - (inner.parts.length % 4)) % 4;
    inner.parts.push(...new Array(pad).fill(0));
    const total = totalOverride ?? inner.parts.length + 12;
    this.u32(type); this.u32(total); this.parts.push(...inner.parts); this.u32(total);
    return this;
  }
  shb(): this { return this.block(0x0a0d0d0a, (b) => { b.u32(0x1a2b3c4d); b.u16(1); b.u16(0); b.u32(0xffffffff); b.u32(0xffffffff); }); }
  idb(linktype = 1, options: [number, number[]][] = []): this {
    return this.block(1, (b) => {
      b.u16(linktype); b.u16(0); b.u32(0);
      for (const [code, value] of options) {
        b.u16(code); b.u16(value.length); b.parts.push(...value, ...new Array((4 - (value.length % 4)) % 4).fill(0));
      }
      if (options.length) { b.u16(0); b.u16(0); }
    });
  }
  epb(iface: number, tsHi: number, tsLo: number, data: number[]): this {
    return this.block(6, (b) => { b.u32(iface); b.u32(tsHi); b.u32(tsLo); b.u32(data.length); b.u32(data.length + 10); b.parts.push(...data); });
  }
  opb(iface: number, tsHi: number, tsLo: number, data: number[]): this {
    return this.block(2, (b) => { b.u16(iface); b.u16(0); b.u32(tsHi); b.u32(tsLo); b.u32(data.length); b.u32(data.length); b.parts.push(...data); });
  }
  spb(len: number, data: number[]): this { return this.block(3, (b) => { b.u32(len); b.parts.push(...data); }); }
  raw(bytes: number[]): this { this.parts.push(...bytes); return this; }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

const read = (bytes: Uint8Array) => {
  const out: { iface: number; sec: number; nsec: number; len: number; data: number[] }[] = [];
  try {
    const cap = openCapture(bytes);
    for (const p of cap.packets()) out.push({ iface: p.interface, sec: p.ts.sec, nsec: p.ts.nsec, len: p.len, data: [...p.data] });
    return { out, error: undefined as string | undefined };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { out, error: e.libpcapMessage };
  }
};

test("several sections, each with its own interfaces; unknown blocks skipped; both byte orders", () => {
  for (const le of [true, false]) {
    const bytes = new Builder(le).shb().idb().block(0x0bad, (b) => b.raw([1, 2, 3, 4])).epb(0, 0, 1_500_000, [1, 2, 3])
      .shb().idb().idb().epb(1, 0, 2_000_001, [4]).bytes();
    const { out, error } = read(bytes);
    assert.equal(error, undefined);
    assert.deepEqual(out.map((p) => [p.iface, p.sec, p.nsec, p.data]), [[0, 1, 500_000_000, [1, 2, 3]], [1, 2, 1000, [4]]]);
  }
});

test("if_tsresol (decimal and binary) and if_tsoffset scale timestamps", () => {
  const ns = new Builder().shb().idb(1, [[9, [9]]]).epb(0, 0x17, 0x4876e800 + 5, [0]).bytes(); // 100e9 + 5 ns
  assert.deepEqual(read(ns).out.map((p) => [p.sec, p.nsec]), [[100, 5]]);
  const bin = new Builder().shb().idb(1, [[9, [0x80 | 10]]]).epb(0, 0, 1024 * 3 + 512, [0]).bytes(); // 2^-10 s units
  assert.deepEqual(read(bin).out.map((p) => [p.sec, p.nsec]), [[3, 500_000_000]]);
  const off = new Builder().shb().idb(1, [[14, [100, 0, 0, 0, 0, 0, 0, 0]]]).epb(0, 0, 2_000_000, [0]).bytes();
  assert.deepEqual(read(off).out.map((p) => [p.sec, p.nsec]), [[102, 0]]);
});

test("the obsolete Packet Block and the Simple Packet Block", () => {
  const bytes = new Builder().shb().idb().opb(0, 0, 7_000_000, [9, 9]).spb(60, [1, 2, 3, 4]).bytes();
  const { out, error } = read(bytes);
  assert.equal(error, "block of type 3 in pcapng dump file is too short"); // an SPB must hold min(len, snaplen) bytes
  assert.deepEqual(out.map((p) => [p.sec, p.data]), [[7, [9, 9]]]);
  const ok = new Builder().shb().idb().spb(4, [1, 2, 3, 4]).bytes();
  assert.deepEqual(read(ok).out.map((p) => [p.sec, p.nsec, p.len, p.data]), [[0, 0, 4, [1, 2, 3, 4]]]);
});

test("libpcap's error texts for broken pcapng files", () => {
  const cases: [Uint8Array, string][] = [
    [new Builder().shb().epb(0, 0, 0, [1]).bytes(), "the capture file has a packet block before any Interface Description Blocks"],
    [new Builder().shb().bytes(), "the capture file has no Interface Description Blocks"],
    [new Builder().shb().idb().epb(3, 0, 0, [1]).bytes(),
      "a packet arrived on interface 3, but there's no Interface Description Block for that interface"],
    [new Builder().shb().idb().block(7, (b) => b.raw([0, 0, 0, 0]), 18).bytes(),
      "block in pcapng dump file has a length of 18 that is not a multiple of 4"],
    [new Builder().shb().idb().block(7, () => {}, 8).bytes(), "block in pcapng dump file has a length of 8 < 12"],
    [new Builder().shb().idb(1, [[9, [1, 2]]]).bytes(), "Interface Description Block has if_tsresol option with length 2 != 1"],
    [new Builder().shb().idb(1, [[9, [20]]]).bytes(), "Interface Description Block if_tsresol option resolution 10^-20 is too high"],
    [new Builder().shb().idb(1).idb(113).bytes(), "an interface has a type 113 different from the type of the first interface"],
  ];
  for (const [bytes, message] of cases) assert.equal(read(bytes).error, message);
});

test("mixed link types are accepted on request, each packet carrying its interface's type", () => {
  const bytes = new Builder().shb().idb(1).idb(113).epb(1, 0, 0, [7]).bytes();
  const cap = openCapture(bytes, { allowMixedLinktypes: true });
  assert.deepEqual([...cap.packets()].map((p) => [p.linktype, p.interface]), [[113, 1]]);
  assert.equal(cap.info.interfaces.length, 2);
});

test("pcap: short file, unknown magic, archaic and unsupported versions", () => {
  const hdr = (magic: number[], major: number, minor: number) =>
    Uint8Array.from([...magic, major, 0, minor, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]);
  assert.equal(read(new Uint8Array([1, 2])).error, "truncated dump file; tried to read 4 file header bytes, only got 2");
  assert.equal(read(new Uint8Array([1, 2, 3, 4, 5])).error, "unknown file format");
  assert.equal(read(hdr([0xd4, 0xc3, 0xb2, 0xa1], 1, 0)).error, "archaic pcap savefile format");
  assert.equal(read(hdr([0xd4, 0xc3, 0xb2, 0xa1], 2, 5)).error, "unsupported pcap savefile version 2.5");
  assert.equal(read(hdr([0xd4, 0xc3, 0xb2, 0xa1], 2, 4)).error, undefined);
  // Version 2.2 files have caplen and len the other way round.
  const old = Uint8Array.from([...hdr([0xd4, 0xc3, 0xb2, 0xa1], 2, 2), 1, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb]);
  assert.deepEqual(read(old).out.map((p) => [p.len, p.data]), [[60, [0xaa, 0xbb]]]);
});

test("pcap: a record longer than the snapshot length is cut to it; one beyond the maximum is an error", () => {
  const hdr = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0]; // snaplen 4
  const rec = [0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6];
  assert.deepEqual(read(Uint8Array.from([...hdr, ...rec])).out.map((p) => p.data), [[1, 2, 3, 4]]);
  const huge = [0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x10, 0x00, 6, 0, 0, 0];
  assert.equal(read(Uint8Array.from([...hdr, ...huge])).error, "invalid packet capture length 1048577, bigger than snaplen of 4");
});
