// BpfMap: what every map type shares. Program-side operations take addresses in the AddressSpace and return what the
// kernel's helpers return (an address, 0, or a negative errno); user-space operations take Uint8Arrays and throw a
// BpfError whose code is the errno BPF_MAP_* syscalls fail with (syscall.c: permission, flag and key checks first,
// then the type's own map ops). Types override only the operations the kernel gives them; the rest fail as Linux does.

import { BpfError } from "../errors.ts";
import type { BpfErrorCode } from "../errors.ts";
import type { AddressSpace, Region, RegionKind } from "../vm/memory.ts";
import { allocateMapId, registerMap, unregisterMap } from "./registry.ts";
import { isPerCpu, roundUp8 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_F_LOCK, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, ERRNO, mapTypeName } from "./types.ts";

export interface MapOptions {
  /** CPUs the map keeps per-CPU values and LRU lists for (default 1). */
  readonly nCpus?: number;
  /** Hash seed when BPF_F_ZERO_SEED is not set (the kernel draws a random one). */
  readonly seed?: number;
  /** The CPU user-space calls run on (affects LRU lists); default 0. */
  readonly userCpu?: number;
  /**
   * Turns the u32 "fd" in a user-space update of an fd map (prog_array, map-in-map, perf_event_array) into the object:
   * a BpfMap, a program, or a perf buffer. Without it, map-in-map updates take map ids in this space.
   */
  readonly resolveFd?: (fd: number, map: BpfMap) => unknown;
  /**
   * Rebuild a view of a map another thread created in this (shared) memory instead of creating one: the map's state
   * is already in the memory, so nothing is allocated or initialised. What `BpfMap.image()` returned there.
   */
  readonly attach?: MapImage;
}

/** What another thread sharing the memory needs to rebuild a view of a map (structured-clone safe). */
export interface MapImage {
  readonly spec: MapSpec;
  readonly maxEntries: number;
  readonly nCpus: number;
  readonly id: number;
  /** The map handle's address. */
  readonly address: number;
  /** Start of each region the map's constructor mapped, in order. */
  readonly regions: readonly number[];
  /** Hash seed (types that hash). */
  readonly seed?: number;
}

/** A map's identity and shape, as bpftool's `map show` lists it. */
export interface MapInfo {
  readonly id: number;
  readonly type: number;
  /** As bpftool prints it ("hash", "percpu_array"). */
  readonly typeName: string;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly frozen: boolean;
}

/** A batch call's answer, as BPF_MAP_*_BATCH writes it back. */
export interface BatchResult {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
  /** attr.batch.count as the kernel writes it back. */
  readonly count: number;
  /** The resume token (attr.batch.out_batch): the last key for generic batches, a u32 bucket index for hash maps. */
  readonly outBatch: Uint8Array | null;
  /** The kernel returned ENOENT: the whole map has been walked. */
  readonly done: boolean;
}

export interface BatchOptions {
  readonly elemFlags?: number;
  readonly flags?: number;
}

/** A user-space error: the errno name as code, the syscall and map in the message. */
export function sysError(code: BpfErrorCode | "EAGAIN", map: BpfMap | undefined, what: string): BpfError {
  const where = map === undefined ? "" : ` on map ${map.id}${map.name ? ` '${map.name}'` : ""} (${mapTypeName(map.type)})`;
  return new BpfError(code as BpfErrorCode, `${what}${where}: ${code}`);
}

export abstract class BpfMap {
  readonly space: AddressSpace;
  readonly spec: MapSpec;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** As the kernel stores it (LRU per-CPU lists round it up to a multiple of nCpus). */
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly nCpus: number;
  readonly id: number;
  /** The map pointer a program holds. */
  readonly address: number;
  /** Bytes one value occupies in memory (value_size rounded up to 8, as elements and per-CPU copies are laid out). */
  readonly valueStride: number;
  /** Bytes of a user-space value: value_size, or value_size rounded to 8 × nCpus for per-CPU maps. */
  readonly userValueSize: number;
  protected readonly opts: MapOptions;
  protected readonly userCpu: number;
  protected readonly lockOffset: number;
  /** Set by freeze(): user-space writes fail with EPERM (BPF_MAP_FREEZE). */
  frozen = false;
  private readonly handle: Region;
  private scratch: Region | undefined;
  private readonly regions: Region[] = [];
  /** Regions shared with other threads (mapped by the constructor); the rest are this thread's own scratch. */
  private readonly sharedRegions: Region[] = [];
  /** A view of a map another thread created: its state is live in the memory and must not be initialised again. */
  protected readonly attached: boolean;
  private attachNext = 0;

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    this.space = space;
    this.spec = spec;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = maxEntries;
    this.flags = spec.flags ?? 0;
    this.name = spec.name ?? "";
    this.nCpus = opts.nCpus ?? 1;
    this.opts = opts;
    this.userCpu = opts.userCpu ?? 0;
    this.lockOffset = spec.spinLockOffset ?? -1;
    this.valueStride = roundUp8(spec.valueSize);
    this.userValueSize = isPerCpu(spec.type) ? this.valueStride * this.nCpus : spec.valueSize;
    this.attached = opts.attach !== undefined;
    if (opts.attach !== undefined) {
      this.id = opts.attach.id;
      this.handle = this.attachedRegion(opts.attach.address);
      this.address = this.handle.start;
      registerMap(space, this);
      return;
    }
    this.id = allocateMapId(space);
    // The handle mirrors the head of struct bpf_map_info: type, id, key_size, value_size, max_entries, map_flags.
    this.handle = space.alloc(32, { kind: "map_value", name: `map ${this.name || this.id}`, writable: false });
    this.address = this.handle.start;
    const dv = space.dv, a = this.address;
    dv.setUint32(a, this.type, true);
    dv.setUint32(a + 4, this.id, true);
    dv.setUint32(a + 8, this.keySize, true);
    dv.setUint32(a + 12, this.valueSize, true);
    dv.setUint32(a + 16, this.maxEntries, true);
    dv.setUint32(a + 20, this.flags, true);
    registerMap(space, this);
  }

  /**
   * All of the map's state lives in the address space, so views of it in other threads sharing the memory (worker
   * CPUs, `MapOptions.attach`) see one map. Types that still keep state in JS answer false.
   */
  get shareable(): boolean {
    return false;
  }

  /** Programs may write the values (not with BPF_F_RDONLY_PROG, e.g. .rodata: the kernel's verifier refuses such stores). */
  get programWritable(): boolean {
    return (this.flags & BPF_F_RDONLY_PROG) === 0;
  }

  /**
   * Maps a region owned by this map (released with it). Regions the constructor maps hold the map's shared state;
   * `perThread` ones (scratch a thread writes for itself) are never shared. An attached view gets the creator's region.
   */
  protected allocRegion(size: number, name: string, writable = true, kind: RegionKind = "map_value", perThread = false): Region {
    if (this.attached && !perThread) {
      const img = this.opts.attach!;
      const r = this.attachedRegion(img.regions[this.attachNext++] ?? -1);
      if (r.size !== size) throw new BpfError("EINVAL", `map ${this.id}: region ${name} is ${r.size} bytes here, ${size} in the image`);
      return r;
    }
    const r = this.space.alloc(size, { kind, name: `${this.name || "map " + this.id} ${name}`, writable });
    this.regions.push(r);
    if (!perThread) this.sharedRegions.push(r);
    return r;
  }

  private attachedRegion(start: number): Region {
    const r = this.space.find(start);
    if (r === undefined || r.start !== start) {
      throw new BpfError("EINVAL", `map ${this.id}: no region at 0x${start.toString(16)} in this address space (layout not synced)`);
    }
    return r;
  }

  /** What another thread needs to attach a view of this map (`MapOptions.attach`) in the same shared memory. */
  image(): MapImage {
    return {
      spec: this.spec, maxEntries: this.maxEntries, nCpus: this.nCpus, id: this.id, address: this.address,
      regions: this.sharedRegions.map((r) => r.start),
    };
  }

  /** What BPF_OBJ_GET_INFO_BY_FD reports for a map (struct bpf_map_info's main fields), for listings. */
  info(): MapInfo {
    return {
      id: this.id, type: this.type, typeName: mapTypeName(this.type), name: this.name, keySize: this.keySize,
      valueSize: this.valueSize, maxEntries: this.maxEntries, flags: this.flags, frozen: this.frozen,
    };
  }

  /** Unmaps everything the map owns; its handle stops resolving. */
  free(): void {
    unregisterMap(this.space, this);
    if (this.attached) return; // the creator owns the memory
    for (const r of this.regions) this.space.release(r);
    if (this.scratch) this.space.release(this.scratch);
    this.space.release(this.handle);
    this.regions.length = 0;
  }

  // ---------------------------------------------------------------- program side (helpers)

  /** bpf_map_lookup_elem: the value's address (this CPU's copy for per-CPU maps), 0 when absent. */
  lookupElem(_keyAddr: number, _cpu: number): number { return 0; }
  /** bpf_map_update_elem. */
  updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu: number): number { return -ERRNO.ENOTSUPP; }
  /** bpf_map_delete_elem. */
  deleteElem(_keyAddr: number, _cpu: number): number { return -ERRNO.ENOTSUPP; }
  /** bpf_map_push_elem (queue, stack, bloom filter add). */
  pushElem(_valueAddr: number, _flags: number, _cpu?: number): number { return -ERRNO.ENOTSUPP; }
  /** bpf_map_pop_elem. */
  popElem(_valueAddr: number, _cpu?: number): number { return -ERRNO.ENOTSUPP; }
  /** bpf_map_peek_elem (bloom filter: membership test). */
  peekElem(_valueAddr: number, _cpu?: number): number { return -ERRNO.ENOTSUPP; }
  /** bpf_for_each_map_elem: calls `cb(keyAddr, valueAddr)` until it returns non-zero; returns the elements visited. */
  forEachElem(_cb: (keyAddr: number, valueAddr: number) => number, _cpu = 0): number { return -ERRNO.ENOTSUPP; }
  /** Alias of forEachElem, the name the helpers' ProgramMap uses. */
  forEach(cb: (keyAddr: number, valueAddr: number) => number, cpu = 0): number { return this.forEachElem(cb, cpu); }

  // ---------------------------------------------------------------- user space (bpf() syscall commands)

  /** BPF_MAP_LOOKUP_ELEM. Per-CPU maps: every CPU's value, each rounded up to 8 bytes. Bloom filters test `value`. */
  lookup(key: Uint8Array | null, flags = 0, value?: Uint8Array): Uint8Array {
    this.needRead("BPF_MAP_LOOKUP_ELEM");
    this.checkElemFlags(flags, "BPF_MAP_LOOKUP_ELEM");
    return this.sysLookup(this.keyIn(key, "BPF_MAP_LOOKUP_ELEM"), flags, value);
  }

  /** BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST, | BPF_F_LOCK for values with a spin lock. */
  update(key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    this.needWrite("BPF_MAP_UPDATE_ELEM");
    if ((flags & BPF_F_LOCK) && this.lockOffset < 0) throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM with BPF_F_LOCK (no bpf_spin_lock)");
    const k = this.keyIn(key, "BPF_MAP_UPDATE_ELEM");
    this.valueIn(value, "BPF_MAP_UPDATE_ELEM");
    this.sysUpdate(k, value, flags);
  }

  /** BPF_MAP_DELETE_ELEM. */
  delete(key: Uint8Array | null): void {
    this.needWrite("BPF_MAP_DELETE_ELEM");
    this.sysDelete(this.keyIn(key, "BPF_MAP_DELETE_ELEM"));
  }

  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first for null); null at the end (ENOENT). */
  getNextKey(key: Uint8Array | null): Uint8Array | null {
    this.needRead("BPF_MAP_GET_NEXT_KEY");
    const k = key === null ? 0 : this.keyIn(key, "BPF_MAP_GET_NEXT_KEY");
    return this.sysGetNextKey(key === null ? -1 : k);
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM (pop for queue and stack maps). */
  lookupAndDelete(key: Uint8Array | null, flags = 0): Uint8Array {
    this.needRead("BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    this.needWrite("BPF_MAP_LOOKUP_AND_DELETE_ELEM");
    return this.sysLookupAndDelete(this.keyIn(key, "BPF_MAP_LOOKUP_AND_DELETE_ELEM"), flags);
  }

  /** BPF_MAP_FREEZE: from now on user space cannot write (programs still can). */
  freeze(): void {
    if (this.frozen) throw sysError("EBUSY", this, "BPF_MAP_FREEZE");
    this.frozen = true;
  }

  /** BPF_MAP_LOOKUP_BATCH: up to `count` elements after `inBatch` (null: from the start). */
  lookupBatch(_inBatch: Uint8Array | null, _count: number, _opts: BatchOptions = {}): BatchResult {
    throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_BATCH");
  }
  /** BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
  lookupAndDeleteBatch(_inBatch: Uint8Array | null, _count: number, _opts: BatchOptions = {}): BatchResult {
    throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_AND_DELETE_BATCH");
  }
  /** BPF_MAP_UPDATE_BATCH: returns the count updated; a failing element throws. */
  updateBatch(_keys: readonly Uint8Array[], _values: readonly Uint8Array[], _opts: BatchOptions = {}): number {
    throw sysError("ENOTSUPP", this, "BPF_MAP_UPDATE_BATCH");
  }
  /** BPF_MAP_DELETE_BATCH: returns the count deleted; a failing element throws. */
  deleteBatch(_keys: readonly Uint8Array[], _opts: BatchOptions = {}): number {
    throw sysError("ENOTSUPP", this, "BPF_MAP_DELETE_BATCH");
  }

  // ---------------------------------------------------------------- per-type hooks (key already in memory at keyAddr)

  protected sysLookup(_keyAddr: number, _flags: number, _value?: Uint8Array): Uint8Array {
    throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_ELEM");
  }
  protected sysUpdate(_keyAddr: number, _value: Uint8Array, _flags: number): void {
    throw sysError("ENOTSUPP", this, "BPF_MAP_UPDATE_ELEM");
  }
  protected sysDelete(_keyAddr: number): void {
    throw sysError("ENOTSUPP", this, "BPF_MAP_DELETE_ELEM");
  }
  /** keyAddr is -1 for a null key. */
  protected sysGetNextKey(_keyAddr: number): Uint8Array | null {
    throw sysError("ENOTSUPP", this, "BPF_MAP_GET_NEXT_KEY");
  }
  protected sysLookupAndDelete(_keyAddr: number, _flags: number): Uint8Array {
    throw sysError("ENOTSUPP", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM");
  }

  // ---------------------------------------------------------------- shared plumbing

  protected needRead(cmd: string): void {
    if (this.flags & BPF_F_WRONLY) throw sysError("EPERM", this, `${cmd} (map is BPF_F_WRONLY)`);
  }
  protected needWrite(cmd: string): void {
    if (this.flags & BPF_F_RDONLY) throw sysError("EPERM", this, `${cmd} (map is BPF_F_RDONLY)`);
    if (this.frozen) throw sysError("EPERM", this, `${cmd} (map is frozen)`);
  }
  /** syscall.c: lookups take only BPF_F_LOCK, and that only for values holding a bpf_spin_lock. */
  protected checkElemFlags(flags: number, cmd: string): void {
    if (flags & ~BPF_F_LOCK) throw sysError("EINVAL", this, `${cmd} flags 0x${flags.toString(16)}`);
    if ((flags & BPF_F_LOCK) && this.lockOffset < 0) throw sysError("EINVAL", this, `${cmd} with BPF_F_LOCK (no bpf_spin_lock)`);
  }

  /** Copies a user key into this map's scratch region (as the kernel copies it into kernel memory); its address. */
  protected keyIn(key: Uint8Array | null, cmd: string): number {
    if (this.keySize === 0) {
      if (key !== null && key.length !== 0) throw sysError("EINVAL", this, `${cmd}: this map takes no key`);
      return 0;
    }
    if (key === null) throw sysError("EINVAL", this, `${cmd}: key required`);
    if (key.length !== this.keySize) {
      throw new BpfError("EINVAL", `${cmd} on map ${this.id}: key is ${key.length} bytes, key_size is ${this.keySize}`);
    }
    const s = this.scratchRegion();
    this.space.u8.set(key, s.start);
    return s.start;
  }

  protected valueIn(value: Uint8Array, cmd: string): void {
    if (value.length !== this.userValueSize) {
      throw new BpfError("EINVAL", `${cmd} on map ${this.id}: value is ${value.length} bytes, expected ${this.userValueSize}`);
    }
  }

  /** A second scratch key slot, for get_next_key answers computed in memory. */
  protected scratchKey2(): number {
    return this.scratchRegion().start + roundUp8(this.keySize);
  }

  private scratchRegion(): Region {
    if (this.scratch === undefined) {
      this.scratch = this.space.alloc(2 * roundUp8(Math.max(this.keySize, 8)), { kind: "map_key", name: `map ${this.id} key` });
    }
    return this.scratch;
  }

  /** Bytes [addr, addr+len) of the space, copied out. */
  protected bytesAt(addr: number, len: number): Uint8Array {
    return this.space.u8.slice(addr, addr + len);
  }

  /**
   * copy_map_value: value_size bytes (n = the 8-byte stride for copy_map_value_long, which per-CPU values use from
   * user space), leaving a bpf_spin_lock word alone. `src` is a user buffer, or null for the space itself (a
   * program's value at srcOff).
   */
  protected copyValueIn(dst: number, src: Uint8Array | null, srcOff: number, n = this.valueSize): void {
    // Read u8 now: mapping an element may have grown the memory, which detaches older views.
    const u8 = this.space.u8, lock = this.lockOffset;
    if (lock < 0) {
      if (src === null) copyBytes(u8, dst, srcOff, n);
      else u8.set(src.subarray(srcOff, srcOff + n), dst);
      return;
    }
    for (const [a, b] of [[0, lock], [lock + 4, n]] as const) {
      if (b <= a) continue;
      if (src === null) u8.copyWithin(dst + a, srcOff + a, srcOff + b);
      else u8.set(src.subarray(srcOff + a, srcOff + b), dst + a);
    }
  }

  /** A value as user space sees it: copied out with the spin lock word zeroed (check_and_init_map_value). */
  protected valueOut(addr: number, out: Uint8Array, outOff: number): void {
    out.set(this.space.u8.subarray(addr, addr + this.valueSize), outOff);
    if (this.lockOffset >= 0) out.fill(0, outOff + this.lockOffset, outOff + this.lockOffset + 4);
  }

  /** The generic batch lookup (kernel generic_map_lookup_batch) over get_next_key and lookup; out_batch is the last key. */
  protected genericLookupBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions): BatchResult {
    this.needRead("BPF_MAP_LOOKUP_BATCH");
    this.checkBatchFlags(opts, "BPF_MAP_LOOKUP_BATCH");
    this.checkBatchCount(count, "BPF_MAP_LOOKUP_BATCH");
    const keys: Uint8Array[] = [], values: Uint8Array[] = [];
    if (count === 0) return { keys, values, count: 0, outBatch: null, done: false };
    let prev: Uint8Array | null = inBatch;
    let done = false;
    while (keys.length < count) {
      const next = this.getNextKeyUnchecked(prev);
      if (next === null) { done = true; break; }
      let v: Uint8Array;
      try {
        v = this.sysLookup(this.keyIn(next, "BPF_MAP_LOOKUP_BATCH"), opts.elemFlags ?? 0);
      } catch (e) {
        if (e instanceof BpfError && e.code === "ENOENT") { prev = next; continue; }
        throw e;
      }
      keys.push(next);
      values.push(v);
      prev = next;
    }
    return { keys, values, count: keys.length, outBatch: keys.length ? keys[keys.length - 1]!.slice() : null, done };
  }

  private getNextKeyUnchecked(key: Uint8Array | null): Uint8Array | null {
    return this.sysGetNextKey(key === null ? -1 : this.keyIn(key, "BPF_MAP_LOOKUP_BATCH"));
  }

  /** generic_map_update_batch. */
  protected genericUpdateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchOptions): number {
    this.checkBatchFlags(opts, "BPF_MAP_UPDATE_BATCH");
    if (keys.length !== values.length) throw sysError("EINVAL", this, "BPF_MAP_UPDATE_BATCH: keys and values differ in count");
    let n = 0;
    for (; n < keys.length; n++) {
      try {
        this.update(keys[n]!, values[n]!, opts.elemFlags ?? 0);
      } catch (e) {
        throw batchStop(e, n);
      }
    }
    return n;
  }

  /** generic_map_delete_batch. */
  protected genericDeleteBatch(keys: readonly Uint8Array[], opts: BatchOptions): number {
    this.checkBatchFlags(opts, "BPF_MAP_DELETE_BATCH");
    let n = 0;
    for (; n < keys.length; n++) {
      try {
        this.delete(keys[n]!);
      } catch (e) {
        throw batchStop(e, n);
      }
    }
    return n;
  }

  /** attr.batch.count is a u32. */
  protected checkBatchCount(count: number, cmd: string): void {
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) throw sysError("EINVAL", this, `${cmd}: count ${count}`);
  }

  protected checkBatchFlags(opts: BatchOptions, cmd: string): void {
    const ef = opts.elemFlags ?? 0;
    if ((opts.flags ?? 0) !== 0) throw sysError("EINVAL", this, `${cmd} flags`);
    this.checkElemFlags(ef, cmd);
  }
}

/** A batch stopped at element `n`: the element's error, with the count done so far (attr.batch.count). */
function batchStop(e: unknown, n: number): unknown {
  if (e instanceof BpfError) {
    const err = new BpfError(e.code, `${e.message} (batch stopped after ${n} elements)`);
    (err as BpfError & { count?: number }).count = n;
    return err;
  }
  return e;
}

/** memmove within one buffer; a plain loop for short copies, where copyWithin's call costs more than the bytes. */
export function copyBytes(u8: Uint8Array, dst: number, src: number, n: number): void {
  if (n > 64 || (dst > src && dst < src + n)) { u8.copyWithin(dst, src, src + n); return; }
  for (let k = 0; k < n; k++) u8[dst + k] = u8[src + k]!;
}
