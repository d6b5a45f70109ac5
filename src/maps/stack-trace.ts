// STACK_TRACE maps (kernel/bpf/stackmap.c): bpf_get_stackid stores a stack of u64 instruction pointers in bucket
// jhash2(ips, 0) & (n_buckets-1) and returns that bucket as the id. The same stack gets the same id; a different stack
// hashing to an occupied bucket is EEXIST unless BPF_F_REUSE_STACKID replaces it; BPF_F_FAST_STACK_CMP trusts the
// hash alone. User space reads a stack by id (zero-padded to value_size), deletes it, and walks the ids.
// BPF_F_STACK_BUILD_ID maps store struct bpf_stack_build_id frames (32 bytes); bpfkit knows no build ids, so every
// frame is BPF_STACK_BUILD_ID_IP with the raw ip, which is what the kernel reports when it cannot resolve one.

import { BpfError } from "../errors.ts";
import type { AddressSpace } from "../vm/memory.ts";
import { jhash2 } from "./jhash.ts";
import { BpfMap, sysError } from "./map.ts";
import type { MapOptions } from "./map.ts";
import { PERF_EVENT_MAX_STACK, roundUpPow2 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import {
  BPF_F_STACK_BUILD_ID, BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, BPF_F_SKIP_FIELD_MASK, BPF_F_USER_STACK, ERRNO, readU32, u32Bytes,
} from "./types.ts";

/** struct bpf_stack_build_id: s32 status, u8 build_id[20], u64 offset/ip. */
const BUILD_ID_FRAME = 32;
const BPF_STACK_BUILD_ID_IP = 2;
const STACKID_FLAGS = BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID;

export class StackTraceMap extends BpfMap {
  readonly nBuckets: number;
  private readonly depth: number;
  private readonly buildId: boolean;
  private readonly frameSize: number;
  /** Frames per bucket as little-endian u64 bytes; nr holds the frame count + 1, 0 marking an empty bucket (so a
   * large map's arrays stay untouched, zero, until used). */
  private readonly frames: Uint8Array;
  private readonly nr: Int32Array;
  private readonly hashes: Uint32Array;
  private readonly ipBytes: Uint8Array;
  private readonly frameBytes: Uint8Array;
  private used = 0;

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.nBuckets = roundUpPow2(maxEntries);
    this.buildId = (this.flags & BPF_F_STACK_BUILD_ID) !== 0;
    this.frameSize = this.buildId ? BUILD_ID_FRAME : 8;
    this.depth = this.valueSize / this.frameSize;
    if (this.nBuckets * this.valueSize > 2 ** 31) {
      throw new BpfError("ENOMEM", `stack_trace map of ${this.nBuckets} buckets x ${this.valueSize} bytes is beyond bpfkit's limit (2 GiB)`);
    }
    this.frames = new Uint8Array(this.nBuckets * this.valueSize);
    this.nr = new Int32Array(this.nBuckets);
    this.hashes = new Uint32Array(this.nBuckets);
    this.ipBytes = new Uint8Array(this.depth * 8);
    this.frameBytes = new Uint8Array(this.valueSize);
  }

  /** Stacks stored. */
  get count(): number {
    return this.used;
  }

  override updateElem(): number { return -ERRNO.EINVAL; }

  /**
   * bpf_get_stackid for a captured stack (innermost frame first, before skipping): the id, or -EFAULT (nothing left
   * after skipping), -EEXIST (bucket taken by another stack), -ENOMEM (all max_entries stacks in use), -EINVAL (flags).
   */
  getStackId(ips: readonly (bigint | number)[], flags: number): number {
    if (flags & ~STACKID_FLAGS) return -ERRNO.EINVAL;
    const skip = flags & BPF_F_SKIP_FIELD_MASK;
    if (ips.length <= skip) return -ERRNO.EFAULT;
    const maxDepth = Math.min(this.depth + skip, PERF_EVENT_MAX_STACK);
    const traceNr = Math.min(ips.length - skip, maxDepth - skip);
    if (traceNr <= 0) return -ERRNO.EFAULT;
    const s = this.ipBytes;
    for (let k = 0; k < traceNr; k++) {
      const raw = ips[skip + k]!;
      if (typeof raw === "number" && !Number.isSafeInteger(raw)) return -ERRNO.EFAULT; // not an address
      const ip = BigInt.asUintN(64, BigInt(raw));
      const lo = Number(ip & 0xffffffffn), hi = Number(ip >> 32n);
      const o = k * 8;
      s[o] = lo & 0xff; s[o + 1] = (lo >>> 8) & 0xff; s[o + 2] = (lo >>> 16) & 0xff; s[o + 3] = lo >>> 24;
      s[o + 4] = hi & 0xff; s[o + 5] = (hi >>> 8) & 0xff; s[o + 6] = (hi >>> 16) & 0xff; s[o + 7] = hi >>> 24;
    }
    const hash = jhash2(s, 0, traceNr * 2, 0);
    const id = hash & (this.nBuckets - 1);
    const occupied = this.nr[id]! > 0;
    const hashMatches = occupied && this.hashes[id] === hash;
    if (hashMatches && (flags & BPF_F_FAST_STACK_CMP)) return id;
    // Build-id maps take their new bucket before comparing (and fail with ENOMEM without one), as the kernel does.
    if (this.buildId && this.used >= this.maxEntries) return -ERRNO.ENOMEM;
    const frames = this.framesOf(traceNr);
    const len = traceNr * this.frameSize;
    if (hashMatches && this.nr[id] === traceNr + 1 && this.sameFrames(id, frames, len)) return id;
    if (occupied && !(flags & BPF_F_REUSE_STACKID)) return -ERRNO.EEXIST;
    // The kernel takes a new bucket from its freelist of max_entries before releasing the replaced one.
    if (this.used >= this.maxEntries) return -ERRNO.ENOMEM;
    const base = id * this.valueSize;
    this.frames.set(frames.subarray(0, len), base);
    this.frames.fill(0, base + len, base + this.valueSize);
    this.nr[id] = traceNr + 1;
    this.hashes[id] = hash;
    if (!occupied) this.used++;
    return id;
  }

  /** The stored frames of stack `id` (what a user-space lookup decodes), undefined when empty. */
  stack(id: number): bigint[] | undefined {
    if (id < 0 || id >= this.nBuckets || this.nr[id]! === 0) return undefined;
    const dv = new DataView(this.frames.buffer, id * this.valueSize, this.valueSize);
    const at = this.buildId ? 24 : 0;
    return Array.from({ length: this.nr[id]! - 1 }, (_, k) => dv.getBigUint64(k * this.frameSize + at, true));
  }

  /** The bucket data for the first `traceNr` ips in ipBytes: the ips, or build-id frames holding them. */
  private framesOf(traceNr: number): Uint8Array {
    if (!this.buildId) return this.ipBytes;
    const f = this.frameBytes;
    f.fill(0);
    for (let k = 0; k < traceNr; k++) {
      f[k * BUILD_ID_FRAME] = BPF_STACK_BUILD_ID_IP;
      f.set(this.ipBytes.subarray(k * 8, k * 8 + 8), k * BUILD_ID_FRAME + 24);
    }
    return f;
  }

  private sameFrames(id: number, frames: Uint8Array, len: number): boolean {
    const f = this.frames, base = id * this.valueSize;
    for (let k = 0; k < len; k++) if (f[base + k] !== frames[k]) return false;
    return true;
  }

  protected override sysLookup(keyAddr: number): Uint8Array {
    const id = readU32(this.space.u8, keyAddr);
    if (id >= this.nBuckets || this.nr[id]! === 0) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    return this.frames.slice(id * this.valueSize, (id + 1) * this.valueSize);
  }

  protected override sysLookupAndDelete(keyAddr: number): Uint8Array {
    const v = this.sysLookup(keyAddr);
    this.clear(readU32(this.space.u8, keyAddr));
    return v;
  }

  protected override sysUpdate(): void {
    throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: stack traces are stored by bpf_get_stackid only");
  }

  protected override sysDelete(keyAddr: number): void {
    const id = readU32(this.space.u8, keyAddr);
    if (id >= this.nBuckets) throw sysError("E2BIG", this, "BPF_MAP_DELETE_ELEM: id past the buckets");
    if (this.nr[id]! === 0) throw sysError("ENOENT", this, "BPF_MAP_DELETE_ELEM");
    this.clear(id);
  }

  override deleteElem(keyAddr: number): number {
    this.space.assert(keyAddr, 4, false);
    const id = readU32(this.space.u8, keyAddr);
    if (id >= this.nBuckets) return -ERRNO.E2BIG;
    if (this.nr[id]! === 0) return -ERRNO.ENOENT;
    this.clear(id);
    return 0;
  }

  /** stack_map_get_next_key: the next occupied id after `key` (from 0 for null, a bad or empty id). */
  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    let id = 0;
    if (keyAddr >= 0) {
      const k = readU32(this.space.u8, keyAddr);
      id = k >= this.nBuckets || this.nr[k]! === 0 ? 0 : k + 1;
    }
    while (id < this.nBuckets && this.nr[id]! === 0) id++;
    return id >= this.nBuckets ? null : u32Bytes(id);
  }

  private clear(id: number): void {
    this.nr[id] = 0;
    this.used--;
  }
}
