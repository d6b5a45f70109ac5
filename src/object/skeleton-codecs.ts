// The codecs and handle types of generated skeletons (`bpfkit gen skeleton`): reading and writing C values of a BTF type
// at an offset of little-endian bytes, and the shapes of a skeleton's maps and programs. Kept apart from the runtime
// (src/cli/gen.ts, which loads into the VM) so a skeleton type-checks against this small module alone. Pure.

/** Reads and writes one value of a C type at an offset of a byte buffer (little-endian, as the VM's memory). */
export interface Codec<T> {
  readonly size: number;
  read(b: Uint8Array, off: number): T;
  write(b: Uint8Array, off: number, v: T): void;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export const C = {
  int(size: 1 | 2 | 4, signed: boolean): Codec<number> {
    return {
      size,
      read: (b, o) => {
        const d = dv(b);
        if (size === 1) return signed ? d.getInt8(o) : d.getUint8(o);
        if (size === 2) return signed ? d.getInt16(o, true) : d.getUint16(o, true);
        return signed ? d.getInt32(o, true) : d.getUint32(o, true);
      },
      write: (b, o, v) => {
        const d = dv(b);
        if (size === 1) d.setUint8(o, v & 0xff);
        else if (size === 2) d.setUint16(o, v & 0xffff, true);
        else d.setUint32(o, v >>> 0, true);
      },
    };
  },
  int64(signed: boolean): Codec<bigint> {
    return {
      size: 8,
      read: (b, o) => (signed ? dv(b).getBigInt64(o, true) : dv(b).getBigUint64(o, true)),
      write: (b, o, v) => dv(b).setBigUint64(o, BigInt.asUintN(64, v), true),
    };
  },
  bool(size: number): Codec<boolean> {
    return { size, read: (b, o) => b.subarray(o, o + size).some((x) => x !== 0), write: (b, o, v) => { b.fill(0, o, o + size); b[o] = v ? 1 : 0; } };
  },
  float(size: 4 | 8): Codec<number> {
    return {
      size,
      read: (b, o) => (size === 4 ? dv(b).getFloat32(o, true) : dv(b).getFloat64(o, true)),
      write: (b, o, v) => (size === 4 ? dv(b).setFloat32(o, v, true) : dv(b).setFloat64(o, v, true)),
    };
  },
  bytes(size: number): Codec<Uint8Array> {
    return { size, read: (b, o) => b.slice(o, o + size), write: (b, o, v) => { b.fill(0, o, o + size); b.set(v.subarray(0, size), o); } };
  },
  array<T>(elem: Codec<T>, n: number, stride: number): Codec<T[]> {
    return {
      size: n * stride,
      read: (b, o) => Array.from({ length: n }, (_, i) => elem.read(b, o + i * stride)),
      write: (b, o, v) => v.slice(0, n).forEach((x, i) => elem.write(b, o + i * stride, x)),
    };
  },
  /** A bitfield: `bits` bits at bit offset `bitOff` from the containing struct's start. */
  bits(bitOff: number, bits: number, signed: boolean): Codec<number> {
    return {
      size: 0,
      read: (b, o) => {
        let v = 0n;
        for (let i = 0; i < bits; i++) {
          const bit = bitOff + i;
          if ((b[o + (bit >> 3)]! >> (bit & 7)) & 1) v |= 1n << BigInt(i);
        }
        return Number(signed ? BigInt.asIntN(bits, v) : v);
      },
      write: (b, o, v) => {
        const u = BigInt.asUintN(bits, BigInt(v));
        for (let i = 0; i < bits; i++) {
          const bit = bitOff + i;
          const at = o + (bit >> 3);
          b[at] = ((u >> BigInt(i)) & 1n) ? b[at]! | (1 << (bit & 7)) : b[at]! & ~(1 << (bit & 7));
        }
      },
    };
  },
  struct<T>(size: number, fields: readonly (readonly [string, number, Codec<unknown>])[]): Codec<T> {
    return {
      size,
      read: (b, o) => Object.fromEntries(fields.map(([n, off, c]) => [n, c.read(b, o + off)])) as T,
      write: (b, o, v) => {
        b.fill(0, o, o + size);
        for (const [n, off, c] of fields) {
          const x = (v as Record<string, unknown>)[n];
          if (x !== undefined) c.write(b, o + off, x);
        }
      },
    };
  },
};

export interface SkeletonMap<K, V> {
  readonly name: string;
  /** The underlying map object of the backend (src/maps BpfMap for the VM). */
  readonly map: unknown;
  lookup(key: K): V | undefined;
  update(key: K, value: V, flags?: number): void;
  delete(key: K): boolean;
  keys(): K[];
}

export interface RunOutput {
  /** r0 as unsigned 64-bit. */
  readonly retval: bigint;
  /** The packet after the run (BPF_PROG_TEST_RUN's data_out). */
  readonly dataOut: Uint8Array;
}

export interface SkeletonProgram {
  readonly name: string;
  readonly section: string;
  /** The backend's loaded program (src/vm LoadedProgram for the VM). */
  readonly loaded: unknown;
  /** Run once on `data` (a packet, or the context bytes for memory-context programs), like `bpftool prog run`. */
  run(data?: Uint8Array): RunOutput;
}

