// bpftool's btf_dumper_type_only (btf_dumper.c): the one-line C-ish rendering used for function headers in
// `prog dump xlated` ("int xdp_prog(struct xdp_md * ctx)"), with its spacing quirks ("struct x * p", "void ").
import * as Kinds from "./kinds.ts";
import type { Btf } from "./parse.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

const SIG_MAX = 1024;

/** The signature text for a FUNC/FUNC_PROTO/other type id; "" when bpftool would print nothing. */
export function typeOnlySignature(btf: Btf, typeId: number): string {
  let s = "";
  let ok = true;
  const put = (t: string) => {
    s += t;
  };
  const name = (off: number) => btf.str(off) ?? "(null)";
  const func = (proto: number, fnNameOff: number | undefined, depth: number) => {
    const p = btf.type(proto);
    walk(p.sizeOrType, depth + 1);
    put(fnNameOff !== undefined ? `${name(fnNameOff)}(` : "(");
    p.params.forEach((a, i) => {
      if (i) put(", ");
      if (a.type) {
        walk(a.type, depth + 1);
        if (a.nameOff) put(name(a.nameOff));
        else if (s.endsWith(" ")) s = s.slice(0, -1); // bpftool drops the space before an unnamed parameter
      } else {
        put("...");
      }
    });
    put(")");
  };
  const walk = (id: number, depth: number): void => {
    if (!ok) return;
    if (depth > 64 || !btf.hasType(id)) {
      ok = false;
      return;
    }
    if (id === 0) return put("void ");
    const t = btf.type(id);
    switch (t.kind) {
      case K.BTF_KIND_INT: case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_FLOAT: return put(`${name(t.nameOff)} `);
      case K.BTF_KIND_STRUCT: return put(`struct ${name(t.nameOff)} `);
      case K.BTF_KIND_UNION: return put(`union ${name(t.nameOff)} `);
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: return put(`enum ${name(t.nameOff)} `);
      case K.BTF_KIND_ARRAY: walk(t.arrayType, depth + 1); return put(`[${t.arrayNelems | 0}]`);
      case K.BTF_KIND_PTR: walk(t.sizeOrType, depth + 1); return put("* ");
      case K.BTF_KIND_FWD: return put(`${t.kflag ? "union" : "struct"} ${name(t.nameOff)} `);
      case K.BTF_KIND_VOLATILE: put("volatile "); return walk(t.sizeOrType, depth + 1);
      case K.BTF_KIND_CONST: put("const "); return walk(t.sizeOrType, depth + 1);
      case K.BTF_KIND_RESTRICT: put("restrict "); return walk(t.sizeOrType, depth + 1);
      case K.BTF_KIND_FUNC_PROTO: return func(id, undefined, depth);
      case K.BTF_KIND_FUNC: return func(t.sizeOrType, t.nameOff, depth);
      case K.BTF_KIND_VAR:
        if (t.linkage === K.BTF_VAR_STATIC) put("static ");
        walk(t.sizeOrType, depth + 1);
        return put(` ${name(t.nameOff)}`);
      case K.BTF_KIND_DATASEC: return put(`section ("${name(t.nameOff)}") `);
      default:
        ok = false;
    }
  };
  walk(typeId, 0);
  if (!ok) return "";
  return s.length >= SIG_MAX ? s.slice(0, SIG_MAX - 1) : s;
}
