// ARRAY and PERCPU_ARRAY (kernel/bpf/arraymap.c): max_entries values of value_size rounded up to 8, preallocated and
// zeroed, indexed by a u32 key. Every element always exists: delete is EINVAL, BPF_NOEXIST is EEXIST, an index past
// the end is E2BIG on update and ENOENT on lookup. The values lie contiguously, so a BPF_F_MMAPABLE array (global data,
// .bss/.data/.rodata) is one region.

import type { AddressSpace, Region } from "../vm/memory.ts";
import { BpfMap, sysError } from "./map.ts";
import type { BatchOptions, BatchResult, MapOptions } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_EXIST, BPF_F_LOCK, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_NOEXIST, ERRNO, readU32, u32Bytes } from "./types.ts";


// Module-local copy: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
export class ArrayMap extends BpfMap {
  readonly percpu: boolean;
  /** The values, index-major (per-CPU: each index holds nCpus copies of valueStride bytes). */
  readonly values: Region;
  private readonly elemSize: number;
  private keyBox: Region | undefined;

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.percpu = spec.type === BPF_MAP_TYPE_PERCPU_ARRAY;
    this.elemSize = this.percpu ? this.valueStride * this.nCpus : this.valueStride;
    this.values = this.allocRegion(this.elemSize * maxEntries, "values", this.programWritable);
  }

  /** Address of element `index` (CPU `cpu`'s copy for per-CPU arrays). */
  valueAddress(index: number, cpu = 0): number {
    return this.values.start + index * this.elemSize + (this.percpu ? cpu * this.valueStride : 0);
  }

  override lookupElem(keyAddr: number, cpu: number): number {
    const sp = this.space;
    sp.assert(keyAddr, 4, false);
    const u8 = sp.u8;
    const index = (u8[keyAddr]! | (u8[keyAddr + 1]! << 8) | (u8[keyAddr + 2]! << 16) | (u8[keyAddr + 3]! << 24)) >>> 0;
    if (index >= this.maxEntries) return 0;
    if (this.percpu) return cpu >= 0 && cpu < this.nCpus ? this.values.start + index * this.elemSize + cpu * this.valueStride : 0;
    return this.values.start + index * this.elemSize;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const sp = this.space;
    sp.assert(keyAddr, 4, false);
    sp.assert(valueAddr, this.valueSize, false);
    return this.write(readU32(sp.u8, keyAddr), null, valueAddr, flags, cpu, false);
  }

  override deleteElem(): number {
    return -E.EINVAL;
  }

  override forEachElem(cb: (keyAddr: number, valueAddr: number) => number, cpu = 0): number {
    if (this.keyBox === undefined) this.keyBox = this.allocRegion(8, "for_each key", false, "map_value", true);
    const k = this.keyBox.start;
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) {
      this.space.dv.setUint32(k, i, true);
      n++;
      if (cb(k, this.valueAddress(i, cpu)) !== 0) break;
    }
    return n;
  }

  protected override sysLookup(keyAddr: number): Uint8Array {
    const index = readU32(this.space.u8, keyAddr);
    if (index >= this.maxEntries) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    if (this.percpu) return this.bytesAt(this.valueAddress(index), this.userValueSize);
    const out = new Uint8Array(this.valueSize);
    this.valueOut(this.valueAddress(index), out, 0);
    return out;
  }

  protected override sysUpdate(keyAddr: number, value: Uint8Array, flags: number): void {
    const r = this.write(readU32(this.space.u8, keyAddr), value, 0, flags, this.userCpu, true);
    if (r === -E.EINVAL) throw sysError("EINVAL", this, `BPF_MAP_UPDATE_ELEM flags 0x${flags.toString(16)}`);
    if (r === -E.E2BIG) throw sysError("E2BIG", this, "BPF_MAP_UPDATE_ELEM: index past max_entries");
    if (r === -E.EEXIST) throw sysError("EEXIST", this, "BPF_MAP_UPDATE_ELEM with BPF_NOEXIST: array elements always exist");
  }

  protected override sysDelete(): void {
    throw sysError("EINVAL", this, "BPF_MAP_DELETE_ELEM: array elements cannot be deleted");
  }

  protected override sysGetNextKey(keyAddr: number): Uint8Array | null {
    return arrayNextKey(keyAddr < 0 ? 0xffffffff : readU32(this.space.u8, keyAddr), this.maxEntries);
  }

  override lookupBatch(inBatch: Uint8Array | null, count: number, opts: BatchOptions = {}): BatchResult {
    return this.genericLookupBatch(inBatch, count, opts);
  }

  override updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchOptions = {}): number {
    return this.genericUpdateBatch(keys, values, opts);
  }

  /** array_map_update_elem / bpf_percpu_array_update. */
  private write(index: number, src: Uint8Array | null, srcOff: number, flags: number, cpu: number, allCpus: boolean): number {
    if (this.percpu && allCpus ? flags > BPF_EXIST : (flags & ~BPF_F_LOCK) > BPF_EXIST) return -E.EINVAL;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (flags & BPF_NOEXIST) return -E.EEXIST;
    if ((flags & BPF_F_LOCK) && this.lockOffset < 0) return -E.EINVAL;
    if (!this.percpu) {
      this.copyValueIn(this.valueAddress(index), src, srcOff);
    } else if (allCpus) {
      // copy_map_value_long: user space writes each CPU's whole 8-byte-rounded slot.
      for (let c = 0; c < this.nCpus; c++) {
        this.copyValueIn(this.valueAddress(index, c), src, srcOff + c * this.valueStride, this.valueStride);
      }
    } else if (cpu >= 0 && cpu < this.nCpus) {
      this.copyValueIn(this.valueAddress(index, cpu), src, srcOff);
    }
    return 0;
  }
}

/** array_map_get_next_key: index+1, 0 for a missing or out-of-range key, ENOENT after the last. */
export function arrayNextKey(index: number, maxEntries: number): Uint8Array | null {
  if (index >= maxEntries) return u32Bytes(0);
  if (index === maxEntries - 1) return null;
  return u32Bytes(index + 1);
}
