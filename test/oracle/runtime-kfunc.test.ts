// kfunc calls (test/fixtures/verifier/kfunc): bpfkit's verifier resolves them in vmlinux BTF and checks them as
// check_kfunc_call does — the same verdicts, first error lines and processed counts as Linux 6.18 on the same clang
// objects — and the VM runs the accepted ones with the kernel's results (BPF_PROG_TEST_RUN's retval and the global
// data the program writes). Needs the host's /sys/kernel/btf/vmlinux (kfuncs are named by its ids); the kernel side
// needs root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseBtf } from "../../src/btf/parse.ts";
import { BTF_KIND_FUNC } from "../../src/btf/kinds.ts";
import { assemble } from "../../src/isa/ebpf/index.ts";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { loadObject } from "../../src/object/index.ts";
import { verify } from "../../src/verifier/index.ts";
import { System, openObject, type Backend } from "../../src/runtime/index.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { skipWithoutKernel } from "./kernel.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const FIXTURES = fileURLToPath(new URL("../fixtures/verifier/kfunc/", import.meta.url));

/** Linux 6.18's verdicts on the fixture programs: the error line, and the instructions processed. */
const EXPECTED: Record<string, [string, number]> = {
  iter_sum: ["accepted", 100],
  iter_map: ["accepted", 104],
  iter_repeat: ["accepted", 51],
  iter_empty: ["accepted", 51],
  rcu_pair: ["accepted", 7],
  iter_leak: ["BPF_EXIT instruction in main prog would lead to reference leak", 12],
  iter_uninit_next: ["expected an initialized iter_num as arg #0", 3],
  iter_null_deref: ["R0 invalid mem access 'scalar'", 9],
  rcu_unlock_missing: ["BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region", 3],
  rcu_unlock_only: ["unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)", 1],
  kfunc_not_allowed: ["calling kernel function bpf_session_is_return is not allowed", 1],
  rcu_nested: ["nested rcu read lock (kernel function bpf_rcu_read_lock)", 2],
  preempt_pair: ["accepted", 7],
  preempt_enable_only: ["unmatched attempt to enable preemption (kernel function bpf_preempt_enable)", 1],
  preempt_missing: ["BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region", 3],
  iter_double_new: ["expected uninitialized iter_num as arg #0", 10],
  iter_nested: ["accepted", 218],
  iter_write_elem: ["R0 cannot write into rdonly_mem", 17],
  iter_helper_read: ["invalid read from stack R3 off -8+0 size 8", 14],
  iter_varoff_write: ["expected an initialized iter_num as arg #0", 17],
};
// processed counts of accepted programs depend on the kernel's precision tracking, which bpfkit does not model
const EXACT_COUNT = new Set(Object.keys(EXPECTED).filter((k) => EXPECTED[k]![0] !== "accepted"));

function fixture(t: { skip(m: string): void }): { bytes: Uint8Array; btf: ReturnType<typeof parseBtf> } | undefined {
  if (!existsSync(VMLINUX)) { console.log(`SKIP runtime-kfunc: ${VMLINUX} is missing (kfuncs are named by its BTF ids)`); t.skip("no vmlinux BTF"); return undefined; }
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") { console.log(`SKIP runtime-kfunc: ${built}`); t.skip(built); return undefined; }
  return { bytes: new Uint8Array(readFileSync(built[0]!.path)), btf: parseBtf(new Uint8Array(readFileSync(VMLINUX))) };
}

test("kfunc fixtures: bpfkit's verifier gives Linux 6.18's verdicts, error lines and (refused) processed counts", (t) => {
  const f = fixture(t);
  if (!f) return;
  const obj = loadObject(f.bytes, { fileName: "kfunc", targetBtf: f.btf });
  const ours: Record<string, [string, number]> = {};
  for (const p of obj.programs) {
    const r = verify(p.insns, { progType: p.progType, maps: obj.maps, btfFuncInfo: true, license: obj.license, logLevel: 1, kernelBtf: f.btf });
    ours[p.name] = [r.accepted ? "accepted" : r.error!.message, EXACT_COUNT.has(p.name) ? r.processed : EXPECTED[p.name]?.[1] ?? -1];
  }
  assert.deepEqual(ours, EXPECTED);
});

test("kfunc calls without kernel BTF, from non-GPL programs, or to ids that name no function are refused", () => {
  const call = { code: 0x85, dst: 0, src: 2, off: 0, imm: 1 };
  const exit = [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
  const noBtf = verify([call, ...exit], { progType: "xdp" });
  assert.equal(noBtf.error?.message, "calling kernel functions is not supported");
  const btf = existsSync(VMLINUX) ? parseBtf(new Uint8Array(readFileSync(VMLINUX))) : undefined;
  if (!btf) { console.log(`NOTE runtime-kfunc: ${VMLINUX} missing, BTF id checks skipped`); return; }
  const gpl = verify([call, ...exit], { progType: "xdp", license: "Proprietary", kernelBtf: btf });
  assert.equal(gpl.error?.message, "cannot call kernel function from non-GPL compatible program");
  const notFunc = verify([call, ...exit], { progType: "xdp", kernelBtf: btf });
  assert.equal(notFunc.error?.message, "kernel btf_id 1 is not a function");
});

/** Each accepted program run once on a 64-byte packet: its retval and the object's .bss afterwards. */
function runAll(b: Backend, bytes: Uint8Array): Record<string, string> {
  const o = openObject(b, bytes, { fileName: "kfunc" });
  try {
    const out: Record<string, string> = {};
    for (const [name, p] of o.programs) {
      const r = p.testRun(new Uint8Array(64));
      const bss = [...o.maps.get(".bss")!.entries()].map(([, v]) => Buffer.from(v).toString("hex")).join("");
      out[name] = `retval ${r.retval} bss ${bss}`;
    }
    return out;
  } finally { o.close(); }
}

test("the VM runs the accepted kfunc programs with the kernel's results", (t) => {
  const f = fixture(t);
  if (!f) return;
  const vm = runAll(new System({ kernelBtf: f.btf }), f.bytes);
  // sum 0..9 = 45 (0x2d), five iterations, an empty range (100 + 0), the RCU section's store
  assert.equal(vm.iter_sum, "retval 2 bss 2d0000000000000000000000");
  assert.equal(vm.iter_repeat, "retval 2 bss 000000000000000005000000");
  assert.equal(vm.iter_empty, "retval 2 bss 000000000000000064000000");
  assert.equal(vm.rcu_pair, "retval 2 bss 000000000000000007000000");
  assert.equal(vm.preempt_pair, "retval 2 bss 000000000000000009000000");
  assert.equal(vm.iter_nested, "retval 2 bss 120000000000000009000000"); // sum of i*j over 4x3 = 18
  // the interpreter reaches the kfuncs through the same helper slots as the JIT
  assert.deepEqual(runAll(new System({ kernelBtf: f.btf, engine: "interp" }), f.bytes), vm);
  if (skipWithoutKernel(t, "runtime-kfunc (kernel side)")) return;
  return import("../../src/kernel/backend.ts").then(({ linux }) => {
    assert.deepEqual(vm, runAll(linux, f.bytes));
  });
});

/** Instruction and state lines of a level-2 log, map addresses (kernel) and map references (bpfkit) masked. */
const stateLines = (log: string): string[] =>
  log.split("\n").filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/= (0x[0-9a-f]{16}|map\[id:\d+\])( ll)? +;/, "= MAP ;").replace(/ +;/, " ;"));
/** Refused programs whose level-2 logs differ from the kernel's, and why. */
const LOG_KNOWN: Record<string, string> = {
  iter_leak: "the kernel backtracks precision at the branch on R1 (mark_precise) and reprints the state; bpfkit tracks no precision",
  iter_write_elem: "the same precision backtracking at the branch on R0",
  iter_helper_read: "the kernel marks R1 precise at the 4-byte store of a constant (mark_precise) and reprints the state",
  iter_varoff_write: "the kernel marks R2 precise at the variable-offset pointer addition and reprints the state",
};

test("kfunc fixtures the kernel refuses: the same walk, state for state, in the level-2 log", async (t) => {
  const f = fixture(t);
  if (!f) return;
  if (skipWithoutKernel(t, "runtime-kfunc (level-2 logs)")) return;
  const { linux } = await import("../../src/kernel/backend.ts");
  const obj = loadObject(f.bytes, { fileName: "kfunc", targetBtf: f.btf });
  const k = openObject(linux, f.bytes, { fileName: "kfunc", logLevel: 2 });
  try {
    let same = 0;
    for (const p of obj.programs) {
      const klog = k.skipped.get(p.name);
      if (klog === undefined || LOG_KNOWN[p.name]) continue;
      const r = verify(p.insns, { progType: p.progType, maps: obj.maps, btfFuncInfo: true, license: obj.license, logLevel: 2, kernelBtf: f.btf });
      assert.deepEqual(stateLines(r.log), stateLines(klog), p.name);
      same++;
    }
    console.log(`runtime-kfunc: ${same} refused programs with identical level-2 walks (${Object.keys(LOG_KNOWN).length} known to differ)`);
  } finally { k.close(); }
});

test("kfunc programs run on a worker CPU (the kfunc slots are in every CPU's helper table)", async (t) => {
  const f = fixture(t);
  if (!f) return;
  const { CpuPool } = await import("../../src/node/cpu-pool.ts");
  let pool: ReturnType<typeof CpuPool.open> | undefined;
  const sys = new System({ nCpus: 2, shared: true, kernelBtf: f.btf, executor: (_, space) => (pool = CpuPool.open(space, { nCpus: 2 })) });
  const o = openObject(sys, f.bytes, { fileName: "kfunc", programs: ["iter_nested"] });
  try {
    const r = o.programs.get("iter_nested")!.testRun(new Uint8Array(64), { cpu: 1 });
    assert.equal(r.retval, 2);
    assert.equal(Buffer.from([...o.maps.get(".bss")!.entries()][0]![1]).readUInt32LE(0), 18);
  } finally {
    o.close();
    await pool?.close();
  }
});

test("a tail call or BPF_LD_[ABS|IND] inside an RCU section or holding an iterator is refused as Linux does (check_resource_leak)", (t) => {
  if (!existsSync(VMLINUX)) { console.log(`SKIP runtime-kfunc: ${VMLINUX} is missing`); t.skip("no vmlinux BTF"); return; }
  const btf = parseBtf(new Uint8Array(readFileSync(VMLINUX)));
  const kfunc = (name: string) => [{ code: 0x85, dst: 0, src: 2, off: 0, imm: btf.findByName(name, BTF_KIND_FUNC) }];
  const iterNew = [...assemble("r1 = r10\nr1 += -8\nr2 = 0\nr3 = 3"), ...kfunc("bpf_iter_num_new")];
  const iterDestroy = [...assemble("r1 = r10\nr1 += -8"), ...kfunc("bpf_iter_num_destroy")];
  const tail = assemble("r1 = r6\nr2 = map[id:0]\nr3 = 0\ncall bpf_tail_call#12");
  const ldAbs = assemble("r0 = *(u8 *)skb[0]");
  const cases: [string, string, Insn[]][] = [
    ["sched_cls", "tail_call cannot be used inside bpf_rcu_read_lock-ed region", [...kfunc("bpf_rcu_read_lock"), ...tail, ...kfunc("bpf_rcu_read_unlock")]],
    ["socket_filter", "BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region", [...kfunc("bpf_rcu_read_lock"), ...ldAbs, ...kfunc("bpf_rcu_read_unlock")]],
    ["sched_cls", "tail_call cannot be used inside bpf_preempt_disable-ed region", [...kfunc("bpf_preempt_disable"), ...tail, ...kfunc("bpf_preempt_enable")]],
    ["sched_cls", "tail_call would lead to reference leak", [...iterNew, ...tail, ...iterDestroy]],
    ["socket_filter", "BPF_LD_[ABS|IND] would lead to reference leak", [...iterNew, ...ldAbs, ...iterDestroy]],
  ];
  const progArray = { type: 3, keySize: 4, valueSize: 4, maxEntries: 1 };
  for (const [progType, kernel, body] of cases) {
    const insns = [...assemble("r6 = r1"), ...body, ...assemble("r0 = 0\nexit")];
    const r = verify(insns, { progType, maps: [progArray], kernelBtf: btf });
    assert.equal(r.error?.message.split("\n").pop(), kernel);
  }
});
