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
import { LruLists } from "./lru.ts";
import { ElementPool } from "./pool.ts";
import { mapFromAddress, mapFromId } from "./registry.ts";
import { innerMapMatches, roundUp8, roundUpPow2 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import {
  BPF_EXIST, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_ZERO_SEED, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_NOEXIST, ERRNO, errnoName, u32Bytes,
} from "./types.ts";

const NONE = -1;
// Module-local copies: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
const F_LOCK = BPF_F_LOCK, EXIST = BPF_EXIST, NOEXIST = BPF_NOEXIST;

export class HashMap extends BpfMap {
  readonly lru: boolean;
  readonly percpu: boolean;
  readonly mapInMap: boolean;
  /** Elements in the map. */
  count = 0;
  readonly nBuckets: number;
  private readonly mask: number;
  private readonly seed: number;
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly hashes: Uint32Array;
  private readonly pool: ElementPool;
  private readonly valueOff: number;
  // Free slots of non-LRU maps (a stack); LRU maps take and return elements through the kernel's LRU lists.
  private freeTop: number;
  private readonly freeStack: Int32Array;
  private readonly lruLists: LruLists | undefined;
  /** Element is linked into a bucket (what htab_lru_map_delete_node checks before evicting it). */
  private readonly inHash: Uint8Array;
  private readonly valueScratch = new Uint8Array(8);

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    const t = spec.type;
    this.lru = t === BPF_MAP_TYPE_LRU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.percpu = t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.mapInMap = t === BPF_MAP_TYPE_HASH_OF_MAPS;
    this.nBuckets = roundUpPow2(maxEntries);
    this.mask = this.nBuckets - 1;
    this.seed = (this.flags & BPF_F_ZERO_SEED) ? 0 : (opts.seed ?? (Math.random() * 0x100000000) >>> 0);
    const capacity = this.lru ? maxEntries : maxEntries + 1;
    this.heads = new Int32Array(this.nBuckets).fill(NONE);
    this.next = new Int32Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.valueOff = roundUp8(this.keySize);
    const valueBytes = this.percpu ? this.valueStride * this.nCpus : this.valueStride;
    this.pool = new ElementPool(capacity, this.valueOff + valueBytes, (n) => this.allocRegion(n, "elements", this.programWritable));
    this.inHash = new Uint8Array(capacity);
    this.freeStack = new Int32Array(this.lru ? 0 : capacity);
    for (let i = 0; i < this.freeStack.length; i++) this.freeStack[i] = capacity - 1 - i;
    this.freeTop = this.freeStack.length;
    this.lruLists = this.lru
      ? new LruLists(capacity, this.nCpus, (this.flags & BPF_F_NO_COMMON_LRU) !== 0, (node) => this.evict(node))
      : undefined;
  }

  // ---------------------------------------------------------------- program side

  override lookupElem(keyAddr: number, cpu: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    const i = this.find(keyAddr, htabHash(sp.u8, keyAddr, this.keySize, this.seed));
    if (i === NONE) return 0;
    if (this.lru) this.touch(i);
    const v = this.pool.addr[i]! + this.valueOff;
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
      for (let i = this.heads[b]!; i !== NONE;) {
        const nextI = this.next[i]!; // the callback may delete this element
        const a = this.pool.addr[i]!;
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
        const n = this.next[i]!;
        if (n !== NONE) return this.keyOf(n);
        b = (h & this.mask) + 1;
      }
    }
    for (; b < this.nBuckets; b++) if (this.heads[b] !== NONE) return this.keyOf(this.heads[b]!);
    return null;
  }

  protected override sysLookupAndDelete(keyAddr: number, flags: number): Uint8Array {
    if (this.mapInMap) throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    this.checkElemFlags(flags, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    const i = this.find(keyAddr, this.hashAt(keyAddr));
    if (i === NONE) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    const v = this.userValue(i);
    this.unlinkBucket(i);
    this.release(i);
    this.count--;
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

  // ---------------------------------------------------------------- the table

  private hashAt(keyAddr: number): number {
    return htabHash(this.space.u8, keyAddr, this.keySize, this.seed);
  }

  private find(keyAddr: number, h: number): number {
    const u8 = this.space.u8, ks = this.keySize, addr = this.pool.addr, hashes = this.hashes, next = this.next;
    outer: for (let i = this.heads[h & this.mask]!; i !== NONE; i = next[i]!) {
      if (hashes[i] !== h) continue;
      const a = addr[i]!;
      for (let k = 0; k < ks; k++) if (u8[a + k] !== u8[keyAddr + k]) continue outer;
      return i;
    }
    return NONE;
  }

  private keyOf(i: number): Uint8Array {
    return this.bytesAt(this.pool.addr[i]!, this.keySize);
  }

  private userValue(i: number): Uint8Array {
    const v = this.pool.addr[i]! + this.valueOff;
    if (this.mapInMap) {
      const inner = mapFromAddress<BpfMap>(this.space, this.space.dv.getUint32(v, true));
      return u32Bytes(inner?.id ?? 0);
    }
    if (this.percpu) return this.bytesAt(v, this.userValueSize);
    const out = new Uint8Array(this.valueSize);
    this.valueOut(v, out, 0);
    return out;
  }

  /** htab_map_update_elem and its percpu / LRU variants; src holds the value at srcOff (all CPUs' when allCpus). */
  private upsert(keyAddr: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number, allCpus: boolean): number {
    if (this.lru) {
      // htab_lru_map_update_elem: no BPF_F_LOCK, and the new element is taken (maybe by eviction) before the lookup.
      if (flags > EXIST) return -E.EINVAL;
    } else if ((flags & ~F_LOCK) > EXIST) return -E.EINVAL;
    const h = this.hashAt(keyAddr);
    if (this.lru && this.percpu) return this.upsertLruPercpu(keyAddr, h, src, srcOff, flags, cpu, allCpus);
    if (this.lru) {
      const n = this.takeFree(cpu);
      if (n === NONE) return -E.ENOMEM;
      const old = this.find(keyAddr, h);
      const r = checkFlags(old, flags);
      if (r !== 0) { this.release(n); return r; }
      this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
      this.link(n, h);
      // Replacing a key counts as a use: the kernel sets the new element's reference bit.
      if (old !== NONE) { this.touch(n); this.unlinkBucket(old); this.release(old); } else this.count++;
      return 0;
    }
    const old = this.find(keyAddr, h);
    if (flags & F_LOCK) {
      if (this.lockOffset < 0) return -E.EINVAL;
      const r = checkFlags(old, flags);
      if (r !== 0) return r;
      if (old !== NONE) { this.copyValueIn(this.pool.addr[old]! + this.valueOff, src, srcOff); return 0; }
    }
    const r = checkFlags(old, flags);
    if (r !== 0) return r;
    if (this.percpu && old !== NONE) {
      this.writePercpu(this.pool.addr[old]! + this.valueOff, src, srcOff, cpu, allCpus, false);
      return 0;
    }
    if (old === NONE && this.count >= this.maxEntries) return -E.E2BIG;
    const n = this.takeFree(cpu);
    if (n === NONE) return -E.E2BIG;
    this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
    this.link(n, h);
    if (old !== NONE) { this.unlinkBucket(old); this.release(old); } else this.count++;
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
      this.touch(old);
      this.writePercpu(this.pool.addr[old]! + this.valueOff, src, srcOff, cpu, allCpus, false);
      if (n !== NONE) this.release(n);
      return 0;
    }
    this.fill(n, keyAddr, h, src, srcOff, cpu, allCpus);
    this.link(n, h);
    this.count++;
    return 0;
  }

  private fill(n: number, keyAddr: number, h: number, src: Uint8Array | null, srcOff: number, cpu: number, allCpus: boolean): void {
    const a = this.pool.address(n), u8 = this.space.u8;
    copyBytes(u8, a, keyAddr, this.keySize);
    this.hashes[n] = h;
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
    const i = this.find(keyAddr, this.hashAt(keyAddr));
    if (i === NONE) return -E.ENOENT;
    this.unlinkBucket(i);
    this.release(i);
    this.count--;
    return 0;
  }

  /** Adds element n at the head of its bucket (hlist_nulls_add_head_rcu). */
  private link(n: number, h: number): void {
    const b = h & this.mask;
    this.next[n] = this.heads[b]!;
    this.heads[b] = n;
    this.inHash[n] = 1;
  }

  private unlinkBucket(i: number): void {
    this.inHash[i] = 0;
    const b = this.hashes[i]! & this.mask;
    let p = this.heads[b]!;
    if (p === i) { this.heads[b] = this.next[i]!; return; }
    while (p !== NONE && this.next[p] !== i) p = this.next[p]!;
    if (p !== NONE) this.next[p] = this.next[i]!;
  }

  /** A free element: from the free stack, or for LRU maps from the LRU lists of `cpu` (which may evict). */
  private takeFree(cpu: number): number {
    if (this.lruLists !== undefined) return this.lruLists.pop(cpu);
    return this.freeTop > 0 ? this.freeStack[--this.freeTop]! : NONE;
  }

  /** Returns an element (no longer in any bucket) to the free elements. */
  private release(i: number): void {
    if (this.lruLists !== undefined) this.lruLists.pushFree(i);
    else this.freeStack[this.freeTop++] = i;
  }

  /** An element was used by a program: bpf_lru_node_set_ref. */
  private touch(i: number): void {
    this.lruLists!.setRef(i);
  }

  /** htab_lru_map_delete_node: the LRU lists evict an element. */
  private evict(i: number): boolean {
    if (!this.inHash[i]) return false;
    this.unlinkBucket(i);
    this.count--;
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
      let n = 0;
      for (let i = this.heads[batch]!; i !== NONE; i = this.next[i]!) n++;
      if (n > count - keys.length) {
        if (keys.length === 0) throw sysError("ENOSPC", this, `${cmd}: bucket ${batch} holds ${n} elements, count is ${count}`);
        break;
      }
      for (let i = this.heads[batch]!; i !== NONE;) {
        const nextI = this.next[i]!;
        keys.push(this.keyOf(i));
        values.push(this.userValue(i));
        if (del) { this.unlinkBucket(i); this.release(i); this.count--; }
        i = nextI;
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
