// fread() over a byte array, a sequence of chunks, or chunks pushed as they arrive from an asynchronous stream:
// read(n) returns up to n bytes (fewer only at the end of input) as a view into the input when the bytes lie in
// one chunk, copied only when they straddle chunks. In push mode a read that would pass the data received so far
// throws NEED_MORE; the reader rewinds to the last mark(), waits for more data, and parses the record again.

export type CaptureInput = Uint8Array | Iterable<Uint8Array>;

/** Thrown (push mode only) when a read needs bytes that have not arrived yet. */
export const NEED_MORE: unique symbol = Symbol("capture: need more input");

export class ByteSource {
  private chunks: Uint8Array[] = [];
  private ci = 0;
  private pos = 0;
  private readonly iter: Iterator<Uint8Array> | undefined;
  private readonly pushMode: boolean;
  private ended = false;
  private markCi = 0;
  private markPos = 0;
  private markOffset = 0;
  /** Bytes consumed so far: the file offset of the next read. */
  offset = 0;

  constructor(input: CaptureInput | "push") {
    this.pushMode = input === "push";
    if (input instanceof Uint8Array) { this.chunks.push(input); this.ended = true; }
    else if (input !== "push") this.iter = input[Symbol.iterator]();
  }

  /** Push mode: append a chunk that arrived. */
  push(chunk: Uint8Array): void { if (chunk.length > 0) this.chunks.push(chunk); }

  /** Push mode: no more chunks will come; reads now end short instead of asking for more. */
  end(): void { this.ended = true; }

  /** A point to rewind to; chunks wholly before it are dropped. */
  mark(): void {
    if (this.ci > 0) { this.chunks.splice(0, this.ci); this.ci = 0; }
    this.markCi = this.ci; this.markPos = this.pos; this.markOffset = this.offset;
  }

  /** Rewinds to the last mark. */
  reset(): void { this.ci = this.markCi; this.pos = this.markPos; this.offset = this.markOffset; }

  // Makes chunks[ci] a chunk with unread bytes; false at the end of (the available) input.
  private advance(): boolean {
    for (;;) {
      const c = this.chunks[this.ci];
      if (c !== undefined && this.pos < c.length) return true;
      if (c !== undefined && this.ci + 1 < this.chunks.length) { this.ci++; this.pos = 0; continue; }
      // Without rewinding (pull mode), chunks already read are dropped so a long stream is not held in memory.
      if (!this.pushMode && this.ci > 0) { this.chunks.splice(0, this.ci); this.ci = 0; }
      if (this.iter) {
        const r = this.iter.next();
        if (r.done) return false;
        if (r.value.length > 0) { this.chunks.push(r.value); if (c !== undefined) { this.ci++; this.pos = 0; } }
        continue;
      }
      if (this.pushMode && !this.ended) throw NEED_MORE;
      return false;
    }
  }

  /** Up to n bytes; a shorter result means the input ended. */
  read(n: number): Uint8Array {
    let chunk = this.chunks[this.ci];
    if (chunk === undefined || chunk.length - this.pos < n) {
      if (!this.advance()) return new Uint8Array(0);
      chunk = this.chunks[this.ci]!;
    }
    if (chunk.length - this.pos >= n) {
      const out = chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    // Straddles chunks: gather into one buffer, never larger than what the input holds.
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n && this.advance()) {
      const c = this.chunks[this.ci]!;
      const take = Math.min(n - got, c.length - this.pos);
      parts.push(c.subarray(this.pos, this.pos + take));
      this.pos += take;
      got += take;
    }
    const out = new Uint8Array(got);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    this.offset += got;
    return out;
  }

  /** Skips up to n bytes; returns how many were skipped. */
  skip(n: number): number {
    let skipped = 0;
    while (skipped < n && this.advance()) {
      const c = this.chunks[this.ci]!;
      const take = Math.min(n - skipped, c.length - this.pos);
      this.pos += take;
      skipped += take;
    }
    this.offset += skipped;
    return skipped;
  }
}
