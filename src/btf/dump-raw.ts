// `bpftool btf dump ... format raw`: one line per type plus one tab-indented line per member/value/param/var,
// in bpftool 7.1's exact wording (btf.c dump_btf_type). Output goes to a sink so huge BTF (vmlinux) streams.
import * as Kinds from "./kinds.ts";
import type { Btf } from "./parse.ts";
import type { BtfType } from "./types.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

export type Sink = (chunk: string) => void;

const intEncodingName = (e: number): string =>
  e === 0 ? "(none)" : e === K.BTF_INT_SIGNED ? "SIGNED" : e === K.BTF_INT_CHAR ? "CHAR" : e === K.BTF_INT_BOOL ? "BOOL" : "UNKN";

const varLinkageName = (l: number): string =>
  l === K.BTF_VAR_STATIC ? "static" : l === K.BTF_VAR_GLOBAL_ALLOCATED ? "global" : l === K.BTF_VAR_GLOBAL_EXTERN ? "extern" : "(unknown)";

const funcLinkageName = (l: number): string =>
  l === K.BTF_FUNC_STATIC ? "static" : l === K.BTF_FUNC_GLOBAL ? "global" : l === K.BTF_FUNC_EXTERN ? "extern" : "(unknown)";

const kindName = (k: number): string => K.BTF_KIND_NAMES[k] ?? "UNKNOWN";

/** bpftool's btf_str: "(anon)" for offset 0, "(invalid)" outside the strings. */
function str(btf: Btf, off: number): string {
  if (off === 0) return "(anon)";
  return btf.str(off) ?? "(invalid)";
}

/** Two's-complement 64-bit rendering of hi:lo, as printf("%lld") / ("%llu") would. */
function u64Text(hi: number, lo: number, signed: boolean): string {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return (signed ? BigInt.asIntN(64, v) : v).toString();
}

/** The text of one type, exactly as bpftool prints it (including the trailing newline). */
export function formatRawType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${kindName(t.kind)} '${str(btf, t.nameOff)}'`;
  switch (t.kind) {
    case K.BTF_KIND_INT:
      s += ` size=${t.sizeOrType} bits_offset=${t.intOffset} nr_bits=${t.intBits} encoding=${intEncodingName(t.intEncoding)}`;
      break;
    case K.BTF_KIND_PTR: case K.BTF_KIND_CONST: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_RESTRICT:
    case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_TYPE_TAG:
      s += ` type_id=${t.sizeOrType}`;
      break;
    case K.BTF_KIND_ARRAY:
      s += ` type_id=${t.arrayType} index_type_id=${t.arrayIndexType} nr_elems=${t.arrayNelems}`;
      break;
    case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
      s += ` size=${t.sizeOrType} vlen=${t.vlen}`;
      for (const m of t.members) {
        s += `\n\t'${str(btf, m.nameOff)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case K.BTF_KIND_ENUM:
      s += ` encoding=${t.kflag ? "SIGNED" : "UNSIGNED"} size=${t.sizeOrType} vlen=${t.vlen}`;
      for (const v of t.enumValues) s += `\n\t'${str(btf, v.nameOff)}' val=${t.kflag ? v.lo | 0 : v.lo}`;
      break;
    case K.BTF_KIND_ENUM64:
      s += ` encoding=${t.kflag ? "SIGNED" : "UNSIGNED"} size=${t.sizeOrType} vlen=${t.vlen}`;
      for (const v of t.enumValues) {
        s += `\n\t'${str(btf, v.nameOff)}' val=${u64Text(v.hi, v.lo, t.kflag)}${t.kflag ? "LL" : "ULL"}`;
      }
      break;
    case K.BTF_KIND_FWD:
      s += ` fwd_kind=${t.kflag ? "union" : "struct"}`;
      break;
    case K.BTF_KIND_FUNC:
      s += ` type_id=${t.sizeOrType} linkage=${funcLinkageName(t.vlen)}`;
      break;
    case K.BTF_KIND_FUNC_PROTO:
      s += ` ret_type_id=${t.sizeOrType} vlen=${t.vlen}`;
      for (const p of t.params) s += `\n\t'${str(btf, p.nameOff)}' type_id=${p.type}`;
      break;
    case K.BTF_KIND_VAR:
      s += ` type_id=${t.sizeOrType}, linkage=${varLinkageName(t.linkage)}`;
      break;
    case K.BTF_KIND_DATASEC:
      s += ` size=${t.sizeOrType} vlen=${t.vlen}`;
      for (const v of t.secinfos) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (v.type < btf.typeCount) {
          const vt = btf.type(v.type);
          s += ` (${kindName(vt.kind)} '${str(btf, vt.nameOff)}')`;
        }
      }
      break;
    case K.BTF_KIND_FLOAT:
      s += ` size=${t.sizeOrType}`;
      break;
    case K.BTF_KIND_DECL_TAG:
      s += ` type_id=${t.sizeOrType} component_idx=${t.componentIdx}`;
      break;
  }
  return s + "\n";
}

/** Dump every type this BTF holds (for split BTF: only its own, as bpftool does). */
export function dumpBtfRaw(btf: Btf, out: Sink): void {
  let buf = "";
  for (const t of btf.ownTypes) {
    buf += formatRawType(btf, t);
    if (buf.length > 1 << 16) {
      out(buf);
      buf = "";
    }
  }
  if (buf) out(buf);
}
