// enum bpf_attach_type (uapi/linux/bpf.h, Linux 6.18) with the names bpftool prints (libbpf's attach_type_name: the
// enum name lower-cased without BPF_). Index = enum value; checked against the kernel's BTF in test/oracle.
// bpftool 7.1 (libbpf 1.1) knows the names up to "lsm_cgroup" (43); later ones are newer libbpf's.

export const ATTACH_TYPE_NAMES = [
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
] as const;

export type AttachTypeName = (typeof ATTACH_TYPE_NAMES)[number];

/** The enum value of an attach type named as bpftool prints it ("trace_fentry" → 24). */
export const attachTypeOf = (name: AttachTypeName): number => ATTACH_TYPE_NAMES.indexOf(name);
