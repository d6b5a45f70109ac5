// Context structures as programs see them (uapi/linux/bpf.h, checked against the kernel's BTF): field offsets and
// sizes of `struct __sk_buff` and `struct xdp_md`, and which fields each program type may write
// (kernel: sk_filter_is_valid_access, tc_cls_act_is_valid_access, xdp_is_valid_access).

export interface CtxField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

const u32 = (name: string, offset: number, count = 1): CtxField => ({ name, offset, size: 4 * count });
const u64 = (name: string, offset: number): CtxField => ({ name, offset, size: 8 });

export const SK_BUFF_SIZE = 192;
export const SK_BUFF_FIELDS: readonly CtxField[] = [
  u32("len", 0), u32("pkt_type", 4), u32("mark", 8), u32("queue_mapping", 12), u32("protocol", 16),
  u32("vlan_present", 20), u32("vlan_tci", 24), u32("vlan_proto", 28), u32("priority", 32),
  u32("ingress_ifindex", 36), u32("ifindex", 40), u32("tc_index", 44), u32("cb", 48, 5), u32("hash", 68),
  u32("tc_classid", 72), u32("data", 76), u32("data_end", 80), u32("napi_id", 84), u32("family", 88),
  u32("remote_ip4", 92), u32("local_ip4", 96), u32("remote_ip6", 100, 4), u32("local_ip6", 116, 4),
  u32("remote_port", 132), u32("local_port", 136), u32("data_meta", 140), u64("flow_keys", 144), u64("tstamp", 152),
  u32("wire_len", 160), u32("gso_segs", 164), u64("sk", 168), u32("gso_size", 176), { name: "tstamp_type", offset: 180, size: 1 },
  u64("hwtstamp", 184),
];

export const XDP_MD_SIZE = 24;
export const XDP_MD_FIELDS: readonly CtxField[] = [
  u32("data", 0), u32("data_end", 4), u32("data_meta", 8), u32("ingress_ifindex", 12), u32("rx_queue_index", 16),
  u32("egress_ifindex", 20),
];

export const fieldOf = (fields: readonly CtxField[], name: string): CtxField => {
  const f = fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no context field ${name}`);
  return f;
};

/** struct pt_regs on x86-64: 21 u64 registers (a kprobe program's context). */
export const PT_REGS_SIZE = 168;

export type ContextKind = "skb" | "xdp" | "mem" | "regs" | "none";

/** Program types the runtime can build a test-run context for (names as bpftool prints them). */
export interface ProgramTypeInfo {
  readonly context: ContextKind;
  /** skb->data starts at the mac header (tc) rather than the network header (socket filter). */
  readonly l2?: boolean;
  /** Programs may write packet bytes directly. */
  readonly packetWritable?: boolean;
  /** __sk_buff / xdp_md fields the program may store to. */
  readonly writableFields: readonly string[];
}

export const PROGRAM_TYPES: Readonly<Record<string, ProgramTypeInfo>> = {
  socket_filter: { context: "skb", writableFields: ["cb"] },
  sched_cls: { context: "skb", l2: true, packetWritable: true,
    writableFields: ["mark", "tc_index", "priority", "cb", "tc_classid", "queue_mapping", "tstamp"] },
  sched_act: { context: "skb", l2: true, packetWritable: true,
    writableFields: ["mark", "tc_index", "priority", "cb", "tc_classid", "queue_mapping", "tstamp"] },
  cgroup_skb: { context: "skb", writableFields: ["mark", "priority", "cb"] },
  xdp: { context: "xdp", packetWritable: true, writableFields: [] },
  raw: { context: "mem", packetWritable: true, writableFields: [] },
  kprobe: { context: "regs", writableFields: [] },
  perf_event: { context: "regs", writableFields: [] },
  tracepoint: { context: "none", writableFields: [] },
  raw_tracepoint: { context: "none", writableFields: [] },
  syscall: { context: "mem", packetWritable: true, writableFields: [] },
};

/** enum bpf_prog_type by number, as bpftool names the types (index = id): src/uapi's table. */
export { PROG_TYPE_NAMES } from "../uapi/index.ts";
