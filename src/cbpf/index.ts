// Classic BPF in the kernel's image: the interpreter (compileCbpf/runCbpf over a packet + SkbMeta), the checker
// (bpf_check_classic and friends, kernel errnos), seccomp (check, run, action decoding), and the cBPF -> eBPF
// conversion (bpf_convert_filter), and the verifier-checked socket_filter translation live capture can load.
// May import: isa, uapi (and vm for running converted programs). Pure.
export { compileCbpf, runCbpf, predecodeCbpf, validateLibpcap, OP_SECCOMP_LD } from "./interp.ts";
export type { CbpfFilter, CompileOptions } from "./interp.ts";
export type { SkbMeta } from "./skb.ts";
export { skbLoad, skbLength, skbNlattr, skbNlattrNest, LOAD_FAULT } from "./skb.ts";
export { skbPayloadOffset } from "./payoffset.ts";
export { checkCbpfStructure, checkCbpfBasics, CBPF_ALLOWED_CODES } from "./check.ts";
export { prepareCbpf, checkCbpf, attachSocketFilter, checkSocketFilter, BPF_PROG_HEADER_SIZE } from "./prepare.ts";
export type { PreparedCbpf, SocketFilterOptions } from "./prepare.ts";
export { convertCbpf, BPF_REG_A, BPF_REG_X, BPF_REG_CTX, BPF_REG_D, BPF_REG_H, BPF_REG_TMP } from "./convert.ts";
export type { ConvertedProgram } from "./convert.ts";
export { cbpfToSocketFilter } from "./socket-filter.ts";
export { CBPF_SKB, CBPF_NETDEV, CBPF_CALL } from "./skbctx.ts";
export {
  compileSeccomp, seccompCheckFilter, decodeSeccompAction, encodeSeccompData, SeccompFilterChain,
  SECCOMP_ACTIONS, SECCOMP_DATA_SIZE, AUDIT_ARCH_X86_64,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF,
  SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW,
} from "./seccomp.ts";
export type { SeccompAction, SeccompActionName, SeccompData, SeccompFilter } from "./seccomp.ts";
