// The VM's network devices and their XDP slots, with the rules of the kernel's dev_xdp_attach (net/core/dev.c): one
// program per mode (generic = skb, driver, offload), generic and driver never both, links never replaced, the mode a
// flagless request gets (driver when the device has native XDP, else generic). `System` answers rtnetlink requests
// from this model (`rtnetlink`) and runs what it holds through its `xdp:IFINDEX` hook.
import {
  XDP_ATTACHED_DRV, XDP_ATTACHED_HW, XDP_ATTACHED_MULTI, XDP_ATTACHED_NONE, XDP_ATTACHED_SKB, XDP_FLAGS_DRV_MODE,
  XDP_FLAGS_HW_MODE, XDP_FLAGS_MODES, XDP_FLAGS_REPLACE, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST,
  XDP_FLAGS_MASK, RTM_GETLINK, RTM_GETQDISC, RTM_GETTCLASS, RTM_GETTFILTER, RTM_SETLINK, IFLA_XDP, IFLA_XDP_ATTACHED,
  IFLA_XDP_PROG_ID, IFLA_XDP_FLAGS, IFLA_XDP_FD, IFLA_XDP_EXPECTED_FD, parseMessages, parseAttrs, errorMessage,
  linkMessage, doneMessage, type NetDevice, type XdpState,
} from "../netlink/index.ts";
import { ERRNO, attachTypeOf, progTypeOf } from "../uapi/index.ts";

const { EINVAL, EBUSY, EEXIST, EOPNOTSUPP } = ERRNO;
// not among the bpf() errnos src/uapi names: only rtnetlink gives it
const ENODEV = 19;
const BPF_PROG_TYPE_XDP = progTypeOf("xdp");
const BPF_XDP_DEVMAP = attachTypeOf("xdp_devmap"), BPF_XDP_CPUMAP = attachTypeOf("xdp_cpumap");

/** A device the VM has: its name and index, the link kind, whether its driver has native XDP (ndo_bpf). */
export interface DeviceSpec {
  readonly name: string;
  readonly ifindex: number;
  readonly kind?: string;
  readonly nativeXdp?: boolean;
}

/** Link kinds whose drivers implement ndo_bpf (native XDP) among the virtual devices a host has. */
const NATIVE_XDP_KINDS = new Set(["veth", "tun", "bond", "netdevsim", "netkit"]);

/** A host device as the VM models it: native XDP where its link kind has it. */
export const deviceSpec = (d: NetDevice): DeviceSpec =>
  ({ name: d.name, ifindex: d.ifindex, ...(d.kind !== undefined ? { kind: d.kind } : {}), nativeXdp: d.kind !== undefined && NATIVE_XDP_KINDS.has(d.kind) });

/** The VM's devices when none are given: the loopback device. */
export const DEFAULT_DEVICES: readonly DeviceSpec[] = [{ name: "lo", ifindex: 1, nativeXdp: false }];

/** The three XDP slots of a device, as the kernel's enum bpf_xdp_mode numbers them. */
export const XDP_MODE_SKB = 0, XDP_MODE_DRV = 1, XDP_MODE_HW = 2;
export type XdpMode = 0 | 1 | 2;

/** What sits in one mode's slot: a program, held by the device or by a link. */
export interface XdpSlot<P> {
  readonly prog: P;
  readonly link: boolean;
}

export class VmNetDevice<P extends { readonly id: number; readonly type: number; readonly expectedAttachType: number }> {
  readonly slots: (XdpSlot<P> | undefined)[] = [undefined, undefined, undefined];
  constructor(readonly spec: DeviceSpec) {}

  /** dev_xdp_mode */
  mode(flags: number): XdpMode {
    if (flags & XDP_FLAGS_SKB_MODE) return XDP_MODE_SKB;
    if (flags & XDP_FLAGS_DRV_MODE) return XDP_MODE_DRV;
    if (flags & XDP_FLAGS_HW_MODE) return XDP_MODE_HW;
    return this.spec.nativeXdp ? XDP_MODE_DRV : XDP_MODE_SKB;
  }

  /** IFLA_XDP as rtnl_xdp_fill reports it. */
  xdpState(): XdpState {
    const [skb, drv, hw] = this.slots.map((s) => s?.prog.id);
    const n = [skb, drv, hw].filter((x) => x !== undefined).length;
    if (n === 0) return { attached: XDP_ATTACHED_NONE };
    if (n > 1) {
      return {
        attached: XDP_ATTACHED_MULTI, ...(skb !== undefined ? { skbProgId: skb } : {}),
        ...(drv !== undefined ? { drvProgId: drv } : {}), ...(hw !== undefined ? { hwProgId: hw } : {}),
      };
    }
    if (skb !== undefined) return { attached: XDP_ATTACHED_SKB, progId: skb, skbProgId: skb };
    if (drv !== undefined) return { attached: XDP_ATTACHED_DRV, progId: drv, drvProgId: drv };
    return { attached: XDP_ATTACHED_HW, progId: hw!, hwProgId: hw! };
  }

  /**
   * dev_xdp_attach's checks for putting `prog` (undefined: removing) into the slot `flags` select, by netlink
   * (`link` false) or by a BPF link. Returns the slot to fill, or the errno and extack message the kernel gives.
   */
  check(flags: number, prog: P | undefined, link: boolean, expected?: P): { mode: XdpMode } | { errno: number; extack?: string } {
    const modes = [XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE].filter((m) => flags & m).length;
    if (link && (flags & ~XDP_FLAGS_MODES)) return { errno: EINVAL, extack: "Invalid XDP flags for BPF link attachment" };
    if (modes > 1) return { errno: EINVAL, extack: "Only one XDP mode flag can be set" };
    if (!modes && this.slots.filter(Boolean).length > 1) return { errno: EINVAL, extack: "More than one program loaded, unset mode is ambiguous" };
    const mode = this.mode(flags);
    const cur = this.slots[mode];
    if (cur?.link) return { errno: EBUSY, extack: "Can't replace active BPF XDP link" };
    if (link && cur) return { errno: EBUSY, extack: "Can't replace active XDP program with BPF link" };
    if ((flags & XDP_FLAGS_REPLACE) && cur?.prog !== expected) return { errno: EEXIST, extack: "Active program does not match expected" };
    // Linux 6.18 refuses a native mode the driver lacks before it looks at the other mode's program (observed: lo with a
    // generic program, `xdpdrv` gets EOPNOTSUPP, not EEXIST)
    const unsupported = { errno: EOPNOTSUPP, extack: "Underlying driver does not support XDP in native mode" };
    if (prog !== undefined) {
      if (mode !== XDP_MODE_SKB && !this.spec.nativeXdp) return unsupported;
      if ((flags & XDP_FLAGS_UPDATE_IF_NOEXIST) && cur) return { errno: EBUSY, extack: "XDP program already attached" };
      const other = mode === XDP_MODE_SKB ? XDP_MODE_DRV : XDP_MODE_SKB;
      if (mode !== XDP_MODE_HW && this.slots[other]) return { errno: EEXIST, extack: "Native and generic XDP can't be active at the same time" };
      // BPF_XDP_DEVMAP and BPF_XDP_CPUMAP programs run from maps only
      if (prog.expectedAttachType === BPF_XDP_DEVMAP) return { errno: EINVAL, extack: "BPF_XDP_DEVMAP programs can not be attached to a device" };
      if (prog.expectedAttachType === BPF_XDP_CPUMAP) return { errno: EINVAL, extack: "BPF_XDP_CPUMAP programs can not be attached to a device" };
    }
    if (prog !== cur?.prog) {
      if (mode !== XDP_MODE_SKB && !this.spec.nativeXdp) return unsupported;
      // no VM driver offloads: native drivers refuse XDP_SETUP_PROG_HW as veth does, without a message
      if (mode === XDP_MODE_HW) return { errno: EINVAL };
    }
    return { mode };
  }
}

/** What the device model needs from the System: programs by fd, references held and dropped, hooks updated. */
export interface NetHost<P> {
  /** the program behind an fd, or the errno bpf_prog_get_type_dev gives (EBADF, EINVAL) */
  progByFd(fd: number): P | number;
  hold(prog: P): void;
  release(prog: P): void;
  /** the programs an `xdp:IFINDEX` hook now runs */
  setHook(ifindex: number, progs: readonly P[]): void;
}

/** The VM's rtnetlink: its devices, answered as the kernel answers `bpftool net` (and `ip link`'s XDP part). */
export class VmNet<P extends { readonly id: number; readonly type: number; readonly expectedAttachType: number }> {
  readonly devices = new Map<number, VmNetDevice<P>>();
  constructor(specs: readonly DeviceSpec[], private readonly host: NetHost<P>) {
    for (const s of [...specs].sort((a, b) => a.ifindex - b.ifindex)) this.devices.set(s.ifindex, new VmNetDevice<P>(s));
  }

  private sync(dev: VmNetDevice<P>): void {
    this.host.setHook(dev.spec.ifindex, dev.slots.filter((s): s is XdpSlot<P> => s !== undefined).map((s) => s.prog));
  }

  /** BPF_LINK_CREATE for XDP on a VM device: the slot, or the kernel's refusal; returns the release function. */
  attachLink(ifindex: number, prog: P, flags: number): { mode: XdpMode; release(): void } | { errno: number; extack?: string } {
    const dev = this.devices.get(ifindex)!;
    const r = dev.check(flags, prog, true);
    if ("errno" in r) return r;
    dev.slots[r.mode] = { prog, link: true };
    this.sync(dev);
    return {
      mode: r.mode,
      release: () => {
        if (dev.slots[r.mode]?.prog === prog && dev.slots[r.mode]?.link) dev.slots[r.mode] = undefined;
        this.sync(dev);
      },
    };
  }

  /** One rtnetlink request, answered with the reply messages (a dump ends with NLMSG_DONE, a change with an ack). */
  rtnetlink(request: Uint8Array): Uint8Array[] {
    const m = parseMessages(request)[0];
    if (m === undefined) return [];
    const pid = 1;
    const err = (errno: number, extack?: string): Uint8Array[] => [errorMessage(m.seq, pid, errno, request, extack)];
    switch (m.type) {
      case RTM_GETLINK:
        return [...[...this.devices.values()].map((d) => linkMessage(m.seq, pid, { ...d.spec, xdp: d.xdpState() })), doneMessage(m.seq, pid)];
      // no qdiscs, classes or tc filters on the VM's devices
      case RTM_GETQDISC: case RTM_GETTCLASS: case RTM_GETTFILTER:
        return [doneMessage(m.seq, pid)];
      case RTM_SETLINK: {
        const ifindex = m.payload.length >= 16 ? new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(4, true) : 0;
        const dev = this.devices.get(ifindex);
        if (dev === undefined) return err(ENODEV);
        const r = this.setXdp(dev, parseAttrs(m.payload.subarray(16))?.get(IFLA_XDP));
        return r === 0 ? err(0) : err(r.errno, r.extack);
      }
      default:
        return err(EOPNOTSUPP);
    }
  }

  /** do_setlink's IFLA_XDP, then dev_change_xdp_fd. */
  private setXdp(dev: VmNetDevice<P>, xdpAttr: Uint8Array | undefined): 0 | { errno: number; extack?: string } {
    if (xdpAttr === undefined) return 0;
    const xdp = parseAttrs(xdpAttr);
    if (xdp === undefined || xdp.has(IFLA_XDP_ATTACHED) || xdp.has(IFLA_XDP_PROG_ID)) return { errno: EINVAL };
    const word = (b: Uint8Array | undefined): number | undefined => b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset).getInt32(0, true) : undefined;
    const flags = (word(xdp.get(IFLA_XDP_FLAGS)) ?? 0) >>> 0;
    if (flags & ~XDP_FLAGS_MASK) return { errno: EINVAL };
    if ([XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE].filter((f) => flags & f).length > 1) return { errno: EINVAL };
    const fd = word(xdp.get(IFLA_XDP_FD));
    if (fd === undefined) return 0;
    let expected: P | undefined;
    if (flags & XDP_FLAGS_REPLACE) {
      const efd = word(xdp.get(IFLA_XDP_EXPECTED_FD));
      if (efd === undefined) return { errno: EINVAL };
      if (efd >= 0) {
        const e = this.progOfType(efd);
        if (typeof e === "number") return { errno: e };
        expected = e;
      }
    }
    let prog: P | undefined;
    if (fd >= 0) {
      const p = this.progOfType(fd);
      if (typeof p === "number") return { errno: p };
      prog = p;
    }
    const r = dev.check(flags, prog, false, expected);
    if ("errno" in r) return r;
    const cur = dev.slots[r.mode];
    if (prog !== cur?.prog) {
      if (prog) this.host.hold(prog);
      dev.slots[r.mode] = prog ? { prog, link: false } : undefined;
      if (cur) this.host.release(cur.prog);
      this.sync(dev);
    }
    return 0;
  }

  private progOfType(fd: number): P | number {
    const p = this.host.progByFd(fd);
    if (typeof p === "number") return p;
    return p.type === BPF_PROG_TYPE_XDP ? p : EINVAL;
  }
}
