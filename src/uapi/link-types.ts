// enum bpf_link_type (uapi/linux/bpf.h, Linux 6.18) with the names bpftool prints (the enum name lower-cased without
// BPF_LINK_TYPE_). Index = enum value; checked against the kernel's BTF in test/oracle.

export const LINK_TYPE_NAMES = [
  "unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi", "struct_ops",
  "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap",
] as const;

export type LinkTypeName = (typeof LINK_TYPE_NAMES)[number];
