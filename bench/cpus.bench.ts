// Worker-thread CPUs: events per second through a map-updating program (a hash update with a random key out of
// 1024, a per-CPU count and an atomic add into a shared value) on 1, 2 and N worker CPUs of one pool, next to the
// same program on the calling thread. Scaling is bounded by the machine's free cores (os.availableParallelism()).
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { assemble } from "../src/isa/ebpf/index.ts";
import { createMap } from "../src/maps/index.ts";
import { CpuPool } from "../src/node/index.ts";
import { AddressSpace, Vm } from "../src/vm/index.ts";
import { defaultHelpers } from "../src/helpers/index.ts";

const RUNS = Number(process.env.BPFKIT_CPU_BENCH_RUNS ?? 200_000);

export async function main(): Promise<void> {
  const n = Math.max(2, Math.min(availableParallelism(), 8));
  const space = new AddressSpace({ shared: true });
  const vm = new Vm(space, { helpers: defaultHelpers });
  const hash = createMap(space, { type: 1, keySize: 4, valueSize: 8, maxEntries: 1024, name: "h" }, { nCpus: n });
  const pcpu = createMap(space, { type: 6, keySize: 4, valueSize: 8, maxEntries: 1, name: "c" }, { nCpus: n });
  const shared = createMap(space, { type: 2, keySize: 4, valueSize: 8, maxEntries: 1, name: "a" }, { nCpus: n });
  const prog = vm.load(assemble(`
    call 7
    r0 &= 1023
    *(u32 *)(r10 - 4) = r0
    *(u64 *)(r10 - 16) = r0
    r1 = ${hash.address} ll
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0
    call 2
    *(u32 *)(r10 - 4) = 0
    r1 = ${pcpu.address} ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto shared
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
  shared:
    r1 = ${shared.address} ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
  out:
    r0 = 0
    exit`));
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) vm.run(prog);
  const here = RUNS / ((performance.now() - t0) / 1000);
  const pool = await CpuPool.start(space, { nCpus: n });
  try {
    await pool.fire(prog, { repeat: 2000 }); // warm every CPU up
    console.log(`events/s, map-updating program (${RUNS} events per row; ${availableParallelism()} cores available)`);
    console.log(`${"calling thread (no workers)".padEnd(30)} ${fmt(here).padStart(12)}   1.00x`);
    for (const k of [...new Set([1, 2, n])]) {
      const cpus = Array.from({ length: k }, (_, i) => i);
      const t = performance.now();
      const res = await pool.fire(prog, { repeat: Math.ceil(RUNS / k), cpus });
      const s = (performance.now() - t) / 1000;
      const runs = res.reduce((a, r) => a + r.runs, 0);
      console.log(`${`${k} worker CPU${k > 1 ? "s" : ""}`.padEnd(30)} ${fmt(runs / s).padStart(12)}   ${(runs / s / here).toFixed(2)}x`);
    }
  } finally {
    await pool.close();
  }
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");
