// The one address space every eBPF program sees: stack frames, contexts, packets, map keys/values, global data and
// ring buffers are regions of a single WebAssembly.Memory. A register pointer is a byte address into it.
// Address 0 and the first 64 KiB are never mapped, and regions are separated by unmapped guard gaps, so every access
// can be checked against exactly the region it falls in. The interpreter, the wasm JIT and worker "CPUs" share this model.

import { BpfError } from "../errors.ts";

export type RegionKind =
  | "stack" | "ctx" | "packet" | "map_key" | "map_value" | "global" | "ringbuf" | "scratch" | "helper" | "code";

export interface Region {
  readonly id: number;
  readonly start: number;
  readonly size: number;
  readonly kind: RegionKind;
  readonly name: string;
  /** Programs may write here (ctx and .rodata are read-only; packets depend on the program type). */
  writable: boolean;
}

export interface AllocOptions {
  readonly kind: RegionKind;
  readonly name?: string;
  readonly writable?: boolean;
  /** Alignment of the start address, a power of two (default 8). */
  readonly align?: number;
  /** Leave the bytes as they are instead of zeroing them. */
  readonly noZero?: boolean;
}

export interface AddressSpaceOptions {
  /** Initial size in 64 KiB wasm pages (default 16 = 1 MiB). */
  readonly initialPages?: number;
  /** Maximum size in pages (default 16384 = 1 GiB). */
  readonly maximumPages?: number;
  /** Back the space with shared memory so worker threads can act as CPUs. */
  readonly shared?: boolean;
  /**
   * Attach to memory another thread created (a worker CPU): regions it mapped arrive through `applyLayout`, and this
   * space allocates only inside `arena`, a range the owner reserved for it, so two threads never hand out one address.
   */
  readonly memory?: WebAssembly.Memory;
  readonly arena?: { readonly start: number; readonly size: number };
}

/** A region as another thread sharing the memory learns it. */
export interface RegionRecord {
  readonly id: number;
  readonly start: number;
  readonly size: number;
  readonly kind: RegionKind;
  readonly name: string;
  readonly writable: boolean;
}

/** One change of the layout, in the order it happened: a region mapped, or the start of a region unmapped. */
export type LayoutOp = { readonly map: RegionRecord; readonly unmap?: undefined } | { readonly unmap: number; readonly map?: undefined };

const PAGE = 65536;
/** Lowest mapped address: the first wasm page stays a hole, so null and small integers never dereference. */
export const FIRST_MAPPED = PAGE;
/** Unmapped bytes kept after every region, so an off-by-one lands in no region at all. */
export const GUARD = 16;

/**
 * A sparse set of regions over one WebAssembly.Memory.
 * `u8`/`dv` are re-created when the memory grows; `generation` changes then, so hot loops can cache views and
 * re-read them only when it moved.
 */
export class AddressSpace {
  readonly memory: WebAssembly.Memory;
  u8: Uint8Array;
  dv: DataView;
  /** The same bytes as 32-bit words (index = address / 4), for Atomics and map bookkeeping kept in the space. */
  i32: Int32Array;
  /** Backed by a SharedArrayBuffer: worker CPUs may run on it, and atomic instructions are real atomics. */
  readonly shared: boolean;
  generation = 0;
  /** Changes whenever a region is mapped or unmapped, so callers caching region bounds know when to drop them. */
  layoutVersion = 0;

  // Sorted by start; parallel arrays so lookups allocate nothing.
  private starts: number[] = [];
  private ends: number[] = [];
  private regionsSorted: Region[] = [];
  private nextId = 1;
  private free_: { start: number; size: number }[] = [];
  private top = FIRST_MAPPED;
  private lastHit = -1;
  /** Addresses at or above this were never handed out, so they are still zero (memory grows zeroed). */
  private fresh = FIRST_MAPPED;
  /** End of the arena an attached space allocates in (Infinity: the owner, which grows the memory). */
  private readonly limit: number = Infinity;
  private readonly arenaStart: number = Infinity;
  private journal_: LayoutOp[] | undefined;

  constructor(opts: AddressSpaceOptions = {}) {
    const initial = opts.initialPages ?? 16;
    const maximum = opts.maximumPages ?? 16384;
    this.memory = opts.memory ?? new WebAssembly.Memory({ initial, maximum, shared: opts.shared ?? false } as WebAssembly.MemoryDescriptor);
    this.shared = typeof SharedArrayBuffer !== "undefined" && this.memory.buffer instanceof SharedArrayBuffer;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    if (opts.arena !== undefined) {
      this.top = this.fresh = this.arenaStart = opts.arena.start;
      this.limit = opts.arena.start + opts.arena.size;
      this.nextId = 0x40000000; // ids of regions only this thread knows
    }
  }

  /**
   * Records every region mapped or unmapped from now on (the owner of a shared space does, so worker CPUs can
   * replay the layout with applyLayout). Returns the live record; callers take what they have not sent yet.
   */
  journal(): LayoutOp[] {
    this.journal_ ??= this.regionsSorted.map((r) => ({ map: record(r) }));
    return this.journal_;
  }

  /** Replays another thread's layout changes: its regions become checkable here (never allocated here). */
  applyLayout(ops: readonly LayoutOp[]): void {
    for (const op of ops) {
      if (op.map !== undefined) {
        const r = op.map;
        // the owner's record of this thread's own arena: what lies inside it is this thread's to know
        if (this.indexOf(r.start) >= 0 || (r.start >= this.arenaStart && r.start < this.limit)) continue;
        this.insertSorted({ id: r.id, start: r.start, size: r.size, kind: r.kind, name: r.name, writable: r.writable });
      } else {
        const i = this.indexOf(op.unmap);
        if (i < 0) continue;
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
        this.regionsSorted.splice(i, 1);
        this.lastHit = -1;
      }
    }
    this.layoutVersion++;
    this.refresh();
  }

  /** Re-reads the memory's size after another thread grew it (shared memory never detaches old views). */
  refresh(): void {
    if (this.memory.buffer.byteLength === this.u8.length) return;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.generation++;
  }

  /** Map a new zeroed region of `size` bytes. Throws ENOMEM when the memory cannot grow. */
  alloc(size: number, opts: AllocOptions): Region {
    if (!Number.isInteger(size) || size < 0) throw new BpfError("EINVAL", `invalid region size ${size}`);
    const align = opts.align ?? 8;
    const need = Math.max(size, 1);
    let start = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const f = this.free_[i]!;
      const s = alignUp(f.start, align);
      if (s + need + GUARD <= f.start + f.size) {
        start = s;
        const used = s + need + GUARD - f.start;
        if (used === f.size) this.free_.splice(i, 1);
        else if (s === f.start) { f.start += used; f.size -= used; }
        else {
          // keep the head gap as a free block too
          const tail = { start: s + need + GUARD, size: f.start + f.size - (s + need + GUARD) };
          f.size = s - f.start;
          if (tail.size > 0) this.free_.splice(i + 1, 0, tail);
        }
        break;
      }
    }
    if (start < 0) {
      start = alignUp(this.top, align);
      const end = start + need + GUARD;
      if (end > this.limit) throw new BpfError("ENOMEM", `arena [0x${(this.limit - 1).toString(16)}] cannot hold ${size} more bytes`);
      this.ensure(end);
      this.top = end;
    }
    const region: Region = {
      id: this.nextId++, start, size, kind: opts.kind, name: opts.name ?? opts.kind, writable: opts.writable ?? true,
    };
    // Memory never handed out is still zero: leaving it untouched keeps a large, sparsely used region (a map sized
    // by max_entries) from costing pages until they are used.
    if (!opts.noZero && start < this.fresh) this.u8.fill(0, start, Math.min(start + need, this.fresh));
    if (start + need + GUARD > this.fresh) this.fresh = start + need + GUARD;
    this.insertSorted(region);
    this.layoutVersion++;
    this.journal_?.push({ map: record(region) });
    return region;
  }

  /** Unmap a region; its addresses fault from now on. */
  release(region: Region): void {
    const i = this.indexOf(region.start);
    if (i < 0 || this.regionsSorted[i] !== region) return;
    this.starts.splice(i, 1);
    this.ends.splice(i, 1);
    this.regionsSorted.splice(i, 1);
    this.lastHit = -1;
    this.layoutVersion++;
    this.journal_?.push({ unmap: region.start });
    this.free_.push({ start: region.start, size: Math.max(region.size, 1) + GUARD });
    this.free_.sort((a, b) => a.start - b.start);
    // coalesce neighbours
    for (let i = 0; i + 1 < this.free_.length; ) {
      const a = this.free_[i]!, b = this.free_[i + 1]!;
      if (a.start + a.size === b.start) { a.size += b.size; this.free_.splice(i + 1, 1); } else i++;
    }
  }

  /** The region containing `addr`, if any. */
  find(addr: number): Region | undefined {
    const i = this.lookup(addr);
    return i < 0 ? undefined : this.regionsSorted[i];
  }

  /**
   * True when [addr, addr+size) lies inside one mapped region and, for writes, that region is writable.
   * `addr` must already be known to fit in 32 bits (callers check the high half of a 64-bit pointer).
   */
  check(addr: number, size: number, write: boolean): boolean {
    // sizes and addresses are whole 32-bit numbers: NaN, fractions, negatives and 2^32+ are refused here, once for all
    if ((size >>> 0) !== size || (addr >>> 0) !== addr) return false;
    if (size === 0) return this.lookup(addr) >= 0 || (addr > 0 && this.lookup(addr - 1) >= 0);
    let i = this.lastHit;
    if (i < 0 || addr < this.starts[i]! || addr + size > this.ends[i]!) {
      i = this.lookup(addr);
      if (i < 0) return false;
      this.lastHit = i;
    }
    if (addr + size > this.ends[i]!) return false;
    return !write || this.regionsSorted[i]!.writable;
  }

  /** Like `check`, but throws a fault naming the address and size. */
  assert(addr: number, size: number, write: boolean, pc = -1): void {
    if (!this.check(addr, size, write)) throw this.fault(addr, size, write, pc);
  }

  fault(addr: number, size: number, write: boolean, pc = -1): BpfError {
    const where = pc >= 0 ? `pc ${pc}: ` : "";
    const at = Number.isFinite(addr) ? `0x${addr.toString(16)}` : String(addr);
    if ((size >>> 0) !== size || (addr >>> 0) !== addr) {
      const n = Number.isNaN(size) ? "2^53 or more" : String(size); // argNum's NaN: a 64-bit size past 2^53
      return new BpfError("FAULT", `${where}invalid ${write ? "write" : "read"} of ${n} bytes at ${at}: not a 32-bit address and size`,
        pc >= 0 ? { pc } : {});
    }
    const r = this.find(addr) ?? (size === 0 && addr > 0 ? this.find(addr - 1) : undefined);
    const why = r === undefined ? "unmapped address"
      : write && !r.writable ? `write to read-only ${r.name}`
      : `out of bounds of ${r.name} [0x${r.start.toString(16)}, 0x${(r.start + r.size).toString(16)})`;
    return new BpfError("FAULT", `${where}invalid ${write ? "write" : "read"} of ${size} bytes at ${at}: ${why}`,
      pc >= 0 ? { pc } : {});
  }

  // Checked bulk access for helpers and maps: each checks the whole range with `check` (one region, writable for
  // writes, integer size) before touching a byte, so no helper calls a raw typed-array method on an unchecked range.

  /** Copy `n` bytes from `src` to `dst` inside the space (memmove); faults naming `pc` unless both ranges are allowed. */
  copyChecked(dst: number, src: number, n: number, pc = -1): void {
    this.assert(src, n, false, pc);
    this.assert(dst, n, true, pc);
    if (n > 0) this.u8.copyWithin(dst, src, src + n);
  }

  /** Set `n` bytes at `dst` to `byte`; faults unless the range is writable. */
  fillChecked(dst: number, n: number, byte: number, pc = -1): void {
    this.assert(dst, n, true, pc);
    if (n > 0) this.u8.fill(byte, dst, dst + n);
  }

  /** Write `bytes` at `dst`; faults unless the range is writable. */
  setChecked(dst: number, bytes: Uint8Array, pc = -1): void {
    this.assert(dst, bytes.length, true, pc);
    if (bytes.length > 0) this.u8.set(bytes, dst);
  }

  /** A copy of `n` bytes at `src`; faults unless the range is readable. */
  sliceChecked(src: number, n: number, pc = -1): Uint8Array {
    this.assert(src, n, false, pc);
    return this.u8.slice(src, src + n);
  }

  /** All mapped regions, lowest address first. */
  regions(): readonly Region[] {
    return this.regionsSorted;
  }

  private lookup(addr: number): number {
    const s = this.starts;
    let lo = 0, hi = s.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= addr) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const r = this.regionsSorted[found]!;
    // a zero-sized region still owns no bytes
    return addr < this.ends[found]! && r.size > 0 ? found : -1;
  }

  private indexOf(start: number): number {
    const i = this.lookupStart(start);
    return i;
  }

  private lookupStart(start: number): number {
    const s = this.starts;
    let lo = 0, hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] === start) return mid;
      if (s[mid]! < start) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  private insertSorted(r: Region): void {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! < r.start) lo = mid + 1; else hi = mid;
    }
    this.starts.splice(lo, 0, r.start);
    this.ends.splice(lo, 0, r.start + r.size);
    this.regionsSorted.splice(lo, 0, r);
    this.lastHit = -1;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new BpfError("ENOMEM", `address space cannot grow to ${end} bytes`);
    }
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.generation++;
  }
}

const record = (r: Region): RegionRecord =>
  ({ id: r.id, start: r.start, size: r.size, kind: r.kind, name: r.name, writable: r.writable });

const alignUp = (x: number, a: number): number => (x + a - 1) & ~(a - 1);
