// Map helpers: lookup/update/delete, queue/stack push/pop/peek, perf event and ring buffer output, stack ids.
// The map objects do the work (src/maps); these check the pointers the verifier would have proven and pass addresses.
import { BpfError } from "../errors.ts";
import type { HelperCall, HelperFn, ProgramMap } from "./types.ts";
import type { Region } from "../vm/memory.ts";
import { E, argMap, argNum, argPtr, argU32, argU64, retI32, retNum, unsupported } from "./args.ts";

const keySize = (m: ProgramMap): number => m.keySize ?? 0;

/** The verifier's record_func_map refusal, at run time for unverified programs: no helper changes a read-only map. */
function writableMap(h: HelperCall, i: number): ProgramMap {
  const m = argMap(h, i);
  if (m.programWritable === false) {
    throw new BpfError("FAULT", `pc ${h.pc}: write into map forbidden (map ${m.name ?? ""} is BPF_F_RDONLY_PROG)`, { pc: h.pc });
  }
  return m;
}
const valueSize = (m: ProgramMap): number => m.valueSize ?? 0;

export const mapLookupElem: HelperFn = (h) => {
  const m = argMap(h, 1);
  const key = argPtr(h, 2, keySize(m), false);
  if (!m.lookupElem) throw unsupported(h, `map ${m.name ?? ""} does not support lookups from programs`);
  retNum(h, m.lookupElem(key, h.cpu));
};

export const mapUpdateElem: HelperFn = (h) => {
  const m = writableMap(h, 1);
  const key = argPtr(h, 2, keySize(m), false);
  const value = argPtr(h, 3, valueSize(m), false);
  if (!m.updateElem) throw unsupported(h, `map ${m.name ?? ""} does not support updates from programs`);
  retI32(h, m.updateElem(key, value, argU32(h, 4), h.cpu));
};

export const mapDeleteElem: HelperFn = (h) => {
  const m = writableMap(h, 1);
  const key = argPtr(h, 2, keySize(m), false);
  if (!m.deleteElem) throw unsupported(h, `map ${m.name ?? ""} does not support deletes from programs`);
  retI32(h, m.deleteElem(key, h.cpu));
};

export const mapPushElem: HelperFn = (h) => {
  const m = writableMap(h, 1);
  const value = argPtr(h, 2, valueSize(m), false);
  retI32(h, m.pushElem ? m.pushElem(value, argU32(h, 3), h.cpu) : -E.ENOTSUPP);
};

export const mapPopElem: HelperFn = (h) => {
  const m = writableMap(h, 1);
  const value = argPtr(h, 2, valueSize(m), true);
  retI32(h, m.popElem ? m.popElem(value, h.cpu) : -E.ENOTSUPP);
};

export const mapPeekElem: HelperFn = (h) => {
  const m = argMap(h, 1);
  const value = argPtr(h, 2, valueSize(m), true);
  retI32(h, m.peekElem ? m.peekElem(value, h.cpu) : -E.ENOTSUPP);
};

const BPF_F_INDEX_MASK = 0xffffffffn;
const BPF_F_CTXLEN_MASK = 0xfffffn << 32n;

/** bpf_perf_event_output(ctx, map, flags, data, size): flags select the CPU ring (kernel: __bpf_perf_event_output). */
export const perfEventOutput: HelperFn = (h) => {
  const m = argMap(h, 2);
  const flags = argU64(h, 3);
  const size = argNum(h, 5);
  const data = argPtr(h, 4, size, false);
  if ((flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) !== 0n) return retI32(h, -E.EINVAL);
  // the map picks the slot: BPF_F_CURRENT_CPU (0xffffffff) selects the running CPU's buffer
  retI32(h, m.perfOutput ? m.perfOutput(h.cpu, Number(flags & BPF_F_INDEX_MASK), data, size) : -E.EINVAL);
};

/** bpf_get_stackid(ctx, map, flags): the environment supplies the stack. */
export const getStackid: HelperFn = (h) => {
  const m = argMap(h, 2);
  retI32(h, m.getStackId ? m.getStackId(h.env.stack(), argU32(h, 3)) : -E.EINVAL);
};

// Ring buffer samples are handed back by address only (submit/discard): as the kernel finds the ring from the record
// (bpf_ringbuf_restore_from_rec), the sample's region names its ring — recorded once per ring's data region, so a
// reservation allocates nothing. The ring itself knows which of its records are held.
const ringOfRegion = new WeakMap<Region, ProgramMap>();
/** The region a sample lies in (an empty sample at a ring's end: the one its header is in). */
const sampleRegion = (h: HelperCall, addr: number): Region | undefined => h.space.find(addr) ?? (addr >= 8 ? h.space.find(addr - 8) : undefined);

export const ringbufOutput: HelperFn = (h) => {
  const m = argMap(h, 1);
  const size = argNum(h, 3);
  const data = argPtr(h, 2, size, false);
  retI32(h, m.output ? m.output(data, size, argU32(h, 4)) : -E.EINVAL);
};

/** bpf_ringbuf_reserve(ringbuf, size, flags): NULL when flags != 0 or the buffer is full. */
export const ringbufReserve: HelperFn = (h) => {
  const m = argMap(h, 1);
  const size = argNum(h, 2);
  if (argU64(h, 3) !== 0n || !m.reserve || !(size >= 0)) return retNum(h, 0);
  const addr = m.reserve(size, 0);
  if (addr !== 0) {
    const reg = sampleRegion(h, addr);
    if (reg !== undefined && ringOfRegion.get(reg) !== m) ringOfRegion.set(reg, m);
  }
  retNum(h, addr);
};

function finishSample(h: HelperCall, submit: boolean): void {
  const addr = argPtr(h, 1, 0, false);
  const reg = sampleRegion(h, addr);
  const m = reg === undefined ? undefined : ringOfRegion.get(reg);
  const flags = argU32(h, 2);
  // the ring refuses (-EINVAL) an address that is not one of its held records: never reserved, or already released
  const r = m === undefined ? -1 : submit ? m.submit?.(addr, flags) : m.discard?.(addr, flags);
  if (typeof r === "number" && r < 0) throw unsupported(h, `ring buffer sample 0x${addr.toString(16)} was not reserved (or was already released)`);
  retNum(h, 0);
}

export const ringbufSubmit: HelperFn = (h) => finishSample(h, true);
export const ringbufDiscard: HelperFn = (h) => finishSample(h, false);

export const ringbufQuery: HelperFn = (h) => {
  const m = argMap(h, 1);
  const v = m.query ? m.query(argU32(h, 2)) : 0;
  if (typeof v === "bigint") { h.lo[0] = Number(v & 0xffffffffn); h.hi[0] = Number((v >> 32n) & 0xffffffffn); }
  else retNum(h, v);
};
