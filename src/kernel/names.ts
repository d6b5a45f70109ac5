// Kernel enum values and the names bpftool prints for them (enum bpf_prog_type, bpf_map_type, bpf_attach_type,
// bpf_link_type in uapi/linux/bpf.h; the strings are libbpf's, which bpftool shows). Index = enum value.
import { BpfError } from "../errors.ts";

export const PROG_TYPE_NAMES: readonly string[] = [
  "unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event", "cgroup_skb",
  "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint",
  "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector", "cgroup_sysctl",
  "raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
];

export const MAP_TYPE_NAMES: readonly string[] = [
  "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
  "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap",
  "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
  "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf",
  "cgrp_storage", "arena",
];

export const ATTACH_TYPE_NAMES: readonly string[] = [
  "cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create", "cgroup_sock_ops", "sk_skb_stream_parser",
  "sk_skb_stream_verdict", "cgroup_device", "sk_msg_verdict", "cgroup_inet4_bind", "cgroup_inet6_bind",
  "cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet4_post_bind", "cgroup_inet6_post_bind",
  "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "lirc_mode2", "flow_dissector", "cgroup_sysctl", "cgroup_udp4_recvmsg",
  "cgroup_udp6_recvmsg", "cgroup_getsockopt", "cgroup_setsockopt", "trace_raw_tp", "trace_fentry", "trace_fexit",
  "modify_return", "lsm_mac", "trace_iter", "cgroup_inet4_getpeername", "cgroup_inet6_getpeername",
  "cgroup_inet4_getsockname", "cgroup_inet6_getsockname", "xdp_devmap", "cgroup_inet_sock_release", "xdp_cpumap",
  "sk_lookup", "xdp", "sk_skb_verdict", "sk_reuseport_select", "sk_reuseport_select_or_migrate", "perf_event",
  "trace_kprobe_multi", "lsm_cgroup", "struct_ops", "netfilter", "tcx_ingress", "tcx_egress", "trace_uprobe_multi",
  "cgroup_unix_connect", "cgroup_unix_sendmsg", "cgroup_unix_recvmsg", "cgroup_unix_getpeername",
  "cgroup_unix_getsockname", "netkit_primary", "netkit_peer", "trace_kprobe_session", "trace_uprobe_session",
];

export const LINK_TYPE_NAMES: readonly string[] = [
  "unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi", "struct_ops",
  "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap",
];

function lookup(table: readonly string[], what: string, v: number | string): number {
  if (typeof v === "number") return v;
  const s = v.toLowerCase().replace(/^bpf_(prog|map|link)_type_/, "").replace(/^bpf_/, "");
  const i = table.indexOf(s);
  if (i < 0) throw new BpfError("EINVAL", `unknown ${what} '${v}'`);
  return i;
}

/** A program type from its number, bpftool name ("xdp") or uapi name ("BPF_PROG_TYPE_XDP"). */
export const progTypeId = (v: number | string): number => lookup(PROG_TYPE_NAMES, "program type", v);
/** A map type from its number, bpftool name ("hash") or uapi name ("BPF_MAP_TYPE_HASH"). */
export const mapTypeId = (v: number | string): number => lookup(MAP_TYPE_NAMES, "map type", v);
/** An attach type from its number or name ("trace_fentry", "BPF_TRACE_FENTRY"). */
export const attachTypeId = (v: number | string): number => lookup(ATTACH_TYPE_NAMES, "attach type", v);

/** Enum constants used by the loader, by uapi name. */
export const BPF_PROG_TYPE = Object.fromEntries(PROG_TYPE_NAMES.map((n, i) => [n.toUpperCase(), i])) as Record<string, number>;
export const BPF_MAP_TYPE = Object.fromEntries(MAP_TYPE_NAMES.map((n, i) => [n.toUpperCase(), i])) as Record<string, number>;
