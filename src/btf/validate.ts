// BTF validation in the spirit of the kernel's btf_check_meta/btf_resolve (kernel/bpf/btf.c): every problem it finds
// is reported as "[id] KIND name: reason" with the kernel's wording where it has one ("Invalid name", "Loop detected",
// "Invalid type_id", "Invalid member bits_offset"...). The dumpers don't need it (bpftool dumps what the kernel would
// refuse); loaders do, before handing BTF to a kernel.
import * as Kinds from "./kinds.ts";
import { resolveSize } from "./layout.ts";
import type { Btf } from "./parse.ts";
import type { BtfType } from "./types.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

const MAX_RESOLVE_DEPTH = 32;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** DATASEC and some VAR names may contain dots (".data", ".rodata.str1.1"), as the kernel's btf_name_valid_section allows. */
const SECTION = /^[A-Za-z_.][A-Za-z0-9_.]*$/;

export interface BtfProblem {
  readonly id: number;
  readonly message: string;
}

/** Problems the kernel would reject this BTF for; empty when it looks valid. Stops after `limit` problems. */
export function validateBtf(btf: Btf, limit = 20): BtfProblem[] {
  const out: BtfProblem[] = [];
  const n = btf.typeCount;
  const say = (t: BtfType, reason: string) => {
    out.push({ id: t.id, message: `[${t.id}] ${K.BTF_KIND_NAMES[t.kind] ?? "UNKNOWN"} ${btf.name(t) || "(anon)"} ${reason}` });
  };
  const idOk = (id: number) => id >= 0 && id < n;
  for (const t of btf.ownTypes) {
    if (out.length >= limit) break;
    const name = t.nameOff === 0 ? "" : btf.str(t.nameOff);
    if (name === undefined) {
      say(t, "Invalid name_offset");
      continue;
    }
    switch (t.kind) {
      case K.BTF_KIND_INT: {
        if (name === "" || !IDENT.test(name.replace(/ /g, "_"))) say(t, "Invalid name");
        if (![1, 2, 4, 8, 16].includes(t.sizeOrType)) say(t, "Unsupported size");
        if (t.intBits > 128 || t.intBits === 0) say(t, "nr_bits exceeds 128 or is 0");
        if (t.intOffset + t.intBits > t.sizeOrType * 8) say(t, "nr_bits exceeds type_size");
        if ([t.intEncoding & K.BTF_INT_SIGNED, t.intEncoding & K.BTF_INT_CHAR, t.intEncoding & K.BTF_INT_BOOL].filter(Boolean).length > 1) say(t, "Unsupported encoding");
        break;
      }
      case K.BTF_KIND_PTR: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT:
        if (name !== "") say(t, "Invalid name");
        if (!idOk(t.sizeOrType)) say(t, "Invalid type_id");
        break;
      case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_TYPE_TAG:
        // a type tag's name is free text (vmlinux has "address_space(1)")
        if (t.kind === K.BTF_KIND_TYPEDEF ? !IDENT.test(name) : name === "") say(t, "Invalid name");
        if (!idOk(t.sizeOrType)) say(t, "Invalid type_id");
        break;
      case K.BTF_KIND_ARRAY:
        if (name !== "") say(t, "Invalid name");
        if (!idOk(t.arrayType) || t.arrayType === 0) say(t, "Invalid elem");
        if (!idOk(t.arrayIndexType) || t.arrayIndexType === 0) say(t, "Invalid index");
        break;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: {
        if (name !== "" && !IDENT.test(name)) say(t, "Invalid name");
        let last = 0;
        t.members.forEach((m, i) => {
          const mname = m.nameOff === 0 ? "" : btf.str(m.nameOff);
          if (mname === undefined || (mname !== "" && !IDENT.test(mname))) say(t, `member #${i}: Invalid name`);
          if (!idOk(m.type) || m.type === 0) return say(t, `member #${i}: Invalid type_id`);
          if (t.kind === K.BTF_KIND_UNION && m.bitOffset !== 0 && !m.bitfieldSize) say(t, `member #${i}: Invalid member bits_offset`);
          if (t.kind === K.BTF_KIND_STRUCT && m.bitOffset < last) say(t, `member #${i}: Invalid member bits_offset`);
          last = m.bitOffset;
          const sz = m.bitfieldSize || resolveSize(btf, m.type) * 8;
          if (sz > 0 && m.bitOffset + sz > t.sizeOrType * 8) say(t, `member #${i}: Member exceeds struct_size`);
        });
        break;
      }
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
        if (name !== "" && !IDENT.test(name)) say(t, "Invalid name");
        if (![1, 2, 4, 8].includes(t.sizeOrType)) say(t, "Unexpected size");
        t.enumValues.forEach((v, i) => {
          const vn = btf.str(v.nameOff);
          if (!vn || !IDENT.test(vn)) say(t, `value #${i}: Invalid name`);
        });
        break;
      case K.BTF_KIND_FWD:
        if (!IDENT.test(name)) say(t, "Invalid name");
        break;
      case K.BTF_KIND_FUNC:
        if (!IDENT.test(name)) say(t, "Invalid name");
        if (t.vlen > K.BTF_FUNC_EXTERN) say(t, "Invalid func linkage");
        if (!idOk(t.sizeOrType) || btf.type(t.sizeOrType).kind !== K.BTF_KIND_FUNC_PROTO) say(t, "Invalid type_id");
        break;
      case K.BTF_KIND_FUNC_PROTO:
        if (name !== "") say(t, "Invalid name");
        if (!idOk(t.sizeOrType)) say(t, "Invalid return type");
        t.params.forEach((p, i) => {
          if (!idOk(p.type)) say(t, `arg #${i}: Invalid type_id`);
          if (p.type === 0 && i !== t.params.length - 1) say(t, `arg #${i}: Invalid arg`);
        });
        break;
      case K.BTF_KIND_VAR:
        if (!SECTION.test(name)) say(t, "Invalid name");
        if (t.linkage > K.BTF_VAR_GLOBAL_EXTERN) say(t, "Linkage not supported");
        if (!idOk(t.sizeOrType) || t.sizeOrType === 0) say(t, "Invalid type_id");
        break;
      case K.BTF_KIND_DATASEC: {
        if (!SECTION.test(name)) say(t, "Invalid name");
        let end = 0;
        t.secinfos.forEach((v, i) => {
          if (!idOk(v.type) || (v.type && btf.type(v.type).kind !== K.BTF_KIND_VAR && btf.type(v.type).kind !== K.BTF_KIND_FUNC)) say(t, `var #${i}: Invalid type_id`);
          if (v.offset < end) say(t, `var #${i}: Invalid offset`);
          if (t.sizeOrType && v.offset + v.size > t.sizeOrType) say(t, `var #${i}: Invalid offset+size`);
          end = v.offset + v.size;
        });
        break;
      }
      case K.BTF_KIND_FLOAT:
        if (!IDENT.test(name.replace(/ /g, "_"))) say(t, "Invalid name");
        if (![2, 4, 8, 12, 16].includes(t.sizeOrType)) say(t, "Invalid type_size");
        break;
      case K.BTF_KIND_DECL_TAG:
        if (name === "") say(t, "Invalid name");
        if (!idOk(t.sizeOrType) || t.sizeOrType === 0) say(t, "Invalid type_id");
        if (t.componentIdx < -1) say(t, "Invalid component_idx");
        break;
    }
  }
  if (out.length < limit) findLoops(btf, out, limit);
  return out;
}

/** References that must resolve without passing through a struct/union: a cycle among them is "Loop detected". */
function refs(t: BtfType): number[] {
  switch (t.kind) {
    case K.BTF_KIND_PTR: case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST:
    case K.BTF_KIND_RESTRICT: case K.BTF_KIND_TYPE_TAG: case K.BTF_KIND_FUNC: case K.BTF_KIND_VAR: case K.BTF_KIND_DECL_TAG:
      return [t.sizeOrType];
    case K.BTF_KIND_ARRAY: return [t.arrayType, t.arrayIndexType];
    case K.BTF_KIND_FUNC_PROTO: return [t.sizeOrType, ...t.params.map((p) => p.type)];
    case K.BTF_KIND_DATASEC: return t.secinfos.map((v) => v.type);
    default: return [];
  }
}

function findLoops(btf: Btf, out: BtfProblem[], limit: number): void {
  const n = btf.typeCount;
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const depth = new Uint16Array(n);
  for (let root = btf.startId; root < n && out.length < limit; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [id, next] = top;
      const rs = refs(btf.type(id));
      if (next >= rs.length) {
        state[id] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const r = rs[next]!;
      if (r <= 0 || r >= n) continue;
      if (state[r] === 1) {
        out.push({ id, message: `[${id}] ${K.BTF_KIND_NAMES[btf.type(id).kind]} ${btf.name(id) || "(anon)"} Loop detected` });
        if (out.length >= limit) return;
        continue;
      }
      if (state[r] === 0) {
        const rk = btf.type(r).kind;
        // chains of modifiers/typedefs/pointers deeper than the kernel's MAX_RESOLVE_DEPTH are refused too
        depth[r] = K.isComposite(rk) ? 0 : depth[id] + 1;
        if (depth[r] > MAX_RESOLVE_DEPTH) {
          out.push({ id: r, message: `[${r}] ${K.BTF_KIND_NAMES[rk]} ${btf.name(r) || "(anon)"} Max resolve depth exceeded` });
          if (out.length >= limit) return;
        }
        state[r] = 1;
        stack.push([r, 0]);
      }
    }
  }
}
