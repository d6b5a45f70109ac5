import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import { memlockOf } from "./mem-usage.ts";
import type { MapSpec } from "./spec.ts";

// memlock figures read from /proc/self/fdinfo on Linux 6.18 (x86-64, 2 possible CPUs) for the same specs.
const CASES: readonly [MapSpec, number, ((m: ReturnType<typeof createMap>) => void)?][] = [
  [{ type: 2, keySize: 4, valueSize: 4, maxEntries: 1 }, 320],
  [{ type: 2, keySize: 4, valueSize: 12, maxEntries: 10 }, 472],
  [{ type: 2, keySize: 4, valueSize: 8, maxEntries: 1000 }, 8312],
  [{ type: 2, keySize: 4, valueSize: 8, maxEntries: 10, flags: 1024 }, 8192],
  [{ type: 6, keySize: 4, valueSize: 8, maxEntries: 10 }, 552],
  [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 1 }, 1120],
  [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 100 }, 9488],
  [{ type: 1, keySize: 4, valueSize: 16, maxEntries: 100 }, 10304],
  [{ type: 1, keySize: 3, valueSize: 5, maxEntries: 10 }, 1936],
  [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 100, flags: 1 }, 2944],
  [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 100, flags: 1 }, 3304, (m) => { for (let i = 0; i < 5; i++) m.update(new Uint8Array([i, 0, 0, 0]), new Uint8Array(8)); }],
  [{ type: 5, keySize: 4, valueSize: 8, maxEntries: 100, flags: 1 }, 3464, (m) => { for (let i = 0; i < 5; i++) m.update(new Uint8Array([i, 0, 0, 0]), new Uint8Array(16)); }],
  [{ type: 5, keySize: 4, valueSize: 8, maxEntries: 100 }, 10944],
  [{ type: 9, keySize: 4, valueSize: 8, maxEntries: 100 }, 9344],
  [{ type: 9, keySize: 4, valueSize: 8, maxEntries: 100, flags: 2 }, 9344],
  [{ type: 10, keySize: 4, valueSize: 8, maxEntries: 100 }, 10944],
  [{ type: 13, keySize: 4, valueSize: 4, maxEntries: 10, innerMap: { type: 2, keySize: 4, valueSize: 4, maxEntries: 1 } }, 1808],
  [{ type: 12, keySize: 4, valueSize: 4, maxEntries: 10, innerMap: { type: 2, keySize: 4, valueSize: 4, maxEntries: 1 } }, 392],
  [{ type: 3, keySize: 4, valueSize: 4, maxEntries: 10 }, 392],
  [{ type: 4, keySize: 4, valueSize: 4, maxEntries: 10 }, 392],
  [{ type: 22, keySize: 0, valueSize: 8, maxEntries: 100 }, 1120],
  [{ type: 23, keySize: 0, valueSize: 4, maxEntries: 10 }, 356],
  [{ type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 }, 16728],
  [{ type: 27, keySize: 0, valueSize: 0, maxEntries: 16384 }, 29064],
  [{ type: 30, keySize: 0, valueSize: 4, maxEntries: 100 }, 440],
  [{ type: 30, keySize: 0, valueSize: 4, maxEntries: 1000 }, 1336],
  [{ type: 30, keySize: 0, valueSize: 4, maxEntries: 3 }, 320],
  [{ type: 30, keySize: 0, valueSize: 4, maxEntries: 100, mapExtra: 3n }, 376],
  [{ type: 7, keySize: 4, valueSize: 16, maxEntries: 100 }, 4544],
  [{ type: 7, keySize: 4, valueSize: 16, maxEntries: 200 }, 8768],
  [{ type: 7, keySize: 4, valueSize: 8, maxEntries: 1 }, 352],
  [{ type: 11, keySize: 8, valueSize: 8, maxEntries: 100, flags: 1 }, 0],
  [{ type: 11, keySize: 8, valueSize: 8, maxEntries: 100, flags: 1 }, 72, (m) => {
    m.update(new Uint8Array([8, 0, 0, 0, 10, 0, 0, 0]), new Uint8Array(8));
    m.update(new Uint8Array([16, 0, 0, 0, 10, 1, 0, 0]), new Uint8Array(8));
  }],
];

test("memlock equals what Linux 6.18 charges for the same maps (bpftool's memlock)", () => {
  for (const [spec, want, fill] of CASES) {
    const m = createMap(new AddressSpace(), spec, { nCpus: 2 });
    fill?.(m);
    assert.equal(memlockOf(m), want, JSON.stringify(spec, (_, v) => (typeof v === "bigint" ? String(v) : v)));
  }
});
