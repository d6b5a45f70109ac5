// The object model both backends share: a Program, a BpfMap and a Link are an fd in a Backend plus what user space
// does with it (test runs, attach, pin; typed map access with per-CPU values as the kernel lays them out: value_size
// rounded up to 8 bytes per possible CPU).
import { BpfError } from "../errors.ts";
import { PROG_TYPE_NAMES } from "../uapi/index.ts";
import { errnoOf } from "./backend.ts";
import type { AttachTarget, Attachment, Backend, MapInfo, ProgInfo, TestRunAttr, TestRunResult } from "./backend.ts";

// BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
const PER_CPU_TYPES = new Set([5, 6, 10, 21]);
const ENOENT = 2;

/** f(), or `absent` when the backend answers ENOENT. */
function unlessNoEntry<T>(f: () => T, absent: T): T {
  try {
    return f();
  } catch (e) {
    if (errnoOf(e) === ENOENT) return absent;
    throw e;
  }
}

export class BpfMap {
  readonly perCpu: boolean;
  readonly cpus: number;
  /** bytes of one CPU's value in a per-CPU lookup buffer */
  readonly stride: number;
  private open = true;

  constructor(readonly backend: Backend, readonly fd: number, readonly type: number, readonly keySize: number,
    readonly valueSize: number, readonly maxEntries: number, readonly name = "") {
    this.perCpu = PER_CPU_TYPES.has(type);
    this.cpus = this.perCpu ? backend.possibleCpus() : 1;
    this.stride = this.perCpu ? (valueSize + 7) & ~7 : valueSize;
  }

  /** A map of this backend by fd, its shape read with BPF_OBJ_GET_INFO_BY_FD. */
  static fromFd(backend: Backend, fd: number): BpfMap {
    const i = backend.mapInfo(fd);
    return new BpfMap(backend, fd, i.type, i.keySize, i.valueSize, i.maxEntries, i.name);
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
    return unlessNoEntry(() => (this.backend.mapLookupElem(this.fd, key, value), value), undefined);
  }

  /** Per-CPU values, one slice per possible CPU (a single element for ordinary maps). */
  lookupPerCpu(key: Uint8Array | null): Uint8Array[] | undefined {
    const all = this.lookup(key);
    if (all === undefined) return undefined;
    return Array.from({ length: this.cpus }, (_, c) => all.slice(c * this.stride, c * this.stride + this.valueSize));
  }

  /** Update with BPF_ANY/NOEXIST/EXIST; per-CPU maps take one value per CPU (or one value copied to every CPU). */
  update(key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    this.checkKey(key);
    let v = value;
    if (this.perCpu && value.length === this.valueSize && this.cpus > 1) {
      v = new Uint8Array(this.stride * this.cpus);
      for (let c = 0; c < this.cpus; c++) v.set(value, c * this.stride);
    }
    this.backend.mapUpdateElem(this.fd, key, v, flags);
  }

  delete(key: Uint8Array | null): void {
    this.checkKey(key);
    this.backend.mapDeleteElem(this.fd, key);
  }

  /** Queue/stack pop (key null) or hash lookup-and-delete; undefined when empty/absent. */
  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    const value = new Uint8Array(this.stride * this.cpus);
    return unlessNoEntry(() => (this.backend.mapLookupAndDeleteElem(this.fd, key, value), value), undefined);
  }

  /** The key after `key` (the first key for null), or undefined at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    this.checkKey(key);
    const next = new Uint8Array(this.keySize);
    return this.backend.mapGetNextKey(this.fd, key, next) ? next : undefined;
  }

  /** Every key, in the backend's iteration order. */
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

  freeze(): void { this.backend.mapFreeze(this.fd); }
  pin(path: string): void { this.backend.objPin(this.fd, path); }
  info(): MapInfo { return this.backend.mapInfo(this.fd); }

  close(): void {
    if (this.open) this.backend.close(this.fd);
    this.open = false;
  }
}

export class Program {
  private open = true;
  constructor(readonly backend: Backend, readonly fd: number, readonly name: string, readonly type: number,
    /** the ELF section it came from ("" for programs not from an object) */
    readonly section = "") {}

  /** The type as bpftool names it (socket_filter, xdp, tracepoint, ...). */
  get typeName(): string { return PROG_TYPE_NAMES[this.type] ?? `type ${this.type}`; }

  info(): ProgInfo { return this.backend.progInfo(this.fd); }

  /** BPF_PROG_TEST_RUN: `data` is the packet (or memory) the program type's context is built over. */
  testRun(data?: Uint8Array, attr: Omit<TestRunAttr, "dataIn"> = {}): TestRunResult {
    return this.backend.progTestRun(this.fd, { ...attr, ...(data && data.length ? { dataIn: data } : {}) });
  }

  attach(target: AttachTarget): Link {
    return new Link(this.backend.attach(this.fd, target), target);
  }

  pin(path: string): void { this.backend.objPin(this.fd, path); }

  close(): void {
    if (this.open) this.backend.close(this.fd);
    this.open = false;
  }
}

/** An attachment of a program to an event; close() detaches it. */
export class Link {
  constructor(readonly attachment: Attachment, readonly target: AttachTarget) {}
  get id(): number | undefined { return this.attachment.linkId; }
  close(): void { this.attachment.close(); }
}
