// What a helper implementation sees when a program calls it: the registers (r1-r5 in, r0 out) as 32-bit halves,
// the address space, the injectable outside world, and hooks back into the VM (callbacks, maps, the packet).
import type { AddressSpace } from "../vm/memory.ts";
import type { HelperEnv } from "./env.ts";

/**
 * The map operations a program can reach through a map pointer (the maps layer's `BpfMap` satisfies this
 * structurally). Every method is optional so that a map type only offers what the kernel offers for it.
 */
export interface ProgramMap {
  readonly type?: number | string;
  readonly name?: string;
  readonly keySize?: number;
  readonly valueSize?: number;
  readonly maxEntries?: number;
  /** False for BPF_F_RDONLY_PROG maps (.rodata): a program may not change them, by store or by helper. */
  readonly programWritable?: boolean;
  lookupElem?(keyAddr: number, cpu: number): number;
  updateElem?(keyAddr: number, valueAddr: number, flags: number, cpu: number): number;
  deleteElem?(keyAddr: number, cpu: number): number;
  pushElem?(valueAddr: number, flags: number, cpu?: number): number;
  popElem?(valueAddr: number, cpu?: number): number;
  peekElem?(valueAddr: number, cpu?: number): number;
  reserve?(size: number, flags?: number): number;
  submit?(addr: number, flags: number): number | void;
  discard?(addr: number, flags: number): number | void;
  output?(dataAddr: number, size: number, flags: number): number;
  query?(flags: number): number | bigint;
  /** bpf_perf_event_output on `cpu`; `flags` is the slot index or BPF_F_CURRENT_CPU (0xffffffff). */
  perfOutput?(cpu: number, flags: number, dataAddr: number, size: number): number;
  getProgram?(index: number): unknown;
  /** for_each_map_elem: visit (keyAddr, valueAddr) pairs; stop when `visit` returns non-zero. Returns the count visited. */
  forEach?(visit: (keyAddr: number, valueAddr: number) => number, cpu: number): number;
  /** get_stackid: store a stack (array of u64 ips) and return its id or -errno. */
  getStackId?(ips: ArrayLike<bigint>, flags: number): number;
  /** cgroup_array: the id of the cgroup in slot `index`, undefined when the slot is empty. */
  cgroupIdAt?(index: number): number | undefined;
}

/** The packet a program's context describes (skb or xdp), for helpers that read or move it. */
export interface PacketAccess {
  /** Address of the first byte of packet data (skb->data / xdp->data). */
  data: number;
  /** Bytes from `data` to the end of the packet (skb->len). */
  len: number;
  /** Bytes from `data` in the linear part (skb_headlen); direct access ends here (data_end). */
  headLen: number;
  /** Offset of the mac header relative to `data` (negative when data is past it). */
  macOffset: number;
  /** Offset of the network header relative to `data`. */
  networkOffset: number;
  /** Lowest address the packet may grow into (headroom start) and the highest (tailroom end). */
  readonly bufferStart: number;
  readonly bufferEnd: number;
  /** Called after xdp_adjust_head/tail moved data or data_end, so the context fields follow. */
  onChange?(p: PacketAccess): void;
}

/** The call-time view a helper works with. One object per VM, reused across calls (no allocation per call). */
export interface HelperCall {
  readonly space: AddressSpace;
  readonly env: HelperEnv;
  /** r0..r10 low and high 32-bit halves; helpers read r1-r5 and write r0. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** pc of the call instruction, for error locations. */
  pc: number;
  /** Helper id being called. */
  id: number;
  /** The run's context address (0 when none) and the CPU it runs on. */
  ctx: number;
  cpu: number;
  /** The packet of an skb or xdp context, when there is one. */
  packet: PacketAccess | undefined;
  /** The map a map pointer designates, or undefined. */
  mapAt(addr: number): ProgramMap | undefined;
  /** Run a BPF callback (a subprogram address from `lddw rX, func`) with up to 5 arguments; returns its r0. */
  callback(fnAddr: number, a1: bigint | number, a2: bigint | number, a3: bigint | number, a4: bigint | number, a5: bigint | number): bigint;
}

/** A helper implementation: reads r1-r5 from `h`, writes r0. Throws BpfError("FAULT") for bad pointers. */
export type HelperFn = (h: HelperCall) => void;

/** Helper implementations indexed by Linux helper id. */
export type HelperTable = readonly (HelperFn | undefined)[];
