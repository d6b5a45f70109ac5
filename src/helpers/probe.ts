// probe_read and its _kernel/_user/_str variants. A source address inside the address space is read from it;
// any other address goes to HelperEnv.readForeign. On failure the destination is zeroed and -EFAULT returned,
// as bpf_probe_read_kernel_common / strncpy_from_*_nofault do.
import type { HelperCall, HelperFn } from "./types.ts";
import { E, argNum, argPtr, argU64, retI32 } from "./args.ts";

/** `size` bytes at a 64-bit source address, or undefined when unreadable. */
function readSource(h: HelperCall, src: bigint, size: number, user: boolean): Uint8Array | undefined {
  if (size === 0) return new Uint8Array(0);
  if (src < 0x100000000n && h.space.check(Number(src), size, false)) {
    const a = Number(src);
    return h.space.u8.slice(a, a + size);
  }
  return h.env.readForeign(src, size, user);
}

const probeRead = (user: boolean): HelperFn => (h) => {
  const size = argNum(h, 2);
  const dst = argPtr(h, 1, size, true);
  const bytes = readSource(h, argU64(h, 3), size, user);
  if (bytes === undefined) { h.space.u8.fill(0, dst, dst + size); return retI32(h, -E.EFAULT); }
  h.space.u8.set(bytes, dst);
  retI32(h, 0);
};

/** Copies up to size-1 bytes and a NUL; returns the length including the NUL. */
const probeReadStr = (user: boolean): HelperFn => (h) => {
  const size = argNum(h, 2);
  const dst = argPtr(h, 1, size, true);
  if (size === 0) return retI32(h, 0);
  const src = argU64(h, 3);
  const u8 = h.space.u8;
  let n = 0;
  for (; n < size - 1; n++) {
    const b = readSource(h, src + BigInt(n), 1, user);
    if (b === undefined) { u8.fill(0, dst, dst + size); return retI32(h, -E.EFAULT); }
    if (b[0] === 0) break;
    u8[dst + n] = b[0]!;
  }
  u8[dst + n] = 0;
  retI32(h, n + 1);
};

export const probeReadKernel = probeRead(false);
export const probeReadUser = probeRead(true);
export const probeReadKernelStr = probeReadStr(false);
export const probeReadUserStr = probeReadStr(true);
