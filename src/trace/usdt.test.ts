// usdt arguments as compiled from a binary's note specs (the Linux differential is test/oracle/trace-usdt.test.ts):
// registers cut to their size and sign- or zero-extended, constants, run on the VM through the usdt attach point;
// a probe whose locations disagree on an argument's spec refuses that argument with a positioned error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileScript } from "./script.ts";
import { VmTrace } from "./vm-backend.ts";
import { parseUsdtArg } from "../object/usdt.ts";
import { encodeRegs } from "../runtime/attach/uprobe.ts";
import type { ProbeEnv, UsdtProbeInfo } from "./probes.ts";

const notes: UsdtProbeInfo[] = [
  { provider: "app", name: "loop", args: ["-4@%edi", "8@$42", "2@%si"].map(parseUsdtArg) },
  { provider: "app", name: "twice", args: ["-4@%edi", "8@%rdx"].map(parseUsdtArg) },
  { provider: "app", name: "twice", args: ["-4@%edi", "8@%rcx"].map(parseUsdtArg) },
];
const env: ProbeEnv = { tracepoints: () => [], tracepointFormat: () => undefined, usdt: () => notes };

test("usdt arguments: a 32-bit signed register, a constant, a 16-bit unsigned register", () => {
  const c = compileScript('usdt:/bin/app:app:loop { printf("%d %d %d\\n", arg0, arg1, arg2); }', { env });
  assert.equal(c.programs[0]!.probe.name, "usdt:/bin/app:app:loop");
  const vm = new VmTrace(c);
  vm.fire(0, encodeRegs({ di: 0x12345678fffffffbn, si: 0x10001n }));
  assert.equal(vm.finish(), "Attaching 1 probe...\n-5 42 1\n\n\n");
});

test("usdt arguments whose spec differs between a probe's locations are refused, the others read", () => {
  assert.doesNotThrow(() => compileScript("usdt:/bin/app:twice { @ = sum(arg0); }", { env }));
  assert.throws(() => compileScript("usdt:/bin/app:twice { @ = sum(arg1); }", { env }), /bpfkit trace cannot read usdt argument 1 of usdt:\/bin\/app:app:twice/);
  assert.throws(() => compileScript("usdt:/bin/app:app:loop { @ = sum(arg5); }", { env }), /usdt probe usdt:\/bin\/app:app:loop has no argument 5/);
});
