// fread() over a byte array or a sequence of chunks: read(n) returns up to n bytes (fewer only at end of input),
// as a view into the input when the bytes lie in one chunk, copied only when they straddle chunks.

export type CaptureInput = Uint8Array | Iterable<Uint8Array>;

export class ByteSource {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly rest: Iterator<Uint8Array> | undefined;
  /** Bytes consumed so far: the file offset of the next read. */
  offset = 0;

  constructor(input: CaptureInput) {
    if (input instanceof Uint8Array) this.chunk = input;
    else this.rest = input[Symbol.iterator]();
  }

  private nextChunk(): boolean {
    if (!this.rest) return false;
    for (;;) {
      const r = this.rest.next();
      if (r.done) return false;
      if (r.value.length > 0) {
        this.chunk = r.value;
        this.pos = 0;
        return true;
      }
    }
  }

  /** Up to n bytes; a shorter result means the input ended. */
  read(n: number): Uint8Array {
    if (this.pos === this.chunk.length && !this.nextChunk()) return new Uint8Array(0);
    const avail = this.chunk.length - this.pos;
    if (n <= avail) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    // Straddles chunks: gather into one buffer (grown as chunks arrive, never beyond what the input holds).
    const parts: Uint8Array[] = [this.chunk.subarray(this.pos)];
    let got = avail;
    this.pos = this.chunk.length;
    while (got < n && this.nextChunk()) {
      const take = Math.min(n - got, this.chunk.length);
      parts.push(this.chunk.subarray(0, take));
      this.pos = take;
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
    while (skipped < n) {
      if (this.pos === this.chunk.length && !this.nextChunk()) break;
      const take = Math.min(n - skipped, this.chunk.length - this.pos);
      this.pos += take;
      skipped += take;
    }
    this.offset += skipped;
    return skipped;
  }
}
