// The bpf() binding and the oracle harness against the running kernel: maps, loads, verifier logs, test runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { insn } from "../../src/isa/ebpf/insn.ts";
import { kernelLoad, kernelTestRun, skipWithoutKernel } from "./kernel.ts";
import {
  BPF_NOEXIST, closeFd, mapCreate, mapDeleteElem, mapGetNextKey, mapLookupElem, mapUpdateElem, mapLookupBatch,
  mapUpdateBatch, getFdById, objGetInfoByFd, allIds,
} from "../../src/kernel/bpf.ts";
import { isBpfError } from "../../src/errors.ts";

const skipUnless = (t: { skip(msg: string): void }): boolean => skipWithoutKernel(t, "kernel oracle");

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);

test("hash map: update, lookup, NOEXIST, delete, next key, errno names", (t) => {
  if (skipUnless(t)) return;
  const fd = mapCreate({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 4, name: "bpfkit_t" });
  try {
    mapUpdateElem(fd, u32(7), u64(42n));
    const v = new Uint8Array(8);
    mapLookupElem(fd, u32(7), v);
    assert.deepEqual(v, u64(42n));
    assert.throws(() => mapUpdateElem(fd, u32(7), u64(1n), BPF_NOEXIST), (e) => isBpfError(e) && e.code === "EEXIST" && /BPF_MAP_UPDATE_ELEM/.test(e.message));
    assert.throws(() => mapLookupElem(fd, u32(8), v), (e) => isBpfError(e) && e.code === "ENOENT");
    const next = new Uint8Array(4);
    assert.equal(mapGetNextKey(fd, null, next), true);
    assert.deepEqual(next, u32(7));
    assert.equal(mapGetNextKey(fd, u32(7), next), false);
    for (const k of [1, 2, 3]) mapUpdateElem(fd, u32(k), u64(BigInt(k)));
    assert.throws(() => mapUpdateElem(fd, u32(9), u64(9n)), (e) => isBpfError(e) && e.code === "E2BIG");
    mapDeleteElem(fd, u32(7));
    assert.throws(() => mapDeleteElem(fd, u32(7)), (e) => isBpfError(e) && e.code === "ENOENT");
  } finally {
    closeFd(fd);
  }
});

test("batch update and lookup walk the whole map", (t) => {
  if (skipUnless(t)) return;
  const fd = mapCreate({ mapType: 1, keySize: 4, valueSize: 4, maxEntries: 64 });
  try {
    const keys = new Uint8Array(new Uint32Array(Array.from({ length: 50 }, (_, i) => i * 3)).buffer);
    const vals = new Uint8Array(new Uint32Array(Array.from({ length: 50 }, (_, i) => i + 1000)).buffer);
    assert.equal(mapUpdateBatch(fd, keys, vals, 50).count, 50);
    const outK = new Uint8Array(64 * 4), outV = new Uint8Array(64 * 4), token = new Uint8Array(4);
    const r = mapLookupBatch(fd, null, token, outK, outV, 64);
    assert.equal(r.count, 50);
    assert.equal(r.done, true);
    const got = new Map<number, number>();
    const kk = new Uint32Array(outK.buffer), vv = new Uint32Array(outV.buffer);
    for (let i = 0; i < r.count; i++) got.set(kk[i]!, vv[i]!);
    for (let i = 0; i < 50; i++) assert.equal(got.get(i * 3), i + 1000);
  } finally {
    closeFd(fd);
  }
});

test("kernelLoad: accepted program runs; XDP_PASS on a packet", (t) => {
  if (skipUnless(t)) return;
  const prog = [insn(0xb7, 0, 0, 0, 2), insn(0x95)]; // r0 = XDP_PASS; exit
  const r = kernelLoad(prog, { progType: "xdp", logLevel: 1 });
  try {
    assert.equal(r.accepted, true, r.log);
    assert.match(r.log, /processed 2 insns/);
    const run = kernelTestRun(r.fd!, { data: new Uint8Array(64), repeat: 3 });
    assert.equal(run.retval, 2);
    assert.equal(run.dataOut.length, 64);
  } finally {
    r.close();
  }
});

test("kernelLoad: rejected program gives errno and the verifier's reason", (t) => {
  if (skipUnless(t)) return;
  const r = kernelLoad([insn(0x95)], { progType: "socket_filter" }); // exit with r0 unset
  assert.equal(r.accepted, false);
  assert.equal(r.errno, "EACCES");
  assert.match(r.log, /R0 !read_ok/);
  r.close();
});

test("kernelLoad: lddw map index resolved to the created map; program writes it", (t) => {
  if (skipUnless(t)) return;
  // key = 0 on stack; r0 = lookup(map, &key); if r0 { *(u64*)r0 = 99 } ; r0 = 0
  const prog = [
    insn(0x62, 10, 0, -4, 0), // *(u32*)(r10-4) = 0
    insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
    insn(0x18, 1, 1, 0, 0), insn(0, 0, 0, 0, 0), // r1 = map[0]
    insn(0x85, 0, 0, 0, 1),
    insn(0x15, 0, 0, 2, 0),
    insn(0x7a, 0, 0, 0, 99), // *(u64*)(r0+0) = 99
    insn(0x05, 0, 0, 0, 0),
    insn(0xb7, 0, 0, 0, 0), insn(0x95),
  ];
  const r = kernelLoad(prog, { progType: "socket_filter", maps: [{ type: "array", keySize: 4, valueSize: 8, maxEntries: 1 }] });
  try {
    assert.equal(r.accepted, true, r.log);
    kernelTestRun(r.fd!, { data: new Uint8Array(64) });
    const v = new Uint8Array(8);
    mapLookupElem(r.mapFds[0]!, u32(0), v);
    assert.deepEqual(v, u64(99n));
  } finally {
    r.close();
  }
});

test("ids and info: the created map is listed with its name", (t) => {
  if (skipUnless(t)) return;
  const fd = mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 3, name: "bpfkit_ids" });
  try {
    const info = new Uint8Array(96);
    objGetInfoByFd(fd, info);
    const dv = new DataView(info.buffer);
    const id = dv.getUint32(4, true);
    assert.ok(allIds("map").includes(id));
    const fd2 = getFdById("map", id);
    closeFd(fd2);
    assert.equal(new TextDecoder().decode(info.subarray(24, 34)), "bpfkit_ids");
  } finally {
    closeFd(fd);
  }
});
