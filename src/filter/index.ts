// pcap-filter(7) → classic BPF, identical to libpcap 1.10 (tcpdump 4.99): lexer and parser (syntax tree),
// code generator (block graph), optimizer, and layout into instructions. Imports isa/ only; runs in a browser.
export { compileFilter, buildBlockGraph, resolveLinkType } from "./compile.ts";
export type { CompileOptions, CompiledFilter } from "./compile.ts";
export { parseFilter } from "./parser.ts";
export { tokenize } from "./lexer.ts";
export type { Token } from "./lexer.ts";
export type { Node, Arth, Qual } from "./ast.ts";
export type { Block, ICode } from "./blocks.ts";
export { optimizeBlocks } from "./optimize.ts";
export { linearize } from "./linearize.ts";
export { LINK_TYPES, linkTypeByName, linkTypeByDlt, linkTypeByFileValue, linkTypeDescription } from "./linktypes.ts";
export { compileOfflineFilter } from "./offline.ts";
export type { PacketFilter } from "./offline.ts";
export { scanPcapLe, pcapLeHeader } from "./scan.ts";
export type { PcapLayout } from "./scan.ts";
export { compileOfflineFilterJs } from "./offline-js.ts";
export { cookedKernelProgram } from "./cooked.ts";
