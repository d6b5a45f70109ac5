// Helpers that report the outside world, all through the injectable HelperEnv: clocks, randomness, the CPU and the
// current task (pid/tgid, uid/gid, comm).
import type { HelperFn } from "./types.ts";
import { E, argMap, argNum, argPtr, argU32, argU64, retI32, retU32, retU64 } from "./args.ts";

export const ktimeGetNs: HelperFn = (h) => retU64(h, h.env.ktimeNs());
export const ktimeGetBootNs: HelperFn = (h) => retU64(h, h.env.bootNs());
export const getPrandomU32: HelperFn = (h) => retU32(h, h.env.random() >>> 0);
export const getSmpProcessorId: HelperFn = (h) => retU32(h, h.cpu);
/** One NUMA node, as bpfkit models it. */
export const getNumaNodeId: HelperFn = (h) => retU32(h, 0);
/** The coarse and TAI clocks read the environment's monotonic clock (their offsets are not modelled). */
export const ktimeGetCoarseNs: HelperFn = (h) => retU64(h, h.env.ktimeNs());
/** jiffies at HZ=250 (Debian's kernel config), from the monotonic clock. */
export const jiffies64: HelperFn = (h) => retU64(h, h.env.ktimeNs() / 4_000_000n);

/** bpf_get_branch_snapshot(entries, size, flags): the VM has no LBR, so -ENOENT as on a host without one (-EINVAL for flags). */
export const getBranchSnapshot: HelperFn = (h) => retI32(h, argU64(h, 3) !== 0n ? -E.EINVAL : -E.ENOENT);
/** bpf_get_attach_cookie(ctx): 0, what Linux returns for a link created without a cookie (VM links pass none yet). */
export const getAttachCookie: HelperFn = (h) => retU64(h, 0n);

const BPF_F_SKIP_FIELD_MASK = 0xffn;
const BPF_F_USER_STACK = 1n << 8n;
const BPF_F_USER_BUILD_ID = 1n << 11n;

/**
 * bpf_get_stack(ctx, buf, size, flags): the environment's stack as u64 ips after skipping (flags & 0xff) frames;
 * returns the bytes copied and zero-fills the rest (kernel: __bpf_get_stack). Build ids are not modelled (-EINVAL).
 */
export const getStack: HelperFn = (h) => {
  const size = argNum(h, 3);
  const buf = argPtr(h, 2, size, true);
  const flags = argU64(h, 4);
  if ((flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) !== 0n || (flags & BPF_F_USER_BUILD_ID) !== 0n
    || size % 8 !== 0) {
    h.space.fillChecked(buf, size, 0, h.pc);
    return retI32(h, -E.EINVAL);
  }
  const ips = h.env.stack(), skip = Number(flags & BPF_F_SKIP_FIELD_MASK);
  const n = Math.max(0, Math.min(ips.length - skip, size / 8));
  for (let k = 0; k < n; k++) h.space.dv.setBigUint64(buf + 8 * k, BigInt.asUintN(64, ips[skip + k]!), true);
  h.space.fillChecked(buf + 8 * n, size - 8 * n, 0, h.pc);
  retI32(h, 8 * n);
};

/** tgid in the upper 32 bits, pid (the thread id) in the lower (kernel: bpf_get_current_pid_tgid). */
export const getCurrentPidTgid: HelperFn = (h) => { h.lo[0] = h.env.pid; h.hi[0] = h.env.tgid; };
/** gid in the upper 32 bits, uid in the lower. */
export const getCurrentUidGid: HelperFn = (h) => { h.lo[0] = h.env.uid; h.hi[0] = h.env.gid; };

/** bpf_get_current_comm(buf, size): the task name, truncated to size-1 and NUL-padded (strscpy_pad). */
export const getCurrentComm: HelperFn = (h) => {
  const size = argNum(h, 2);
  const buf = argPtr(h, 1, size, true);
  const u8 = h.space.u8;
  h.space.fillChecked(buf, size, 0, h.pc);
  const comm = h.env.comm.slice(0, 15);
  for (let i = 0; i < comm.length && i < size - 1; i++) u8[buf + i] = comm.charCodeAt(i) & 0xff;
  retI32(h, 0);
};

/** The root cgroup's id (cgroup v2): the VM's task lives there unless the environment says otherwise. */
const ROOT_CGROUP = 1;

/** bpf_get_current_cgroup_id(): the environment's cgroup, else the root. */
export const getCurrentCgroupId: HelperFn = (h) => retU64(h, BigInt(h.env.cgroupId ?? ROOT_CGROUP));

/**
 * bpf_current_task_under_cgroup(cgroup_array, index): -E2BIG past max_entries, -EAGAIN for an empty slot, else 1
 * when the task's cgroup is that cgroup or below it (the VM knows only its own cgroup and the root above it).
 */
export const currentTaskUnderCgroup: HelperFn = (h) => {
  const map = argMap(h, 1);
  const index = argU32(h, 2);
  if (index >= (map.maxEntries ?? 0)) return retI32(h, -E.E2BIG);
  const id = map.cgroupIdAt?.(index);
  if (id === undefined) return retI32(h, -E.EAGAIN);
  retI32(h, id === ROOT_CGROUP || id === (h.env.cgroupId ?? ROOT_CGROUP) ? 1 : 0);
};
