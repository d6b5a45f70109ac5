// Differential test of user-space map operations: the same random sequences of update (ANY/NOEXIST/EXIST/bad flags),
// lookup, delete, get_next_key and lookup_and_delete run against a kernel map (bpf()) and a bpfkit map (src/maps),
// comparing every returned value and errno name. Hash maps use BPF_F_ZERO_SEED so both iterate in the same order.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { kernelAvailable } from "./kernel.ts";
import { AddressSpace } from "../../src/vm/memory.ts";
import { createMap, type BpfMap, type MapSpec } from "../../src/maps/index.ts";
import { closeFd, mapCreate, mapDeleteElem, mapGetNextKey, mapLookupAndDeleteElem, mapLookupElem, mapUpdateElem } from "../../src/kernel/bpf.ts";
import { KernelError, possibleCpus } from "../../src/kernel/libc.ts";
import { isBpfError } from "../../src/errors.ts";

const avail = kernelAvailable();
const ZERO_SEED = 1 << 6, NO_PREALLOC = 1;

type Op =
  | { op: "update"; key: number; value: number; flags: number }
  | { op: "lookup"; key: number }
  | { op: "delete"; key: number }
  | { op: "next"; key: number | null }
  | { op: "pop"; key: number | null };

interface Case {
  readonly name: string;
  readonly spec: MapSpec;
  readonly keyless?: boolean;
  /** LPM keys: prefix length + 4 address bytes */
  readonly lpm?: boolean;
}

const CASES: readonly Case[] = [
  { name: "hash", spec: { type: 1, keySize: 4, valueSize: 8, maxEntries: 6, flags: ZERO_SEED } },
  { name: "hash (no prealloc)", spec: { type: 1, keySize: 4, valueSize: 8, maxEntries: 6, flags: ZERO_SEED | NO_PREALLOC } },
  { name: "percpu_hash", spec: { type: 5, keySize: 4, valueSize: 12, maxEntries: 5, flags: ZERO_SEED } },
  { name: "lru_hash", spec: { type: 9, keySize: 4, valueSize: 8, maxEntries: 8, flags: ZERO_SEED } },
  { name: "lru_percpu_hash", spec: { type: 10, keySize: 4, valueSize: 8, maxEntries: 8, flags: ZERO_SEED } },
  { name: "array", spec: { type: 2, keySize: 4, valueSize: 8, maxEntries: 6 } },
  { name: "percpu_array", spec: { type: 6, keySize: 4, valueSize: 4, maxEntries: 5 } },
  { name: "lpm_trie", spec: { type: 11, keySize: 8, valueSize: 4, maxEntries: 6, flags: NO_PREALLOC }, lpm: true },
  { name: "queue", spec: { type: 22, keySize: 0, valueSize: 4, maxEntries: 4 }, keyless: true },
  { name: "stack", spec: { type: 23, keySize: 0, valueSize: 4, maxEntries: 4 }, keyless: true },
  { name: "bloom_filter", spec: { type: 30, keySize: 0, valueSize: 4, maxEntries: 8, mapExtra: 3n }, keyless: true },
];

function keyBytes(c: Case, k: number | null): Uint8Array | null {
  if (k === null || c.keyless) return null;
  const b = new Uint8Array(c.spec.keySize);
  const v = new DataView(b.buffer);
  if (c.lpm) {
    v.setUint32(0, [0, 8, 16, 24, 32][k % 5]!, true); // prefix length
    v.setUint8(4, 10);
    v.setUint8(5, (k * 37) & 0xff);
    v.setUint8(6, k & 3);
  } else v.setUint32(0, k, true);
  return b;
}

function valueBytes(c: Case, n: number, cpus: number): Uint8Array {
  const perCpu = c.spec.type === 5 || c.spec.type === 6 || c.spec.type === 10;
  const stride = perCpu ? (c.spec.valueSize + 7) & ~7 : c.spec.valueSize;
  const b = new Uint8Array(stride * (perCpu ? cpus : 1));
  for (let cpu = 0; cpu < (perCpu ? cpus : 1); cpu++) {
    for (let i = 0; i < c.spec.valueSize; i++) b[cpu * stride + i] = (n * 31 + i * 7 + cpu * 101) & 0xff;
  }
  return b;
}

type Outcome = string;

function run(fn: () => Uint8Array | null | boolean | void): Outcome {
  try {
    const r = fn();
    if (r instanceof Uint8Array) return `ok ${Buffer.from(r).toString("hex")}`;
    if (r === null || r === false) return "end";
    return "ok";
  } catch (e) {
    if (e instanceof KernelError || isBpfError(e)) return `err ${e.code}`;
    throw e;
  }
}

function kernelOp(c: Case, fd: number, o: Op, cpus: number): Outcome {
  const perCpu = c.spec.type === 5 || c.spec.type === 6 || c.spec.type === 10;
  const size = perCpu ? ((c.spec.valueSize + 7) & ~7) * cpus : c.spec.valueSize;
  switch (o.op) {
    case "update": return run(() => mapUpdateElem(fd, keyBytes(c, o.key), valueBytes(c, o.value, cpus), o.flags));
    case "lookup": return run(() => {
      const v = new Uint8Array(size);
      // bloom filters are queried with the value (BPF_MAP_LOOKUP_ELEM's value is the input)
      if (c.spec.type === 30) { v.set(valueBytes(c, o.key, cpus)); mapLookupElem(fd, null, v); return true; }
      mapLookupElem(fd, keyBytes(c, o.key), v);
      return v;
    });
    case "delete": return run(() => mapDeleteElem(fd, keyBytes(c, o.key)));
    case "next": return run(() => {
      const out = new Uint8Array(c.spec.keySize);
      return mapGetNextKey(fd, keyBytes(c, o.key), out) ? out : null;
    });
    case "pop": return run(() => {
      const v = new Uint8Array(size);
      mapLookupAndDeleteElem(fd, keyBytes(c, o.key ?? 0), v);
      return v;
    });
  }
}

function bpfkitOp(c: Case, m: BpfMap, o: Op, cpus: number): Outcome {
  switch (o.op) {
    case "update": return run(() => m.update(keyBytes(c, o.key), valueBytes(c, o.value, cpus), o.flags));
    case "lookup": return run(() => {
      if (c.spec.type === 30) { m.lookup(null, 0, valueBytes(c, o.key, cpus)); return true; }
      return m.lookup(keyBytes(c, o.key));
    });
    case "delete": return run(() => m.delete(keyBytes(c, o.key)));
    case "next": return run(() => m.getNextKey(keyBytes(c, o.key)));
    // (a NULL key on a keyed map is EFAULT in the kernel; bpfkit's null means "no key": not compared)
    case "pop": return run(() => m.lookupAndDelete(keyBytes(c, o.key ?? 0)));
  }
}

const key = fc.integer({ min: 0, max: 9 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("update" as const), key, value: fc.integer({ min: 0, max: 255 }), flags: fc.constantFrom(0, 0, 1, 2, 3, 8) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("lookup" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("next" as const), key: fc.option(key, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("pop" as const), key: fc.option(key, { nil: null }) }) },
);

for (const c of CASES) {
  test(`map ops agree with the kernel: ${c.name}`, (t) => {
    if (avail !== true) {
      console.log(`SKIP kernel map differential: ${avail}`);
      t.skip(avail);
      return;
    }
    const cpus = possibleCpus();
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const fd = mapCreate({ mapType: c.spec.type, keySize: c.spec.keySize, valueSize: c.spec.valueSize, maxEntries: c.spec.maxEntries, mapFlags: c.spec.flags ?? 0, mapExtra: c.spec.mapExtra ?? 0n });
      const space = new AddressSpace();
      const m = createMap(space, c.spec, { nCpus: cpus });
      try {
        ops.forEach((o, i) => {
          const k = kernelOp(c, fd, o, cpus);
          const b = bpfkitOp(c, m, o, cpus);
          assert.equal(b, k, `op ${i} ${JSON.stringify(o)} after ${JSON.stringify(ops.slice(0, i))}`);
        });
      } finally {
        closeFd(fd);
      }
    }), { numRuns: 40, seed: 20261125 });
  });
}

// BPF_MAP_CREATE: the same specs, good and bad, accepted or refused with the same errno by both.
const SPECS: readonly MapSpec[] = [
  ...[1, 2, 5, 6, 9, 10].map((type) => ({ type, keySize: 4, valueSize: 8, maxEntries: 16 })),
  { type: 3, keySize: 4, valueSize: 4, maxEntries: 4 }, // prog_array
  { type: 4, keySize: 4, valueSize: 4, maxEntries: 2 }, // perf_event_array
  { type: 7, keySize: 4, valueSize: 8 * 8, maxEntries: 16 }, // stack_trace
  { type: 11, keySize: 8, valueSize: 4, maxEntries: 16, flags: NO_PREALLOC }, // lpm_trie
  { type: 22, keySize: 0, valueSize: 4, maxEntries: 4 }, { type: 23, keySize: 0, valueSize: 4, maxEntries: 4 },
  { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 }, // ringbuf
  { type: 30, keySize: 0, valueSize: 4, maxEntries: 16 }, // bloom_filter
  // refused
  { type: 1, keySize: 0, valueSize: 8, maxEntries: 16 },
  { type: 1, keySize: 4, valueSize: 8, maxEntries: 0 },
  { type: 2, keySize: 8, valueSize: 8, maxEntries: 4 },
  { type: 3, keySize: 4, valueSize: 8, maxEntries: 4 },
  { type: 11, keySize: 8, valueSize: 4, maxEntries: 16 }, // lpm without NO_PREALLOC
  { type: 22, keySize: 4, valueSize: 4, maxEntries: 4 },
  { type: 27, keySize: 0, valueSize: 0, maxEntries: 4000 }, // ringbuf size not a power-of-2 page multiple
  { type: 1, keySize: 4, valueSize: 8, maxEntries: 16, flags: 1 << 20 }, // unknown flag
];

test("map create agrees with the kernel on accepted and refused specs", (t) => {
  if (avail !== true) {
    console.log(`SKIP kernel map differential: ${avail}`);
    t.skip(avail);
    return;
  }
  for (const spec of SPECS) {
    const k = run(() => {
      const fd = mapCreate({ mapType: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, mapFlags: spec.flags ?? 0 });
      closeFd(fd);
    });
    const b = run(() => { createMap(new AddressSpace(), spec, { nCpus: possibleCpus() }); });
    assert.equal(b, k, `BPF_MAP_CREATE ${JSON.stringify(spec)}`);
  }
});
