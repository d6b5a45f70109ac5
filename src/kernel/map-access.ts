// User-space access to a kernel map (src/runtime's BpfMap over the Linux backend) and typed views through small codecs.
import { BpfError } from "../errors.ts";
import { BPF_ANY } from "./bpf.ts";
import { BpfMap } from "../runtime/model.ts";
import { linux } from "./backend.ts";

/** A kernel map by fd: the runtime's BpfMap over the Linux backend. */
export class KernelMap extends BpfMap {
  constructor(fd: number, type: number, keySize: number, valueSize: number, maxEntries: number) {
    super(linux, fd, type, keySize, valueSize, maxEntries);
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

/** A map (either backend) seen through key and value codecs. */
export class TypedKernelMap<K, V> {
  constructor(readonly map: BpfMap, readonly key: Codec<K>, readonly value: Codec<V>) {
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
