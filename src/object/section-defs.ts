// libbpf's SEC() conventions (libbpf.c section_defs, v1.1): which program type and expected attach type a section
// name selects. First match wins; "x+" matches "x" or "x/…", "x/" needs the slash, plain "x" must match exactly.
// Program/attach type names are the uapi enum names lower-cased without prefix, as bpftool prints them.
import { ATTACH_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";

/** enum bpf_prog_type and enum bpf_attach_type, index = value: src/uapi's tables. */
export { ATTACH_TYPE_NAMES as ATTACH_TYPES, PROG_TYPE_NAMES as PROG_TYPES } from "../uapi/index.ts";

export const progTypeId = (name: string): number => (PROG_TYPE_NAMES as readonly string[]).indexOf(name);
export const attachTypeId = (name: string): number => (ATTACH_TYPE_NAMES as readonly string[]).indexOf(name);

export const SEC_NONE = 0;
export const SEC_EXP_ATTACH_OPT = 1;
export const SEC_ATTACHABLE = 2;
export const SEC_ATTACH_BTF = 4;
export const SEC_SLEEPABLE = 8;
export const SEC_XDP_FRAGS = 16;
const SEC_ATTACHABLE_OPT = SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT;

export interface SectionDef {
  readonly sec: string;
  readonly progType: string;
  /** Expected attach type name, "" for 0 (the kernel's default). */
  readonly attachType: string;
  readonly flags: number;
}

const def = (sec: string, progType: string, attachType: string, flags: number): SectionDef => ({ sec, progType, attachType, flags });

export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", "socket_filter", "", SEC_NONE),
  def("sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", SEC_ATTACHABLE),
  def("sk_reuseport", "sk_reuseport", "sk_reuseport_select", SEC_ATTACHABLE),
  def("kprobe+", "kprobe", "", SEC_NONE),
  def("uprobe+", "kprobe", "", SEC_NONE),
  def("uprobe.s+", "kprobe", "", SEC_SLEEPABLE),
  def("kretprobe+", "kprobe", "", SEC_NONE),
  def("uretprobe+", "kprobe", "", SEC_NONE),
  def("uretprobe.s+", "kprobe", "", SEC_SLEEPABLE),
  def("kprobe.multi+", "kprobe", "trace_kprobe_multi", SEC_NONE),
  def("kretprobe.multi+", "kprobe", "trace_kprobe_multi", SEC_NONE),
  def("ksyscall+", "kprobe", "", SEC_NONE),
  def("kretsyscall+", "kprobe", "", SEC_NONE),
  def("usdt+", "kprobe", "", SEC_NONE),
  def("tc", "sched_cls", "", SEC_NONE),
  def("classifier", "sched_cls", "", SEC_NONE),
  def("action", "sched_act", "", SEC_NONE),
  def("tracepoint+", "tracepoint", "", SEC_NONE),
  def("tp+", "tracepoint", "", SEC_NONE),
  def("raw_tracepoint+", "raw_tracepoint", "", SEC_NONE),
  def("raw_tp+", "raw_tracepoint", "", SEC_NONE),
  def("raw_tracepoint.w+", "raw_tracepoint_writable", "", SEC_NONE),
  def("raw_tp.w+", "raw_tracepoint_writable", "", SEC_NONE),
  def("tp_btf+", "tracing", "trace_raw_tp", SEC_ATTACH_BTF),
  def("fentry+", "tracing", "trace_fentry", SEC_ATTACH_BTF),
  def("fmod_ret+", "tracing", "modify_return", SEC_ATTACH_BTF),
  def("fexit+", "tracing", "trace_fexit", SEC_ATTACH_BTF),
  def("fentry.s+", "tracing", "trace_fentry", SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("fmod_ret.s+", "tracing", "modify_return", SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("fexit.s+", "tracing", "trace_fexit", SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("freplace+", "ext", "", SEC_ATTACH_BTF),
  def("lsm+", "lsm", "lsm_mac", SEC_ATTACH_BTF),
  def("lsm.s+", "lsm", "lsm_mac", SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("lsm_cgroup+", "lsm", "lsm_cgroup", SEC_ATTACH_BTF),
  def("iter+", "tracing", "trace_iter", SEC_ATTACH_BTF),
  def("iter.s+", "tracing", "trace_iter", SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("syscall", "syscall", "", SEC_SLEEPABLE),
  def("xdp.frags/devmap", "xdp", "xdp_devmap", SEC_XDP_FRAGS),
  def("xdp/devmap", "xdp", "xdp_devmap", SEC_ATTACHABLE),
  def("xdp.frags/cpumap", "xdp", "xdp_cpumap", SEC_XDP_FRAGS),
  def("xdp/cpumap", "xdp", "xdp_cpumap", SEC_ATTACHABLE),
  def("xdp.frags", "xdp", "xdp", SEC_XDP_FRAGS),
  def("xdp", "xdp", "xdp", SEC_ATTACHABLE_OPT),
  def("perf_event", "perf_event", "", SEC_NONE),
  def("lwt_in", "lwt_in", "", SEC_NONE),
  def("lwt_out", "lwt_out", "", SEC_NONE),
  def("lwt_xmit", "lwt_xmit", "", SEC_NONE),
  def("lwt_seg6local", "lwt_seg6local", "", SEC_NONE),
  def("sockops", "sock_ops", "cgroup_sock_ops", SEC_ATTACHABLE_OPT),
  def("sk_skb/stream_parser", "sk_skb", "sk_skb_stream_parser", SEC_ATTACHABLE_OPT),
  def("sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict", SEC_ATTACHABLE_OPT),
  def("sk_skb", "sk_skb", "", SEC_NONE),
  def("sk_msg", "sk_msg", "sk_msg_verdict", SEC_ATTACHABLE_OPT),
  def("lirc_mode2", "lirc_mode2", "lirc_mode2", SEC_ATTACHABLE_OPT),
  def("flow_dissector", "flow_dissector", "flow_dissector", SEC_ATTACHABLE_OPT),
  def("cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress", SEC_ATTACHABLE_OPT),
  def("cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress", SEC_ATTACHABLE_OPT),
  def("cgroup/skb", "cgroup_skb", "", SEC_NONE),
  def("cgroup/sock_create", "cgroup_sock", "cgroup_inet_sock_create", SEC_ATTACHABLE),
  def("cgroup/sock_release", "cgroup_sock", "cgroup_inet_sock_release", SEC_ATTACHABLE),
  def("cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create", SEC_ATTACHABLE_OPT),
  def("cgroup/post_bind4", "cgroup_sock", "cgroup_inet4_post_bind", SEC_ATTACHABLE),
  def("cgroup/post_bind6", "cgroup_sock", "cgroup_inet6_post_bind", SEC_ATTACHABLE),
  def("cgroup/bind4", "cgroup_sock_addr", "cgroup_inet4_bind", SEC_ATTACHABLE),
  def("cgroup/bind6", "cgroup_sock_addr", "cgroup_inet6_bind", SEC_ATTACHABLE),
  def("cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", SEC_ATTACHABLE),
  def("cgroup/connect6", "cgroup_sock_addr", "cgroup_inet6_connect", SEC_ATTACHABLE),
  def("cgroup/sendmsg4", "cgroup_sock_addr", "cgroup_udp4_sendmsg", SEC_ATTACHABLE),
  def("cgroup/sendmsg6", "cgroup_sock_addr", "cgroup_udp6_sendmsg", SEC_ATTACHABLE),
  def("cgroup/recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg", SEC_ATTACHABLE),
  def("cgroup/recvmsg6", "cgroup_sock_addr", "cgroup_udp6_recvmsg", SEC_ATTACHABLE),
  def("cgroup/getpeername4", "cgroup_sock_addr", "cgroup_inet4_getpeername", SEC_ATTACHABLE),
  def("cgroup/getpeername6", "cgroup_sock_addr", "cgroup_inet6_getpeername", SEC_ATTACHABLE),
  def("cgroup/getsockname4", "cgroup_sock_addr", "cgroup_inet4_getsockname", SEC_ATTACHABLE),
  def("cgroup/getsockname6", "cgroup_sock_addr", "cgroup_inet6_getsockname", SEC_ATTACHABLE),
  def("cgroup/sysctl", "cgroup_sysctl", "cgroup_sysctl", SEC_ATTACHABLE),
  def("cgroup/getsockopt", "cgroup_sockopt", "cgroup_getsockopt", SEC_ATTACHABLE),
  def("cgroup/setsockopt", "cgroup_sockopt", "cgroup_setsockopt", SEC_ATTACHABLE),
  def("cgroup/dev", "cgroup_device", "cgroup_device", SEC_ATTACHABLE_OPT),
  def("struct_ops+", "struct_ops", "", SEC_NONE),
  def("sk_lookup", "sk_lookup", "sk_lookup", SEC_ATTACHABLE),
];

function matches(d: SectionDef, name: string): boolean {
  const sec = d.sec;
  if (sec.endsWith("/")) return name.startsWith(sec);
  if (sec.endsWith("+")) {
    const p = sec.slice(0, -1);
    return name.startsWith(p) && (name.length === p.length || name[p.length] === "/");
  }
  return name === sec;
}

/** libbpf's find_sec_def: the first definition matching a section name, or undefined. */
export function findSectionDef(name: string): SectionDef | undefined {
  return SECTION_DEFS.find((d) => matches(d, name));
}

/**
 * The attach target a section names: the part after the first '/' for "+" and "/" definitions
 * (kprobe/do_unlinkat → "do_unlinkat", tracepoint/syscalls/sys_enter_open → "syscalls/sys_enter_open"), else "".
 */
export function attachTarget(d: SectionDef, name: string): string {
  if (!d.sec.endsWith("+") && !d.sec.endsWith("/")) return "";
  const slash = name.indexOf("/");
  return slash < 0 ? "" : name.slice(slash + 1);
}
