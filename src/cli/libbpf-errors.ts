// libbpf_strerror's text for what bpfkit's loader reports, and the errno libbpf would return from bpf_object__open
// for the same defect (its own LIBBPF_ERRNO__* codes from 4000 up, the system's below).
import type { BpfError } from "../errors.ts";

const ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  FORMAT: [4001, "BPF object format invalid"], ENDIAN: [4003, "Endian mismatch"],
  EPERM: [1, "Operation not permitted"], ENOENT: [2, "No such file or directory"], ESRCH: [3, "No such process"],
  E2BIG: [7, "Argument list too long"], ENOMEM: [12, "Cannot allocate memory"], EEXIST: [17, "File exists"],
  EINVAL: [22, "Invalid argument"], ERANGE: [34, "Numerical result out of range"], ELOOP: [40, "Too many levels of symbolic links"],
  EPROTO: [71, "Protocol error"], EOPNOTSUPP: [95, "Operation not supported"], ENOTSUPP: [95, "Operation not supported"],
};

/** libbpf's errno and libbpf_strerror text for an error of bpfkit's object loader. */
export function libbpfOpenError(e: BpfError): { readonly errno: number; readonly text: string } {
  const key = e.message.includes("endianness mismatch") ? "ENDIAN" : e.message.startsWith("ELF: ") ? "FORMAT" : e.code;
  const [errno, text] = ERRNO[key] ?? ERRNO.EINVAL!;
  return { errno, text };
}
