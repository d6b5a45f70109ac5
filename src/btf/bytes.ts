// Bounds-checked little/big-endian reads over a byte array. Every read past the end becomes a BpfError naming the
// absolute file offset and the section being read, never a RangeError from a DataView.
import { BpfError } from "../errors.ts";

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  /** What is being read, for error messages (e.g. "section '.BTF'"). */
  readonly what: string;
  /** Offset of `bytes[0]` in the enclosing file, so errors name file offsets. */
  readonly base: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, littleEndian: boolean, what: string, base = 0) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.what = what;
    this.base = base;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  fail(offset: number, message: string, section?: string): never {
    const abs = this.base + offset;
    throw new BpfError("FORMAT", `${this.what}: ${message} (offset 0x${abs.toString(16)})`, {
      offset: abs,
      section: section ?? sectionOf(this.what),
    });
  }

  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      this.fail(offset, `truncated ${what}: needs ${size} bytes at ${offset}, only ${Math.max(0, this.bytes.length - offset)} left`);
    }
  }

  u8(o: number): number {
    if (o < 0 || o >= this.bytes.length) this.need(o, 1, "byte");
    return this.bytes[o]!;
  }
  u16(o: number): number {
    if (o < 0 || o + 2 > this.bytes.length) this.need(o, 2, "u16");
    return this.view.getUint16(o, this.littleEndian);
  }
  i16(o: number): number {
    if (o < 0 || o + 2 > this.bytes.length) this.need(o, 2, "s16");
    return this.view.getInt16(o, this.littleEndian);
  }
  u32(o: number): number {
    if (o < 0 || o + 4 > this.bytes.length) this.need(o, 4, "u32");
    return this.view.getUint32(o, this.littleEndian);
  }
  i32(o: number): number {
    if (o < 0 || o + 4 > this.bytes.length) this.need(o, 4, "s32");
    return this.view.getInt32(o, this.littleEndian);
  }
  /** A u64 as a JS number; values above 2^53 are reported as a format error (no real object needs them). */
  u64(o: number, what = "u64"): number {
    if (o < 0 || o + 8 > this.bytes.length) this.need(o, 8, what);
    const lo = this.view.getUint32(o + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(o + (this.littleEndian ? 4 : 0), this.littleEndian);
    if (hi > 0x1fffff) this.fail(o, `${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")} is too large`);
    return hi * 0x1_0000_0000 + lo;
  }
  /** Both halves of a u64 without range limits (r_info, st_value of absolute symbols). */
  u64halves(o: number): [lo: number, hi: number] {
    this.need(o, 8, "u64");
    const lo = this.view.getUint32(o + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(o + (this.littleEndian ? 4 : 0), this.littleEndian);
    return [lo, hi];
  }
}

function sectionOf(what: string): string | undefined {
  const m = /section '([^']*)'/.exec(what);
  return m ? m[1] : undefined;
}

/** Decode a NUL-terminated string at `off` as Latin-1, so every byte survives a round trip to output. */
export function cstring(bytes: Uint8Array, off: number, end = bytes.length): string | undefined {
  if (off < 0 || off >= end) return undefined;
  let e = off;
  while (e < end && bytes[e] !== 0) e++;
  if (e >= end) return undefined;
  return latin1(bytes, off, e);
}

export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}
