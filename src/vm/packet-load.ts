// LD_ABS/LD_IND addressing, shared by the interpreter and the JIT: where `size` packet bytes at offset `k` are, or -1.
// Kernel: bpf_skb_load_helper_* — non-negative offsets within the packet's length; negative ones relative to the
// network header (SKF_NET_OFF) or the MAC header (SKF_LL_OFF), within the linear head.
import type { PacketAccess } from "../helpers/types.ts";
import type { AddressSpace } from "./memory.ts";
import type { LoadedProgram } from "./program.ts";

export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

export function packetLoadAddress(pk: PacketAccess | undefined, k: number, size: number): number {
  if (pk === undefined) return -1;
  if (k >= 0) return k + size <= pk.len ? pk.data + k : -1;
  let ptr: number;
  if (k >= SKF_NET_OFF) ptr = pk.data + pk.networkOffset + (k - SKF_NET_OFF);
  else if (k >= SKF_LL_OFF) ptr = pk.data + pk.macOffset + (k - SKF_LL_OFF);
  else return -1;
  return ptr >= pk.bufferStart && ptr + size <= pk.data + pk.headLen ? ptr : -1;
}

/** The program whose code region holds `addr` (a BPF function pointer), and the instruction slot it points at. */
export function functionAt(space: AddressSpace, codeOwners: ReadonlyMap<number, LoadedProgram>, addr: number):
  { prog: LoadedProgram; pc: number } | undefined {
  const r = space.find(addr);
  if (r === undefined || r.kind !== "code") return undefined;
  const prog = codeOwners.get(r.id);
  if (prog === undefined || (addr - r.start) % 8 !== 0) return undefined;
  return { prog, pc: (addr - r.start) / 8 };
}
