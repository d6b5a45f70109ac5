// The spin lock maps take in the address space (the kernel's raw spinlocks: htab bucket locks, the LPM trie lock, the
// queue/stack lock): one i32 word, 0 free, 1 held, taken with Atomics so CPUs on other threads sharing the memory
// exclude each other. In unshared memory the only possible holder is this very thread (a program re-entering the
// map from a callback), which the kernel answers with -EBUSY; so does a lock held past SPIN_LIMIT tries.
import type { AddressSpace } from "../vm/memory.ts";

const SPIN_LIMIT = 1 << 24;

/** Takes the lock at word index `w` of space.i32; false when it cannot (the caller returns -EBUSY). */
export function spinLock(space: AddressSpace, w: number): boolean {
  const i32 = space.i32;
  if (Atomics.compareExchange(i32, w, 0, 1) === 0) return true;
  if (!space.shared) return false;
  for (let n = 0; n < SPIN_LIMIT; n++) if (Atomics.compareExchange(i32, w, 0, 1) === 0) return true;
  return false;
}

export function spinUnlock(space: AddressSpace, w: number): void {
  Atomics.store(space.i32, w, 0);
}
