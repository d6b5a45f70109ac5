// Fixed-size element slots in the address space, like the kernel's preallocated htab elements: a map has `capacity`
// slots of `elemSize` bytes, identified by index. Slots are mapped in chunks on first use, so a map with a large
// max_entries costs address space only for the elements it has held.

import type { Region } from "../vm/memory.ts";

const CHUNK = 1024;

export class ElementPool {
  /** Address of each slot, 0 until its chunk is mapped. */
  readonly addr: Uint32Array;
  private readonly chunk: number;

  constructor(
    readonly capacity: number,
    readonly elemSize: number,
    private readonly mapChunk: (bytes: number) => Region,
  ) {
    this.addr = new Uint32Array(capacity);
    this.chunk = Math.min(capacity, CHUNK);
  }

  /** The address of slot `i`, mapping its chunk when needed. */
  address(i: number): number {
    const a = this.addr[i]!;
    return a !== 0 ? a : this.map(i);
  }

  private map(i: number): number {
    const first = i - (i % this.chunk);
    const n = Math.min(this.chunk, this.capacity - first);
    const r = this.mapChunk(n * this.elemSize);
    for (let k = 0; k < n; k++) this.addr[first + k] = r.start + k * this.elemSize;
    return this.addr[i]!;
  }
}
