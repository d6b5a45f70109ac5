// The light skeleton's loader: an object's whole load (BTF, map creation and initial values, program loads with their
// func/line info, CO-RE records, ksym and kfunc lookups, attach targets) recorded, as libbpf 1.1's gen_loader does it,
// as one BPF_PROG_TYPE_SYSCALL program (`insns`) plus the data blob it works on (`data`): bpf_attr images, strings,
// instructions, and the fd_array. The recording follows libbpf's bpf_object__load in gen mode (every kernel feature
// assumed present, CO-RE left to the kernel), from the BpfObject src/object/load.ts opened. Pure.
import { BpfError } from "../errors.ts";
import { encodeBtf } from "../btf/encode.ts";
import { encodeProgram } from "../isa/ebpf/encode.ts";
import * as K from "../btf/kinds.ts";
import type { BpfObject, MapSpec } from "./types.ts";

const MAX_USED_MAPS = 64;
const MAX_USED_PROGS = 32;
const MAX_KFUNC_DESCS = 256;
const MAX_FD_ARRAY_SZ = MAX_USED_MAPS + MAX_KFUNC_DESCS;
/** struct loader_stack { u32 btf_fd; u32 inner_map_fd; u32 prog_fd[MAX_USED_PROGS]; } below r10 */
const STACK_SZ = 8 + 4 * MAX_USED_PROGS;
const STACK_BTF_FD = -STACK_SZ;
const STACK_INNER_MAP_FD = -STACK_SZ + 4;
const stackProgFd = (i: number): number => -STACK_SZ + 8 + 4 * i;
/** struct bpf_loader_ctx { u32 sz, flags, log_level, log_size; u64 log_buf; }, then bpf_map_desc[16 B], bpf_prog_desc[4 B] */
const CTX_FLAGS = 4, CTX_LOG_LEVEL = 8, CTX_LOG_SIZE = 12, CTX_LOG_BUF = 16, CTX_SIZE = 24;
const MAP_DESC_SIZE = 16, MAP_DESC_MAX_ENTRIES = 4, MAP_DESC_INITIAL_VALUE = 8;
const BPF_SKEL_KERNEL = 1;

// helpers the loader calls
const FN_TRACE_PRINTK = 6, FN_PROBE_READ_KERNEL = 113, FN_COPY_FROM_USER = 148, FN_SYS_BPF = 166;
const FN_BTF_FIND_BY_NAME_KIND = 167, FN_SYS_CLOSE = 168, FN_KALLSYMS_LOOKUP_NAME = 179;
// bpf commands
const BPF_MAP_CREATE = 0, BPF_MAP_UPDATE_ELEM = 2, BPF_PROG_LOAD = 5, BPF_BTF_LOAD = 18, BPF_MAP_FREEZE = 22;
const PSEUDO_MAP_IDX_VALUE = 6;
const BPF_PSEUDO_BTF_ID = 3;
const ENOENT = 2;

// union bpf_attr field offsets (libbpf 1.1's uapi)
const BTF_LOAD_ATTR = 28; // offsetofend(btf_log_level)
const MAP_CREATE_ATTR = 72; // offsetofend(map_extra)
const PROG_LOAD_ATTR = 140; // offsetofend(core_relo_rec_size)
const UPDATE_ATTR = 32; // offsetofend(flags)
const FREEZE_ATTR = 4; // offsetofend(map_fd)

/** A CO-RE record handed to the kernel (struct bpf_core_relo). */
export interface LoaderCoreRelo {
  readonly insnOff: number;
  readonly typeId: number;
  readonly accessStrOff: number;
  readonly kind: number;
}

export interface LoaderOptions {
  /** The number of possible CPUs (a perf event array without max_entries gets one slot each). */
  readonly possibleCpus: number;
  /** Whether a pinned map (`pinning = LIBBPF_PIN_BY_NAME`) already exists under /sys/fs/bpf (libbpf reuses it). */
  readonly pinnedExists?: (name: string) => boolean;
  /** /proc/kallsyms: every address of a symbol (libbpf resolves typeless ksyms there even when recording). */
  readonly kallsyms?: (name: string) => readonly bigint[];
  /** How libbpf names the object in its messages: the path it was opened from (default: the object's name). */
  readonly path?: string;
}

export interface LoaderProgram {
  readonly insns: Uint8Array;
  readonly data: Uint8Array;
}

/** What libbpf prints with pr_warn while recording, then the errno its load returns. */
export class LoaderGenError extends BpfError {
  constructor(readonly warnings: readonly string[], readonly errno: number) {
    super("EINVAL", warnings[warnings.length - 1] ?? "failed to generate the loader program");
  }
}

class Bytes {
  buf = new Uint8Array(4096);
  len = 0;
  private dv = new DataView(this.buf.buffer);
  reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const b = new Uint8Array(cap);
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
      this.dv = new DataView(b.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  view(): DataView {
    return this.dv;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A bpf_attr image being filled before it is added to the blob. */
class Attr {
  readonly b: Uint8Array;
  private readonly dv: DataView;
  constructor(readonly size: number) {
    this.b = new Uint8Array(size);
    this.dv = new DataView(this.b.buffer);
  }
  u32(off: number, v: number): this { this.dv.setUint32(off, v >>> 0, true); return this; }
  u64(off: number, v: bigint): this { this.dv.setBigUint64(off, BigInt.asUintN(64, v), true); return this; }
  str(off: number, s: string, max: number): this {
    const e = new TextEncoder().encode(s);
    this.b.set(e.subarray(0, max - 1), off);
    return this;
  }
}

interface KsymDesc { name: string; kind: number; ref: number; off: number; insn: number; typeless: boolean }
interface ExternRelo { name: string; weak: boolean; typeless: boolean; kind: number; insnIdx: number }

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
const SZ: Record<number, number> = { 8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10 };

class Gen {
  readonly insn = new Bytes();
  readonly data = new Bytes();
  error = 0;
  readonly warnings: string[] = [];
  fdArray = 0;
  cleanupLabel = 0;
  nrMaps = 0;
  nrProgs = 0;
  nrFdArray = 0;
  attachKind = 0;
  attachTarget = "";
  coreRelos: LoaderCoreRelo[] = [];
  relos: ExternRelo[] = [];
  ksyms: KsymDesc[] = [];

  emit(code: number, dst: number, src: number, off: number, imm: number): void {
    if (this.error) return;
    const at = this.insn.reserve(8);
    const dv = this.insn.view();
    dv.setUint8(at, code);
    dv.setUint8(at + 1, (dst & 0xf) | ((src & 0xf) << 4));
    dv.setInt16(at + 2, off, true);
    dv.setInt32(at + 4, imm | 0, true);
  }
  private get insnLen(): number { return this.insn.len; }

  movReg(dst: number, src: number): void { this.emit(0xbf, dst, src, 0, 0); }
  movImm(dst: number, imm: number): void { this.emit(0xb7, dst, 0, 0, imm); }
  call(fn: number): void { this.emit(0x85, 0, 0, 0, fn); }
  exit(): void { this.emit(0x95, 0, 0, 0, 0); }
  ldx(size: number, dst: number, src: number, off: number): void { this.emit(0x61 | SZ[size]!, dst, src, off, 0); }
  stx(size: number, dst: number, src: number, off: number): void { this.emit(0x63 | SZ[size]!, dst, src, off, 0); }
  st(size: number, dst: number, off: number, imm: number): void { this.emit(0x62 | SZ[size]!, dst, 0, off, imm); }
  jmpImm(op: number, dst: number, imm: number, off: number): void { this.emit(0x05 | op, dst, 0, off, imm); }
  /** lddw dst, blob + off (BPF_PSEUDO_MAP_IDX_VALUE of the loader's own data map) */
  ldBlob(dst: number, off: number): void {
    this.emit(0x18, dst, PSEUDO_MAP_IDX_VALUE, 0, 0);
    this.emit(0, 0, 0, 0, off);
  }

  addData(bytes: Uint8Array | undefined, size: number): number {
    const size8 = Math.ceil(size / 8) * 8;
    if (this.error) return 0;
    const at = this.data.reserve(size8);
    this.data.buf.fill(0, at, at + size8);
    if (bytes) this.data.buf.set(bytes.subarray(0, size), at);
    return at;
  }
  fdArrayOff(i: number): number { return this.fdArray + i * 4; }

  relStore(off: number, data: number): void {
    this.ldBlob(R0, data);
    this.ldBlob(R1, off);
    this.stx(8, R1, R0, 0);
  }
  blob2blob(off: number, size: number, blobOff: number): void {
    this.ldBlob(R2, blobOff);
    this.ldx(size, R0, R2, 0);
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  blob2ctx(ctxOff: number, size: number, blobOff: number): void {
    this.ldBlob(R1, blobOff);
    this.ldx(size, R0, R1, 0);
    this.stx(size, R6, R0, ctxOff);
  }
  ctx2blob(off: number, size: number, ctxOff: number, nonZero: boolean): void {
    this.ldx(size, R0, R6, ctxOff);
    if (nonZero) this.jmpImm(0x10, R0, 0, 3);
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  stack2blob(off: number, size: number, stackOff: number): void {
    this.ldx(size, R0, R10, stackOff);
    this.ldBlob(R1, off);
    this.stx(size, R1, R0, 0);
  }
  stack2ctx(ctxOff: number, size: number, stackOff: number): void {
    this.ldx(size, R0, R10, stackOff);
    this.stx(size, R6, R0, ctxOff);
  }
  sysBpf(cmd: number, attr: number, attrSize: number): void {
    this.movImm(R1, cmd);
    this.ldBlob(R2, attr);
    this.movImm(R3, attrSize);
    this.call(FN_SYS_BPF);
    this.movReg(R7, R0);
  }
  checkErr(): void {
    const off = -((this.insnLen - this.cleanupLabel) / 8) - 1;
    if (off >= -32768 && off <= 32767) this.jmpImm(0xc0, R7, 0, off);
    else {
      this.error = -34;
      this.jmpImm(0x00, 0, 0, -1);
    }
  }
  sysClose(): void {
    this.jmpImm(0xd0, R1, 0, 2);
    this.movReg(R9, R1);
    this.call(FN_SYS_CLOSE);
  }
  sysCloseStack(stackOff: number): void {
    this.ldx(4, R1, R10, stackOff);
    this.sysClose();
  }
  sysCloseBlob(blobOff: number): void {
    this.ldBlob(R0, blobOff);
    this.ldx(4, R1, R0, 0);
    this.sysClose();
  }

  init(nrProgs: number, nrMaps: number): void {
    this.fdArray = this.addData(undefined, MAX_FD_ARRAY_SZ * 4);
    this.movReg(R6, R1);
    this.movReg(R1, R10);
    this.emit(0x07, R1, 0, 0, -STACK_SZ);
    this.movImm(R2, STACK_SZ);
    this.movImm(R3, 0);
    this.call(FN_PROBE_READ_KERNEL);
    const progsSz = 8 + 4 * nrProgs;
    this.jmpImm(0x00, 0, 0, (progsSz / 4) * 3 + 2 + nrMaps * 6);
    this.cleanupLabel = this.insnLen;
    for (let i = 0; i < progsSz; i += 4) {
      this.ldx(4, R1, R10, -STACK_SZ + i);
      this.jmpImm(0xd0, R1, 0, 1);
      this.call(FN_SYS_CLOSE);
    }
    for (let i = 0; i < nrMaps; i++) this.sysCloseBlob(this.fdArrayOff(i));
    this.movReg(R0, R7);
    this.exit();
  }

  loadBtf(raw: Uint8Array): void {
    const btfData = this.addData(raw, raw.length);
    const attr = new Attr(BTF_LOAD_ATTR).u32(16, raw.length);
    const at = this.addData(attr.b, attr.size);
    this.ctx2blob(at + 24, 4, CTX_LOG_LEVEL, false);
    this.ctx2blob(at + 20, 4, CTX_LOG_SIZE, false);
    this.ctx2blob(at + 8, 8, CTX_LOG_BUF, false);
    this.relStore(at + 0, btfData);
    this.sysBpf(BPF_BTF_LOAD, at, BTF_LOAD_ATTR);
    this.checkErr();
    this.stx(4, R10, R7, STACK_BTF_FD);
  }

  mapCreate(m: { type: number; name: string; keySize: number; valueSize: number; maxEntries: number; flags: number; mapExtra: bigint; numaNode: number; btfKeyTypeId: number; btfValueTypeId: number }, mapIdx: number): void {
    const attr = new Attr(MAP_CREATE_ATTR)
      .u32(0, m.type).u32(4, m.keySize).u32(8, m.valueSize).u32(16, m.flags).u64(64, m.mapExtra)
      .str(28, m.name, 16).u32(24, m.numaNode).u32(12, m.maxEntries).u32(52, m.btfKeyTypeId).u32(56, m.btfValueTypeId);
    const at = this.addData(attr.b, attr.size);
    if (m.btfValueTypeId) this.stack2blob(at + 48, 4, STACK_BTF_FD);
    const mim = m.type === 12 || m.type === 13;
    if (mim) this.stack2blob(at + 20, 4, STACK_INNER_MAP_FD);
    if (mapIdx >= 0) this.ctx2blob(at + 12, 4, CTX_SIZE + MAP_DESC_SIZE * mapIdx + MAP_DESC_MAX_ENTRIES, true);
    this.sysBpf(BPF_MAP_CREATE, at, MAP_CREATE_ATTR);
    this.checkErr();
    if (mapIdx < 0) {
      this.stx(4, R10, R7, STACK_INNER_MAP_FD);
    } else if (mapIdx !== this.nrMaps) {
      this.error = -33; // EDOM: libbpf's "internal bug"
      return;
    } else {
      if (this.nrMaps === MAX_USED_MAPS) {
        this.warnings.push(`Total maps exceeds ${MAX_USED_MAPS}`);
        this.error = -7;
      } else {
        const idx = this.nrMaps++;
        this.ldBlob(R1, this.fdArrayOff(idx));
        this.stx(4, R1, R7, 0);
      }
    }
    if (mim) this.sysCloseStack(STACK_INNER_MAP_FD);
  }

  mapUpdateElem(mapIdx: number, value: Uint8Array, valueSize: number): void {
    const v = this.addData(value, valueSize);
    const key = this.addData(new Uint8Array(4), 4);
    this.ldx(8, R3, R6, CTX_SIZE + MAP_DESC_SIZE * mapIdx + MAP_DESC_INITIAL_VALUE);
    this.jmpImm(0x10, R3, 0, 8);
    this.ldBlob(R1, v);
    this.movImm(R2, valueSize);
    this.ldx(4, R0, R6, CTX_FLAGS);
    this.jmpImm(0x40, R0, BPF_SKEL_KERNEL, 2);
    this.call(FN_COPY_FROM_USER);
    this.jmpImm(0x00, 0, 0, 1);
    this.call(FN_PROBE_READ_KERNEL);
    const at = this.addData(new Uint8Array(UPDATE_ATTR), UPDATE_ATTR);
    this.blob2blob(at + 0, 4, this.fdArrayOff(mapIdx));
    this.relStore(at + 8, key);
    this.relStore(at + 16, v);
    this.sysBpf(BPF_MAP_UPDATE_ELEM, at, UPDATE_ATTR);
    this.checkErr();
  }

  populateOuterMap(outerIdx: number, slot: number, innerIdx: number): void {
    const key = this.addData(new Attr(4).u32(0, slot).b, 4);
    const at = this.addData(new Uint8Array(UPDATE_ATTR), UPDATE_ATTR);
    this.blob2blob(at + 0, 4, this.fdArrayOff(outerIdx));
    this.relStore(at + 8, key);
    this.relStore(at + 16, this.fdArrayOff(innerIdx));
    this.sysBpf(BPF_MAP_UPDATE_ELEM, at, UPDATE_ATTR);
    this.checkErr();
  }

  mapFreeze(mapIdx: number): void {
    const at = this.addData(new Uint8Array(FREEZE_ATTR), FREEZE_ATTR);
    this.blob2blob(at + 0, 4, this.fdArrayOff(mapIdx));
    this.sysBpf(BPF_MAP_FREEZE, at, FREEZE_ATTR);
    this.checkErr();
  }

  private findByNameKind(name: string, kind: number): void {
    const len = new TextEncoder().encode(name).length + 1;
    const off = this.addData(cstring(name), len);
    this.ldBlob(R1, off);
    this.movImm(R2, len);
    this.movImm(R3, kind);
    this.movImm(R4, 0);
    this.call(FN_BTF_FIND_BY_NAME_KIND);
    this.movReg(R7, R0);
  }

  private ksymDesc(r: ExternRelo): KsymDesc {
    const k = this.ksyms.find((x) => x.name === r.name);
    if (k) {
      k.ref++;
      return k;
    }
    const d = { name: r.name, kind: r.kind, ref: 1, off: 0, insn: 0, typeless: false };
    this.ksyms.push(d);
    return d;
  }

  private reloKfunc(r: ExternRelo, insn: number): void {
    const k = this.ksymDesc(r);
    if (k.ref > 1) {
      this.blob2blob(insn + 4, 4, k.insn + 4);
      this.blob2blob(insn + 2, 2, k.insn + 2);
      return;
    }
    k.insn = insn;
    this.findByNameKind(r.name, r.kind);
    if (!r.weak) this.checkErr();
    let idx: number;
    if (this.nrFdArray === MAX_KFUNC_DESCS) idx = (this.addData(undefined, 4) - this.fdArray) / 4;
    else idx = MAX_USED_MAPS + this.nrFdArray++;
    if (idx > 32767) {
      this.warnings.push(`BTF fd off ${idx} for kfunc ${r.name} exceeds INT16_MAX, cannot process relocation`);
      this.error = -7;
      return;
    }
    k.off = idx;
    this.jmpImm(0x70, R7, 0, 3);
    this.st(4, R8, 4, 0);
    this.st(2, R8, 2, 0);
    this.jmpImm(0x00, 0, 0, 10);
    this.stx(4, R8, R7, 4);
    this.movReg(R9, R7);
    this.emit(0x77, R9, 0, 0, 32);
    this.jmpImm(0x50, R9, 0, 2);
    this.st(2, R8, 2, 0);
    this.jmpImm(0x00, 0, 0, 4);
    this.ldBlob(R0, this.fdArrayOff(idx));
    this.stx(4, R0, R9, 0);
    this.st(2, R8, 2, idx);
  }

  private reloKsymTypeless(r: ExternRelo, insn: number): void {
    const k = this.ksymDesc(r);
    if (k.ref > 1) {
      this.blob2blob(insn + 4, 4, k.insn + 4);
      this.blob2blob(insn + 12, 4, k.insn + 12);
      return;
    }
    k.insn = insn;
    k.typeless = true;
    const len = new TextEncoder().encode(r.name).length + 1;
    const nameOff = this.addData(cstring(r.name), len);
    const res = this.addData(undefined, 8);
    this.ldBlob(R1, nameOff);
    this.movImm(R2, len);
    this.movImm(R3, 0);
    this.ldBlob(R4, res);
    this.movReg(R7, R4);
    this.call(FN_KALLSYMS_LOOKUP_NAME);
    this.ldx(8, R9, R7, 0);
    this.movReg(R7, R0);
    this.jmpImm(0x10, R7, -ENOENT, 1);
    this.checkErr();
    this.stx(4, R8, R9, 4);
    this.emit(0x77, R9, 0, 0, 32);
    this.stx(4, R8, R9, 12);
  }

  private reloKsymBtf(r: ExternRelo, insn: number): void {
    const k = this.ksymDesc(r);
    if (k.ref > 1) {
      // the btf_obj_fd half first, so R0 holds the btf_id for the test below (the kernel tree's fix of 2023-03)
      this.blob2blob(insn + 12, 4, k.insn + 12);
      this.blob2blob(insn + 4, 4, k.insn + 4);
      this.jmpImm(0x50, R0, 0, 3);
    } else {
      k.insn = insn;
      this.findByNameKind(r.name, r.kind);
      if (!r.weak) this.checkErr();
      this.jmpImm(0x70, R7, 0, 3);
      this.st(4, R8, 4, 0);
      this.st(4, R8, 12, 0);
      this.jmpImm(0x00, 0, 0, 4);
      this.stx(4, R8, R7, 4);
      this.emit(0x77, R7, 0, 0, 32);
      this.stx(4, R8, R7, 12);
      this.jmpImm(0x00, 0, 0, 3);
    }
    this.ldx(1, R9, R8, 1);
    this.emit(0x54, R9, 0, 0, 0x0f);
    this.stx(1, R8, R9, 1);
  }

  private cleanupRelos(): void {
    for (const k of this.ksyms) {
      if (k.kind === K.BTF_KIND_VAR && !k.typeless) this.sysCloseBlob(k.insn + 12);
      else if (k.kind === K.BTF_KIND_FUNC) {
        this.sysCloseBlob(this.fdArrayOff(k.off));
        if (k.off < MAX_FD_ARRAY_SZ) this.nrFdArray--;
      }
    }
    this.ksyms = [];
    this.relos = [];
    this.coreRelos = [];
  }

  progLoad(p: { type: number; name: string; license: string; insns: Uint8Array; insnCnt: number; expectedAttachType: number; attachBtfId: number; progFlags: number; funcInfo: Uint8Array; funcInfoCnt: number; lineInfo: Uint8Array; lineInfoCnt: number; btf: boolean }): void {
    const lic = cstring(p.license);
    const licenseOff = this.addData(lic, lic.length);
    const insnsOff = this.addData(p.insns, p.insns.length);
    const attr = new Attr(PROG_LOAD_ATTR)
      .u32(0, p.type).u32(68, p.expectedAttachType).u32(108, p.attachBtfId).u32(4, p.insnCnt).u32(44, p.progFlags);
    attr.u32(76, p.btf ? 8 : 0).u32(88, p.btf ? p.funcInfoCnt : 0);
    const fi = this.addData(p.funcInfo, p.btf ? p.funcInfoCnt * 8 : 0);
    attr.u32(92, p.btf ? 16 : 0).u32(104, p.btf ? p.lineInfoCnt : 0);
    const li = this.addData(p.lineInfo, p.btf ? p.lineInfoCnt * 16 : 0);
    attr.u32(136, 16).u32(116, this.coreRelos.length);
    const cr = new Attr(this.coreRelos.length * 16);
    this.coreRelos.forEach((c, i) => cr.u32(i * 16, c.insnOff).u32(i * 16 + 4, c.typeId).u32(i * 16 + 8, c.accessStrOff).u32(i * 16 + 12, c.kind));
    const core = this.addData(cr.b, cr.size);
    attr.str(48, p.name, 16);
    const at = this.addData(attr.b, attr.size);
    this.relStore(at + 16, licenseOff);
    this.relStore(at + 8, insnsOff);
    this.relStore(at + 80, fi);
    this.relStore(at + 96, li);
    this.relStore(at + 128, core);
    this.relStore(at + 120, this.fdArray);
    this.ctx2blob(at + 24, 4, CTX_LOG_LEVEL, false);
    this.ctx2blob(at + 28, 4, CTX_LOG_SIZE, false);
    this.ctx2blob(at + 32, 8, CTX_LOG_BUF, false);
    this.stack2blob(at + 72, 4, STACK_BTF_FD);
    if (this.attachKind) {
      const len = new TextEncoder().encode(this.attachTarget).length + 1;
      this.findByNameKind(this.attachTarget, this.attachKind);
      void len;
      this.checkErr();
      this.ldBlob(R0, at);
      this.stx(4, R0, R7, 108);
      this.emit(0x77, R7, 0, 0, 32);
      this.stx(4, R0, R7, 112);
    }
    for (const r of this.relos) {
      const insn = insnsOff + 8 * r.insnIdx;
      this.ldBlob(R8, insn);
      if (r.kind === K.BTF_KIND_VAR) {
        if (r.typeless) this.reloKsymTypeless(r, insn);
        else this.reloKsymBtf(r, insn);
      } else this.reloKfunc(r, insn);
    }
    this.sysBpf(BPF_PROG_LOAD, at, PROG_LOAD_ATTR);
    this.cleanupRelos();
    if (this.attachKind) {
      this.sysCloseBlob(at + 112);
      this.attachKind = 0;
    }
    this.checkErr();
    this.stx(4, R10, R7, stackProgFd(this.nrProgs));
    this.nrProgs++;
  }

  finish(nrProgs: number, nrMaps: number): void {
    if (nrProgs < this.nrProgs || nrMaps !== this.nrMaps) {
      this.warnings.push(`nr_progs ${nrProgs}/${this.nrProgs} nr_maps ${nrMaps}/${this.nrMaps} mismatch`);
      this.error = -14;
      return;
    }
    this.sysCloseStack(STACK_BTF_FD);
    for (let i = 0; i < this.nrProgs; i++) this.stack2ctx(CTX_SIZE + MAP_DESC_SIZE * this.nrMaps + 4 * i, 4, stackProgFd(i));
    for (let i = 0; i < this.nrMaps; i++) this.blob2ctx(CTX_SIZE + MAP_DESC_SIZE * i, 4, this.fdArrayOff(i));
    this.movImm(R0, 0);
    this.exit();
  }
}

function cstring(s: string): Uint8Array {
  const e = new TextEncoder().encode(s);
  const b = new Uint8Array(e.length + 1);
  b.set(e);
  return b;
}

// map types libbpf creates without key/value BTF
const NO_BTF_TYPES = new Set([4, 7, 8, 12, 13, 14, 15, 16, 17, 18, 22, 23, 25]);
const INTERNAL = new Set(["data", "rodata", "bss", "kconfig"]);
const BPF_PROG_TYPE_TRACING = 26, BPF_PROG_TYPE_EXT = 28, BPF_PROG_TYPE_LSM = 29;

/** btf_get_kernel_prefix_kind: where the kernel names an attach target of this attach type. */
function attachPrefixKind(attachType: number): [string, number] {
  switch (attachType) {
    case 23: return ["btf_trace_", K.BTF_KIND_TYPEDEF]; // BPF_TRACE_RAW_TP
    case 27: return ["bpf_lsm_", K.BTF_KIND_FUNC]; // BPF_LSM_MAC
    case 28: return ["bpf_iter_", K.BTF_KIND_FUNC]; // BPF_TRACE_ITER
    default: return ["", K.BTF_KIND_FUNC];
  }
}

/** Records `obj`'s load as libbpf 1.1's gen_loader does; throws LoaderGenError with libbpf's warnings where it fails. */
export function generateLoader(obj: BpfObject, opts: LoaderOptions): LoaderProgram {
  const g = new Gen();
  const fail = (msg: string, errno: number): never => {
    throw new LoaderGenError([...g.warnings, msg], errno);
  };
  // bpf_object__resolve_externs: typeless ksyms take their /proc/kallsyms address (the loader looks them up again)
  const ksymAddr = new Map<string, bigint>();
  for (const x of obj.externs) {
    if (x.kind !== "ksym" || !x.typeless) continue;
    const addrs = [...new Set(opts.kallsyms?.(x.name) ?? [])];
    if (addrs.length > 1) fail(`extern (ksym) '${x.name}': resolution is ambiguous: 0x${addrs[0]!.toString(16)} or 0x${addrs[1]!.toString(16)}`, 22);
    if (addrs.length) ksymAddr.set(x.name, addrs[0]!);
  }
  for (const x of obj.externs) {
    if (x.kind === "ksym" && x.typeless && !ksymAddr.has(x.name) && !x.weak) {
      g.warnings.push(`extern '${x.name}' (strong): not resolved`);
      fail(`failed to load object '${opts.path ?? obj.name}'`, 3);
    }
  }
  const maps = obj.maps;
  const nrPrograms = obj.functionCount ?? obj.programs.length;
  g.init(nrPrograms, maps.length);
  const btf = obj.btf;
  if (btf) g.loadBtf(encodeBtf(btf));
  if (maps.some((m) => m.origin === "struct_ops")) fail("struct_ops maps need the kernel's BTF, which the loader generator does not read", 95);
  // bpf_object__create_maps
  maps.forEach((m, i) => {
    if (m.pinning === 1 && opts.pinnedExists?.(m.name)) return; // reused: no creation recorded
    const btfIds = (x: MapSpec) => (btf && !NO_BTF_TYPES.has(x.type) ? { btfKeyTypeId: x.btfKeyTypeId, btfValueTypeId: x.btfValueTypeId } : { btfKeyTypeId: 0, btfValueTypeId: 0 });
    // the inner map's template first (its def's own key/value types), closed once the outer map holds it
    if ((m.type === 12 || m.type === 13) && m.innerMap) g.mapCreate({ ...mapAttr(m.innerMap), ...btfIds(m.innerMap) }, -1);
    const maxEntries = m.type === 4 && !m.maxEntries ? opts.possibleCpus : m.maxEntries;
    g.mapCreate({ ...mapAttr(m), maxEntries, ...btfIds(m) }, i);
    if (INTERNAL.has(m.origin)) {
      g.mapUpdateElem(i, m.initialValue ?? new Uint8Array(m.valueSize), m.valueSize);
      if (m.origin === "rodata" || m.origin === "kconfig") g.mapFreeze(i);
    }
    if (m.initSlots && m.type !== 3) {
      m.initSlots.forEach((name, slot) => {
        if (name === undefined) return;
        g.populateOuterMap(i, slot, maps.findIndex((x) => x.name === name));
      });
    }
    if (m.pinning === 1) {
      // libbpf then pins the map it pretends to have (fd 0), which the kernel refuses
      const path = `/sys/fs/bpf/${m.name}`;
      g.warnings.push("failed to pin map: Invalid argument", `map '${m.name}': failed to auto-pin at '${path}': -22`,
        `map '${m.name}': failed to create: Invalid argument(-22)`);
      fail(`failed to load object '${opts.path ?? obj.name}'`, 22);
    }
  });
  // bpf_object__load_progs
  for (const p of obj.programs) {
    if (p.progType === 0) {
      g.warnings.push(`prog '${p.name}': missing BPF prog type, check ELF section name '${p.section}'`);
      g.warnings.push(`prog '${p.name}': failed to load: -22`);
      fail(`failed to load object '${opts.path ?? obj.name}'`, 22);
    }
    let attachBtfId = 0;
    if ((p.progType === BPF_PROG_TYPE_TRACING || p.progType === BPF_PROG_TYPE_LSM || p.progType === BPF_PROG_TYPE_EXT)) {
      const slash = p.section.indexOf("/");
      if (slash < 0) {
        g.warnings.push(`prog '${p.name}': no BTF-based attach target is specified, use bpf_program__set_attach_target()`);
        g.warnings.push(`prog '${p.name}': failed to prepare load attributes: -22`);
        g.warnings.push(`prog '${p.name}': failed to load: -22`);
        fail(`failed to load object '${opts.path ?? obj.name}'`, 22);
      }
      if (p.progType === BPF_PROG_TYPE_EXT) {
        g.warnings.push(`prog '${p.name}': attach program FD is not set`);
        g.warnings.push(`prog '${p.name}': failed to prepare load attributes: -22`);
        g.warnings.push(`prog '${p.name}': failed to load: -22`);
        fail(`failed to load object '${opts.path ?? obj.name}'`, 22);
      }
      const [prefix, kind] = attachPrefixKind(p.attachType);
      g.attachKind = kind;
      g.attachTarget = prefix + p.section.slice(slash + 1);
      attachBtfId = 1;
    }
    const insns = p.insns.map((x) => ({ ...x }));
    for (const r of p.relocs) {
      if (r.kind !== "ksym" && r.kind !== "kfunc") continue;
      const ext = obj.externs.find((x) => x.name === r.extern)!;
      if (r.kind === "kfunc") {
        g.relos.push({ name: ext.name, weak: ext.weak, typeless: false, kind: K.BTF_KIND_FUNC, insnIdx: r.insnIdx });
        continue;
      }
      const typeless = ext.typeless === true;
      // libbpf in gen mode: a typed ksym is BPF_PSEUDO_BTF_ID 0 until the loader finds it
      if (!typeless) insns[r.insnIdx] = { ...insns[r.insnIdx]!, src: BPF_PSEUDO_BTF_ID, imm: 0 };
      else {
        const addr = ksymAddr.get(ext.name) ?? 0n;
        insns[r.insnIdx] = { ...insns[r.insnIdx]!, imm: Number(BigInt.asIntN(32, addr)) };
        insns[r.insnIdx + 1] = { ...insns[r.insnIdx + 1]!, imm: Number(BigInt.asIntN(32, addr >> 32n)) };
      }
      g.relos.push({ name: ext.name, weak: ext.weak, typeless, kind: K.BTF_KIND_VAR, insnIdx: r.insnIdx });
    }
    g.coreRelos = (p.coreRecords ?? []).map((c) => ({ insnOff: c.insnIdx * 8, typeId: c.typeId, accessStrOff: c.accessStrOff, kind: c.kind }));
    const fi = new Attr(p.funcInfo.length * 8);
    p.funcInfo.forEach((f, i) => fi.u32(i * 8, f.insnOff).u32(i * 8 + 4, f.typeId));
    const li = new Attr(p.lineInfo.length * 16);
    p.lineInfo.forEach((l, i) => li.u32(i * 16, l.insnOff).u32(i * 16 + 4, l.fileNameOff).u32(i * 16 + 8, l.lineOff).u32(i * 16 + 12, (l.lineNum << 10) | (l.lineCol & 0x3ff)));
    g.progLoad({
      type: p.progType, name: p.name, license: obj.license, insns: encodeProgram(insns), insnCnt: insns.length,
      expectedAttachType: p.attachType, attachBtfId, progFlags: p.progFlags,
      funcInfo: fi.b, funcInfoCnt: p.funcInfo.length, lineInfo: li.b, lineInfoCnt: p.lineInfo.length, btf: !!btf,
    });
  }
  // bpf_object_init_prog_arrays: libbpf cannot record a prog array's initial slots
  if (maps.some((m) => m.type === 3 && m.initSlots?.some((s) => s !== undefined))) {
    throw new LoaderGenError([...g.warnings, `failed to load object '${opts.path ?? obj.name}'`], 95); // -ENOTSUP, which is EOPNOTSUPP in user space
  }
  g.finish(nrPrograms, maps.length);
  if (g.error) throw new LoaderGenError([...g.warnings, `failed to load object '${opts.path ?? obj.name}'`], -g.error);
  return { insns: g.insn.bytes(), data: g.data.bytes() };
}

function mapAttr(m: MapSpec) {
  return {
    type: m.type, name: m.name, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
    mapExtra: BigInt(m.mapExtra), numaNode: m.numaNode,
  };
}
