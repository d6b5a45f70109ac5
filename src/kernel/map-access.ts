// User-space access to a kernel map: lookup/update/delete/get_next_key on bytes, iteration, per-CPU values
// (the kernel copies value_size rounded up to 8 bytes per possible CPU), and typed views through small codecs.
import { BpfError } from "../errors.ts";
import {
  BPF_ANY, closeFd, mapDeleteElem, mapGetNextKey, mapLookupAndDeleteElem, mapLookupElem, mapUpdateElem,
} from "./bpf.ts";
import { KernelError, possibleCpus } from "./libc.ts";

// BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
const PER_CPU_TYPES = new Set([5, 6, 10, 21]);

export class KernelMap {
  readonly perCpu: boolean;
  readonly cpus: number;
  /** bytes of one CPU's value in a per-CPU lookup buffer */
  readonly stride: number;
  private open = true;

  constructor(readonly fd: number, readonly type: number, readonly keySize: number, readonly valueSize: number,
    readonly maxEntries: number) {
    this.perCpu = PER_CPU_TYPES.has(type);
    this.cpus = this.perCpu ? possibleCpus() : 1;
    this.stride = this.perCpu ? (valueSize + 7) & ~7 : valueSize;
  }

  private checkKey(key: Uint8Array | null): void {
    if (key !== null && key.length !== this.keySize) {
      throw new BpfError("EINVAL", `map key is ${key.length} bytes, the map's key_size is ${this.keySize}`);
    }
  }

  /** The value bytes (all CPUs concatenated for per-CPU maps), or undefined when the key is absent (ENOENT). */
  lookup(key: Uint8Array | null): Uint8Array | undefined {
    this.checkKey(key);
    const value = new Uint8Array(this.stride * this.cpus);
    try {
      mapLookupElem(this.fd, key, value);
    } catch (e) {
      if (e instanceof KernelError && e.code === "ENOENT") return undefined;
      throw e;
    }
    return value;
  }

  /** Per-CPU values, one slice per possible CPU (a single element for ordinary maps). */
  lookupPerCpu(key: Uint8Array | null): Uint8Array[] | undefined {
    const all = this.lookup(key);
    if (all === undefined) return undefined;
    return Array.from({ length: this.cpus }, (_, c) => all.slice(c * this.stride, c * this.stride + this.valueSize));
  }

  /** Update with BPF_ANY/NOEXIST/EXIST; per-CPU maps take one value per CPU (or one value copied to every CPU). */
  update(key: Uint8Array | null, value: Uint8Array, flags = BPF_ANY): void {
    this.checkKey(key);
    let v = value;
    if (this.perCpu && value.length === this.valueSize && this.cpus > 1) {
      v = new Uint8Array(this.stride * this.cpus);
      for (let c = 0; c < this.cpus; c++) v.set(value, c * this.stride);
    }
    mapUpdateElem(this.fd, key, v, flags);
  }

  delete(key: Uint8Array | null): void {
    this.checkKey(key);
    mapDeleteElem(this.fd, key);
  }

  /** Queue/stack pop (key null) or hash lookup-and-delete; undefined when empty/absent. */
  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    const value = new Uint8Array(this.stride * this.cpus);
    try {
      mapLookupAndDeleteElem(this.fd, key, value);
    } catch (e) {
      if (e instanceof KernelError && e.code === "ENOENT") return undefined;
      throw e;
    }
    return value;
  }

  /** The key after `key` (the first key for null), or undefined at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    this.checkKey(key);
    const next = new Uint8Array(this.keySize);
    return mapGetNextKey(this.fd, key, next) ? next : undefined;
  }

  /** Every key, in the kernel's iteration order. */
  *keys(): Generator<Uint8Array> {
    for (let k = this.nextKey(null); k !== undefined; k = this.nextKey(k)) yield k;
  }

  /** Every (key, value) pair; keys deleted during the walk are skipped. */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  close(): void {
    if (this.open) closeFd(this.fd);
    this.open = false;
  }
}

/** Encodes and decodes one key or value type. */
export interface Codec<T> {
  readonly size: number;
  encode(v: T): Uint8Array;
  decode(b: Uint8Array): T;
}

const le = (size: number, put: (v: DataView, x: never) => void, get: (v: DataView) => unknown) => ({
  size,
  encode(x: unknown) { const b = new Uint8Array(size); put(new DataView(b.buffer), x as never); return b; },
  decode(b: Uint8Array) { return get(new DataView(b.buffer, b.byteOffset, size)); },
});

export const u32: Codec<number> = le(4, (v, x: number) => v.setUint32(0, x, true), (v) => v.getUint32(0, true)) as Codec<number>;
export const i32: Codec<number> = le(4, (v, x: number) => v.setInt32(0, x, true), (v) => v.getInt32(0, true)) as Codec<number>;
export const u64: Codec<bigint> = le(8, (v, x: bigint) => v.setBigUint64(0, x, true), (v) => v.getBigUint64(0, true)) as Codec<bigint>;
export const i64: Codec<bigint> = le(8, (v, x: bigint) => v.setBigInt64(0, x, true), (v) => v.getBigInt64(0, true)) as Codec<bigint>;
export const bytes = (size: number): Codec<Uint8Array> => ({ size, encode: (x) => x, decode: (b) => b.slice(0, size) });

/** A kernel map seen through key and value codecs. */
export class TypedKernelMap<K, V> {
  constructor(readonly map: KernelMap, readonly key: Codec<K>, readonly value: Codec<V>) {
    if (key.size !== map.keySize || value.size !== map.valueSize) {
      throw new BpfError("EINVAL", `codec sizes ${key.size}/${value.size} do not match the map's key/value sizes ${map.keySize}/${map.valueSize}`);
    }
  }
  get(k: K): V | undefined {
    const b = this.map.lookup(this.key.encode(k));
    return b === undefined ? undefined : this.value.decode(b);
  }
  /** Per-CPU maps: each CPU's value. */
  getPerCpu(k: K): V[] | undefined {
    return this.map.lookupPerCpu(this.key.encode(k))?.map((b) => this.value.decode(b));
  }
  set(k: K, v: V, flags = BPF_ANY): void {
    this.map.update(this.key.encode(k), this.value.encode(v), flags);
  }
  delete(k: K): void {
    this.map.delete(this.key.encode(k));
  }
  *entries(): Generator<[K, V]> {
    for (const [k, v] of this.map.entries()) yield [this.key.decode(k), this.value.decode(v)];
  }
  /** Per-CPU maps: every key with its values on each CPU. */
  *entriesPerCpu(): Generator<[K, V[]]> {
    for (const k of this.map.keys()) {
      const vs = this.map.lookupPerCpu(k);
      if (vs) yield [this.key.decode(k), vs.map((b) => this.value.decode(b))];
    }
  }
}
