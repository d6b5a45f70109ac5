// What the decoders know about this machine (Node): kernel symbols from /proc/kallsyms (the symbol containing an
// address), syscall names, cgroup v2 paths by id (the cgroup directory's inode), block devices from /proc/partitions,
// interface names from sysfs and pci.ids. Each table is read on first use and re-read when a lookup misses (rate
// limited), since programs, cgroups and devices come and go while the exporter runs.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { SYSCALLS_X86_64 } from "../uapi/syscalls.ts";
import { parsePciIds, type DecoderEnv, type PciDb } from "./decoders.ts";

const REFRESH_MS = 5000;

/** Sorted kernel symbols: the symbol at or below an address, as ebpf_exporter's kallsyms decoder resolves them. */
export class Kallsyms {
  // addresses as 32-bit halves (no BigInt per line: /proc/kallsyms has ~10^5 lines)
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly names: string[];
  constructor(text: string) {
    const lines = text.split("\n");
    let hi = new Uint32Array(lines.length), lo = new Uint32Array(lines.length);
    let names: string[] = [];
    let n = 0, sorted = true;
    for (const line of lines) {
      const sp = line.indexOf(" ");
      if (sp !== 16) continue; // 64-bit kernels print 16 hex digits
      const h = parseInt(line.slice(0, 8), 16) >>> 0, l = parseInt(line.slice(8, 16), 16) >>> 0;
      if (h === 0 && l === 0) continue; // kptr_restrict hides addresses as 0
      const rest = line.slice(19);
      const tab = rest.indexOf("\t");
      const name = tab < 0 ? rest : `${rest.slice(0, tab)}\t${rest.slice(tab + 1)}`;
      if (n > 0 && (h < hi[n - 1]! || (h === hi[n - 1]! && l < lo[n - 1]!))) sorted = false;
      hi[n] = h; lo[n] = l; names.push(name); n++;
    }
    if (!sorted) {
      // modules' symbols follow the kernel's, not in address order
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!);
      const h2 = new Uint32Array(n), l2 = new Uint32Array(n);
      order.forEach((o, i) => { h2[i] = hi[o]!; l2[i] = lo[o]!; });
      hi = h2; lo = l2; names = order.map((o) => names[o]!);
    }
    this.hi = hi.subarray(0, n);
    this.lo = lo.subarray(0, n);
    this.names = names;
  }
  get size(): number { return this.names.length; }
  lookup(addr: bigint): string | undefined {
    const h = Number(addr >> 32n), l = Number(addr & 0xffffffffn);
    let a = 0, b = this.names.length - 1, found = -1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      const mh = this.hi[mid]!, ml = this.lo[mid]!;
      if (mh < h || (mh === h && ml <= l)) { found = mid; a = mid + 1; } else b = mid - 1;
    }
    return found < 0 ? undefined : this.names[found];
  }
}

function readOr(path: string): string | undefined {
  try { return readFileSync(path, "latin1"); } catch { return undefined; }
}

/** A lazily built table that is rebuilt on a miss at most every REFRESH_MS. */
function refreshing<T>(build: () => T, everyMs = REFRESH_MS): { get(): T; refresh(): T | undefined } {
  let value: T | undefined, at = 0;
  return {
    get() { if (value === undefined) { value = build(); at = Date.now(); } return value; },
    refresh() {
      if (Date.now() - at < everyMs) return undefined;
      value = build(); at = Date.now();
      return value;
    },
  };
}

function cgroupIds(root: string): Map<bigint, string> {
  const out = new Map<bigint, string>();
  const walk = (dir: string, depth: number) => {
    try { out.set(statSync(dir, { bigint: true }).ino, dir); } catch { return; }
    if (depth > 32) return;
    let names: string[];
    try { names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name); } catch { return; }
    for (const n of names) walk(join(dir, n), depth + 1);
  };
  walk(root, 0);
  return out;
}

function partitions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (readOr("/proc/partitions") ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length === 4 && /^\d+$/.test(f[0]!)) out.set(`${f[0]}:${f[1]}`, f[3]!);
  }
  return out;
}

function interfaces(): Map<number, string> {
  const out = new Map<number, string>();
  let names: string[] = [];
  try { names = readdirSync("/sys/class/net"); } catch { /* no sysfs */ }
  for (const n of names) {
    const idx = Number(readOr(`/sys/class/net/${n}/ifindex`)?.trim());
    if (Number.isInteger(idx)) out.set(idx, n);
  }
  return out;
}

function lookupRefreshing<K, V>(t: { get(): Map<K, V>; refresh(): Map<K, V> | undefined }, k: K): V | undefined {
  return t.get().get(k) ?? t.refresh()?.get(k);
}

/** The decoder environment of the running machine. */
export function machineEnv(opts: { cgroupRoot?: string; kallsyms?: string } = {}): DecoderEnv {
  // kallsyms is large (~10^5 lines, a second to read on a busy machine): re-read on a miss at most every 10 minutes
  const ksyms = refreshing(() => new Kallsyms(readOr(opts.kallsyms ?? "/proc/kallsyms") ?? ""), 600_000);
  const cgroups = refreshing(() => cgroupIds(opts.cgroupRoot ?? "/sys/fs/cgroup"));
  const parts = refreshing(partitions);
  const ifs = refreshing(interfaces);
  let pci: PciDb | undefined | null = null;
  return {
    ksym: (addr) => ksyms.get().lookup(addr) ?? ksyms.refresh()?.lookup(addr),
    syscallName: (nr) => (process.arch === "x64" ? SYSCALLS_X86_64[nr] || undefined : undefined),
    cgroupPath: (id) => lookupRefreshing(cgroups, id),
    blockDevice: (major, minor) => lookupRefreshing(parts, `${major}:${minor}`),
    ifName: (idx) => lookupRefreshing(ifs, idx),
    get pci() {
      if (pci === null) {
        const src = readOr("/usr/share/misc/pci.ids") ?? readOr("/usr/share/hwdata/pci.ids");
        pci = src === undefined ? undefined : parsePciIds(src);
      }
      return pci;
    },
    littleEndian: endianness() === "LE",
  };
}
