// The fd arrays (kernel/bpf/arraymap.c): PROG_ARRAY (tail-call targets), ARRAY_OF_MAPS (inner maps), CGROUP_ARRAY
// (cgroup directories) and the base of PERF_EVENT_ARRAY. User space stores an fd per index; the kernel keeps the object it names. Updates take only
// BPF_ANY (else EINVAL), an index past the end is E2BIG, deleting an empty slot ENOENT. A user-space lookup returns the
// object's id (prog or map), or ENOTSUPP where the kernel has no map_fd_sys_lookup_elem (perf_event_array).

import type { AddressSpace } from "../vm/memory.ts";
import { arrayNextKey } from "./array.ts";
import { BpfMap, sysError } from "./map.ts";
import type { BatchOptions, BatchResult, MapOptions } from "./map.ts";
import { mapFromId } from "./registry.ts";
import { innerMapMatches } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_ANY, ERRNO, readU32, u32Bytes } from "./types.ts";

export abstract class FdArrayMap<T> extends BpfMap {
  protected readonly slots: (T | undefined)[];

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.slots = []; // sparse: filled as slots are set, never sized by max_entries
  }

  /** What a user-space fd names, or undefined (EBADF); throws EINVAL for an object of the wrong kind. */
  protected abstract resolve(fd: number): T | undefined;
  /** The id a user-space lookup returns. */
  protected abstract idOf(entry: T): number;

  /** Sets slot `index` directly (what BPF_MAP_UPDATE_ELEM does once the fd is resolved). */
  protected setSlot(index: number, entry: T | undefined): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) {
      throw sysError("E2BIG", this, `index ${index} past max_entries ${this.maxEntries}`);
    }
    this.slots[index] = entry;
    this.slotChanged(index, entry);
  }

  private table: Uint32Array | undefined;
  private tableAt = 0;
  private tableGen = -1;

  /**
   * Mirrors each slot in shared memory as a u32 (`keyOf`: a program's code address, an inner map's handle), so views
   * of the map attached in other threads (worker CPUs) read the slots there. Called by constructors of shared types;
   * only a shared address space gets the table.
   */
  protected shareSlots(): void {
    if (!this.space.shared) return; // no other thread can look: the JS slots stay sparse (max_entries may be huge)
    const r = this.allocRegion(Math.max(4, this.maxEntries * 4), "slots", false);
    this.tableAt = r.start;
    this.table = new Uint32Array(this.space.u8.buffer, r.start, this.maxEntries);
  }

  /** The u32 a slot is mirrored as (0 for an empty slot). */
  protected keyOf(_entry: T): number {
    return 0;
  }

  /** A slot as another thread's view reads it: the mirrored u32, or undefined when empty. */
  protected sharedSlot(index: number): number | undefined {
    if (this.table === undefined || index < 0 || index >= this.maxEntries) return undefined;
    const k = Atomics.load(this.tableView(), index);
    return k === 0 ? undefined : k;
  }

  /** Called whenever slot `index` changes: the shared mirror follows. */
  protected slotChanged(index: number, entry: T | undefined): void {
    if (this.table !== undefined) Atomics.store(this.tableView(), index, entry === undefined ? 0 : this.keyOf(entry));
  }

  /** The table over the current buffer (a grown shared memory keeps old views valid; an unshared one detaches them). */
  private tableView(): Uint32Array {
    // renewed when the memory grew (space.generation): asking a memory or an array for its buffer is slow
    if (this.tableGen !== this.space.generation) {
      this.table = new Uint32Array(this.space.u8.buffer, this.tableAt, this.maxEntries);
      this.tableGen = this.space.generation;
    }
    return this.table!;
  }

  protected slot(index: number): T | undefined {
    return index >= 0 && index < this.maxEntries ? this.slots[index] : undefined;
  }

  override deleteElem(keyAddr: number): number {
    this.space.assert(keyAddr, 4, false);
    return this.clear(readU32(this.space.u8, keyAddr));
  }

  protected override sysLookup(keyAddr: number): Uint8Array {
    // bpf_fd_array_map_lookup_elem: ENOTSUPP without map_fd_sys_lookup_elem, then ENOENT for an empty slot.
    if (this.refusesLookup()) throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_ELEM");
    const e = this.slot(readU32(this.space.u8, keyAddr));
    if (e === undefined) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    return u32Bytes(this.idOf(e));
  }

  /** perf_event_array has no sys lookup at all: ENOTSUPP even for empty slots. */
  protected refusesLookup(): boolean {
    return false;
  }

  protected override sysUpdate(keyAddr: number, value: Uint8Array, flags: number): void {
    if (flags !== BPF_ANY) throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: fd arrays take only BPF_ANY");
    const index = readU32(this.space.u8, keyAddr);
    if (index >= this.maxEntries) throw sysError("E2BIG", this, "BPF_MAP_UPDATE_ELEM: index past max_entries");
    const fd = readU32(value);
    const e = this.resolve(fd);
    if (e === undefined) throw sysError("EBADF", this, `BPF_MAP_UPDATE_ELEM: fd ${fd}`);
    this.slots[index] = e;
    this.slotChanged(index, e);
  }

  protected override sysDelete(keyAddr: number): void {
    const r = this.clear(readU32(this.space.u8, keyAddr));
    if (r === -ERRNO.E2BIG) throw sysError("E2BIG", this, "BPF_MAP_DELETE_ELEM: index past max_entries");
    if (r < 0) throw sysError("ENOENT", this, "BPF_MAP_DELETE_ELEM: slot is empty");
  }

  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    return arrayNextKey(keyAddr < 0 ? 0xffffffff : readU32(this.space.u8, keyAddr), this.maxEntries);
  }

  private clear(index: number): number {
    if (index >= this.maxEntries) return -ERRNO.E2BIG;
    if (this.slots[index] === undefined) return -ERRNO.ENOENT;
    this.slots[index] = undefined;
    this.slotChanged(index, undefined);
    return 0;
  }
}

/** A tail-call target and the id user space sees for it. */
interface ProgSlot {
  readonly prog: unknown;
  readonly id: number;
}

/** A loaded program's code address (the key worker CPUs know it by): a LoadedProgram's, or a runtime object's `loaded`. */
function codeKey(prog: unknown): number {
  const p = prog as { code?: { start?: unknown }; loaded?: { code?: { start?: unknown } } } | null;
  const k = p?.code?.start ?? p?.loaded?.code?.start;
  return typeof k === "number" ? k : 0;
}

/**
 * PROG_ARRAY: bpf_tail_call targets. Each slot's program is mirrored in shared memory as its code address, so worker
 * CPUs viewing the map (MapOptions.attach) find the target among the programs they were sent.
 */
export class ProgArrayMap extends FdArrayMap<ProgSlot> {
  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.shareSlots();
  }

  override get shareable(): boolean {
    return true;
  }

  /**
   * The program at `index` for bpf_tail_call, undefined when the index is out of range or empty: the object user space
   * installed, or in a view attached from another thread, the target's code address.
   */
  getProgram(index: number): unknown {
    if (this.opts.attach !== undefined) return this.sharedSlot(index);
    return this.slot(index)?.prog;
  }

  /** The programs installed now (for sending them to worker CPUs before they run a caller). */
  targets(): unknown[] {
    return this.slots.filter((s): s is ProgSlot => s !== undefined).map((s) => s.prog);
  }

  protected override keyOf(e: ProgSlot): number {
    return codeKey(e.prog);
  }

  /** Installs (or with undefined, removes) a tail-call target; `id` is what a user-space lookup reports. */
  setProgram(index: number, prog: unknown, id = progId(prog)): void {
    this.setSlot(index, prog === undefined ? undefined : { prog, id });
  }

  protected resolve(fd: number): ProgSlot | undefined {
    const p = this.opts.resolveFd?.(fd, this);
    if (p === undefined || p instanceof BpfMap) return undefined;
    return { prog: p, id: progId(p) };
  }

  protected idOf(e: ProgSlot): number {
    return e.id;
  }
}

const progId = (p: unknown): number => {
  const id = (p as { id?: unknown } | null)?.id;
  return typeof id === "number" ? id : 0;
};

/** ARRAY_OF_MAPS: a program's lookup yields the inner map's pointer (its handle, mirrored in shared memory). */
export class ArrayOfMapsMap extends FdArrayMap<BpfMap> {
  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.shareSlots();
  }

  override get shareable(): boolean {
    return true;
  }

  override lookupElem(keyAddr: number): number {
    this.space.assert(keyAddr, 4, false);
    const index = readU32(this.space.u8, keyAddr);
    if (this.opts.attach !== undefined) return this.sharedSlot(index) ?? 0;
    return this.slot(index)?.address ?? 0;
  }

  protected override keyOf(m: BpfMap): number {
    return m.address;
  }

  /** Installs an inner map directly; EINVAL unless it matches the template (map_meta_equal). */
  setInner(index: number, inner: BpfMap | undefined): void {
    if (inner !== undefined && !innerMapMatches(this.spec.innerMap!, inner.spec)) {
      throw sysError("EINVAL", this, "inner map does not match the template");
    }
    this.setSlot(index, inner);
  }

  /** The inner map at `index`. */
  inner(index: number): BpfMap | undefined {
    return this.slot(index);
  }

  /** array_of_maps has the generic lookup and update batches (Linux 6.18); no delete batch. */
  override lookupBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions = {}): BatchResult {
    return this.genericLookupBatch(inBatch, count, opts);
  }

  override updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericUpdateBatch(keys, values, opts);
  }

  protected resolve(fd: number): BpfMap | undefined {
    const m = this.opts.resolveFd ? this.opts.resolveFd(fd, this) : mapFromId(this.space, fd);
    if (!(m instanceof BpfMap)) return undefined;
    if (!innerMapMatches(this.spec.innerMap!, m.spec)) {
      throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: inner map does not match the template");
    }
    return m;
  }

  protected idOf(e: BpfMap): number {
    return e.id;
  }
}

/** A cgroup v2 directory as a CGROUP_ARRAY slot holds it: its id (the kernfs inode number) and path. */
export interface CgroupRef {
  readonly cgroupId: number;
  readonly path: string;
}

/** The root cgroup's id (cgroup v2): every task is under it. */
export const ROOT_CGROUP_ID = 1;

/**
 * CGROUP_ARRAY: cgroup directory fds for bpf_current_task_under_cgroup / bpf_skb_under_cgroup. An fd naming anything
 * but a cgroup is EBADF (cgroup_get_from_fd); user space cannot read a slot back (no map_fd_sys_lookup_elem:
 * ENOTSUPP). Slots are mirrored in shared memory as the cgroup id, so worker CPUs see them.
 */
export class CgroupArrayMap extends FdArrayMap<CgroupRef> {
  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.shareSlots();
  }

  override get shareable(): boolean {
    return true;
  }

  /** The id of the cgroup in slot `index`, undefined when empty (or out of range). */
  cgroupIdAt(index: number): number | undefined {
    if (this.opts.attach !== undefined) return this.sharedSlot(index);
    return this.slot(index)?.cgroupId;
  }

  protected override keyOf(e: CgroupRef): number {
    return e.cgroupId;
  }

  protected override refusesLookup(): boolean {
    return true;
  }

  protected resolve(fd: number): CgroupRef | undefined {
    const c = this.opts.resolveFd?.(fd, this) as Partial<CgroupRef> | undefined;
    return c !== undefined && typeof c.cgroupId === "number" && typeof c.path === "string" ? { cgroupId: c.cgroupId, path: c.path } : undefined;
  }

  protected idOf(e: CgroupRef): number {
    return e.cgroupId;
  }
}
