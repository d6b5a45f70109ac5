// The packet a classic filter sees, modelled on the kernel's sk_buff: a linear part (skb->data .. tail) plus
// optional page fragments, and the metadata the SKF_AD_* ancillary loads read. Loads mirror
// bpf_skb_load_helper_{8,16,32}: linear fast path, skb_copy_bits across fragments, and the negative
// SKF_NET_OFF / SKF_LL_OFF offsets through bpf_internal_load_pointer_neg_helper (linear part only).

import { SKF_LL_OFF, SKF_NET_OFF } from "../isa/cbpf/insn.ts";

/** skb fields read by ancillary loads and negative-offset loads. Every field is optional. */
export interface SkbMeta {
  /** skb->protocol in host order (SKF_AD_PROTOCOL), e.g. 0x0800. */
  readonly protocol?: number;
  /** skb->pkt_type, 3 bits (SKF_AD_PKTTYPE): 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. */
  readonly pktType?: number;
  /** skb->dev->ifindex (SKF_AD_IFINDEX). When neither ifindex nor hatype is given, skb->dev is NULL. */
  readonly ifindex?: number;
  /** skb->dev->type, the ARPHRD_* hardware type (SKF_AD_HATYPE). */
  readonly hatype?: number;
  readonly mark?: number;
  /** skb->queue_mapping (SKF_AD_QUEUE). */
  readonly queueMapping?: number;
  /** skb->hash (SKF_AD_RXHASH). */
  readonly hash?: number;
  /** raw_smp_processor_id() (SKF_AD_CPU). */
  readonly cpu?: number;
  /** skb->vlan_tci (SKF_AD_VLAN_TAG). */
  readonly vlanTci?: number;
  /** skb->vlan_proto in host order (SKF_AD_VLAN_TPID); SKF_AD_VLAN_TAG_PRESENT is (vlan_proto|vlan_tci) != 0. */
  readonly vlanProto?: number;
  /** Offset of the network header in the linear data (SKF_NET_OFF loads); absent: not set, such loads fail. */
  readonly networkOffset?: number;
  /** Offset of the mac header in the linear data (SKF_LL_OFF loads); absent: not set, such loads fail. */
  readonly macOffset?: number;
  /** Paged fragments following the linear data (skb_shinfo(skb)->frags); skb->len counts them. */
  readonly frags?: readonly Uint8Array[];
  /** Source of SKF_AD_RANDOM (bpf_user_rnd_u32); default: a seeded xorshift generator per compiled filter. */
  readonly random?: () => number;
}

/** Total bytes reachable by packet loads: linear part plus fragments (skb->len). */
export function skbLength(linear: Uint8Array, meta: SkbMeta | undefined): number {
  let len = linear.length;
  const frags = meta?.frags;
  if (frags) for (let i = 0; i < frags.length; i++) len += frags[i]!.length;
  return len;
}

/** Sentinel for a failed load (the helpers' -EFAULT); every successful load is a uint32 >= 0. */
export const LOAD_FAULT = -1;

/**
 * One big-endian load of `size` (1, 2 or 4) bytes at signed 32-bit `offset`, as bpf_skb_load_helper_N does:
 * returns the value, or LOAD_FAULT when the bytes are not all in the skb.
 */
export function skbLoad(linear: Uint8Array, meta: SkbMeta | undefined, offset: number, size: number): number {
  if (offset >= 0) {
    if (linear.length - offset >= size) return readBe(linear, offset, size);
    const frags = meta?.frags;
    if (!frags || frags.length === 0) return LOAD_FAULT;
    return copyBitsBe(linear, frags, offset, size);
  }
  // bpf_internal_load_pointer_neg_helper: relative to the network or mac header, bounded by head..tail.
  let at: number;
  if (offset >= SKF_NET_OFF) {
    const nh = meta?.networkOffset;
    if (nh === undefined) return LOAD_FAULT;
    at = nh + (offset - SKF_NET_OFF);
  } else if (offset >= SKF_LL_OFF) {
    const mh = meta?.macOffset;
    if (mh === undefined) return LOAD_FAULT;
    at = mh + (offset - SKF_LL_OFF);
  } else {
    return LOAD_FAULT;
  }
  if (at < 0 || at + size > linear.length) return LOAD_FAULT;
  return readBe(linear, at, size);
}

function readBe(b: Uint8Array, at: number, size: number): number {
  if (size === 1) return b[at]!;
  if (size === 2) return (b[at]! << 8) | b[at + 1]!;
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

// skb_copy_bits: the bytes may straddle the linear part and any number of fragments.
function copyBitsBe(linear: Uint8Array, frags: readonly Uint8Array[], offset: number, size: number): number {
  let total = linear.length;
  for (let i = 0; i < frags.length; i++) total += frags[i]!.length;
  if (offset > total - size) return LOAD_FAULT;
  let value = 0;
  for (let n = 0; n < size; n++) value = value * 256 + byteAt(linear, frags, offset + n);
  return value;
}

function byteAt(linear: Uint8Array, frags: readonly Uint8Array[], at: number): number {
  if (at < linear.length) return linear[at]!;
  at -= linear.length;
  for (let i = 0; i < frags.length; i++) {
    const f = frags[i]!;
    if (at < f.length) return f[at]!;
    at -= f.length;
  }
  return 0; // unreachable: callers bound `at` by the total length
}

const NLA_HDRLEN = 4;
const NLA_TYPE_MASK = 0x3fff; // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

/** SKF_AD_NLATTR (bpf_skb_get_nlattr): offset of netlink attribute type X in the attributes at A, or 0. */
export function skbNlattr(linear: Uint8Array, meta: SkbMeta | undefined, a: number, x: number): number {
  const len = skbLength(linear, meta);
  if (len !== linear.length) return 0; // skb_is_nonlinear
  if (len < NLA_HDRLEN || a > len - NLA_HDRLEN) return 0;
  return nlaFind(linear, a, len - a, x);
}

/** SKF_AD_NLATTR_NEST (bpf_skb_get_nlattr_nest): attribute X nested inside the attribute at A, or 0. */
export function skbNlattrNest(linear: Uint8Array, meta: SkbMeta | undefined, a: number, x: number): number {
  const len = skbLength(linear, meta);
  if (len !== linear.length) return 0;
  if (len < NLA_HDRLEN || a > len - NLA_HDRLEN) return 0;
  const nlaLen = u16le(linear, a);
  if (nlaLen > len - a) return 0;
  return nlaFind(linear, a + NLA_HDRLEN, nlaLen - NLA_HDRLEN, x);
}

// nla_find: walk attributes while nla_ok(); a match returns its offset from skb->data.
function nlaFind(b: Uint8Array, at: number, rem: number, type: number): number {
  while (rem >= NLA_HDRLEN) {
    const nlaLen = u16le(b, at);
    if (nlaLen < NLA_HDRLEN || nlaLen > rem) return 0;
    if ((u16le(b, at + 2) & NLA_TYPE_MASK) === type) return at;
    const step = (nlaLen + 3) & ~3;
    rem -= step;
    at += step;
  }
  return 0;
}

// struct nlattr fields are in host order; bpfkit models a little-endian host like the kernel's test build.
const u16le = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
