// The JIT's instruction emitter: wasm instruction bytes, and when listing (`prog dump jited`) one text line per wasm
// instruction tagged with the eBPF pc it came from.
import { Bytes, I64 as I64_, opName, OP as OP_ } from "./wasm.ts";

// module-local copies (imported bindings can cost a getter per use under tsx)
const OP = OP_, I64 = I64_;

export interface ListingLine { readonly pc: number; readonly text: string; readonly bytes: Uint8Array }

/** Instruction bytes plus, when listing, one text line per wasm instruction tagged with the current eBPF pc. */
export class Code {
  readonly b = new Bytes();
  readonly lines: ListingLine[] | undefined;
  private pc = -1;
  private depth = 1;
  private mark = 0;
  private text = "";
  constructor(listing: boolean) { this.lines = listing ? [] : undefined; }
  at(pc: number): void { this.pc = pc; }
  private flush(): void {
    if (this.lines && this.text) {
      this.lines.push({ pc: this.pc, text: "  ".repeat(Math.max(this.depth, 0)) + this.text, bytes: this.b.buf.slice(this.mark, this.b.len) });
    }
    this.mark = this.b.len; this.text = "";
  }
  private begin(t: string): void { this.flush(); if (this.lines) this.text = t; }
  op(o: number): void {
    if (this.lines === undefined) { this.b.byte(o); return; }
    if (o === OP.end) this.depth--;
    this.begin(opName(o)); this.b.byte(o);
    if (o === OP.else) this.depth--;
    this.flush();
    if (o === OP.else) this.depth++;
  }
  opu(o: number, v: number): void {
    if (this.lines === undefined) { this.b.byte(o); this.b.u32(v); return; }
    this.begin(`${opName(o)} ${v}`); this.b.byte(o); this.b.u32(v); this.flush();
  }
  scope(o: number, type: number): void {
    if (this.lines === undefined) { this.b.byte(o); this.b.byte(type); return; }
    this.begin(opName(o) + (type === 0x40 ? "" : type === I64 ? " (result i64)" : " (result i32)"));
    this.b.byte(o); this.b.byte(type); this.flush(); this.depth++;
  }
  i32(v: number): void {
    if (this.lines === undefined) { this.b.byte(0x41); this.b.s32(v); return; }
    this.begin(`i32.const ${v | 0}`); this.b.byte(OP.i32_const); this.b.s32(v); this.flush(); }
  i64(lo: number, hi: number): void {
    if (this.lines === undefined) { this.b.byte(0x42); this.b.s64(lo, hi); return; }
    this.begin(`i64.const ${hi === lo >> 31 ? String(lo | 0) : "0x" + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0")}`);
    this.b.byte(OP.i64_const); this.b.s64(lo, hi); this.flush();
  }
  get(l: number): void { this.opu(OP.local_get, l); }
  set(l: number): void { this.opu(OP.local_set, l); }
  mem(o: number, align: number, offset: number): void {
    if (this.lines === undefined) { this.b.byte(o); this.b.u32(align); this.b.u32(offset); return; }
    this.begin(`${opName(o)}${offset ? ` offset=${offset}` : ""}`); this.b.byte(o); this.b.u32(align); this.b.u32(offset); this.flush();
  }
  atomic(o: number, align: number): void {
    this.begin(`atomic 0x${o.toString(16)}`); this.b.byte(0xfe); this.b.u32(o); this.b.u32(align); this.b.u32(0); this.flush();
  }
  callIndirect(type: number): void {
    this.begin(`call_indirect (type ${type})`); this.b.byte(OP.call_indirect); this.b.u32(type); this.b.u32(0); this.flush();
  }
  brTable(targets: readonly number[], dflt: number): void {
    this.begin(`br_table ${targets.join(" ")} ${dflt}`); this.b.byte(OP.br_table); this.b.u32(targets.length);
    for (const t of targets) this.b.u32(t);
    this.b.u32(dflt); this.flush();
  }
  comment(t: string): void { if (this.lines === undefined) return; this.flush(); this.lines?.push({ pc: this.pc, text: "  ".repeat(this.depth) + `;; ${t}`, bytes: new Uint8Array(0) }); }
}
