// The light skeleton's loader generator on the own C corpus (clang; skipped visibly without it), without bpftool or a
// kernel: the loader's layout (prologue, cleanup jump, one map-create per map, one prog-load per program, epilogue),
// the blob's fd_array and the object's BTF in it, and libbpf's refusals. Byte-identity with bpftool is
// test/oracle/gen-lskel.test.ts; running it in the kernel is test/oracle/lskel-kernel.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeBtf } from "../btf/encode.ts";
import { generateLoader, LoaderGenError, loadObject } from "./index.ts";
import type { BpfObject } from "./index.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

function own(name: string, t: { skip(m: string): void }): BpfObject | undefined {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const o = built.find((b) => b.name === name)!;
  return loadObject(readFileSync(o.path), { fileName: o.path });
}

/** Calls of one helper in the loader, and BPF_MOV64_IMM r1, cmd before each sys_bpf call. */
function calls(insns: Uint8Array, helper: number): number[] {
  const dv = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const cmds: number[] = [];
  for (let o = 0; o < insns.length; o += 8) {
    if (insns[o] !== 0x85 || dv.getInt32(o + 4, true) !== helper) continue;
    // sys_bpf: mov r1, CMD; lddw r2, attr (2 slots); mov r3, size; call
    cmds.push(helper === 166 ? dv.getInt32(o - 32 + 4, true) : 0);
  }
  return cmds;
}

test("the loader records BTF load, each map's create/update/freeze and each program's load", (t) => {
  const obj = own("globals", t);
  if (!obj) return;
  const l = generateLoader(obj, { possibleCpus: 4 });
  // prologue: r6 = ctx; zero the stack through probe_read_kernel
  assert.deepEqual([...l.insns.subarray(0, 8)], [0xbf, 0x16, 0, 0, 0, 0, 0, 0]);
  assert.equal(l.insns.length % 8, 0);
  // the epilogue returns 0
  assert.deepEqual([...l.insns.subarray(l.insns.length - 16)], [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  const internal = obj.maps.filter((m) => ["data", "rodata", "bss", "kconfig"].includes(m.origin)).length;
  const frozen = obj.maps.filter((m) => m.origin === "rodata" || m.origin === "kconfig").length;
  const cmds = calls(l.insns, 166);
  const count = (c: number) => cmds.filter((x) => x === c).length;
  assert.equal(count(18), 1, "one BPF_BTF_LOAD");
  assert.equal(count(0), obj.maps.length, "one BPF_MAP_CREATE per map");
  assert.equal(count(2), internal, "initial values of the global-data maps");
  assert.equal(count(22), frozen, "read-only maps frozen");
  assert.equal(count(5), obj.programs.length, "one BPF_PROG_LOAD per program");
  // the blob: a zeroed fd_array of 320 slots, then the object's BTF as libbpf serializes it
  assert.ok(l.data.subarray(0, 1280).every((b) => b === 0));
  const btf = encodeBtf(obj.btf!);
  assert.deepEqual([...l.data.subarray(1280, 1280 + btf.length)], [...btf]);
});

test("objects libbpf cannot record are refused with its warnings", (t) => {
  const obj = own("tailcalls", t);
  if (!obj) return;
  assert.throws(() => generateLoader(obj, { possibleCpus: 1 }), (e) => e instanceof LoaderGenError && e.errno === 95);
  const pinned = { ...obj, maps: obj.maps.map((m, i) => (i === 0 ? { ...m, pinning: 1 } : m)), programs: [] };
  assert.throws(() => generateLoader(pinned, { possibleCpus: 1 }), (e) => e instanceof LoaderGenError &&
    e.warnings.some((w) => w.includes("failed to auto-pin")));
});
