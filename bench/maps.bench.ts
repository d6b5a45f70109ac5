// Map operation speed: bpfkit's user-space map commands next to the same commands on Linux maps through bpf()
// (update, lookup, get_next_key walk on HASH, ARRAY and LPM_TRIE), plus bpfkit's program-side operations (what a
// bpf_map_lookup_elem call costs the interpreter), in ns per operation. The kernel column needs root and bpf().
import { performance } from "node:perf_hooks";
import { closeFd, mapCreate, mapGetNextKey, mapLookupElem, mapUpdateElem } from "../src/kernel/bpf.ts";
import { nativeUnavailable } from "../src/kernel/libc.ts";
import { createMap } from "../src/maps/index.ts";
import type { MapSpec, RingBufMap } from "../src/maps/index.ts";
import { AddressSpace } from "../src/vm/memory.ts";

const N = 200_000;

export function time(f: (i: number) => void, n = N): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) f(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return ((performance.now() - t) * 1e6) / n;
}

export function kernelReady(): string | undefined {
  const why = nativeUnavailable();
  if (why) return why;
  try { closeFd(mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1 })); return undefined; } catch (e) { return (e as Error).message; }
}

interface Case { name: string; spec: MapSpec; key: (i: number) => Uint8Array }
const u32 = (n: number) => new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]);
const CASES: Case[] = [
  { name: "hash 4B key", spec: { type: 1, keySize: 4, valueSize: 8, maxEntries: 10240 }, key: (i) => u32(i % 10000) },
  { name: "array", spec: { type: 2, keySize: 4, valueSize: 8, maxEntries: 10240 }, key: (i) => u32(i % 10000) },
  { name: "lpm_trie /24", spec: { type: 11, keySize: 8, valueSize: 8, maxEntries: 10240, flags: 1 }, key: (i) => new Uint8Array([24, 0, 0, 0, 10, (i >>> 8) & 0x1f, i & 0xff, 0]) },
];

export async function main(): Promise<void> {
  const why = kernelReady();
  const value = new Uint8Array(8).fill(7);
  const out = new Uint8Array(8);
  console.log("user-space commands, ns/op        bpfkit    Linux bpf()   ratio");
  for (const c of CASES) {
    const m = createMap(new AddressSpace(), c.spec);
    const keys = Array.from({ length: 8192 }, (_, i) => c.key(i));
    const fd = why ? -1 : mapCreate({ mapType: c.spec.type, keySize: c.spec.keySize, valueSize: c.spec.valueSize, maxEntries: c.spec.maxEntries, mapFlags: c.spec.flags ?? 0 });
    try {
      const rows: [string, (i: number) => void, (i: number) => void][] = [
        ["update", (i) => m.update(keys[i & 8191]!, value), (i) => mapUpdateElem(fd, keys[i & 8191]!, value)],
        ["lookup", (i) => m.lookup(keys[i & 8191]!), (i) => mapLookupElem(fd, keys[i & 8191]!, out)],
        ["get_next_key", (i) => m.getNextKey(keys[i & 8191]!), (i) => mapGetNextKey(fd, keys[i & 8191]!, out.subarray(0, c.spec.keySize))],
      ];
      for (const [op, ours, theirs] of rows) {
        const a = time(ours);
        const b = why ? NaN : time(theirs);
        console.log(`${(c.name + " " + op).padEnd(32)} ${a.toFixed(0).padStart(7)} ${why ? "      -" : b.toFixed(0).padStart(12)} ${why ? "" : (a / b).toFixed(2).padStart(7)}`);
      }
    } finally {
      if (fd >= 0) closeFd(fd);
    }
  }
  if (why) console.log(`(Linux column skipped: ${why})`);

  console.log("\nprogram-side operations (bpfkit), ns/op");
  const space = new AddressSpace();
  const buf = space.alloc(64, { kind: "stack" });
  for (const c of CASES) {
    const m = createMap(space, c.spec);
    for (let i = 0; i < 10000; i++) { space.u8.set(c.key(i), buf.start); m.updateElem(buf.start, buf.start + 16, 0, 0); }
    const keyAddr = buf.start;
    const t = time((i) => { space.u8[keyAddr + (c.spec.type === 11 ? 6 : 0)] = i & 0xff; m.lookupElem(keyAddr, 0); }, 2 * N);
    console.log(`${(c.name + " lookupElem").padEnd(32)} ${t.toFixed(0).padStart(7)}`);
  }
  const lru = createMap(space, { type: 9, keySize: 4, valueSize: 8, maxEntries: 1024 }, { nCpus: 2 });
  const tl = time((i) => { space.dv.setUint32(buf.start, i, true); lru.updateElem(buf.start, buf.start + 16, 0, i & 1); });
  console.log(`${"lru_hash updateElem (evicting)".padEnd(32)} ${tl.toFixed(0).padStart(7)}`);
  const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 1 << 16 }) as RingBufMap;
  const t = time((i) => { rb.output(buf.start, 32, 0); if ((i & 1023) === 1023) rb.consume(() => 0); });
  console.log(`${"ringbuf output 32B (+consume)".padEnd(32)} ${t.toFixed(0).padStart(7)}`);
}
