// The verifier corpus against the running kernel: every case of test/fixtures/verifier/cases.json is loaded again with
// bpf(BPF_PROG_LOAD), and both the kernel (unchanged since recording) and bpfkit must give the recorded verdict and line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { kernelAvailable, kernelLoad } from "./kernel.ts";
import { loadCases, toInsns } from "../../conformance/verifier.ts";
import { kernelVerdict } from "../../scripts/record-verifier-cases.ts";
import { verify } from "../../src/verifier/index.ts";

test("kernel still gives the recorded verdicts, and bpfkit agrees", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping verifier kernel corpus: ${ok}`); t.skip(ok); return; }
  const drift: string[] = [];
  const misses: string[] = [];
  for (const c of loadCases()) {
    if ((c.expected.processed ?? 0) >= 100_000) continue; // the 1M-insn case is covered by conformance
    const insns = toInsns(c.insns);
    const k = kernelVerdict(insns, c.progType, c.maps);
    if (k.accepted !== c.expected.accepted || k.error !== c.expected.error) {
      drift.push(`${c.name}: recorded ${c.expected.error ?? "accept"}, kernel now ${k.error ?? "accept"}`);
    }
    const b = verify(insns, { progType: c.progType, maps: c.maps ?? [], nrCpus: availableParallelism() });
    if (b.accepted !== k.accepted || (!k.accepted && b.error?.message !== k.error)) {
      misses.push(`${c.name}: kernel ${k.error ?? "accept"}, bpfkit ${b.error?.message ?? "accept"}`);
    }
  }
  assert.deepEqual(drift, [], "the kernel changed: re-record with scripts/record-verifier-cases.ts");
  assert.deepEqual(misses, []);
});

test("level-1 logs are byte-identical to the kernel's (map addresses aside)", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping verifier log comparison: ${ok}`); t.skip(ok); return; }
  // The kernel prints a map's kernel address where bpfkit prints map[id:N]; both are replaced, with the padding after them.
  const norm = (s: string): string =>
    s.replace(/0xffff[0-9a-f]{12}/g, "MAP").replace(/map\[id:\d+\](\[0\]\+\d+)?/g, "MAP").replace(/MAP +;/g, "MAP ;");
  let same = 0, n = 0;
  const differ: string[] = [];
  for (const c of loadCases()) {
    if ((c.expected.processed ?? 0) >= 100_000) continue;
    n++;
    const insns = toInsns(c.insns);
    const k = kernelLoad(insns, { progType: c.progType, maps: c.maps ?? [], logLevel: 1 });
    k.close();
    const b = verify(insns, { progType: c.progType, maps: c.maps ?? [], logLevel: 1, nrCpus: availableParallelism() });
    if (norm(k.log) === norm(b.log)) same++; else differ.push(c.name);
  }
  console.log(`verifier level-1 logs: ${same}/${n} identical; differ: ${differ.slice(0, 10).join(", ")}${differ.length > 10 ? ", ..." : ""}`);
  assert.ok(same >= 0.95 * n, `${same}/${n}`);
});
