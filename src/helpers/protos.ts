// Helper prototypes as the kernel's struct bpf_func_proto: return type, argument types, and which program types may call.
// Shared by the verifier (argument checks) and the VM (what to implement). Ids come from src/uapi/helpers.ts.
import { progTypeOf } from "../uapi/index.ts";

export type ArgType =
  | "ARG_ANYTHING" | "ARG_CONST_MAP_PTR" | "ARG_PTR_TO_MAP_KEY" | "ARG_PTR_TO_MAP_VALUE"
  | "ARG_PTR_TO_MEM" | "ARG_PTR_TO_UNINIT_MEM" | "ARG_CONST_SIZE" | "ARG_CONST_SIZE_OR_ZERO" | "ARG_PTR_TO_CTX"
  | "ARG_CONST_ALLOC_SIZE_OR_ZERO" | "ARG_PTR_TO_RINGBUF_MEM" | "ARG_PTR_TO_FUNC" | "ARG_PTR_TO_STACK_OR_NULL"
  | "ARG_PTR_TO_LONG"
  /** ARG_PTR_TO_MEM | MEM_WRITE: memory the helper reads and writes back (the range is clobbered, as a store). */
  | "ARG_PTR_TO_MEM_WRITE"
  /** ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY: read-only memory, or NULL when its size is zero. */
  | "ARG_PTR_TO_MEM_OR_NULL";

export type RetType = "RET_INTEGER" | "RET_VOID" | "RET_PTR_TO_MAP_VALUE_OR_NULL" | "RET_PTR_TO_RINGBUF_MEM_OR_NULL";

export interface HelperProto {
  readonly id: number;
  readonly ret: RetType;
  readonly args: readonly ArgType[];
  /** Releases the reference passed in this argument index (OBJ_RELEASE). */
  readonly release?: number;
  /** fn->gpl_only: only programs with a GPL-compatible license may call it. */
  readonly gplOnly?: boolean;
  /** The program's packet data may move (bpf_helper_changes_pkt_data): packet pointers are invalidated. */
  readonly changesPktData?: boolean;
}

const p = (id: number, ret: RetType, args: ArgType[], extra: Partial<HelperProto> = {}): HelperProto => ({ id, ret, args, ...extra });
const MEM_SIZE: ArgType[] = ["ARG_PTR_TO_MEM", "ARG_CONST_SIZE"];

/** Prototypes by helper id (only the helpers bpfkit models). */
export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map([
  p(1, "RET_PTR_TO_MAP_VALUE_OR_NULL", ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY"]),
  p(2, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY", "ARG_PTR_TO_MAP_VALUE", "ARG_ANYTHING"]),
  p(3, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY"]),
  p(4, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(5, "RET_INTEGER", []),
  p(6, "RET_INTEGER", ["ARG_PTR_TO_MEM", "ARG_CONST_SIZE"], { gplOnly: true }),
  p(7, "RET_INTEGER", []),
  p(8, "RET_INTEGER", []),
  // tc's packet rewriting (filter.c): each may move or resize the packet (bpf_helper_changes_pkt_data).
  p(9, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING", "ARG_PTR_TO_MEM", "ARG_CONST_SIZE", "ARG_ANYTHING"], { changesPktData: true }),
  p(10, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING", "ARG_ANYTHING", "ARG_ANYTHING", "ARG_ANYTHING"], { changesPktData: true }),
  p(11, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING", "ARG_ANYTHING", "ARG_ANYTHING", "ARG_ANYTHING"], { changesPktData: true }),
  p(12, "RET_VOID", ["ARG_PTR_TO_CTX", "ARG_CONST_MAP_PTR", "ARG_ANYTHING"]),
  p(14, "RET_INTEGER", []),
  p(15, "RET_INTEGER", []),
  p(16, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE"]),
  p(23, "RET_INTEGER", ["ARG_ANYTHING", "ARG_ANYTHING"]),
  p(25, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_CONST_MAP_PTR", "ARG_ANYTHING", "ARG_PTR_TO_MEM", "ARG_CONST_SIZE_OR_ZERO"]),
  p(26, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING", "ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE"]),
  // bpf_get_stackid: the kprobe, tracepoint (_tp), perf_event (_pe) and raw_tp variants share these types.
  p(27, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_CONST_MAP_PTR", "ARG_ANYTHING"], { gplOnly: true }),
  p(34, "RET_INTEGER", ["ARG_PTR_TO_CTX"]),
  p(35, "RET_INTEGER", []),
  p(37, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_ANYTHING"]),
  p(39, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING"], { changesPktData: true }),
  p(42, "RET_INTEGER", []),
  p(44, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING"], { changesPktData: true }),
  p(45, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(46, "RET_INTEGER", ["ARG_PTR_TO_CTX"]),
  p(47, "RET_INTEGER", ["ARG_PTR_TO_CTX"]),
  // bpf_csum_diff_proto: either buffer may be NULL with a zero size; the packet may be passed (pkt_access).
  p(28, "RET_INTEGER", ["ARG_PTR_TO_MEM_OR_NULL", "ARG_CONST_SIZE_OR_ZERO", "ARG_PTR_TO_MEM_OR_NULL", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"]),
  p(51, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_ANYTHING", "ARG_ANYTHING"]), // bpf_xdp_redirect_map_proto
  p(54, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING"], { changesPktData: true }),
  // Every variant (raw_tp's too since Linux 6.12) writes the stack into ARG_PTR_TO_UNINIT_MEM.
  p(65, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_ANYTHING"], { changesPktData: true }),
  p(67, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  // bpf_xdp_fib_lookup_proto and bpf_skb_fib_lookup_proto: the params struct is read and written back.
  p(69, "RET_INTEGER", ["ARG_PTR_TO_CTX", "ARG_PTR_TO_MEM_WRITE", "ARG_CONST_SIZE", "ARG_ANYTHING"], { gplOnly: true }),
  p(80, "RET_INTEGER", []),
  p(109, "RET_INTEGER", ["ARG_ANYTHING"]), // bpf_send_signal_proto
  p(112, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(113, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(114, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(115, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(118, "RET_INTEGER", []),
  p(125, "RET_INTEGER", []),
  p(130, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"]),
  p(131, "RET_PTR_TO_RINGBUF_MEM_OR_NULL", ["ARG_CONST_MAP_PTR", "ARG_CONST_ALLOC_SIZE_OR_ZERO", "ARG_ANYTHING"]),
  p(132, "RET_VOID", ["ARG_PTR_TO_RINGBUF_MEM", "ARG_ANYTHING"], { release: 0 }),
  p(133, "RET_VOID", ["ARG_PTR_TO_RINGBUF_MEM", "ARG_ANYTHING"], { release: 0 }),
  p(134, "RET_INTEGER", ["ARG_CONST_MAP_PTR", "ARG_ANYTHING"]),
  p(160, "RET_INTEGER", []),
  // tracing: the probed function's address (kprobe and trampoline variants), the link's cookie, an LBR snapshot
  p(173, "RET_INTEGER", ["ARG_PTR_TO_CTX"], { gplOnly: true }),
  p(174, "RET_INTEGER", ["ARG_PTR_TO_CTX"]),
  p(176, "RET_INTEGER", ["ARG_PTR_TO_UNINIT_MEM", "ARG_CONST_SIZE_OR_ZERO", "ARG_ANYTHING"], { gplOnly: true }),
  p(181, "RET_INTEGER", ["ARG_ANYTHING", "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK_OR_NULL", "ARG_ANYTHING"]),
].map((x) => [x.id, x]));

/** Program type numbers (enum bpf_prog_type) and the names bpfkit accepts for them. */
export const PROG_TYPES: Readonly<Record<string, number>> = Object.fromEntries(
  ([
    "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event", "cgroup_skb", "raw_tracepoint",
  ] as const).map((n) => [n, progTypeOf(n)]),
);

const BASE = [1, 2, 3, 5, 7, 8, 12, 42, 118, 125, 130, 131, 132, 133, 134, 181];
// bpf_base_func_proto's CAP_BPF part (get_current_cgroup_id, current_task_under_cgroup) and CAP_PERFMON part.
const BASE_PRIV = [6, 112, 113, 114, 115, 35, 14, 15, 16, 37, 80, 109, 176];
// bpf_tracing_func_proto and the kprobe/tracepoint/perf_event/raw_tp switches (get_stackid, get_stack).
const TRACING = [4, 6, 14, 15, 16, 25, 45, 35, 112, 113, 114, 115, 27, 67, 173, 174];
const SKB_COMMON = [25, 26, 46, 47];
// bpf_ktime_get_coarse_ns is not NMI-safe: bpf_tracing_func_proto refuses it, the networking types keep it.
const COARSE_CLOCK = [160];
// tc_cls_act_func_proto: packet rewriting, checksums, hashing, FIB lookups.
const TC_ONLY = [9, 10, 11, 28, 34, 39, 69];

/**
 * Helpers only a program loaded with CAP_BPF (bpf_loop, the cgroup ids) or CAP_PERFMON (trace_printk, the current task,
 * probe reads) may call: bpf_base_func_proto returns NULL for them to an unprivileged loader.
 */
export const PRIVILEGED_HELPERS: ReadonlySet<number> = new Set([181, 37, 80, 6, 16, 35, 112, 113, 114, 115, 109, 176]);

/** Helpers each program type may call (the kernel's get_func_proto per type, restricted to HELPER_PROTOS). */
export const PROG_TYPE_HELPERS: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [1, new Set([...BASE, ...BASE_PRIV, ...SKB_COMMON, ...COARSE_CLOCK])],
  [2, new Set([...BASE, ...BASE_PRIV, ...TRACING])],
  [3, new Set([...BASE, ...BASE_PRIV, ...SKB_COMMON, ...COARSE_CLOCK, 23, ...TC_ONLY])],
  [4, new Set([...BASE, ...BASE_PRIV, ...SKB_COMMON, ...COARSE_CLOCK, 23, ...TC_ONLY])],
  [5, new Set([...BASE, ...BASE_PRIV, ...TRACING])],
  [6, new Set([...BASE, ...BASE_PRIV, ...COARSE_CLOCK, 23, 25, 28, 44, 51, 54, 65, 69])],
  [7, new Set([...BASE, ...BASE_PRIV, ...TRACING])],
  [8, new Set([...BASE, ...BASE_PRIV, ...COARSE_CLOCK, 25, 26, 46, 47])],
  [17, new Set([...BASE, ...BASE_PRIV, ...TRACING])],
]);

export function helperProto(id: number): HelperProto | undefined {
  return HELPER_PROTOS.get(id);
}

/** The licenses the kernel counts as GPL-compatible (license_is_gpl_compatible): only these may call gplOnly helpers. */
const GPL_COMPATIBLE_LICENSES: ReadonlySet<string> = new Set([
  "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL",
]);

export function licenseIsGplCompatible(license: string): boolean {
  return GPL_COMPATIBLE_LICENSES.has(license);
}
