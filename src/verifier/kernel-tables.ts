// What Linux 6.18 on x86-64 rewrites a verified program into, as data: the struct offsets its context conversions
// read (struct sk_buff, sock_common, xdp_buff, net_device), the sequences it generates (tc unclone prologue, LD_ABS
// calls, branch-snapshot inline), the map types whose lookups it inlines and the map-ops functions it calls
// directly, and the kernel function behind each helper (the name /proc/kallsyms gives the call's address).
// Offsets were read from this kernel's BTF and checked against its xlated dumps (test/oracle/runtime-bpftool.test.ts).
import { type Insn, insn } from "../isa/ebpf/insn.ts";
import { HELPER_NAMES } from "../uapi/index.ts";

const ld = (size: number, dst: number, src: number, off: number): Insn => ({ code: 0x61 | SZ[size]!, dst, src, off, imm: 0 });
const st = (size: number, dst: number, src: number, off: number): Insn => ({ code: 0x63 | SZ[size]!, dst, src, off, imm: 0 });
const stImm = (size: number, dst: number, off: number, imm: number): Insn => ({ code: 0x62 | SZ[size]!, dst, src: 0, off, imm });
const SZ: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const AX = 11;

/** One converted context access: the replacement and the size of the field the kernel loads (target_size). */
export interface CtxConversion { readonly insns: Insn[]; readonly targetSize: number }

/** The kernel struct offsets context conversions use (Linux 6.18, x86-64). */
export const KERNEL_OFFSETS = {
  skb: {
    len: 112, pktTypeByte: 128, mark: 164, queueMapping: 124, protocol: 176, vlanAll: 152, vlanTci: 154, vlanProto: 152,
    priority: 140, skbIif: 144, dev: 16, tcIndex: 132, cb: 40, hash: 148, data: 200, napiId: 156, tstamp: 32,
    tstampTypeByte: 129, end: 188, head: 192, sk: 24,
    /** the byte holding the `cloned` bit (CLONED_OFFSET) and the bit (CLONED_MASK) */
    clonedByte: 126, clonedMask: 1,
  },
  /** qdisc_skb_cb inside skb->cb: pkt_len at 0, tc_classid at 6 (u16), data[] at 8; bpf_skb_data_end: data_meta 32, data_end 40 */
  qdiscCb: { pktLen: 0, tcClassid: 6, data: 8, dataMeta: 32, dataEnd: 40 },
  netDevice: { ifindex: 224 },
  xdpBuff: { data: 0, dataEnd: 8, dataMeta: 16, rxq: 32, txq: 40 },
  xdpRxq: { dev: 0, queueIndex: 8 },
  shinfo: { gsoSize: 4, gsoSegs: 6, hwtstamps: 16 },
  bpfArrayValue: 312,
  htabElemKey: 48,
  lruNodeRef: 35,
  /** struct sock_common: skc_daddr, skc_rcv_saddr, skc_dport, skc_num, skc_family, skc_v6_daddr, skc_v6_rcv_saddr */
  sockCommon: { daddr: 0, rcvSaddr: 4, dport: 12, num: 14, family: 16, v6Daddr: 56, v6RcvSaddr: 72 },
  /** bpf_convert_tstamp_read's masks in the tstamp_type byte: TC_AT_INGRESS_MASK, SKB_TSTAMP_TYPE_MASK */
  tcAtIngressMask: 4, tstampTypeMask: 3,
  /** bpf_perf_event_data_kern { regs, data }, perf_sample_data.period and .addr */
  perfEvent: { regs: 0, data: 8, samplePeriod: 8, sampleAddr: 184 },
} as const;

/** Field sizes __sk_buff accesses may narrow (ctx_field_size), by uapi offset; fields absent are exact-size only. */
function skbFieldSize(off: number): number {
  if (off === 76 || off === 80 || off === 140 || off === 144 || off === 168) return 0; // data, data_end, data_meta, flow_keys, sk
  if (off === 152 || off === 184) return 8; // tstamp, hwtstamp
  if (off === 180) return 1; // tstamp_type
  return 4;
}

/**
 * bpf_convert_ctx_access (socket filters, cgroup skb) and tc_cls_act_convert_ctx_access (tc): `__sk_buff` field
 * `off` read into dst from src (or written from src / an immediate). Undefined for fields not modelled.
 */
function convertSkb(x: Insn, off: number, write: boolean, tc: boolean, facts: CtxFacts): CtxConversion | undefined {
  const o = KERNEL_OFFSETS.skb, cb = KERNEL_OFFSETS.skb.cb, q = KERNEL_OFFSETS.qdiscCb;
  const d = x.dst, s = x.src;
  const isStImm = (x.code & 0x07) === 0x02;
  const store = (size: number, at: number): Insn => (isStImm ? stImm(size, d, at, x.imm) : st(size, d, s, at));
  const r = (insns: Insn[], targetSize: number): CtxConversion => ({ insns, targetSize });
  if (off >= 48 && off < 68) { // cb[0..4]
    const at = cb + q.data + (off - 48);
    const size = x.code & 0x18;
    return r([write ? { ...x, off: at } : { ...x, off: at }], size === 0x18 ? 8 : size === 0x10 ? 1 : size === 0x08 ? 2 : 4);
  }
  if (write) {
    switch (off) {
      case 8: return r([store(4, o.mark)], 4);
      case 32: return r([store(4, o.priority)], 4);
      case 44: return r([store(2, o.tcIndex)], 2);
      case 72: return r([store(2, cb + q.tcClassid)], 2);
      case 152: {
        // bpf_convert_tstamp_write: unless the program reads tstamp_type, a store at ingress clears the type bits
        const K = KERNEL_OFFSETS;
        const guard: Insn[] = facts.tstampTypeAccess ? [] : [
          ld(1, AX, d, o.tstampTypeByte), { code: 0x46, dst: AX, src: 0, off: 1, imm: K.tcAtIngressMask }, { code: 0x05, dst: 0, src: 0, off: 2, imm: 0 },
          { code: 0x54, dst: AX, src: 0, off: 0, imm: ~K.tstampTypeMask }, st(1, d, AX, o.tstampTypeByte),
        ];
        return r([...guard, store(8, o.tstamp)], 8);
      }
      case 12: // queue_mapping: values >= NO_QUEUE_MAPPING are ignored
        if (isStImm) return x.imm >= 0xffff ? r([{ code: 0x05, dst: 0, src: 0, off: 0, imm: 0 }], 2) : r([stImm(2, d, o.queueMapping, x.imm)], 2);
        return r([{ code: 0x35, dst: s, src: 0, off: 1, imm: 0xffff }, st(2, d, s, o.queueMapping)], 2);
      default: return undefined;
    }
  }
  switch (off) {
    case 0: return r([ld(4, d, s, o.len)], 4);
    case 4: return r([ld(1, d, s, o.pktTypeByte), { code: 0x54, dst: d, src: 0, off: 0, imm: 7 }], 1);
    case 8: return r([ld(4, d, s, o.mark)], 4);
    case 12: return r([ld(2, d, s, o.queueMapping)], 2);
    case 16: return r([ld(2, d, s, o.protocol)], 2);
    case 20: return r([ld(4, d, s, o.vlanAll), { code: 0x15, dst: d, src: 0, off: 1, imm: 0 }, { code: 0xb4, dst: d, src: 0, off: 0, imm: 1 }], 4);
    case 24: return r([ld(2, d, s, o.vlanTci)], 2);
    case 28: return r([ld(2, d, s, o.vlanProto)], 2);
    case 32: return r([ld(4, d, s, o.priority)], 4);
    case 36: return r([ld(4, d, s, o.skbIif)], 4);
    case 40: return r(tc
      ? [ld(8, d, s, o.dev), ld(4, d, d, KERNEL_OFFSETS.netDevice.ifindex)]
      : [ld(8, d, s, o.dev), { code: 0x15, dst: d, src: 0, off: 1, imm: 0 }, ld(4, d, d, KERNEL_OFFSETS.netDevice.ifindex)], 4);
    case 44: return r([ld(2, d, s, o.tcIndex)], 2);
    case 68: return r([ld(4, d, s, o.hash)], 4);
    case 72: return r([ld(2, d, s, cb + q.tcClassid)], 2);
    case 76: return r([ld(8, d, s, o.data)], 8);
    case 80: return r([ld(8, d, s, cb + q.dataEnd)], 8);
    case 84: return r([ld(4, d, s, o.napiId), { code: 0x35, dst: d, src: 0, off: 1, imm: 0x101 }, { code: 0xb7, dst: d, src: 0, off: 0, imm: 0 }], 4);
    case 140: return r([ld(8, d, s, cb + q.dataMeta)], 8);
    case 152: {
      // bpf_convert_tstamp_read: unless the program reads tstamp_type, an ingress skb's delivery time reads as 0
      const K = KERNEL_OFFSETS;
      const guard: Insn[] = facts.tstampTypeAccess ? [] : [
        ld(1, AX, s, o.tstampTypeByte), { code: 0x46, dst: AX, src: 0, off: 1, imm: K.tcAtIngressMask }, { code: 0x05, dst: 0, src: 0, off: 4, imm: 0 },
        { code: 0x46, dst: AX, src: 0, off: 1, imm: K.tstampTypeMask }, { code: 0x05, dst: 0, src: 0, off: 2, imm: 0 },
        { code: 0xb7, dst: d, src: 0, off: 0, imm: 0 }, { code: 0x05, dst: 0, src: 0, off: 1, imm: 0 },
      ];
      return r([...guard, ld(8, d, s, o.tstamp)], 8);
    }
    case 160: return r([ld(4, d, s, cb + q.pktLen)], 4);
    case 168: return r([ld(8, d, s, o.sk)], 8);
    case 164: case 176: case 184: {
      const field = off === 164 ? [2, KERNEL_OFFSETS.shinfo.gsoSegs] : off === 176 ? [2, KERNEL_OFFSETS.shinfo.gsoSize] : [8, KERNEL_OFFSETS.shinfo.hwtstamps];
      return r([ld(4, AX, s, o.end), ld(8, d, s, o.head), { code: 0x0f, dst: d, src: AX, off: 0, imm: 0 }, ld(field[0]!, d, d, field[1]!)], field[0]!);
    }
    case 180: return r([ld(1, d, s, o.tstampTypeByte), { code: 0x54, dst: d, src: 0, off: 0, imm: 3 }], 1);
    default: {
      // family .. local_port: the socket's sock_common through skb->sk (cgroup skb programs)
      if (off < 88 || off >= 140) return undefined;
      const c = KERNEL_OFFSETS.sockCommon;
      const sk = ld(8, d, s, o.sk);
      if (off === 88) return r([sk, ld(2, d, d, c.family)], 2);
      if (off === 92) return r([sk, ld(4, d, d, c.daddr)], 4);
      if (off === 96) return r([sk, ld(4, d, d, c.rcvSaddr)], 4);
      if (off < 116) return r([sk, ld(4, d, d, c.v6Daddr + off - 100)], 4);
      if (off < 132) return r([sk, ld(4, d, d, c.v6RcvSaddr + off - 116)], 4);
      if (off === 132) return r([sk, ld(2, d, d, c.dport), { code: 0x64, dst: d, src: 0, off: 0, imm: 16 }], 2);
      if (off === 136) return r([sk, ld(2, d, d, c.num)], 2);
      return undefined;
    }
  }
}

/** xdp_convert_ctx_access: `struct xdp_md` reads. */
function convertXdp(x: Insn, off: number): CtxConversion | undefined {
  const b = KERNEL_OFFSETS.xdpBuff, d = x.dst, s = x.src;
  switch (off) {
    case 0: return { insns: [ld(8, d, s, b.data)], targetSize: 8 };
    case 4: return { insns: [ld(8, d, s, b.dataEnd)], targetSize: 8 };
    case 8: return { insns: [ld(8, d, s, b.dataMeta)], targetSize: 8 };
    case 12: return { insns: [ld(8, d, s, b.rxq), ld(8, d, d, KERNEL_OFFSETS.xdpRxq.dev), ld(4, d, d, KERNEL_OFFSETS.netDevice.ifindex)], targetSize: 4 };
    case 16: return { insns: [ld(8, d, s, b.rxq), ld(4, d, d, KERNEL_OFFSETS.xdpRxq.queueIndex)], targetSize: 4 };
    case 20: return { insns: [ld(8, d, s, b.txq), ld(8, d, d, 0), ld(4, d, d, KERNEL_OFFSETS.netDevice.ifindex)], targetSize: 4 };
    default: return undefined;
  }
}

/** pe_prog_convert_ctx_access: `struct bpf_perf_event_data` reads through bpf_perf_event_data_kern (regs, data). */
function convertPerfEvent(x: Insn, off: number): CtxConversion {
  const d = x.dst, s = x.src, p = KERNEL_OFFSETS.perfEvent;
  if (off === 168) return { insns: [ld(8, d, s, p.data), ld(8, d, d, p.samplePeriod)], targetSize: 8 };
  if (off === 176) return { insns: [ld(8, d, s, p.data), ld(8, d, d, p.sampleAddr)], targetSize: 8 };
  return { insns: [ld(8, d, s, p.regs), ld(8, d, d, off)], targetSize: 8 };
}

/** What the verifier learnt about the whole program that changes a conversion. */
export interface CtxFacts {
  /** prog->tstamp_type_access: the program reads __sk_buff.tstamp_type, so tstamp reads need no ingress guard */
  readonly tstampTypeAccess: boolean;
}

/** The program types whose context accesses the kernel converts, and how; others read their context as laid out. */
export function ctxConverter(progType: number, facts: CtxFacts): ((x: Insn, off: number, write: boolean) => CtxConversion | undefined) | undefined {
  switch (progType) {
    case 1: case 8: return (x, off, w) => convertSkb(x, off, w, false, facts); // socket_filter, cgroup_skb
    case 3: case 4: return (x, off, w) => convertSkb(x, off, w, true, facts); // sched_cls, sched_act
    case 6: return (x, off, w) => (w ? undefined : convertXdp(x, off));
    case 7: return (x, off, w) => (w ? undefined : convertPerfEvent(x, off));
    case 2: case 5: case 9: case 17: case 26: return () => undefined; // kprobe, tracepoint, ... : the ctx is the kernel's own record
    default: return undefined;
  }
}

/** ctx_field_size for the converted types (0: the access must be the field's size). */
export function ctxFieldSize(progType: number, off: number): number {
  if (progType === 6) return off === 0 || off === 4 || off === 8 ? 0 : 4;
  if (progType === 7) return off === 168 || off === 176 ? 8 : 0;
  return skbFieldSize(off);
}

/**
 * gen_prologue of the program types that have one, given env->seen_direct_write; [] when the kernel adds none.
 * tc (tc_cls_act_prologue -> bpf_unclone_prologue): a program that writes packet data first unclones a cloned skb
 * with bpf_skb_pull_data(skb, 0), dropping the packet (TC_ACT_SHOT) when that fails. The helper call is left as
 * helper id 39 (do_misc_fixups resolves it later); the caller appends the program's first instruction.
 */
export function genPrologue(progType: number, directWrite: boolean): Insn[] {
  if (!directWrite || (progType !== 3 && progType !== 4)) return [];
  const o = KERNEL_OFFSETS.skb;
  return [
    ld(1, 6, 1, o.clonedByte), insn(0x54, 6, 0, 0, o.clonedMask), insn(0x15, 6, 0, 7, 0),
    insn(0xbf, 6, 1, 0, 0), insn(0xaf, 2, 2, 0, 0), insn(0x85, 0, 0, 0, 39),
    insn(0x15, 0, 0, 2, 0), insn(0xb4, 0, 0, 0, 2 /* TC_ACT_SHOT */), insn(0x95, 0, 0, 0, 0),
    insn(0xbf, 1, 6, 0, 0),
  ];
}

/**
 * gen_ld_abs (socket filters, tc, cgroup skb ...): a legacy packet load LD_ABS/LD_IND of 1, 2 or 4 bytes becomes a
 * call of bpf_skb_load_helper_{8,16,32}_no_cache(skb = r6, offset in r2); a negative result (out of bounds) ends the
 * program with 0. `call` is the call instruction for the helper's kernel function, by name.
 */
export function genLdAbs(x: Insn, call: (name: string) => Insn): Insn[] {
  const out: Insn[] = [];
  if ((x.code & 0xe0) === 0x20) out.push(insn(0xb7, 2, 0, 0, x.imm));
  else {
    out.push(insn(0xbf, 2, x.src, 0, 0));
    if (x.imm) out.push(insn(0x07, 2, 0, 0, x.imm));
  }
  out.push(insn(0xbf, 1, 6, 0, 0));
  const bits = { 0x00: 32, 0x08: 16, 0x10: 8 }[x.code & 0x18 as 0x00 | 0x08 | 0x10];
  out.push(call(`bpf_skb_load_helper_${bits}_no_cache`));
  out.push(insn(0x75, 0, 0, 2, 0), insn(0xac, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0));
  return out;
}

// ---- maps ----

/** The map-ops functions do_misc_fixups calls directly: lookup, update, delete, push, pop, peek, redirect, for_each, lookup_percpu. */
interface MapOps {
  readonly lookup?: string; readonly update?: string; readonly del?: string; readonly push?: string; readonly pop?: string;
  readonly peek?: string; readonly redirect?: string; readonly forEach?: string; readonly lookupPercpu?: string;
  /** map_gen_lookup: how the lookup is inlined */
  readonly gen?: "array" | "percpu_array" | "htab" | "percpu_htab" | "lru_htab" | "array_of_maps" | "htab_of_maps";
}

export const MAP_OPS: Readonly<Record<number, MapOps>> = {
  1: { lookup: "htab_map_lookup_elem", update: "htab_map_update_elem", del: "htab_map_delete_elem", forEach: "bpf_for_each_hash_elem", gen: "htab" },
  2: { lookup: "array_map_lookup_elem", update: "array_map_update_elem", del: "array_map_delete_elem", forEach: "bpf_for_each_array_elem", gen: "array" },
  5: { lookup: "htab_percpu_map_lookup_elem", update: "htab_percpu_map_update_elem", del: "htab_map_delete_elem", forEach: "bpf_for_each_hash_elem", lookupPercpu: "htab_percpu_map_lookup_percpu_elem", gen: "percpu_htab" },
  6: { lookup: "percpu_array_map_lookup_elem", update: "array_map_update_elem", del: "array_map_delete_elem", forEach: "bpf_for_each_array_elem", lookupPercpu: "percpu_array_map_lookup_percpu_elem", gen: "percpu_array" },
  9: { lookup: "htab_lru_map_lookup_elem", update: "htab_lru_map_update_elem", del: "htab_lru_map_delete_elem", forEach: "bpf_for_each_hash_elem", gen: "lru_htab" },
  10: { lookup: "htab_lru_percpu_map_lookup_elem", update: "htab_lru_percpu_map_update_elem", del: "htab_lru_map_delete_elem", forEach: "bpf_for_each_hash_elem", lookupPercpu: "htab_lru_percpu_map_lookup_percpu_elem" },
  11: { lookup: "trie_lookup_elem", update: "trie_update_elem", del: "trie_delete_elem" },
  12: { lookup: "array_of_map_lookup_elem", gen: "array_of_maps" },
  13: { lookup: "htab_of_map_lookup_elem", gen: "htab_of_maps" },
  14: { lookup: "dev_map_lookup_elem", redirect: "dev_map_redirect" },
  16: { lookup: "cpu_map_lookup_elem", redirect: "cpu_map_redirect" },
  17: { lookup: "xsk_map_lookup_elem", redirect: "xsk_map_redirect" },
  22: { push: "queue_stack_map_push_elem", pop: "queue_map_pop_elem", peek: "queue_map_peek_elem", update: "queue_stack_map_update_elem", del: "queue_stack_map_delete_elem", lookup: "queue_stack_map_lookup_elem" },
  23: { push: "queue_stack_map_push_elem", pop: "stack_map_pop_elem", peek: "stack_map_peek_elem", update: "queue_stack_map_update_elem", del: "queue_stack_map_delete_elem", lookup: "queue_stack_map_lookup_elem" },
  25: { lookup: "dev_map_hash_lookup_elem", redirect: "dev_hash_map_redirect" },
  30: { push: "bloom_map_push_elem", pop: "bloom_map_pop_elem", peek: "bloom_map_peek_elem" },
};

/** Helper id -> the MapOps member do_misc_fixups substitutes. */
export const MAP_OP_OF_HELPER: Readonly<Record<number, keyof MapOps>> = {
  1: "lookup", 2: "update", 3: "del", 87: "push", 88: "pop", 89: "peek", 51: "redirect", 164: "forEach", 195: "lookupPercpu",
};

export interface MapFacts { readonly type: number; readonly keySize: number; readonly valueSize: number; readonly maxEntries: number; readonly flags: number }

const BPF_F_INNER_MAP = 0x1000;
const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * map_gen_lookup: the instructions replacing `call bpf_map_lookup_elem` (r1 = map, r2 = key, result in r0), or
 * undefined when the kernel calls the map's lookup instead. `htabLookup` is the call to __htab_map_lookup_elem.
 */
export function genLookup(map: MapFacts, htabLookup: Insn): Insn[] | undefined {
  const gen = MAP_OPS[map.type]?.gen;
  const j = (code: number, dst: number, off: number, imm: number): Insn => ({ code, dst, src: 0, off, imm });
  const alu = (code: number, dst: number, imm: number, src = 0): Insn => ({ code, dst, src, off: 0, imm });
  const keyOff = KERNEL_OFFSETS.htabElemKey + Math.ceil(map.keySize / 8) * 8;
  const percpuMov: Insn = { code: 0xbf, dst: 0, src: 0, off: -1, imm: 0 }; // BPF_MOV64_PERCPU_REG (off = BPF_ADDR_PERCPU)
  switch (gen) {
    case "array": case "array_of_maps": case "percpu_array": {
      if (map.flags & BPF_F_INNER_MAP) return undefined;
      const elem = gen === "array" ? Math.ceil(map.valueSize / 8) * 8 : 8;
      const skip = gen === "array" ? 3 : 5;
      const out = [alu(0x07, 1, KERNEL_OFFSETS.bpfArrayValue), ld(4, 0, 2, 0), j(0x35, 0, skip, map.maxEntries)];
      out.push(isPow2(elem) ? alu(0x67, 0, Math.log2(elem)) : alu(0x27, 0, elem));
      out.push(alu(0x0f, 0, 0, 1));
      if (gen === "percpu_array") out.push(ld(8, 0, 0, 0), percpuMov);
      if (gen === "array_of_maps") out.push(ld(8, 0, 0, 0), j(0x15, 0, 1, 0));
      out.push(j(0x05, 0, 1, 0), alu(0xb7, 0, 0));
      return out;
    }
    case "htab": return [htabLookup, j(0x15, 0, 1, 0), alu(0x07, 0, keyOff)];
    case "htab_of_maps": return [htabLookup, j(0x15, 0, 2, 0), alu(0x07, 0, keyOff), ld(8, 0, 0, 0)];
    case "percpu_htab":
      if (map.flags & BPF_F_INNER_MAP) return undefined;
      return [htabLookup, j(0x15, 0, 3, 0), alu(0x07, 0, keyOff), ld(8, 0, 0, 0), percpuMov];
    case "lru_htab": {
      const ref = KERNEL_OFFSETS.lruNodeRef;
      return [htabLookup, j(0x15, 0, 4, 0), ld(1, 1, 0, ref), j(0x55, 1, 1, 0), stImm(1, 0, ref, 1), alu(0x07, 0, keyOff)];
    }
    default: return undefined;
  }
}

// ---- helpers ----

/** Helpers whose kernel function is not bpf_<name>, for every program type. */
const HELPER_FUNC: Readonly<Record<number, string>> = {
  4: "bpf_probe_read_compat", 7: "bpf_user_rnd_u32", 8: "bpf_get_raw_cpu_id", 45: "bpf_probe_read_compat_str",
};

/** Helpers whose function depends on the program type (the tracing variants of perf output and stack walks). */
function helperFuncByType(id: number, progType: number): string | undefined {
  const tp = progType === 5 || progType === 7; // tracepoint, perf_event
  const raw = progType === 17 || progType === 24 || progType === 26; // raw_tracepoint(_writable), tracing
  const skb = progType === 1 || progType === 3 || progType === 4 || progType === 8;
  switch (id) {
    case 25: return tp ? "bpf_perf_event_output_tp" : raw ? "bpf_perf_event_output_raw_tp" : skb ? "bpf_skb_event_output" : progType === 6 ? "bpf_xdp_event_output" : undefined;
    case 27: return progType === 7 ? "bpf_get_stackid_pe" : tp ? "bpf_get_stackid_tp" : raw ? "bpf_get_stackid_raw_tp" : undefined;
    case 67: return progType === 7 ? "bpf_get_stack_pe" : tp ? "bpf_get_stack_tp" : raw ? "bpf_get_stack_raw_tp" : undefined;
    case 173: return progType === 2 ? "bpf_get_func_ip_kprobe" : progType === 26 ? "bpf_get_func_ip_tracing" : undefined;
    case 174: return progType === 2 || progType === 5 ? "bpf_get_attach_cookie_trace" : progType === 7 ? "bpf_get_attach_cookie_pe"
      : raw ? "bpf_get_attach_cookie_tracing" : undefined;
    default: return undefined;
  }
}

/**
 * do_misc_fixups' inline of bpf_get_branch_snapshot(entries = r1, size = r2, flags = r3) on x86-64: -EINVAL for
 * flags, else the perf_snapshot_branch_stack static call with r2 = size / 24 (entries, by multiply and shift), and
 * r0 = entries * 24 bytes, or -ENOENT when it returned none. `snapshot` is the call of the static call's target (on
 * a host without LBR, __static_call_return0).
 */
export function genBranchSnapshot(snapshot: Insn): Insn[] {
  return [
    insn(0x55, 3, 0, 7, 0), insn(0xb4, 0, 0, 0, 0xaaaaaaab | 0), insn(0x2f, 2, 0, 0, 0), insn(0x77, 2, 0, 0, 36), snapshot,
    insn(0x15, 0, 0, 4, 0), insn(0x24, 0, 0, 0, 24), insn(0x05, 0, 0, 3, 0), insn(0xb7, 0, 0, 0, -22), insn(0x05, 0, 0, 1, 0), insn(0xb7, 0, 0, 0, -2),
  ];
}

/** The kernel function a helper call is patched to call (patch_call_imm: fn->func - __bpf_call_base). */
export function helperFunction(id: number, progType: number): string {
  return helperFuncByType(id, progType) ?? HELPER_FUNC[id] ?? `bpf_${HELPER_NAMES[id] ?? `unknown${id}`}`;
}
