// probe_read and its _kernel/_user/_str variants. A source address inside the address space is read from it (args.ts
// probeBytes); any other address goes to HelperEnv.readForeign. On failure the destination is zeroed and -EFAULT returned,
// as bpf_probe_read_kernel_common / strncpy_from_*_nofault do.
import type { HelperFn } from "./types.ts";
import { E, argNum, argPtr, argU64, probeBytes, retI32 } from "./args.ts";

const probeRead = (user: boolean): HelperFn => (h) => {
  const size = argNum(h, 2);
  const dst = argPtr(h, 1, size, true);
  const bytes = probeBytes(h, argU64(h, 3), size, user);
  if (bytes === undefined || bytes.length !== size) { h.space.fillChecked(dst, size, 0, h.pc); return retI32(h, -E.EFAULT); }
  h.space.setChecked(dst, bytes, h.pc);
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
    const b = probeBytes(h, src + BigInt(n), 1, user);
    if (b === undefined || b.length !== 1) { h.space.fillChecked(dst, size, 0, h.pc); return retI32(h, -E.EFAULT); }
    if (b[0] === 0) break;
    u8[dst + n] = b[0]!; // dst + n < dst + size: inside the range argPtr checked
  }
  u8[dst + n] = 0;
  retI32(h, n + 1);
};

export const probeReadKernel = probeRead(false);
export const probeReadUser = probeRead(true);
export const probeReadKernelStr = probeReadStr(false);
export const probeReadUserStr = probeReadStr(true);
