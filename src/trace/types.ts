// bpftrace's value types as far as bpfkit's tracer models them: sized integers, fixed-size strings, the aggregation
// types a map can hold, and the names bpftrace prints for them in diagnostics ('unsigned int64', 'string[16]').

export type AggFn = "count" | "sum" | "min" | "max" | "avg" | "stats" | "hist" | "lhist";

export type TType =
  | { readonly k: "int"; readonly bits: 8 | 16 | 32 | 64; readonly signed: boolean }
  | { readonly k: "str"; readonly size: number }
  | { readonly k: "agg"; readonly fn: AggFn; readonly signed: boolean }
  | { readonly k: "tuple"; readonly elems: readonly TType[] }
  /** a stack id from bpf_get_stackid (ustack: the pid in the upper 32 bits) */
  | { readonly k: "stack"; readonly user: boolean; readonly mode: "bpftrace" | "perf"; readonly limit: number }
  /** ksym(): an address; usym(): an address and the pid; inet: the family then 16 address bytes; username: a uid */
  | { readonly k: "ksym" } | { readonly k: "usym" } | { readonly k: "inet" } | { readonly k: "username" }
  /** buf(): a length byte then `size - 1` data bytes (bpftrace's size counts the length byte) */
  | { readonly k: "buf"; readonly size: number }
  /** a pointer (to an integer of `bits`, or to a struct described by `record`) */
  | { readonly k: "ptr"; readonly to: TType }
  | { readonly k: "record"; readonly name: string; readonly size: number; readonly fields: readonly RecordField[] }
  | { readonly k: "none" };

export interface RecordField {
  readonly name: string;
  readonly offset: number;
  readonly type: TType;
  /** integer fields: bytes in memory (the type itself is widened to 64-bit when read) */
  readonly size: number;
  /** arrays: element count (the type is the element) */
  readonly count?: number;
}

export const INT64: TType = { k: "int", bits: 64, signed: true };
export const UINT64: TType = { k: "int", bits: 64, signed: false };
export const NONE: TType = { k: "none" };
export const str = (size: number): TType => ({ k: "str", size });
export const intT = (bits: 8 | 16 | 32 | 64, signed: boolean): TType => ({ k: "int", bits, signed });

/** The name bpftrace's SizedType printer gives a type. */
export function typeName(t: TType): string {
  switch (t.k) {
    case "int": return `${t.signed ? "" : "unsigned "}int${t.bits}`;
    case "str": return `string[${t.size}]`;
    case "agg": return t.fn === "count" ? "count" : t.fn;
    case "tuple": return `(${t.elems.map(typeName).join(",")})`;
    case "stack": return t.user ? "ustack" : "kstack";
    case "ksym": case "usym": case "inet": case "username": return t.k;
    case "buf": return `buffer[${t.size}]`;
    case "ptr": return `${typeName(t.to)} *`;
    case "record": return t.name;
    case "none": return "none";
  }
}

/** bytes a value of this type takes in a map key, printf record or variable */
export function typeSize(t: TType): number {
  switch (t.k) {
    case "str": case "buf": return t.size;
    case "tuple": return t.elems.reduce((n, e) => n + ((typeSize(e) + 7) & ~7), 0);
    case "usym": return 16;
    case "inet": return 24;
    case "record": return t.size;
    default: return 8;
  }
}

export const sameKind = (a: TType, b: TType): boolean => a.k === b.k && (a.k !== "agg" || (b.k === "agg" && a.fn === b.fn));

/** types user space decodes from a record or map slot and prints as text (strings, symbols, stacks...) */
export const isTextual = (t: TType): boolean => t.k === "str" || t.k === "ksym" || t.k === "usym" || t.k === "inet" || t.k === "username" || t.k === "buf" || t.k === "stack" || t.k === "tuple";
/** types built in a stack buffer rather than a register */
export const isAggregate = (t: TType): boolean => t.k === "str" || t.k === "tuple" || t.k === "usym" || t.k === "inet" || t.k === "buf" || t.k === "record";
