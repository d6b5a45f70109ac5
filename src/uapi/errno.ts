// Linux errno numbers (include/uapi/asm-generic/errno-base.h and errno.h, as on x86_64 and arm64) that bpf() and the
// helpers return, plus the kernel-internal codes that leak to user space through bpf() (include/linux/errno.h: libc
// has no names for 512-524). One table for the maps, the helpers, the verifier and the tools.

export const ERRNO = {
  EPERM: 1, ENOENT: 2, EIO: 5, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, EINVAL: 22, ENOSPC: 28, ERANGE: 34, ENOSYS: 38, ELOOP: 40, EPROTO: 71, EOPNOTSUPP: 95,
  ERESTARTSYS: 512, ENOIOCTLCMD: 516, ENOTSUPP: 524,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const NAME_OF = new Map<number, ErrnoName>(Object.entries(ERRNO).map(([k, v]) => [v, k as ErrnoName]));

/** The name of a positive errno number in the table above, or undefined. */
export const errnoName = (n: number): ErrnoName | undefined => NAME_OF.get(n);

/** The subset of ERRNO a layer uses, with the same literal values (a layer names only the codes it returns). */
export function pickErrno<K extends ErrnoName>(names: readonly K[]): { readonly [P in K]: (typeof ERRNO)[P] } {
  return Object.fromEntries(names.map((k) => [k, ERRNO[k]])) as { readonly [P in K]: (typeof ERRNO)[P] };
}
