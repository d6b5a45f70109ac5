// BTF kinds and encodings (include/uapi/linux/btf.h), with the names bpftool prints for them.

export const BTF_MAGIC = 0xeb9f;
export const BTF_KIND_UNKN = 0;
export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;
export const BTF_KIND_MAX = 19;

/** Kind names as bpftool's btf_kind_str prints them. */
export const BTF_KIND_NAMES: readonly string[] = [
  "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST", "RESTRICT",
  "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
];

export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;

export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

/** Kinds whose third word is a type id (the rest use it as a size). */
export const isRefKind = (k: number): boolean =>
  k === BTF_KIND_PTR || k === BTF_KIND_TYPEDEF || k === BTF_KIND_VOLATILE || k === BTF_KIND_CONST ||
  k === BTF_KIND_RESTRICT || k === BTF_KIND_FUNC || k === BTF_KIND_FUNC_PROTO || k === BTF_KIND_VAR ||
  k === BTF_KIND_DECL_TAG || k === BTF_KIND_TYPE_TAG;

export const isModifier = (k: number): boolean =>
  k === BTF_KIND_VOLATILE || k === BTF_KIND_CONST || k === BTF_KIND_RESTRICT || k === BTF_KIND_TYPE_TAG;

export const isComposite = (k: number): boolean => k === BTF_KIND_STRUCT || k === BTF_KIND_UNION;
