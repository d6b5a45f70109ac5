// Helper functions: Linux ids and names (src/uapi/helpers.ts), prototypes for the verifier (protos.ts, verifier
// engineer), and implementations the interpreter calls (this table), all against an injectable HelperEnv (env.ts).
// `defaultHelpers[id]` is the implementation of helper `id`; tail_call (12) is executed by the VM itself.
// May import: vm/memory (types), errors, uapi. Pure: no node: imports.
import type { HelperFn, HelperTable } from "./types.ts";
import { HELPER_IDS } from "../uapi/index.ts";
import { forEachMapElem, loop } from "./callbacks.ts";
import {
  getStackid, mapDeleteElem, mapLookupElem, mapPeekElem, mapPopElem, mapPushElem, mapUpdateElem, perfEventOutput,
  ringbufDiscard, ringbufOutput, ringbufQuery, ringbufReserve, ringbufSubmit,
} from "./maps.ts";
import { KFUNCS, KFUNC_SLOT_BASE } from "./kfuncs.ts";
import { skbLoadBytes, xdpAdjustHead, xdpAdjustTail } from "./packet.ts";
import { snprintf, tracePrintk } from "./printf.ts";
import { probeReadKernel, probeReadKernelStr, probeReadUser, probeReadUserStr } from "./probe.ts";
import {
  currentTaskUnderCgroup, getAttachCookie, getBranchSnapshot, getCurrentCgroupId, getCurrentComm, getCurrentPidTgid, getCurrentUidGid, getNumaNodeId, getPrandomU32, getSmpProcessorId, getStack,
  jiffies64, ktimeGetBootNs, ktimeGetCoarseNs, ktimeGetNs,
} from "./task.ts";

export { HELPER_NAMES, HELPER_IDS, helperName } from "../uapi/index.ts";
export type { HelperCall, HelperFn, HelperTable, PacketAccess, ProgramMap } from "./types.ts";
export type { HelperEnv } from "./env.ts";
export { deterministicEnv, hostEnv } from "./env.ts";
export { bpfFormat } from "./printf.ts";
export { KFUNCS, KFUNC_SLOT_BASE, kfuncIndex, type KfuncModel, type KfuncSpec } from "./kfuncs.ts";
export type { FormatMemory } from "./printf.ts";
export { E as ERRNO } from "./args.ts";

/** Implementations by kernel helper name (without the bpf_ prefix): the single table the id array is built from. */
export const HELPER_IMPLEMENTATIONS: Readonly<Record<string, HelperFn>> = {
  map_lookup_elem: mapLookupElem,
  map_update_elem: mapUpdateElem,
  map_delete_elem: mapDeleteElem,
  map_push_elem: mapPushElem,
  map_pop_elem: mapPopElem,
  map_peek_elem: mapPeekElem,
  probe_read: probeReadKernel,
  probe_read_kernel: probeReadKernel,
  probe_read_user: probeReadUser,
  probe_read_str: probeReadKernelStr,
  probe_read_kernel_str: probeReadKernelStr,
  probe_read_user_str: probeReadUserStr,
  ktime_get_ns: ktimeGetNs,
  ktime_get_boot_ns: ktimeGetBootNs,
  ktime_get_coarse_ns: ktimeGetCoarseNs,
  ktime_get_tai_ns: ktimeGetCoarseNs,
  jiffies64,
  get_numa_node_id: getNumaNodeId,
  get_stack: getStack,
  get_branch_snapshot: getBranchSnapshot,
  get_attach_cookie: getAttachCookie,
  trace_printk: tracePrintk,
  snprintf,
  get_prandom_u32: getPrandomU32,
  get_smp_processor_id: getSmpProcessorId,
  get_current_pid_tgid: getCurrentPidTgid,
  get_current_uid_gid: getCurrentUidGid,
  get_current_comm: getCurrentComm,
  get_current_cgroup_id: getCurrentCgroupId,
  current_task_under_cgroup: currentTaskUnderCgroup,
  perf_event_output: perfEventOutput,
  get_stackid: getStackid,
  ringbuf_output: ringbufOutput,
  ringbuf_reserve: ringbufReserve,
  ringbuf_submit: ringbufSubmit,
  ringbuf_discard: ringbufDiscard,
  ringbuf_query: ringbufQuery,
  for_each_map_elem: forEachMapElem,
  loop,
  skb_load_bytes: skbLoadBytes,
  xdp_adjust_head: xdpAdjustHead,
  xdp_adjust_tail: xdpAdjustTail,
};

function byId(): HelperTable {
  const table: (HelperFn | undefined)[] = [];
  for (const [name, fn] of Object.entries(HELPER_IMPLEMENTATIONS)) {
    const id = HELPER_IDS.get(name);
    if (id === undefined) throw new Error(`helper ${name} has no Linux id`);
    table[id] = fn;
  }
  // kfuncs the VM implements, at the slots the runtime rewrites their calls to (kfuncs.ts)
  KFUNCS.forEach((k, i) => { if (k.impl) table[KFUNC_SLOT_BASE + i] = k.impl; });
  return table;
}

/** Every implemented helper, indexed by Linux id. */
export const defaultHelpers: HelperTable = byId();
