// HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS (kernel/bpf/hashtab.c).
// Buckets are a power of two >= max_entries, chained newest-first; keys hash with the kernel's jhash, so with
// BPF_F_ZERO_SEED the bucket order (get_next_key, batches, for_each) is the kernel's. Elements come from a
// preallocated pool of max_entries slots (+1 spare so an update of an existing key succeeds in a full map, like the
// kernel's extra_elems); an update writes a new element at the bucket head and frees the old one, as the kernel does.
//
// LRU maps keep the kernel's LRU lists (lru.ts): a program lookup sets the element's reference bit, user-space lookups
// do not (htab_lru_map_lookup_elem_sys); a new element is taken from the lists before the key is looked up, evicting
// unreferenced inactive elements in batches when nothing is free, on the CPU the update runs on.

import type { AddressSpace } from "../vm/memory.ts";
import { htabHash } from "./jhash.ts";
import { BpfMap, copyBytes, sysError } from "./map.ts";
import type { BatchOptions, BatchResult, MapOptions } from "./map.ts";
import type { MapImage } from "./map.ts";
import { spinLock, spinUnlock } from "./lock.ts";
import { LruLists, lruRegionSize } from "./lru.ts";
import { mapFromAddress, mapFromId } from "./registry.ts";
import { innerMapMatches, roundUp8, roundUpPow2 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import {
  BPF_EXIST, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_ZERO_SEED, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_NOEXIST, ERRNO, errnoName, u32Bytes,
} from "./types.ts";

// Shared state (worker CPUs): every word of the table lives in the address space — a control block (count, free-list
// top, locks, seed), bucket heads, chain links, hashes, the free-element stack and the LRU lists — so threads sharing
// the memory see one map. Updates and deletes take the bucket's lock (htab_lock_bucket; striped over
// LOCK_STRIPES words) and the free list's lock; LRU maps serialise every change under one map lock, which also
// guards the LRU lists (the kernel's lru locks). Lookups take no lock, as the kernel's RCU lookups take none, and
// bound their chain walk. Links and heads hold index + 1, so zeroed memory is an empty table: pages of a large map
// stay untouched until used, and an untouched free stack means "the next never-used element".

const NONE = -1;
// Module-local copies: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
const F_LOCK = BPF_F_LOCK, EXIST = BPF_EXIST, NOEXIST = BPF_NOEXIST;
/** Control words: element count, free-stack top, never-used elements handed out, free-list lock, map lock, seed. */
const C_COUNT = 0, C_FREETOP = 1, C_FRESH = 2, C_FLOCK = 3, C_MLOCK = 4, C_SEED = 5, C_LOCKS = 8;
const LOCK_STRIPES = 1024;

/** A hash map's table as a program's lookup walks it (HashMap.lookupLayout): byte addresses; links and heads hold index + 1. */
export interface HashLookupLayout {
  readonly heads: number; readonly next: number; readonly hash: number; readonly elems: number; readonly elemSize: number;
  readonly valueOff: number; readonly keySize: number; readonly seed: number; readonly mask: number;
  readonly capacity: number; readonly percpu: boolean; readonly nCpus: number; readonly valueStride: number;
}

export class HashMap extends BpfMap {
  readonly lru: boolean;
  readonly percpu: boolean;
  readonly mapInMap: boolean;
  readonly nBuckets: number;
  private readonly mask: number;
  private readonly seed: number;
  private readonly capacity: number;
  private readonly nLocks: number;
  // Word indices into space.i32 (C: control block, HEADS: buckets, NEXT: links, HASH: hashes, FREE: free stack),
  // byte addresses of the in-hash flags and of the elements.
  private readonly C: number;
  private readonly HEADS: number;
  private readonly NEXT: number;
  private readonly HASH: number;
  private readonly FREE: number;
  private readonly INHASH: number;
  private readonly ELEMS: number;
  private readonly elemSize: number;
  private readonly valueOff: number;
  private readonly lruLists: LruLists | undefined;
  private readonly valueScratch = new Uint8Array(8);

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    const t = spec.type;
    this.lru = t === BPF_MAP_TYPE_LRU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.percpu = t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.mapInMap = t === BPF_MAP_TYPE_HASH_OF_MAPS;
    this.nBuckets = roundUpPow2(maxEntries);
    this.mask = this.nBuckets - 1;
    const capacity = this.lru ? maxEntries : maxEntries + 1;
    this.capacity = capacity;
    this.nLocks = Math.min(this.nBuckets, LOCK_STRIPES);
    this.valueOff = roundUp8(this.keySize);
    this.elemSize = this.valueOff + (this.percpu ? this.valueStride * this.nCpus : this.valueStride);
    const words = (name: string, n: number): number => this.allocRegion(4 * n, name, false).start >> 2;
    this.C = words("control", C_LOCKS + this.nLocks);
    this.HEADS = words("buckets", this.nBuckets);
    this.NEXT = words("links", capacity);
    this.HASH = words("hashes", capacity);
    this.FREE = this.lru ? 0 : words("free list", capacity);
    this.INHASH = this.allocRegion(capacity, "in-hash flags", false).start;
    this.ELEMS = this.allocRegion(capacity * this.elemSize, "elements", this.programWritable).start;
    const i32 = space.i32;
    if (!this.attached) {
      const seed = (this.flags & BPF_F_ZERO_SEED) ? 0 : (opts.seed ?? (Math.random() * 0x100000000) >>> 0);
      i32[this.C + C_SEED] = seed;
    }
    this.seed = i32[this.C + C_SEED]! >>> 0;
    if (this.lru) {
      const percpuLru = (this.flags & BPF_F_NO_COMMON_LRU) !== 0;
      const r = this.allocRegion(lruRegionSize(capacity, this.nCpus, percpuLru), "lru lists", false);
      this.lruLists = new LruLists(space, r, capacity, this.nCpus, percpuLru, (node) => this.evict(node), this.attached);
    }
  }

  /**
   * Where a program's lookup reads, for the JIT's lookup in wasm (src/jit/inline.ts): byte addresses of the bucket
   * heads, links and hashes (i32 words, index + 1) and of the elements; undefined for LRU and map-in-map maps, whose
   * lookups do more than find the element.
   */
  lookupLayout(): HashLookupLayout | undefined {
    if (this.lru || this.mapInMap) return undefined;
    return {
      heads: this.HEADS * 4, next: this.NEXT * 4, hash: this.HASH * 4, elems: this.ELEMS, elemSize: this.elemSize,
      valueOff: this.valueOff, keySize: this.keySize, seed: this.seed, mask: this.mask, capacity: this.capacity,
      percpu: this.percpu, nCpus: this.nCpus, valueStride: this.valueStride,
    };
  }

  /** Elements in the map. */
  get count(): number {
    return this.space.i32[this.C + C_COUNT]!;
  }

  override image(): MapImage {
    return { ...super.image(), seed: this.seed };
  }

  /** The address of element i (key first, the value at valueOff). */
  private elem(i: number): number {
    return this.ELEMS + i * this.elemSize;
  }

  // ---------------------------------------------------------------- program side

  override lookupElem(keyAddr: number, cpu: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    const i = this.find(keyAddr, htabHash(sp.u8, keyAddr, this.keySize, this.seed));
    if (i === NONE) return 0;
    if (this.lru) this.lruLists!.setRef(i);
    const v = this.ELEMS + i * this.elemSize + this.valueOff;
    if (this.mapInMap) return sp.dv.getUint32(v, true);
    if (this.percpu) return cpu >= 0 && cpu < this.nCpus ? v + cpu * this.valueStride : 0;
    return v;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    sp.assert(valueAddr, this.valueSize, false);
    if (this.mapInMap) return -E.ENOTSUPP; // the verifier refuses updates of map-in-map from programs
    return this.upsert(keyAddr, null, valueAddr, flags, cpu, false);
  }

  override deleteElem(keyAddr: number, _cpu: number): number {
    this.space.assert(keyAddr, this.keySize, false);
    return this.remove(keyAddr);
  }

  override forEachElem(cb: (keyAddr: number, valueAddr: number) => number, cpu = 0): number {
    let n = 0;
    for (let b = 0; b < this.nBuckets; b++) {
      for (let i = this.head(b), steps = 0; i !== NONE && steps <= this.capacity; steps++) {
        const nextI = this.next(i); // the callback may delete this element
        const a = this.elem(i);
        n++;
        if (cb(a, a + this.valueOff + (this.percpu ? cpu * this.valueStride : 0)) !== 0) return n;
        i = nextI;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- user space

  protected override sysLookup(keyAddr: number): Uint8Array {
    const i = this.find(keyAddr, this.hashAt(keyAddr));
    if (i === NONE) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    return this.userValue(i);
  }

  protected override sysUpdate(keyAddr: number, value: Uint8Array, flags: number): void {
    let src = value;
    if (this.mapInMap) {
      const inner = this.resolveInner(value, flags);
      src = this.valueScratch;
      new DataView(src.buffer).setUint32(0, inner, true);
    }
    const r = this.upsert(keyAddr, src, 0, flags, this.userCpu, true);
    if (r < 0) throw sysError(errnoName(-r), this, "BPF_MAP_UPDATE_ELEM");
  }

  protected override sysDelete(keyAddr: number): void {
    const r = this.remove(keyAddr);
    if (r < 0) throw sysError(errnoName(-r), this, "BPF_MAP_DELETE_ELEM");
  }

  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    let b = 0;
    if (keyAddr >= 0) {
      const h = this.hashAt(keyAddr);
      const i = this.find(keyAddr, h);
      if (i !== NONE) {
        const n = this.next(i);
        if (n !== NONE) return this.keyOf(n);
        b = (h & this.mask) + 1;
      }
    }
    for (; b < this.nBuckets; b++) {
      const h = this.head(b);
      if (h !== NONE) return this.keyOf(h);
    }
    return null;
  }

  protected override sysLookupAndDelete(keyAddr: number, flags: number): Uint8Array {
    if (this.mapInMap) throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    this.checkElemFlags(flags, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    const h = this.hashAt(keyAddr);
    const w = this.lockWrite(h);
    if (w < 0) throw sysError("EBUSY", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    let v: Uint8Array;
    try {
      const i = this.find(keyAddr, h);
      if (i === NONE) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
      v = this.userValue(i);
      this.unlinkBucket(i);
      this.release(i);
      Atomics.sub(this.space.i32, this.C + C_COUNT, 1);
    } finally {
      this.unlock(w);
    }
    return v;
  }

  override lookupBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions = {}): BatchResult {
    this.needRead("BPF_MAP_LOOKUP_BATCH");
    return this.bucketBatch(inBatch, count, opts, false, "BPF_MAP_LOOKUP_BATCH");
  }

  override lookupAndDeleteBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions = {}): BatchResult {
    this.needRead("BPF_MAP_LOOKUP_AND_DELETE_BATCH");
    this.needWrite("BPF_MAP_LOOKUP_AND_DELETE_BATCH");
    return this.bucketBatch(inBatch, count, opts, true, "BPF_MAP_LOOKUP_AND_DELETE_BATCH");
  }

  override updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericUpdateBatch(keys, values, opts);
  }

  override deleteBatch(keys: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericDeleteBatch(keys, opts);
  }

  /**
   * Walks the shared structures and throws on the first inconsistency: a chain that does not end, an element in the
   * wrong bucket or in two places, a count that differs from the elements linked, free and live elements overlapping,
   * LRU lists that do not link back. For tests after concurrent updates, with no CPU running.
   */
  checkConsistency(): { elements: number; free: number } {
    const seen = new Uint8Array(this.capacity);
    let linked = 0;
    for (let b = 0; b < this.nBuckets; b++) {
      let steps = 0;
      for (let i = this.head(b); i !== NONE; i = this.next(i)) {
        if (i < 0 || i >= this.capacity) throw new Error(`bucket ${b}: link to element ${i} outside the pool`);
        if (++steps > this.capacity) throw new Error(`bucket ${b}: chain does not end`);
        if (seen[i]) throw new Error(`element ${i} linked twice`);
        seen[i] = 1;
        if ((this.hashOf(i) & this.mask) !== b) throw new Error(`element ${i} in bucket ${b}, its hash says ${this.hashOf(i) & this.mask}`);
        if (this.hashAt(this.elem(i)) !== this.hashOf(i)) throw new Error(`element ${i}: stored hash is not its key's`);
        if (!this.space.u8[this.INHASH + i]) throw new Error(`element ${i} linked but not flagged in the hash`);
        linked++;
      }
    }
    if (linked !== this.count) throw new Error(`count ${this.count}, ${linked} elements linked`);
    let free = 0;
    if (this.lruLists === undefined) {
      const i32 = this.space.i32, top = i32[this.C + C_FREETOP]!, fresh = i32[this.C + C_FRESH]!;
      for (let k = 0; k < top; k++) {
        const i = i32[this.FREE + k]!;
        if (i < 0 || i >= fresh) throw new Error(`free stack slot ${k}: element ${i} never handed out`);
        if (seen[i]) throw new Error(`element ${i} both free and linked`);
        seen[i] = 2;
      }
      free = top + (this.capacity - fresh);
      if (linked + free !== this.capacity) throw new Error(`${linked} linked + ${free} free != capacity ${this.capacity}`);
    } else {
      const onList = new Uint8Array(this.capacity);
      this.lruLists.walk((n, type) => {
        if (onList[n]) throw new Error(`LRU node ${n} on two lists`);
        onList[n] = 1;
        // free (2) and local free (3) nodes hold no element; pending (4) ones are new elements not yet rotated in
        if (type === 2 || type === 3) { if (seen[n]) throw new Error(`LRU node ${n} free but linked in the hash`); free++; }
      });
      for (let i = 0; i < this.capacity; i++) if (seen[i] && !onList[i]) throw new Error(`element ${i} in the hash but on no LRU list`);
      free += this.lruLists.virtualFree();
    }
    return { elements: linked, free };
  }

  // ---------------------------------------------------------------- the table

  private head(b: number): number {
    return this.space.i32[this.HEADS + b]! - 1;
  }

  private next(i: number): number {
    return this.space.i32[this.NEXT + i]! - 1;
  }

  private hashOf(i: number): number {
    return this.space.i32[this.HASH + i]! >>> 0;
  }

  private hashAt(keyAddr: number): number {
    return htabHash(this.space.u8, keyAddr, this.keySize, this.seed);
  }

  /** The element holding the key, NONE if none; lock-free, so the walk is bounded if links change under it. */
  private find(keyAddr: number, h: number): number {
    const u8 = this.space.u8, i32 = this.space.i32, ks = this.keySize, NEXT = this.NEXT, HASH = this.HASH;
    const ELEMS = this.ELEMS, es = this.elemSize, hv = h | 0;
    let steps = this.capacity;
    outer: for (let i = i32[this.HEADS + (h & this.mask)]! - 1; i !== NONE && steps-- >= 0; i = i32[NEXT + i]! - 1) {
      if (i32[HASH + i] !== hv) continue;
      const a = ELEMS + i * es;
      for (let k = 0; k < ks; k++) if (u8[a + k] !== u8[keyAddr + k]) continue outer;
      return i;
    }
    return NONE;
  }

  private keyOf(i: number): Uint8Array {
    return this.bytesAt(this.elem(i), this.keySize);
  }

  private userValue(i: number): Uint8Array {
    const v = this.elem(i) + this.valueOff;
    if (this.mapInMap) {
      const inner = mapFromAddress<BpfMap>(this.space, this.space.dv.getUint32(v, true));
      return u32Bytes(inner?.id ?? 0);
    }
    if (this.percpu) return this.bytesAt(v, this.userValueSize);
    const out = new Uint8Array(this.valueSize);
    this.valueOut(v, out, 0);
    return out;
  }

  // ---------------------------------------------------------------- locks

  /** Takes the lock guarding bucket h's chain (LRU maps: the map lock); the word to unlock, or -1 (EBUSY). */
  private lockWrite(h: number): number {
    const w = this.C + (this.lru ? C_MLOCK : C_LOCKS + (h & this.mask) % this.nLocks);
    return this.lock(w) ? w : -1;
  }

  private lock(w: number): boolean {
    return spinLock(this.space, w);
  }

  private unlock(w: number): void {
    spinUnlock(this.space, w);
  }

  /** htab_map_update_elem and its percpu / LRU variants; src holds the value at srcOff (all CPUs' when allCpus). */
  private upsert(keyAddr: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number, allCpus: boolean): number {
    if (this.lru) {
      // htab_lru_map_update_elem: no BPF_F_LOCK, and the new element is taken (maybe by eviction) before the lookup.
      if (flags > EXIST) return -E.EINVAL;
    } else if ((flags & ~F_LOCK) > EXIST) return -E.EINVAL;
    const h = this.hashAt(keyAddr);
    const w = this.lockWrite(h);
    if (w < 0) return -E.EBUSY;
    try {
      if (this.lru && this.percpu) return this.upsertLruPercpu(keyAddr, h, src, srcOff, flags, cpu, allCpus);
      if (this.lru) return this.upsertLru(keyAddr, h, src, srcOff, flags, cpu, allCpus);
      return this.upsertHash(keyAddr, h, src, srcOff, flags, cpu, allCpus);
    } finally {
      this.unlock(w);
    }
  }

  private upsertLru(keyAddr: number, h: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number,
    allCpus: boolean): number {
    const n = this.takeFree(cpu);
    if (n === NONE) return -E.ENOMEM;
    const old = this.find(keyAddr, h);
    const r = checkFlags(old, flags);
    if (r !== 0) { this.release(n); return r; }
    this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
    this.link(n, h);
    // Replacing a key counts as a use: the kernel sets the new element's reference bit.
    if (old !== NONE) { this.lruLists!.setRef(n); this.unlinkBucket(old); this.release(old); }
    else Atomics.add(this.space.i32, this.C + C_COUNT, 1);
    return 0;
  }

  private upsertHash(keyAddr: number, h: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number,
    allCpus: boolean): number {
    const old = this.find(keyAddr, h);
    if (flags & F_LOCK) {
      if (this.lockOffset < 0) return -E.EINVAL;
      const r = checkFlags(old, flags);
      if (r !== 0) return r;
      if (old !== NONE) { this.copyValueIn(this.elem(old) + this.valueOff, src, srcOff); return 0; }
    }
    const r = checkFlags(old, flags);
    if (r !== 0) return r;
    if (this.percpu && old !== NONE) {
      this.writePercpu(this.elem(old) + this.valueOff, src, srcOff, cpu, allCpus, false);
      return 0;
    }
    const i32 = this.space.i32;
    if (old === NONE && Atomics.load(i32, this.C + C_COUNT) >= this.maxEntries) return -E.E2BIG;
    const n = this.takeFree(cpu);
    if (n === NONE) return -E.E2BIG;
    this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
    this.link(n, h);
    if (old !== NONE) { this.unlinkBucket(old); this.release(old); } else Atomics.add(i32, this.C + C_COUNT, 1);
    return 0;
  }

  /** __htab_lru_percpu_map_update_elem: existing elements are updated in place, a spare taken unless EXIST. */
  private upsertLruPercpu(keyAddr: number, h: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number,
    allCpus: boolean): number {
    let n = NONE;
    if (flags !== EXIST) {
      n = this.takeFree(cpu);
      if (n === NONE) return -E.ENOMEM;
    }
    const old = this.find(keyAddr, h);
    const r = checkFlags(old, flags);
    if (r !== 0) { if (n !== NONE) this.release(n); return r; }
    if (old !== NONE) {
      this.lruLists!.setRef(old);
      this.writePercpu(this.elem(old) + this.valueOff, src, srcOff, cpu, allCpus, false);
      if (n !== NONE) this.release(n);
      return 0;
    }
    this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
    this.link(n, h);
    Atomics.add(this.space.i32, this.C + C_COUNT, 1);
    return 0;
  }

  private fill(n: number, keyAddr: number, h: number, src: Uint8Array | null, srcOff: number, cpu: number, allCpus: boolean): void {
    const a = this.elem(n), u8 = this.space.u8;
    copyBytes(u8, a, keyAddr, this.keySize);
    this.space.i32[this.HASH + n] = h;
    const v = a + this.valueOff;
    if (this.percpu) this.writePercpu(v, src, srcOff, cpu, allCpus, true);
    else {
      if (this.lockOffset >= 0) u8.fill(0, v + this.lockOffset, v + this.lockOffset + 4);
      this.copyValueIn(v, src, srcOff);
    }
  }

  /** pcpu_copy_value / pcpu_init_value: user space writes every CPU; a program its own (a new element zeroes the rest). */
  private writePercpu(v: number, src: Uint8Array | null, srcOff: number, cpu: number, allCpus: boolean, fresh: boolean): void {
    const u8 = this.space.u8, stride = this.valueStride;
    if (allCpus) {
      // copy_map_value_long: user space writes each CPU's whole 8-byte-rounded slot.
      for (let c = 0; c < this.nCpus; c++) this.copyValueIn(v + c * stride, src, srcOff + c * stride, stride);
      return;
    }
    if (fresh) u8.fill(0, v, v + stride * this.nCpus);
    if (cpu >= 0 && cpu < this.nCpus) this.copyValueIn(v + cpu * stride, src, srcOff);
  }

  private remove(keyAddr: number): number {
    const h = this.hashAt(keyAddr);
    const w = this.lockWrite(h);
    if (w < 0) return -E.EBUSY;
    try {
      const i = this.find(keyAddr, h);
      if (i === NONE) return -E.ENOENT;
      this.unlinkBucket(i);
      this.release(i);
      Atomics.sub(this.space.i32, this.C + C_COUNT, 1);
      return 0;
    } finally {
      this.unlock(w);
    }
  }

  /** Adds element n at the head of its bucket (hlist_nulls_add_head_rcu): its link first, then the head. */
  private link(n: number, h: number): void {
    const i32 = this.space.i32, b = this.HEADS + (h & this.mask);
    i32[this.NEXT + n] = i32[b]!;
    this.space.u8[this.INHASH + n] = 1;
    Atomics.store(i32, b, n + 1);
  }

  private unlinkBucket(i: number): void {
    const i32 = this.space.i32;
    this.space.u8[this.INHASH + i] = 0;
    const b = this.HEADS + (this.hashOf(i) & this.mask);
    let p = i32[b]! - 1;
    if (p === i) { Atomics.store(i32, b, i32[this.NEXT + i]!); return; }
    while (p !== NONE && this.next(p) !== i) p = this.next(p);
    if (p !== NONE) Atomics.store(i32, this.NEXT + p, i32[this.NEXT + i]!);
  }

  /** A free element: from the free stack, or for LRU maps from the LRU lists of `cpu` (which may evict). */
  private takeFree(cpu: number): number {
    if (this.lruLists !== undefined) return this.lruLists.pop(cpu);
    const i32 = this.space.i32, C = this.C;
    if (!this.lock(C + C_FLOCK)) return NONE;
    let n = NONE;
    const top = i32[C + C_FREETOP]!;
    if (top > 0) { n = i32[this.FREE + top - 1]!; i32[C + C_FREETOP] = top - 1; }
    else if (i32[C + C_FRESH]! < this.capacity) { n = i32[C + C_FRESH]!; i32[C + C_FRESH] = n + 1; }
    this.unlock(C + C_FLOCK);
    return n;
  }

  /** Returns an element (no longer in any bucket) to the free elements. */
  private release(i: number): void {
    if (this.lruLists !== undefined) { this.lruLists.pushFree(i); return; }
    const i32 = this.space.i32, C = this.C;
    // The bucket lock is held, and the free-list lock nests inside it; in unshared memory it cannot be held here.
    this.lock(C + C_FLOCK);
    const top = i32[C + C_FREETOP]!;
    i32[this.FREE + top] = i;
    i32[C + C_FREETOP] = top + 1;
    this.unlock(C + C_FLOCK);
  }

  /** htab_lru_map_delete_node: the LRU lists evict an element (the map lock is held). */
  private evict(i: number): boolean {
    if (!this.space.u8[this.INHASH + i]) return false;
    this.unlinkBucket(i);
    Atomics.sub(this.space.i32, this.C + C_COUNT, 1);
    return true;
  }

  /** __htab_map_lookup_and_delete_batch: whole buckets at a time; the token is the next bucket index. */
  private bucketBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions, del: boolean, cmd: string): BatchResult {
    this.checkBatchFlags(opts, cmd);
    this.checkBatchCount(count, cmd);
    const keys: Uint8Array[] = [], values: Uint8Array[] = [];
    if (count === 0) return { keys, values, count: 0, outBatch: null, done: false };
    let batch = 0;
    if (inBatch !== null) {
      if (inBatch.length < 4) throw sysError("EINVAL", this, `${cmd}: in_batch is a u32 bucket index`);
      batch = new DataView(inBatch.buffer, inBatch.byteOffset, 4).getUint32(0, true);
    }
    if (batch >= this.nBuckets) return { keys, values, count: 0, outBatch: null, done: true };
    let done = false;
    for (;;) {
      const w = this.lockWrite(batch);
      if (w < 0) throw sysError("EBUSY", this, cmd);
      try {
        let n = 0;
        for (let i = this.head(batch); i !== NONE; i = this.next(i)) n++;
        if (n > count - keys.length) {
          if (keys.length === 0) throw sysError("ENOSPC", this, `${cmd}: bucket ${batch} holds ${n} elements, count is ${count}`);
          break;
        }
        for (let i = this.head(batch); i !== NONE;) {
          const nextI = this.next(i);
          keys.push(this.keyOf(i));
          values.push(this.userValue(i));
          if (del) { this.unlinkBucket(i); this.release(i); Atomics.sub(this.space.i32, this.C + C_COUNT, 1); }
          i = nextI;
        }
      } finally {
        this.unlock(w);
      }
      batch++;
      if (batch >= this.nBuckets) { done = true; break; }
    }
    return { keys, values, count: keys.length, outBatch: u32Bytes(batch), done };
  }

  /** A user-space map-in-map update: the fd (or map id) must name a map matching the inner-map template. */
  private resolveInner(value: Uint8Array, _flags: number): number {
    const fd = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
    const found = this.opts.resolveFd ? this.opts.resolveFd(fd, this) : mapFromId(this.space, fd);
    if (!(found instanceof BpfMap)) throw sysError("EBADF", this, `BPF_MAP_UPDATE_ELEM: ${fd} is not a map`);
    if (!innerMapMatches(this.spec.innerMap!, found.spec)) {
      throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: inner map does not match the template");
    }
    return found.address;
  }
}

/** check_flags in hashtab.c. */
function checkFlags(old: number, flags: number): number {
  const f = flags & ~F_LOCK;
  if (old !== NONE && f === NOEXIST) return -E.EEXIST;
  if (old === NONE && f === EXIST) return -E.ENOENT;
  return 0;
}
