// Differential fuzzing of the verifier against the running kernel: structured random programs (src/verifier/fuzz.ts)
// are verified by both; the three figures are printed and every disagreement is saved as a repro file in
// test/fixtures/verifier/fuzz/. BPFKIT_FUZZ_N sets the count (default 10,000), BPFKIT_FUZZ_SEED the first seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { kernelAvailable } from "./kernel.ts";
import { kernelSession } from "../../scripts/record-verifier-cases.ts";
import { FUZZ_MAPS, generateProgram } from "../../src/verifier/fuzz.ts";
import { newTally, tallyOne, tallySummary } from "../../src/verifier/differential.ts";
import { verify } from "../../src/verifier/index.ts";
import { disassembleKernel } from "../../src/isa/ebpf/index.ts";

test("bpfkit's verifier agrees with the kernel on generated programs", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping verifier differential fuzzing: ${ok}`); t.skip(ok); return; }
  const n = Number(process.env.BPFKIT_FUZZ_N ?? 10_000);
  const first = Number(process.env.BPFKIT_FUZZ_SEED ?? 1);
  const session = kernelSession(FUZZ_MAPS);
  const tally = newTally();
  const dir = new URL("../fixtures/verifier/fuzz/", import.meta.url);
  let saved = 0;
  try {
    for (let seed = first; seed < first + n; seed++) {
      const p = generateProgram(seed);
      const k = session.verdict(p.insns, p.progType);
      const b = verify(p.insns, { progType: p.progType, maps: p.maps, nrCpus: availableParallelism() });
      const diff = tallyOne(tally, k, b);
      if (diff && saved < 50) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(new URL(`seed-${seed}.json`, dir), JSON.stringify({
          seed, progType: p.progType, maps: p.maps, disagreement: diff, kernel: k,
          bpfkit: { accepted: b.accepted, error: b.error?.message }, asm: disassembleKernel(p.insns),
          insns: p.insns.map((i) => [i.code, i.dst, i.src, i.off, i.imm]),
        }, null, 1) + "\n");
        saved++;
      }
    }
  } finally {
    session.close();
  }
  console.log(`verifier fuzz: ${tallySummary(tally)}${saved ? `; ${saved} repro files in test/fixtures/verifier/fuzz/` : ""}`);
  assert.equal(tally.acceptedBoth, tally.kernelAccepted, "every program the kernel accepts must be accepted");
  assert.ok(tally.rejectedBoth >= 0.99 * tally.kernelRejected, "at least 99% of kernel rejects rejected");
  assert.ok(tally.exactError >= 0.9 * tally.kernelRejected, "at least 90% with the kernel's exact error line");
});
