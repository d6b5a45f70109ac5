// The seed's lost updates on bpfkit's worker-thread CPUs: the tracer's `@cpuhash = count(); @hash++;` program fired
// concurrently on every worker CPU over one shared address space. count() (per-CPU hash) is exact; the plain hash's
// non-atomic ++ is at most the number of events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLostUpdatesVm } from "./trace-cpus.ts";

const N = Math.max(2, Number(process.env.BPFKIT_CPUS ?? 2));

test("lostupdates on worker CPUs: per-CPU count exact, shared hash at most the events", async () => {
  const each = 20000;
  const r = await runLostUpdatesVm(N, each);
  console.log(`worker CPUs: ${N} x ${each} events: @cpuhash ${r.perCpu}, @hash ${r.hash}, lost ${r.perCpu - r.hash}`);
  assert.equal(r.perCpu, BigInt(N * each));
  assert.ok(r.hash <= r.perCpu && r.hash > 0n);
});
