// Structure-aware mutations of BPF ELF objects and raw BTF files, for the ELF/BTF fuzzer: the fields a parser trusts
// (ELF header and section headers, symbols, relocations, the .BTF and .BTF.ext headers, BTF type records' kinds, vlens,
// name offsets and sizes, .BTF.ext records, instructions) get hostile values; plus plain byte flips and truncations.
import { parseElf } from "../../src/object/index.ts";
import type { ElfFile } from "../../src/object/index.ts";

/** A field to mutate: offset, width in bytes. */
type Field = readonly [number, 1 | 2 | 4 | 8];

/** xorshift32, so an input is reproducible from its index. */
export function rng(seed: number): () => number {
  let s = seed | 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
}

const SH = [[0, 4], [4, 4], [8, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]] as const;
const EHDR: Field[] = [[4, 1], [5, 1], [0x12, 2], [0x20, 8], [0x28, 8], [0x3a, 2], [0x3c, 2], [0x3e, 2]];

/** The fields of `b` worth mutating, grouped by what they describe. */
function fields(b: Uint8Array, elf: ElfFile | undefined): Field[][] {
  const groups: Field[][] = [];
  if (elf === undefined) {
    // a raw BTF file: header, then type words
    groups.push([[0, 2], [2, 1], [3, 1], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4]]);
    groups.push(words(24, b.length - 24));
    return groups;
  }
  groups.push(EHDR);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = elf.littleEndian;
  const shoff = Number(dv.getBigUint64(0x28, le));
  groups.push(elf.sections.flatMap((s) => SH.map(([o, w]) => [shoff + s.index * 64 + o, w] as Field)));
  for (const s of elf.sections) {
    if (s.type === 8 || s.offset + s.size > b.length) continue;
    if (s.name === ".BTF" && s.size >= 24) {
      groups.push([[s.offset, 2], [s.offset + 2, 1], [s.offset + 4, 4], [s.offset + 8, 4], [s.offset + 12, 4], [s.offset + 16, 4], [s.offset + 20, 4]]);
      const hdr = dv.getUint32(s.offset + 4, le), toff = dv.getUint32(s.offset + 8, le), tlen = dv.getUint32(s.offset + 12, le);
      const start = s.offset + hdr + toff;
      if (start + tlen <= s.offset + s.size) groups.push(words(start, tlen));
    } else if (s.name === ".BTF.ext" && s.size >= 32) {
      groups.push(Array.from({ length: 8 }, (_, k) => [s.offset + 4 * k, 4] as Field));
      groups.push(words(s.offset + 32, s.size - 32));
    } else if (s.type === 9 || s.type === 4) {
      // Elf64_Rel(a): r_offset, r_info's type and symbol index
      const n = Math.floor(s.size / (s.type === 9 ? 16 : 24));
      groups.push(Array.from({ length: n }, (_, k) => [[s.offset + k * (s.type === 9 ? 16 : 24), 8], [s.offset + k * (s.type === 9 ? 16 : 24) + (le ? 8 : 12), 4], [s.offset + k * (s.type === 9 ? 16 : 24) + (le ? 12 : 8), 4]] as Field[]).flat());
    } else if (s.type === 2) {
      const n = Math.floor(s.size / 24);
      groups.push(Array.from({ length: n }, (_, k) => [[s.offset + k * 24, 4], [s.offset + k * 24 + 4, 1], [s.offset + k * 24 + 6, 2], [s.offset + k * 24 + 8, 8], [s.offset + k * 24 + 16, 8]] as Field[]).flat());
    } else if ((s.flags & 4) !== 0 && s.size >= 8) {
      // instructions: opcode, registers, offset, immediate
      const n = Math.floor(s.size / 8);
      groups.push(Array.from({ length: n }, (_, k) => [[s.offset + k * 8, 1], [s.offset + k * 8 + 1, 1], [s.offset + k * 8 + 2, 2], [s.offset + k * 8 + 4, 4]] as Field[]).flat());
    } else if (s.name === ".maps" || s.name === "maps") groups.push(words(s.offset, s.size));
  }
  return groups.filter((g) => g.length > 0);
}

const words = (start: number, len: number): Field[] => Array.from({ length: Math.max(0, Math.floor(len / 4)) }, (_, k) => [start + 4 * k, 4] as Field);

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff,
  0x80000000, 0xfffffffe, 0xffffffff, 4096, 65535, 1 << 20, 1 << 24, 1 << 28];

function value(r: () => number, old: bigint, width: number, fileLen: number): bigint {
  const k = r();
  const mask = (1n << BigInt(width * 8)) - 1n;
  let v: bigint;
  if (k < 0.4) v = BigInt(INTERESTING[Math.floor(r() * INTERESTING.length)]!);
  else if (k < 0.6) v = old + BigInt(Math.floor(r() * 17) - 8);
  else if (k < 0.7) v = BigInt(fileLen + Math.floor(r() * 16) - 8);
  else if (k < 0.8) v = old ^ (1n << BigInt(Math.floor(r() * width * 8)));
  else if (k < 0.9 && width === 4) {
    // a BTF info word: another kind, a huge vlen, or the kind_flag
    const sub = r();
    v = sub < 0.4 ? (old & ~0x1f000000n) | (BigInt(Math.floor(r() * 32)) << 24n) : sub < 0.8 ? (old & ~0xffffn) | BigInt(r() < 0.5 ? 0xffff : Math.floor(r() * 64)) : old ^ 0x80000000n;
  } else if (width === 8) v = BigInt(Math.floor(r() * 2 ** 53)) * (r() < 0.5 ? 1n : 0x800n);
  else v = BigInt(Math.floor(r() * 2 ** 32));
  return v & mask;
}

function readField(dv: DataView, [o, w]: Field, le: boolean): bigint {
  return w === 1 ? BigInt(dv.getUint8(o)) : w === 2 ? BigInt(dv.getUint16(o, le)) : w === 4 ? BigInt(dv.getUint32(o, le)) : dv.getBigUint64(o, le);
}

function writeField(dv: DataView, [o, w]: Field, v: bigint, le: boolean): void {
  if (w === 1) dv.setUint8(o, Number(v));
  else if (w === 2) dv.setUint16(o, Number(v), le);
  else if (w === 4) dv.setUint32(o, Number(v), le);
  else dv.setBigUint64(o, v, le);
}

/** 1-4 mutations of `input`: mostly structured fields, sometimes raw bytes, a truncation or a duplicated range. */
export function mutateObject(input: Uint8Array, r: () => number): Uint8Array {
  let elf: ElfFile | undefined;
  try { elf = parseElf(input, { anyMachine: true }); } catch { elf = undefined; }
  const le = elf?.littleEndian ?? (input[0] === 0x9f);
  const groups = fields(input, elf);
  let b = input.slice();
  for (let n = 1 + Math.floor(r() * 4); n > 0 && b.length > 0; n--) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const k = r();
    if (k < 0.7 && groups.length > 0) {
      const g = groups[Math.floor(r() * groups.length)]!;
      const f = g[Math.floor(r() * g.length)]!;
      if (f[0] + f[1] > b.length) continue;
      writeField(dv, f, value(r, readField(dv, f, le), f[1], b.length), le);
    } else if (k < 0.85) {
      b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    } else if (k < 0.93) {
      b = b.slice(0, Math.floor(r() * b.length));
    } else {
      const s = Math.floor(r() * b.length), e = Math.min(b.length, s + Math.floor(r() * 256));
      const c = new Uint8Array(b.length + e - s); c.set(b.subarray(0, e)); c.set(b.subarray(s), e); b = c;
    }
  }
  return b;
}
