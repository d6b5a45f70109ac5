// libpcap's own interpreter (bpf_filter.c), which pcap_offline_filter() and tcpdump -r use: unlike the kernel it
// accepts backward `ja` (libpcap sign-extends k, which `protochain` relies on), returns 0 on any out-of-bounds load
// or division by zero, and has no ancillary loads. Hot loop: one predecoded Int32Array, no allocation per packet.
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { BpfError } from "../errors.ts";

/** Runs the filter on pkt[start..end) (default: all of pkt), a packet of `wirelen` bytes on the wire. */
export type PacketFilter = (pkt: Uint8Array, wirelen: number, start?: number, end?: number) => number;

/** Compiles a program into a filter function with bpf_filter's semantics. */
export function compileOfflineFilter(insns: readonly CbpfInsn[]): PacketFilter {
  const n = insns.length;
  if (n === 0) throw new BpfError("EINVAL", "empty filter program");
  const code = new Int32Array(n * 4);
  insns.forEach((i, pc) => {
    code[pc * 4] = i.code;
    code[pc * 4 + 1] = pc + 1 + i.jt;
    code[pc * 4 + 2] = pc + 1 + i.jf;
    code[pc * 4 + 3] = i.k | 0;
  });
  const mem = new Int32Array(16);
  return (p: Uint8Array, wirelen: number, start = 0, end = p.length): number => {
    const buflen = end - start;
    const b = start;
    let A = 0;
    let X = 0;
    let pc = 0;
    for (;;) {
      if (pc < 0 || pc >= n) return 0;
      const o = pc * 4;
      const k = code[o + 3]!;
      switch (code[o]!) {
        case 0x06: return k >>> 0;
        case 0x16: return A >>> 0;
        case 0x20: { const u = k >>> 0; if (u > buflen - 4 || buflen < 4) return 0; A = (p[b + u]! << 24) | (p[b + u + 1]! << 16) | (p[b + u + 2]! << 8) | p[b + u + 3]!; break; }
        case 0x28: { const u = k >>> 0; if (u > buflen - 2 || buflen < 2) return 0; A = (p[b + u]! << 8) | p[b + u + 1]!; break; }
        case 0x30: { const u = k >>> 0; if (u >= buflen) return 0; A = p[b + u]!; break; }
        case 0x80: A = wirelen; break;
        case 0x81: X = wirelen; break;
        case 0x40: { const u = (X >>> 0) + (k >>> 0); if (u > buflen - 4 || buflen < 4) return 0; A = (p[b + u]! << 24) | (p[b + u + 1]! << 16) | (p[b + u + 2]! << 8) | p[b + u + 3]!; break; }
        case 0x48: { const u = (X >>> 0) + (k >>> 0); if (u > buflen - 2 || buflen < 2) return 0; A = (p[b + u]! << 8) | p[b + u + 1]!; break; }
        case 0x50: { const u = (X >>> 0) + (k >>> 0); if (u >= buflen) return 0; A = p[b + u]!; break; }
        case 0xb1: { const u = k >>> 0; if (u >= buflen) return 0; X = (p[b + u]! & 0xf) << 2; break; }
        case 0x00: A = k; break;
        case 0x01: X = k; break;
        case 0x60: A = mem[k & 15]!; break;
        case 0x61: X = mem[k & 15]!; break;
        case 0x02: mem[k & 15] = A; break;
        case 0x03: mem[k & 15] = X; break;
        case 0x05: pc += 1 + k; continue;
        case 0x25: pc = (A >>> 0) > (k >>> 0) ? code[o + 1]! : code[o + 2]!; continue;
        case 0x35: pc = (A >>> 0) >= (k >>> 0) ? code[o + 1]! : code[o + 2]!; continue;
        case 0x15: pc = A === k ? code[o + 1]! : code[o + 2]!; continue;
        case 0x45: pc = (A & k) !== 0 ? code[o + 1]! : code[o + 2]!; continue;
        case 0x2d: pc = (A >>> 0) > (X >>> 0) ? code[o + 1]! : code[o + 2]!; continue;
        case 0x3d: pc = (A >>> 0) >= (X >>> 0) ? code[o + 1]! : code[o + 2]!; continue;
        case 0x1d: pc = A === X ? code[o + 1]! : code[o + 2]!; continue;
        case 0x4d: pc = (A & X) !== 0 ? code[o + 1]! : code[o + 2]!; continue;
        case 0x0c: A = (A + X) | 0; break;
        case 0x1c: A = (A - X) | 0; break;
        case 0x2c: A = Math.imul(A, X); break;
        case 0x3c: if (X === 0) return 0; A = ((A >>> 0) / (X >>> 0)) | 0; break;
        case 0x9c: if (X === 0) return 0; A = ((A >>> 0) % (X >>> 0)) | 0; break;
        case 0x5c: A &= X; break;
        case 0x4c: A |= X; break;
        case 0xac: A ^= X; break;
        case 0x6c: A = (X >>> 0) < 32 ? A << X : 0; break;
        case 0x7c: A = (X >>> 0) < 32 ? A >>> X : 0; break;
        case 0x04: A = (A + k) | 0; break;
        case 0x14: A = (A - k) | 0; break;
        case 0x24: A = Math.imul(A, k); break;
        case 0x34: if (k === 0) return 0; A = ((A >>> 0) / (k >>> 0)) | 0; break;
        case 0x94: if (k === 0) return 0; A = ((A >>> 0) % (k >>> 0)) | 0; break;
        case 0x54: A &= k; break;
        case 0x44: A |= k; break;
        case 0xa4: A ^= k; break;
        case 0x64: A = (k >>> 0) < 32 ? A << k : 0; break;
        case 0x74: A = (k >>> 0) < 32 ? A >>> k : 0; break;
        case 0x84: A = -A | 0; break;
        case 0x07: X = A; break;
        case 0x87: A = X; break;
        default: return 0;
      }
      pc++;
    }
  };
}
