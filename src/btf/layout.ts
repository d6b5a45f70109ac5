// Sizes and alignments of BTF types as libbpf computes them (btf__resolve_size, btf__align_of), used by the C dump,
// the map loader and CO-RE. Errors are values here (-1 / 0), as in libbpf, because the dumps keep going past them.
import * as Kinds from "./kinds.ts";
import type { Btf } from "./parse.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

const MAX_RESOLVE_DEPTH = 32;

/** btf__resolve_size: byte size of a type through typedefs/modifiers/arrays; -1 when it has none or is malformed. */
export function resolveSize(btf: Btf, id: number): number {
  let nelems = 1;
  for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
    if (id === 0 || !btf.hasType(id)) return -1;
    const t = btf.type(id);
    switch (t.kind) {
      case K.BTF_KIND_INT: case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: case K.BTF_KIND_ENUM:
      case K.BTF_KIND_ENUM64: case K.BTF_KIND_DATASEC: case K.BTF_KIND_FLOAT:
        return checkedProduct(nelems, t.sizeOrType);
      case K.BTF_KIND_PTR:
        return checkedProduct(nelems, btf.pointerSize);
      case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT:
      case K.BTF_KIND_VAR: case K.BTF_KIND_DECL_TAG: case K.BTF_KIND_TYPE_TAG:
        id = t.sizeOrType;
        break;
      case K.BTF_KIND_ARRAY:
        if (nelems && t.arrayNelems > Math.floor(0xffffffff / nelems)) return -1;
        nelems *= t.arrayNelems;
        id = t.arrayType;
        break;
      default:
        return -1;
    }
  }
  return -1;
}

function checkedProduct(nelems: number, size: number): number {
  if (nelems && size > Math.floor(0xffffffff / nelems)) return -1;
  return nelems * size;
}

/** btf__align_of: natural alignment; 1 for a struct whose layout shows it is packed; 0 when unknown. */
export function alignOf(btf: Btf, id: number, depth = 0): number {
  if (!btf.hasType(id) || depth > MAX_RESOLVE_DEPTH) return 0;
  const t = btf.type(id);
  switch (t.kind) {
    case K.BTF_KIND_INT: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: case K.BTF_KIND_FLOAT:
      return Math.min(btf.pointerSize, t.sizeOrType);
    case K.BTF_KIND_PTR:
      return btf.pointerSize;
    case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT:
    case K.BTF_KIND_TYPE_TAG:
      return alignOf(btf, t.sizeOrType, depth + 1);
    case K.BTF_KIND_ARRAY:
      return alignOf(btf, t.arrayType, depth + 1);
    case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: {
      let maxAlign = 1;
      for (const m of t.members) {
        const a = alignOf(btf, m.type, depth + 1);
        if (a <= 0) return 0;
        maxAlign = Math.max(maxAlign, a);
        // a field off its natural alignment means the struct was packed
        if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
      }
      if (t.sizeOrType % maxAlign !== 0) return 1;
      return maxAlign;
    }
    default:
      return 0;
  }
}

/** Follow typedefs and modifiers (not pointers) to the underlying type id. */
export function skipModsAndTypedefs(btf: Btf, id: number): number {
  for (let i = 0; i < MAX_RESOLVE_DEPTH && id !== 0 && btf.hasType(id); i++) {
    const t = btf.type(id);
    if (t.kind !== K.BTF_KIND_TYPEDEF && !K.isModifier(t.kind)) return id;
    id = t.sizeOrType;
  }
  return id;
}

