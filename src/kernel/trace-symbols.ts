// Symbols for `bpfkit trace` on Linux, resolved as bpftrace 0.17 resolves them through bcc: kernel addresses against
// /proc/kallsyms (the nearest symbol at or below), user addresses against the ELF symbol tables (.symtab and
// .dynsym) of the process's executable mappings in /proc/PID/maps, user names from /etc/passwd, kaddr()/uaddr()
// lookups for the compiler, and the Resolver that prints stacks from the script's stack_trace maps.
import { readFileSync } from "node:fs";
import type { Resolver } from "../trace/output.ts";

interface Sym { readonly addr: bigint; readonly name: string; readonly size: bigint }

let kallsyms: Sym[] | undefined;
/** Every address of each name, in /proc/kallsyms order (libbpf's ksym resolution reads it so). */
let byName: Map<string, bigint[]> | undefined;

function loadKallsyms(): Sym[] {
  if (kallsyms) return kallsyms;
  const out: Sym[] = [];
  byName = new Map();
  let text = "";
  try { text = readFileSync("/proc/kallsyms", "latin1"); } catch { /* no symbols */ }
  for (const line of text.split("\n")) {
    const sp1 = line.indexOf(" ");
    if (sp1 < 0) continue;
    const sp2 = line.indexOf(" ", sp1 + 1);
    const end = line.indexOf("\t", sp2 + 1);
    const sym = { addr: BigInt("0x" + line.slice(0, sp1)), name: line.slice(sp2 + 1, end < 0 ? undefined : end), size: 0n };
    out.push(sym);
    const list = byName.get(sym.name);
    if (list) list.push(sym.addr); else byName.set(sym.name, [sym.addr]);
  }
  out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  kallsyms = out;
  return out;
}

/** index of the last symbol whose address is <= addr (bcc's upper_bound - 1), -1 when none */
function floor(syms: readonly Sym[], addr: bigint): number {
  let lo = 0, hi = syms.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid]!.addr <= addr) lo = mid + 1; else hi = mid;
  }
  return lo - 1;
}

/** Every /proc/kallsyms address of `name`, in file order (none when unreadable or absent). */
export function kallsymsAddresses(name: string): readonly bigint[] {
  loadKallsyms();
  return byName!.get(name) ?? [];
}

export function ksym(addr: bigint): { name: string; offset: bigint } | undefined {
  const syms = loadKallsyms();
  const i = floor(syms, addr);
  if (i < 0) return undefined;
  return { name: syms[i]!.name, offset: addr - syms[i]!.addr };
}

/** kaddr(): the first /proc/kallsyms line naming the symbol */
export function kernelSymbol(name: string): bigint | undefined {
  let text = "";
  try { text = readFileSync("/proc/kallsyms", "latin1"); } catch { return undefined; }
  const m = new RegExp(`^([0-9a-f]+) \\S ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:\\t|$)`, "m").exec(text);
  return m ? BigInt("0x" + m[1]) : undefined;
}

// ---- ELF symbol tables

interface ElfSyms { readonly dyn: boolean; readonly loadBias: bigint; readonly syms: Sym[]; readonly objects: Map<string, Sym> }
const elfCache = new Map<string, ElfSyms | null>();

const STT_OBJECT = 1, STT_FUNC = 2, STT_GNU_IFUNC = 10;

function elfSymbols(path: string): ElfSyms | undefined {
  if (elfCache.has(path)) return elfCache.get(path) ?? undefined;
  let r: ElfSyms | null = null;
  try { r = readElfSymbols(readFileSync(path)); } catch { r = null; }
  elfCache.set(path, r);
  return r ?? undefined;
}

function readElfSymbols(bytes: Buffer): ElfSyms | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || v.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) return null;
  const dyn = v.getUint16(16, true) === 3; // ET_DYN
  const phoff = Number(v.getBigUint64(0x20, true)), phentsize = v.getUint16(0x36, true), phnum = v.getUint16(0x38, true);
  // bcc's elf_so_addr - elf_so_offset: the first executable PT_LOAD's vaddr minus its file offset
  let loadBias = 0n;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (v.getUint32(o, true) === 1 && (v.getUint32(o + 4, true) & 1)) {
      loadBias = v.getBigUint64(o + 16, true) - v.getBigUint64(o + 8, true);
      break;
    }
  }
  const shoff = Number(v.getBigUint64(0x28, true)), shentsize = v.getUint16(0x3a, true), shnum = v.getUint16(0x3c, true);
  const sec = (i: number) => {
    const o = shoff + i * shentsize;
    return { type: v.getUint32(o + 4, true), offset: Number(v.getBigUint64(o + 24, true)), size: Number(v.getBigUint64(o + 32, true)), link: v.getUint32(o + 40, true) };
  };
  const syms: Sym[] = [];
  const objects = new Map<string, Sym>();
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    if (s.type !== 2 && s.type !== 11) continue; // SHT_SYMTAB, SHT_DYNSYM
    const strtab = sec(s.link);
    for (let p = s.offset; p + 24 <= s.offset + s.size; p += 24) {
      const type = bytes[p + 4]! & 0xf, shndx = v.getUint16(p + 6, true);
      if (shndx === 0) continue;
      const addr = v.getBigUint64(p + 8, true), size = v.getBigUint64(p + 16, true);
      const nameStart = strtab.offset + v.getUint32(p, true);
      let end = nameStart;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const name = bytes.toString("latin1", nameStart, end);
      if (!name) continue;
      if (type === STT_OBJECT && !objects.has(name)) objects.set(name, { addr, name, size });
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC && type !== STT_OBJECT) continue;
      syms.push({ addr, name, size });
    }
  }
  syms.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.size < b.size ? -1 : a.size > b.size ? 1 : 0));
  return { dyn, loadBias, syms, objects };
}

/** uaddr(): a data symbol of a binary as the ELF file has it */
export function userSymbol(binary: string, name: string): { address: bigint; size: number } | undefined {
  const s = elfSymbols(binary)?.objects.get(name);
  return s ? { address: s.addr, size: Number(s.size) } : undefined;
}

/** bcc's Module::find_addr: walk back from the nearest symbol while an enclosing (nested) symbol may still cover it */
function findContaining(syms: readonly Sym[], off: bigint): Sym | undefined {
  let i = floor(syms, off);
  if (i < 0) return undefined;
  const limit = syms[i]!.addr;
  for (; i >= 0 && off >= syms[i]!.addr; i--) {
    const s = syms[i]!;
    if (off < s.addr + s.size) return s;
    if (limit > s.addr + s.size) break;
  }
  return undefined;
}

interface Mapping { start: bigint; end: bigint; fileOffset: bigint; path: string }

function mappings(pid: number): Mapping[] | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/maps`, "latin1"); } catch { return undefined; }
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(line);
    if (!m || m[3]![2] !== "x") continue;
    out.push({ start: BigInt("0x" + m[1]), end: BigInt("0x" + m[2]), fileOffset: BigInt("0x" + m[4]), path: m[5]! });
  }
  return out;
}

export function usym(addr: bigint, pid: number): { name: string; offset: bigint; module: string } | undefined {
  const maps = mappings(pid);
  if (!maps) return undefined;
  for (const m of maps) {
    if (addr < m.start || addr >= m.end) continue;
    if (!m.path.startsWith("/")) return undefined;
    const elf = elfSymbols(`/proc/${pid}/root${m.path}`) ?? elfSymbols(m.path);
    if (!elf) return undefined;
    const off = elf.dyn ? addr - m.start + m.fileOffset + elf.loadBias : addr;
    const s = findContaining(elf.syms, off);
    return s ? { name: s.name, offset: off - s.addr, module: m.path } : undefined;
  }
  return undefined;
}

export function username(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid)) return f[0]!;
    }
  } catch { /* none */ }
  return String(uid);
}

/** cat(): the file's first 10240 bytes, as bpftrace reads them */
export function catFile(path: string): string {
  try { return readFileSync(path).subarray(0, 10240).toString("latin1"); } catch { return ""; }
}

/** The Linux resolver (stack frames come from the session's stack_trace maps). With `kernelSymbols`, /proc/kallsyms
 * is read now, before the script's programs load, as bpftrace's symbol cache is: the programs' own addresses then
 * resolve to whatever symbol lies below them, as they do under bpftrace. */
export function linuxResolver(kernelSymbols = false): Resolver {
  if (kernelSymbols) { kallsyms = undefined; loadKallsyms(); }
  return { ksym, usym, username, cat: catFile };
}
