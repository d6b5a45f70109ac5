// The runtime's System on worker CPUs: a whole clang-built object opened into a System whose address space is shared
// and whose executor is a CpuPool of 2 workers. XDP packets run on each CPU in turn; the entry program tail-calls the
// leaf through the object's prog array (shared memory: the CPU finds the target by its code address), the leaf counts
// per CPU and records bpf_get_smp_processor_id().
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { System, openObject, runXdp, XDP_PASS } from "../runtime/index.ts";
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
