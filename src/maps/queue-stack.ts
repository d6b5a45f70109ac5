// QUEUE (FIFO) and STACK (LIFO) maps (kernel/bpf/queue_stack_maps.c): no keys, values pushed and popped whole.
// A ring of max_entries+1 slots; push into a full map is E2BIG unless BPF_EXIST, which drops the oldest element to
// make room; pop or peek of an empty map is ENOENT and zeroes the caller's buffer.
// Head, tail and the map's lock are words in the address space, so worker CPUs sharing the memory share the ring;
// every operation takes the lock, as the kernel's queue_stack_maps take qs->lock.

import type { AddressSpace, Region } from "../vm/memory.ts";
import { spinLock, spinUnlock } from "./lock.ts";
import { BpfMap, sysError } from "./map.ts";
import type { MapOptions } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_EXIST, BPF_MAP_TYPE_STACK, BPF_NOEXIST, ERRNO, errnoName } from "./types.ts";


// Module-local copy: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const E = ERRNO;
export class QueueStackMap extends BpfMap {
  readonly lifo: boolean;
  private readonly slots: Region;
  private readonly size: number;
  /** Word index of the control block: head, tail, lock. */
  private readonly C: number;

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.lifo = spec.type === BPF_MAP_TYPE_STACK;
    this.size = maxEntries + 1;
    this.C = this.allocRegion(16, "control", false).start >> 2;
    this.slots = this.allocRegion(this.size * this.valueSize, "elements");
  }

  private get head(): number { return this.space.i32[this.C]! >>> 0; }
  private set head(v: number) { this.space.i32[this.C] = v; }
  private get tail(): number { return this.space.i32[this.C + 1]! >>> 0; }
  private set tail(v: number) { this.space.i32[this.C + 1] = v; }

  /** Elements held. */
  get count(): number {
    return (this.head - this.tail + this.size) % this.size;
  }

  private lock(): boolean { return spinLock(this.space, this.C + 2); }
  private unlock(): void { spinUnlock(this.space, this.C + 2); }

  /** User-space commands: the same lock, EBUSY when it cannot be had. */
  private locked<T>(busy: T, f: () => T): T {
    if (!this.lock()) return busy;
    try { return f(); } finally { this.unlock(); }
  }

  override updateElem(): number { return -E.EINVAL; }
  override deleteElem(): number { return -E.EINVAL; }

  override pushElem(valueAddr: number, flags: number): number {
    this.space.assert(valueAddr, this.valueSize, false);
    if (!this.lock()) return -E.EBUSY;
    try { return this.push(null, valueAddr, flags); } finally { this.unlock(); }
  }

  override popElem(valueAddr: number): number {
    this.space.assert(valueAddr, this.valueSize, true);
    if (!this.lock()) return -E.EBUSY;
    try { return this.get(valueAddr, true); } finally { this.unlock(); }
  }

  override peekElem(valueAddr: number): number {
    this.space.assert(valueAddr, this.valueSize, true);
    if (!this.lock()) return -E.EBUSY;
    try { return this.get(valueAddr, false); } finally { this.unlock(); }
  }

  protected override sysLookup(): Uint8Array {
    return this.locked(null, () => this.userGet(false, "BPF_MAP_LOOKUP_ELEM")) ?? busy(this);
  }

  protected override sysUpdate(_keyAddr: number, value: Uint8Array, flags: number): void {
    const r = this.locked(-E.EBUSY, () => this.push(value, 0, flags));
    if (r < 0) throw sysError(errnoName(-r), this, "BPF_MAP_UPDATE_ELEM (push)");
  }

  protected override sysLookupAndDelete(_keyAddr: number, flags: number): Uint8Array {
    if (flags !== 0) throw sysError("EINVAL", this, "BPF_MAP_LOOKUP_AND_DELETE_ELEM (pop) takes no flags");
    return this.locked(null, () => this.userGet(true, "BPF_MAP_LOOKUP_AND_DELETE_ELEM (pop)")) ?? busy(this);
  }

  protected override sysDelete(): void {
    throw sysError("EINVAL", this, "BPF_MAP_DELETE_ELEM");
  }

  protected override sysGetNextKey(): Uint8Array | null {
    throw sysError("EINVAL", this, "BPF_MAP_GET_NEXT_KEY");
  }

  /** queue_stack_map_push_elem. */
  private push(src: Uint8Array | null, srcOff: number, flags: number): number {
    if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -E.EINVAL;
    if ((this.head + 1) % this.size === this.tail) {
      if (!(flags & BPF_EXIST)) return -E.E2BIG;
      this.tail = (this.tail + 1) % this.size; // overwrite the oldest
    }
    const dst = this.slots.start + this.head * this.valueSize;
    if (src === null) this.space.u8.copyWithin(dst, srcOff, srcOff + this.valueSize);
    else this.space.u8.set(src.subarray(srcOff, srcOff + this.valueSize), dst);
    this.head = (this.head + 1) % this.size;
    return 0;
  }

  /** __queue_map_get / __stack_map_get into the space at dst. */
  private get(dst: number, remove: boolean): number {
    const u8 = this.space.u8, vs = this.valueSize;
    if (this.head === this.tail) {
      u8.fill(0, dst, dst + vs);
      return -E.ENOENT;
    }
    let index: number;
    if (this.lifo) {
      index = this.head === 0 ? this.size - 1 : this.head - 1;
      if (remove) this.head = index;
    } else {
      index = this.tail;
      if (remove) this.tail = (this.tail + 1) % this.size;
    }
    const src = this.slots.start + index * vs;
    u8.copyWithin(dst, src, src + vs);
    return 0;
  }

  private userGet(remove: boolean, cmd: string): Uint8Array {
    if (this.head === this.tail) throw sysError("ENOENT", this, `${cmd}: empty`);
    const index = this.lifo ? (this.head === 0 ? this.size - 1 : this.head - 1) : this.tail;
    const out = this.bytesAt(this.slots.start + index * this.valueSize, this.valueSize);
    if (remove) {
      if (this.lifo) this.head = index; else this.tail = (this.tail + 1) % this.size;
    }
    return out;
  }
}

function busy(m: BpfMap): never {
  throw sysError("EBUSY", m, "queue/stack lock held");
}
