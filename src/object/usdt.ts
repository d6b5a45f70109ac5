// USDT probes of an ELF64 executable or library: the SystemTap notes (.note.stapsdt, note type 3, owner "stapsdt")
// that <sys/sdt.h>'s DTRACE_PROBE macros leave — each a probe site address, the link-time .stapsdt.base address, a
// semaphore address (0: none), provider, name and the argument specs (`-4@%edi 8@-16(%rbp) 4@$5`, x86-64 AT&T
// operands). Addresses become file offsets (what a uprobe and its ref_ctr_offset take) through the PT_LOAD segments,
// after the prelink adjustment by .stapsdt.base. Pure.
import { BpfError } from "../errors.ts";

/** One argument: `size` bytes (negative in the spec: signed) from a register, a constant, or memory at reg + disp. */
export type UsdtArg =
  | { readonly kind: "reg"; readonly size: number; readonly signed: boolean; readonly reg: string }
  | { readonly kind: "imm"; readonly size: number; readonly signed: boolean; readonly value: bigint }
  /** memory at disp + reg + index * scale (`-8@16(%r9,%rax,8)`) */
  | { readonly kind: "mem"; readonly size: number; readonly signed: boolean; readonly reg: string; readonly disp: number; readonly index?: string; readonly scale?: number };

export interface UsdtNote {
  readonly provider: string;
  readonly name: string;
  /** the probe site's virtual address (prelink-adjusted) and its file offset */
  readonly address: bigint;
  readonly offset: number;
  /** the semaphore's virtual address and file offset (0: none) */
  readonly semaphore: bigint;
  readonly semaphoreOffset: number;
  /** the raw argument string and its parsed specs */
  readonly argText: string;
  readonly args: readonly (UsdtArg | undefined)[];
}

const NT_STAPSDT = 3, PT_LOAD = 1;

/** x86-64 register names (any width) → the 64-bit register's name in struct pt_regs. */
const REGS: Record<string, string> = {};
for (const [full, ...alts] of [
  ["ax", "rax", "eax", "ax", "al", "ah"], ["bx", "rbx", "ebx", "bx", "bl", "bh"], ["cx", "rcx", "ecx", "cx", "cl", "ch"],
  ["dx", "rdx", "edx", "dx", "dl", "dh"], ["si", "rsi", "esi", "si", "sil"], ["di", "rdi", "edi", "di", "dil"],
  ["bp", "rbp", "ebp", "bp", "bpl"], ["sp", "rsp", "esp", "sp", "spl"], ["ip", "rip", "eip"],
] as const) for (const a of alts) REGS[a] = full;
for (let n = 8; n <= 15; n++) for (const s of ["", "d", "w", "b"]) REGS[`r${n}${s}`] = `r${n}`;

/** Parses one argument spec (`-4@%edi`, `8@-16(%rbp)`, `4@$5`); undefined when the form is not understood. */
export function parseUsdtArg(spec: string): UsdtArg | undefined {
  const m = /^(-?)(\d+)@(.+)$/.exec(spec);
  if (!m) return undefined;
  const signed = m[1] === "-", size = Number(m[2]), op = m[3]!;
  if (![1, 2, 4, 8].includes(size)) return undefined;
  let r: RegExpExecArray | null;
  if ((r = /^%(\w+)$/.exec(op)) && REGS[r[1]!]) return { kind: "reg", size, signed, reg: REGS[r[1]!]! };
  if ((r = /^\$(-?(?:0x[0-9a-fA-F]+|\d+))$/.exec(op))) return { kind: "imm", size, signed, value: BigInt(r[1]!.replace(/^-0x/, "-0x")) };
  if ((r = /^(-?(?:0x[0-9a-fA-F]+|\d+))?\(%(\w+)(?:,%(\w+)(?:,([1248]))?)?\)$/.exec(op)) && REGS[r[2]!] && REGS[r[2]!] !== "ip") {
    const index = r[3] === undefined ? undefined : REGS[r[3]];
    if (r[3] !== undefined && (index === undefined || index === "ip")) return undefined;
    return { kind: "mem", size, signed, reg: REGS[r[2]!]!, disp: r[1] ? Number(r[1]) : 0, ...(index ? { index, scale: Number(r[4] ?? 1) } : {}) };
  }
  return undefined;
}

interface Seg { readonly vaddr: bigint; readonly offset: number; readonly filesz: bigint }

/** Every USDT note of the ELF64 little-endian file `bytes`, in file order. */
export function usdtNotes(bytes: Uint8Array): UsdtNote[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || v.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) {
    throw new BpfError("FORMAT", "not a little-endian ELF64 file");
  }
  const u64 = (o: number) => v.getBigUint64(o, true);
  const phoff = Number(u64(0x20)), shoff = Number(u64(0x28));
  const phentsize = v.getUint16(0x36, true), phnum = v.getUint16(0x38, true);
  const shentsize = v.getUint16(0x3a, true), shnum = v.getUint16(0x3c, true), shstrndx = v.getUint16(0x3e, true);
  const inFile = (o: number, n: number) => o >= 0 && o + n <= bytes.length;
  const segs: Seg[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (!inFile(o, 56)) break;
    if (v.getUint32(o, true) === PT_LOAD) segs.push({ offset: Number(u64(o + 8)), vaddr: u64(o + 16), filesz: u64(o + 32) });
  }
  const cstr = (o: number) => { let e = o; while (e < bytes.length && bytes[e] !== 0) e++; return new TextDecoder().decode(bytes.subarray(o, e)); };
  const secs: { name: string; type: number; addr: bigint; offset: number; size: number }[] = [];
  if (inFile(shoff, shnum * shentsize) && shstrndx < shnum) {
    const strOff = Number(u64(shoff + shstrndx * shentsize + 24));
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      secs.push({ name: cstr(strOff + v.getUint32(o, true)), type: v.getUint32(o + 4, true), addr: u64(o + 16), offset: Number(u64(o + 24)), size: Number(u64(o + 32)) });
    }
  }
  const base = secs.find((s) => s.name === ".stapsdt.base")?.addr;
  const toOffset = (addr: bigint): number => {
    for (const s of segs) if (addr >= s.vaddr && addr < s.vaddr + s.filesz) return Number(addr - s.vaddr) + s.offset;
    return Number(addr); // no program headers (a relocatable object): the address is the offset
  };
  const out: UsdtNote[] = [];
  for (const sec of secs) {
    if (sec.name !== ".note.stapsdt" || !inFile(sec.offset, sec.size)) continue;
    for (let p = sec.offset; p + 12 <= sec.offset + sec.size;) {
      const namesz = v.getUint32(p, true), descsz = v.getUint32(p + 4, true), type = v.getUint32(p + 8, true);
      const nameAt = p + 12, descAt = nameAt + ((namesz + 3) & ~3);
      p = descAt + ((descsz + 3) & ~3);
      if (type !== NT_STAPSDT || cstr(nameAt) !== "stapsdt" || descsz < 24 || !inFile(descAt, descsz)) continue;
      let pc = u64(descAt), sem = u64(descAt + 16);
      const linkBase = u64(descAt + 8);
      if (base !== undefined && linkBase !== 0n) { pc += base - linkBase; if (sem) sem += base - linkBase; }
      const provider = cstr(descAt + 24);
      const name = cstr(descAt + 25 + new TextEncoder().encode(provider).length);
      const argText = cstr(descAt + 26 + new TextEncoder().encode(provider).length + new TextEncoder().encode(name).length);
      const args = argText.trim() === "" ? [] : argText.trim().split(/\s+/).map(parseUsdtArg);
      out.push({ provider, name, address: pc, offset: toOffset(pc), semaphore: sem, semaphoreOffset: sem ? toOffset(sem) : 0, argText, args });
    }
  }
  return out;
}

/** The notes matching PROVIDER:NAME (provider "" matches any; `*` and `?` are wildcards in both). */
export function matchUsdt(notes: readonly UsdtNote[], provider: string, name: string): UsdtNote[] {
  const glob = (g: string) => new RegExp("^" + g.replace(/[.+^${}()|\\[\]]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  const rp = provider === "" ? undefined : glob(provider), rn = glob(name);
  return notes.filter((n) => (rp === undefined || rp.test(n.provider)) && rn.test(n.name));
}
