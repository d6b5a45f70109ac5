// CO-RE relocation (libbpf's relo_core.c semantics): parse a record's access string against the local BTF, find
// target candidates by essential name (the name before a `___flavor` suffix) and kind, match the access path member
// by member (through anonymous members), and compute the value to patch: field byte offset/size/existence/signedness/
// shifts, local/target type id, type existence/size/match, enumerator existence/value. All candidates that match must
// agree, or the relocation is ambiguous. No match poisons the instruction (or yields 0 for the *_EXISTS kinds).
import { BpfError } from "../errors.ts";
import * as Kinds from "./kinds.ts";
import { resolveSize } from "./layout.ts";
import type { Btf } from "./parse.ts";
import type { BtfType } from "./types.ts";
import type { CoreReloRecord } from "./ext.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

export const BPF_CORE_FIELD_BYTE_OFFSET = 0;
export const BPF_CORE_FIELD_BYTE_SIZE = 1;
export const BPF_CORE_FIELD_EXISTS = 2;
export const BPF_CORE_FIELD_SIGNED = 3;
export const BPF_CORE_FIELD_LSHIFT_U64 = 4;
export const BPF_CORE_FIELD_RSHIFT_U64 = 5;
export const BPF_CORE_TYPE_ID_LOCAL = 6;
export const BPF_CORE_TYPE_ID_TARGET = 7;
export const BPF_CORE_TYPE_EXISTS = 8;
export const BPF_CORE_TYPE_SIZE = 9;
export const BPF_CORE_ENUMVAL_EXISTS = 10;
export const BPF_CORE_ENUMVAL_VALUE = 11;
export const BPF_CORE_TYPE_MATCHES = 12;

export const CORE_RELO_KIND_NAMES: readonly string[] = [
  "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64", "local_type_id", "target_type_id",
  "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
];

const isFieldBased = (k: number) => k <= BPF_CORE_FIELD_RSHIFT_U64;
const isTypeBased = (k: number) => k === BPF_CORE_TYPE_ID_LOCAL || k === BPF_CORE_TYPE_ID_TARGET || k === BPF_CORE_TYPE_EXISTS || k === BPF_CORE_TYPE_SIZE || k === BPF_CORE_TYPE_MATCHES;
const isEnumvalBased = (k: number) => k === BPF_CORE_ENUMVAL_EXISTS || k === BPF_CORE_ENUMVAL_VALUE;
const isAnyEnum = (t: BtfType) => t.kind === K.BTF_KIND_ENUM || t.kind === K.BTF_KIND_ENUM64;
const kindCompat = (a: BtfType, b: BtfType) => a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));

/** Length of a name without its `___flavor` suffix (X___Y, X and Y not underscores). */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== "_" && name[i + 1] === "_" && name[i + 2] === "_" && name[i + 3] === "_" && name[i + 4] !== "_") return i + 1;
  }
  return name.length;
}
const essential = (name: string) => name.slice(0, essentialNameLength(name));

interface Accessor { typeId: number; idx: number; name: string | undefined }
interface Spec { btf: Btf; rootTypeId: number; kind: number; acc: Accessor[]; raw: number[]; bitOffset: number }

const SPEC_MAX_LEN = 64;

/** skip_mods_and_typedefs returning the id reached. */
function skip(btf: Btf, id: number): number {
  for (let i = 0; i < 64; i++) {
    if (!btf.hasType(id)) return -1;
    const t = btf.type(id);
    if (t.kind !== K.BTF_KIND_TYPEDEF && !K.isModifier(t.kind)) return id;
    id = t.sizeOrType;
  }
  return -1;
}

function isFlexArr(btf: Btf, prev: Accessor | undefined, nelems: number): boolean {
  if (!prev || !prev.name || nelems !== 0) return false;
  const t = btf.type(prev.typeId);
  return K.isComposite(t.kind) && prev.idx === t.vlen - 1;
}

export class CoreError extends BpfError {}

function parseSpec(btf: Btf, rec: CoreReloRecord): Spec {
  const str = btf.str(rec.accessStrOff);
  const fail = (why: string): never => {
    throw new BpfError("EINVAL", `relo: parsing [${rec.typeId}] ${K.BTF_KIND_NAMES[btf.type(rec.typeId).kind] ?? "?"} ${btf.name(rec.typeId) || "<anon>"} + ${str ?? "<?>"} failed: ${why}`);
  };
  if (!btf.hasType(rec.typeId) || rec.typeId === 0) throw new BpfError("EINVAL", `relo: root type [${rec.typeId}] out of range`);
  if (!str || str[0] === ":") fail("empty access string");
  const spec: Spec = { btf, rootTypeId: rec.typeId, kind: rec.kind, acc: [], raw: [], bitOffset: 0 };
  if (isTypeBased(rec.kind)) {
    if (str !== "0") fail("type-based relocation with an access string other than \"0\"");
    return spec;
  }
  if (!/^\d+(:\d+)*$/.test(str!)) fail("malformed access string");
  spec.raw = str!.split(":").map(Number);
  if (spec.raw.length > SPEC_MAX_LEN) fail("access string too long");
  let id = skip(btf, rec.typeId);
  if (id < 0) fail("bad root type");
  let t = btf.type(id);
  const first = spec.raw[0]!;
  spec.acc.push({ typeId: id, idx: first, name: undefined });
  if (isEnumvalBased(rec.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || first >= t.vlen) fail("not an enumerator of the root enum");
    spec.acc[0]!.name = btf.str(t.enumValues[first]!.nameOff) ?? "";
    return spec;
  }
  if (!isFieldBased(rec.kind)) fail(`unknown relocation kind ${rec.kind}`);
  let sz = resolveSize(btf, id);
  if (sz < 0) fail("root type has no size");
  spec.bitOffset = first * sz * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    id = skip(btf, id);
    if (id < 0) fail("bad type in access path");
    t = btf.type(id);
    const a = spec.raw[i]!;
    if (K.isComposite(t.kind)) {
      if (a >= t.vlen) fail(`member index ${a} out of range`);
      const m = t.members[a]!;
      spec.bitOffset += m.bitOffset;
      if (m.nameOff) {
        const name = btf.str(m.nameOff);
        if (!name) fail("member without a valid name");
        spec.acc.push({ typeId: id, idx: a, name });
      }
      id = m.type;
    } else if (t.kind === K.BTF_KIND_ARRAY) {
      const elem = skip(btf, t.arrayType);
      if (elem < 0) fail("bad array element type");
      const flex = isFlexArr(btf, spec.acc[spec.acc.length - 1], t.arrayNelems);
      if (!flex && a >= t.arrayNelems) fail(`array index ${a} out of range`);
      spec.acc.push({ typeId: elem, idx: a, name: undefined });
      id = elem;
      sz = resolveSize(btf, id);
      if (sz < 0) fail("array element has no size");
      spec.bitOffset += a * sz * 8;
    } else {
      fail(`captures type [${id}] of unexpected kind ${K.BTF_KIND_NAMES[t.kind]}`);
    }
  }
  return spec;
}

function fieldsCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (let depth = 0; depth < 32; depth++) {
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    if (lid < 0 || tid < 0) return false;
    const l = lb.type(lid), t = tb.type(tid);
    if (K.isComposite(l.kind) && K.isComposite(t.kind)) return true;
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case K.BTF_KIND_PTR: case K.BTF_KIND_FLOAT: return true;
      case K.BTF_KIND_FWD: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: {
        const ln = essentialNameLength(lb.name(l)), tn = essentialNameLength(tb.name(t));
        return ln === 0 || tn === 0 || (ln === tn && lb.name(l).slice(0, ln) === tb.name(t).slice(0, tn));
      }
      case K.BTF_KIND_INT: return l.intOffset === 0 && t.intOffset === 0;
      case K.BTF_KIND_ARRAY: lid = l.arrayType; tid = t.arrayType; continue;
      default: return false;
    }
  }
  return false;
}

function typesCompat(lb: Btf, lid: number, tb: Btf, tid: number, level = 32): boolean {
  if (!kindCompat(lb.type(lid), tb.type(tid))) return false;
  for (let depth = 0; depth < 32; depth++) {
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    if (lid < 0 || tid < 0) return false;
    const l = lb.type(lid), t = tb.type(tid);
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case K.BTF_KIND_UNKN: case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: case K.BTF_KIND_ENUM: case K.BTF_KIND_FWD: case K.BTF_KIND_ENUM64:
        return true;
      case K.BTF_KIND_INT: return l.intOffset === 0 && t.intOffset === 0;
      case K.BTF_KIND_PTR: lid = l.sizeOrType; tid = t.sizeOrType; continue;
      case K.BTF_KIND_ARRAY: lid = l.arrayType; tid = t.arrayType; continue;
      case K.BTF_KIND_FUNC_PROTO: {
        if (l.vlen !== t.vlen) return false;
        for (let i = 0; i < l.vlen; i++) {
          if (level <= 0) return false;
          const a = skip(lb, l.params[i]!.type), b = skip(tb, t.params[i]!.type);
          if (a < 0 || b < 0 || !typesCompat(lb, a, tb, b, level - 1)) return false;
        }
        lid = l.sizeOrType;
        tid = t.sizeOrType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/** Names match when both are empty, or their essential (flavor-less) parts are equal. */
function namesMatch(lb: Btf, lOff: number, tb: Btf, tOff: number): boolean {
  const l = lOff ? lb.str(lOff) ?? "" : "", t = tOff ? tb.str(tOff) ?? "" : "";
  if (t === "") return l === "";
  return essential(l) === essential(t);
}

/**
 * libbpf's bpf_core_types_match (TYPE_MATCHES): stricter than compatibility — names (flavor-less) must match at every
 * level, ints agree in size and signedness, enums and composites have every local member/enumerator in the target
 * (composite members recursively), arrays agree in length; behind a pointer a struct may match a forward declaration.
 */
function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr: boolean, level: number): boolean {
  if (level <= 0) return false;
  for (let depth = 0; depth < 32; depth++) {
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    if (lid < 0 || tid < 0) return false;
    const l = lb.type(lid), t = tb.type(tid);
    if (!namesMatch(lb, l.nameOff, tb, t.nameOff)) return false;
    switch (l.kind) {
      case K.BTF_KIND_UNKN:
        return t.kind === K.BTF_KIND_UNKN;
      case K.BTF_KIND_FWD:
        if (behindPtr) {
          if (t.kind === K.BTF_KIND_FWD) return l.kflag === t.kflag;
          return (t.kind === K.BTF_KIND_STRUCT && !l.kflag) || (t.kind === K.BTF_KIND_UNION && l.kflag);
        }
        return t.kind === K.BTF_KIND_FWD && l.kflag === t.kflag;
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
        if (!isAnyEnum(t) || l.sizeOrType !== t.sizeOrType || l.vlen > t.vlen) return false;
        return l.enumValues.every((lv) => t.enumValues.some((tv) => namesMatch(lb, lv.nameOff, tb, tv.nameOff)));
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        if (behindPtr) {
          if (l.kind === t.kind) return true;
          return t.kind === K.BTF_KIND_FWD && (l.kind === K.BTF_KIND_UNION) === t.kflag;
        }
        if (l.kind !== t.kind || l.vlen > t.vlen) return false;
        return l.members.every((lm) => t.members.some((tm) => namesMatch(lb, lm.nameOff, tb, tm.nameOff) && typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1)));
      case K.BTF_KIND_INT:
        return t.kind === K.BTF_KIND_INT && l.sizeOrType === t.sizeOrType && (l.intEncoding & K.BTF_INT_SIGNED) === (t.intEncoding & K.BTF_INT_SIGNED);
      case K.BTF_KIND_PTR:
        if (t.kind !== K.BTF_KIND_PTR) return false;
        behindPtr = true;
        lid = l.sizeOrType;
        tid = t.sizeOrType;
        continue;
      case K.BTF_KIND_ARRAY:
        if (t.kind !== K.BTF_KIND_ARRAY || l.arrayNelems !== t.arrayNelems) return false;
        lid = l.arrayType;
        tid = t.arrayType;
        continue;
      case K.BTF_KIND_FUNC_PROTO:
        if (t.kind !== K.BTF_KIND_FUNC_PROTO || l.vlen !== t.vlen) return false;
        for (let i = 0; i < l.vlen; i++) if (!typesMatch(lb, l.params[i]!.type, tb, t.params[i]!.type, behindPtr, level - 1)) return false;
        lid = l.sizeOrType;
        tid = t.sizeOrType;
        continue;
      default:
        return false;
    }
  }
  return false;
}

function matchMember(lb: Btf, la: Accessor, tb: Btf, tid: number, spec: Spec): { found: boolean; next: number } {
  tid = skip(tb, tid);
  if (tid < 0) return { found: false, next: 0 };
  const tt = tb.type(tid);
  if (!K.isComposite(tt.kind)) return { found: false, next: 0 };
  const lm = lb.type(la.typeId).members[la.idx]!;
  const lname = lb.str(lm.nameOff) ?? "";
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    if (spec.raw.length >= SPEC_MAX_LEN) throw new BpfError("E2BIG", "relo: access path too long");
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    const tname = m.nameOff ? tb.str(m.nameOff) ?? "" : "";
    if (tname === "") {
      const r = matchMember(lb, la, tb, m.type, spec);
      if (r.found) return r;
    } else if (tname === lname) {
      spec.acc.push({ typeId: tid, idx: i, name: tname });
      if (!fieldsCompat(lb, lm.type, tb, m.type)) {
        spec.acc.pop();
        return { found: false, next: 0 };
      }
      return { found: true, next: m.type };
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return { found: false, next: 0 };
}

function specMatch(local: Spec, tb: Btf, tid: number): Spec | undefined {
  const spec: Spec = { btf: tb, rootTypeId: tid, kind: local.kind, acc: [], raw: [], bitOffset: 0 };
  if (isTypeBased(local.kind)) {
    if (local.kind === BPF_CORE_TYPE_MATCHES) return typesMatch(local.btf, local.rootTypeId, tb, tid, false, 32) ? spec : undefined;
    return typesCompat(local.btf, local.rootTypeId, tb, tid) ? spec : undefined;
  }
  const la0 = local.acc[0]!;
  if (isEnumvalBased(local.kind)) {
    const id = skip(tb, tid);
    if (id < 0) return undefined;
    const tt = tb.type(id);
    if (!isAnyEnum(tt)) return undefined;
    const want = essential(la0.name ?? "");
    for (let i = 0; i < tt.vlen; i++) {
      const n = tb.str(tt.enumValues[i]!.nameOff) ?? "";
      if (essential(n) === want) {
        spec.acc.push({ typeId: id, idx: i, name: n });
        spec.raw.push(i);
        return spec;
      }
    }
    return undefined;
  }
  let cur = tid;
  for (let i = 0; i < local.acc.length; i++) {
    const la = local.acc[i]!;
    cur = skip(tb, cur);
    if (cur < 0) return undefined;
    const tt = tb.type(cur);
    if (la.name !== undefined) {
      const r = matchMember(local.btf, la, tb, cur, spec);
      if (!r.found) return undefined;
      cur = r.next;
    } else {
      if (i > 0) {
        if (tt.kind !== K.BTF_KIND_ARRAY) return undefined;
        const flex = isFlexArr(tb, spec.acc[spec.acc.length - 1], tt.arrayNelems);
        if (!flex && la.idx >= tt.arrayNelems) return undefined;
        cur = skip(tb, tt.arrayType);
        if (cur < 0) return undefined;
      }
      spec.acc.push({ typeId: cur, idx: la.idx, name: undefined });
      spec.raw.push(la.idx);
      const sz = resolveSize(tb, cur);
      if (sz < 0) return undefined;
      spec.bitOffset += la.idx * sz * 8;
    }
  }
  return spec;
}

export interface CoreResult {
  readonly poison: boolean;
  readonly validate: boolean;
  readonly origVal: bigint;
  readonly newVal: bigint;
  readonly origSz: number;
  readonly newSz: number;
  readonly failMemszAdjust: boolean;
  /** Target type id of the match (0 when none). */
  readonly targetTypeId: number;
}

interface FieldVal { val: bigint; sz: number; typeId: number; validate: boolean; poison: boolean }

function fieldValue(kind: number, spec: Spec | undefined): FieldVal {
  const r: FieldVal = { val: 0n, sz: 0, typeId: 0, validate: true, poison: false };
  if (kind === BPF_CORE_FIELD_EXISTS) {
    r.val = spec ? 1n : 0n;
    return r;
  }
  if (!spec) return { ...r, poison: true };
  const btf = spec.btf;
  const acc = spec.acc[spec.acc.length - 1]!;
  if (acc.name === undefined) {
    const sz = resolveSize(btf, acc.typeId);
    if (sz < 0) throw new BpfError("EINVAL", "relo: array element without size");
    if (kind === BPF_CORE_FIELD_BYTE_OFFSET) return { ...r, val: BigInt(spec.bitOffset / 8), sz, typeId: acc.typeId };
    if (kind === BPF_CORE_FIELD_BYTE_SIZE) return { ...r, val: BigInt(sz) };
    throw new BpfError("EINVAL", `relo ${kind} can't be applied to array access`);
  }
  const t = btf.type(acc.typeId);
  const m = t.members[acc.idx]!;
  const fieldTypeId = skip(btf, m.type);
  const mt = btf.type(fieldTypeId);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number, byteOff: number;
  if (bitfield) {
    byteSz = mt.sizeOrType;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new BpfError("E2BIG", "relo can't be satisfied for bitfield");
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    const sz = resolveSize(btf, fieldTypeId);
    if (sz < 0) throw new BpfError("EINVAL", "relo: field without size");
    byteSz = sz;
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  r.validate = !bitfield;
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
      r.val = BigInt(byteOff);
      if (!bitfield) { r.sz = byteSz; r.typeId = fieldTypeId; }
      break;
    case BPF_CORE_FIELD_BYTE_SIZE: r.val = BigInt(byteSz); break;
    case BPF_CORE_FIELD_SIGNED:
      r.val = (isAnyEnum(mt) && mt.kflag) || (mt.kind === K.BTF_KIND_INT && (mt.intEncoding & K.BTF_INT_SIGNED)) ? 1n : 0n;
      r.validate = true;
      break;
    case BPF_CORE_FIELD_LSHIFT_U64: r.val = BigInt(64 - (bitOff + bitSz - byteOff * 8)); break; // little-endian target
    case BPF_CORE_FIELD_RSHIFT_U64: r.val = BigInt(64 - bitSz); r.validate = true; break;
  }
  return r;
}

function calc(kind: number, local: Spec, targ: Spec | undefined): CoreResult {
  if (isFieldBased(kind)) {
    const o = fieldValue(kind, local);
    const n = fieldValue(kind, targ);
    let failMemszAdjust = false;
    if (o.sz !== n.sz && targ) {
      const ot = local.btf.type(o.typeId), nt = targ.btf.type(n.typeId);
      const unsignedInt = (x: BtfType) => x.kind === K.BTF_KIND_INT && x.intEncoding !== K.BTF_INT_SIGNED;
      if (!((ot.kind === K.BTF_KIND_PTR && nt.kind === K.BTF_KIND_PTR) || (unsignedInt(ot) && unsignedInt(nt)))) failMemszAdjust = true;
    }
    return { poison: n.poison, validate: o.validate, origVal: o.val, newVal: n.val, origSz: o.sz, newSz: n.sz, failMemszAdjust, targetTypeId: targ?.rootTypeId ?? 0 };
  }
  const base = { origSz: 0, newSz: 0, failMemszAdjust: false, targetTypeId: targ?.rootTypeId ?? 0 };
  if (isTypeBased(kind)) {
    const v = (s: Spec | undefined): bigint => {
      if (!s) return 0n;
      switch (kind) {
        case BPF_CORE_TYPE_ID_TARGET: return BigInt(s.rootTypeId);
        case BPF_CORE_TYPE_EXISTS: case BPF_CORE_TYPE_MATCHES: return 1n;
        case BPF_CORE_TYPE_SIZE: {
          const sz = resolveSize(s.btf, s.rootTypeId);
          if (sz < 0) throw new BpfError("EINVAL", "relo: type without size");
          return BigInt(sz);
        }
      }
      return 0n;
    };
    // type ids change when BTF is linked, so they are never validated against the instruction
    return { ...base, poison: false, validate: kind !== BPF_CORE_TYPE_ID_TARGET, origVal: v(local), newVal: v(targ) };
  }
  const ev = (s: Spec | undefined): bigint | undefined => {
    if (kind === BPF_CORE_ENUMVAL_EXISTS) return s ? 1n : 0n;
    if (!s) return undefined;
    const t = s.btf.type(s.acc[0]!.typeId);
    const e = t.enumValues[s.acc[0]!.idx]!;
    return t.kind === K.BTF_KIND_ENUM ? BigInt(e.lo >>> 0) : (BigInt(e.hi >>> 0) << 32n) | BigInt(e.lo >>> 0);
  };
  const nv = ev(targ);
  return { ...base, poison: nv === undefined, validate: true, origVal: ev(local) ?? 0n, newVal: nv ?? 0n };
}

/** Candidate lists by (essential name, kind class) per target BTF, built once per target (vmlinux has 100k+ types). */
const candIndex = new WeakMap<Btf, Map<string, number[]>>();
function candidates(local: Btf, localId: number, target: Btf): number[] {
  let idx = candIndex.get(target);
  if (!idx) {
    idx = new Map();
    for (let id = 1; id < target.typeCount; id++) {
      const t = target.type(id);
      if (t.nameOff === 0) continue;
      const n = target.name(t);
      if (!n) continue;
      const key = `${isAnyEnum(t) ? "enum" : t.kind}:${essential(n)}`;
      const list = idx.get(key);
      if (list) list.push(id);
      else idx.set(key, [id]);
    }
    candIndex.set(target, idx);
  }
  const lt = local.type(localId);
  return idx.get(`${isAnyEnum(lt) ? "enum" : lt.kind}:${essential(local.name(lt))}`) ?? [];
}

/** libbpf's bpf_core_types_are_compat: kinds match through modifiers/typedefs, pointers, arrays and prototypes. */
export function coreTypesCompatible(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  return typesCompat(local, localId, target, targetId);
}

/** Resolve one CO-RE record of the local BTF against a target BTF. */
export function resolveCoreRelo(local: Btf, rec: CoreReloRecord, target: Btf): CoreResult {
  const spec = parseSpec(local, rec);
  if (rec.kind === BPF_CORE_TYPE_ID_LOCAL) {
    const v = BigInt(rec.typeId);
    return { poison: false, validate: false, origVal: v, newVal: v, origSz: 0, newSz: 0, failMemszAdjust: false, targetTypeId: 0 };
  }
  const localName = local.name(rec.typeId);
  if (!localName) throw new BpfError("EOPNOTSUPP", `relo: <${CORE_RELO_KIND_NAMES[rec.kind] ?? rec.kind}> (${rec.kind}) relocation doesn't support anonymous types`);
  let chosen: CoreResult | undefined;
  let chosenBitOff = 0;
  for (const cid of candidates(local, rec.typeId, target)) {
    const cs = specMatch(spec, target, cid);
    if (!cs) continue;
    const res = calc(rec.kind, spec, cs);
    if (!chosen) {
      chosen = res;
      chosenBitOff = cs.bitOffset;
    } else if (cs.bitOffset !== chosenBitOff) {
      throw new BpfError("EINVAL", `relo: field offset ambiguity: ${cs.bitOffset} != ${chosenBitOff}`);
    } else if (res.poison !== chosen.poison || res.newVal !== chosen.newVal) {
      throw new BpfError("EINVAL", `relo: relocation decision ambiguity: ${res.poison ? "failure" : "success"} ${res.newVal} != ${chosen.poison ? "failure" : "success"} ${chosen.newVal}`);
    }
  }
  return chosen ?? calc(rec.kind, spec, undefined);
}

/**
 * The target side of a CO-RE relocation as libbpf's bpf_core_calc_relo_insn leaves it (its targ_spec): the first
 * candidate that matches, as its root type id and raw access indexes in the target BTF; undefined when none matches
 * (and for TYPE_ID_LOCAL, which needs no target). bpftool's min_core_btf keeps the types and members these name.
 */
export function coreTargetSpec(local: Btf, rec: CoreReloRecord, target: Btf): { readonly rootTypeId: number; readonly raw: readonly number[] } | undefined {
  if (rec.kind === BPF_CORE_TYPE_ID_LOCAL) return undefined;
  const spec = parseSpec(local, rec);
  for (const cid of candidates(local, rec.typeId, target)) {
    const cs = specMatch(spec, target, cid);
    if (cs) return { rootTypeId: cs.rootTypeId, raw: cs.raw };
  }
  return undefined;
}
