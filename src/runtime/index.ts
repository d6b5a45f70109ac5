// The runtime: program types and the contexts their test runs get (skb/__sk_buff, xdp_md, raw memory), built the way
// BPF_PROG_TEST_RUN builds them, testRun (repeat, data_out, ctx_out, duration), and the context layouts as data.
// May import: vm, helpers, maps, isa, uapi, object (map declarations). Pure: no node: imports.
export { buildContext, buildSkbContext, buildXdpContext, buildMemContext, buildRegsContext } from "./contexts.ts";
export type { TestRunContext, SkbOptions } from "./contexts.ts";
export { testRun } from "./test-run.ts";
export type { TestRunOptions, TestRunResult } from "./test-run.ts";
export { PROGRAM_TYPES, PROG_TYPE_NAMES, PT_REGS_SIZE, SK_BUFF_FIELDS, SK_BUFF_SIZE, XDP_MD_FIELDS, XDP_MD_SIZE, fieldOf } from "./layouts.ts";
export type { CtxField, ContextKind, ProgramTypeInfo } from "./layouts.ts";
export { createObjectMaps, toMapSpec } from "./object-maps.ts";
