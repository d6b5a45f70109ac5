// LPM_TRIE (kernel/bpf/lpm_trie.c): keys are {u32 prefixlen; u8 data[key_size-4]} with the data in network order,
// most significant bit first. Lookup returns the value of the longest stored prefix that matches the key's first
// min(prefixlen, max) bits; update/delete name a prefix exactly. get_next_key walks the prefixes in the kernel's
// post-order: longer (more specific) prefixes before the prefixes containing them, 0-bits before 1-bits; a missing
// key restarts from the first. bpfkit keeps an uncompressed binary trie (one node per bit, pruned on delete); the
// order and answers do not depend on the shape, only on the set of prefixes. Each stored prefix keeps the data bytes
// it was inserted with (bits past the prefix included), which get_next_key returns, as the kernel does.

import type { AddressSpace } from "../vm/memory.ts";
import { BpfMap, sysError } from "./map.ts";
import type { BatchOptions, BatchResult, MapOptions } from "./map.ts";
import { ElementPool } from "./pool.ts";
import { roundUp8 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_EXIST, BPF_NOEXIST, ERRNO, errnoName, readU32 } from "./types.ts";

const NONE = -1;
const ROOT = 0;


// Module-local copy: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
export class LpmTrieMap extends BpfMap {
  readonly maxPrefixlen: number;
  /** Prefixes stored. */
  count = 0;
  private readonly dataSize: number;
  private readonly valueOff: number;
  private readonly pool: ElementPool;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  // Trie nodes: children, parent, depth (= prefix length) and the element slot of a stored prefix.
  private child0: Int32Array<ArrayBuffer> = new Int32Array(64);
  private child1: Int32Array<ArrayBuffer> = new Int32Array(64);
  private parent: Int32Array<ArrayBuffer> = new Int32Array(64);
  private depth = new Uint16Array(64);
  private slot: Int32Array<ArrayBuffer> = new Int32Array(64);
  private nNodes = 1;
  private freeNodes: number[] = [];

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.valueOff = roundUp8(this.dataSize);
    this.pool = new ElementPool(maxEntries, this.valueOff + this.valueStride, (n) => this.allocRegion(n, "elements", this.programWritable));
    this.freeSlots = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.freeSlots[i] = maxEntries - 1 - i;
    this.freeTop = maxEntries;
    this.child0[ROOT] = this.child1[ROOT] = this.parent[ROOT] = this.slot[ROOT] = NONE;
  }

  // ---------------------------------------------------------------- program side

  override lookupElem(keyAddr: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    const best = this.longestMatch(keyAddr);
    return best === NONE ? 0 : this.pool.addr[this.slot[best]!]! + this.valueOff;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    sp.assert(valueAddr, this.valueSize, false);
    return this.upsert(keyAddr, null, valueAddr, flags);
  }

  override deleteElem(keyAddr: number): number {
    this.space.assert(keyAddr, this.keySize, false);
    return this.remove(keyAddr);
  }

  // ---------------------------------------------------------------- user space

  protected override sysLookup(keyAddr: number): Uint8Array {
    const best = this.longestMatch(keyAddr);
    if (best === NONE) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    const out = new Uint8Array(this.valueSize);
    this.valueOut(this.pool.addr[this.slot[best]!]! + this.valueOff, out, 0);
    return out;
  }

  protected override sysUpdate(keyAddr: number, value: Uint8Array, flags: number): void {
    const r = this.upsert(keyAddr, value, 0, flags);
    if (r < 0) throw sysError(errnoName(-r), this, "BPF_MAP_UPDATE_ELEM");
  }

  protected override sysDelete(keyAddr: number): void {
    const r = this.remove(keyAddr);
    if (r < 0) throw sysError(errnoName(-r), this, "BPF_MAP_DELETE_ELEM");
  }

  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    let next = NONE;
    const node = keyAddr < 0 ? NONE : this.exact(keyAddr);
    if (node === NONE || this.slot[node] === NONE) next = this.firstInSubtree(ROOT);
    else next = this.successor(node);
    return next === NONE ? null : this.keyOf(next);
  }

  override lookupBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions = {}): BatchResult {
    return this.genericLookupBatch(inBatch, count, opts);
  }

  override updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericUpdateBatch(keys, values, opts);
  }

  override deleteBatch(keys: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericDeleteBatch(keys, opts);
  }

  // ---------------------------------------------------------------- the trie

  private bit(keyAddr: number, i: number): number {
    return (this.space.u8[keyAddr + 4 + (i >>> 3)]! >>> (7 - (i & 7))) & 1;
  }

  private longestMatch(keyAddr: number): number {
    const u8 = this.space.u8, c0 = this.child0, c1 = this.child1, slot = this.slot;
    const limit = Math.min(readU32(u8, keyAddr), this.maxPrefixlen);
    let node = ROOT, best = slot[ROOT] !== NONE ? ROOT : NONE, byte = 0;
    for (let d = 0; d < limit; d++) {
      if ((d & 7) === 0) byte = u8[keyAddr + 4 + (d >>> 3)]!;
      node = (byte >>> (7 - (d & 7))) & 1 ? c1[node]! : c0[node]!;
      if (node === NONE) break;
      if (slot[node] !== NONE) best = node;
    }
    return best;
  }

  /** The node for exactly the key's prefix, NONE when the path does not exist (prefixlen past the maximum too). */
  private exact(keyAddr: number): number {
    const plen = readU32(this.space.u8, keyAddr);
    if (plen > this.maxPrefixlen) return NONE;
    let node = ROOT;
    for (let d = 0; d < plen && node !== NONE; d++) node = this.bit(keyAddr, d) ? this.child1[node]! : this.child0[node]!;
    return node;
  }

  private upsert(keyAddr: number, src: Uint8Array | null, srcOff: number, flags: number): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const plen = readU32(this.space.u8, keyAddr);
    if (plen > this.maxPrefixlen) return -E.EINVAL;
    const found = this.exact(keyAddr);
    const exists = found !== NONE && this.slot[found] !== NONE;
    if (exists && flags === BPF_NOEXIST) return -E.EEXIST;
    if (!exists && flags === BPF_EXIST) return -E.ENOENT;
    if (!exists && this.count >= this.maxEntries) return -E.ENOSPC;
    let node = ROOT;
    for (let d = 0; d < plen; d++) {
      const b = this.bit(keyAddr, d);
      let c = b ? this.child1[node]! : this.child0[node]!;
      if (c === NONE) {
        c = this.newNode(node, d + 1);
        if (b) this.child1[node] = c; else this.child0[node] = c;
      }
      node = c;
    }
    if (!exists) {
      this.slot[node] = this.freeSlots[--this.freeTop]!;
      this.count++;
    }
    const a = this.pool.address(this.slot[node]!);
    const u8 = this.space.u8;
    u8.copyWithin(a, keyAddr + 4, keyAddr + 4 + this.dataSize);
    this.copyValueIn(a + this.valueOff, src, srcOff);
    return 0;
  }

  private remove(keyAddr: number): number {
    if (readU32(this.space.u8, keyAddr) > this.maxPrefixlen) return -E.EINVAL;
    let node = this.exact(keyAddr);
    if (node === NONE || this.slot[node] === NONE) return -E.ENOENT;
    this.freeSlots[this.freeTop++] = this.slot[node]!;
    this.slot[node] = NONE;
    this.count--;
    // Prune the branch that now leads to no prefix.
    while (node !== ROOT && this.slot[node] === NONE && this.child0[node] === NONE && this.child1[node] === NONE) {
      const p = this.parent[node]!;
      if (this.child0[p] === node) this.child0[p] = NONE; else this.child1[p] = NONE;
      this.freeNodes.push(node);
      node = p;
    }
    return 0;
  }

  /** The first stored prefix of a subtree in post-order: its leftmost leaf (leaves always hold a prefix). */
  private firstInSubtree(n: number): number {
    for (;;) {
      const c0 = this.child0[n]!, c1 = this.child1[n]!;
      if (c0 !== NONE) n = c0;
      else if (c1 !== NONE) n = c1;
      else return this.slot[n] !== NONE ? n : NONE;
    }
  }

  /** The stored prefix after `n` in post-order. */
  private successor(n: number): number {
    while (n !== ROOT) {
      const p = this.parent[n]!;
      if (this.child0[p] === n && this.child1[p] !== NONE) return this.firstInSubtree(this.child1[p]!);
      if (this.slot[p] !== NONE) return p;
      n = p;
    }
    return NONE;
  }

  private keyOf(n: number): Uint8Array {
    const out = new Uint8Array(this.keySize);
    const plen = this.depth[n]!;
    out[0] = plen & 0xff; out[1] = plen >>> 8;
    out.set(this.space.u8.subarray(this.pool.addr[this.slot[n]!]!, this.pool.addr[this.slot[n]!]! + this.dataSize), 4);
    return out;
  }

  private newNode(parent: number, depth: number): number {
    let n = this.freeNodes.pop();
    if (n === undefined) {
      if (this.nNodes === this.child0.length) this.grow();
      n = this.nNodes++;
    }
    this.child0[n] = this.child1[n] = this.slot[n] = NONE;
    this.parent[n] = parent;
    this.depth[n] = depth;
    return n;
  }

  private grow(): void {
    const size = this.child0.length * 2;
    const grow32 = (a: Int32Array): Int32Array<ArrayBuffer> => { const b = new Int32Array(size); b.set(a); return b; };
    this.child0 = grow32(this.child0);
    this.child1 = grow32(this.child1);
    this.parent = grow32(this.parent);
    this.slot = grow32(this.slot);
    const d = new Uint16Array(size); d.set(this.depth); this.depth = d;
  }
}
