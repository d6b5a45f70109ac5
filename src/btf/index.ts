// BTF: parse raw BTF (either byte order, split BTF over a base), validate it like the kernel, dump it byte-identically
// to bpftool 7.1 (raw and C via libbpf's btf_dump rules), read .BTF.ext (func/line info, CO-RE records) and resolve
// CO-RE relocations against a target BTF, and print typed bytes (map keys/values) as bpftool's btf_dumper does.
// Pure: imports only src/errors.ts.
export { Btf, parseBtf, btfTypeRecordSize } from "./parse.ts";
export type { BtfHeader } from "./parse.ts";
export type { BtfType, BtfMember, BtfEnumValue, BtfParam, BtfVarSecinfo } from "./types.ts";
export { VOID_TYPE } from "./types.ts";
export * from "./kinds.ts";
export { dumpBtfRaw, formatRawType } from "./dump-raw.ts";
export type { Sink } from "./dump-raw.ts";
export { dumpBtfC, BtfCDumper } from "./dump-c.ts";
export { parseBtfExt } from "./ext.ts";
export type { BtfExt, FuncInfoRecord, LineInfoRecord, CoreReloRecord, ExtSection } from "./ext.ts";
export { validateBtf } from "./validate.ts";
export type { BtfProblem } from "./validate.ts";
export { resolveSize, alignOf, skipModsAndTypedefs } from "./layout.ts";
export { typeOnlySignature } from "./signature.ts";
export { resolveCoreRelo, essentialNameLength, coreTypesCompatible, CORE_RELO_KIND_NAMES } from "./core.ts";
export type { CoreResult } from "./core.ts";
export { ByteReader, cstring } from "./bytes.ts";
export { encodeBtf } from "./encode.ts";
export { dumpBtfValue } from "./value-dump.ts";
export { JsonWriter } from "./json-writer.ts";
