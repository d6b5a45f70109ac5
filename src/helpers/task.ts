// Helpers that report the outside world, all through the injectable HelperEnv: clocks, randomness, the CPU and the
// current task (pid/tgid, uid/gid, comm).
import type { HelperFn } from "./types.ts";
import { argNum, argPtr, retI32, retU32, retU64 } from "./args.ts";

export const ktimeGetNs: HelperFn = (h) => retU64(h, h.env.ktimeNs());
export const ktimeGetBootNs: HelperFn = (h) => retU64(h, h.env.bootNs());
export const getPrandomU32: HelperFn = (h) => retU32(h, h.env.random() >>> 0);
export const getSmpProcessorId: HelperFn = (h) => retU32(h, h.cpu);

/** tgid in the upper 32 bits, pid (the thread id) in the lower (kernel: bpf_get_current_pid_tgid). */
export const getCurrentPidTgid: HelperFn = (h) => { h.lo[0] = h.env.pid; h.hi[0] = h.env.tgid; };
/** gid in the upper 32 bits, uid in the lower. */
export const getCurrentUidGid: HelperFn = (h) => { h.lo[0] = h.env.uid; h.hi[0] = h.env.gid; };

/** bpf_get_current_comm(buf, size): the task name, truncated to size-1 and NUL-padded (strscpy_pad). */
export const getCurrentComm: HelperFn = (h) => {
  const size = argNum(h, 2);
  const buf = argPtr(h, 1, size, true);
  const u8 = h.space.u8;
  u8.fill(0, buf, buf + size);
  const comm = h.env.comm.slice(0, 15);
  for (let i = 0; i < comm.length && i < size - 1; i++) u8[buf + i] = comm.charCodeAt(i) & 0xff;
  retI32(h, 0);
};
