// Error values shared by every layer: a code, a location, and the text the Linux tool would print.
// The core never prints or exits; the CLI renders these.

/** Where an error happened: any subset of program counter, file offset, source position, section. */
export interface BpfErrorLocation {
  readonly file?: string;
  readonly pc?: number;
  readonly offset?: number;
  readonly section?: string;
  readonly line?: number;
  readonly column?: number;
}

/** Stable machine-readable error kinds; `errno` names follow Linux where one applies. */
export type BpfErrorCode =
  | "EINVAL" | "ENOENT" | "EEXIST" | "E2BIG" | "ENOMEM" | "EPERM" | "EACCES" | "EFAULT" | "ENOSPC" | "EBUSY"
  | "ENOTSUPP" | "EOPNOTSUPP" | "ELOOP" | "ERANGE" | "EBADF" | "ENOSYS" | "ESRCH"
  | "DECODE" | "ASSEMBLE" | "FAULT" | "BUDGET" | "PARSE" | "FORMAT" | "VERIFY" | "UNSUPPORTED" | "IO";

export class BpfError extends Error {
  readonly code: BpfErrorCode;
  readonly location: BpfErrorLocation;
  constructor(code: BpfErrorCode, message: string, location: BpfErrorLocation = {}) {
    super(message);
    this.name = "BpfError";
    this.code = code;
    this.location = location;
  }
}

export function isBpfError(e: unknown): e is BpfError {
  return e instanceof BpfError;
}
