// Running converted classic programs on bpfkit's eBPF VM: builds the classic skb context (./skbctx.ts) in the VM's
// address space and supplies the kernel-internal functions the conversion calls (bpf_skb_load_helper_N,
// nlattr, payload offset, cpu, random) as helpers. Used to prove conversion and interpreter agree.

import type { HelperCall, HelperFn } from "../helpers/types.ts";
import { AddressSpace } from "../vm/index.ts";
import { createEngine, DEFAULT_ENGINE, type Engine, type EngineKind } from "../jit/select.ts";
import type { LoadedProgram } from "../vm/index.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { skbPayloadOffset } from "./payoffset.ts";
import type { PreparedCbpf } from "./prepare.ts";
import { prepareCbpf } from "./prepare.ts";
import type { SkbMeta } from "./skb.ts";
import { LOAD_FAULT, skbLength, skbLoad, skbNlattr, skbNlattrNest } from "./skb.ts";
import { CBPF_CALL, CBPF_NETDEV, CBPF_SKB } from "./skbctx.ts";
import { ERRNO } from "../uapi/index.ts";

const EFAULT = ERRNO.EFAULT;

interface Current { packet: Uint8Array; meta: SkbMeta | undefined }

/** A VM set up for converted classic programs; `run` executes one on one packet and returns the u32 result. */
export class ConvertedCbpfRunner {
  readonly space = new AddressSpace();
  readonly vm: Engine;
  private current: Current = { packet: new Uint8Array(0), meta: undefined };
  private readonly loaded = new WeakMap<PreparedCbpf, LoadedProgram>();
  private rnd = 0x2545f491;

  constructor(engine: EngineKind = "interp") {
    const helpers: (HelperFn | undefined)[] = [];
    const ret32 = (h: HelperCall, v: number) => { h.lo[0] = v | 0; h.hi[0] = 0; };
    const load = (size: number) => (h: HelperCall) => {
      const v = skbLoad(this.current.packet, this.current.meta, h.lo[4]!, size);
      if (v === LOAD_FAULT) { h.lo[0] = -EFAULT; h.hi[0] = -1; } else ret32(h, v);
    };
    helpers[CBPF_CALL.bpf_skb_load_helper_8] = load(1);
    helpers[CBPF_CALL.bpf_skb_load_helper_16] = load(2);
    helpers[CBPF_CALL.bpf_skb_load_helper_32] = load(4);
    helpers[CBPF_CALL.bpf_skb_get_nlattr] = (h) =>
      ret32(h, skbNlattr(this.current.packet, this.current.meta, h.lo[2]! >>> 0, h.lo[3]! >>> 0));
    helpers[CBPF_CALL.bpf_skb_get_nlattr_nest] = (h) =>
      ret32(h, skbNlattrNest(this.current.packet, this.current.meta, h.lo[2]! >>> 0, h.lo[3]! >>> 0));
    helpers[CBPF_CALL.bpf_skb_get_pay_offset] = (h) => ret32(h, skbPayloadOffset(this.current.packet, this.current.meta));
    helpers[CBPF_CALL.bpf_get_raw_cpu_id] = (h) => ret32(h, this.current.meta?.cpu ?? 0);
    helpers[CBPF_CALL.bpf_user_rnd_u32] = (h) => {
      const r = this.current.meta?.random;
      if (r) return ret32(h, r());
      this.rnd ^= this.rnd << 13; this.rnd ^= this.rnd >>> 17; this.rnd ^= this.rnd << 5;
      ret32(h, this.rnd);
    };
    this.vm = createEngine(engine, this.space, { helpers });
  }

  /** Loads (once per prepared program) and runs it on `packet` (+ meta.frags) with wire length `len`. */
  run(prepared: PreparedCbpf, packet: Uint8Array, len: number, meta?: SkbMeta): number {
    let prog = this.loaded.get(prepared);
    if (!prog) {
      prog = this.vm.load(prepared.converted.insns, { type: "socket_filter", name: "classic" });
      this.loaded.set(prepared, prog);
    }
    const space = this.space;
    const data = space.alloc(Math.max(packet.length, 1), { kind: "packet", name: "skb data", writable: false });
    const ctx = space.alloc(CBPF_SKB.size, { kind: "ctx", name: "classic skb", writable: false });
    const hasDev = meta?.ifindex !== undefined || meta?.hatype !== undefined;
    const dev = hasDev ? space.alloc(CBPF_NETDEV.size, { kind: "ctx", name: "net_device", writable: false }) : undefined;
    try {
      space.u8.set(packet, data.start);
      const dv = space.dv;
      const c = ctx.start;
      // skb->len is the wire length; bytes past the linear part count as paged data (headlen = the linear part).
      const skbLen = Math.max(len, skbLength(packet, meta));
      dv.setBigUint64(c + CBPF_SKB.data, BigInt(data.start), true);
      dv.setUint32(c + CBPF_SKB.len, skbLen >>> 0, true);
      dv.setUint32(c + CBPF_SKB.dataLen, (skbLen - packet.length) >>> 0, true);
      dv.setBigUint64(c + CBPF_SKB.dev, BigInt(dev?.start ?? 0), true);
      dv.setUint16(c + CBPF_SKB.protocol, (meta?.protocol ?? 0) & 0xffff, false); // __be16
      dv.setUint16(c + CBPF_SKB.vlanProto, (meta?.vlanProto ?? 0) & 0xffff, false); // __be16
      dv.setUint16(c + CBPF_SKB.vlanTci, (meta?.vlanTci ?? 0) & 0xffff, true);
      dv.setUint8(c + CBPF_SKB.pktType, (meta?.pktType ?? 0) & 7);
      dv.setUint16(c + CBPF_SKB.queueMapping, (meta?.queueMapping ?? 0) & 0xffff, true);
      dv.setUint32(c + CBPF_SKB.mark, (meta?.mark ?? 0) >>> 0, true);
      dv.setUint32(c + CBPF_SKB.hash, (meta?.hash ?? 0) >>> 0, true);
      if (dev) {
        dv.setUint32(dev.start + CBPF_NETDEV.ifindex, (meta?.ifindex ?? 0) >>> 0, true);
        dv.setUint16(dev.start + CBPF_NETDEV.type, (meta?.hatype ?? 0) & 0xffff, true);
      }
      this.current = { packet, meta };
      return this.vm.run32(prog, { ctx: c });
    } finally {
      space.release(data);
      space.release(ctx);
      if (dev) space.release(dev);
    }
  }
}

/** The kernel_cbpf conformance runner for converted programs on `engine`. */
export const convertedRunnerOn = (engine: EngineKind) => {
  let runner: ConvertedCbpfRunner | undefined;
  return (prepared: PreparedCbpf, _c: unknown, packet: Uint8Array, len: number, meta: SkbMeta): number => {
    runner ??= new ConvertedCbpfRunner(engine);
    return runner.run(prepared, packet, len, meta);
  };
};
export const convertedRunner = convertedRunnerOn(DEFAULT_ENGINE);

const sharedRunners = new Map<EngineKind, ConvertedCbpfRunner>();
const preparedByProgram = new WeakMap<readonly CbpfInsn[], PreparedCbpf>();

/**
 * Converts and runs a classic program on the eBPF VM (checked like the kernel first). One VM is shared, and the
 * conversion is cached per instruction array, so calling this per packet with the same array stays cheap.
 */
export function runConvertedCbpf(insns: readonly CbpfInsn[], packet: Uint8Array, len = packet.length,
  meta?: SkbMeta, engine: EngineKind = "interp"): number {
  let prepared = preparedByProgram.get(insns);
  if (!prepared) { prepared = prepareCbpf(insns); preparedByProgram.set(insns, prepared); }
  let runner = sharedRunners.get(engine);
  if (!runner) { runner = new ConvertedCbpfRunner(engine); sharedRunners.set(engine, runner); }
  return runner.run(prepared, packet, len, meta);
}
