// Differential test: the same random operation sequences on a bpfkit map and on a Linux map of the same spec, through
// bpf(). Every step must answer the same (errno or bytes), and hash maps created with BPF_F_ZERO_SEED must list
// their keys in the same order (same jhash buckets). Skips with a visible message without root/bpf().
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import fc from "fast-check";
import { isBpfError } from "../../src/errors.ts";
import {
  closeFd, mapCreate, progLoad, progTestRun, mapDeleteElem, mapGetNextKey, mapLookupAndDeleteBatch, mapLookupAndDeleteElem, mapLookupBatch,
  mapLookupElem, mapUpdateElem,
} from "../../src/kernel/bpf.ts";
import { createMap, memlockOf, validateMapSpec } from "../../src/maps/index.ts";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import type { BpfMap, MapSpec } from "../../src/maps/index.ts";
import { AddressSpace } from "../../src/vm/memory.ts";
import { addressOf, mmapShared, rawBpf } from "../../src/kernel/libc.ts";
import { openPerfEvent, perfEventEnable, PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE } from "../../src/kernel/perf.ts";
import type { PerfEventArrayMap, RingBufMap, StackTraceMap } from "../../src/maps/index.ts";
import { skipWithoutKernel } from "./kernel.ts";

const skipUnless = (t: { skip(msg: string): void }): boolean => skipWithoutKernel(t, "maps kernel oracle");

/** Possible CPUs, as per-CPU values are sized by the kernel. */
function possibleCpus(): number {
  const s = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
  return s.split(",").reduce((n, r) => { const [a, b] = r.split("-").map(Number); return n + (b === undefined ? 1 : b - a! + 1); }, 0);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
function outcome(f: () => Uint8Array | boolean | void | null): string {
  try {
    const r = f();
    return r instanceof Uint8Array ? `ok ${hex(r)}` : r === null ? "end" : "ok";
  } catch (e) {
    if (isBpfError(e)) return e.code;
    throw e;
  }
}

type Op =
  | { op: "update"; key: Uint8Array; value: Uint8Array; flags: number }
  | { op: "delete" | "lookup" | "next" | "lad"; key: Uint8Array | null };

/** Runs one op on both sides and returns [bpfkit, kernel] outcomes. */
function both(m: BpfMap, fd: number, o: Op, userValueSize: number): [string, string] {
  const keySize = m.keySize;
  switch (o.op) {
    case "update":
      return [outcome(() => m.update(o.key, o.value, o.flags)), outcome(() => mapUpdateElem(fd, o.key, o.value, o.flags))];
    case "delete":
      return [outcome(() => m.delete(o.key)), outcome(() => mapDeleteElem(fd, o.key))];
    case "lookup":
      return [outcome(() => m.lookup(o.key)), outcome(() => { const v = new Uint8Array(userValueSize); mapLookupElem(fd, o.key, v); return v; })];
    case "lad":
      return [outcome(() => m.lookupAndDelete(o.key)), outcome(() => { const v = new Uint8Array(userValueSize); mapLookupAndDeleteElem(fd, o.key, v); return v; })];
    case "next":
      return [outcome(() => m.getNextKey(o.key)), outcome(() => { const n = new Uint8Array(keySize); return mapGetNextKey(fd, o.key, n) ? n : null; })];
  }
}

function kernelKeys(fd: number, keySize: number): string[] {
  const out: string[] = [];
  let prev: Uint8Array | null = null;
  const n = new Uint8Array(keySize);
  while (mapGetNextKey(fd, prev, n)) { out.push(hex(n)); prev = n.slice(); }
  return out;
}
function ourKeys(m: BpfMap): string[] {
  const out: string[] = [];
  for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) out.push(hex(k));
  return out;
}

function ops(keySize: number, valueSize: number, keyBytes: fc.Arbitrary<Uint8Array>, flags: number[]): fc.Arbitrary<Op[]> {
  const key = keySize === 0 ? fc.constant(null) : keyBytes;
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("update" as const), key: keySize === 0 ? fc.constant(new Uint8Array(0)) : keyBytes, value: fc.uint8Array({ minLength: valueSize, maxLength: valueSize }), flags: fc.constantFrom(...flags) }) },
    fc.record({ op: fc.constantFrom("delete" as const, "lookup" as const, "next" as const, "lad" as const), key }),
    fc.record({ op: fc.constant("next" as const), key: fc.constant(null) }),
  );
  return fc.array(op, { maxLength: 40 });
}

function differential(spec: MapSpec, keyBytes: fc.Arbitrary<Uint8Array>, opts: { nCpus?: number; order?: boolean; runs?: number; flags?: number[] } = {}) {
  const nCpus = opts.nCpus ?? 1;
  const probe = createMap(new AddressSpace({ initialPages: 2 }), spec, { nCpus });
  const uvs = probe.userValueSize;
  fc.assert(fc.property(ops(spec.keySize, uvs, keyBytes, opts.flags ?? [0, 0, 1, 2, 3]), (seq) => {
    const m = createMap(new AddressSpace({ initialPages: 2 }), spec, { nCpus });
    const fd = mapCreate({ mapType: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, mapFlags: spec.flags ?? 0 });
    try {
      seq.forEach((o, i) => {
        const key = o.op === "update" && spec.keySize === 0 ? { ...o, key: null as unknown as Uint8Array } : o;
        const [ours, theirs] = both(m, fd, key as Op, uvs);
        assert.equal(ours, theirs, `step ${i}: ${o.op}`);
      });
      if (opts.order) assert.deepEqual(ourKeys(m), kernelKeys(fd, spec.keySize), "key order");
    } finally {
      closeFd(fd);
    }
  }), { numRuns: opts.runs ?? 60, seed: 20251125 });
}

const smallKey = (size: number, max: number) => fc.integer({ min: 0, max }).map((n) => {
  const k = new Uint8Array(size);
  k[0] = n; k[size - 1] ^= n * 7;
  return k;
});

test("hash (BPF_F_ZERO_SEED) matches Linux step by step, including get_next_key order", (t) => {
  if (skipUnless(t)) return;
  differential({ type: 1, keySize: 4, valueSize: 8, maxEntries: 6, flags: 64 }, smallKey(4, 12), { order: true });
  differential({ type: 1, keySize: 3, valueSize: 5, maxEntries: 8, flags: 64 }, smallKey(3, 14), { order: true });
});

test("lru_hash below capacity matches Linux, order included (no eviction involved)", (t) => {
  if (skipUnless(t)) return;
  differential({ type: 9, keySize: 4, valueSize: 4, maxEntries: 512, flags: 64 }, smallKey(4, 20), { order: true, runs: 25 });
  differential({ type: 9, keySize: 4, valueSize: 4, maxEntries: 512, flags: 64 | 2 }, smallKey(4, 20), { nCpus: possibleCpus(), order: true, runs: 15 });
  differential({ type: 10, keySize: 4, valueSize: 12, maxEntries: 512, flags: 64 }, smallKey(4, 20), { nCpus: possibleCpus(), order: true, runs: 15 });
});

test("hash with BPF_F_NO_PREALLOC matches Linux (full map: E2BIG, updates of existing keys succeed)", (t) => {
  if (skipUnless(t)) return;
  differential({ type: 1, keySize: 4, valueSize: 8, maxEntries: 4, flags: 64 | 1 }, smallKey(4, 8), { order: true, runs: 30 });
});

test("bloom_filter (BPF_F_ZERO_SEED) answers exactly as Linux, false positives included", (t) => {
  if (skipUnless(t)) return;
  for (const [valueSize, extra] of [[4, 0n], [6, 3n], [12, 1n]] as const) {
    const spec: MapSpec = { type: 30, keySize: 0, valueSize, maxEntries: 4, flags: 64, mapExtra: extra };
    const m = createMap(new AddressSpace({ initialPages: 2 }), spec);
    const fd = mapCreate({ mapType: 30, keySize: 0, valueSize, maxEntries: 4, mapFlags: 64, mapExtra: extra });
    try {
      const value = (i: number) => { const v = new Uint8Array(valueSize); v[0] = i; v[valueSize - 1] = i >> 3; return v; };
      for (let i = 0; i < 6; i++) { m.update(null, value(i * 37)); mapUpdateElem(fd, null, value(i * 37)); }
      let positives = 0;
      for (let i = 0; i < 256; i++) {
        const ours = outcome(() => { m.lookup(null, 0, value(i)); });
        const theirs = outcome(() => mapLookupElem(fd, null, value(i)));
        assert.equal(ours, theirs, `value ${i} (value_size ${valueSize})`);
        if (ours !== "ENOENT") positives++;
      }
      assert.ok(positives > 6, "a tiny filter has false positives, the same ones as Linux");
    } finally {
      closeFd(fd);
    }
  }
});

test("percpu_hash matches Linux (values of every possible CPU)", (t) => {
  if (skipUnless(t)) return;
  differential({ type: 5, keySize: 8, valueSize: 4, maxEntries: 5, flags: 64 }, smallKey(8, 9), { nCpus: possibleCpus(), order: true, runs: 25 });
});

test("array and percpu_array match Linux", (t) => {
  if (skipUnless(t)) return;
  const idx = fc.integer({ min: 0, max: 7 }).map((n) => new Uint8Array([n, 0, 0, 0]));
  differential({ type: 2, keySize: 4, valueSize: 12, maxEntries: 5 }, idx, { flags: [0, 1, 2, 3, 4] });
  differential({ type: 6, keySize: 4, valueSize: 4, maxEntries: 5 }, idx, { nCpus: possibleCpus(), runs: 25 });
});

test("lpm_trie matches Linux: longest match, errors, post-order get_next_key", (t) => {
  if (skipUnless(t)) return;
  const key = fc.tuple(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 0, max: 0xffff })).map(([p, x]) => new Uint8Array([p, 0, 0, 0, x >>> 8, x & 0xf0]));
  differential({ type: 11, keySize: 6, valueSize: 4, maxEntries: 6, flags: 1 }, key, { order: true });
});

test("queue and stack match Linux", (t) => {
  if (skipUnless(t)) return;
  differential({ type: 22, keySize: 0, valueSize: 4, maxEntries: 3 }, fc.constant(new Uint8Array(0)), { flags: [0, 0, 1, 2, 3] });
  differential({ type: 23, keySize: 0, valueSize: 4, maxEntries: 3 }, fc.constant(new Uint8Array(0)), { flags: [0, 0, 1, 2, 3] });
});

test("hash-family batch lookups and lookup-and-delete return Linux's keys, values and tokens", (t) => {
  if (skipUnless(t)) return;
  const nCpus = possibleCpus();
  // hash, percpu_hash (values of every CPU), lru_hash below capacity; value_size 4 so per-CPU slots carry padding.
  for (const type of [1, 5, 9]) {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }), fc.integer({ min: 1, max: 12 }), (keys, count) => {
      const spec: MapSpec = { type, keySize: 4, valueSize: 4, maxEntries: 64, flags: 64 };
      const m = createMap(new AddressSpace({ initialPages: 2 }), spec, { nCpus });
      const vs = m.userValueSize;
      const fd = mapCreate({ mapType: type, keySize: 4, valueSize: 4, maxEntries: 64, mapFlags: 64 });
      try {
        for (const k of keys) {
          const kb = new Uint8Array(new Uint32Array([k]).buffer);
          const v = Uint8Array.from({ length: vs }, (_, i) => (k + i * 13) & 0xff);
          m.update(kb, v);
          mapUpdateElem(fd, kb, v);
        }
        const show = (n: number, done: boolean, ks: Uint8Array, vals: Uint8Array) =>
          `${n} ${done} ${Array.from({ length: n }, (_, i) => `${hex(ks.subarray(i * 4, i * 4 + 4))}=${hex(vals.subarray(i * vs, (i + 1) * vs))}`).join(",")}`;
        let inOurs: Uint8Array | null = null, inTheirs: Uint8Array | null = null;
        for (let round = 0; round < 80; round++) {
          let ours: string, theirs: string;
          let next: Uint8Array | null = null;
          try {
            const r = m.lookupBatch(inOurs, count);
            const ks = new Uint8Array(4 * count), vals = new Uint8Array(vs * count);
            r.keys.forEach((k, i) => ks.set(k, i * 4));
            r.values.forEach((v, i) => vals.set(v, i * vs));
            ours = show(r.count, r.done, ks, vals);
            next = r.outBatch;
          } catch (e) { ours = isBpfError(e) ? e.code : String(e); }
          const kk = new Uint8Array(4 * count), vv = new Uint8Array(vs * count), ob = new Uint8Array(4);
          try {
            const r = mapLookupBatch(fd, inTheirs, ob, kk, vv, count);
            theirs = show(r.count, r.done, kk, vv);
          } catch (e) { theirs = isBpfError(e) ? e.code : String(e); }
          assert.equal(ours, theirs, `type ${type} batch round ${round}`);
          if (ours.includes("true") || ours === "ENOSPC" || next === null) break;
          assert.deepEqual(next, ob, "out_batch token");
          inOurs = next;
          inTheirs = ob.slice();
        }
        const big = 64;
        const r = m.lookupAndDeleteBatch(null, big);
        const kk = new Uint8Array(4 * big), vv = new Uint8Array(vs * big), ob = new Uint8Array(4);
        const kr = mapLookupAndDeleteBatch(fd, null, ob, kk, vv, big);
        assert.equal(r.count, kr.count);
        assert.deepEqual(r.keys.map(hex), Array.from({ length: kr.count }, (_, i) => hex(kk.subarray(i * 4, i * 4 + 4))));
        assert.deepEqual(r.values.map(hex), Array.from({ length: kr.count }, (_, i) => hex(vv.subarray(i * vs, (i + 1) * vs))));
        assert.deepEqual(kernelKeys(fd, 4), []);
      } finally {
        closeFd(fd);
      }
    }), { numRuns: 20, seed: 20251125 });
  }
});

test("BPF_MAP_CREATE: random specs are accepted or refused with the same errno as Linux", (t) => {
  if (skipUnless(t)) return;
  // A valid spec per type, then zero, one or two fields replaced by edge values: checks each condition and their order.
  const BASE: Record<number, [number, number, number, number]> = {
    1: [4, 8, 4, 0], 2: [4, 8, 4, 0], 3: [4, 4, 4, 0], 4: [4, 4, 4, 0], 5: [4, 8, 4, 0], 6: [4, 8, 4, 0], 7: [4, 16, 4, 0],
    9: [4, 8, 4, 0], 10: [4, 8, 4, 0], 11: [8, 4, 4, 1], 22: [0, 4, 4, 0], 23: [0, 4, 4, 0], 27: [0, 0, 4096, 0], 30: [0, 4, 4, 0],
  };
  const field = fc.oneof(
    fc.record({ f: fc.constant("keySize" as const), v: fc.constantFrom(0, 1, 3, 4, 5, 8, 16, 260, 261) }),
    fc.record({ f: fc.constant("valueSize" as const), v: fc.constantFrom(0, 1, 4, 8, 12, 16, 32, 1016, 1024, 32768, 32769) }),
    fc.record({ f: fc.constant("maxEntries" as const), v: fc.constantFrom(0, 1, 3, 4096, 8192, 12288) }),
    // no BPF_F_NUMA_NODE: node ids differ
    fc.record({ f: fc.constant("flags" as const), v: fc.constantFrom(0, 1, 2, 8, 16, 24, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192, 1 | 64, 2 | 64, 3) }),
    fc.record({ f: fc.constant("mapExtra" as const), v: fc.constantFrom(1, 5, 15, 16) }),
  );
  const spec = fc.tuple(fc.constantFrom(...Object.keys(BASE).map(Number)), fc.array(field, { maxLength: 2 })).map(([type, muts]) => {
    const [keySize, valueSize, maxEntries, flags] = BASE[type]!;
    const s = { type, keySize, valueSize, maxEntries, flags, mapExtra: 0n };
    for (const m of muts) {
      if (m.f === "mapExtra") s.mapExtra = BigInt(m.v); else s[m.f] = m.v;
    }
    return s;
  });
  const tally = new Map<string, number>();
  let memlocks = 0;
  fc.assert(fc.property(spec, (s) => {
    let ours = "ok", theirs = "ok";
    try { validateMapSpec(s, possibleCpus()); } catch (e) { ours = isBpfError(e) ? e.code : String(e); }
    let kernelMemlock: number | undefined;
    try {
      const fd = mapCreate({ mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, mapFlags: s.flags, mapExtra: s.mapExtra });
      kernelMemlock = Number(/memlock:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1]);
      closeFd(fd);
    } catch (e) { theirs = isBpfError(e) ? e.code : String(e); }
    const what = JSON.stringify(s, (_, v) => (typeof v === "bigint" ? String(v) : v));
    assert.equal(ours, theirs, what);
    // Accepted and small enough to build here: bpfkit charges the same memlock as the kernel.
    if (ours === "ok" && s.maxEntries * Math.max(s.valueSize, 8) <= 1 << 22) {
      const m = createMap(new AddressSpace(), s, { nCpus: possibleCpus() });
      assert.equal(memlockOf(m), kernelMemlock, `memlock of ${what}`);
      m.free();
      memlocks++;
    }
    tally.set(theirs, (tally.get(theirs) ?? 0) + 1);
  }), { numRuns: 1000, seed: 20251125 });
  assert.ok((tally.get("ok") ?? 0) > 200, `enough accepted specs: ${[...tally].join(" ")}`);
  console.log(`map create outcomes: ${[...tally].map(([k, v]) => `${k} ${v}`).join(", ")}; memlock compared for ${memlocks}`);
});

test("map-in-map: the same inner maps are accepted or refused as Linux refuses them", (t) => {
  if (skipUnless(t)) return;
  const inner = fc.record({
    type: fc.constantFrom(1, 2, 9),
    keySize: fc.constant(4),
    valueSize: fc.constantFrom(4, 8),
    maxEntries: fc.constantFrom(4, 5),
    flags: fc.constantFrom(0, 0, 4096, 1024, 64),
  });
  let checked = 0;
  // Inner maps: the template itself, or the template with one field swapped for another generated spec's.
  const variant = fc.tuple(inner, fc.constantFrom("same", "same", "type", "valueSize", "maxEntries", "flags") as fc.Arbitrary<"same" | "type" | "valueSize" | "maxEntries" | "flags">);
  fc.assert(fc.property(fc.constantFrom(12, 13), inner, fc.array(variant, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.nat(5), fc.nat(3), fc.constantFrom(0, 0, 1, 2)), { maxLength: 12 }), (outerType, tmpl, variants, updates) => {
    const inners = variants.map(([other, f]) => (f === "same" ? tmpl : { ...tmpl, [f]: other[f] }) as MapSpec);
    const space = new AddressSpace({ initialPages: 2 });
    const okSpec = (s: MapSpec) => { try { validateMapSpec(s); return true; } catch { return false; } };
    if (!okSpec(tmpl)) return;
    const usable = inners.filter(okSpec);
    if (usable.length === 0) return;
    const outerSpec: MapSpec = { type: outerType, keySize: 4, valueSize: 4, maxEntries: 3, innerMap: tmpl };
    const outer = createMap(space, outerSpec);
    const ourInner = usable.map((s) => createMap(space, s));
    const fds: number[] = [];
    try {
      const tfd = mapCreate({ mapType: tmpl.type, keySize: 4, valueSize: tmpl.valueSize, maxEntries: tmpl.maxEntries, mapFlags: tmpl.flags });
      fds.push(tfd);
      const ofd = mapCreate({ mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 3, innerMapFd: tfd });
      fds.push(ofd);
      const innerFds = usable.map((s) => mapCreate({ mapType: s.type, keySize: 4, valueSize: s.valueSize, maxEntries: s.maxEntries, mapFlags: s.flags }));
      fds.push(...innerFds);
      for (const [which, key, flags] of updates) {
        const j = which % usable.length;
        const k = new Uint8Array([key, 0, 0, 0]);
        const ours = outcome(() => outer.update(k, new Uint8Array(new Uint32Array([ourInner[j]!.id]).buffer), flags));
        const theirs = outcome(() => mapUpdateElem(ofd, k, new Uint8Array(new Uint32Array([innerFds[j]!]).buffer), flags));
        assert.equal(ours, theirs, `update ${key} with ${JSON.stringify(usable[j])} flags ${flags} (template ${JSON.stringify(tmpl)})`);
        if (ours === "ok") checked++;
        const lo = outcome(() => { outer.lookup(k); });
        const lt = outcome(() => { mapLookupElem(ofd, k, new Uint8Array(4)); });
        assert.equal(lo, lt, `lookup ${key}`);
      }
    } finally {
      fds.forEach(closeFd);
    }
  }), { numRuns: 60, seed: 20251125 });
  assert.ok(checked > 20, `only ${checked} accepted inner-map updates were compared`);
});

/** socket_filter: zero 64 bytes of stack, bpf_ringbuf_output(map, stack, size, 0), return its result. */
function ringbufOutputProgram(mapFd: number, size: number): Insn[] {
  const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
  const zero = Array.from({ length: 8 }, (_, i) => ins(0x7a, 10, 0, -8 * (i + 1), 0)); // *(u64 *)(r10 - 8k) = 0
  return [
    ...zero,
    ins(0x18, 1, 1, 0, mapFd), ins(0, 0, 0, 0, 0), // r1 = map (BPF_PSEUDO_MAP_FD)
    ins(0xbf, 2, 10, 0, 0), ins(0x07, 2, 0, 0, -64), // r2 = r10 - 64
    ins(0xb7, 3, 0, 0, size), ins(0xb7, 4, 0, 0, 0), // r3 = size, r4 = 0
    ins(0x85, 0, 0, 0, 130), // call bpf_ringbuf_output
    ins(0x95, 0, 0, 0, 0),
  ];
}

test("ringbuf: bpf_ringbuf_output fills the ring exactly as far as Linux before -EAGAIN", (t) => {
  if (skipUnless(t)) return;
  const sizes = [64, 1, 8, 13, 40, 0, 64, 33];
  const fd = mapCreate({ mapType: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
  const progs = new Map<number, number>();
  try {
    for (const sz of new Set(sizes)) progs.set(sz, progLoad({ progType: 1, insns: ringbufOutputProgram(fd, sz) }).fd);
    const space = new AddressSpace({ initialPages: 2 });
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
    const data = space.alloc(64, { kind: "stack" });
    const packet = new Uint8Array(64);
    for (let step = 0; step < 200; step++) {
      const sz = sizes[step % sizes.length]!;
      const theirs = progTestRun(progs.get(sz)!, { dataIn: packet }).retval | 0;
      const ours = rb.output(data.start, sz, 0);
      assert.equal(ours, theirs, `step ${step}: output of ${sz} bytes at producer ${rb.producerPos}`);
    }
    assert.ok(rb.dropped > 0, "the ring filled up");
  } finally {
    for (const p of progs.values()) closeFd(p);
    closeFd(fd);
  }
});

/**
 * Pins this thread to CPU 0 (sched_setaffinity through koffi), so every bpf() call runs on one CPU and the kernel's
 * per-CPU LRU lists behave deterministically. Returns the undo, or why pinning is impossible.
 */
function pinToCpu0(nCpus: number): (() => void) | string {
  try {
    const require = createRequire(import.meta.url);
    const koffi = require("koffi") as { load(p: string): { func(d: string): (...a: unknown[]) => number } };
    const setaff = koffi.load("libc.so.6").func("int sched_setaffinity(int pid, size_t size, const uint8_t *mask)");
    const one = new Uint8Array(128);
    one[0] = 1;
    if (setaff(0, one.length, one) !== 0) return "sched_setaffinity(CPU 0) failed";
    const all = new Uint8Array(128);
    for (let c = 0; c < nCpus; c++) all[c >> 3]! |= 1 << (c & 7);
    return () => { setaff(0, all.length, all); };
  } catch (e) {
    return `cannot pin to one CPU: ${(e as Error).message}`;
  }
}

/** socket_filter: bpf_map_lookup_elem(map, &key) from a program (sets the LRU reference bit); returns found. */
function lookupProgram(mapFd: number, key: number): Insn[] {
  const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
  return [
    ins(0x62, 10, 0, -4, key), // *(u32 *)(r10 - 4) = key
    ins(0x18, 1, 1, 0, mapFd), ins(0, 0, 0, 0, 0),
    ins(0xbf, 2, 10, 0, 0), ins(0x07, 2, 0, 0, -4),
    ins(0x85, 0, 0, 0, 1), // call bpf_map_lookup_elem
    ins(0xbf, 1, 0, 0, 0), ins(0xb7, 0, 0, 0, 0), ins(0x15, 1, 0, 1, 0), ins(0xb7, 0, 0, 0, 1), // r0 = r1 != 0
    ins(0x95, 0, 0, 0, 0),
  ];
}

test("lru_hash / lru_percpu_hash evict exactly as Linux, common and per-CPU lists (one CPU; updates, deletes, program lookups)", (t) => {
  if (skipUnless(t)) return;
  const nCpus = possibleCpus();
  const undo = pinToCpu0(nCpus);
  if (typeof undo === "string") { console.log(`SKIP LRU eviction differential: ${undo}`); t.skip(undo); return; }
  try {
    const op = fc.record({ op: fc.constantFrom("u", "u", "u", "n", "x", "d", "l", "l"), key: fc.nat(23) });
    // [type, max_entries, flags]: common LRU, and per-CPU lists (BPF_F_NO_COMMON_LRU, 2).
    for (const [type, maxEntries, lruFlags] of [[9, 8, 0], [9, 12, 0], [10, 8, 0], [9, 3, 0], [9, 20, 2], [10, 12, 2]] as const) {
      fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (seq) => {
        const spec: MapSpec = { type, keySize: 4, valueSize: 8, maxEntries, flags: 64 | lruFlags };
        const m = createMap(new AddressSpace({ initialPages: 2 }), spec, { nCpus });
        const fd = mapCreate({ mapType: type, keySize: 4, valueSize: 8, maxEntries, mapFlags: 64 | lruFlags });
        const progs = new Map<number, number>();
        const key = m.space.alloc(8, { kind: "stack" });
        try {
          seq.forEach(({ op, key: k }, i) => {
            const kb = new Uint8Array(new Uint32Array([k]).buffer), v = new Uint8Array(m.userValueSize);
            let ours: string, theirs: string;
            if (op === "l") {
              if (!progs.has(k)) progs.set(k, progLoad({ progType: 1, insns: lookupProgram(fd, k) }).fd);
              theirs = String(progTestRun(progs.get(k)!, { dataIn: new Uint8Array(64) }).retval);
              m.space.dv.setUint32(key.start, k, true);
              ours = String(m.lookupElem(key.start, 0) !== 0 ? 1 : 0);
            } else if (op === "d") {
              ours = outcome(() => m.delete(kb));
              theirs = outcome(() => mapDeleteElem(fd, kb));
            } else {
              const flags = op === "n" ? 1 : op === "x" ? 2 : 0;
              ours = outcome(() => m.update(kb, v, flags));
              theirs = outcome(() => mapUpdateElem(fd, kb, v, flags));
            }
            assert.equal(ours, theirs, `step ${i}: ${op}${k}`);
            assert.deepEqual(ourKeys(m), kernelKeys(fd, 4), `keys (in order) after step ${i}: ${op}${k}`);
          });
        } finally {
          for (const p of progs.values()) closeFd(p);
          closeFd(fd);
        }
      }), { numRuns: 25, seed: 20251125 });
    }
  } finally {
    undo();
  }
});

/** BPF_PROG_TEST_RUN of a raw_tracepoint program with an 8-byte ctx and no ctx_out (the kernel refuses one): r0. */
function runRawTp(progFd: number): number {
  const ctx = new Uint8Array(8), attr = new Uint8Array(80), dv = new DataView(attr.buffer);
  dv.setUint32(0, progFd, true);
  dv.setUint32(40, ctx.length, true);
  dv.setBigUint64(48, addressOf(ctx), true);
  const rc = rawBpf(10 /* BPF_PROG_TEST_RUN */, attr);
  if (rc < 0) throw new Error(`BPF_PROG_TEST_RUN: errno ${-rc}`);
  return dv.getInt32(4, true);
}

test("stack_trace: bpf_get_stackid ids (jhash2 of the ips, skip field) are the kernel's for the same stack", (t) => {
  if (skipUnless(t)) return;
  const valueSize = 127 * 8;
  const fd = mapCreate({ mapType: 7, keySize: 4, valueSize, maxEntries: 64 });
  const fds = [fd];
  try {
    const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
    const idFor = (flags: number): number => {
      // raw_tracepoint: r0 = bpf_get_stackid(ctx, map, flags)
      const p = progLoad({ progType: 17, insns: [ins(0x18, 2, 1, 0, fd), ins(0, 0, 0, 0, 0), ins(0xb7, 3, 0, 0, flags), ins(0x85, 0, 0, 0, 27), ins(0x95, 0, 0, 0, 0)] });
      fds.push(p.fd);
      return runRawTp(p.fd);
    };
    const full = idFor(0);
    assert.ok(full >= 0, `bpf_get_stackid returned ${full}`);
    const v = new Uint8Array(valueSize);
    mapLookupElem(fd, new Uint8Array(new Uint32Array([full]).buffer), v);
    const dv = new DataView(v.buffer);
    const ips: bigint[] = [];
    for (let i = 0; i < 127 && dv.getBigUint64(i * 8, true) !== 0n; i++) ips.push(dv.getBigUint64(i * 8, true));
    const m = createMap(new AddressSpace({ initialPages: 2 }), { type: 7, keySize: 4, valueSize, maxEntries: 64 }) as StackTraceMap;
    assert.equal(m.getStackId(ips, 0), full);
    for (const skip of [1, 2]) {
      if (ips.length <= skip) continue;
      assert.equal(m.getStackId(ips, skip), idFor(skip), `skip ${skip}`);
    }
  } catch (e) {
    if (e instanceof Error && /errno 22|EINVAL/.test(e.message)) { console.log(`SKIP stack id differential: ${e.message}`); t.skip(e.message); return; }
    throw e;
  } finally {
    fds.forEach(closeFd);
  }
});

test("perf_event_array: bpf_perf_event_output writes the same ring bytes as Linux (samples, padding, lost records)", (t) => {
  if (skipUnless(t)) return;
  const undo = pinToCpu0(possibleCpus());
  if (typeof undo === "string") { console.log(`SKIP perf output differential: ${undo}`); t.skip(undo); return; }
  const fds: number[] = [];
  let unmap = (): void => {};
  try {
    const mapFd = mapCreate({ mapType: 4, keySize: 4, valueSize: 4, maxEntries: 1 });
    fds.push(mapFd);
    const ev = openPerfEvent({ type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_BPF_OUTPUT), sampleType: BigInt(PERF_SAMPLE_RAW), samplePeriod: 1n, wakeupEvents: 1 }, -1, 0);
    fds.push(ev);
    const mapping = mmapShared(ev, 4096 * 2, 0, true, "perf ring");
    unmap = () => mapping.unmap();
    const meta = new DataView(mapping.bytes.buffer, 0, 4096), ring = new Uint8Array(mapping.bytes.buffer, 4096, 4096);
    mapUpdateElem(mapFd, new Uint8Array(4), new Uint8Array(new Uint32Array([ev]).buffer));
    perfEventEnable(ev);
    const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
    const progs = new Map<number, number>();
    // socket_filter: 24 bytes 0x00..0x17 on the stack, bpf_perf_event_output(skb, map, BPF_F_CURRENT_CPU, r10-24, size)
    const prog = (size: number): number => {
      if (!progs.has(size)) {
        const fill = [0, 1, 2].map((w) => ins(0x7a, 10, 0, -24 + 8 * w, 0)); // zeroed, then bytes set below
        const bytes = Array.from({ length: 24 }, (_, i) => ins(0x72, 10, 0, -24 + i, i)); // *(u8 *)(r10 - 24 + i) = i
        const p = progLoad({ progType: 1, insns: [
          ...fill, ...bytes,
          ins(0x18, 2, 1, 0, mapFd), ins(0, 0, 0, 0, 0),
          ins(0x18, 3, 0, 0, -1), ins(0, 0, 0, 0, 0), // r3 = 0xffffffff (BPF_F_CURRENT_CPU)
          ins(0xbf, 4, 10, 0, 0), ins(0x07, 4, 0, 0, -24), ins(0xb7, 5, 0, 0, size),
          ins(0x85, 0, 0, 0, 25), ins(0x95, 0, 0, 0, 0),
        ] });
        fds.push(p.fd);
        progs.set(size, p.fd);
      }
      return progTestRun(progs.get(size)!, { dataIn: new Uint8Array(64) }).retval | 0;
    };
    const space = new AddressSpace({ initialPages: 2 });
    const m = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: 1 }) as PerfEventArrayMap;
    const [ours] = m.openBuffers(1);
    const data = space.alloc(24, { kind: "stack" });
    for (let i = 0; i < 24; i++) space.u8[data.start + i] = i;
    // More than one 4 KiB ring's worth per round: the ring overflows, wraps, and reports the loss in the next round.
    const sizes = [5, 24, 1, 8, 0, 13, ...new Array<number>(114).fill(24)];
    /** The records written since `from` (the consumer's tail), on both sides, byte for byte. */
    const compare = (what: string, from: number) => {
      const head = Number(meta.getBigUint64(1024, true));
      assert.equal(ours!.head, head, `${what}: data_head`);
      const d = ours!.data;
      const a = Uint8Array.from({ length: head - from }, (_, i) => d[(from + i) % 4096]!);
      const b = Uint8Array.from({ length: head - from }, (_, i) => ring[(from + i) % 4096]!);
      // PERF_RECORD_LOST carries the event id, which bpfkit cannot know: blank it on both sides.
      const bv = new DataView(b.buffer);
      for (let off = 0; off + 8 <= b.length;) {
        const type = bv.getUint32(off, true), size = bv.getUint16(off + 6, true);
        if (type === 2) { a.fill(0, off + 8, off + 16); b.fill(0, off + 8, off + 16); }
        if (size === 0) break;
        off += size;
      }
      assert.deepEqual([...a], [...b], `${what}: ring bytes`);
    };
    for (let round = 0; round < 3; round++) {
      const from = ours!.tail;
      for (const size of sizes) {
        const theirs = prog(size);
        const mine = m.perfOutput(0, 0xffffffff, data.start, size);
        assert.equal(mine, theirs, `round ${round} output of ${size}`);
      }
      compare(`round ${round}`, from);
      // The reader consumes everything: data_tail = data_head on both sides.
      meta.setBigUint64(1032, meta.getBigUint64(1024, true), true);
      ours!.tail = ours!.head;
    }
    assert.ok(ours!.totalLost > 0, "the ring overflowed and lost samples");
  } finally {
    unmap();
    fds.reverse().forEach(closeFd);
    undo();
  }
});

test("ringbuf: records, headers (len, busy/discard bits, pg_off) and positions are Linux's byte for byte", (t) => {
  if (skipUnless(t)) return;
  const size = 4096;
  const fds: number[] = [];
  const unmaps: (() => void)[] = [];
  try {
    const fd = mapCreate({ mapType: 27, keySize: 0, valueSize: 0, maxEntries: size });
    fds.push(fd);
    const cons = mmapShared(fd, 4096, 0, true, "ringbuf consumer page");
    unmaps.push(() => cons.unmap());
    const prod = mmapShared(fd, 4096 + 2 * size, 4096, false, "ringbuf producer page and data");
    unmaps.push(() => prod.unmap());
    const consPos = new DataView(cons.bytes.buffer, 0, 8), prodPos = new DataView(prod.bytes.buffer, 0, 8);
    const kdata = new Uint8Array(prod.bytes.buffer, 4096, size);
    const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
    const cache = new Map<string, number>();
    // socket_filter programs: "o" bpf_ringbuf_output of bytes 0..n-1; "s"/"d" reserve, fill, submit or discard.
    const run = (kind: string, n: number): number => {
      const k = `${kind}${n}`;
      if (!cache.has(k)) {
        const fill = (base: number, off: number) => Array.from({ length: n }, (_, i) => ins(0x72, base, 0, off + i, (i * 7 + n) & 0xff));
        const insns = kind === "o"
          ? [...fill(10, -32), ins(0x18, 1, 1, 0, fd), ins(0, 0, 0, 0, 0), ins(0xbf, 2, 10, 0, 0), ins(0x07, 2, 0, 0, -32),
            ins(0xb7, 3, 0, 0, n), ins(0xb7, 4, 0, 0, 0), ins(0x85, 0, 0, 0, 130), ins(0x95, 0, 0, 0, 0)]
          : [ins(0x18, 1, 1, 0, fd), ins(0, 0, 0, 0, 0), ins(0xb7, 2, 0, 0, n), ins(0xb7, 3, 0, 0, 0), ins(0x85, 0, 0, 0, 131),
            ins(0x55, 0, 0, 2, 0), ins(0xb7, 0, 0, 0, -11), ins(0x95, 0, 0, 0, 0), // NULL: return -EAGAIN
            ...fill(0, 0), ins(0xbf, 1, 0, 0, 0), ins(0xb7, 2, 0, 0, 0), ins(0x85, 0, 0, 0, kind === "s" ? 132 : 133),
            ins(0xb7, 0, 0, 0, 0), ins(0x95, 0, 0, 0, 0)];
        const p = progLoad({ progType: 1, insns });
        fds.push(p.fd);
        cache.set(k, p.fd);
      }
      return progTestRun(cache.get(k)!, { dataIn: new Uint8Array(64) }).retval | 0;
    };
    const space = new AddressSpace({ initialPages: 2 });
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: size }) as RingBufMap;
    const src = space.alloc(32, { kind: "stack" });
    const ours = (kind: string, n: number): number => {
      for (let i = 0; i < n; i++) space.u8[src.start + i] = (i * 7 + n) & 0xff;
      if (kind === "o") return rb.output(src.start, n, 0);
      const a = rb.reserve(n, 0);
      if (a === 0) return -11;
      space.u8.copyWithin(a, src.start, src.start + n);
      return kind === "s" ? rb.submit(a, 0) : rb.discard(a, 0);
    };
    const step = fc.tuple(fc.constantFrom("o", "s", "d"), fc.integer({ min: 0, max: 24 }));
    let seen = 0;
    fc.assert(fc.property(fc.array(step, { minLength: 50, maxLength: 200 }), fc.integer({ min: 0, max: 3 }), (steps, consumeEvery) => {
      steps.forEach(([kind, n], i) => {
        assert.equal(ours(kind, n), run(kind, n), `step ${i}: ${kind}${n}`);
        if (consumeEvery && i % (consumeEvery * 17) === 0) {
          rb.consume(() => 0);
          consPos.setBigUint64(0, BigInt(rb.consumerPos), true);
        }
      });
      assert.equal(rb.producerPos, Number(prodPos.getBigUint64(0, true)), "producer_pos");
      assert.deepEqual([...space.u8.subarray(rb.data.start, rb.data.start + size)], [...kdata], "data pages");
      seen += steps.length;
    }), { numRuns: 10, seed: 20251125 });
    assert.ok(seen > 0);
  } finally {
    unmaps.forEach((u) => u());
    fds.reverse().forEach(closeFd);
  }
});
