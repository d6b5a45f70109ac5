// `bpftool btf dump ... format c`: BTF as a compilable C header, byte-identical to libbpf 1.1's btf_dump. Two passes
// per root type as libbpf does them: a topological ordering that decides which definitions must precede which
// (strong links: embedding; weak links: through a named pointer target, satisfied by a forward declaration), then
// emission with forward declarations where a cycle needs one, anonymous types inlined, bitfield padding and
// the packed attribute inferred from the layout, and duplicate names suffixed ___N in first-seen order.
import { BpfError } from "../errors.ts";
import * as Kinds from "./kinds.ts";
import * as Layout from "./layout.ts";
import type { Btf } from "./parse.ts";
import type { BtfType } from "./types.ts";
import type { Sink } from "./dump-raw.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };
const { alignOf, resolveSize } = Layout;

const NOT_ORDERED = 0, ORDERING = 1, ORDERED = 2;
const NOT_EMITTED = 0, EMITTING = 1, EMITTED = 2;
const TABS = "\t\t\t\t\t\t\t\t\t\t\t\t\t";
const pfx = (lvl: number): string => (lvl >= TABS.length ? TABS : TABS.slice(0, lvl));
/** libbpf's roundup() on C ints: the sum wraps and the division truncates toward zero (matters for wrapped offsets). */
const roundup = (x: number, y: number): number => Math.imul(((x + y - 1) | 0) / y | 0, y);

// GCC's Arm SIMD typedef targets, aliased to standard types (libbpf's missing_base_types)
const MISSING_BASE_TYPES: ReadonlyMap<string, string> = new Map([
  ["__Poly8_t", "unsigned char"], ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"], ["__Poly128_t", "unsigned __int128"],
]);

interface DeclView {
  readonly ids: number[];
  readonly base: number;
  cnt: number;
}

/** A C dumper over one BTF; `dumpType(id)` emits the type and everything it needs that was not emitted before. */
export class BtfCDumper {
  private readonly btf: Btf;
  private readonly ptrSz: number;
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly cachedNames: (string | undefined)[] = [];
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private readonly declStack: number[] = [];
  private buf = "";
  private readonly sink: Sink;
  private stripMods = false;

  constructor(btf: Btf, sink: Sink) {
    this.btf = btf;
    this.sink = sink;
    this.ptrSz = btf.declaredPointerSize || 8;
    const n = btf.typeCount;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.order[0] = ORDERED;
    this.emit[0] = EMITTED;
    this.markReferenced();
  }

  private out(s: string): void {
    this.buf += s;
    if (this.buf.length > 1 << 16) this.flush();
  }

  flush(): void {
    if (this.buf) this.sink(this.buf);
    this.buf = "";
  }

  private t(id: number): BtfType {
    return this.btf.type(id);
  }

  private nameOf(off: number): string {
    return this.btf.str(off) ?? "(null)";
  }

  /** Anonymous enums used by nothing are top-level constants; referenced ones are inlined where used. */
  private markReferenced(): void {
    const ref = (id: number) => {
      if (id < this.referenced.length) this.referenced[id] = 1;
    };
    for (let id = 1; id < this.btf.typeCount; id++) {
      const t = this.t(id);
      switch (t.kind) {
        case K.BTF_KIND_ARRAY: ref(t.arrayIndexType); ref(t.arrayType); break;
        case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: for (const m of t.members) ref(m.type); break;
        case K.BTF_KIND_FUNC_PROTO: for (const p of t.params) ref(p.type); break;
        case K.BTF_KIND_DATASEC: for (const v of t.secinfos) ref(v.type); break;
        case K.BTF_KIND_INT: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: case K.BTF_KIND_FWD: case K.BTF_KIND_FLOAT: break;
        default: ref(t.sizeOrType);
      }
    }
  }

  dumpType(id: number): void {
    if (id >= this.btf.typeCount) throw new BpfError("EINVAL", `btf_dump: type id ${id} out of range`);
    try {
      this.dumpOne(id);
    } catch (e) {
      // a reference cycle without a struct in it (malformed BTF) recurses forever in libbpf too; here it is an error
      if (e instanceof RangeError) throw new BpfError("ELOOP", `btf_dump: type [${id}] has a reference cycle or is nested too deeply`);
      throw e;
    }
  }

  private dumpOne(id: number): void {
    this.queue = [];
    const err = this.orderType(id, false);
    if (err < 0) {
      this.flush();
      throw new BpfError("ELOOP", `btf_dump: unsatisfiable type cycle, id:[${-err}]`);
    }
    for (const q of this.queue) this.emitType(q, 0);
  }

  /** 1: strong link (must be defined first), 0: weak (a forward declaration will do), <0: -id of an unsatisfiable cycle. */
  private orderType(id: number, throughPtr: boolean): number {
    if (this.order[id] === ORDERED) return 1;
    const t = this.t(id);
    if (this.order[id] === ORDERING) {
      if (K.isComposite(t.kind) && throughPtr && t.nameOff !== 0) return 0;
      return -id;
    }
    switch (t.kind) {
      case K.BTF_KIND_INT: case K.BTF_KIND_FLOAT:
        this.order[id] = ORDERED;
        return 0;
      case K.BTF_KIND_PTR: {
        const err = this.orderType(t.sizeOrType, true);
        this.order[id] = ORDERED;
        return err;
      }
      case K.BTF_KIND_ARRAY:
        return this.orderType(t.arrayType, false);
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: {
        if (throughPtr && t.nameOff !== 0) return 0;
        this.order[id] = ORDERING;
        for (const m of t.members) {
          const err = this.orderType(m.type, false);
          if (err < 0) return err;
        }
        if (t.nameOff !== 0) this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      }
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: case K.BTF_KIND_FWD:
        if (t.nameOff !== 0 || !this.referenced[id]) this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      case K.BTF_KIND_TYPEDEF: {
        const strong = this.orderType(t.sizeOrType, throughPtr);
        if (strong < 0) return strong;
        if (throughPtr && !strong) return 0;
        this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      }
      case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT: case K.BTF_KIND_TYPE_TAG:
        return this.orderType(t.sizeOrType, throughPtr);
      case K.BTF_KIND_FUNC_PROTO: {
        let err = this.orderType(t.sizeOrType, throughPtr);
        if (err < 0) return err;
        let strong = err > 0;
        for (const p of t.params) {
          err = this.orderType(p.type, throughPtr);
          if (err < 0) return err;
          if (err > 0) strong = true;
        }
        return strong ? 1 : 0;
      }
      default: // FUNC, VAR, DATASEC, DECL_TAG: nothing to define
        this.order[id] = ORDERED;
        return 0;
    }
  }

  private isBlacklisted(id: number): boolean {
    const t = this.t(id);
    // a compiler built-in: redefining it breaks compilation with another compiler
    return t.nameOff !== 0 && this.nameOf(t.nameOff) === "__builtin_va_list";
  }

  private emitType(id: number, contId: number): void {
    if (this.emit[id] === EMITTED) return;
    const t = this.t(id);
    const topLevel = contId === 0;
    if (this.emit[id] === EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (K.isComposite(t.kind)) {
        if (id === contId) return;
        if (t.nameOff === 0) return; // anonymous struct/union loop: libbpf warns and goes on
        this.emitStructFwd(id, t);
        this.out(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (t.kind === K.BTF_KIND_TYPEDEF) {
        if (!this.isBlacklisted(id)) {
          this.emitTypedefDef(id, t, 0);
          this.out(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case K.BTF_KIND_INT: {
        const alias = MISSING_BASE_TYPES.get(this.typeName(id));
        if (alias !== undefined) this.out(`typedef ${alias} ${this.typeName(id)};\n\n`);
        this.emit[id] = EMITTED;
        break;
      }
      case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.out(";\n\n");
        }
        this.emit[id] = EMITTED;
        break;
      case K.BTF_KIND_PTR: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT: case K.BTF_KIND_TYPE_TAG:
        this.emitType(t.sizeOrType, contId);
        break;
      case K.BTF_KIND_ARRAY:
        this.emitType(t.arrayType, contId);
        break;
      case K.BTF_KIND_FWD:
        this.emitFwdDef(id, t);
        this.out(";\n\n");
        this.emit[id] = EMITTED;
        break;
      case K.BTF_KIND_TYPEDEF:
        this.emit[id] = EMITTING;
        this.emitType(t.sizeOrType, id);
        // someone may already have needed it as a forward declaration (through a pointer)
        if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
          this.emitTypedefDef(id, t, 0);
          this.out(";\n\n");
        }
        this.emit[id] = EMITTED;
        break;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        this.emit[id] = EMITTING;
        if (topLevel || t.nameOff === 0) {
          const newCont = t.nameOff === 0 ? contId : id;
          for (const m of t.members) this.emitType(m.type, newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id, t);
          this.out(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.out(";\n\n");
          this.emit[id] = EMITTED;
        } else {
          this.emit[id] = NOT_EMITTED;
        }
        break;
      case K.BTF_KIND_FUNC_PROTO:
        this.emitType(t.sizeOrType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  // Debian's bpftool 7.1 is built from Linux 6.1.y's tools/lib/bpf: libbpf 1.1's packed-struct and padding rules (the
  // Dec 2022 fixes were backported) but not its mode(byte)/mode(word) enum attributes; plus the later `(void)` fix.
  private isStructPacked(t: BtfType): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = alignOf(this.btf, m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return t.sizeOrType % maxAlign !== 0;
  }

  private emitBitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    const pads: readonly [string, number][] = [["long", this.ptrSz * 8], ["int", 32], ["short", 16], ["char", 8]];
    if (curOff >= nextOff) return;
    let newOff = 0, padBits = 0, padType = "";
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, padBits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      // an explicit `type: 0` is needed when the compiler would not align to newOff by itself
      if (inBitfield || (newOff === nextOff && roundup(curOff, nextAlign * 8) !== newOff) ||
          (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        this.out(`\n${pfx(lvl)}${padType}: ${inBitfield ? (newOff - curOff) | 0 : 0};`);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min((nextOff - curOff) | 0, padBits);
      if (bits === padBits) {
        this.out(`\n${pfx(lvl)}${padType}: ${padBits};`);
        curOff = (curOff + bits) | 0;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        padType = pads[i]![0];
        padBits = pads[i]![1];
        if (padBits < bits) continue;
        this.out(`\n${pfx(lvl)}${padType}: ${bits};`);
        curOff = (curOff + bits) | 0;
        break;
      }
    }
  }

  private emitStructFwd(id: number, t: BtfType): void {
    this.out(`${t.kind === K.BTF_KIND_STRUCT ? "struct" : "union"}${t.nameOff ? " " : ""}${this.typeName(id)}`);
  }

  private emitStructDef(id: number, t: BtfType, lvl: number): void {
    const isStruct = t.kind === K.BTF_KIND_STRUCT;
    const align = alignOf(this.btf, id);
    const packed = isStruct ? this.isStructPacked(t) : false;
    this.out(`${isStruct ? "struct" : "union"}${t.nameOff ? " " : ""}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const fname = this.nameOf(m.nameOff);
      // libbpf keeps offsets in C ints (u32 sizes times 8 wrap): a huge struct size or member offset wraps as
      // bpftool's does instead of printing gigabytes of padding
      let mSz = m.bitfieldSize;
      const mOff = m.bitOffset | 0;
      const mAlign = packed ? 1 : alignOf(this.btf, m.type);
      const inBitfield = prevBitfield && mSz !== 0;
      this.emitBitPadding(off, mOff, mAlign, inBitfield, lvl + 1);
      this.out(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, fname, lvl + 1);
      if (mSz) {
        this.out(`: ${mSz}`);
        off = (mOff + mSz) | 0;
        prevBitfield = true;
      } else {
        mSz = Math.max(0, resolveSize(this.btf, m.type)) | 0;
        off = (mOff + Math.imul(mSz, 8)) | 0;
        prevBitfield = false;
      }
      this.out(";");
    }
    if (isStruct) this.emitBitPadding(off, Math.imul(t.sizeOrType, 8), align, false, lvl + 1);
    // `struct empty {}` stays on one line
    if (t.vlen || t.sizeOrType) this.out(`\n${pfx(lvl)}}`);
    else this.out("}");
    if (packed) this.out(" __attribute__((packed))");
  }

  private emitEnumDef(id: number, t: BtfType, lvl: number): void {
    this.out(`enum${t.nameOff ? " " : ""}${this.typeName(id)}`);
    if (!t.vlen) return;
    this.out(" {");
    const signed = t.kflag;
    const is64 = t.kind === K.BTF_KIND_ENUM64;
    for (const v of t.enumValues) {
      const name = this.nameOf(v.nameOff);
      // enumerators share the namespace of typedef identifiers
      const dup = this.nameDups(this.identNames, name);
      const shown = dup > 1 ? `${name}___${dup}` : name;
      let val: string;
      if (is64) {
        const u = (BigInt(v.hi) << 32n) | BigInt(v.lo);
        val = signed ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`;
      } else {
        val = String(signed ? v.lo | 0 : v.lo);
      }
      this.out(`\n${pfx(lvl + 1)}${shown} = ${val},`);
    }
    this.out(`\n${pfx(lvl)}}`);
  }

  private emitFwdDef(id: number, t: BtfType): void {
    this.out(`${t.kflag ? "union" : "struct"} ${this.typeName(id)}`);
  }

  private emitTypedefDef(id: number, t: BtfType, lvl: number): void {
    const name = this.identName(id);
    // old GCC emitted __gnuc_va_list as a typedef of void
    if (t.sizeOrType === 0 && name === "__gnuc_va_list") {
      this.out("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.out("typedef ");
    this.emitTypeDecl(t.sizeOrType, name, lvl);
  }

  /**
   * libbpf's btf_dump__emit_type_decl: the declaration of `fname` with type `id` at indentation `lvl`, anonymous types
   * inlined; `stripMods` leaves out const/volatile/restrict and type tags (bpftool's skeletons do, except for .kconfig).
   */
  emitDecl(id: number, fname: string, lvl: number, stripMods: boolean): void {
    if (id >= this.btf.typeCount) throw new BpfError("EINVAL", `btf_dump: type id ${id} out of range`);
    this.stripMods = stripMods;
    try {
      this.emitTypeDecl(id, fname, lvl);
    } catch (e) {
      if (e instanceof RangeError) throw new BpfError("ELOOP", `btf_dump: type [${id}] has a reference cycle or is nested too deeply`);
      throw e;
    } finally {
      this.stripMods = false;
    }
  }

  /** A declaration `<type> fname` in C syntax, walking the chain of pointers/arrays/protos/modifiers to a terminal type. */
  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    const stack = this.declStack;
    const start = stack.length;
    for (let guard = 0; ; guard++) {
      if (guard > 10000) throw new BpfError("ELOOP", `btf_dump: type [${id}] is in a declaration cycle`);
      const t = this.t(id);
      if (!(this.stripMods && id !== 0 && K.isModifier(t.kind))) stack.push(id);
      if (id === 0) break;
      let next = -1;
      switch (t.kind) {
        case K.BTF_KIND_PTR: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT:
        case K.BTF_KIND_FUNC_PROTO: case K.BTF_KIND_TYPE_TAG:
          next = t.sizeOrType;
          break;
        case K.BTF_KIND_ARRAY:
          next = t.arrayType;
          break;
      }
      if (next < 0) break;
      id = next;
    }
    const view: DeclView = { ids: stack, base: start, cnt: stack.length - start };
    this.emitTypeChain(view, fname, lvl);
    stack.length = start;
  }

  private top(v: DeclView): number {
    return v.ids[v.base + v.cnt - 1]!;
  }

  private emitMods(v: DeclView): void {
    while (v.cnt) {
      const k = this.t(this.top(v)).kind;
      if (k === K.BTF_KIND_VOLATILE) this.out("volatile ");
      else if (k === K.BTF_KIND_CONST) this.out("const ");
      else if (k === K.BTF_KIND_RESTRICT) this.out("restrict ");
      else return;
      v.cnt--;
    }
  }

  private dropMods(v: DeclView): void {
    while (v.cnt && K.isModifier(this.t(this.top(v)).kind)) v.cnt--;
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.out(name && !lastWasPtr ? ` ${name}` : name);
  }

  private emitTypeChain(decls: DeclView, fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (decls.cnt) {
      const id = decls.ids[decls.base + --decls.cnt]!;
      if (id === 0) {
        this.emitMods(decls);
        this.out("void");
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case K.BTF_KIND_INT: case K.BTF_KIND_FLOAT:
          this.emitMods(decls);
          this.out(this.nameOf(t.nameOff));
          break;
        case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
          this.emitMods(decls);
          if (t.nameOff === 0) this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
          this.emitMods(decls);
          if (t.nameOff === 0) this.emitEnumDef(id, t, lvl);
          else this.out(`enum ${this.typeName(id)}`);
          break;
        case K.BTF_KIND_FWD:
          this.emitMods(decls);
          this.emitFwdDef(id, t);
          break;
        case K.BTF_KIND_TYPEDEF:
          this.emitMods(decls);
          this.out(this.identName(id));
          break;
        case K.BTF_KIND_PTR:
          this.out(lastWasPtr ? "*" : " *");
          break;
        case K.BTF_KIND_VOLATILE:
          this.out(" volatile");
          break;
        case K.BTF_KIND_CONST:
          this.out(" const");
          break;
        case K.BTF_KIND_RESTRICT:
          this.out(" restrict");
          break;
        case K.BTF_KIND_TYPE_TAG:
          this.emitMods(decls);
          this.out(` __attribute__((btf_type_tag("${this.nameOf(t.nameOff)}")))`);
          break;
        case K.BTF_KIND_ARRAY: {
          // qualifiers on an array itself are a GCC artefact; libbpf drops them
          this.dropMods(decls);
          if (decls.cnt === 0) {
            this.emitName(fname, lastWasPtr);
            this.out(`[${t.arrayNelems}]`);
            return;
          }
          const multidim = this.t(this.top(decls)).kind === K.BTF_KIND_ARRAY;
          if (fname && !lastWasPtr) this.out(" ");
          if (!multidim) this.out("(");
          this.emitTypeChain(decls, fname, lvl);
          if (!multidim) this.out(")");
          this.out(`[${t.arrayNelems}]`);
          return;
        }
        case K.BTF_KIND_FUNC_PROTO: {
          this.dropMods(decls);
          if (decls.cnt) {
            this.out(" (");
            this.emitTypeChain(decls, fname, lvl);
            this.out(")");
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.out("(");
          const ps = t.params;
          // clang encodes `f(void)` as one void parameter; Debian's bpftool 7.1 carries libbpf's fix printing (void)
          if (ps.length === 0 || (ps.length === 1 && ps[0]!.type === 0)) {
            this.out("void)");
            return;
          }
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) this.out(", ");
            if (i === ps.length - 1 && ps[i]!.type === 0) {
              this.out("...");
              break;
            }
            this.emitTypeDecl(ps[i]!.type, this.nameOf(ps[i]!.nameOff), lvl);
          }
          this.out(")");
          return;
        }
        default:
          return; // unexpected kind in a declaration chain: libbpf warns and stops
      }
      lastWasPtr = t.kind === K.BTF_KIND_PTR;
    }
    this.emitName(fname, lastWasPtr);
  }

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.nameOff === 0) return "";
    const orig = this.nameOf(t.nameOff);
    if (this.nameResolved[id]) return this.cachedNames[id] ?? orig;
    if (t.kind === K.BTF_KIND_FWD || (t.kind === K.BTF_KIND_ENUM && t.vlen === 0)) {
      this.nameResolved[id] = 1;
      return orig;
    }
    const dup = this.nameDups(map, orig);
    if (dup > 1) this.cachedNames[id] = `${orig}___${dup}`.slice(0, 255);
    this.nameResolved[id] = 1;
    return this.cachedNames[id] ?? orig;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }
}

/** The whole BTF as bpftool prints it with `format c`, preamble and epilogue included. */
export function dumpBtfC(btf: Btf, out: Sink, rootIds?: readonly number[]): void {
  out(
    "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n",
  );
  const d = new BtfCDumper(btf, out);
  if (rootIds && rootIds.length) for (const id of rootIds) d.dumpType(id);
  else for (let id = 1; id < btf.typeCount; id++) d.dumpType(id);
  d.flush();
  out("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
}
