import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST, readU32, u32Bytes } from "./types.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};
const v4 = (plen: number, ...b: number[]) => new Uint8Array([plen & 0xff, plen >>> 8, 0, 0, ...b, 0, 0, 0, 0].slice(0, 8));
const v6 = (plen: number, hex: string) => {
  const k = new Uint8Array(20);
  k[0] = plen;
  for (let i = 0; i < 16; i++) k[4 + i] = parseInt(hex.slice(i * 2, i * 2 + 2) || "00", 16);
  return k;
};
const name = (k: Uint8Array) => `${k[4]}.${k[5]}/${k[0]}`;

test("lpm_trie IPv4: longest prefix match, the key's prefixlen bounds the match", () => {
  const m = createMap(new AddressSpace(), { type: 11, keySize: 8, valueSize: 4, maxEntries: 8, flags: BPF_F_NO_PREALLOC });
  m.update(v4(8, 10), u32Bytes(8));
  m.update(v4(16, 10, 1), u32Bytes(16));
  m.update(v4(24, 10, 1, 2), u32Bytes(24));
  assert.equal(readU32(m.lookup(v4(32, 10, 1, 2, 3))), 24);
  assert.equal(readU32(m.lookup(v4(32, 10, 1, 3, 3))), 16);
  assert.equal(readU32(m.lookup(v4(32, 10, 200, 3, 3))), 8);
  assert.equal(readU32(m.lookup(v4(12, 10, 1, 2, 3))), 8, "a /12 lookup cannot match the /16");
  assert.equal(code(() => m.lookup(v4(32, 11, 1, 0, 0))), "ENOENT");
  m.update(v4(0), u32Bytes(0));
  assert.equal(readU32(m.lookup(v4(32, 11, 1, 0, 0))), 0, "the /0 default route");
  m.delete(v4(16, 10, 1));
  assert.equal(readU32(m.lookup(v4(32, 10, 1, 3, 3))), 8);
});

test("lpm_trie: error codes as Linux returns them", () => {
  const m = createMap(new AddressSpace(), { type: 11, keySize: 8, valueSize: 4, maxEntries: 2, flags: BPF_F_NO_PREALLOC });
  const v = u32Bytes(1);
  assert.equal(code(() => m.update(v4(33, 1, 2, 3, 4), v)), "EINVAL");
  m.update(v4(8, 10), v);
  m.update(v4(16, 10, 1), v);
  assert.equal(code(() => m.update(v4(24, 10, 1, 1), v)), "ENOSPC", "full");
  assert.equal(code(() => m.update(v4(16, 10, 1), v)), "ok", "replacing in a full trie");
  assert.equal(code(() => m.update(v4(12, 10, 1), v, BPF_EXIST)), "ENOENT");
  assert.equal(code(() => m.update(v4(8, 10), v, BPF_NOEXIST)), "EEXIST");
  assert.equal(code(() => m.update(v4(8, 10), v, 3)), "EINVAL");
  assert.equal(code(() => m.delete(v4(12, 10, 1))), "ENOENT");
  assert.equal(code(() => m.delete(v4(40, 10, 1))), "EINVAL");
  assert.equal(code(() => m.lookupAndDelete(v4(8, 10))), "ENOTSUPP");
  assert.deepEqual(m.getNextKey(null), v4(16, 10, 1), "more specific first");
  assert.deepEqual(m.getNextKey(v4(12, 10, 1)), v4(16, 10, 1), "a missing key restarts from the first");
  assert.deepEqual(m.getNextKey(v4(16, 10, 1)), v4(8, 10));
  assert.equal(m.getNextKey(v4(8, 10)), null);
});

test("lpm_trie get_next_key order matches Linux 6.18 (post-order, 0 before 1) and returns the inserted data bytes", () => {
  const m = createMap(new AddressSpace(), { type: 11, keySize: 8, valueSize: 4, maxEntries: 16, flags: BPF_F_NO_PREALLOC });
  for (const [p, a, b] of [[8, 10, 0], [16, 10, 1], [16, 10, 128], [0, 0, 0], [24, 10, 1], [9, 10, 128], [32, 192, 168], [1, 128, 0]]) {
    m.update(v4(p!, a!, b!), u32Bytes(1));
  }
  const order: string[] = [];
  for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) order.push(name(k));
  assert.equal(order.join(" "), "10.1/24 10.1/16 10.128/16 10.128/9 10.0/8 192.168/32 128.0/1 0.0/0");
  const t = createMap(new AddressSpace(), { type: 11, keySize: 8, valueSize: 4, maxEntries: 4, flags: BPF_F_NO_PREALLOC });
  t.update(v4(16, 10, 1, 2, 3), u32Bytes(1));
  assert.deepEqual([...t.getNextKey(null)!], [16, 0, 0, 0, 10, 1, 2, 3]);
});

test("lpm_trie IPv6 keys", () => {
  const m = createMap(new AddressSpace(), { type: 11, keySize: 20, valueSize: 8, maxEntries: 8, flags: BPF_F_NO_PREALLOC });
  m.update(v6(32, "20010db8"), new Uint8Array(8).fill(32));
  m.update(v6(64, "20010db8000000aa"), new Uint8Array(8).fill(64));
  m.update(v6(128, "20010db8000000aa0000000000000001"), new Uint8Array(8).fill(128));
  assert.equal(m.lookup(v6(128, "20010db8000000aa0000000000000001"))[0], 128);
  assert.equal(m.lookup(v6(128, "20010db8000000aa0000000000000002"))[0], 64);
  assert.equal(m.lookup(v6(128, "20010db8000000bb0000000000000001"))[0], 32);
  assert.equal(code(() => m.lookup(v6(128, "20010db9"))), "ENOENT");
  assert.equal(code(() => m.update(v6(129, "20010db8"), new Uint8Array(8))), "EINVAL");
});

test("property: lpm_trie lookup equals a brute-force longest-prefix search", () => {
  const prefix = fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(fc.property(fc.array(prefix, { maxLength: 20 }), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }), fc.array(prefix, { maxLength: 5 }), (ins, probes, dels) => {
    const m = createMap(new AddressSpace({ initialPages: 2 }), { type: 11, keySize: 6, valueSize: 4, maxEntries: 32, flags: BPF_F_NO_PREALLOC });
    const key = (p: number, x: number) => new Uint8Array([p, 0, 0, 0, x >>> 8, x & 0xff]);
    const model = new Map<string, number>();
    const id = (p: number, x: number) => `${p}/${p === 0 ? 0 : (x >>> (16 - p)) & ((1 << p) - 1)}`;
    ins.forEach(([p, x], i) => { m.update(key(p, x), u32Bytes(i)); model.set(id(p, x), i); });
    for (const [p, x] of dels) assert.equal(code(() => m.delete(key(p, x))), model.delete(id(p, x)) ? "ok" : "ENOENT");
    for (const x of probes) {
      let want: number | undefined;
      for (let p = 16; p >= 0 && want === undefined; p--) want = model.get(id(p, x));
      if (want === undefined) assert.equal(code(() => m.lookup(key(16, x))), "ENOENT");
      else assert.equal(readU32(m.lookup(key(16, x))), want);
    }
    let n = 0;
    for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) n++;
    assert.equal(n, model.size);
  }), { numRuns: 100 });
});
