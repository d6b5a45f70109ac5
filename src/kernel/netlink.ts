// rtnetlink on Linux: an AF_NETLINK/NETLINK_ROUTE socket opened as bpftool's netlink_open does (extended acks on,
// bound to a kernel-chosen port), one request sent and its replies read until NLMSG_DONE, the NLMSG_ERROR ack or the
// last part of a multi-part answer; replies from another port or sequence are refused as libbpf refuses them.
import { KernelError, bindSocket, closeFd, getSockName, openSocket, rawSyscallSetsockopt, recvBytes, sendBytes, addressOf } from "./libc.ts";
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI, parseMessages } from "../netlink/index.ts";

const AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, NETLINK_ROUTE = 0, SOL_NETLINK = 270, NETLINK_EXT_ACK = 11;

/** Why a reply was refused (libbpf's LIBBPF_ERRNO__WRNGPID / __INVSEQ). */
export class NetlinkReplyError extends Error {}

/** One request over a fresh NETLINK_ROUTE socket; the reply messages, each as its own bytes. */
export function rtnetlinkLinux(request: Uint8Array): Uint8Array[] {
  const fd = openSocket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  try {
    const one = Uint8Array.of(1, 0, 0, 0);
    rawSyscallSetsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, addressOf(one), 4);
    const sa = new Uint8Array(12);
    sa[0] = AF_NETLINK;
    bindSocket(fd, sa);
    const g = getSockName(fd, sa);
    if (g < 0) throw new KernelError(-g, "getsockname");
    const pid = new DataView(sa.buffer).getUint32(4, true);
    const seq = new DataView(request.buffer, request.byteOffset).getUint32(8, true);
    const s = sendBytes(fd, request);
    if (s < 0) throw new KernelError(-s, "send");
    const out: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let multipart = true; multipart;) {
      multipart = false;
      const n = recvBytes(fd, buf);
      if (n < 0) throw new KernelError(-n, "recv");
      if (n === 0) break;
      const data = buf.slice(0, n);
      for (const m of parseMessages(data)) {
        if (m.pid !== pid) throw new NetlinkReplyError("Incorrect netlink message pid");
        if (m.seq !== seq) throw new NetlinkReplyError("Incorrect netlink message sequence");
        if (m.flags & NLM_F_MULTI) multipart = true;
        const start = m.payload.byteOffset - 16 - data.byteOffset;
        out.push(data.subarray(start, start + 16 + m.payload.length));
        if (m.type === NLMSG_DONE || m.type === NLMSG_ERROR) return out;
      }
    }
    return out;
  } finally {
    closeFd(fd);
  }
}
