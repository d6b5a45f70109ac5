// Map sizes: the kernel's E2BIG limits on max_entries, and memory that grows with use, never with max_entries.
// Linux 6.18 verdicts (bpftool map create on this kernel): hash max_entries 2^27 is accepted (NO_PREALLOC) and
// 2^27 + 1 (2^28 buckets) is E2BIG, for every hash type; lpm_trie, queue, bloom and arrays take any u32 size.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("hash maps: max_entries above 2^27 (2^28 buckets) is E2BIG, as htab_map_alloc says", () => {
  for (const type of [1, 5, 9, 10]) {
    assert.equal(code(() => createMap(new AddressSpace(), { type, keySize: 4, valueSize: 4, maxEntries: 2 ** 27 + 1 })), "E2BIG");
  }
  assert.equal(code(() => createMap(new AddressSpace(), { type: 1, keySize: 4, valueSize: 4, maxEntries: 2 ** 27, flags: 1 })), "ENOMEM",
    "2^27 passes the kernel's checks; bpfkit's 1 GiB address space cannot hold its tables");
});

test("huge maps fail with a BpfError (ENOMEM), never a RangeError or a crash", () => {
  const specs = [
    { type: 2, keySize: 4, valueSize: 4, maxEntries: 2 ** 31 },
    { type: 11, keySize: 8, valueSize: 4, maxEntries: 2 ** 32 - 1, flags: 1 },
    { type: 22, keySize: 0, valueSize: 4, maxEntries: 2 ** 32 - 1 },
    { type: 30, keySize: 0, valueSize: 4, maxEntries: 2 ** 32 - 1 },
    { type: 7, keySize: 4, valueSize: 8, maxEntries: 2 ** 31 },
  ];
  for (const s of specs) assert.equal(code(() => createMap(new AddressSpace(), s)), "ENOMEM", JSON.stringify(s));
  assert.equal(code(() => createMap(new AddressSpace(), { type: 3, keySize: 4, valueSize: 4, maxEntries: 2 ** 31 })), "ok");
});

test("large maps cost memory as they are used, not as max_entries says", () => {
  const before = process.memoryUsage().rss;
  const space = new AddressSpace();
  const maps = [
    createMap(space, { type: 1, keySize: 8, valueSize: 8, maxEntries: 1 << 22 }),
    createMap(space, { type: 9, keySize: 8, valueSize: 8, maxEntries: 1 << 21 }),
    createMap(space, { type: 11, keySize: 8, valueSize: 8, maxEntries: 1 << 21, flags: 1 }),
    createMap(space, { type: 2, keySize: 4, valueSize: 8, maxEntries: 1 << 24 }),
    createMap(space, { type: 7, keySize: 4, valueSize: 8 * 127, maxEntries: 1 << 18 }),
  ];
  for (const m of maps) {
    const key = new Uint8Array(m.keySize);
    key[0] = 24; key[4] = 10;
    if (m.type !== 7) m.update(key, new Uint8Array(m.userValueSize)); // stack_trace takes stacks only from programs
  }
  const grew = (process.memoryUsage().rss - before) / 2 ** 20;
  const reserved = space.memory.buffer.byteLength / 2 ** 20;
  assert.ok(reserved > 400, `the maps reserve ${reserved.toFixed(0)} MiB of address space`);
  assert.ok(grew < 100, `resident memory grew ${grew.toFixed(0)} MiB for ${reserved.toFixed(0)} MiB reserved`);
});
