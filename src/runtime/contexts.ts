// Test-run contexts, built the way the kernel's BPF_PROG_TEST_RUN builds them (net/bpf/test_run.c):
// skb programs get a `struct __sk_buff` over a packet whose data starts at the network header (socket filters) or
// the mac header (tc); XDP gets `struct xdp_md` over a page-sized frame with 256 bytes of headroom; "mem" passes a
// buffer in r1 and its length in r2 (the bpf_conformance convention); kprobes get a struct pt_regs. The ctx region is
// read-only except the fields the program type may write.
import type { PacketAccess } from "../helpers/types.ts";
import type { AddressSpace, Region } from "../vm/memory.ts";
import type { RunOptions } from "../vm/vm.ts";
import { BpfError } from "../errors.ts";
import { PROGRAM_TYPES, PT_REGS_SIZE, SK_BUFF_FIELDS, SK_BUFF_SIZE, XDP_MD_FIELDS, XDP_MD_SIZE, fieldOf } from "./layouts.ts";
import type { CtxField, ProgramTypeInfo } from "./layouts.ts";

export interface TestRunContext {
  /** Pass to Vm.run: ctx (or r1/r2), the packet, the writable-field mask. */
  readonly run: RunOptions;
  /** The packet after the run (data .. data_end), as test_run's data_out. */
  dataOut(): Uint8Array;
  /** The context structure after the run (ctx_out), empty for "mem". */
  ctxOut(): Uint8Array;
  /** Read a context field after the run (e.g. "mark", "cb"). */
  field(name: string): number;
  release(): void;
}

export interface SkbOptions {
  /** Data starts at the mac header (tc programs) instead of the network header (socket filters). */
  readonly l2?: boolean;
  readonly packetWritable?: boolean;
  readonly writableFields?: readonly string[];
  /** __sk_buff field values to set (ctx_in), by name; arrays (cb) take their first word. */
  readonly fields?: Readonly<Record<string, number>>;
  /** Network header offset from the mac header (default 14, ETH_HLEN). */
  readonly networkHeader?: number;
  /** Bytes of the packet that are linear (the rest is paged; default all). */
  readonly headLen?: number;
}

const NET_SKB_PAD = 64;
const ETH_HLEN = 14;
const XDP_PACKET_HEADROOM = 256;
const XDP_FRAME_SIZE = 4096;
const SKB_SHARED_INFO = 320;
const XDP_FRAME_STRUCT = 40;

/** The packet type eth_type_trans assigns on the loopback device (address 00:00:00:00:00:00). */
function pktType(p: Uint8Array): number {
  if (p.length < 6) return 0;
  if (p[0]! & 1) return p.subarray(0, 6).every((b) => b === 0xff) ? 1 : 2; // PACKET_BROADCAST / MULTICAST
  return p.subarray(0, 6).every((b) => b === 0) ? 0 : 3; // PACKET_HOST / PACKET_OTHERHOST
}

function maskOf(fields: readonly CtxField[], size: number, names: readonly string[]): Uint8Array {
  const m = new Uint8Array(size);
  for (const n of names) { const f = fieldOf(fields, n); m.fill(1, f.offset, f.offset + f.size); }
  return m;
}

function readField(space: AddressSpace, ctx: Region, fields: readonly CtxField[], name: string): number {
  const f = fieldOf(fields, name);
  return f.size === 1 ? space.u8[ctx.start + f.offset]! : space.dv.getUint32(ctx.start + f.offset, true);
}

/** A `struct __sk_buff` context over `packet` (which starts at the mac header). */
export function buildSkbContext(space: AddressSpace, packet: Uint8Array, opts: SkbOptions = {}): TestRunContext {
  const l2 = opts.l2 ?? false;
  if (!l2 && packet.length < ETH_HLEN) {
    throw new BpfError("EINVAL", `packet of ${packet.length} bytes is shorter than an Ethernet header (${ETH_HLEN})`);
  }
  const buf = space.alloc(NET_SKB_PAD + packet.length, { kind: "packet", name: "skb data", writable: opts.packetWritable ?? false });
  const mac = buf.start + NET_SKB_PAD;
  space.u8.set(packet, mac);
  const net = opts.networkHeader ?? Math.min(ETH_HLEN, packet.length);
  const data = l2 ? mac : mac + ETH_HLEN;
  const len = packet.length - (data - mac);
  const pk: PacketAccess = {
    data, len, headLen: Math.min(len, opts.headLen ?? len), macOffset: mac - data, networkOffset: mac + net - data,
    bufferStart: buf.start, bufferEnd: buf.start + buf.size,
  };
  const ctx = space.alloc(SK_BUFF_SIZE, { kind: "ctx", name: "__sk_buff", writable: false });
  const dv = space.dv;
  const put = (name: string, v: number): void => {
    const f = fieldOf(SK_BUFF_FIELDS, name);
    if (f.size === 1) space.u8[ctx.start + f.offset] = v; else dv.setUint32(ctx.start + f.offset, v >>> 0, true);
  };
  const ethType = packet.length >= ETH_HLEN ? (packet[12]! << 8) | packet[13]! : 0;
  put("len", len);
  put("pkt_type", pktType(packet));
  put("protocol", ((ethType & 0xff) << 8) | (ethType >> 8)); // skb->protocol is big-endian in memory
  put("ifindex", 1); // test_run's skb lives on the loopback device; wire_len and gso_segs stay 0 there
  for (const [name, v] of Object.entries(opts.fields ?? {})) put(name, v);
  put("data", pk.data);
  put("data_end", pk.data + pk.headLen);
  put("data_meta", pk.data);
  const writable = maskOf(SK_BUFF_FIELDS, SK_BUFF_SIZE, opts.writableFields ?? ["cb"]);
  return {
    run: { ctx: ctx.start, packet: pk, ctxRegion: ctx, ctxWritable: writable },
    dataOut: () => space.u8.slice(l2 ? pk.data : mac, pk.data + pk.len),
    ctxOut: () => space.u8.slice(ctx.start, ctx.start + SK_BUFF_SIZE),
    field: (name) => readField(space, ctx, SK_BUFF_FIELDS, name),
    release: () => { space.release(ctx); space.release(buf); },
  };
}

/** A `struct xdp_md` context: 256 bytes of headroom before data, a 4096-byte frame with skb_shared_info tailroom. */
export function buildXdpContext(space: AddressSpace, packet: Uint8Array, fields: Readonly<Record<string, number>> = {}): TestRunContext {
  const maxData = XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - SKB_SHARED_INFO;
  if (packet.length > maxData) throw new BpfError("E2BIG", `XDP packet of ${packet.length} bytes exceeds ${maxData}`);
  const frame = space.alloc(XDP_FRAME_SIZE, { kind: "packet", name: "xdp frame", writable: true });
  const data = frame.start + XDP_PACKET_HEADROOM;
  space.u8.set(packet, data);
  const ctx = space.alloc(XDP_MD_SIZE, { kind: "ctx", name: "xdp_md", writable: false });
  const put = (name: string, v: number): void => space.dv.setUint32(ctx.start + fieldOf(XDP_MD_FIELDS, name).offset, v >>> 0, true);
  const sync = (p: PacketAccess): void => { put("data", p.data); put("data_end", p.data + p.headLen); put("data_meta", p.data); };
  const pk: PacketAccess = {
    data, len: packet.length, headLen: packet.length, macOffset: 0, networkOffset: ETH_HLEN,
    bufferStart: frame.start + XDP_FRAME_STRUCT, bufferEnd: frame.start + XDP_FRAME_SIZE - SKB_SHARED_INFO, onChange: sync,
  };
  put("ingress_ifindex", 1);
  for (const [name, v] of Object.entries(fields)) put(name, v);
  sync(pk);
  return {
    run: { ctx: ctx.start, packet: pk, ctxRegion: ctx, ctxWritable: new Uint8Array(XDP_MD_SIZE) },
    dataOut: () => space.u8.slice(pk.data, pk.data + pk.len),
    ctxOut: () => space.u8.slice(ctx.start, ctx.start + XDP_MD_SIZE),
    field: (name) => readField(space, ctx, XDP_MD_FIELDS, name),
    release: () => { space.release(ctx); space.release(frame); },
  };
}

/** r1 = address of a writable copy of `data`, r2 = its length (bpf_conformance's `-- mem`). Empty data gives r1 = 0. */
export function buildMemContext(space: AddressSpace, data: Uint8Array): TestRunContext {
  const region = data.length > 0 ? space.alloc(data.length, { kind: "scratch", name: "mem", writable: true }) : undefined;
  if (region) space.u8.set(data, region.start);
  return {
    run: { r1: region?.start ?? 0, r2: data.length },
    dataOut: () => (region ? space.u8.slice(region.start, region.start + data.length) : new Uint8Array(0)),
    ctxOut: () => new Uint8Array(0),
    field: () => { throw new BpfError("EINVAL", "a mem context has no fields"); },
    release: () => { if (region) space.release(region); },
  };
}

/** A read-only struct pt_regs for kprobe-style programs, its bytes taken from `data` (zero when shorter). */
export function buildRegsContext(space: AddressSpace, data: Uint8Array): TestRunContext {
  const size = Math.max(PT_REGS_SIZE, data.length);
  const ctx = space.alloc(size, { kind: "ctx", name: "pt_regs", writable: false });
  space.u8.set(data, ctx.start);
  return {
    run: { ctx: ctx.start, ctxRegion: ctx },
    dataOut: () => new Uint8Array(0),
    ctxOut: () => space.u8.slice(ctx.start, ctx.start + size),
    field: (name) => { throw new BpfError("EINVAL", `pt_regs has no field '${name}' in bpfkit's model`); },
    release: () => space.release(ctx),
  };
}

/** The context a program type's test run gets (kernel: prog->aux->ops->test_run). */
export function buildContext(space: AddressSpace, type: string, data: Uint8Array): TestRunContext {
  const info: ProgramTypeInfo | undefined = PROGRAM_TYPES[type];
  if (info === undefined) {
    throw new BpfError("ENOTSUPP", `program type '${type}' cannot be test-run (known: ${Object.keys(PROGRAM_TYPES).join(", ")})`);
  }
  switch (info.context) {
    case "skb": return buildSkbContext(space, data, { l2: info.l2 ?? false, packetWritable: info.packetWritable ?? false, writableFields: info.writableFields });
    case "xdp": return buildXdpContext(space, data);
    case "mem": return buildMemContext(space, data);
    case "regs": return buildRegsContext(space, data);
    case "none": return { run: {}, dataOut: () => data, ctxOut: () => new Uint8Array(0), field: () => 0, release: () => {} };
  }
}
