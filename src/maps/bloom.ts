// BLOOM_FILTER (kernel/bpf/bloom_filter.c): values are added with push (BPF_ANY only) and tested with peek (0 when
// possibly present, ENOENT when surely absent); nothing is ever removed or listed. Bit array and hashing as the
// kernel sizes and seeds them: nr_hash_funcs from map_extra (0 → 5), n·k·7/5 bits rounded up to a power of 2,
// jhash2 (jhash for values not a multiple of 4) seeded with seed + i. The bits and the seed live in the address
// space (bits set with Atomics.or, as the kernel's set_bit), so worker CPUs sharing the memory share the filter.

import { BpfError } from "../errors.ts";
import type { AddressSpace } from "../vm/memory.ts";
import { jhash, jhash2 } from "./jhash.ts";
import { BpfMap, sysError } from "./map.ts";
import type { MapOptions } from "./map.ts";
import { roundUpPow2 } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_ANY, BPF_F_ZERO_SEED, ERRNO } from "./types.ts";

export class BloomFilterMap extends BpfMap {
  readonly nHashes: number;
  readonly nBits: number;
  /** Word index of the bit array in space.i32 (the seed is the word before it). */
  private readonly W: number;
  private readonly bitMask: number;
  private readonly seed: number;
  private readonly alignedWords: number;

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.nHashes = Number((spec.mapExtra ?? 0n) & 0xfn) || 5;
    let nBits = Math.floor((maxEntries * this.nHashes) / 5) * 7;
    if (nBits > 2 ** 31) throw new BpfError("ENOMEM", `bloom filter of ${nBits} bits is beyond bpfkit's limit (2^31)`);
    nBits = nBits <= 64 ? 64 : roundUpPow2(nBits);
    this.nBits = nBits;
    this.bitMask = nBits - 1;
    this.W = (this.allocRegion(8 + nBits / 8, "bits", false).start >> 2) + 2;
    if (!this.attached) {
      this.space.i32[this.W - 2] = (this.flags & BPF_F_ZERO_SEED) ? 0 : (opts.seed ?? (Math.random() * 0x100000000) >>> 0);
    }
    this.seed = this.space.i32[this.W - 2]! >>> 0;
    this.alignedWords = this.valueSize % 4 === 0 ? this.valueSize / 4 : 0;
  }

  override get shareable(): boolean {
    return true;
  }

  override lookupElem(): number { return 0; }
  override updateElem(): number { return -ERRNO.EINVAL; }
  override deleteElem(): number { return -ERRNO.EOPNOTSUPP; }
  override popElem(): number { return -ERRNO.EOPNOTSUPP; }

  /** bpf_map_push_elem: add the value. */
  override pushElem(valueAddr: number, flags: number): number {
    this.space.assert(valueAddr, this.valueSize, false);
    return this.add(this.space.u8, valueAddr, flags);
  }

  /** bpf_map_peek_elem: 0 when the value may be present, -ENOENT when it is not. */
  override peekElem(valueAddr: number): number {
    this.space.assert(valueAddr, this.valueSize, false);
    return this.test(this.space.u8, valueAddr) ? 0 : -ERRNO.ENOENT;
  }

  protected override sysLookup(_keyAddr: number, _flags: number, value?: Uint8Array): Uint8Array {
    if (value === undefined || value.length !== this.valueSize) {
      throw sysError("EINVAL", this, `BPF_MAP_LOOKUP_ELEM: a bloom filter tests a ${this.valueSize}-byte value`);
    }
    if (!this.test(value, 0)) throw sysError("ENOENT", this, "BPF_MAP_LOOKUP_ELEM");
    return value.slice();
  }

  protected override sysUpdate(_keyAddr: number, value: Uint8Array, flags: number): void {
    if (this.add(value, 0, flags) < 0) throw sysError("EINVAL", this, "BPF_MAP_UPDATE_ELEM: bloom filters take only BPF_ANY");
  }

  protected override sysDelete(): void {
    throw sysError("EOPNOTSUPP", this, "BPF_MAP_DELETE_ELEM");
  }

  protected override sysGetNextKey(): Uint8Array | null {
    throw sysError("EOPNOTSUPP", this, "BPF_MAP_GET_NEXT_KEY");
  }

  private add(src: Uint8Array, off: number, flags: number): number {
    if (flags !== BPF_ANY) return -ERRNO.EINVAL;
    for (let i = 0; i < this.nHashes; i++) {
      const h = this.hash(src, off, i);
      Atomics.or(this.space.i32, this.W + (h >>> 5), 1 << (h & 31));
    }
    return 0;
  }

  private test(src: Uint8Array, off: number): boolean {
    for (let i = 0; i < this.nHashes; i++) {
      const h = this.hash(src, off, i);
      if ((this.space.i32[this.W + (h >>> 5)]! & (1 << (h & 31))) === 0) return false;
    }
    return true;
  }

  private hash(src: Uint8Array, off: number, i: number): number {
    const seed = (this.seed + i) | 0;
    const h = this.alignedWords ? jhash2(src, off, this.alignedWords, seed) : jhash(src, off, this.valueSize, seed);
    return (h & this.bitMask) >>> 0;
  }
}
