// The kernel's LRU lists for LRU hash maps (kernel/bpf/bpf_lru_list.c, Linux 6.18), node for node, so that eviction
// picks the same victims: an active and an inactive list with reference bits, a global free list, and per CPU a local
// free list and a pending list (common LRU), or one set of lists per CPU (BPF_F_NO_COMMON_LRU).
// A CPU that runs out of local free nodes takes target_free of them from the global free list at once, evicting
// unreferenced inactive nodes to make up the rest, so a full map evicts in batches of up to target_free
// (= clamp(max_entries / nCpus / 2, 1, 128)), not one element at a time; per-CPU lists evict up to 4 at a time and
// rotate or shrink at most 4 nodes per pass. Checked against Linux 6.18 with random operation sequences on one CPU.
// Lists are circular and doubly linked over node indices; each list has a sentinel index past the nodes.

const NONE = -1;
const LOCAL_FREE_TARGET = 128;
const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
const PERCPU_FREE_TARGET = 4;
const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

// Node types (enum bpf_lru_list_type).
const T_ACTIVE = 0, T_INACTIVE = 1, T_FREE = 2, T_LOCAL_FREE = 3, T_LOCAL_PENDING = 4;

/** Removes an element from its hash bucket if it is there (htab_lru_map_delete_node); false when it is not. */
export type DelFromHtab = (node: number) => boolean;

export class LruLists {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly type: Uint8Array;
  private readonly ref: Uint8Array;
  /** The CPU whose local lists (common LRU) or whose list set (per-CPU LRU) a node belongs to. */
  private readonly cpuOf: Int32Array;
  /** Per list set (1 for the common LRU, nCpus per-CPU): sentinels of active, inactive, free; counts; rotation cursor. */
  private readonly heads: Int32Array;
  private readonly counts: Int32Array;
  private readonly nextInactiveRotation: Int32Array;
  /** Common LRU only: per CPU the local free and pending list sentinels, and the next CPU to steal from. */
  private readonly localFree: Int32Array;
  private readonly localPending: Int32Array;
  private readonly nextSteal: Int32Array;
  private readonly targetFree: number;
  /** Nodes a rotation or shrink looks at: 128 for the common LRU, 4 per CPU list (bpf_lru_init). */
  private readonly nrScans: number;

  constructor(
    nodes: number,
    private readonly nCpus: number,
    private readonly percpu: boolean,
    private readonly delFromHtab: DelFromHtab,
  ) {
    const sets = percpu ? nCpus : 1;
    const sentinels = sets * 3 + (percpu ? 0 : nCpus * 2);
    this.prev = new Int32Array(nodes + sentinels);
    this.next = new Int32Array(nodes + sentinels);
    this.type = new Uint8Array(nodes);
    this.ref = new Uint8Array(nodes);
    this.cpuOf = new Int32Array(nodes);
    this.heads = new Int32Array(sets * 3);
    this.counts = new Int32Array(sets * 2);
    this.nextInactiveRotation = new Int32Array(sets);
    let s = nodes;
    const sentinel = (): number => { const h = s++; this.prev[h] = this.next[h] = h; return h; };
    for (let k = 0; k < sets * 3; k++) this.heads[k] = sentinel();
    for (let k = 0; k < sets; k++) this.nextInactiveRotation[k] = this.heads[k * 3 + T_INACTIVE]!;
    this.localFree = new Int32Array(percpu ? 0 : nCpus);
    this.localPending = new Int32Array(percpu ? 0 : nCpus);
    this.nextSteal = new Int32Array(percpu ? 0 : nCpus);
    if (!percpu) {
      for (let c = 0; c < nCpus; c++) {
        this.localFree[c] = sentinel();
        this.localPending[c] = sentinel();
        this.nextSteal[c] = c;
      }
    }
    // bpf_common_lru_populate / bpf_percpu_lru_populate: every node on a free list, added at the head.
    const perCpu = percpu ? Math.floor(nodes / nCpus) : nodes;
    for (let i = 0; i < nodes; i++) {
      const set = percpu ? Math.min(Math.floor(i / perCpu), nCpus - 1) : 0;
      this.cpuOf[i] = set;
      this.type[i] = T_FREE;
      this.listAdd(i, this.heads[set * 3 + T_FREE]!);
    }
    this.nrScans = percpu ? PERCPU_NR_SCANS : LOCAL_NR_SCANS;
    this.targetFree = Math.min(Math.max(Math.floor(Math.floor(nodes / nCpus) / 2), 1), LOCAL_FREE_TARGET);
  }

  /** bpf_lru_node_set_ref: a program looked the element up. */
  setRef(node: number): void {
    this.ref[node] = 1;
  }

  /** bpf_lru_pop_free on `cpu`: a node for a new element (evicting others when needed), NONE when none can be had. */
  pop(cpu: number): number {
    return this.percpu ? this.percpuPop(cpu % this.nCpus) : this.commonPop(cpu % this.nCpus);
  }

  /** bpf_lru_push_free: the element left the map (deleted, replaced, or never inserted). */
  pushFree(node: number): void {
    const t = this.type[node]!;
    if (t === T_FREE || t === T_LOCAL_FREE) return;
    if (this.percpu) { this.move(node, T_FREE); return; }
    if (t === T_LOCAL_PENDING) {
      this.type[node] = T_LOCAL_FREE;
      this.ref[node] = 0;
      this.listMove(node, this.localFree[this.cpuOf[node]!]!);
      return;
    }
    this.move(node, T_FREE);
  }

  // ---------------------------------------------------------------- list primitives

  private listAdd(n: number, head: number): void {
    const first = this.next[head]!;
    this.next[head] = n; this.prev[n] = head;
    this.next[n] = first; this.prev[first] = n;
  }

  private listDel(n: number): void {
    const p = this.prev[n]!, q = this.next[n]!;
    this.next[p] = q; this.prev[q] = p;
    this.prev[n] = this.next[n] = NONE;
  }

  private listMove(n: number, head: number): void {
    this.listDel(n);
    this.listAdd(n, head);
  }

  /** The list-set index (0 for the common LRU) a global-list node lives in. */
  private setOf(node: number): number {
    return this.percpu ? this.cpuOf[node]! : 0;
  }

  private head(set: number, t: number): number {
    return this.heads[set * 3 + t]!;
  }

  private countDec(set: number, t: number): void { if (t <= T_INACTIVE) this.counts[set * 2 + t]!--; }
  private countInc(set: number, t: number): void { if (t <= T_INACTIVE) this.counts[set * 2 + t]!++; }

  /** __bpf_lru_node_move_to_free. */
  private moveToFree(node: number, freeHead: number, tgt: number): void {
    const set = this.setOf(node);
    if (node === this.nextInactiveRotation[set]) this.nextInactiveRotation[set] = this.prev[node]!;
    this.countDec(set, this.type[node]!);
    this.type[node] = tgt;
    this.listMove(node, freeHead);
  }

  /** __bpf_lru_node_move_in: from a local list into the active or inactive list. */
  private moveIn(node: number, tgt: number): void {
    const set = this.setOf(node);
    this.countInc(set, tgt);
    this.type[node] = tgt;
    this.ref[node] = 0;
    this.listMove(node, this.head(set, tgt));
  }

  /** __bpf_lru_node_move: between or within the active, inactive and free lists (to the head). */
  private move(node: number, tgt: number): void {
    const set = this.setOf(node), t = this.type[node]!;
    if (t !== tgt) {
      this.countDec(set, t);
      this.countInc(set, tgt);
      this.type[node] = tgt;
    }
    this.ref[node] = 0;
    if (node === this.nextInactiveRotation[set]) this.nextInactiveRotation[set] = this.prev[node]!;
    this.listMove(node, this.head(set, tgt));
  }

  // ---------------------------------------------------------------- rotation and shrinking

  private rotateActive(set: number): void {
    const active = this.head(set, T_ACTIVE);
    const first = this.next[active]!;
    let i = 0;
    for (let node = this.prev[active]!; node !== active;) {
      const tmp = this.prev[node]!;
      this.move(node, this.ref[node] ? T_ACTIVE : T_INACTIVE);
      if (++i === this.nrScans || node === first) break;
      node = tmp;
    }
  }

  private rotateInactive(set: number): void {
    const inactive = this.head(set, T_INACTIVE);
    if (this.next[inactive] === inactive) return;
    let last = this.next[this.nextInactiveRotation[set]!]!;
    if (last === inactive) last = this.next[last]!;
    let cur = this.nextInactiveRotation[set]!, nxt = cur, i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) { cur = this.prev[cur]!; continue; }
      nxt = this.prev[cur]!;
      if (this.ref[cur]) this.move(cur, T_ACTIVE);
      if (cur === last) break;
      cur = nxt;
      i++;
    }
    this.nextInactiveRotation[set] = nxt;
  }

  private rotate(set: number): void {
    if (this.counts[set * 2 + T_INACTIVE]! < this.counts[set * 2 + T_ACTIVE]!) this.rotateActive(set);
    this.rotateInactive(set);
  }

  private shrinkInactive(set: number, target: number, freeHead: number, tgt: number): number {
    const inactive = this.head(set, T_INACTIVE);
    let shrunk = 0, i = 0;
    for (let node = this.prev[inactive]!; node !== inactive;) {
      const tmp = this.prev[node]!;
      if (this.ref[node]) this.move(node, T_ACTIVE);
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
    const force = this.next[inactive] !== inactive ? inactive : this.head(set, T_ACTIVE);
    for (let node = this.prev[force]!; node !== force;) {
      const tmp = this.prev[node]!;
      if (this.delFromHtab(node)) { this.moveToFree(node, freeHead, tgt); return 1; }
      node = tmp;
    }
    return 0;
  }

  // ---------------------------------------------------------------- common LRU

  private localPopFree(cpu: number): number {
    const h = this.localFree[cpu]!, n = this.next[h]!;
    if (n === h) return NONE;
    this.listDel(n);
    return n;
  }

  private localPopPending(cpu: number): number {
    const h = this.localPending[cpu]!;
    for (let force = 0; force < 2; force++) {
      for (let node = this.prev[h]!; node !== h; node = this.prev[node]!) {
        if ((!this.ref[node] || force) && this.delFromHtab(node)) { this.listDel(node); return node; }
      }
    }
    return NONE;
  }

  private addPending(cpu: number, node: number): void {
    this.cpuOf[node] = cpu;
    this.type[node] = T_LOCAL_PENDING;
    this.ref[node] = 0;
    this.listAdd(node, this.localPending[cpu]!);
  }

  /** bpf_lru_list_pop_free_to_local. */
  private refillLocal(cpu: number): void {
    const pending = this.localPending[cpu]!;
    for (let node = this.prev[pending]!; node !== pending;) {
      const tmp = this.prev[node]!;
      this.moveIn(node, this.ref[node] ? T_ACTIVE : T_INACTIVE);
      node = tmp;
    }
    this.rotate(0);
    const free = this.head(0, T_FREE), local = this.localFree[cpu]!;
    let nfree = 0;
    for (let node = this.next[free]!; node !== free;) {
      const tmp = this.next[node]!;
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
    const first = this.nextSteal[cpu]!;
    let steal = first;
    do {
      node = this.localPopFree(steal);
      if (node === NONE) node = this.localPopPending(steal);
      steal = (steal + 1) % this.nCpus;
    } while (node === NONE && steal !== first);
    this.nextSteal[cpu] = steal;
    if (node !== NONE) this.addPending(cpu, node);
    return node;
  }

  // ---------------------------------------------------------------- per-CPU LRU

  private percpuPop(cpu: number): number {
    this.rotate(cpu);
    const free = this.head(cpu, T_FREE);
    if (this.next[free] === free) this.shrink(cpu, PERCPU_FREE_TARGET, free, T_FREE);
    const node = this.next[free]!;
    if (node === free) return NONE;
    this.ref[node] = 0;
    this.move(node, T_INACTIVE);
    return node;
  }
}
