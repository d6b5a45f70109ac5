// Helper prototypes beyond the corpus (stack traces, cgroup arrays, XDP redirect and metadata, the coarse clock, GPL-only
// helpers): each case carries the kernel's verdict and error line (Linux 6.18, recorded with the oracle below), which
// bpfkit must reproduce; with the kernel at hand the cases are loaded again, and every (program type, modelled helper)
// pair is checked against the kernel's "program of this type cannot use helper".
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { assemble } from "../isa/ebpf/index.ts";
import { HELPER_PROTOS, PROG_TYPE_HELPERS, licenseIsGplCompatible } from "../helpers/protos.ts";
import { PROG_TYPE_NAMES } from "../uapi/index.ts";
import { verify } from "./index.ts";
import { kernelAvailable, kernelLoad } from "../../test/oracle/kernel.ts";
import { parseKernelLog } from "../../scripts/record-verifier-cases.ts";

interface Map_ { type: number; keySize: number; valueSize: number; maxEntries: number; flags?: number }
const HASH: Map_ = { type: 1, keySize: 4, valueSize: 8, maxEntries: 4 };
const ARRAY: Map_ = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4 };
const STACK_TRACE: Map_ = { type: 7, keySize: 4, valueSize: 128, maxEntries: 16 };
const CGROUP_ARRAY: Map_ = { type: 8, keySize: 4, valueSize: 4, maxEntries: 1 };
const DEVMAP: Map_ = { type: 14, keySize: 4, valueSize: 4, maxEntries: 4 };
const CPUMAP: Map_ = { type: 16, keySize: 4, valueSize: 4, maxEntries: 1 };
const RDONLY_PROG: Map_ = { ...ARRAY, valueSize: 16, flags: 1 << 7 }; // libbpf's .rodata
const WRONLY_PROG: Map_ = { ...ARRAY, valueSize: 16, flags: 1 << 8 };

interface Case {
  name: string; progType: string; asm: string; maps?: Map_[]; license?: string;
  /** The kernel's error line, or undefined when it accepts. */
  kernel: string | undefined;
}

const stackid = "r2 = map[id:0]\nr3 = 0\ncall bpf_get_stackid#27\nr0 = 0\nexit";
const lookup = "r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit";
const redirect = "r1 = map[id:0]\nr2 = 0\nr3 = 0\ncall bpf_redirect_map#51\nexit";
// bpf_get_stack returns at most the buffer size it was given, or a negative errno: the result indexes the stack.
const stackIndex = (size: number): string => `r2 = r10
r2 += -64
r3 = ${size}
r4 = 0
call bpf_get_stack#67
if r0 s< 0 goto pc+4
r1 = r10
r1 += -128
r1 += r0
r0 = *(u8 *)(r1 +0)
r0 = 0
exit`;

const strIndex = (off: number): string =>
  `r1 = r10\nr1 += -64\nr2 = 32\nr3 = 0\ncall bpf_probe_read_kernel_str#115\nif r0 s< 0 goto pc+4\nr1 = r10\nr1 += ${off}\nr1 += r0\nr0 = *(u8 *)(r1 +0)\nr0 = 0\nexit`;

// Looks up key 0 and then does `use` with R0 = the value (R6 = ctx).
const withValue = (use: string): string =>
  `r6 = r1\nr1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nif r0 == 0 goto pc+${use.split("\n").length}\n${use}\nr0 = 0\nexit`;

const CASES: Case[] = [
  { name: "get_stackid with a stack trace map", progType: "kprobe", asm: stackid, maps: [STACK_TRACE], kernel: undefined },
  { name: "get_stackid with a hash map", progType: "kprobe", asm: stackid, maps: [HASH], kernel: "cannot pass map_type 1 into func bpf_get_stackid#27" },
  { name: "get_stackid from a proprietary program", progType: "kprobe", asm: stackid, maps: [STACK_TRACE], license: "Proprietary", kernel: "cannot call GPL-restricted function from non-GPL compatible program" },
  { name: "get_stackid from a Dual BSD/GPL program", progType: "perf_event", asm: stackid, maps: [STACK_TRACE], license: "Dual BSD/GPL", kernel: undefined },
  { name: "get_stackid from a socket filter", progType: "socket_filter", asm: stackid, maps: [STACK_TRACE], kernel: "program of this type cannot use helper bpf_get_stackid#27" },
  { name: "map_lookup_elem on a stack trace map", progType: "kprobe", asm: lookup, maps: [STACK_TRACE], kernel: "cannot pass map_type 7 into func bpf_map_lookup_elem#1" },
  { name: "get_stack result bounded by its size", progType: "tracepoint", asm: stackIndex(64), kernel: undefined },
  // [0, 64] from fp-64 reaches fp+0: one byte too far.
  { name: "get_stack result one past the stack", progType: "raw_tracepoint", asm: stackIndex(64).replace("r1 += -128", "r1 += -64"), kernel: "invalid variable-offset read from stack R1 var_off=(0x0; 0x7f) off=-64 size=1" },
  { name: "get_stack result within the stack", progType: "raw_tracepoint", asm: stackIndex(64).replace("r1 += -128", "r1 += -65"), kernel: undefined },
  { name: "current_task_under_cgroup with a cgroup array", progType: "tracepoint", asm: "r1 = map[id:0]\nr2 = 0\ncall bpf_current_task_under_cgroup#37\nexit", maps: [CGROUP_ARRAY], kernel: undefined },
  { name: "current_task_under_cgroup with an array", progType: "kprobe", asm: "r1 = map[id:0]\nr2 = 0\ncall bpf_current_task_under_cgroup#37\nexit", maps: [ARRAY], kernel: "cannot pass map_type 2 into func bpf_current_task_under_cgroup#37" },
  { name: "map_lookup_elem on a cgroup array", progType: "kprobe", asm: lookup, maps: [CGROUP_ARRAY], kernel: "cannot pass map_type 8 into func bpf_map_lookup_elem#1" },
  { name: "redirect_map with a devmap", progType: "xdp", asm: redirect, maps: [DEVMAP], kernel: undefined },
  { name: "redirect_map with a cpumap", progType: "xdp", asm: redirect, maps: [CPUMAP], kernel: undefined },
  { name: "redirect_map with an array", progType: "xdp", asm: redirect, maps: [ARRAY], kernel: "cannot pass map_type 2 into func bpf_redirect_map#51" },
  { name: "redirect_map from tc", progType: "sched_cls", asm: redirect, maps: [DEVMAP], kernel: "program of this type cannot use helper bpf_redirect_map#51" },
  { name: "map_lookup_elem on a devmap", progType: "xdp", asm: lookup, maps: [DEVMAP], kernel: undefined },
  { name: "map_lookup_elem on a cpumap", progType: "xdp", asm: lookup, maps: [CPUMAP], kernel: "cannot pass map_type 16 into func bpf_map_lookup_elem#1" },
  {
    name: "xdp_adjust_meta invalidates packet pointers", progType: "xdp",
    asm: "r6 = r1\nr7 = *(u32 *)(r6 +0)\nr8 = *(u32 *)(r6 +4)\nr1 = r7\nr1 += 1\nif r1 > r8 goto pc+6\nr1 = r6\nr2 = -8\ncall bpf_xdp_adjust_meta#54\nr0 = *(u8 *)(r7 +0)\nr0 = 2\nexit\nr0 = 2\nexit",
    kernel: "R7 invalid mem access 'scalar'",
  },
  { name: "ktime_get_coarse_ns from XDP", progType: "xdp", asm: "call bpf_ktime_get_coarse_ns#160\nr0 = 2\nexit", kernel: undefined },
  { name: "ktime_get_coarse_ns from a kprobe", progType: "kprobe", asm: "call bpf_ktime_get_coarse_ns#160\nr0 = 0\nexit", kernel: "program of this type cannot use helper bpf_ktime_get_coarse_ns#160" },
  { name: "get_current_cgroup_id from a socket filter", progType: "socket_filter", asm: "call bpf_get_current_cgroup_id#80\nr0 = 0\nexit", kernel: undefined },
  { name: "probe_read_kernel_str result one past the stack", progType: "kprobe", asm: strIndex(-32), kernel: "invalid variable-offset read from stack R1 var_off=(0x0; 0x3f) off=-32 size=1" },
  { name: "probe_read_kernel_str result within the stack", progType: "kprobe", asm: strIndex(-33), kernel: undefined },
  { name: "store into a read-only map value", progType: "kprobe", asm: withValue("r1 = 1\n*(u64 *)(r0 +8) = r1"), maps: [RDONLY_PROG], kernel: "write into map forbidden, value_size=16 off=8 size=8" },
  { name: "load from a read-only map value", progType: "kprobe", asm: withValue("r1 = *(u64 *)(r0 +8)"), maps: [RDONLY_PROG], kernel: undefined },
  { name: "helper writes into a read-only map value", progType: "kprobe", asm: withValue("r1 = r0\nr1 += 4\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel#113"), maps: [RDONLY_PROG], kernel: "write into map forbidden, value_size=16 off=4 size=8" },
  { name: "helper reads a read-only map value", progType: "kprobe", asm: withValue("r4 = r0\nr4 += 4\nr1 = r6\nr2 = map[id:1]\nr3 = 0\nr5 = 8\ncall bpf_perf_event_output#25"), maps: [RDONLY_PROG, { type: 4, keySize: 4, valueSize: 4, maxEntries: 2 }], kernel: undefined },
  { name: "load from a write-only map value", progType: "kprobe", asm: withValue("r1 = *(u32 *)(r0 +4)"), maps: [WRONLY_PROG], kernel: "read from map forbidden, value_size=16 off=4 size=4" },
  { name: "store into a write-only map value", progType: "kprobe", asm: withValue("r1 = 1\n*(u32 *)(r0 +4) = r1"), maps: [WRONLY_PROG], kernel: undefined },
  // bpf_fib_lookup writes its params back: a pointer spilled inside them is gone afterwards.
  {
    name: "fib_lookup clobbers a spilled pointer", progType: "xdp",
    asm: "r6 = r1\n*(u64 *)(r10 -56) = r6\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_fib_lookup#69\nr1 = *(u64 *)(r10 -56)\nr0 = *(u32 *)(r1 +0)\nr0 = 2\nexit",
    kernel: "R1 invalid mem access 'scalar'",
  },
  // A helper writing at a variable stack offset (raw mode: byte stores at that offset) may reach any byte of its range.
  ...[-16, -8].map((base): Case => ({
    name: `get_current_comm at fp${base} + (0 or 8) ${base === -16 ? "clobbers a spilled pointer" : "past the stack"}`, progType: "kprobe", maps: [ARRAY],
    asm: `r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nif r0 == 0 goto pc+11
*(u64 *)(r10 -8) = r0\nr2 = *(u32 *)(r0 +0)\nr2 &= 8\nr3 = r10\nr3 += ${base}\nr3 += r2\nr1 = r3\nr2 = 8\ncall bpf_get_current_comm#16
r0 = *(u64 *)(r10 -8)\nr0 = *(u64 *)(r0 +0)\nr0 = 0\nexit`,
    kernel: base === -16 ? "R0 invalid mem access 'scalar'" : "invalid variable-offset write to stack R1 var_off=(0x0; 0x8) off=-8 size=8",
  })),
  { name: "fib_lookup into a read-only map value", progType: "xdp", asm: withValue("r2 = r0\nr1 = r6\nr3 = 16\nr4 = 0\ncall bpf_fib_lookup#69"), maps: [RDONLY_PROG], kernel: "write into map forbidden, value_size=16 off=0 size=16" },
  { name: "fib_lookup from a proprietary program", progType: "sched_cls", asm: "r2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_fib_lookup#69\nr0 = 0\nexit", license: "Proprietary", kernel: "cannot call GPL-restricted function from non-GPL compatible program" },
  { name: "csum_diff of NULL and a stack buffer", progType: "sched_cls", asm: "r1 = 0\nr2 = 0\n*(u64 *)(r10 -8) = r2\nr3 = r10\nr3 += -8\nr4 = 8\nr5 = 0\ncall bpf_csum_diff#28\nr0 = 0\nexit", kernel: undefined },
  { name: "csum_diff of NULL with a size", progType: "xdp", asm: "r1 = 0\nr2 = 4\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff#28\nr0 = 0\nexit", kernel: "R1 type=scalar expected=fp" },
  { name: "csum_diff from a socket filter", progType: "socket_filter", asm: "r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff#28\nr0 = 0\nexit", kernel: "program of this type cannot use helper bpf_csum_diff#28" },
  {
    name: "csum_diff over the packet", progType: "xdp",
    asm: "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr1 = r2\nr1 += 8\nif r1 > r3 goto pc+6\nr1 = r2\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff#28\nr0 = 2\nexit",
    kernel: undefined,
  },
  // bpf_skb_store_bytes_proto has no pkt_access: its source buffer cannot be the packet itself.
  {
    name: "skb_store_bytes from the packet", progType: "sched_cls",
    asm: "r6 = r1\nr2 = *(u32 *)(r1 +76)\nr3 = *(u32 *)(r1 +80)\nr0 = r2\nr0 += 8\nif r0 <= r3 goto pc+2\nr0 = 0\nexit\nr1 = r6\nr3 = r2\nr2 = 0\nr4 = 8\nr5 = 0\ncall bpf_skb_store_bytes#9\nr0 = 0\nexit",
    kernel: "helper access to the packet is not allowed",
  },
  // record_func_map: no map_update_elem/delete on maps read-only for programs (.rodata; devmaps always).
  { name: "map_update_elem on a read-only map", progType: "kprobe", asm: "r1 = 0\n*(u64 *)(r10 -8) = r1\n*(u64 *)(r10 -16) = r1\n*(u64 *)(r10 -24) = r1\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr4 = 0\nr1 = map[id:0]\ncall bpf_map_update_elem#2\nr0 = 0\nexit", maps: [RDONLY_PROG], kernel: "write into map forbidden" },
  { name: "map_delete_elem on a devmap", progType: "xdp", asm: "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -8\nr1 = map[id:0]\ncall bpf_map_delete_elem#3\nr0 = 2\nexit", maps: [DEVMAP], kernel: "write into map forbidden" },
];

function bpfkit(c: Case): string | undefined {
  const r = verify(assemble(c.asm), { progType: c.progType, maps: c.maps ?? [], license: c.license, nrCpus: availableParallelism() });
  return r.accepted ? undefined : r.error!.message;
}

test("helper prototypes: bpfkit gives the kernel's verdict and error line", () => {
  const misses = CASES.filter((c) => bpfkit(c) !== c.kernel).map((c) => `${c.name}: kernel ${c.kernel ?? "accept"}, bpfkit ${bpfkit(c) ?? "accept"}`);
  assert.deepEqual(misses, []);
});

test("GPL-compatible licenses are the kernel's list", () => {
  for (const l of ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"]) assert.ok(licenseIsGplCompatible(l), l);
  for (const l of ["", "MIT", "BSD", "Proprietary", "gpl", "GPL "]) assert.ok(!licenseIsGplCompatible(l), l);
});

test("helper prototype cases: the kernel still gives the recorded verdicts", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping helper prototype kernel check: ${ok}`); t.skip(ok); return; }
  const drift: string[] = [];
  for (const c of CASES) {
    const r = kernelLoad(assemble(c.asm), { progType: c.progType, maps: c.maps ?? [], license: c.license ?? "GPL", logLevel: 1 });
    r.close();
    const v = parseKernelLog(r.accepted, r.errno, r.log);
    if ((v.accepted ? undefined : v.error) !== c.kernel) drift.push(`${c.name}: recorded ${c.kernel ?? "accept"}, kernel now ${v.accepted ? "accept" : v.error}`);
  }
  assert.deepEqual(drift, []);
});

test("each program type may call exactly the modelled helpers the kernel lets it call", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping helper availability check: ${ok}`); t.skip(ok); return; }
  const differ: string[] = [];
  for (const [progType, allowed] of PROG_TYPE_HELPERS) {
    for (const id of HELPER_PROTOS.keys()) {
      // Arguments are left unset: "cannot use helper" is decided before any argument is looked at.
      const insns = [{ code: 0x85, dst: 0, src: 0, off: 0, imm: id }, { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
      const r = kernelLoad(insns, { progType, logLevel: 1 });
      r.close();
      const kernelAllows = !/program of this type cannot use helper/.test(r.log);
      if (kernelAllows !== allowed.has(id)) differ.push(`${PROG_TYPE_NAMES[progType]} helper #${id}: kernel ${kernelAllows ? "allows" : "refuses"}`);
    }
  }
  assert.deepEqual(differ, []);
});

test("unprivileged programs cannot call the CAP_BPF and CAP_PERFMON helpers", () => {
  // bpf_base_func_proto hands these out only behind bpf_token_capable(CAP_BPF / CAP_PERFMON); without them the
  // prototype is NULL, which the verifier reports as for a helper of another program type.
  for (const [id, name] of [[80, "get_current_cgroup_id"], [35, "get_current_task"]] as const) {
    const r = verify(assemble(`call bpf_${name}#${id}\nr0 = 0\nexit`), { progType: "socket_filter", unpriv: true });
    assert.equal(r.error?.message, `program of this type cannot use helper bpf_${name}#${id}`);
    assert.equal(verify(assemble(`call bpf_${name}#${id}\nr0 = 0\nexit`), { progType: "socket_filter" }).accepted, true);
  }
  const read = verify(assemble("r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_user#112\nr0 = 0\nexit"), { progType: "socket_filter", unpriv: true });
  assert.equal(read.error?.message, "program of this type cannot use helper bpf_probe_read_user#112");
  // bpf_get_current_pid_tgid is in the unprivileged part (the recorded unprivileged corpus has it accepted).
  assert.equal(verify(assemble("call bpf_get_current_pid_tgid#14\nr0 = 0\nexit"), { progType: "socket_filter", unpriv: true }).accepted, true);
});

/** Arguments a generated call may receive: the context, stack buffers, each map, constants and bounded/unbounded scalars. */
const ARG_POOL: readonly ((r: number) => string)[] = [
  (r) => `r${r} = r6`, (r) => `r${r} = r10\nr${r} += -64`, (r) => `r${r} = r10\nr${r} += -8`, (r) => `r${r} = r10\nr${r} += -4`,
  (r) => `r${r} = map[id:0]`, (r) => `r${r} = map[id:1]`, (r) => `r${r} = map[id:2]`, (r) => `r${r} = map[id:3]`, (r) => `r${r} = map[id:4]`,
  (r) => `r${r} = 0`, (r) => `r${r} = 8`, (r) => `r${r} = 64`, (r) => `r${r} = 65`, (r) => `r${r} = -1`,
  (r) => `r${r} = r7`, (r) => `r${r} = r7\nr${r} &= 63`, (r) => `r${r} = r7\nr${r} &= 127`,
];
const GEN_MAPS: Map_[] = [STACK_TRACE, CGROUP_ARRAY, DEVMAP, ARRAY, { type: 4, keySize: 4, valueSize: 4, maxEntries: 2 }];
const GEN_HELPERS = [...HELPER_PROTOS.keys()].filter((id) => id !== 181); // bpf_loop needs a callback
const GEN_TYPES = ["kprobe", "tracepoint", "raw_tracepoint", "perf_event", "xdp", "sched_cls", "socket_filter"];

/** A deterministic program calling one helper with arguments drawn from ARG_POOL (seeded xorshift). */
function generatedCall(seed: number): { asm: string; progType: string } {
  let x = seed * 2654435761 >>> 0 || 1;
  const next = (n: number): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
  const id = GEN_HELPERS[next(GEN_HELPERS.length)]!;
  const progType = GEN_TYPES[next(GEN_TYPES.length)]!;
  const nargs = HELPER_PROTOS.get(id)!.args.length;
  // Half the time a packet pointer checked before the call is read after it (invalidated by packet-moving helpers), and
  // may be passed as an argument (only helpers with pkt_access take it).
  const pkt = (progType === "xdp" || progType === "sched_cls") && next(2) === 1;
  const lines = ["r6 = r1", "call bpf_get_prandom_u32#7", "r7 = r0", "r1 = 0", "*(u64 *)(r10 -8) = r1"];
  if (next(2)) lines.push("*(u64 *)(r10 -64) = r1");
  // Half the calls get arguments of the declared types (so that the call itself passes), the others any argument.
  const typed = next(2) === 1;
  const args = HELPER_PROTOS.get(id)!.args;
  for (let r = 1; r <= nargs; r++) {
    const want = args[r - 1]!;
    if (!typed) lines.push(pkt && next(4) === 0 ? `r${r} = r8` : ARG_POOL[next(ARG_POOL.length)]!(r));
    else if (want === "ARG_PTR_TO_CTX") lines.push(`r${r} = r6`);
    else if (want === "ARG_CONST_MAP_PTR") lines.push(`r${r} = map[id:${next(GEN_MAPS.length)}]`);
    else if (want.startsWith("ARG_PTR_TO")) lines.push(pkt && next(2) === 0 ? `r${r} = r8` : `r${r} = r10\nr${r} += -64`);
    else if (want.startsWith("ARG_CONST_SIZE")) lines.push(`r${r} = ${[8, 16, 64][next(3)]}`);
    else lines.push(`r${r} = 0`);
  }
  if (pkt) {
    const [data, end] = progType === "xdp" ? [0, 4] : [76, 80];
    lines.splice(1, 0, `r8 = *(u32 *)(r1 +${data})`, `r9 = *(u32 *)(r1 +${end})`, "r0 = r8", "r0 += 8", "if r0 <= r9 goto pc+2", "r0 = 0", "exit");
  }
  lines.push(`call ${id}`);
  if (pkt) lines.push("r0 = *(u8 *)(r8 +0)");
  lines.push("r0 = 0", "exit");
  return { asm: lines.join("\n"), progType };
}

test("generated helper calls: bpfkit gives the kernel's verdict and error line", (t) => {
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping generated helper calls: ${ok}`); t.skip(ok); return; }
  const differ: string[] = [];
  let accepted = 0, invalidated = 0;
  const n = 2000;
  for (let s = 1; s <= n; s++) {
    const { asm, progType } = generatedCall(s);
    const insns = assemble(asm);
    const k = kernelLoad(insns, { progType, maps: GEN_MAPS, logLevel: 1 });
    k.close();
    const kv = parseKernelLog(k.accepted, k.errno, k.log);
    const b = verify(insns, { progType, maps: GEN_MAPS, nrCpus: availableParallelism() });
    if (kv.accepted) accepted++;
    if (kv.error === "R8 invalid mem access 'scalar'") invalidated++;
    if (b.accepted !== kv.accepted || (!kv.accepted && b.error?.message !== kv.error)) {
      differ.push(`seed ${s} (${progType}): kernel ${kv.accepted ? "accept" : kv.error}, bpfkit ${b.accepted ? "accept" : b.error?.message}`);
    }
  }
  console.log(`generated helper calls: ${n - differ.length}/${n} agree with the kernel (${accepted} accepted by it, ${invalidated} refused for a packet pointer the helper invalidated)`);
  assert.deepEqual(differ, []);
});
