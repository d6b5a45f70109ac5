// Log level 4 (BPF_LOG_STATS): the kernel adds "verification time N usec" and "stack depth A+B" before the processed
// line. Both verifiers must agree on the stack depth of every accepted corpus program (the time is reported, not compared).
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { kernelAvailable, kernelLoad } from "./kernel.ts";
import { loadCases, toInsns } from "../../conformance/verifier.ts";
import { verify } from "../../src/verifier/index.ts";

// A zero-sized helper access through a stack pointer still sizes the frame in the kernel (check_helper_mem_access
// with size 0); bpfkit does not count it yet.
const KNOWN = new Set(["helper probe_read zero"]);

const depthLine = (log: string): string | undefined => log.split("\n").find((l) => l.startsWith("stack depth "));

test("stats level: stack depth and processed line equal the kernel's on accepted corpus programs", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping verifier stats comparison: ${ok}`); t.skip(ok); return; }
  const differ: string[] = [];
  let n = 0;
  for (const c of loadCases()) {
    if (!c.expected.accepted || (c.expected.processed ?? 0) >= 100_000) continue;
    n++;
    const insns = toInsns(c.insns);
    const k = kernelLoad(insns, { progType: c.progType, maps: c.maps ?? [], logLevel: 4 });
    k.close();
    const b = verify(insns, { progType: c.progType, maps: c.maps ?? [], logLevel: 4, nrCpus: availableParallelism() });
    assert.match(b.log, /^verification time \d+ usec$/m);
    const kTail = k.log.trim().split("\n").slice(-2), bTail = b.log.trim().split("\n").slice(-2);
    if (depthLine(k.log) !== depthLine(b.log) || kTail[1] !== bTail[1]) differ.push(`${c.name}: kernel ${kTail.join(" / ")}, bpfkit ${bTail.join(" / ")}`);
  }
  console.log(`verifier stats: ${n - differ.length}/${n} accepted programs with the kernel's stack depth and processed line`);
  assert.deepEqual(differ.filter((d) => !KNOWN.has(d.slice(0, d.indexOf(":")))), []);
});
