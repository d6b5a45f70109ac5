// STACK_TRACE maps (kernel/bpf/stackmap.c): bpf_get_stackid stores a stack of u64 instruction pointers in bucket
// jhash2(ips, 0) & (n_buckets-1) and returns that bucket as the id. The same stack gets the same id; a different stack
// hashing to an occupied bucket is EEXIST unless BPF_F_REUSE_STACKID replaces it; BPF_F_FAST_STACK_CMP trusts the
// hash alone. User space reads a stack by id (zero-padded to value_size), deletes it, and walks the ids.
// BPF_F_STACK_BUILD_ID maps store struct bpf_stack_build_id frames (32 bytes); bpfkit knows no build ids, so every
// frame is BPF_STACK_BUILD_ID_IP with the raw ip, which is what the kernel reports when it cannot resolve one.
// Shared state (worker CPUs), as the kernel keeps it: max_entries buckets {hash, nr, frames} taken from a free list
// (under its lock, the kernel's pcpu_freelist), and an id table whose slots are swapped with Atomics.exchange (the
// kernel's xchg), all in the address space; the replaced bucket goes back to the free list.

import { BpfError } from "../errors.ts";
import type { AddressSpace, Region } from "../vm/memory.ts";
import { jhash2 } from "./jhash.ts";
import { spinLock, spinUnlock } from "./lock.ts";
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
/** A bucket: u32 hash, u32 nr (frames), then value_size bytes of frames. */
const BUCKET_HDR = 8;
// control words: the free list's lock, free-list length, buckets never handed out yet start here
const W_LOCK = 0, W_FREE = 1, W_FRESH = 2;

export class StackTraceMap extends BpfMap {
  readonly nBuckets: number;
  private readonly depth: number;
  private readonly buildId: boolean;
  private readonly frameSize: number;
  private readonly stride: number;
  /** Word index of the control block, the id table (bucket + 1 per id, 0 empty), the free list (bucket numbers). */
  private readonly C: number;
  private readonly T: number;
  private readonly F: number;
  private readonly pool: Region;
  /**
   * This thread's scratch for the ips being stored (little-endian u64s: stored through the u64 and u32 views, which
   * wrap a bigint to 64 bits and split a number without BigInt arithmetic) and build-id frames.
   */
  private readonly ipBytes: Uint8Array;
  private readonly ip64: BigUint64Array;
  private readonly ip32: Uint32Array;
  private readonly frameBytes: Uint8Array;
  private readonly frame32: Uint32Array;

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.nBuckets = roundUpPow2(maxEntries);
    this.buildId = (this.flags & BPF_F_STACK_BUILD_ID) !== 0;
    this.frameSize = this.buildId ? BUILD_ID_FRAME : 8;
    this.depth = this.valueSize / this.frameSize;
    this.stride = BUCKET_HDR + this.valueSize;
    if (maxEntries * this.stride + this.nBuckets * 4 > 2 ** 30) {
      throw new BpfError("ENOMEM", `stack_trace map of ${maxEntries} buckets x ${this.valueSize} bytes is beyond bpfkit's limit (1 GiB)`);
    }
    // Regions never handed out are zero, so a large map costs nothing until its buckets are used.
    this.C = this.allocRegion(16, "control", false).start >> 2;
    this.T = this.allocRegion(this.nBuckets * 4, "ids", false).start >> 2;
    this.F = this.allocRegion(maxEntries * 4, "free list", false).start >> 2;
    this.pool = this.allocRegion(maxEntries * this.stride, "buckets", false);
    this.ipBytes = new Uint8Array(this.depth * 8);
    this.ip64 = new BigUint64Array(this.ipBytes.buffer);
    this.ip32 = new Uint32Array(this.ipBytes.buffer);
    this.frameBytes = new Uint8Array(this.valueSize);
    this.frame32 = new Uint32Array(this.frameBytes.buffer);
  }

  /** Stacks stored (buckets taken from the free list). */
  get count(): number {
    const i32 = this.space.i32;
    return Atomics.load(i32, this.C + W_FRESH) - Atomics.load(i32, this.C + W_FREE);
  }

  override updateElem(): number { return -ERRNO.EINVAL; }

  /**
   * bpf_get_stackid for a captured stack (innermost frame first, before skipping): the id, or -EFAULT (nothing left
   * after skipping), -EEXIST (bucket taken by another stack), -ENOMEM (all max_entries stacks in use), -EINVAL (flags).
   */
  getStackId(ips: ArrayLike<bigint | number>, flags: number): number {
    if (flags & ~STACKID_FLAGS) return -ERRNO.EINVAL;
    const skip = flags & BPF_F_SKIP_FIELD_MASK;
    if (ips.length <= skip) return -ERRNO.EFAULT;
    const maxDepth = Math.min(this.depth + skip, PERF_EVENT_MAX_STACK);
    const traceNr = Math.min(ips.length - skip, maxDepth - skip);
    if (traceNr <= 0) return -ERRNO.EFAULT;
    const ip64 = this.ip64, ip32 = this.ip32;
    for (let k = 0; k < traceNr; k++) {
      const raw = ips[skip + k]!;
      if (typeof raw === "bigint") { ip64[k] = raw; continue; }
      if (!Number.isSafeInteger(raw)) return -ERRNO.EFAULT; // not an address
      ip32[2 * k] = raw; // the u32 view keeps the low 32 bits (two's complement for a negative ip)
      ip32[2 * k + 1] = Math.floor(raw / 2 ** 32);
    }
    const hash = jhash2(this.ipBytes, 0, traceNr * 2, 0);
    const id = hash & (this.nBuckets - 1);
    const i32 = this.space.i32;
    const cur = Atomics.load(i32, this.T + id) - 1;
    const hashMatches = cur >= 0 && (i32[this.bucketWord(cur)]! >>> 0) === hash;
    if (hashMatches && (flags & BPF_F_FAST_STACK_CMP)) return id;
    const frames = this.framesOf(traceNr);
    const len = traceNr * this.frameSize;
    let fresh: number;
    if (this.buildId) {
      // Build-id maps take their new bucket before comparing (and fail with ENOMEM without one), as the kernel does.
      fresh = this.pop();
      if (fresh < 0) return -ERRNO.ENOMEM;
      if (hashMatches && this.sameFrames(cur, traceNr, frames, len)) { this.push(fresh); return id; }
      if (cur >= 0 && !(flags & BPF_F_REUSE_STACKID)) { this.push(fresh); return -ERRNO.EEXIST; }
    } else {
      if (hashMatches && this.sameFrames(cur, traceNr, frames, len)) return id;
      if (cur >= 0 && !(flags & BPF_F_REUSE_STACKID)) return -ERRNO.EEXIST;
      // The kernel takes a new bucket from its free list before releasing the replaced one.
      fresh = this.pop();
      if (fresh < 0) return -ERRNO.ENOMEM;
    }
    const at = this.pool.start + fresh * this.stride;
    this.space.u8.set(frames.subarray(0, len), at + BUCKET_HDR);
    const w = at >> 2;
    this.space.i32[w] = hash | 0;
    this.space.i32[w + 1] = traceNr;
    const old = Atomics.exchange(this.space.i32, this.T + id, fresh + 1) - 1;
    if (old >= 0) this.push(old);
    return id;
  }

  /** The stored frames of stack `id` (what a user-space lookup decodes), undefined when empty. */
  stack(id: number): bigint[] | undefined {
    if (id < 0 || id >= this.nBuckets) return undefined;
    const b = Atomics.load(this.space.i32, this.T + id) - 1;
    if (b < 0) return undefined;
    const at = this.pool.start + b * this.stride;
    const dv = this.space.dv, nr = this.space.i32[(at >> 2) + 1]!;
    const off = this.buildId ? 24 : 0;
    return Array.from({ length: nr }, (_, k) => dv.getBigUint64(at + BUCKET_HDR + k * this.frameSize + off, true));
  }

  /**
   * Walks the shared structures and throws on the first inconsistency: an id whose bucket hashes elsewhere or holds
   * frames that do not hash to its stored hash, a bucket in two places (two ids, or an id and the free list), more
   * buckets than max_entries. Returns the stacks stored and the free list's length.
   */
  checkConsistency(): { stacks: number; free: number } {
    const i32 = this.space.i32, owner = new Map<number, string>();
    const claim = (b: number, where: string): void => {
      if (b < 0 || b >= this.maxEntries) throw new BpfError("EINVAL", `stack_trace map ${this.id}: ${where} names bucket ${b}, past max_entries`);
      const prev = owner.get(b);
      if (prev !== undefined) throw new BpfError("EINVAL", `stack_trace map ${this.id}: bucket ${b} is both ${prev} and ${where}`);
      owner.set(b, where);
    };
    let stacks = 0;
    for (let id = 0; id < this.nBuckets; id++) {
      const b = Atomics.load(i32, this.T + id) - 1;
      if (b < 0) continue;
      claim(b, `id ${id}`);
      const at = this.pool.start + b * this.stride, w = at >> 2;
      const hash = i32[w]! >>> 0, nr = i32[w + 1]!;
      if (nr <= 0 || nr > this.depth) throw new BpfError("EINVAL", `stack_trace map ${this.id}: id ${id} holds ${nr} frames`);
      if ((hash & (this.nBuckets - 1)) !== id) throw new BpfError("EINVAL", `stack_trace map ${this.id}: id ${id} holds a stack hashing to ${hash & (this.nBuckets - 1)}`);
      if (!this.buildId) {
        const ips = this.space.u8.slice(at + BUCKET_HDR, at + BUCKET_HDR + nr * 8);
        if (jhash2(ips, 0, nr * 2, 0) !== hash) throw new BpfError("EINVAL", `stack_trace map ${this.id}: id ${id}'s frames do not hash to its hash`);
      }
      stacks++;
    }
    const free = Atomics.load(i32, this.C + W_FREE), fresh = Atomics.load(i32, this.C + W_FRESH);
    for (let k = 0; k < free; k++) claim(i32[this.F + k]!, `free list entry ${k}`);
    for (const b of owner.keys()) if (b >= fresh) throw new BpfError("EINVAL", `stack_trace map ${this.id}: bucket ${b} used but never handed out`);
    if (stacks + free !== fresh) throw new BpfError("EINVAL", `stack_trace map ${this.id}: ${stacks} stacks + ${free} free != ${fresh} buckets handed out`);
    return { stacks, free };
  }

  /** The bucket data for the first `traceNr` ips in ipBytes: the ips, or build-id frames holding them. */
  private framesOf(traceNr: number): Uint8Array {
    if (!this.buildId) return this.ipBytes;
    const f = this.frameBytes, f32 = this.frame32, ip32 = this.ip32;
    f.fill(0);
    for (let k = 0; k < traceNr; k++) {
      const w = k * (BUILD_ID_FRAME / 4);
      f32[w] = BPF_STACK_BUILD_ID_IP; // status
      f32[w + 6] = ip32[2 * k]!; // ip, at byte 24
      f32[w + 7] = ip32[2 * k + 1]!;
    }
    return f;
  }

  private bucketWord(b: number): number {
    return (this.pool.start + b * this.stride) >> 2;
  }

  private sameFrames(b: number, traceNr: number, frames: Uint8Array, len: number): boolean {
    const at = this.pool.start + b * this.stride, u8 = this.space.u8;
    if (this.space.i32[(at >> 2) + 1] !== traceNr) return false;
    for (let k = 0; k < len; k++) if (u8[at + BUCKET_HDR + k] !== frames[k]) return false;
    return true;
  }

  /** pcpu_freelist_pop: a free bucket, or -1 when all max_entries are in use. */
  private pop(): number {
    const space = this.space, C = this.C;
    if (!spinLock(space, C + W_LOCK)) return -1;
    try {
      const i32 = space.i32;
      const free = i32[C + W_FREE]!;
      if (free > 0) { Atomics.store(i32, C + W_FREE, free - 1); return i32[this.F + free - 1]!; }
      const fresh = i32[C + W_FRESH]!;
      if (fresh >= this.maxEntries) return -1;
      Atomics.store(i32, C + W_FRESH, fresh + 1);
      return fresh;
    } finally {
      spinUnlock(space, C + W_LOCK);
    }
  }

  /** pcpu_freelist_push. */
  private push(b: number): void {
    const space = this.space, C = this.C;
    // the lock is only ever held for a few instructions: spinLock fails only when this thread holds it (never here)
    if (!spinLock(space, C + W_LOCK)) throw new BpfError("EBUSY", `stack_trace map ${this.id}: free list lock not released`);
    try {
      const i32 = space.i32, free = i32[C + W_FREE]!;
      i32[this.F + free] = b;
      Atomics.store(i32, C + W_FREE, free + 1);
    } finally {
      spinUnlock(space, C + W_LOCK);
    }
  }

  /** bpf_stackmap_copy: the bucket is taken out of its slot while it is copied, then put back (xchg, as the kernel). */
  protected override sysLookup(keyAddr: number): Uint8Array {
    const id = readU32(this.space.u8, keyAddr);
    if (id >= this.nBuckets) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    const i32 = this.space.i32;
    const b = Atomics.exchange(i32, this.T + id, 0) - 1;
    if (b < 0) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    const out = this.copyOut(b);
    const old = Atomics.exchange(i32, this.T + id, b + 1) - 1;
    if (old >= 0) this.push(old);
    return out;
  }

  protected override sysLookupAndDelete(keyAddr: number): Uint8Array {
    const id = readU32(this.space.u8, keyAddr);
    const b = id >= this.nBuckets ? -1 : Atomics.exchange(this.space.i32, this.T + id, 0) - 1;
    if (b < 0) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    const out = this.copyOut(b);
    this.push(b);
    return out;
  }

  /** A bucket's frames, zero-padded to value_size. */
  private copyOut(b: number): Uint8Array {
    const at = this.pool.start + b * this.stride;
    const len = Math.min(this.space.i32[(at >> 2) + 1]! * this.frameSize, this.valueSize);
    const out = new Uint8Array(this.valueSize);
    out.set(this.space.u8.subarray(at + BUCKET_HDR, at + BUCKET_HDR + len));
    return out;
  }

  protected override sysUpdate(): void {
    throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: stack traces are stored by bpf_get_stackid only");
  }

  protected override sysDelete(keyAddr: number): void {
    const r = this.remove(readU32(this.space.u8, keyAddr));
    if (r === -ERRNO.E2BIG) throw sysError("E2BIG", this, "BPF_MAP_DELETE_ELEM: id past the buckets");
    if (r < 0) throw sysError("ENOENT", this, "BPF_MAP_DELETE_ELEM");
  }

  override deleteElem(keyAddr: number): number {
    this.space.assert(keyAddr, 4, false);
    return this.remove(readU32(this.space.u8, keyAddr));
  }

  /** stack_map_get_next_key: the next occupied id after `key` (from 0 for null, a bad or empty id). */
  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    const i32 = this.space.i32, T = this.T;
    let id = 0;
    if (keyAddr >= 0) {
      const k = readU32(this.space.u8, keyAddr);
      id = k >= this.nBuckets || Atomics.load(i32, T + k) === 0 ? 0 : k + 1;
    }
    while (id < this.nBuckets && Atomics.load(i32, T + id) === 0) id++;
    return id >= this.nBuckets ? null : u32Bytes(id);
  }

  /** stack_map_delete_elem: the bucket leaves its slot and returns to the free list. */
  private remove(id: number): number {
    if (id >= this.nBuckets) return -ERRNO.E2BIG;
    const b = Atomics.exchange(this.space.i32, this.T + id, 0) - 1;
    if (b < 0) return -ERRNO.ENOENT;
    this.push(b);
    return 0;
  }
}
