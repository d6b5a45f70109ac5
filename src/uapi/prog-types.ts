// enum bpf_prog_type (uapi/linux/bpf.h, Linux 6.18) with the names bpftool prints (libbpf's prog_type_name: the enum
// name lower-cased without BPF_PROG_TYPE_). Index = enum value; checked against the kernel's BTF in test/oracle.
// bpftool 7.1 (libbpf 1.1) knows the names up to "syscall" (31); later ones are newer libbpf's.

export const PROG_TYPE_NAMES = [
  "unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event", "cgroup_skb",
  "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint",
  "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector", "cgroup_sysctl",
  "raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
] as const;

export type ProgTypeName = (typeof PROG_TYPE_NAMES)[number];

/** The enum value of a program type named as bpftool prints it ("xdp" → 6). */
export const progTypeOf = (name: ProgTypeName): number => PROG_TYPE_NAMES.indexOf(name);

/** Program type ids by uapi name without prefix: BPF_PROG_TYPE.XDP = 6. */
export const BPF_PROG_TYPE: Readonly<Record<string, number>> =
  Object.fromEntries(PROG_TYPE_NAMES.map((n, i) => [n.toUpperCase(), i]));
