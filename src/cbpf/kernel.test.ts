// The kernel's own classic test cases (lib/test_bpf.c) through checker + interpreter; see conformance/kernel_cbpf.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadKernelClassicCases, runKernelClassicCase, interpreterRunner } from "../../conformance/kernel_cbpf.ts";

test("kernel test_bpf.c classic cases pass on the classic interpreter", (t) => {
  const cases = loadKernelClassicCases();
  if (!cases) {
    console.log("SKIP kernel test_bpf.json corpus absent (../shared/corpora/kernel)");
    t.skip("corpus absent");
    return;
  }
  assert.equal(cases.length, 134);
  const failures = cases.map((c) => [c, runKernelClassicCase(c, interpreterRunner)] as const)
    .filter(([, why]) => why !== null).map(([c, why]) => `#${c.index} ${c.name}: ${why}`);
  assert.deepEqual(failures, []);
});

test("kernel test_bpf.c classic cases pass after conversion, on the eBPF VM", async (t) => {
  const cases = loadKernelClassicCases();
  if (!cases) {
    console.log("SKIP kernel test_bpf.json corpus absent (../shared/corpora/kernel)");
    t.skip("corpus absent");
    return;
  }
  const { convertedRunner } = await import("./vmrun.ts");
  const failures = cases.map((c) => [c, runKernelClassicCase(c, convertedRunner)] as const)
    .filter(([, why]) => why !== null).map(([c, why]) => `#${c.index} ${c.name}: ${why}`);
  assert.deepEqual(failures, []);
});
