// Test helper: assemble raw BTF from type records written as u32 words, with a string table built from names.
// Used by the BTF unit tests (not part of the public face).

/** Builds BTF: `str(name)` returns the name's offset; `type(...words)` appends one record. */
export class BtfBuilder {
  private readonly strings: string[] = [""];
  private readonly offsets = new Map<string, number>([["", 0]]);
  private size = 1;
  private readonly words: number[] = [];
  private count = 0;

  str(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.size;
      this.offsets.set(s, off);
      this.strings.push(s);
      this.size += s.length + 1;
    }
    return off;
  }

  /** info word: kind << 24 | kflag << 31 | vlen. */
  static info(kind: number, vlen = 0, kflag = false): number {
    return ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
  }

  /** Append a record; returns its type id. */
  type(...words: number[]): number {
    this.words.push(...words);
    return ++this.count;
  }

  build(littleEndian = true): Uint8Array {
    const typeLen = this.words.length * 4;
    const strBytes = new TextEncoder().encode(this.strings.join("\0") + "\0");
    const out = new Uint8Array(24 + typeLen + strBytes.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, littleEndian);
    out[2] = 1;
    dv.setUint32(4, 24, littleEndian);
    dv.setUint32(8, 0, littleEndian);
    dv.setUint32(12, typeLen, littleEndian);
    dv.setUint32(16, typeLen, littleEndian);
    dv.setUint32(20, strBytes.length, littleEndian);
    this.words.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, littleEndian));
    out.set(strBytes, 24 + typeLen);
    return out;
  }
}
