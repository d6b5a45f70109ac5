// A capturing AF_PACKET socket: a classic filter attached in the kernel (SO_ATTACH_FILTER) before the socket is bound,
// so only matching packets are ever queued to user space; promiscuous mode; the kernel's counters (PACKET_STATISTICS).
// Cooked sockets (SOCK_DGRAM, as libpcap opens "any") deliver the network layer and the link facts in sockaddr_ll.
import { addressOf, bindSocket, closeFd, getSockopt, KernelError, openSocket, rawSyscallSetsockopt, recvFrom, watchReadable } from "./libc.ts";

const AF_PACKET = 17, SOCK_RAW = 3, SOCK_DGRAM = 2, SOL_SOCKET = 1, SO_ATTACH_FILTER = 26, SO_ATTACH_BPF = 50, SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1, PACKET_MR_PROMISC = 1, PACKET_STATISTICS = 6, ETH_P_ALL = 0x0003;
const MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, EAGAIN = 11;
export const PACKET_OUTGOING = 4;

export interface ReceivedPacket {
  readonly data: Uint8Array;
  /** Length on the wire. */
  readonly len: number;
  /** sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. */
  readonly pktType: number;
  /** The sender's struct sockaddr_ll (20 bytes, reused by the next receive): protocol, ifindex, hatype, halen, addr. */
  readonly sll: Uint8Array;
}

export class PacketSocket {
  readonly fd: number;
  private readonly buf: Uint8Array;
  private readonly addr = new Uint8Array(20);
  private readonly addrLen = new Uint8Array(4);
  private watcher: { close(): void } | null = null;

  /**
   * `filter` is the classic program as kernel bytes (struct sock_filter[]), or a loaded eBPF socket_filter program;
   * ifindex 0 captures on every interface;
   * `cooked` opens SOCK_DGRAM (no link header in the data).
   */
  constructor(ifindex: number, filter: Uint8Array | { readonly progFd: number }, snaplen: number, promisc: boolean, cooked = false) {
    this.fd = openSocket(AF_PACKET, cooked ? SOCK_DGRAM : SOCK_RAW, 0);
    try {
      if (filter instanceof Uint8Array) {
        const prog = new Uint8Array(16);
        const v = new DataView(prog.buffer);
        v.setUint16(0, filter.length / 8, true);
        v.setBigUint64(8, addressOf(filter), true);
        const r = rawSyscallSetsockopt(this.fd, SOL_SOCKET, SO_ATTACH_FILTER, addressOf(prog), 16);
        if (r < 0) throw new KernelError(-r, "setsockopt(SO_ATTACH_FILTER)");
      } else {
        // an eBPF socket_filter program (the socket takes its own reference)
        const r = rawSyscallSetsockopt(this.fd, SOL_SOCKET, SO_ATTACH_BPF, addressOf(new Uint8Array(new Int32Array([filter.progFd]).buffer)), 4);
        if (r < 0) throw new KernelError(-r, "setsockopt(SO_ATTACH_BPF)");
      }
      const sll = new Uint8Array(20);
      const sv = new DataView(sll.buffer);
      sv.setUint16(0, AF_PACKET, true);
      sv.setUint16(2, ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8), true);
      sv.setInt32(4, ifindex, true);
      bindSocket(this.fd, sll);
      if (promisc) {
        const mreq = new Uint8Array(16);
        const mv = new DataView(mreq.buffer);
        mv.setInt32(0, ifindex, true);
        mv.setUint16(4, PACKET_MR_PROMISC, true);
        const p = rawSyscallSetsockopt(this.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, addressOf(mreq), 16);
        if (p < 0) throw new KernelError(-p, "setsockopt(PACKET_ADD_MEMBERSHIP)");
      }
    } catch (e) {
      closeFd(this.fd);
      throw e;
    }
    this.buf = new Uint8Array(Math.max(snaplen, 64));
  }

  /** The next queued packet, or null when none is waiting. */
  receive(): ReceivedPacket | null {
    new DataView(this.addrLen.buffer).setUint32(0, 20, true);
    const r = recvFrom(this.fd, this.buf, MSG_TRUNC | MSG_DONTWAIT, this.addr, this.addrLen);
    if (r === -EAGAIN) return null;
    if (r < 0) throw new KernelError(-r, "recvfrom");
    return { data: this.buf.slice(0, Math.min(r, this.buf.length)), len: r, pktType: this.addr[10]!, sll: this.addr };
  }

  /** Calls `onReadable` whenever packets are waiting. */
  watch(onReadable: () => void): void {
    this.watcher = watchReadable(this.fd, onReadable);
  }

  /** PACKET_STATISTICS: packets that passed the filter and packets dropped for lack of room (the kernel resets both). */
  statistics(): { packets: number; drops: number } {
    const st = new Uint8Array(12);
    const r = getSockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, st);
    if (r < 0) throw new KernelError(-r, "getsockopt(PACKET_STATISTICS)");
    const v = new DataView(st.buffer);
    return { packets: v.getUint32(0, true), drops: v.getUint32(4, true) };
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    closeFd(this.fd);
  }
}
