// Both external corpora on the interpreter, so `npm test` catches regressions: bpf_conformance (313 cases) and the
// kernel test_bpf module's eBPF cases (765). Skips visibly when ../shared/corpora is absent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConformanceCases, runConformanceCase } from "../../conformance/bpf_conformance.ts";
import { loadKernelCases, runKernelCase } from "../../conformance/kernel_ebpf.ts";
import { AddressSpace } from "./memory.ts";
import { Vm } from "./vm.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";

test("bpf_conformance: every case passes", (t) => {
  const cases = loadConformanceCases();
  if (cases === undefined) { console.log("SKIP bpf_conformance corpus absent"); t.skip("corpus absent"); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  const failures = cases.map((c) => [c.name, runConformanceCase(c, vm)]).filter(([, why]) => why !== undefined);
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 313);
});

test("kernel test_bpf eBPF cases: every case passes", (t) => {
  const cases = loadKernelCases();
  if (cases === undefined) { console.log("SKIP kernel test_bpf corpus absent"); t.skip("corpus absent"); return; }
  const vm = new Vm(new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  const ebpf = cases.filter((c) => c.kind === "ebpf");
  const failures = ebpf.map((c) => [c.name, runKernelCase(c, vm)]).filter(([, why]) => why !== undefined);
  assert.deepEqual(failures, []);
  assert.equal(ebpf.length, 765);
});
