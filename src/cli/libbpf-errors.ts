// libbpf_strerror's text for what bpfkit's loader reports: the errno libbpf would return from bpf_object__open for the
// same defect (its own LIBBPF_ERRNO__* codes above 4000, strerror below).
import type { BpfError } from "../errors.ts";

const TEXT: Readonly<Record<string, string>> = {
  FORMAT: "BPF object format invalid", ENDIAN: "Endian mismatch",
  EINVAL: "Invalid argument", ENOENT: "No such file or directory", E2BIG: "Argument list too long",
  ELOOP: "Too many levels of symbolic links", ENOTSUPP: "Operation not supported", EOPNOTSUPP: "Operation not supported",
  ERANGE: "Numerical result out of range", EPROTO: "Protocol error", ENOMEM: "Cannot allocate memory",
  ESRCH: "No such process", EEXIST: "File exists", EPERM: "Operation not permitted",
};

/** The libbpf_strerror text for an error of bpfkit's object loader. */
export function libbpfOpenError(e: BpfError): string {
  if (e.message.includes("endianness mismatch")) return TEXT.ENDIAN!;
  if (e.message.startsWith("ELF: ")) return TEXT.FORMAT!;
  return TEXT[e.code] ?? "Invalid argument";
}
