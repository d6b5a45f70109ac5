// Replays the kernel-recorded corpus (test/fixtures/verifier/cases.json) without the kernel: bpfkit must give the
// kernel's verdict, error line and errno on every case. Plus the API's shape: facts, logs, explanations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RECORDED_NR_CPUS, compareCase, loadCases, toInsns } from "../../conformance/verifier.ts";
import { assemble } from "../isa/ebpf/index.ts";
import { explain, verify } from "./index.ts";

test("every recorded kernel verdict is reproduced (corpus replay)", () => {
  const misses: string[] = [];
  const cases = loadCases().filter((c) => (c.expected.processed ?? 0) < 100_000); // the 1M-insn case runs in conformance
  for (const c of cases) {
    const r = compareCase(c);
    if (r.miss) misses.push(`${c.name}: ${r.miss}`);
  }
  assert.ok(cases.length >= 300, `corpus has ${cases.length} cases`);
  assert.deepEqual(misses, []);
});

test("every recorded unprivileged kernel verdict is reproduced (corpus replay, no capabilities)", () => {
  const misses: string[] = [];
  const cases = loadCases(true);
  for (const c of cases) {
    const r = compareCase(c);
    if (r.miss) misses.push(`${c.name}: ${r.miss}`);
  }
  assert.ok(cases.length >= 300, `unprivileged corpus has ${cases.length} cases`);
  assert.deepEqual(misses, []);
});

test("processed counts stay within 2x of the kernel's on at least 99% of the corpus", () => {
  let n = 0;
  const off: string[] = [];
  for (const c of loadCases()) {
    if (!c.expected.processed || c.expected.processed >= 100_000) continue;
    n++;
    const r = verify(toInsns(c.insns), { progType: c.progType, maps: c.maps ?? [], nrCpus: RECORDED_NR_CPUS });
    if (r.processed > 2 * c.expected.processed || 2 * r.processed < c.expected.processed) {
      off.push(`${c.name}: bpfkit ${r.processed} kernel ${c.expected.processed}`);
    }
  }
  assert.ok(off.length <= n / 100, off.join("\n"));
});

const lookupProgram = `r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto pc+1
r0 = *(u64 *)(r0 +0)
r0 = 0
exit`;
const arr = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4 };

test("facts name the proven accesses for the JIT", () => {
  const r = verify(assemble(lookupProgram), { progType: "socket_filter", maps: [arr] });
  assert.equal(r.accepted, true);
  assert.deepEqual(r.facts.map((f) => [f.pc, f.kind, f.size]), [[1, "stack", 4], [8, "map_value", 8]]);
});

test("a rejection carries the kernel's line, pc, errno, and the log ends like the kernel's", () => {
  const r = verify(assemble("r0 = *(u64 *)(r10 -520)\nexit"), { progType: "socket_filter", logLevel: 1 });
  assert.equal(r.accepted, false);
  assert.deepEqual([r.error?.pc, r.error?.message, r.error?.errno], [0, "invalid read from stack R10 off=-520 size=8", 13]);
  assert.match(r.log, /\nprocessed 1 insns \(limit 1000000\) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n$/);
});

test("level 2 logs the branch states in the kernel's register format", () => {
  const r = verify(assemble("r0 = *(u32 *)(r1 +0)\nif r0 > 0x5 goto pc+1\nexit\nr0 = 0\nexit"), { progType: "socket_filter", logLevel: 2 });
  assert.match(r.log, /from 1 to 3: R0=scalar\(smin=umin=umin32=6,smax=umax=0xffffffff,var_off=\(0x0; 0xffffffff\)\) R1=ctx\(\) R10=fp0/);
});

test("explain names the path and a fix", () => {
  // A hash map: the lookup may fail whatever the key (array lookups with a constant key cannot).
  const insns = assemble(lookupProgram.replace("if r0 == 0 goto pc+1\n", "r1 = 1\n"));
  const r = verify(insns, { progType: "socket_filter", maps: [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 4 }] });
  const text = explain(insns, r);
  assert.match(text, /rejected at insn 8: R0 invalid mem access 'map_value_or_null'/);
  assert.match(text, /path taken:/);
  assert.match(text, /to pass: the pointer may be NULL/);
});

test("unprivileged mode forbids loops, pointer leaks and uninitialized stack reads", () => {
  const loop = verify(assemble("r0 = 0\nr0 += 1\nif r0 < 4 goto pc-2\nexit"), { progType: "socket_filter", unpriv: true });
  assert.equal(loop.error?.message, "back-edge from insn 2 to 1");
  const leak = verify(assemble("r0 = r10\nexit"), { progType: "socket_filter", unpriv: true });
  assert.equal(leak.error?.message, "R0 leaks addr as return value");
  const uninit = verify(assemble("r0 = *(u64 *)(r10 -8)\nexit"), { progType: "socket_filter", unpriv: true });
  assert.equal(uninit.error?.message, "invalid read from stack R10 off=-8 size=8");
});

test("a program using 65 distinct maps is refused as the kernel refuses it (MAX_USED_MAPS 64); 64 load", () => {
  const maps = Array.from({ length: 65 }, () => ({ type: 2, keySize: 4, valueSize: 8, maxEntries: 1 }));
  const prog = (ids: number[]): string => ids.map((i) => `r1 = map[id:${i}]`).join("\n") + "\nr0 = 0\nexit";
  const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const r = verify(assemble(prog(upTo(65))), { progType: "socket_filter", maps, logLevel: 1 });
  assert.deepEqual([r.accepted, r.error?.message, r.error?.errno], [false, "The total number of maps per program has reached the limit of 64", 7]);
  assert.match(r.log, /^The total number of maps per program has reached the limit of 64\nprocessed 0 insns/);
  // the same map referenced twice counts once
  assert.equal(verify(assemble(prog([...upTo(64), 0])), { progType: "socket_filter", maps }).accepted, true);
});

test("w7 = w7 after `if w7 > 16` keeps r7 at most 16 (zext_32_to_64 takes the 32-bit bounds)", () => {
  const value17 = { type: 2, keySize: 4, valueSize: 17, maxEntries: 1 };
  const asm = `call bpf_ktime_get_ns#5
r7 = r0
if w7 > 16 goto pc+12
w7 = w7
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto pc+3
r0 += r7
r0 = *(u8 *)(r0 +0)
exit
r0 = 0
exit`;
  const r = verify(assemble(asm), { progType: "socket_filter", maps: [value17], logLevel: 2 });
  assert.equal(r.accepted, true, r.error?.message);
  assert.match(r.log, /3: \(bc\) w7 = w7 +; R7=scalar\(smin=smin32=0,smax=umax=smax32=umax32=16,var_off=\(0x0; 0x1f\)\)\n/);
});

test("a loop bounded only by the packet length hits the 1M processed-insn limit with the kernel's line", () => {
  // kernel 6.18: "BPF program is too large. Processed 1000001 insn" after 1.4 s; bpfkit took 50+ minutes when each
  // branch copied the whole path so far (quadratic in the path length).
  const r = verify(assemble("r2 = *(u32 *)(r1 +0)\nr0 = 0\nr3 = 0\nr0 += 1\nif r0 < r2 goto pc-2\nexit"), { progType: "socket_filter" });
  assert.deepEqual([r.accepted, r.error?.message, r.error?.errno], [false, "BPF program is too large. Processed 1000001 insn", 28]);
});

test("a packet-pointer walk stops at the kernel's jump-sequence limit, counted as push_stack counts it", () => {
  const asm = "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 1\nif r4 > r3 goto pc+2\nr2 = r4\ngoto pc-5\nr0 = 0\nexit";
  const r = verify(assemble(asm), { progType: "xdp", logLevel: 1 });
  assert.deepEqual([r.accepted, r.error?.message, r.error?.errno], [false, "The sequence of 8193 jumps is too complex.", 7]);
  assert.match(r.log, /\nprocessed 40965 insns \(limit 1000000\) max_states_per_insn 4 total_states 820 peak_states 820 mark_read 0\n$/);
});
