// bpftrace's value types as far as bpfkit's tracer models them: sized integers, fixed-size strings, the aggregation
// types a map can hold, and the names bpftrace prints for them in diagnostics ('unsigned int64', 'string[16]').

export type AggFn = "count" | "sum" | "min" | "max" | "avg" | "stats" | "hist" | "lhist";

export type TType =
  | { readonly k: "int"; readonly bits: 8 | 16 | 32 | 64; readonly signed: boolean }
  | { readonly k: "str"; readonly size: number }
  | { readonly k: "agg"; readonly fn: AggFn; readonly signed: boolean }
  | { readonly k: "none" };

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
    case "none": return "none";
  }
}

/** bytes a value of this type takes in a map key, printf record or variable */
export function typeSize(t: TType): number {
  if (t.k === "str") return t.size;
  return 8;
}

export const sameKind = (a: TType, b: TType): boolean => a.k === b.k && (a.k !== "agg" || (b.k === "agg" && a.fn === b.fn));
