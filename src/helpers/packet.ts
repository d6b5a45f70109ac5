// Packet helpers: skb_load_bytes (skb_header_pointer semantics over the linear packet), xdp_adjust_head/tail
// (moving data / data_end inside the XDP frame with the kernel's bounds: ETH_HLEN minimum, headroom, tailroom).
import type { HelperFn } from "./types.ts";
import { E, argI32, argNum, argPtr, argU32, retI32 } from "./args.ts";

const ETH_HLEN = 14;

/** bpf_skb_load_bytes(skb, offset, to, len): 0, or -EFAULT with `to` zeroed. */
export const skbLoadBytes: HelperFn = (h) => {
  const len = argNum(h, 4);
  const to = argPtr(h, 3, len, true);
  const offset = argU32(h, 2);
  const p = h.packet;
  if (p === undefined || offset > 0x7fffffff || offset + len > p.len || !h.space.check(p.data + offset, len, false)) {
    h.space.fillChecked(to, len, 0, h.pc);
    return retI32(h, -E.EFAULT);
  }
  h.space.copyChecked(to, p.data + offset, len, h.pc);
  retI32(h, 0);
};

/** bpf_xdp_adjust_head(xdp, delta): data += delta, keeping ETH_HLEN bytes and staying inside the headroom. */
export const xdpAdjustHead: HelperFn = (h) => {
  const p = h.packet;
  if (p === undefined) return retI32(h, -E.EINVAL);
  const delta = argI32(h, 2);
  const data = p.data + delta;
  const end = p.data + p.headLen;
  if (data < p.bufferStart || data > end - ETH_HLEN) return retI32(h, -E.EINVAL);
  p.data = data;
  p.len = p.headLen = end - data;
  p.macOffset = 0; p.networkOffset = 0;
  p.onChange?.(p);
  retI32(h, 0);
};

/** bpf_xdp_adjust_tail(xdp, delta): data_end += delta, zeroing grown bytes; at least ETH_HLEN bytes remain. */
export const xdpAdjustTail: HelperFn = (h) => {
  const p = h.packet;
  if (p === undefined) return retI32(h, -E.EINVAL);
  const delta = argI32(h, 2);
  const end = p.data + p.headLen, newEnd = end + delta;
  if (newEnd > p.bufferEnd || newEnd < p.data + ETH_HLEN) return retI32(h, -E.EINVAL);
  if (delta > 0) h.space.fillChecked(end, delta, 0, h.pc);
  p.len = p.headLen = newEnd - p.data;
  p.onChange?.(p);
  retI32(h, 0);
};
