// The eBPF verifier: the kernel's safety proof re-done in TypeScript — structure checks (CFG), tnum and range
// domains, register/stack state with pruning, per-program-type context rules, helper prototypes, kernel-format log.
// Imports isa (instructions, disassembler) and helpers (ids, prototypes); pure, no node: imports.
export { verify, progTypeNumber, type VerifyOptions, type VerifyResult, type VerifyError, type VerifyStats } from "./verify.ts";
export type { AccessFact, VerifierMapSpec } from "./env.ts";
export { explain } from "./explain.ts";
export * as tnum from "./tnum.ts";
