// The context a converted classic program reads (what the kernel's bpf_convert_filter() reads from struct sk_buff
// and struct net_device). bpfkit's layout is its own — the kernel's offsets are build-specific — but it has the
// same fields with the same sizes and byte orders, so the converted code has the kernel's shape instruction for
// instruction. The internal functions the kernel calls by address get stable pseudo-helper ids here.

/** Field offsets of the classic skb context (`struct sk_buff` stand-in). */
export const CBPF_SKB = {
  /** u64 address of the linear data (skb->data). */
  data: 0,
  /** u32 skb->len: linear + fragment bytes. */
  len: 8,
  /** u32 skb->data_len: fragment bytes (headlen = len - data_len). */
  dataLen: 12,
  /** u64 address of the net_device, 0 when skb->dev is NULL. */
  dev: 16,
  /** __be16 skb->protocol (network byte order in memory). */
  protocol: 24,
  /** u32 skb->vlan_all = { __be16 vlan_proto; u16 vlan_tci }. */
  vlanAll: 28,
  vlanProto: 28,
  vlanTci: 30,
  /** u8 holding pkt_type in its low 3 bits (PKT_TYPE_OFFSET, little-endian bitfield). */
  pktType: 32,
  /** u16 skb->queue_mapping. */
  queueMapping: 34,
  mark: 36,
  hash: 40,
  /** Size of the struct. */
  size: 48,
} as const;

/** Field offsets of the `struct net_device` stand-in. */
export const CBPF_NETDEV = { ifindex: 0, type: 4, size: 8 } as const;

/** Pseudo-helper ids for the kernel-internal functions the conversion calls (BPF_EMIT_CALL(func)). */
export const CBPF_CALL = {
  bpf_skb_load_helper_8: 0x10000,
  bpf_skb_load_helper_16: 0x10001,
  bpf_skb_load_helper_32: 0x10002,
  bpf_skb_get_pay_offset: 0x10003,
  bpf_skb_get_nlattr: 0x10004,
  bpf_skb_get_nlattr_nest: 0x10005,
  /** Same function as the bpf_get_smp_processor_id helper (id 8). */
  bpf_get_raw_cpu_id: 8,
  /** Same function as the bpf_get_prandom_u32 helper (id 7). */
  bpf_user_rnd_u32: 7,
} as const;

export type CbpfCallName = keyof typeof CBPF_CALL;
