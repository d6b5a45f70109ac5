// Context layouts per program type: which offsets/sizes may be read or written, and what type a load yields
// (the kernel's *_is_valid_access callbacks in net/core/filter.c and kernel/trace/bpf_trace.c, x86_64 layouts).

export type CtxLoadType = "scalar" | "pkt" | "pkt_meta" | "pkt_end";
/** `undefined` = invalid access; otherwise the type of the loaded register. */
export type CtxAccess = CtxLoadType | undefined;

const SKB_SIZE = 192;
// struct __sk_buff field offsets used by the rules.
const CB0 = 48, CB_END = 68, TC_CLASSID = 72, DATA = 76, DATA_END = 80, FAMILY = 88, LOCAL_PORT_END = 140, DATA_META = 140;
const FLOW_KEYS = 144, TSTAMP = 152, WIRE_LEN = 160, SK = 168, HWTSTAMP = 184, MARK = 8, QUEUE_MAPPING = 12, PRIORITY = 32;
const TC_INDEX = 44;

const within = (off: number, start: number, end: number): boolean => off >= start && off < end;

/** bpf_skb_is_valid_access: generic __sk_buff rules shared by every skb program type. */
function skbGeneric(off: number, size: number, write: boolean): boolean {
  if (off < 0 || off >= SKB_SIZE) return false;
  if (off % size !== 0) return false;
  if (within(off, CB0, CB_END)) return off + size <= CB_END;
  if (within(off, 100, 132)) return size === 4; // remote_ip6, local_ip6
  if (within(off, DATA, DATA + 4) || within(off, DATA_END, DATA_END + 4) || within(off, DATA_META, DATA_META + 4)) return off % 4 === 0 && size === 4;
  if (within(off, 180, 184)) return false; // tstamp_type and padding
  if (off === FLOW_KEYS || off === SK || off === TSTAMP || off === HWTSTAMP) return size === 8;
  if (within(off, FLOW_KEYS, FLOW_KEYS + 8) || within(off, SK, SK + 8) || within(off, TSTAMP, TSTAMP + 8) || within(off, HWTSTAMP, HWTSTAMP + 8)) return false;
  if (write) return size === 4;
  return size <= 4 && (size & (size - 1)) === 0;
}

function socketFilter(off: number, size: number, write: boolean): CtxAccess {
  if (within(off, TC_CLASSID, TC_CLASSID + 4) || within(off, DATA, DATA + 4) || within(off, DATA_META, DATA_META + 4) ||
      within(off, DATA_END, DATA_END + 4) || within(off, FAMILY, LOCAL_PORT_END) || within(off, TSTAMP, TSTAMP + 8) ||
      within(off, WIRE_LEN, WIRE_LEN + 4) || within(off, HWTSTAMP, HWTSTAMP + 8)) return undefined;
  if (write && !within(off, CB0, CB_END)) return undefined;
  if (within(off, FLOW_KEYS, FLOW_KEYS + 8)) return undefined;
  return skbGeneric(off, size, write) ? "scalar" : undefined;
}

function pktType(off: number): CtxLoadType {
  return off === DATA ? "pkt" : off === DATA_END ? "pkt_end" : off === DATA_META ? "pkt_meta" : "scalar";
}

function tcClsAct(off: number, size: number, write: boolean): CtxAccess {
  // tstamp_type: tc may read it, one byte (it also makes tstamp reads unguarded: tstamp_type_access, fixups.ts)
  if (off === 180 && !write) return size === 1 ? "scalar" : undefined;
  if (write) {
    const ok = within(off, MARK, MARK + 4) || within(off, TC_INDEX, TC_INDEX + 4) || within(off, PRIORITY, PRIORITY + 4) ||
      within(off, CB0, CB_END) || within(off, TC_CLASSID, TC_CLASSID + 4) || within(off, QUEUE_MAPPING, QUEUE_MAPPING + 4) ||
      within(off, TSTAMP, TSTAMP + 8);
    if (!ok) return undefined;
  }
  if (within(off, FLOW_KEYS, FLOW_KEYS + 8) || within(off, FAMILY, LOCAL_PORT_END)) return undefined;
  return skbGeneric(off, size, write) ? pktType(off) : undefined;
}

function cgroupSkb(off: number, size: number, write: boolean): CtxAccess {
  if (within(off, TC_CLASSID, TC_CLASSID + 4) || within(off, DATA_META, DATA_META + 4) || within(off, FLOW_KEYS, FLOW_KEYS + 8) ||
      within(off, WIRE_LEN, WIRE_LEN + 4) || within(off, SK, SK + 8)) return undefined;
  if (write && !(within(off, MARK, MARK + 4) || within(off, PRIORITY, PRIORITY + 4) || within(off, CB0, CB_END) || within(off, TSTAMP, TSTAMP + 8))) return undefined;
  return skbGeneric(off, size, write) ? pktType(off) : undefined;
}

function xdp(off: number, size: number, write: boolean): CtxAccess {
  if (write) return undefined;
  if (off < 0 || off >= 20 || off % size !== 0 || size !== 4) return undefined;
  return off === 0 ? "pkt" : off === 4 ? "pkt_end" : off === 8 ? "pkt_meta" : "scalar";
}

const PT_REGS_SIZE = 168;
function kprobe(off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0 || off + size > PT_REGS_SIZE) return undefined;
  return "scalar";
}

function tracepoint(off: number, size: number, write: boolean): CtxAccess {
  if (off < 8 || off >= 8192 || write || off % size !== 0) return undefined;
  return "scalar";
}

function rawTracepoint(off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= 96 || write || off % size !== 0) return undefined;
  return "scalar";
}

function perfEvent(off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= 184 || write || off % size !== 0) return undefined;
  if (off >= 168) return size === 8 || ((size & (size - 1)) === 0 && size < 8) ? "scalar" : undefined;
  return size === 8 ? "scalar" : undefined;
}

type Rule = (off: number, size: number, write: boolean) => CtxAccess;
const RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [1, socketFilter], [2, kprobe], [3, tcClsAct], [4, tcClsAct], [5, tracepoint], [6, xdp], [7, perfEvent], [8, cgroupSkb],
  [17, rawTracepoint],
]);

/** Whether program type `progType` may access ctx at [off, off+size) for read/write, and the loaded type. */
export function ctxAccess(progType: number, off: number, size: number, write: boolean): CtxAccess {
  const rule = RULES.get(progType);
  return rule ? rule(off, size, write) : undefined;
}

/** Program types whose packet may be written (may_access_direct_pkt_data with BPF_WRITE). */
export function canWritePacket(progType: number): boolean {
  return progType === 3 || progType === 4 || progType === 6;
}

/** Program types that see packet pointers at all. */
export function hasPacket(progType: number): boolean {
  return progType === 3 || progType === 4 || progType === 6 || progType === 8;
}

/** Return-value range enforced at exit (check_return_code), when the type has one. */
export function returnRange(progType: number): readonly [number, number] | undefined {
  if (progType === 8) return [0, 1];
  return undefined;
}

export function isKnownProgType(progType: number): boolean {
  return RULES.has(progType);
}
