// LPM_TRIE (kernel/bpf/lpm_trie.c): keys are {u32 prefixlen; u8 data[key_size-4]} with the data in network order,
// most significant bit first. Lookup returns the value of the longest stored prefix that matches the key's first
// min(prefixlen, max) bits; update/delete name a prefix exactly. get_next_key walks the prefixes in the kernel's
// post-order: longer (more specific) prefixes before the prefixes containing them, 0-bits before 1-bits; a missing
// key restarts from the first. Each stored prefix keeps the data bytes it was inserted with (bits past the prefix
// included), which get_next_key returns, as the kernel does.
//
// The trie is the kernel's shape: a path-compressed binary trie whose intermediate nodes (no value) always have two
// children, so n prefixes take at most 2n - 1 nodes. Every node, the root, the count and the free list live in the
// address space, so worker CPUs sharing the memory share the trie: updates and deletes take the map's lock (the
// kernel's trie->lock), lookups take none (its RCU readers) and bound their walk. Node memory is reserved for
// 2 * max_entries + 1 nodes and touched only as nodes are first used.

import type { AddressSpace } from "../vm/memory.ts";
import { BpfMap, sysError } from "./map.ts";
import type { BatchOptions, BatchResult, MapOptions } from "./map.ts";
import { roundUp8 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_EXIST, BPF_NOEXIST, ERRNO, errnoName, readU32 } from "./types.ts";

const NONE = -1;
// Module-local copy: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
/** Control words: prefixes stored, free-stack top, never-used nodes handed out, lock, root (index + 1). */
const C_COUNT = 0, C_FREETOP = 1, C_FRESH = 2, C_LOCK = 3, C_ROOT = 4, C_WORDS = 8;
/** Node header words: prefixlen, flags, child 0 and child 1 (index + 1, 0 for none). */
const N_PLEN = 0, N_FLAGS = 1, N_C0 = 2, N_C1 = 3, N_HEADER = 16;
const FLAG_IM = 1;
const SPIN_LIMIT = 1 << 24;

export class LpmTrieMap extends BpfMap {
  readonly maxPrefixlen: number;
  private readonly dataSize: number;
  private readonly capacity: number;
  private readonly nodeSize: number;
  /** Offset of the value in a node (after the header and the data). */
  private readonly valueOff: number;
  private readonly C: number;
  private readonly FREE: number;
  private readonly NODES: number;

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.capacity = 2 * maxEntries + 1;
    this.valueOff = N_HEADER + roundUp8(this.dataSize);
    this.nodeSize = this.valueOff + this.valueStride;
    this.C = this.allocRegion(4 * C_WORDS, "control", false).start >> 2;
    this.FREE = this.allocRegion(4 * this.capacity, "free list", false).start >> 2;
    this.NODES = this.allocRegion(this.capacity * this.nodeSize, "nodes", this.programWritable).start;
  }

  /** Prefixes stored. */
  get count(): number {
    return this.space.i32[this.C + C_COUNT]!;
  }

  // ---------------------------------------------------------------- program side

  override lookupElem(keyAddr: number): number {
    const sp = this.space;
    sp.assert(keyAddr, this.keySize, false);
    const n = this.longestMatch(keyAddr);
    return n === NONE ? 0 : this.node(n) + this.valueOff;
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
    const n = this.longestMatch(keyAddr);
    if (n === NONE) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    const out = new Uint8Array(this.valueSize);
    this.valueOut(this.node(n) + this.valueOff, out, 0);
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

  /** trie_get_next_key: the node after the key's in post-order, or the first when the key is not stored. */
  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    const root = this.root();
    if (root === NONE) return null;
    const stack: number[] = [];
    let found = NONE;
    if (keyAddr >= 0 && this.keyPlen(keyAddr) <= this.maxPrefixlen) {
      const plen = this.keyPlen(keyAddr);
      let n = root, matchlen = 0;
      while (n !== NONE) {
        stack.push(n);
        matchlen = this.matchLen(n, keyAddr);
        if (this.plen(n) !== matchlen || this.plen(n) === plen) break;
        n = this.child(n, this.keyBit(keyAddr, this.plen(n)));
      }
      if (n !== NONE && this.plen(n) === matchlen && this.plen(n) === plen && !this.isIm(n)) found = n;
    }
    if (found === NONE) return this.keyOf(this.leftmost(root));
    for (let k = stack.length - 1, n = found; k > 0; k--) {
      const parent = stack[k - 1]!;
      if (this.child(parent, 0) === n) {
        const right = this.child(parent, 1);
        if (right !== NONE) return this.keyOf(this.leftmost(right));
      }
      if (!this.isIm(parent)) return this.keyOf(parent);
      n = parent;
    }
    return null;
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

  /**
   * Walks the shared trie and throws on the first inconsistency: a cycle or shared node, prefixes not growing down
   * the tree, a child not extending its parent's prefix on its side, an intermediate node without two children, a
   * count that differs from the prefixes stored, free and live nodes overlapping. For tests, with no CPU running.
   */
  checkConsistency(): { elements: number; nodes: number } {
    const seen = new Uint8Array(this.capacity);
    let elements = 0, nodes = 0;
    const visit = (n: number, parent: number, side: number): void => {
      if (n < 0 || n >= this.capacity) throw new Error(`link to node ${n} outside the pool`);
      if (seen[n]) throw new Error(`node ${n} reached twice`);
      seen[n] = 1;
      nodes++;
      const plen = this.plen(n);
      if (plen > this.maxPrefixlen) throw new Error(`node ${n}: prefixlen ${plen}`);
      if (parent !== NONE) {
        const pp = this.plen(parent);
        if (plen <= pp) throw new Error(`node ${n} (/${plen}) under node ${parent} (/${pp})`);
        if (this.bitOf(this.node(n) + N_HEADER, pp) !== side) throw new Error(`node ${n} on the wrong side of ${parent}`);
        if (this.prefixMatch(this.node(n) + N_HEADER, this.node(parent) + N_HEADER, pp) < pp) {
          throw new Error(`node ${n} does not extend its parent ${parent}'s prefix`);
        }
      }
      const c0 = this.child(n, 0), c1 = this.child(n, 1);
      if (this.isIm(n) && (c0 === NONE || c1 === NONE)) throw new Error(`intermediate node ${n} lacks a child`);
      if (!this.isIm(n)) elements++;
      if (c0 !== NONE) visit(c0, n, 0);
      if (c1 !== NONE) visit(c1, n, 1);
    };
    if (this.root() !== NONE) visit(this.root(), NONE, 0);
    if (elements !== this.count) throw new Error(`count ${this.count}, ${elements} prefixes in the trie`);
    const i32 = this.space.i32, top = i32[this.C + C_FREETOP]!, fresh = i32[this.C + C_FRESH]!;
    for (let k = 0; k < top; k++) {
      const n = i32[this.FREE + k]!;
      if (n < 0 || n >= fresh || seen[n]) throw new Error(`free node ${n} is live or was never used`);
      seen[n] = 2;
    }
    if (nodes + top !== fresh) throw new Error(`${nodes} live + ${top} free nodes, ${fresh} ever used`);
    return { elements, nodes };
  }

  // ---------------------------------------------------------------- nodes in the address space

  private node(n: number): number { return this.NODES + n * this.nodeSize; }
  private word(n: number, w: number): number { return this.space.i32[((this.NODES + n * this.nodeSize) >> 2) + w]!; }
  private setWord(n: number, w: number, v: number): void { this.space.i32[((this.NODES + n * this.nodeSize) >> 2) + w] = v; }
  private plen(n: number): number { return this.word(n, N_PLEN) >>> 0; }
  private isIm(n: number): boolean { return (this.word(n, N_FLAGS) & FLAG_IM) !== 0; }
  private child(n: number, bit: number): number { return this.word(n, N_C0 + bit) - 1; }
  private setChild(n: number, bit: number, c: number): void { Atomics.store(this.space.i32, ((this.node(n)) >> 2) + N_C0 + bit, c + 1); }
  private root(): number { return this.space.i32[this.C + C_ROOT]! - 1; }
  private keyPlen(keyAddr: number): number { return readU32(this.space.u8, keyAddr); }
  private keyBit(keyAddr: number, i: number): number { return this.bitOf(keyAddr + 4, i); }
  private bitOf(data: number, i: number): number { return (this.space.u8[data + (i >>> 3)]! >>> (7 - (i & 7))) & 1; }

  /** Leading bits two data arrays share, at most `limit`. */
  private prefixMatch(a: number, b: number, limit: number): number {
    const u8 = this.space.u8;
    for (let i = 0; i * 8 < limit; i++) {
      const d = u8[a + i]! ^ u8[b + i]!;
      if (d !== 0) return Math.min(i * 8 + Math.clz32(d) - 24, limit);
    }
    return limit;
  }

  /** longest_prefix_match: bits of the key's data the node's prefix matches, up to both prefix lengths. */
  private matchLen(n: number, keyAddr: number): number {
    return this.prefixMatch(this.node(n) + N_HEADER, keyAddr + 4, Math.min(this.plen(n), this.keyPlen(keyAddr)));
  }

  /** The node of the longest stored prefix matching the key (trie_lookup_elem), NONE if none; lock-free, bounded. */
  private longestMatch(keyAddr: number): number {
    const maxp = this.maxPrefixlen;
    let found = NONE;
    for (let n = this.root(), steps = 0; n !== NONE && steps <= maxp + 1; steps++) {
      const m = this.matchLen(n, keyAddr), plen = this.plen(n);
      if (m === maxp) { found = n; break; }
      if (m < plen) break;
      if (!this.isIm(n)) found = n;
      n = this.child(n, this.keyBit(keyAddr, plen));
    }
    return found;
  }

  /** The first node of a subtree in post-order: its leftmost leaf (leaves always hold a prefix). */
  private leftmost(n: number): number {
    for (let steps = 0; steps <= this.maxPrefixlen + 1; steps++) {
      const c0 = this.child(n, 0);
      if (c0 !== NONE) { n = c0; continue; }
      const c1 = this.child(n, 1);
      if (c1 !== NONE) { n = c1; continue; }
      return n;
    }
    return n; // links changed under a walk from user space while CPUs update the trie
  }

  private keyOf(n: number): Uint8Array {
    const out = new Uint8Array(this.keySize);
    new DataView(out.buffer).setUint32(0, this.plen(n), true);
    const d = this.node(n) + N_HEADER;
    out.set(this.space.u8.subarray(d, d + this.dataSize), 4);
    return out;
  }

  // ---------------------------------------------------------------- updates (under the lock)

  private lock(): boolean {
    const i32 = this.space.i32, w = this.C + C_LOCK;
    if (Atomics.compareExchange(i32, w, 0, 1) === 0) return true;
    if (!this.space.shared) return false;
    for (let n = 0; n < SPIN_LIMIT; n++) if (Atomics.compareExchange(i32, w, 0, 1) === 0) return true;
    return false;
  }

  private unlock(): void {
    Atomics.store(this.space.i32, this.C + C_LOCK, 0);
  }

  private allocNode(): number {
    const i32 = this.space.i32, C = this.C;
    const top = i32[C + C_FREETOP]!;
    if (top > 0) { i32[C + C_FREETOP] = top - 1; return i32[this.FREE + top - 1]!; }
    const n = i32[C + C_FRESH]!;
    if (n >= this.capacity) return NONE;
    i32[C + C_FRESH] = n + 1;
    return n;
  }

  private freeNode(n: number): void {
    const i32 = this.space.i32, top = i32[this.C + C_FREETOP]!;
    i32[this.FREE + top] = n;
    i32[this.C + C_FREETOP] = top + 1;
  }

  /** A new node for the key's prefix: header, the key's data bytes, the value. */
  private newNode(keyAddr: number, plen: number, src: Uint8Array | null, srcOff: number): number {
    const n = this.allocNode();
    if (n === NONE) return NONE;
    const a = this.node(n), u8 = this.space.u8;
    this.setWord(n, N_PLEN, plen); this.setWord(n, N_FLAGS, 0); this.setWord(n, N_C0, 0); this.setWord(n, N_C1, 0);
    u8.copyWithin(a + N_HEADER, keyAddr + 4, keyAddr + 4 + this.dataSize);
    if (this.lockOffset >= 0) u8.fill(0, a + this.valueOff + this.lockOffset, a + this.valueOff + this.lockOffset + 4);
    this.copyValueIn(a + this.valueOff, src, srcOff);
    return n;
  }

  /** Points the slot that held `old` (a parent's child, or the root) at `n`. */
  private replaceIn(parent: number, bit: number, n: number): void {
    if (parent === NONE) Atomics.store(this.space.i32, this.C + C_ROOT, n + 1);
    else this.setChild(parent, bit, n);
  }

  /** trie_check_add_elem: one more prefix, unless BPF_EXIST or the map is full. */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -E.ENOENT;
    if (this.count >= this.maxEntries) return -E.ENOSPC;
    return 0;
  }

  private upsert(keyAddr: number, src: Uint8Array | null, srcOff: number, flags: number): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const plen = this.keyPlen(keyAddr);
    if (plen > this.maxPrefixlen) return -E.EINVAL;
    if (!this.lock()) return -E.EBUSY;
    try {
      return this.insert(keyAddr, plen, src, srcOff, flags);
    } finally {
      this.unlock();
    }
  }

  /** trie_update_elem: walk to where the prefix belongs; replace, add below, or split with an intermediate node. */
  private insert(keyAddr: number, plen: number, src: Uint8Array | null, srcOff: number, flags: number): number {
    let parent = NONE, bit = 0, n = this.root(), matchlen = 0;
    while (n !== NONE) {
      matchlen = this.matchLen(n, keyAddr);
      const np = this.plen(n);
      if (np !== matchlen || np === plen || np === this.maxPrefixlen) break;
      parent = n;
      bit = this.keyBit(keyAddr, np);
      n = this.child(n, bit);
    }
    const i32 = this.space.i32;
    if (n !== NONE && this.plen(n) === matchlen && matchlen === plen) {
      // the prefix's own node: replace a stored prefix's value, or give an intermediate node one
      if (!this.isIm(n)) {
        if (flags === BPF_NOEXIST) return -E.EEXIST;
        // the kernel swaps in a new node holding this key's data bytes and the value
        const a = this.node(n);
        this.space.u8.copyWithin(a + N_HEADER, keyAddr + 4, keyAddr + 4 + this.dataSize);
        this.copyValueIn(a + this.valueOff, src, srcOff);
        return 0;
      }
      const r = this.checkAdd(flags);
      if (r !== 0) return r;
      const fresh = this.newNode(keyAddr, plen, src, srcOff);
      if (fresh === NONE) return -E.ENOMEM;
      this.setWord(fresh, N_C0, this.word(n, N_C0)); this.setWord(fresh, N_C1, this.word(n, N_C1));
      this.replaceIn(parent, bit, fresh);
      this.freeNode(n);
      Atomics.add(i32, this.C + C_COUNT, 1);
      return 0;
    }
    const r = this.checkAdd(flags);
    if (r !== 0) return r;
    const fresh = this.newNode(keyAddr, plen, src, srcOff);
    if (fresh === NONE) return -E.ENOMEM;
    if (n === NONE) {
      this.replaceIn(parent, bit, fresh);
    } else if (matchlen === plen) {
      // the new prefix contains the node's: the node goes below it
      this.setChild(fresh, this.bitOf(this.node(n) + N_HEADER, matchlen), n);
      this.replaceIn(parent, bit, fresh);
    } else {
      // they part at bit matchlen: an intermediate node holds both
      const im = this.allocNode();
      if (im === NONE) { this.freeNode(fresh); return -E.ENOMEM; }
      const a = this.node(im), u8 = this.space.u8;
      this.setWord(im, N_PLEN, matchlen); this.setWord(im, N_FLAGS, FLAG_IM);
      u8.copyWithin(a + N_HEADER, this.node(n) + N_HEADER, this.node(n) + N_HEADER + this.dataSize);
      const nb = this.bitOf(this.node(n) + N_HEADER, matchlen);
      this.setWord(im, N_C0 + nb, n + 1);
      this.setWord(im, N_C0 + (nb ^ 1), fresh + 1);
      this.replaceIn(parent, bit, im);
    }
    Atomics.add(i32, this.C + C_COUNT, 1);
    return 0;
  }

  private remove(keyAddr: number): number {
    const plen = this.keyPlen(keyAddr);
    if (plen > this.maxPrefixlen) return -E.EINVAL;
    if (!this.lock()) return -E.EBUSY;
    try {
      return this.erase(keyAddr, plen);
    } finally {
      this.unlock();
    }
  }

  /** trie_delete_elem: a node with two children becomes intermediate; otherwise it (and an intermediate parent) goes. */
  private erase(keyAddr: number, plen: number): number {
    let grand = NONE, gbit = 0, parent = NONE, bit = 0, n = this.root(), matchlen = 0;
    while (n !== NONE) {
      matchlen = this.matchLen(n, keyAddr);
      const np = this.plen(n);
      if (np !== matchlen || np === plen) break;
      grand = parent; gbit = bit;
      parent = n;
      bit = this.keyBit(keyAddr, np);
      n = this.child(n, bit);
    }
    if (n === NONE || this.plen(n) !== plen || matchlen !== plen || this.isIm(n)) return -E.ENOENT;
    Atomics.sub(this.space.i32, this.C + C_COUNT, 1);
    const c0 = this.child(n, 0), c1 = this.child(n, 1);
    if (c0 !== NONE && c1 !== NONE) {
      this.setWord(n, N_FLAGS, FLAG_IM);
      return 0;
    }
    if (parent !== NONE && this.isIm(parent) && c0 === NONE && c1 === NONE) {
      // the intermediate parent would keep one child: that child takes its place
      this.replaceIn(grand, gbit, this.child(parent, bit ^ 1));
      this.freeNode(parent);
      this.freeNode(n);
      return 0;
    }
    this.replaceIn(parent, bit, c0 !== NONE ? c0 : c1);
    this.freeNode(n);
    return 0;
  }
}
