// Map-in-map lookups: a lookup in an ARRAY_OF_MAPS / HASH_OF_MAPS gives a pointer to the inner map (the kernel's
// CONST_PTR_TO_MAP of the inner map's meta: its type, sizes, no name), NULL until checked, usable as a helper's map
// argument. A raw program for the typing, and clang-built fixtures (test/fixtures/verifier/map-in-map) against the
// kernel: same verdicts, same error lines, same per-instruction states in the level-2 log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { assemble } from "../isa/ebpf/index.ts";
import { loadObject } from "../object/index.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";
import { kernelAvailable } from "../../test/oracle/kernel.ts";
import { verify, type VerifierMapSpec } from "./index.ts";

const INNER = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 };
const MAPS: VerifierMapSpec[] = [{ type: 12, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, name: "outer", innerMap: INNER }];

const LOOKUP_INNER = `
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call 1
`;

test("a map-in-map lookup is the inner map, NULL until checked, then a map argument", () => {
  const r = verify(assemble(`${LOOKUP_INNER}
if r0 == 0 goto +7
r1 = r0
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +2
r0 = *(u64 *)(r0 +0)
exit
r0 = 0
exit`), { progType: "socket_filter", maps: MAPS, logLevel: 2 });
  assert.equal(r.accepted, true, r.error?.message);
  assert.match(r.log, /call bpf_map_lookup_elem#1 +; R0=map_ptr_or_null\(id=1,ks=4,vs=8\)\n/);
  assert.match(r.log, /r1 = r0 +; R0=map_ptr\(ks=4,vs=8\) R1=map_ptr\(ks=4,vs=8\)\n/);
  // a constant key below the inner array's max_entries: the lookup cannot fail (can_elide_value_nullness)
  assert.match(r.log, /call bpf_map_lookup_elem#1 +; R0=map_value\(ks=4,vs=8\)\n/);
});

test("map-in-map: the inner map's value size bounds its values; an unchecked inner map is no map argument", () => {
  const oob = verify(assemble(`${LOOKUP_INNER}
if r0 == 0 goto +7
r1 = r0
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +2
r0 = *(u64 *)(r0 +8)
exit
r0 = 0
exit`), { progType: "socket_filter", maps: MAPS });
  assert.equal(oob.error?.message, "R0 min value is outside of the allowed memory range");
  const unchecked = verify(assemble(`${LOOKUP_INNER}
r1 = r0
r2 = r10
r2 += -4
call 1
r0 = 0
exit`), { progType: "socket_filter", maps: MAPS });
  assert.equal(unchecked.error?.message, "R1 type=map_ptr_or_null expected=map_ptr");
  const write = verify(assemble(`${LOOKUP_INNER}
if r0 == 0 goto +1
*(u32 *)(r0 +0) = 1
r0 = 0
exit`), { progType: "socket_filter", maps: MAPS });
  assert.equal(write.error?.message, "only read from bpf_array is supported");
});

/** What the kernel (6.18) says about each fixture program: bpfkit must say the same without a kernel at hand. */
const EXPECTED: Record<string, string> = {
  aom_read: "accepted", aom_write: "accepted", aom_update: "accepted", hom_read: "accepted", inner_value_null: "accepted",
  no_null_check: "R1 type=map_ptr_or_null expected=map_ptr",
  inner_value_oob: "R0 min value is outside of the allowed memory range",
  hom_value_oob: "R0 min value is outside of the allowed memory range",
  write_through_inner: "only read from bpf_array is supported",
};

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/verifier/map-in-map/", import.meta.url));
/** The error line of a kernel log: the last line before `processed ...`. */
const errorLine = (log: string): string => log.split("\n").filter((l) => l).slice(-2, -1)[0] ?? "";
/** Instruction and state lines of a level-2 log, map addresses (kernel) and map references (bpfkit) masked. */
const stateLines = (log: string): string[] =>
  log.split("\n").filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/= (0x[0-9a-f]{16}|map\[id:\d+\])( ll)? +;/, "= MAP ;").replace(/ +;/, " ;"));

test("map-in-map fixtures: bpfkit's verdicts and error lines, and the kernel's on the same objects", async (t) => {
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") { console.log(`skipping map-in-map fixtures: ${built}`); t.skip(built); return; }
  const objects = built.map((b) => loadObject(new Uint8Array(readFileSync(b.path)), { fileName: b.name }));
  const ours = new Map<string, { line: string; log: string }>();
  for (const obj of objects) {
    for (const p of obj.programs) {
      const r = verify(p.insns, { progType: p.progType, maps: obj.maps, btfFuncInfo: p.funcInfo.length > 0, license: obj.license, logLevel: 2 });
      ours.set(p.name, { line: r.accepted ? "accepted" : r.error?.message ?? "", log: r.log });
    }
  }
  assert.deepEqual(Object.fromEntries([...ours].map(([k, v]) => [k, v.line])), EXPECTED);
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`map-in-map fixtures: kernel side skipped: ${ok}`); return; }
  const { loadObjectIntoKernel } = await import("../kernel/object-loader.ts");
  const differ: string[] = [];
  for (const obj of objects) {
    const loaded = await loadObjectIntoKernel(obj);
    try {
      for (const p of obj.programs) {
        const klog = loaded.skipped.get(p.name);
        const theirs = klog === undefined ? "accepted" : errorLine(klog);
        const mine = ours.get(p.name)!;
        if (theirs !== mine.line) differ.push(`${p.name}: kernel "${theirs}", bpfkit "${mine.line}"`);
        // Refused programs come with the kernel's level-2 log: the walk must be the same, state for state.
        if (klog !== undefined) assert.deepEqual(stateLines(mine.log), stateLines(klog), p.name);
      }
    } finally { loaded.close(); }
  }
  console.log(`map-in-map fixtures: ${ours.size} programs, ${differ.length} verdicts differ from the kernel's`);
  assert.deepEqual(differ, []);
});
