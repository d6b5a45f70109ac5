// Classic BPF → WebAssembly with libpcap's bpf_filter semantics (what pcap_offline_filter and tcpdump -r use): a load
// past the captured bytes or a division by zero rejects the packet (returns 0), `ja` may jump backwards (libpcap
// sign-extends k; `protochain` relies on it), no ancillary loads. A and X are i32 locals, the scratch slots M[] are
// locals too, big-endian loads are byte-swapped loads. Forward-only programs become nested blocks (one per jump target,
// no dispatch at all); a backward jump adds one loop with a br_table over the backward targets. The module also exports
// `scan`, which walks little-endian pcap records already in its memory and filters them in one call (no JS↔wasm
// crossing per packet); `run` copies one packet into a fixed region of the memory, with no allocation per packet.
import { BpfError } from "../errors.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { Bytes, encodeModule, I32 as I32_, OP as OP_ } from "./wasm.ts";

const OP = OP_, I32 = I32_;

/** Where `scan` leaves its state, and where `run` copies a packet: the first bytes of the filter's memory. */
export const SCAN_NEXT = 0, SCAN_SEEN = 4, SCAN_STATUS = 8, SCAN_OUT = 12, PACKET_AT = 16;
/** `scan` stopped: at the end of the complete records, at a record whose caplen exceeds snaplen, or at `limit` matches. */
export const SCAN_END = 0, SCAN_IRREGULAR = 1, SCAN_LIMIT = 2;

export interface WasmClassicFilter {
  /** The module's memory; `grow` it for larger buffers (views over it must then be re-created). */
  readonly memory: WebAssembly.Memory;
  /** bpf_filter(pkt[start..end), wirelen) → the u32 result; copies the bytes to PACKET_AT. */
  readonly run: (pkt: Uint8Array, wirelen: number, start?: number, end?: number) => number;
  /** Runs on `caplen` bytes already at `addr` in memory. */
  readonly runAt: (addr: number, caplen: number, wirelen: number) => number;
  /**
   * Walks pcap records (16-byte little-endian header: ts_sec, ts_usec, caplen, len) in memory [pos, end), filtering
   * each, until the end of the complete records, a record with caplen > snaplen, or `limit` matches. Unless `out` is
   * 0, copies each matching record (header and data) to out, one after another. Returns the match count and leaves
   * the address after the last record walked, the number walked, the reason it stopped and the end of the copied
   * records at SCAN_NEXT/SCAN_SEEN/SCAN_STATUS/SCAN_OUT.
   */
  readonly scan: (pos: number, end: number, snaplen: number, limit: number, out: number) => number;
}

// locals of `filter`: params b, buflen, wirelen; then A, X, sel, t32, u64 (i64), M[0..15]
const L_B = 0, L_BUFLEN = 1, L_WIRELEN = 2, L_A = 3, L_X = 4, L_SEL = 5, L_T = 6, L_U = 7, L_M = 8;
const I64 = 0x7e;

/** Compile a classic program with bpf_filter's semantics. */
export function compileClassicFilter(insns: readonly CbpfInsn[]): WasmClassicFilter {
  const bytes = classicFilterModule(insns);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { mem: memory } });
  const filter = inst.exports.filter as (b: number, buflen: number, wirelen: number) => number;
  const scan = inst.exports.scan as WasmClassicFilter["scan"];
  let u8 = new Uint8Array(memory.buffer);
  const run = (pkt: Uint8Array, wirelen: number, start = 0, end = pkt.length): number => {
    const len = end - start;
    if (PACKET_AT + len > u8.length) {
      memory.grow(Math.ceil((PACKET_AT + len - u8.length) / 65536));
      u8 = new Uint8Array(memory.buffer);
    } else if (u8.buffer !== memory.buffer) u8 = new Uint8Array(memory.buffer); // grown by the caller
    u8.set(start === 0 && end === pkt.length ? pkt : pkt.subarray(start, end), PACKET_AT);
    return filter(PACKET_AT, len, wirelen) >>> 0;
  };
  return { memory, run, runAt: (addr, caplen, wirelen) => filter(addr, caplen, wirelen) >>> 0, scan };
}

const isJump = (code: number): boolean => (code & 7) === 5;
const isRet = (code: number): boolean => (code & 7) === 6;

/** The module bytes: imports env.mem; exports filter(b, buflen, wirelen) → i32 and scan. */
export function classicFilterModule(insns: readonly CbpfInsn[]): Uint8Array {
  const n = insns.length;
  if (n === 0) throw new BpfError("EINVAL", "empty filter program");
  // jump targets inside the program; backward ones need the dispatch loop
  const isTarget = new Uint8Array(n);
  const leader = new Uint8Array(n + 1);
  leader[0] = 1;
  const backward: number[] = [];
  const targetOf = (pc: number, off: number): number => pc + 1 + off;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = insns[pc]!;
    if (isRet(code)) { leader[pc + 1] = 1; continue; }
    if (!isJump(code)) continue;
    leader[pc + 1] = 1;
    const ts = code === 0x05 ? [targetOf(pc, k | 0)] : [targetOf(pc, jt), targetOf(pc, jf)];
    for (const t of ts) {
      if (t < 0 || t >= n) continue;
      isTarget[t] = 1; leader[t] = 1;
      if (t <= pc && !backward.includes(t)) backward.push(t);
    }
  }
  const dispatch = backward.length > 0;
  if (dispatch) { isTarget[0] = 1; if (!backward.includes(0)) backward.unshift(0); else backward.sort((a, b) => a - b); }
  // cntLE[p] = targets <= p; rank[t] = index of t among the targets, ascending
  const cntLE = new Int32Array(n + 1);
  const rank = new Int32Array(n);
  let nt = 0;
  for (let pc = 0; pc < n; pc++) { if (isTarget[pc]) rank[pc] = nt++; cntLE[pc] = nt; }
  const c = new Bytes();
  const op = (o: number): void => c.byte(o);
  const get = (l: number): void => { c.byte(OP.local_get); c.u32(l); };
  const set = (l: number): void => { c.byte(OP.local_set); c.u32(l); };
  const tee = (l: number): void => { c.byte(OP.local_tee); c.u32(l); };
  const i32 = (v: number): void => { c.byte(OP.i32_const); c.s32(v); };
  const br = (o: number, depth: number): void => { c.byte(o); c.u32(depth); };
  const mem = (o: number, offset: number): void => { c.byte(o); c.u32(0); c.u32(offset >>> 0); };
  // open: $fail, [loop], one block per target (outermost = highest pc)
  c.byte(OP.block); c.byte(0x40);
  if (dispatch) { c.byte(OP.loop); c.byte(0x40); }
  for (let i = 0; i < nt; i++) { c.byte(OP.block); c.byte(0x40); }
  if (dispatch) {
    get(L_SEL);
    c.byte(OP.br_table); c.u32(backward.length);
    for (const t of backward) c.u32(rank[t]!);
    c.u32(0);
  }
  let pc = 0;
  const failDepth = (): number => nt - cntLE[pc]! + (dispatch ? 1 : 0);
  /** Branch (br or br_if) to `t`, from the code of `pc`. */
  const jumpTo = (o: number, t: number): void => {
    if (t < 0 || t >= n) { br(o, failDepth()); return; }
    if (t > pc) { br(o, rank[t]! - cntLE[pc]!); return; }
    // backward: select its dispatch entry, restart the loop
    const sel = backward.indexOf(t);
    if (o === OP.br_if) { c.byte(OP.if); c.byte(0x40); i32(sel); set(L_SEL); br(OP.br, nt - cntLE[pc]! + 1); op(OP.end); return; }
    i32(sel); set(L_SEL); br(OP.br, nt - cntLE[pc]!);
  };
  const fail = (): void => br(OP.br, failDepth());
  const failIf = (): void => br(OP.br_if, failDepth());
  // Constant-offset loads in one basic block are checked once, for the farthest: every instruction of a block runs
  // once it is entered (only its last can jump or return), and a failing check rejects the packet just as the
  // farthest load would.
  let checkedTo = 0;
  const blockReach = (from: number): number => {
    let reach = 0;
    for (let p = from; p < n; p++) {
      if (p > from && leader[p]) break;
      const { code, k } = insns[p]!;
      const size = code === 0x20 ? 4 : code === 0x28 ? 2 : code === 0x30 || code === 0xb1 ? 1 : 0;
      if (size) reach = Math.min(0xffffffff, Math.max(reach, (k >>> 0) + size));
      if (isJump(code) || isRet(code)) break;
    }
    return reach;
  };
  const checkAbs = (k: number, size: number): boolean => {
    const need = (k >>> 0) + size;
    if (need > 0xffffffff) { fail(); return false; }
    if (need > checkedTo) {
      const reach = blockReach(pc);
      get(L_BUFLEN); i32(reach); op(OP.i32_lt_u); failIf();
      checkedTo = reach;
    }
    return true;
  };
  /** u = X + k (no wrap, as libpcap's overflow-safe test); rejects unless u + size <= buflen; leaves b + u. */
  const indAddr = (k: number, size: number): void => {
    get(L_X); op(OP.i64_extend_i32_u); c.byte(OP.i64_const); c.s64(k >>> 0, 0); op(OP.i64_add); tee(L_U);
    c.byte(OP.i64_const); c.s64(size, 0); op(OP.i64_add); get(L_BUFLEN); op(OP.i64_extend_i32_u); op(OP.i64_gt_u); failIf();
    get(L_B); get(L_U); op(OP.i32_wrap_i64); op(OP.i32_add);
  };
  /** Big-endian load of `size` bytes at (address on the stack) + offset. */
  const loadBE = (size: number, offset: number): void => {
    if (size === 1) { mem(OP.i32_load8_u, offset); return; }
    if (size === 2) {
      tee(L_T); mem(OP.i32_load8_u, offset); i32(8); op(OP.i32_shl); get(L_T); mem(OP.i32_load8_u, offset + 1); op(OP.i32_or);
      return;
    }
    mem(OP.i32_load, offset); tee(L_T);
    i32(0xff00ff00 | 0); op(OP.i32_and); i32(8); op(OP.i32_rotl);
    get(L_T); i32(0x00ff00ff); op(OP.i32_and); i32(8); op(OP.i32_rotr); op(OP.i32_or);
  };
  const ALU: Readonly<Record<number, number>> = {
    0x00: OP.i32_add, 0x10: OP.i32_sub, 0x20: OP.i32_mul, 0x30: OP.i32_div_u, 0x40: OP.i32_or, 0x50: OP.i32_and,
    0x60: OP.i32_shl, 0x70: OP.i32_shr_u, 0x90: OP.i32_rem_u, 0xa0: OP.i32_xor,
  };
  const CMP: Readonly<Record<number, number>> = { 0x10: OP.i32_eq, 0x20: OP.i32_gt_u, 0x30: OP.i32_ge_u, 0x40: OP.i32_and };
  let live = true; // false after an unconditional transfer until the next jump target
  for (pc = 0; pc < n; pc++) {
    if (isTarget[pc]) { op(OP.end); live = true; }
    if (leader[pc]) checkedTo = 0;
    if (!live) continue;
    const { code, jt, jf } = insns[pc]!;
    const k = insns[pc]!.k | 0;
    const cls = code & 7;
    switch (code) {
      case 0x06: i32(k); op(OP.return); live = false; continue;
      case 0x16: get(L_A); op(OP.return); live = false; continue;
      case 0x20: case 0x28: case 0x30: {
        const size = code === 0x20 ? 4 : code === 0x28 ? 2 : 1;
        if (!checkAbs(k, size)) { live = false; continue; }
        get(L_B); loadBE(size, k); set(L_A); continue;
      }
      case 0x40: case 0x48: case 0x50: {
        const size = code === 0x40 ? 4 : code === 0x48 ? 2 : 1;
        indAddr(k, size); loadBE(size, 0); set(L_A); continue;
      }
      case 0xb1:
        if (!checkAbs(k, 1)) { live = false; continue; }
        get(L_B); mem(OP.i32_load8_u, k); i32(0xf); op(OP.i32_and); i32(2); op(OP.i32_shl); set(L_X); continue;
      case 0x80: get(L_WIRELEN); set(L_A); continue;
      case 0x81: get(L_WIRELEN); set(L_X); continue;
      case 0x00: i32(k); set(L_A); continue;
      case 0x01: i32(k); set(L_X); continue;
      case 0x60: get(L_M + (k & 15)); set(L_A); continue;
      case 0x61: get(L_M + (k & 15)); set(L_X); continue;
      case 0x02: get(L_A); set(L_M + (k & 15)); continue;
      case 0x03: get(L_X); set(L_M + (k & 15)); continue;
      case 0x07: get(L_A); set(L_X); continue;
      case 0x87: get(L_X); set(L_A); continue;
      case 0x84: i32(0); get(L_A); op(OP.i32_sub); set(L_A); continue;
      case 0x05: jumpTo(OP.br, pc + 1 + k); live = false; continue;
    }
    if (cls === 5 && CMP[code & 0xf0] !== undefined) {
      const t = pc + 1 + jt, f = pc + 1 + jf;
      if (t === f) { if (t !== pc + 1) { jumpTo(OP.br, t); live = false; } continue; }
      get(L_A);
      if (code & 0x08) get(L_X); else i32(k);
      op(CMP[code & 0xf0]!);
      if (t === pc + 1) { op(OP.i32_eqz); jumpTo(OP.br_if, f); continue; }
      jumpTo(OP.br_if, t);
      if (f !== pc + 1) { jumpTo(OP.br, f); live = false; }
      continue;
    }
    if (cls === 4 && ALU[code & 0xf0] !== undefined) {
      const aop = code & 0xf0;
      const byX = (code & 0x08) !== 0;
      if (aop === 0x30 || aop === 0x90) {
        if (byX) { get(L_X); op(OP.i32_eqz); failIf(); } else if (k === 0) { fail(); live = false; continue; }
      }
      if ((aop === 0x60 || aop === 0x70) && !byX && (k >>> 0) >= 32) { i32(0); set(L_A); continue; }
      get(L_A);
      if (byX) get(L_X); else i32(k);
      op(ALU[aop]!);
      if ((aop === 0x60 || aop === 0x70) && byX) { i32(0); get(L_X); i32(32); op(OP.i32_lt_u); op(OP.select); }
      set(L_A);
      continue;
    }
    fail(); live = false; // an instruction bpf_filter does not know rejects the packet
  }
  if (dispatch) op(OP.end);
  op(OP.end); // $fail
  i32(0);
  op(OP.end);
  return encodeModule({
    types: [{ params: [I32, I32, I32], results: [I32] }, { params: [I32, I32, I32, I32, I32], results: [I32] }],
    imports: [{ module: "env", name: "mem", kind: "memory", shared: false }],
    funcs: [
      { type: 0, locals: [[4, I32], [1, I64], [16, I32]], code: c },
      { type: 1, locals: [[4, I32]], code: scanBody() },
    ],
    exports: [{ name: "filter", func: 0 }, { name: "scan", func: 1 }],
  });
}

/** scan(pos, end, snaplen, limit, out) → matches (see WasmClassicFilter.scan); calls function 0 per record. */
function scanBody(): Bytes {
  const POS = 0, END = 1, SNAP = 2, LIMIT = 3, OUT = 4, CAP = 5, NEXT = 6, N = 7, SEEN = 8;
  const c = new Bytes();
  const get = (l: number): void => { c.byte(OP.local_get); c.u32(l); };
  const set = (l: number): void => { c.byte(OP.local_set); c.u32(l); };
  const tee = (l: number): void => { c.byte(OP.local_tee); c.u32(l); };
  const i32 = (v: number): void => { c.byte(OP.i32_const); c.s32(v); };
  const op = (o: number): void => c.byte(o);
  const mem = (o: number, offset: number): void => { c.byte(o); c.u32(2); c.u32(offset); };
  const status = (s: number): void => { i32(0); i32(s); mem(OP.i32_store, SCAN_STATUS); };
  status(SCAN_END);
  op(OP.block); op(0x40);
  op(OP.loop); op(0x40);
  // a whole header?
  get(END); get(POS); op(OP.i32_sub); i32(16); op(OP.i32_lt_u); op(OP.br_if); c.u32(1);
  get(POS); mem(OP.i32_load, 8); tee(CAP); get(SNAP); op(OP.i32_gt_u);
  op(OP.if); op(0x40); status(SCAN_IRREGULAR); op(OP.br); c.u32(2); op(OP.end);
  get(POS); i32(16); op(OP.i32_add); get(CAP); op(OP.i32_add); tee(NEXT); get(END); op(OP.i32_gt_u); op(OP.br_if); c.u32(1);
  get(SEEN); i32(1); op(OP.i32_add); set(SEEN);
  get(POS); i32(16); op(OP.i32_add); get(CAP); get(POS); mem(OP.i32_load, 12); op(OP.call); c.u32(0);
  op(OP.if); op(0x40);
  // copy the record out (memory.copy dst src n)
  get(OUT);
  op(OP.if); op(0x40);
  get(OUT); get(POS); get(NEXT); get(POS); op(OP.i32_sub); c.byte(0xfc); c.u32(10); c.byte(0); c.byte(0);
  get(OUT); get(NEXT); get(POS); op(OP.i32_sub); op(OP.i32_add); set(OUT);
  op(OP.end);
  get(NEXT); set(POS);
  get(N); i32(1); op(OP.i32_add); tee(N); get(LIMIT); op(OP.i32_ge_u);
  op(OP.if); op(0x40); status(SCAN_LIMIT); op(OP.br); c.u32(3); op(OP.end);
  op(OP.br); c.u32(1);
  op(OP.end);
  get(NEXT); set(POS);
  op(OP.br); c.u32(0);
  op(OP.end); // loop
  op(OP.end); // block
  i32(0); get(POS); mem(OP.i32_store, SCAN_NEXT);
  i32(0); get(SEEN); mem(OP.i32_store, SCAN_SEEN);
  i32(0); get(OUT); mem(OP.i32_store, SCAN_OUT);
  get(N);
  op(OP.end);
  return c;
}
