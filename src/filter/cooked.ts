// A filter compiled for Linux cooked captures (LINUX_SLL/LINUX_SLL2), rewritten for the kernel as libpcap does before
// attaching it to a SOCK_DGRAM socket: the kernel runs it on the network layer (no cooked header), so loads past the
// header move back by its length and loads of the header's protocol, ifindex or packet type become ancillary loads.
// Any other load of the header cannot run in the kernel: null, and the caller filters in user space.

import {
  type CbpfInsn, BPF_ABS, BPF_IND, BPF_LD, BPF_LDX, BPF_MSH, bpfClass, bpfMode,
  SKF_AD_IFINDEX, SKF_AD_OFF, SKF_AD_PKTTYPE, SKF_AD_PROTOCOL,
} from "../isa/cbpf/insn.ts";

/** The kernel's program for a cooked socket, or null when a load reads a header field the kernel cannot supply. */
export function cookedKernelProgram(insns: readonly CbpfInsn[], linktype: "LINUX_SLL" | "LINUX_SLL2"): CbpfInsn[] | null {
  const v2 = linktype === "LINUX_SLL2";
  const hdrlen = v2 ? 20 : 16;
  // header offset → the ancillary field the kernel has for it
  const ancillary: ReadonlyMap<number, number> = v2
    ? new Map([[0, SKF_AD_PROTOCOL], [4, SKF_AD_IFINDEX], [10, SKF_AD_PKTTYPE]])
    : new Map([[0, SKF_AD_PKTTYPE], [14, SKF_AD_PROTOCOL]]);
  const ad = (SKF_AD_OFF >>> 0);
  const out: CbpfInsn[] = [];
  for (const i of insns) {
    const cls = bpfClass(i.code), mode = bpfMode(i.code);
    if ((cls !== BPF_LD && cls !== BPF_LDX) || (mode !== BPF_ABS && mode !== BPF_IND && mode !== BPF_MSH) || i.k >= ad) {
      out.push(i);
      continue;
    }
    let k: number;
    if (i.k >= hdrlen) k = i.k - hdrlen;
    else if (ancillary.has(i.k)) k = (SKF_AD_OFF + ancillary.get(i.k)!) >>> 0;
    else if ((i.k | 0) > 0) return null;
    else k = i.k;
    out.push({ code: i.code, jt: i.jt, jf: i.jf, k });
  }
  return out;
}
