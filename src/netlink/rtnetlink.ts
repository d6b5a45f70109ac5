// rtnetlink's wire format as bpftool and libbpf speak it: nlmsghdr, ifinfomsg and tcmsg bodies, (nested) attributes,
// NLMSG_ERROR with its extended-ack message. Builds the requests `bpftool net` sends (link, qdisc, class and filter
// dumps; RTM_SETLINK with IFLA_XDP) and parses the replies into the typed model below, which the VM also answers in.

// <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>, <linux/pkt_sched.h>, <linux/pkt_cls.h>
export const NLMSG_ERROR = 2, NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_DUMP = 0x300;
const NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
export const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_SETLINK = 19, RTM_GETQDISC = 38, RTM_GETTCLASS = 42, RTM_GETTFILTER = 46;
const IFLA_IFNAME = 3, IFLA_LINKINFO = 18, IFLA_INFO_KIND = 1;
export const IFLA_XDP = 43, IFLA_XDP_FD = 1, IFLA_XDP_ATTACHED = 2, IFLA_XDP_FLAGS = 3, IFLA_XDP_PROG_ID = 4;
const IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_HW_PROG_ID = 7;
export const IFLA_XDP_EXPECTED_FD = 8;
export const XDP_ATTACHED_NONE = 0, XDP_ATTACHED_DRV = 1, XDP_ATTACHED_SKB = 2, XDP_ATTACHED_HW = 3, XDP_ATTACHED_MULTI = 4;
export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1, XDP_FLAGS_SKB_MODE = 2, XDP_FLAGS_DRV_MODE = 4, XDP_FLAGS_HW_MODE = 8;
export const XDP_FLAGS_REPLACE = 16;
export const XDP_FLAGS_MODES = XDP_FLAGS_SKB_MODE | XDP_FLAGS_DRV_MODE | XDP_FLAGS_HW_MODE;
export const XDP_FLAGS_MASK = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_MODES | XDP_FLAGS_REPLACE;
const TCA_KIND = 1, TCA_OPTIONS = 2;
const TCA_BPF_ACT = 1, TCA_BPF_NAME = 7, TCA_BPF_ID = 11;
const TCA_ACT_KIND = 1, TCA_ACT_OPTIONS = 2, TCA_ACT_MAX_PRIO = 32;
const TCA_ACT_BPF_PARMS = 2, TCA_ACT_BPF_NAME = 6, TCA_ACT_BPF_ID = 9;
const NLA_TYPE_MASK = 0x3fff, NLA_F_NESTED = 0x8000;
export const TC_H_ROOT = 0xffffffff, TC_H_CLSACT_INGRESS = 0xfffffff2, TC_H_CLSACT_EGRESS = 0xfffffff3;
const AF_UNSPEC = 0, AF_PACKET = 17;
const HDR = 16, IFINFOMSG = 16, TCMSG = 20;

const align4 = (n: number): number => (n + 3) & ~3;

// ---- the model ----

/** One device's IFLA_XDP: the XDP_ATTACHED_* mode and the program ids the kernel reports with it. */
export interface XdpState {
  readonly attached: number;
  /** IFLA_XDP_PROG_ID (single-mode attachments) */
  readonly progId?: number;
  readonly skbProgId?: number;
  readonly drvProgId?: number;
  readonly hwProgId?: number;
}

export interface NetDevice {
  readonly ifindex: number;
  readonly name: string;
  /** IFLA_INFO_KIND ("veth", ...) when the device has link info */
  readonly kind?: string;
  readonly xdp?: XdpState;
}

/** A tc bpf action in a filter's action list (TCA_ACT_BPF_NAME / _ID). */
export interface TcAction {
  readonly name?: string;
  readonly id?: number;
}

/** A tc filter of kind "bpf", as one row of `bpftool net show`'s tc section. */
export interface TcFilter {
  readonly ifindex: number;
  readonly devname: string;
  /** where it hangs: the qdisc or class kind ("htb"), "root", "clsact/ingress" or "clsact/egress" */
  readonly kind: string;
  readonly name?: string;
  readonly id?: number;
  /** TCA_BPF_ACT present: its bpf actions (possibly none) */
  readonly actions?: readonly TcAction[];
}

/** A qdisc or class as the tc listing walks them: its handle and kind. */
export interface TcHandle {
  readonly handle: number;
  readonly kind: string;
}

// ---- building ----

/** Attribute under construction: type and payload bytes (children already encoded for nests). */
export interface Attr {
  readonly type: number;
  readonly data: Uint8Array;
}

export function attrU32(type: number, v: number): Attr {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, v >>> 0, true);
  return { type, data };
}

export function attrS32(type: number, v: number): Attr {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setInt32(0, v, true);
  return { type, data };
}

export function attrU8(type: number, v: number): Attr {
  return { type, data: Uint8Array.of(v) };
}

export function attrStr(type: number, s: string): Attr {
  const b = new TextEncoder().encode(s);
  const data = new Uint8Array(b.length + 1);
  data.set(b);
  return { type, data };
}

export function attrNest(type: number, children: readonly Attr[]): Attr {
  return { type: type | NLA_F_NESTED, data: encodeAttrs(children) };
}

export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  const out = new Uint8Array(attrs.reduce((n, a) => n + align4(4 + a.data.length), 0));
  const v = new DataView(out.buffer);
  let off = 0;
  for (const a of attrs) {
    v.setUint16(off, 4 + a.data.length, true);
    v.setUint16(off + 2, a.type, true);
    out.set(a.data, off + 4);
    off += align4(4 + a.data.length);
  }
  return out;
}

/** One netlink message: header, a fixed body (ifinfomsg/tcmsg/nlmsgerr), attributes. */
export function encodeMessage(type: number, flags: number, seq: number, pid: number, body: Uint8Array, attrs: readonly Attr[] = []): Uint8Array {
  const a = encodeAttrs(attrs);
  const len = HDR + align4(body.length) + a.length;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, pid >>> 0, true);
  out.set(body, HDR);
  out.set(a, HDR + align4(body.length));
  return out;
}

export function ifinfomsg(family: number, ifindex: number): Uint8Array {
  const b = new Uint8Array(IFINFOMSG);
  const v = new DataView(b.buffer);
  v.setUint8(0, family);
  v.setInt32(4, ifindex, true);
  return b;
}

export function tcmsg(ifindex: number, handle: number, parent: number): Uint8Array {
  const b = new Uint8Array(TCMSG);
  const v = new DataView(b.buffer);
  v.setUint8(0, AF_UNSPEC);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  return b;
}

/** bpftool's link dump request (RTM_GETLINK, AF_PACKET, every device). */
export const linkDumpRequest = (seq: number): Uint8Array =>
  encodeMessage(RTM_GETLINK, NLM_F_DUMP | NLM_F_REQUEST, seq, 0, ifinfomsg(AF_PACKET, 0));

/** bpftool's qdisc/class/filter dump request for one device (filters: under `parent`). */
export const tcDumpRequest = (type: number, seq: number, ifindex: number, parent = 0): Uint8Array =>
  encodeMessage(type, NLM_F_DUMP | NLM_F_REQUEST, seq, 0, tcmsg(ifindex, 0, parent));

/** libbpf's bpf_xdp_attach: RTM_SETLINK with IFLA_XDP { FD, FLAGS (when set), EXPECTED_FD (with REPLACE) }. */
export function xdpSetLinkRequest(seq: number, ifindex: number, progFd: number, flags: number, expectedFd = -1): Uint8Array {
  const xdp = [attrS32(IFLA_XDP_FD, progFd)];
  if (flags) xdp.push(attrU32(IFLA_XDP_FLAGS, flags));
  if (flags & XDP_FLAGS_REPLACE) xdp.push(attrS32(IFLA_XDP_EXPECTED_FD, expectedFd));
  return encodeMessage(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0, ifinfomsg(AF_UNSPEC, ifindex), [attrNest(IFLA_XDP, xdp)]);
}

/** An NLMSG_ERROR reply (error 0 is an ack), with the extended-ack message when there is one. */
export function errorMessage(seq: number, pid: number, errno: number, request: Uint8Array, extack?: string): Uint8Array {
  const body = new Uint8Array(4 + HDR);
  const v = new DataView(body.buffer);
  v.setInt32(0, -errno, true);
  body.set(request.subarray(0, HDR), 4);
  const attrs = extack !== undefined ? [attrStr(NLMSGERR_ATTR_MSG, extack)] : [];
  return encodeMessage(NLMSG_ERROR, NLM_F_CAPPED | (attrs.length ? NLM_F_ACK_TLVS : 0), seq, pid, body, attrs);
}

/** A device as RTM_NEWLINK describes it in a dump (what the VM answers with). */
export function linkMessage(seq: number, pid: number, dev: NetDevice): Uint8Array {
  const xdp: Attr[] = [attrU8(IFLA_XDP_ATTACHED, dev.xdp?.attached ?? XDP_ATTACHED_NONE)];
  const x = dev.xdp;
  if (x?.progId !== undefined) xdp.push(attrU32(IFLA_XDP_PROG_ID, x.progId));
  if (x?.skbProgId !== undefined) xdp.push(attrU32(IFLA_XDP_SKB_PROG_ID, x.skbProgId));
  if (x?.drvProgId !== undefined) xdp.push(attrU32(IFLA_XDP_DRV_PROG_ID, x.drvProgId));
  if (x?.hwProgId !== undefined) xdp.push(attrU32(IFLA_XDP_HW_PROG_ID, x.hwProgId));
  const attrs = [attrStr(IFLA_IFNAME, dev.name), attrNest(IFLA_XDP, xdp)];
  if (dev.kind !== undefined) attrs.push(attrNest(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, dev.kind)]));
  return encodeMessage(RTM_NEWLINK, NLM_F_MULTI, seq, pid, ifinfomsg(AF_UNSPEC, dev.ifindex), attrs);
}

export const doneMessage = (seq: number, pid: number): Uint8Array =>
  encodeMessage(NLMSG_DONE, NLM_F_MULTI, seq, pid, new Uint8Array(4));

// ---- parsing ----

export interface Message {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** everything after the header */
  readonly payload: Uint8Array;
}

/** The messages in one datagram (NLMSG_OK / NLMSG_NEXT); a malformed tail ends the walk. */
export function parseMessages(buf: Uint8Array): Message[] {
  const out: Message[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + HDR <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < HDR || off + len > buf.length) break;
    out.push({
      type: v.getUint16(off + 4, true), flags: v.getUint16(off + 6, true), seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true), payload: buf.subarray(off + HDR, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** libbpf_nla_parse: attributes by type (the last of a type wins); undefined when one overruns the buffer. */
export function parseAttrs(b: Uint8Array): Map<number, Uint8Array> | undefined {
  const m = new Map<number, Uint8Array>();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off + 4 <= b.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > b.length) return undefined;
    m.set(v.getUint16(off + 2, true) & NLA_TYPE_MASK, b.subarray(off + 4, off + len));
    off += align4(len);
  }
  return m;
}

const u32 = (b: Uint8Array | undefined): number | undefined =>
  b === undefined || b.length < 4 ? undefined : new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

/** A NUL-terminated attribute string. */
function str(b: Uint8Array): string {
  const z = b.indexOf(0);
  return new TextDecoder().decode(z < 0 ? b : b.subarray(0, z));
}

/** NLMSG_ERROR: the (positive) errno, 0 for an ack, and the extended-ack message libbpf prints. */
export function parseError(m: Message): { errno: number; extack?: string } {
  // a truncated error message is a protocol error (EPROTO), not a crash
  if (m.payload.length < 4) return { errno: 71 };
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const errno = -v.getInt32(0, true) | 0;
  if (!(m.flags & NLM_F_ACK_TLVS)) return { errno };
  let hlen = 4 + HDR;
  if (!(m.flags & NLM_F_CAPPED) && m.payload.length >= 4 + HDR) hlen = 4 + v.getUint32(4, true);
  const attrs = parseAttrs(m.payload.subarray(align4(hlen)));
  const msg = attrs?.get(NLMSGERR_ATTR_MSG);
  return msg === undefined ? { errno } : { errno, extack: str(msg) };
}

/** An RTM_NEWLINK message as a device (undefined when its attributes don't parse). */
export function parseLink(m: Message): NetDevice | undefined {
  if (m.payload.length < IFINFOMSG) return undefined;
  const ifindex = new DataView(m.payload.buffer, m.payload.byteOffset, IFINFOMSG).getInt32(4, true);
  const tb = parseAttrs(m.payload.subarray(IFINFOMSG));
  if (tb === undefined) return undefined;
  const name = tb.get(IFLA_IFNAME);
  const info = tb.get(IFLA_LINKINFO);
  const kind = info && parseAttrs(info)?.get(IFLA_INFO_KIND);
  const x = tb.get(IFLA_XDP);
  let xdp: XdpState | undefined;
  if (x !== undefined) {
    const xt = parseAttrs(x);
    const att = xt?.get(IFLA_XDP_ATTACHED);
    if (xt !== undefined && att !== undefined && att.length >= 1) {
      const ids = {
        progId: u32(xt.get(IFLA_XDP_PROG_ID)), skbProgId: u32(xt.get(IFLA_XDP_SKB_PROG_ID)),
        drvProgId: u32(xt.get(IFLA_XDP_DRV_PROG_ID)), hwProgId: u32(xt.get(IFLA_XDP_HW_PROG_ID)),
      };
      xdp = { attached: att[0]!, ...Object.fromEntries(Object.entries(ids).filter(([, id]) => id !== undefined)) };
    }
  }
  return { ifindex, name: name ? str(name) : "", ...(kind ? { kind: str(kind) } : {}), ...(xdp ? { xdp } : {}) };
}

/** A qdisc or class message: its handle and TCA_KIND ("unknown" without one). */
export function parseTcHandle(m: Message): TcHandle | undefined {
  if (m.payload.length < TCMSG) return undefined;
  const tb = parseAttrs(m.payload.subarray(TCMSG));
  if (tb === undefined) return undefined;
  const k = tb.get(TCA_KIND);
  return { handle: new DataView(m.payload.buffer, m.payload.byteOffset, TCMSG).getUint32(8, true), kind: k ? str(k) : "unknown" };
}

/** Thrown for a reply bpftool's parser refuses (libbpf's -LIBBPF_ERRNO__NLPARSE). */
export class NetlinkParseError extends Error {
  constructor() { super("Error parsing netlink message"); }
}

/**
 * A filter message as bpftool's do_filter_dump reads it: a row when its TCA_KIND is "bpf" with options, else undefined.
 * Actions are read up to the first that does not parse (bpftool stops there too).
 */
export function parseFilter(m: Message, dev: { ifindex: number; name: string }, kind: string): TcFilter | undefined {
  if (m.payload.length < TCMSG) return undefined;
  const tb = parseAttrs(m.payload.subarray(TCMSG));
  if (tb === undefined) throw new NetlinkParseError();
  const opts = tb.get(TCA_OPTIONS), k = tb.get(TCA_KIND);
  if (opts === undefined || k === undefined || str(k) !== "bpf") return undefined;
  const b = parseAttrs(opts);
  if (b === undefined) throw new NetlinkParseError();
  const name = b.get(TCA_BPF_NAME), id = u32(b.get(TCA_BPF_ID)), act = b.get(TCA_BPF_ACT);
  let actions: TcAction[] | undefined;
  if (act !== undefined) {
    const prios = parseAttrs(act);
    if (prios === undefined) throw new NetlinkParseError();
    actions = [];
    for (let p = 0; p <= TCA_ACT_MAX_PRIO; p++) {
      const a = prios.get(p);
      if (a === undefined) continue;
      const at = parseAttrs(a);
      if (at === undefined) break;
      const ak = at.get(TCA_ACT_KIND);
      if (ak === undefined || str(ak) !== "bpf") continue;
      const ao = at.get(TCA_ACT_OPTIONS);
      const bt = ao && parseAttrs(ao);
      if (!bt || !bt.get(TCA_ACT_BPF_PARMS)) break;
      const an = bt.get(TCA_ACT_BPF_NAME), aid = u32(bt.get(TCA_ACT_BPF_ID));
      actions.push({ ...(an ? { name: str(an) } : {}), ...(aid !== undefined ? { id: aid } : {}) });
    }
  }
  return {
    ifindex: dev.ifindex, devname: dev.name, kind, ...(name ? { name: str(name) } : {}), ...(id !== undefined ? { id } : {}),
    ...(actions ? { actions } : {}),
  };
}
