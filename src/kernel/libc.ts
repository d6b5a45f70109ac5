// The few libc entry points the Linux backend needs (syscall, close, ioctl, mmap), bound through koffi, loaded on first
// use so that importing src/kernel never fails: on a system without koffi or libc, `nativeUnavailable()` says why.
// Every failing call becomes a BpfError whose code is the errno name (ENOENT, E2BIG, ...), as the kernel returned it.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { BpfError, type BpfErrorCode } from "../errors.ts";
import { ERRNO } from "../uapi/index.ts";

/** x86_64 and arm64 syscall numbers of the calls the backend makes by number. */
const SYSCALL_NUMBERS: Record<string, { bpf: number; perfEventOpen: number; capget: number; capset: number }> = {
  x64: { bpf: 321, perfEventOpen: 298, capget: 125, capset: 126 },
  arm64: { bpf: 280, perfEventOpen: 241, capget: 90, capset: 91 },
};

// koffi is loosely typed; the surface used here is narrowed to these signatures.
type NativeFn = (...args: unknown[]) => number | bigint;
interface PollHandle { close(): void; unref(): void }
interface Koffi {
  node: { poll(fd: number, opts: { readable?: boolean }, cb: (ev: unknown) => void): PollHandle };
  load(path: string): { func(decl: string): NativeFn };
  errno(): number;
  address(v: unknown): bigint;
  view(ptr: unknown, len: number): ArrayBuffer;
  os: { errno: Record<string, number> };
}

interface Libc {
  koffi: Koffi;
  syscall: NativeFn;
  close: NativeFn;
  ioctl: NativeFn;
  mmap: NativeFn;
  munmap: NativeFn;
  strerror: NativeFn;
  clockGettime: NativeFn;
  setsockopt: NativeFn;
  socket: NativeFn;
  bind: NativeFn;
  recvfrom: NativeFn;
  getsockopt: NativeFn;
  send: NativeFn;
  recv: NativeFn;
  getsockname: NativeFn;
  numbers: { bpf: number; perfEventOpen: number; capget: number; capset: number };
  errnoNames: Map<number, string>;
}

let libc: Libc | undefined;
let loadFailure: string | undefined;

// Kernel-internal codes that leak to user space through bpf() (include/linux/errno.h); libc has no names for them.
const KERNEL_ONLY_ERRNOS: Record<number, string> = Object.fromEntries(
  (["ERESTARTSYS", "ENOIOCTLCMD", "ENOTSUPP"] as const).map((n) => [ERRNO[n], n]),
);
// When libc has two names for one number, the one the kernel sources use.
const PREFERRED = new Set(["EAGAIN", "EOPNOTSUPP", "EDEADLK"]);

function loadLibc(): Libc | undefined {
  if (libc !== undefined || loadFailure !== undefined) return libc;
  if (process.platform !== "linux") {
    loadFailure = `the kernel backend needs Linux (this is ${process.platform})`;
    return undefined;
  }
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (numbers === undefined) {
    loadFailure = `the kernel backend knows no bpf() syscall number for ${process.arch}`;
    return undefined;
  }
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)("koffi") as Koffi;
  } catch (e) {
    loadFailure = `the kernel backend needs the optional npm package koffi (${(e as Error).message.split("\n")[0]})`;
    return undefined;
  }
  try {
    const lib = koffi.load("libc.so.6");
    const errnoNames = new Map<number, string>();
    for (const [name, n] of Object.entries(koffi.os.errno)) {
      if (!errnoNames.has(n) || PREFERRED.has(name)) errnoNames.set(n, name);
    }
    for (const [n, name] of Object.entries(KERNEL_ONLY_ERRNOS)) errnoNames.set(Number(n), name);
    libc = {
      koffi,
      syscall: lib.func("long syscall(long, ...)"),
      close: lib.func("int close(int)"),
      ioctl: lib.func("int ioctl(int, unsigned long, ...)"),
      mmap: lib.func("void *mmap(void *, size_t, int, int, int, int64_t)"),
      munmap: lib.func("int munmap(void *, size_t)"),
      strerror: lib.func("const char *strerror(int)"),
      clockGettime: lib.func("int clock_gettime(int, void *)"),
      setsockopt: lib.func("int setsockopt(int, int, int, uint64_t, uint32_t)"),
      socket: lib.func("int socket(int, int, int)"),
      bind: lib.func("int bind(int, void *, uint32_t)"),
      recvfrom: lib.func("long recvfrom(int, void *, size_t, int, void *, void *)"),
      getsockopt: lib.func("int getsockopt(int, int, int, void *, void *)"),
      send: lib.func("long send(int, void *, size_t, int)"),
      recv: lib.func("long recv(int, void *, size_t, int)"),
      getsockname: lib.func("int getsockname(int, void *, void *)"),
      numbers,
      errnoNames,
    };
  } catch (e) {
    loadFailure = `cannot bind libc.so.6 through koffi: ${(e as Error).message}`;
  }
  return libc;
}

/** Why native calls cannot be made here, or undefined when they can. */
export function nativeUnavailable(): string | undefined {
  loadLibc();
  return libc === undefined ? loadFailure : undefined;
}

function need(): Libc {
  const l = loadLibc();
  if (l === undefined) throw new BpfError("UNSUPPORTED", loadFailure ?? "kernel backend unavailable");
  return l;
}

/** The errno name for a number (`EINVAL`), `E<n>` when unknown. */
export function errnoName(n: number): string {
  return need().errnoNames.get(n) ?? `E${n}`;
}

/** An error carrying the errno name as its code (BpfErrorCode lists the common ones; others pass through as names). */
export class KernelError extends BpfError {
  readonly errno: number;
  readonly command: string;
  readonly log: string;
  constructor(errno: number, command: string, detail = "", log = "") {
    const name = errnoName(errno);
    super(name as BpfErrorCode, `${command}: ${name}${detail ? ` (${detail})` : ""}${log ? `\n${log}` : ""}`);
    this.errno = errno;
    this.command = command;
    this.log = log;
  }
}

/** The address of a typed array's first byte, to place in a bpf_attr field (the array must stay alive across the call). */
export function addressOf(bytes: Uint8Array | null | undefined): bigint {
  if (bytes === null || bytes === undefined || bytes.byteLength === 0) return 0n;
  return need().koffi.address(bytes);
}

/** Raw bpf(cmd, attr, size); returns the non-negative result or the errno as a negative number. */
export function rawBpf(cmd: number, attr: Uint8Array): number {
  const l = need();
  const r = Number(l.syscall(l.numbers.bpf, "int", cmd, "void *", attr, "uint", attr.byteLength));
  return r < 0 ? -l.koffi.errno() : r;
}

/** perf_event_open(attr, pid, cpu, group_fd, flags); throws a KernelError on failure. */
export function perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd = -1, flags = 0): number {
  const l = need();
  const r = Number(l.syscall(l.numbers.perfEventOpen, "void *", attr, "int", pid, "int", cpu, "int", groupFd, "ulong", flags));
  if (r < 0) throw new KernelError(l.koffi.errno(), "perf_event_open");
  return r;
}

const CAP_V3 = 0x20080522;

/**
 * Clears capabilities from the calling thread's effective set (they stay permitted), as bpftool's `feature probe
 * unprivileged` does; the bpf() calls that follow on this thread run without them.
 */
export function dropEffectiveCaps(caps: readonly number[]): void {
  const l = need();
  const header = new Uint32Array([CAP_V3, 0]);
  // two struct __user_cap_data_struct { effective, permitted, inheritable } for capabilities 0-31 and 32-63
  const data = new Uint32Array(6);
  if (Number(l.syscall(l.numbers.capget, "void *", header, "void *", data)) < 0) throw new KernelError(l.koffi.errno(), "capget");
  for (const c of caps) data[(c >> 5) * 3]! &= ~(1 << (c & 31));
  if (Number(l.syscall(l.numbers.capset, "void *", header, "void *", data)) < 0) throw new KernelError(l.koffi.errno(), "capset");
}

/** ioctl(fd, request, arg) with an integer argument. */
export function ioctlInt(fd: number, request: number, arg: number, what: string): number {
  const l = need();
  const r = Number(l.ioctl(fd, request, "ulong", arg));
  if (r < 0) throw new KernelError(l.koffi.errno(), what);
  return r;
}

/** close(fd); errors are ignored, as every caller closing on cleanup would ignore them. */
export function closeFd(fd: number): void {
  if (fd >= 0) need().close(fd);
}

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;

/** A shared mapping of an fd (ring buffer, perf buffer), readable through `bytes` without copies. */
export interface Mapping {
  readonly bytes: Uint8Array;
  unmap(): void;
}

export function mmapShared(fd: number, length: number, offset: number, writable: boolean, what: string): Mapping {
  const l = need();
  const ptr = l.mmap(null, length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset) as unknown;
  const addr = ptr === null ? 0n : l.koffi.address(ptr);
  if (addr === 0n || addr === 0xffffffffffffffffn) throw new KernelError(l.koffi.errno(), what, "mmap");
  const bytes = new Uint8Array(l.koffi.view(ptr, length));
  let live = true;
  return {
    bytes,
    unmap() {
      if (live) l.munmap(ptr, length);
      live = false;
    },
  };
}

/** libc's strerror text ("No such file or directory"), as bpftool prints it. */
export function strerror(n: number): string {
  return String(need().strerror(n) as unknown);
}

export const CLOCK_REALTIME = 0, CLOCK_BOOTTIME = 7;

/** clock_gettime(clock) as [seconds, nanoseconds]. */
export function clockGettime(clock: number): [bigint, bigint] {
  const ts = new Uint8Array(16);
  if (Number(need().clockGettime(clock, ts)) !== 0) throw new KernelError(need().koffi.errno(), "clock_gettime");
  const v = new DataView(ts.buffer);
  return [v.getBigInt64(0, true), v.getBigInt64(8, true)];
}

/** setsockopt with the option value given by address; returns 0 or -errno. */
export function rawSyscallSetsockopt(fd: number, level: number, name: number, valueAddr: bigint, len: number): number {
  const l = need();
  const r = Number(l.setsockopt(fd, level, name, valueAddr, len));
  return r < 0 ? -l.koffi.errno() : r;
}

/** socket(domain, type, protocol) → fd (close it with closeFd). */
export function openSocket(domain: number, type: number, protocol: number): number {
  const l = need();
  const r = Number(l.socket(domain, type, protocol));
  if (r < 0) throw new KernelError(l.koffi.errno(), "socket");
  return r;
}

/** Number of possible CPUs (/sys/devices/system/cpu/possible), the stride of per-CPU map values. */
export function possibleCpus(): number {
  let text = "0";
  try {
    text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
  } catch {
    return 1;
  }
  let n = 0;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map((x) => Number.parseInt(x, 10));
    n = Math.max(n, (b ?? a!) + 1);
  }
  return n;
}

/** Calls `onReadable` from the event loop whenever `fd` becomes readable (epoll through libuv); close() stops it. */
export function watchReadable(fd: number, onReadable: () => void): { close(): void; unref(): void } {
  return need().koffi.node.poll(fd, { readable: true }, () => onReadable());
}

/** bind(fd, sockaddr bytes); throws a KernelError on failure. */
export function bindSocket(fd: number, sockaddr: Uint8Array): void {
  const l = need();
  if (Number(l.bind(fd, sockaddr, sockaddr.length)) < 0) throw new KernelError(l.koffi.errno(), "bind");
}

/** recvfrom(fd, buf, flags, addr): the returned length (the whole packet's under MSG_TRUNC), or -errno. */
export function recvFrom(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array, addrLen: Uint8Array): number {
  const l = need();
  const r = Number(l.recvfrom(fd, buf, buf.length, flags, addr, addrLen));
  return r < 0 ? -l.koffi.errno() : r;
}

/** getsockopt(fd, level, name) into `value`; returns the length written, or -errno. */
export function getSockopt(fd: number, level: number, name: number, value: Uint8Array): number {
  const l = need();
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, value.length, true);
  const r = Number(l.getsockopt(fd, level, name, value, len));
  return r < 0 ? -l.koffi.errno() : new DataView(len.buffer).getUint32(0, true);
}

/** send(fd, bytes, flags): the bytes sent, or -errno. */
export function sendBytes(fd: number, bytes: Uint8Array, flags = 0): number {
  const l = need();
  const r = Number(l.send(fd, bytes, bytes.length, flags));
  return r < 0 ? -l.koffi.errno() : r;
}

/** recv(fd, buf, flags): the length received, or -errno. */
export function recvBytes(fd: number, buf: Uint8Array, flags = 0): number {
  const l = need();
  const r = Number(l.recv(fd, buf, buf.length, flags));
  return r < 0 ? -l.koffi.errno() : r;
}

/** getsockname(fd) into `addr`: the address length, or -errno. */
export function getSockName(fd: number, addr: Uint8Array): number {
  const l = need();
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, addr.length, true);
  const r = Number(l.getsockname(fd, addr, len));
  return r < 0 ? -l.koffi.errno() : new DataView(len.buffer).getUint32(0, true);
}
