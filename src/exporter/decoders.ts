// ebpf_exporter's label decoders: a map key is cut into labels (size + padding each, the sizes must add up to the key
// size), and each label's bytes go through its decoder chain (bytes in, bytes out, as in ebpf_exporter: `uint` turns
// bytes into decimal text that `syscall` or `static_map` then read). What the machine knows (kernel symbols, cgroup
// paths, block devices, interfaces, pci.ids) comes through `DecoderEnv`, so this file stays pure.
import { BpfError } from "../errors.ts";
import { errnoName } from "../uapi/errno.ts";
import type { DecoderConfig, LabelConfig } from "./config.ts";
import { goRegexp } from "./config.ts";

export interface PciDb {
  /** "8086" → vendor name */
  readonly vendors: ReadonlyMap<string, string>;
  /** "80861000" (vendor + device) → device name */
  readonly devices: ReadonlyMap<string, string>;
  /** "02" → class name */
  readonly classes: ReadonlyMap<string, string>;
  /** "0200" (class + subclass) → subclass name */
  readonly subclasses: ReadonlyMap<string, string>;
}

export interface DecoderEnv {
  /** the kernel symbol containing `addr` ("name" or "name\t[module]"), from /proc/kallsyms */
  ksym(addr: bigint): string | undefined;
  syscallName(nr: number): string | undefined;
  cgroupPath(id: bigint): string | undefined;
  /** the /dev name of a block device, from /proc/partitions */
  blockDevice(major: number, minor: number): string | undefined;
  ifName(index: number): string | undefined;
  /** undefined when no pci.ids database is installed */
  readonly pci: PciDb | undefined;
  readonly littleEndian: boolean;
}

/** Returned by a decoder chain whose regexp matched nothing: the whole label set is dropped (not an error). */
export const SKIP = Symbol("skip label set");

const utf8 = new TextDecoder("utf-8");
const enc = new TextEncoder();
const text = (b: Uint8Array) => utf8.decode(b);
const bytes = (s: string) => enc.encode(s);

type Step = (input: Uint8Array) => Uint8Array | typeof SKIP;

function fail(decoder: string, msg: string): never {
  throw new BpfError("DECODE", `error decoding with decoder "${decoder}": ${msg}`);
}

function readUint(b: Uint8Array, le: boolean, decoder: string): bigint {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (b.length) {
    case 8: return v.getBigUint64(0, le);
    case 4: return BigInt(v.getUint32(0, le));
    case 2: return BigInt(v.getUint16(0, le));
    case 1: return BigInt(b[0]!);
    default: return fail(decoder, `unknown value length ${b.length}`);
  }
}

function need(b: Uint8Array, n: number, decoder: string): void {
  if (b.length < n) fail(decoder, `needs at least ${n} bytes, the label has ${b.length}`);
}

function decimal(b: Uint8Array, decoder: string): number {
  const s = text(b);
  if (!/^-?[0-9]+$/.test(s)) fail(decoder, `'${s}' is not a number (put a uint decoder before it)`);
  return Number(s);
}

/** Go's net.IP.String(): dotted IPv4, IPv4-mapped IPv6 as IPv4, IPv6 with the longest run of zero groups as "::". */
export function inetIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return b.length === 0 ? "<nil>" : "?" + hex(b);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return inetIp(b.subarray(12));
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const part = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return part(g);
  return `${part(g.slice(0, best))}::${part(g.slice(best + bestLen))}`;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** DNS wire-format name ("\x07example\x03com") → "example.com", as ebpf_exporter's dname does it. */
export function dname(b: Uint8Array): Uint8Array {
  if (b.length === 0) return bytes(".");
  const out = new Uint8Array(b.length);
  for (let off = 0; off < b.length;) {
    const n = b[off]!;
    out[off++] = 0x2e;
    if (off + n > b.length) return b;
    out.set(b.subarray(off, off + n), off);
    off += n;
  }
  return out.subarray(1);
}

/** Linux's new_encode_dev() form (as a u32 in the key) → [major, minor]. */
export function majorMinor(dev: number): [number, number] {
  return [(dev >>> 8) & 0xfff, (dev & 0xff) | ((dev >>> 12) & 0xfff00)];
}

function compileDecoder(d: DecoderConfig, env: DecoderEnv): Step {
  const le = env.littleEndian;
  const name = d.name;
  switch (name) {
    case "uint": return (b) => bytes(readUint(b, le, name).toString());
    case "string": { return (b) => { const z = b.indexOf(0); return z < 0 ? b : b.subarray(0, z); }; }
    case "hex": return (b) => bytes(hex(b));
    case "ksym": return (b) => {
      need(b, 8, name);
      const addr = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, le);
      return bytes(env.ksym(addr) ?? `unknown_addr:0x${addr.toString(16)}`);
    };
    case "kstack": return (b) => {
      const frames: string[] = [];
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let off = 0; off + 8 <= b.length; off += 8) {
        const addr = v.getBigUint64(off, le);
        if (addr === 0n) break;
        frames.push(env.ksym(addr)?.split("\t")[0] ?? "??");
      }
      return bytes(frames.join("\n"));
    };
    case "syscall": return (b) => { const n = decimal(b, name); return bytes(env.syscallName(n) || `unknown_syscall:${n}`); };
    case "errno": return (b) => { const n = decimal(b, name); return bytes(errnoName(n) ?? `unknown:${n}`); };
    case "inet_ip": return (b) => bytes(inetIp(b));
    case "dname": return dname;
    case "static_map": return (b) => {
      if (d.staticMap === undefined) return bytes("empty mapping");
      const k = text(b);
      const v = d.staticMap.get(k);
      if (v !== undefined) return bytes(v);
      return d.allowUnknown ? b : bytes(`unknown:${k}`);
    };
    case "regexp": {
      const res = (d.regexps ?? []).map((r) => new RegExp(goRegexp(r)));
      return (b) => {
        const s = text(b);
        for (const re of res) {
          const m = re.exec(s);
          if (m === null) continue;
          // ebpf_exporter: the first sub-match when there is exactly one group, else the whole match; more groups: next
          if (m.length === 2) return bytes(m[1] ?? "");
          if (m.length === 1) return bytes(m[0]);
        }
        return SKIP;
      };
    }
    case "majorminor": return (b) => {
      need(b, 4, name);
      const [major, minor] = majorMinor(new DataView(b.buffer, b.byteOffset, 4).getUint32(0, le));
      return bytes(env.blockDevice(major, minor) ?? `unknown:${major}:${minor}`);
    };
    case "cgroup": return (b) => {
      const s = text(b);
      if (!/^[0-9]+$/.test(s)) fail(name, `'${s}' is not a number (put a uint decoder before it)`);
      return bytes(env.cgroupPath(BigInt(s)) ?? `unknown_cgroup_id:${s}`);
    };
    case "ifname": return (b) => {
      need(b, 4, name);
      const idx = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, le);
      return bytes(env.ifName(idx) ?? `unknown:${idx}`);
    };
    case "pci_vendor": case "pci_device": case "pci_class": case "pci_subclass": return (b) => {
      const pci = env.pci;
      if (pci === undefined) return bytes("missing pci.ids db");
      const n = decimal(b, name);
      if (name === "pci_vendor") { const k = n.toString(16).padStart(2, "0"); return bytes(pci.vendors.get(k) ?? `unknown pci vendor: 0x${k}`); }
      if (name === "pci_device") { const k = n.toString(16).padStart(4, "0"); return bytes(pci.devices.get(k) ?? `unknown pci device: 0x${k}`); }
      if (name === "pci_class") { const k = n.toString(16).padStart(2, "0"); return bytes(pci.classes.get(k) ?? `unknown pci class: 0x${k}`); }
      const c = (n >> 8).toString(16).padStart(2, "0"), s = (n & 0xff).toString(16).padStart(2, "0");
      if (!pci.classes.has(c)) return bytes(`unknown pci class: 0x${c}`);
      return bytes(pci.subclasses.get(c + s) ?? `unknown pci subclass: 0x${s} (class 0x${c})`);
    };
    default: return fail(name, "unknown decoder");
  }
}

/** Decodes map keys into label values for one metric. */
export interface KeyDecoder {
  readonly keySize: number;
  /** label values, or SKIP when a regexp dropped the key; throws BpfError (code DECODE) on a decoding error */
  decode(key: Uint8Array): string[] | typeof SKIP;
}

/** Compiles a metric's labels; the key must be exactly the labels' sizes and paddings. */
export function compileLabels(labels: readonly LabelConfig[], env: DecoderEnv): KeyDecoder {
  const chains = labels.map((l) => ({ label: l, steps: l.decoders.map((d) => compileDecoder(d, env)) }));
  const keySize = labels.reduce((n, l) => n + l.size + l.padding, 0);
  return {
    keySize,
    decode(key) {
      if (key.length !== keySize) {
        throw new BpfError("DECODE", `error decoding labels: total size of key is ${key.length} bytes, but we have labels to decode ${keySize}`);
      }
      const out = new Array<string>(chains.length);
      let off = 0;
      for (let i = 0; i < chains.length; i++) {
        const { label, steps } = chains[i]!;
        let v: Uint8Array = key.subarray(off, off + label.size);
        for (const step of steps) {
          const r = step(v);
          if (r === SKIP) return SKIP;
          v = r;
        }
        out[i] = text(v);
        off += label.size + label.padding;
      }
      return out;
    },
  };
}

/** Parses pci.ids (the database pciutils ships). */
export function parsePciIds(src: string): PciDb {
  const vendors = new Map<string, string>(), devices = new Map<string, string>();
  const classes = new Map<string, string>(), subclasses = new Map<string, string>();
  let vendor = "", cls = "";
  for (const line of src.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    let m: RegExpExecArray | null;
    if ((m = /^C ([0-9a-f]{2})\s+(.*)$/.exec(line))) { cls = m[1]!; vendor = ""; classes.set(cls, m[2]!); }
    else if ((m = /^([0-9a-f]{4})\s+(.*)$/.exec(line))) { vendor = m[1]!; cls = ""; vendors.set(vendor, m[2]!); }
    else if ((m = /^\t([0-9a-f]{2,4})\s+(.*)$/.exec(line))) {
      if (vendor && m[1]!.length === 4) devices.set(vendor + m[1], m[2]!);
      else if (cls && m[1]!.length === 2) subclasses.set(cls + m[1], m[2]!);
    }
  }
  return { vendors, devices, classes, subclasses };
}
