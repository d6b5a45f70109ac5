// Reading helper arguments (r1-r5) and writing the result (r0) on the VM's 32-bit register halves, with the
// pointer checks the verifier would have proven (here: checked at run time, a bad pointer faults naming the pc).
import { BpfError } from "../errors.ts";
import { pickErrno } from "../uapi/index.ts";
import type { HelperCall } from "./types.ts";

const TWO32 = 4294967296;

/** Linux errno values helpers return negated. */
export const E = pickErrno([
  "EPERM", "ENOENT", "E2BIG", "EFAULT", "EBUSY", "EEXIST", "EINVAL", "ENOSPC", "ERANGE", "ENOTSUPP", "EOPNOTSUPP", "EAGAIN",
]);

export const argU32 = (h: HelperCall, i: number): number => h.lo[i]! >>> 0;
export const argI32 = (h: HelperCall, i: number): number => h.lo[i]! | 0;
export const argU64 = (h: HelperCall, i: number): bigint => (BigInt(h.hi[i]! >>> 0) << 32n) | BigInt(h.lo[i]! >>> 0);
/** An argument as a number when it fits in 53 bits (sizes, flags), else NaN. */
export const argNum = (h: HelperCall, i: number): number => {
  const hi = h.hi[i]! >>> 0;
  return hi < 0x200000 ? hi * TWO32 + (h.lo[i]! >>> 0) : NaN;
};

/**
 * A pointer argument: its address (high half must be 0), checked by the address space for `size` bytes (an integer
 * below 2^32; NaN from argNum faults). Size 0 still needs a mapped address (or NULL): nothing is touched, but a
 * pointer past memory is a fault, not a silent success.
 */
export function argPtr(h: HelperCall, i: number, size: number, write: boolean): number {
  const a = h.lo[i]! >>> 0;
  if (h.hi[i] !== 0) {
    throw new BpfError("FAULT", `pc ${h.pc}: helper argument r${i} is not a valid pointer (0x${argU64(h, i).toString(16)})`, { pc: h.pc });
  }
  if (!h.space.check(a, size, write) && !(size === 0 && a === 0)) throw h.space.fault(a, size, write, h.pc);
  return a;
}

/** Like argPtr, but null (0) is allowed and yields 0. */
export const argPtrOrNull = (h: HelperCall, i: number, size: number, write: boolean): number =>
  h.lo[i] === 0 && h.hi[i] === 0 ? 0 : argPtr(h, i, size, write);

/** r0 = a signed 32-bit value sign-extended to 64 (helpers return long: -errno is negative). */
export function retI32(h: HelperCall, v: number): void {
  h.lo[0] = v; h.hi[0] = v >> 31;
}
/** r0 = an unsigned 32-bit value. */
export function retU32(h: HelperCall, v: number): void {
  h.lo[0] = v; h.hi[0] = 0;
}
/** r0 = a 64-bit value. */
export function retU64(h: HelperCall, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  h.lo[0] = Number(u & 0xffffffffn); h.hi[0] = Number(u >> 32n);
}
/** r0 = a number (pointer or count) below 2^53, or a negative errno. */
export function retNum(h: HelperCall, v: number): void {
  h.lo[0] = v; h.hi[0] = Math.floor(v / TWO32);
}

/** The map a map-pointer argument designates; faults when it designates none (the verifier proves this). */
export function argMap(h: HelperCall, i: number) {
  const m = h.hi[i] === 0 ? h.mapAt(h.lo[i]! >>> 0) : undefined;
  if (m === undefined) {
    throw new BpfError("FAULT", `pc ${h.pc}: helper argument r${i} (0x${argU64(h, i).toString(16)}) is not a map`, { pc: h.pc });
  }
  return m;
}

/** A NUL-terminated string at `addr` (at most `max` bytes are read); faults when unterminated in its region. */
export function readCString(h: HelperCall, addr: number, max: number): string {
  const u8 = h.space.u8;
  let end = addr;
  while (end - addr < max && h.space.check(end, 1, false) && u8[end] !== 0) end++;
  return latin1(u8.subarray(addr, end));
}

/**
 * A kernel-style read (copy_from_kernel_nofault / probe_read): an address whose first byte is mapped reads from the
 * address space, and like the kernel reading adjacent memory it may run past its region (into the guard gap or the
 * next region); any other address goes to HelperEnv.readForeign. Undefined when unreadable.
 */
export function probeBytes(h: HelperCall, addr: bigint, size: number, user = false): Uint8Array | undefined {
  if (size === 0) return new Uint8Array(0);
  if (addr < 0x100000000n) {
    const a = Number(addr);
    if (h.space.find(a) !== undefined && a + size <= h.space.u8.length) return h.space.u8.slice(a, a + size);
  }
  return h.env.readForeign(addr, size, user);
}

/** A NUL-terminated string read the probe way (strncpy_from_kernel_nofault), at most `max` bytes; undefined when unreadable. */
export function probeString(h: HelperCall, addr: bigint, max: number, user = false): string | undefined {
  const room = addr < 0x100000000n ? h.space.u8.length - Number(addr) : max;
  const bytes = probeBytes(h, addr, Math.max(1, Math.min(max, room)), user);
  if (bytes === undefined) return undefined;
  const nul = bytes.indexOf(0);
  return latin1(nul < 0 ? bytes : bytes.subarray(0, nul));
}

export const latin1 = (b: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};

export const unsupported = (h: HelperCall, what: string): BpfError =>
  new BpfError("UNSUPPORTED", `pc ${h.pc}: ${what}`, { pc: h.pc });
