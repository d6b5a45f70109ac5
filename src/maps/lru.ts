// The kernel's LRU lists for LRU hash maps (kernel/bpf/bpf_lru_list.c, Linux 6.18), node for node, so that eviction
// picks the same victims: an active and an inactive list with reference bits, a global free list, and per CPU a local
// free list and a pending list (common LRU), or one set of lists per CPU (BPF_F_NO_COMMON_LRU).
// A CPU that runs out of local free nodes takes target_free of them from the global free list at once, evicting
// unreferenced inactive nodes to make up the rest, so a full map evicts in batches of up to target_free
// (= clamp(max_entries / nCpus / 2, 1, 128)), not one element at a time; per-CPU lists evict up to 4 at a time and
// rotate or shrink at most 4 nodes per pass. Checked against Linux 6.18 with random operation sequences on one CPU.
// Lists are circular and doubly linked over node indices; each list has a sentinel index past the nodes.
//
// Every list word lives in the address space (one region), so worker CPUs sharing the memory share the lists; the
// caller serialises mutations (the hash map's map lock, as the kernel's lru locks do). The kernel puts every node on
// a free list at creation; here nodes a free list has never handed out stay "virtual" at its tail (highest index
// first, the order the kernel's populate leaves them in) and are linked only when a pop reaches them, so the memory
// a map touches grows with its use, not with max_entries.

import type { AddressSpace, Region } from "../vm/memory.ts";

const NONE = -1;
const LOCAL_FREE_TARGET = 128;
const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
const PERCPU_FREE_TARGET = 4;
const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

// Node types (enum bpf_lru_list_type).
const T_ACTIVE = 0, T_INACTIVE = 1, T_FREE = 2, T_LOCAL_FREE = 3, T_LOCAL_PENDING = 4;

/** Removes an element from its hash bucket if it is there (htab_lru_map_delete_node); false when it is not. */
export type DelFromHtab = (node: number) => boolean;

/** Bytes of the one region the lists of `nodes` nodes over `nCpus` CPUs take. */
export function lruRegionSize(nodes: number, nCpus: number, percpu: boolean): number {
  const l = layout(nodes, nCpus, percpu);
  return l.bytes;
}

function layout(nodes: number, nCpus: number, percpu: boolean) {
  const sets = percpu ? nCpus : 1;
  const sentinels = sets * 3 + (percpu ? 0 : nCpus * 2);
  // words: prev, next (nodes + sentinels), cpuOf (nodes), heads (sets*3), counts (sets*2), rotation (sets),
  // virtual (sets), localFree, localPending, nextSteal (nCpus each); then bytes: type, ref (nodes each).
  let w = 0;
  const prev = w; w += nodes + sentinels;
  const next = w; w += nodes + sentinels;
  const cpuOf = w; w += nodes;
  const heads = w; w += sets * 3;
  const counts = w; w += sets * 2;
  const rot = w; w += sets;
  const virt = w; w += sets;
  const localFree = w; w += nCpus;
  const localPending = w; w += nCpus;
  const nextSteal = w; w += nCpus;
  const type = w * 4;
  const ref = type + nodes;
  return { sets, prev, next, cpuOf, heads, counts, rot, virt, localFree, localPending, nextSteal, type, ref, bytes: ref + nodes };
}

export class LruLists {
  private readonly sp: AddressSpace;
  // Word indices (into sp.i32) and byte addresses (into sp.u8) of each array.
  private readonly P: number;
  private readonly N: number;
  private readonly CPU: number;
  private readonly HEADS: number;
  private readonly COUNTS: number;
  private readonly ROT: number;
  private readonly VIRT: number;
  private readonly LFREE: number;
  private readonly LPEND: number;
  private readonly STEAL: number;
  private readonly TYPE: number;
  private readonly REF: number;
  private readonly perCpuNodes: number;
  private readonly targetFree: number;
  /** Nodes a rotation or shrink looks at: 128 for the common LRU, 4 per CPU list (bpf_lru_init). */
  private readonly nrScans: number;

  /** Lists over `region` (lruRegionSize bytes, zeroed); `attached`: the lists are live already (another thread's). */
  constructor(
    space: AddressSpace,
    region: Region,
    private readonly nodes: number,
    private readonly nCpus: number,
    private readonly percpu: boolean,
    private readonly delFromHtab: DelFromHtab,
    attached = false,
  ) {
    this.sp = space;
    const l = layout(nodes, nCpus, percpu), w0 = region.start >> 2;
    this.P = w0 + l.prev; this.N = w0 + l.next; this.CPU = w0 + l.cpuOf; this.HEADS = w0 + l.heads;
    this.COUNTS = w0 + l.counts; this.ROT = w0 + l.rot; this.VIRT = w0 + l.virt; this.LFREE = w0 + l.localFree;
    this.LPEND = w0 + l.localPending; this.STEAL = w0 + l.nextSteal;
    this.TYPE = region.start + l.type; this.REF = region.start + l.ref;
    this.perCpuNodes = percpu ? Math.floor(nodes / nCpus) : nodes;
    this.nrScans = percpu ? PERCPU_NR_SCANS : LOCAL_NR_SCANS;
    this.targetFree = Math.min(Math.max(Math.floor(Math.floor(nodes / nCpus) / 2), 1), LOCAL_FREE_TARGET);
    if (attached) return;
    const i32 = space.i32;
    let s = nodes;
    const sentinel = (): number => { const h = s++; i32[this.P + h] = i32[this.N + h] = h; return h; };
    for (let k = 0; k < l.sets * 3; k++) i32[this.HEADS + k] = sentinel();
    for (let k = 0; k < l.sets; k++) i32[this.ROT + k] = i32[this.HEADS + k * 3 + T_INACTIVE]!;
    if (!percpu) {
      for (let c = 0; c < nCpus; c++) {
        i32[this.LFREE + c] = sentinel();
        i32[this.LPEND + c] = sentinel();
        i32[this.STEAL + c] = c;
      }
    }
    // bpf_common_lru_populate / bpf_percpu_lru_populate put every node on a free list; here they start virtual.
    for (let k = 0; k < l.sets; k++) i32[this.VIRT + k] = this.setSize(k);
  }

  /** bpf_lru_node_set_ref: a program looked the element up. */
  setRef(node: number): void {
    this.sp.u8[this.REF + node] = 1;
  }

  /** bpf_lru_pop_free on `cpu`: a node for a new element (evicting others when needed), NONE when none can be had. */
  pop(cpu: number): number {
    return this.percpu ? this.percpuPop(cpu % this.nCpus) : this.commonPop(cpu % this.nCpus);
  }

  /** bpf_lru_push_free: the element left the map (deleted, replaced, or never inserted). */
  pushFree(node: number): void {
    const t = this.type(node);
    if (t === T_FREE || t === T_LOCAL_FREE) return;
    if (this.percpu) { this.move(node, T_FREE); return; }
    if (t === T_LOCAL_PENDING) {
      this.setType(node, T_LOCAL_FREE);
      this.setRefBit(node, 0);
      this.listMove(node, this.sp.i32[this.LFREE + this.cpuOf(node)]!);
      return;
    }
    this.move(node, T_FREE);
  }

  /** Every node a list holds, as [node, list type] (for consistency checks); virtual free nodes are not listed. */
  walk(visit: (node: number, type: number, set: number) => void): void {
    const sets = this.percpu ? this.nCpus : 1;
    const walkList = (head: number, t: number, set: number): void => {
      let steps = 0;
      for (let n = this.nx(head); n !== head; n = this.nx(n)) {
        if (++steps > this.nodes) throw new Error(`LRU list ${t} of set ${set} does not return to its head`);
        if (this.pv(this.nx(n)) !== n) throw new Error(`LRU node ${n}: next's prev is not the node`);
        visit(n, t, set);
      }
    };
    for (let k = 0; k < sets; k++) for (const t of [T_ACTIVE, T_INACTIVE, T_FREE]) walkList(this.head(k, t), t, k);
    if (!this.percpu) {
      for (let c = 0; c < this.nCpus; c++) {
        walkList(this.sp.i32[this.LFREE + c]!, T_LOCAL_FREE, c);
        walkList(this.sp.i32[this.LPEND + c]!, T_LOCAL_PENDING, c);
      }
    }
  }

  /** Nodes still virtual (never linked) on the free lists. */
  virtualFree(): number {
    let n = 0;
    for (let k = 0; k < (this.percpu ? this.nCpus : 1); k++) n += this.sp.i32[this.VIRT + k]!;
    return n;
  }

  // ---------------------------------------------------------------- words in the address space

  private nx(n: number): number { return this.sp.i32[this.N + n]!; }
  private pv(n: number): number { return this.sp.i32[this.P + n]!; }
  private type(n: number): number { return this.sp.u8[this.TYPE + n]!; }
  private setType(n: number, t: number): void { this.sp.u8[this.TYPE + n] = t; }
  private ref(n: number): number { return this.sp.u8[this.REF + n]!; }
  private setRefBit(n: number, v: number): void { this.sp.u8[this.REF + n] = v; }
  private cpuOf(n: number): number { return this.sp.i32[this.CPU + n]!; }

  /** Nodes of list set k (bpf_percpu_lru_populate gives the last CPU the remainder). */
  private setSize(k: number): number {
    if (!this.percpu) return this.nodes;
    return k === this.nCpus - 1 ? this.nodes - k * this.perCpuNodes : this.perCpuNodes;
  }

  /** Links virtual nodes at the tail of set k's free list until it holds `want` nodes or none are left. */
  private materialize(k: number, want: number): void {
    const i32 = this.sp.i32;
    let left = i32[this.VIRT + k]!;
    if (left === 0) return;
    const free = this.head(k, T_FREE);
    let have = 0;
    for (let n = this.nx(free); n !== free && have < want; n = this.nx(n)) have++;
    const lo = this.percpu ? k * this.perCpuNodes : 0;
    while (have < want && left > 0) {
      const node = lo + --left;
      i32[this.CPU + node] = k;
      this.setType(node, T_FREE);
      this.setRefBit(node, 0);
      // at the tail: list_add_tail
      const last = this.pv(free);
      i32[this.N + last] = node; i32[this.P + node] = last;
      i32[this.N + node] = free; i32[this.P + free] = node;
      have++;
    }
    i32[this.VIRT + k] = left;
  }

  // ---------------------------------------------------------------- list primitives

  private listAdd(n: number, head: number): void {
    const i32 = this.sp.i32, first = i32[this.N + head]!;
    i32[this.N + head] = n; i32[this.P + n] = head;
    i32[this.N + n] = first; i32[this.P + first] = n;
  }

  private listDel(n: number): void {
    const i32 = this.sp.i32, p = i32[this.P + n]!, q = i32[this.N + n]!;
    i32[this.N + p] = q; i32[this.P + q] = p;
    i32[this.P + n] = i32[this.N + n] = NONE;
  }

  private listMove(n: number, head: number): void {
    this.listDel(n);
    this.listAdd(n, head);
  }

  /** The list-set index (0 for the common LRU) a global-list node lives in. */
  private setOf(node: number): number {
    return this.percpu ? this.cpuOf(node) : 0;
  }

  private head(set: number, t: number): number {
    return this.sp.i32[this.HEADS + set * 3 + t]!;
  }

  private countDec(set: number, t: number): void { if (t <= T_INACTIVE) this.sp.i32[this.COUNTS + set * 2 + t]!--; }
  private countInc(set: number, t: number): void { if (t <= T_INACTIVE) this.sp.i32[this.COUNTS + set * 2 + t]!++; }
  private count(set: number, t: number): number { return this.sp.i32[this.COUNTS + set * 2 + t]!; }
  private rotation(set: number): number { return this.sp.i32[this.ROT + set]!; }
  private setRotation(set: number, n: number): void { this.sp.i32[this.ROT + set] = n; }

  /** __bpf_lru_node_move_to_free. */
  private moveToFree(node: number, freeHead: number, tgt: number): void {
    const set = this.setOf(node);
    if (node === this.rotation(set)) this.setRotation(set, this.pv(node));
    this.countDec(set, this.type(node));
    this.setType(node, tgt);
    this.listMove(node, freeHead);
  }

  /** __bpf_lru_node_move_in: from a local list into the active or inactive list. */
  private moveIn(node: number, tgt: number): void {
    const set = this.setOf(node);
    this.countInc(set, tgt);
    this.setType(node, tgt);
    this.setRefBit(node, 0);
    this.listMove(node, this.head(set, tgt));
  }

  /** __bpf_lru_node_move: between or within the active, inactive and free lists (to the head). */
  private move(node: number, tgt: number): void {
    const set = this.setOf(node), t = this.type(node);
    if (t !== tgt) {
      this.countDec(set, t);
      this.countInc(set, tgt);
      this.setType(node, tgt);
    }
    this.setRefBit(node, 0);
    if (node === this.rotation(set)) this.setRotation(set, this.pv(node));
    this.listMove(node, this.head(set, tgt));
  }

  // ---------------------------------------------------------------- rotation and shrinking

  private rotateActive(set: number): void {
    const active = this.head(set, T_ACTIVE);
    const first = this.nx(active);
    let i = 0;
    for (let node = this.pv(active); node !== active;) {
      const tmp = this.pv(node);
      this.move(node, this.ref(node) ? T_ACTIVE : T_INACTIVE);
      if (++i === this.nrScans || node === first) break;
      node = tmp;
    }
  }

  private rotateInactive(set: number): void {
    const inactive = this.head(set, T_INACTIVE);
    if (this.nx(inactive) === inactive) return;
    let last = this.nx(this.rotation(set));
    if (last === inactive) last = this.nx(last);
    let cur = this.rotation(set), nxt = cur, i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) { cur = this.pv(cur); continue; }
      nxt = this.pv(cur);
      if (this.ref(cur)) this.move(cur, T_ACTIVE);
      if (cur === last) break;
      cur = nxt;
      i++;
    }
    this.setRotation(set, nxt);
  }

  private rotate(set: number): void {
    if (this.count(set, T_INACTIVE) < this.count(set, T_ACTIVE)) this.rotateActive(set);
    this.rotateInactive(set);
  }

  private shrinkInactive(set: number, target: number, freeHead: number, tgt: number): number {
    const inactive = this.head(set, T_INACTIVE);
    let shrunk = 0, i = 0;
    for (let node = this.pv(inactive); node !== inactive;) {
      const tmp = this.pv(node);
      if (this.ref(node)) this.move(node, T_ACTIVE);
      else if (this.delFromHtab(node)) {
        this.moveToFree(node, freeHead, tgt);
        if (++shrunk === target) break;
      }
      if (++i === this.nrScans) break;
      node = tmp;
    }
    return shrunk;
  }

  /** __bpf_lru_list_shrink: unreferenced inactive nodes first, else one node regardless of its reference bit. */
  private shrink(set: number, target: number, freeHead: number, tgt: number): number {
    const n = this.shrinkInactive(set, target, freeHead, tgt);
    if (n) return n;
    const inactive = this.head(set, T_INACTIVE);
    const force = this.nx(inactive) !== inactive ? inactive : this.head(set, T_ACTIVE);
    for (let node = this.pv(force); node !== force;) {
      const tmp = this.pv(node);
      if (this.delFromHtab(node)) { this.moveToFree(node, freeHead, tgt); return 1; }
      node = tmp;
    }
    return 0;
  }

  // ---------------------------------------------------------------- common LRU

  private localPopFree(cpu: number): number {
    const h = this.sp.i32[this.LFREE + cpu]!, n = this.nx(h);
    if (n === h) return NONE;
    this.listDel(n);
    return n;
  }

  private localPopPending(cpu: number): number {
    const h = this.sp.i32[this.LPEND + cpu]!;
    for (let force = 0; force < 2; force++) {
      for (let node = this.pv(h); node !== h; node = this.pv(node)) {
        if ((!this.ref(node) || force) && this.delFromHtab(node)) { this.listDel(node); return node; }
      }
    }
    return NONE;
  }

  private addPending(cpu: number, node: number): void {
    this.sp.i32[this.CPU + node] = cpu;
    this.setType(node, T_LOCAL_PENDING);
    this.setRefBit(node, 0);
    this.listAdd(node, this.sp.i32[this.LPEND + cpu]!);
  }

  /** bpf_lru_list_pop_free_to_local. */
  private refillLocal(cpu: number): void {
    const pending = this.sp.i32[this.LPEND + cpu]!;
    for (let node = this.pv(pending); node !== pending;) {
      const tmp = this.pv(node);
      this.moveIn(node, this.ref(node) ? T_ACTIVE : T_INACTIVE);
      node = tmp;
    }
    this.rotate(0);
    this.materialize(0, this.targetFree);
    const free = this.head(0, T_FREE), local = this.sp.i32[this.LFREE + cpu]!;
    let nfree = 0;
    for (let node = this.nx(free); node !== free;) {
      const tmp = this.nx(node);
      this.moveToFree(node, local, T_LOCAL_FREE);
      if (++nfree === this.targetFree) break;
      node = tmp;
    }
    if (nfree < this.targetFree) this.shrink(0, this.targetFree - nfree, local, T_LOCAL_FREE);
  }

  private commonPop(cpu: number): number {
    let node = this.localPopFree(cpu);
    if (node === NONE) {
      this.refillLocal(cpu);
      node = this.localPopFree(cpu);
    }
    if (node !== NONE) { this.addPending(cpu, node); return node; }
    // Steal from the local free or pending lists of the CPUs in turn, starting with next_steal.
    const i32 = this.sp.i32;
    const first = i32[this.STEAL + cpu]!;
    let steal = first;
    do {
      node = this.localPopFree(steal);
      if (node === NONE) node = this.localPopPending(steal);
      steal = (steal + 1) % this.nCpus;
    } while (node === NONE && steal !== first);
    i32[this.STEAL + cpu] = steal;
    if (node !== NONE) this.addPending(cpu, node);
    return node;
  }

  // ---------------------------------------------------------------- per-CPU LRU

  private percpuPop(cpu: number): number {
    this.rotate(cpu);
    this.materialize(cpu, 1);
    const free = this.head(cpu, T_FREE);
    if (this.nx(free) === free) this.shrink(cpu, PERCPU_FREE_TARGET, free, T_FREE);
    const node = this.nx(free);
    if (node === free) return NONE;
    this.setRefBit(node, 0);
    this.move(node, T_INACTIVE);
    return node;
  }
}
