// The runtime's System on worker CPUs: a whole clang-built object opened into a System whose address space is shared
// and whose executor is a CpuPool of 2 workers. XDP packets run on each CPU in turn; the entry program tail-calls the
// leaf through the object's prog array (shared memory: the CPU finds the target by its code address), the leaf counts
// per CPU and records bpf_get_smp_processor_id().
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { System, openObject, runXdp, XDP_PASS } from "../runtime/index.ts";
import { assemble } from "../isa/ebpf/index.ts";
import { CpuPool } from "./cpu-pool.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

test("a whole object runs on 2 worker CPUs: tail calls through its prog array, per-CPU counts, CPU ids", async (t) => {
  const own = buildOwnCorpus();
  if (typeof own === "string") { console.log(`SKIP system-cpus: ${own}`); t.skip(own); return; }
  const obj = own.find((o) => o.name === "tailcalls")!;
  let pool: CpuPool | undefined;
  const sys = new System({ nCpus: 2, shared: true, executor: (_vm, space) => (pool = CpuPool.open(space, { nCpus: 2 })) });
  try {
    await pool!.ready;
    const o = openObject(sys, new Uint8Array(readFileSync(obj.path)));
    assert.deepEqual([...o.skipped], []);
    const link = o.programs.get("entry")!.attach({ kind: "xdp", ifindex: 7 });
    const packet = new Uint8Array(64);
    const per = [3, 5];
    for (let cpu = 0; cpu < 2; cpu++) {
      const verdicts = runXdp(sys, 7, Array.from({ length: per[cpu]! }, () => packet), cpu);
      assert.deepEqual(verdicts.map((v) => v.verdict), new Array(per[cpu]).fill(XDP_PASS), "the leaf's verdict: the tail call was taken");
    }
    const key0 = new Uint8Array(4);
    const slots = o.maps.get("hits")!.lookupPerCpu(key0)!;
    assert.deepEqual(slots.map((v) => Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true))), per, "each CPU counted its own packets");
    const seen = (cpu: number): number => {
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, cpu, true);
      const v = o.maps.get("seen_cpu")!.lookup(k)!;
      return Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true));
    };
    assert.deepEqual([seen(0), seen(1)], per, "bpf_get_smp_processor_id() is the worker's index");
    link.close();
    o.close();
  } finally {
    await pool?.close();
  }
});

test("map-in-map on worker CPUs: an array of maps resolves its inner map through shared memory", async () => {
  let pool: CpuPool | undefined;
  const sys = new System({ nCpus: 2, shared: true, executor: (_vm, space) => (pool = CpuPool.open(space, { nCpus: 2 })) });
  try {
    await pool!.ready;
    const inner = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 2, name: "inner" });
    const outer = sys.mapCreate({ mapType: 12, keySize: 4, valueSize: 4, maxEntries: 1, innerMapFd: inner, name: "outer" });
    const fdBytes = new Uint8Array(4);
    new DataView(fdBytes.buffer).setUint32(0, inner, true);
    sys.mapUpdateElem(outer, new Uint8Array(4), fdBytes);
    // r0 = outer[0] ; r0 = r0[smp_processor_id()] ; *r0 += 1
    const insns = assemble([
      "r1 = 0", "*(u32 *)(r10 - 4) = r1", "r2 = r10", "r2 += -4", "r1 = 0 ll", "call 1", "if r0 == 0 goto +9",
      "r6 = r0", "call 8", "*(u32 *)(r10 - 8) = r0", "r2 = r10", "r2 += -8", "r1 = r6", "call 1", "if r0 == 0 goto +2",
      "r1 = 1", "lock *(u64 *)(r0 + 0) += r1", "r0 = 0", "exit",
    ].join("\n")).map((x) => (x.code === 0x18 && x.imm === 0 && x.src === 0 ? { ...x, src: 1, imm: 0 } : x));
    // loaded straight into the VM: bpfkit's verifier does not type map-in-map lookups yet (R0 as the inner map)
    const loaded = sys.vm.load(insns, { type: "perf_event", name: "mim", resolve: { map: () => sys.vmMap(outer).address, mapValue: () => 0 } });
    for (const cpu of [0, 1, 1]) sys.executor.run(loaded, { cpu });
    const counts = [0, 1].map((k) => {
      const key = new Uint8Array(4), v = new Uint8Array(8);
      new DataView(key.buffer).setUint32(0, k, true);
      sys.mapLookupElem(inner, key, v);
      return Number(new DataView(v.buffer).getBigUint64(0, true));
    });
    assert.deepEqual(counts, [1, 2], "each CPU reached the inner map through the outer one");
  } finally {
    await pool?.close();
  }
});
