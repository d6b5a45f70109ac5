// openObject over both backends: the same clang-built objects loaded into Linux and into a bpfkit System, the same
// events (BPF_PROG_TEST_RUN with the same packets) fired through the same Program API, and every map compared after
// (per-CPU maps by their sum over CPUs: the kernel's test run takes whichever CPU it is on).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { System, openObject, type LoadedObject } from "../../src/runtime/index.ts";
import { linux } from "../../src/kernel/backend.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { skipWithoutKernel } from "./kernel.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Every map's contents as text: entries sorted by key, per-CPU values summed as u64 words. */
function contents(o: LoadedObject): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, m] of o.maps) {
    if (m.type === 27 || m.type === 4) continue; // ring buffers and perf arrays hold no user-readable entries
    const rows: string[] = [];
    for (const k of m.keys()) {
      const vs = m.lookupPerCpu(k);
      if (!vs) continue;
      if (!m.perCpu) { rows.push(`${hex(k)}=${hex(vs[0]!)}`); continue; }
      const sum = new Uint8Array(m.valueSize);
      const dv = new DataView(sum.buffer);
      for (const v of vs) for (let i = 0; i + 8 <= m.valueSize; i += 8) dv.setBigUint64(i, dv.getBigUint64(i, true) + new DataView(v.buffer, v.byteOffset).getBigUint64(i, true), true);
      rows.push(`${hex(k)}=${hex(sum)}`);
    }
    out[name] = rows.sort();
  }
  return out;
}

test("the same objects and events through Linux and the VM leave the same map contents", (t) => {
  const own = buildOwnCorpus();
  if (skipWithoutKernel(t, "runtime-backends", typeof own === "string" ? own : undefined)) return;
  const objects = (own as { name: string; path: string }[]).filter((o) => ["xdp_maps.bpf", "globals.bpf", "subprogs.bpf"].includes(o.name.replace(/\.o$/, "")) || /xdp_maps|globals|subprogs/.test(o.path));
  assert.ok(objects.length >= 2, "fixtures built");
  const packets = [60, 200, 64, 1500, 14, 101].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff));
  let compared = 0;
  for (const { path } of objects) {
    const bytes = new Uint8Array(readFileSync(path));
    const k = openObject(linux, bytes, { fileName: path });
    const v = openObject(new System({ nCpus: linux.possibleCpus(), kernelBtf: linux.kernelBtf(), kconfig: linux.kconfig() }), bytes, { fileName: path });
    try {
      assert.deepEqual([...v.programs.keys()], [...k.programs.keys()], `${path}: the same programs load`);
      for (const [name, kp] of k.programs) {
        const vp = v.programs.get(name)!;
        if (![1, 3, 6].includes(kp.type)) continue; // test-runnable with packets: socket filter, sched_cls, xdp
        for (const pkt of packets) {
          let kr: number | string, vr: number | string;
          try { kr = kp.testRun(pkt).retval; } catch (e) { kr = (e as { code?: string }).code ?? "error"; }
          try { vr = vp.testRun(pkt).retval; } catch (e) { vr = (e as { code?: string }).code ?? "error"; }
          assert.equal(vr, kr, `${path}:${name} on ${pkt.length} bytes`);
        }
      }
      assert.deepEqual(contents(v), contents(k), `${path}: map contents`);
      compared++;
    } finally {
      k.close();
      v.close();
    }
  }
  console.log(`runtime-backends: ${compared} objects, same verdicts and map contents on Linux and the VM`);
});
