// The seed's lost updates on bpfkit's worker-thread CPUs: the tracer's `@cpuhash = count(); @hash++;` program fired
// concurrently on every worker CPU over one shared address space. count() (per-CPU hash) is exact; the plain hash's
// non-atomic ++ is at most the number of events. And printf from every worker CPU reaches the tracer's output through
// the CPUs' perf buffers in the shared memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileScript } from "../trace/script.ts";
import { VmTrace } from "../trace/vm-backend.ts";
import { AddressSpace } from "../vm/index.ts";
import { CpuPool } from "./cpu-pool.ts";
import { runLostUpdatesVm } from "./trace-cpus.ts";

const N = Math.max(2, Number(process.env.BPFKIT_CPUS ?? 2));

test("lostupdates on worker CPUs: per-CPU count exact, shared hash at most the events", async () => {
  const each = 20000;
  const r = await runLostUpdatesVm(N, each);
  console.log(`worker CPUs: ${N} x ${each} events: @cpuhash ${r.perCpu}, @hash ${r.hash}, lost ${r.perCpu - r.hash}`);
  assert.equal(r.perCpu, BigInt(N * each));
  assert.ok(r.hash <= r.perCpu && r.hash > 0n);
});

test("printf on worker CPUs: every CPU's perf buffer reaches the tracer's output, each line once", async () => {
  const env = { tracepoints: () => ["syscalls:sys_enter_getppid"], tracepointFormat: () => "format:\n" };
  const space = new AddressSpace({ shared: true });
  const vm = new VmTrace(compileScript('tracepoint:syscalls:sys_enter_getppid { printf("cpu %d\\n", cpu); @n[cpu] = count(); }', { env, ncpus: N }), { cpus: N, space });
  const pool = await CpuPool.start(space, { nCpus: N });
  const each = 300; // within a 64-page perf buffer per CPU: nothing is lost
  try {
    const results = await pool.fire(vm.program(0), { repeat: each });
    assert.deepEqual(results.map((r) => r.faults), results.map(() => 0), results.find((r) => r.error)?.error);
  } finally {
    await pool.close();
  }
  const out = vm.finish();
  for (let c = 0; c < N; c++) {
    assert.equal(out.split("\n").filter((l) => l === `cpu ${c}`).length, each, `printf lines from cpu ${c}`);
    assert.match(out, new RegExp(`@n\\[${c}\\]: ${each}\\n`));
  }
});
