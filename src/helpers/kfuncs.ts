// Kernel functions (kfuncs) bpfkit knows: the table the verifier reads (which program types may call each, how it is
// checked) and the VM's implementations. A program calls a kfunc by its vmlinux BTF id (BPF_PSEUDO_KFUNC_CALL); the
// runtime loads such a call onto the VM as a helper call to slot KFUNC_SLOT_BASE + the kfunc's index here, so the
// interpreter and the JIT reach it through their one helper-call path.
import type { HelperFn } from "./types.ts";
import { E, argI32, argPtr, retI32, retU32 } from "./args.ts";

/** How the verifier checks a kfunc (check_kfunc_call's special cases; `none`: known to the kernel, not modelled). */
export type KfuncModel =
  | "rcu_read_lock" | "rcu_read_unlock" | "preempt_disable" | "preempt_enable"
  | "iter_num_new" | "iter_num_next" | "iter_num_destroy" | "none";

export interface KfuncSpec {
  readonly name: string;
  readonly model: KfuncModel;
  /** Program types whose kfunc sets hold it (bpf_prog_type numbers); undefined: every type (the common set). */
  readonly progTypes?: readonly number[];
  readonly impl?: HelperFn;
}

/** Helper-table slot of kfunc i (above every helper id Linux has). */
export const KFUNC_SLOT_BASE = 256;

/** The kernel's BPF_MAX_LOOPS: the longest range bpf_iter_num_new accepts. */
const BPF_MAX_LOOPS = 8 * 1024 * 1024;

// struct bpf_iter_num's 8 bytes hold { int cur; int end; } (bpf_iter_num_kern); `cur` is what next() points to.
const iterNumNew: HelperFn = (h) => {
  const it = argPtr(h, 1, 8, true);
  const start = argI32(h, 2), end = argI32(h, 3);
  const dv = h.space.dv;
  if (start > end || end - start > BPF_MAX_LOOPS) {
    dv.setInt32(it, 0, true); dv.setInt32(it + 4, 0, true);
    return retI32(h, start > end ? -E.EINVAL : -E.E2BIG);
  }
  dv.setInt32(it, start - 1, true); dv.setInt32(it + 4, end, true); // next() steps to start first
  retI32(h, 0);
};

const iterNumNext: HelperFn = (h) => {
  const it = argPtr(h, 1, 8, true);
  const dv = h.space.dv;
  const cur = dv.getInt32(it, true), end = dv.getInt32(it + 4, true);
  // compared as 64-bit numbers so cur == end == INT_MAX cannot wrap
  if (cur + 1 >= end) {
    dv.setInt32(it, 0, true); dv.setInt32(it + 4, 0, true);
    return retU32(h, 0);
  }
  dv.setInt32(it, cur + 1, true);
  retU32(h, it);
};

const iterNumDestroy: HelperFn = (h) => {
  const it = argPtr(h, 1, 8, true);
  h.space.dv.setInt32(it, 0, true); h.space.dv.setInt32(it + 4, 0, true);
};

/** The VM is one address space with no preemption or RCU grace periods: the read-side markers only nest. */
const nothing: HelperFn = () => {};

const KPROBE = 2, XDP = 6, TRACING = 26, LSM = 29, STRUCT_OPS = 27, SYSCALL = 31;

export const KFUNCS: readonly KfuncSpec[] = [
  { name: "bpf_rcu_read_lock", model: "rcu_read_lock", impl: nothing },
  { name: "bpf_rcu_read_unlock", model: "rcu_read_unlock", impl: nothing },
  { name: "bpf_preempt_disable", model: "preempt_disable", impl: nothing },
  { name: "bpf_preempt_enable", model: "preempt_enable", impl: nothing },
  { name: "bpf_iter_num_new", model: "iter_num_new", impl: iterNumNew },
  { name: "bpf_iter_num_next", model: "iter_num_next", impl: iterNumNext },
  { name: "bpf_iter_num_destroy", model: "iter_num_destroy", impl: iterNumDestroy },
  // known to the kernel for some program types only: elsewhere "calling kernel function X is not allowed"
  { name: "bpf_session_is_return", model: "none", progTypes: [KPROBE] },
  { name: "bpf_session_cookie", model: "none", progTypes: [KPROBE] },
  { name: "bpf_xdp_metadata_rx_timestamp", model: "none", progTypes: [XDP] },
  { name: "bpf_xdp_metadata_rx_hash", model: "none", progTypes: [XDP] },
  { name: "bpf_xdp_metadata_rx_vlan_tag", model: "none", progTypes: [XDP] },
  { name: "bpf_task_acquire", model: "none", progTypes: [TRACING, LSM, STRUCT_OPS, SYSCALL] },
  { name: "bpf_task_release", model: "none", progTypes: [TRACING, LSM, STRUCT_OPS, SYSCALL] },
];

const BY_NAME = new Map(KFUNCS.map((k, i) => [k.name, i]));

/** The table index of a kfunc by name, or -1. */
export const kfuncIndex = (name: string): number => BY_NAME.get(name) ?? -1;
