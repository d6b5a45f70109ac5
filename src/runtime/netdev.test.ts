import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { System, runXdp, XDP_DROP, XDP_PASS } from "./index.ts";
import { attachTypeOf } from "../uapi/index.ts";
import {
  XDP_ATTACHED_DRV, XDP_ATTACHED_NONE, XDP_ATTACHED_SKB, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE, XDP_FLAGS_SKB_MODE,
  XDP_FLAGS_UPDATE_IF_NOEXIST, linkDumpRequest, parseError, parseLink, parseMessages, xdpSetLinkRequest, NLMSG_DONE,
  NLMSG_ERROR, type NetDevice,
} from "../netlink/index.ts";

const devices = [{ name: "lo", ifindex: 1 }, { name: "vb", ifindex: 2, kind: "veth", nativeXdp: true }, { name: "va", ifindex: 3, kind: "veth", nativeXdp: true }];

function setup() {
  const sys = new System({ devices });
  const drop = sys.progLoad({ progType: 6, insns: assemble("mov r0, 1\nexit"), license: "GPL" }).fd;
  const pass = sys.progLoad({ progType: 6, insns: assemble("mov r0, 2\nexit"), license: "GPL" }).fd;
  const filter = sys.progLoad({ progType: 1, insns: assemble("mov r0, 0\nexit"), license: "GPL" }).fd;
  return { sys, drop, pass, filter };
}

/** RTM_SETLINK as bpftool's `net attach`: [errno, extack]. */
function setXdp(sys: System, ifindex: number, fd: number, flags: number): [number, string | undefined] {
  const replies = sys.rtnetlink(xdpSetLinkRequest(7, ifindex, fd, flags)).flatMap((r) => parseMessages(r));
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.type, NLMSG_ERROR);
  assert.equal(replies[0]!.seq, 7);
  const e = parseError(replies[0]!);
  return [e.errno, e.extack];
}

const links = (sys: System): NetDevice[] => {
  const ms = sys.rtnetlink(linkDumpRequest(3)).flatMap((r) => parseMessages(r));
  assert.equal(ms.at(-1)!.type, NLMSG_DONE);
  return ms.filter((m) => m.type === 16).map((m) => parseLink(m)!);
};

test("VM rtnetlink: the link dump lists the devices with their XDP state, as the kernel encodes it", () => {
  const { sys, drop } = setup();
  assert.deepEqual(links(sys).map((d) => [d.ifindex, d.name, d.kind, d.xdp?.attached]), [
    [1, "lo", undefined, XDP_ATTACHED_NONE], [2, "vb", "veth", XDP_ATTACHED_NONE], [3, "va", "veth", XDP_ATTACHED_NONE],
  ]);
  assert.deepEqual(setXdp(sys, 3, drop, XDP_FLAGS_UPDATE_IF_NOEXIST), [0, undefined]);
  assert.deepEqual(setXdp(sys, 1, drop, XDP_FLAGS_UPDATE_IF_NOEXIST), [0, undefined]);
  const [lo, , va] = links(sys);
  assert.deepEqual(va!.xdp, { attached: XDP_ATTACHED_DRV, progId: 1, drvProgId: 1 });
  assert.deepEqual(lo!.xdp, { attached: XDP_ATTACHED_SKB, progId: 1, skbProgId: 1 });
});

test("VM XDP attach follows dev_xdp_attach: modes, no-replace, generic vs native, unsupported native, wrong type", () => {
  const { sys, drop, pass, filter } = setup();
  const NOEX = XDP_FLAGS_UPDATE_IF_NOEXIST;
  assert.deepEqual(setXdp(sys, 3, drop, NOEX), [0, undefined]);
  assert.deepEqual(setXdp(sys, 3, pass, NOEX), [16, "XDP program already attached"]);
  assert.deepEqual(setXdp(sys, 3, pass, NOEX | XDP_FLAGS_SKB_MODE), [17, "Native and generic XDP can't be active at the same time"]);
  assert.deepEqual(setXdp(sys, 1, pass, NOEX | XDP_FLAGS_DRV_MODE), [95, "Underlying driver does not support XDP in native mode"]);
  assert.deepEqual(setXdp(sys, 2, pass, NOEX | XDP_FLAGS_HW_MODE), [22, undefined]);
  assert.deepEqual(setXdp(sys, 2, filter, 0), [22, undefined]);
  assert.deepEqual(setXdp(sys, 2, 999, 0), [9, undefined]);
  assert.deepEqual(setXdp(sys, 9, pass, 0), [19, undefined]);
  assert.deepEqual(setXdp(sys, 2, pass, XDP_FLAGS_SKB_MODE | XDP_FLAGS_DRV_MODE), [22, undefined]);
  // the attached program runs on the device's packets; overwrite replaces it; a flagless detach picks the driver slot
  assert.equal(runXdp(sys, 3, [new Uint8Array(64)])[0]!.verdict, XDP_DROP);
  assert.deepEqual(setXdp(sys, 3, pass, 0), [0, undefined]);
  assert.equal(runXdp(sys, 3, [new Uint8Array(64)])[0]!.verdict, XDP_PASS);
  assert.deepEqual(setXdp(sys, 2, drop, NOEX | XDP_FLAGS_SKB_MODE), [0, undefined]);
  assert.deepEqual(setXdp(sys, 2, -1, NOEX), [0, undefined]);
  assert.equal(links(sys)[1]!.xdp!.attached, XDP_ATTACHED_SKB);
  assert.deepEqual(setXdp(sys, 2, -1, NOEX | XDP_FLAGS_SKB_MODE), [0, undefined]);
  assert.equal(links(sys)[1]!.xdp!.attached, XDP_ATTACHED_NONE);
  // the device holds its program after the loader's fd is closed
  sys.close(pass);
  assert.equal(runXdp(sys, 3, [new Uint8Array(64)])[0]!.verdict, XDP_PASS);
  assert.deepEqual(setXdp(sys, 3, -1, 0), [0, undefined]);
  assert.equal(runXdp(sys, 3, [new Uint8Array(64)])[0]!.verdict, XDP_PASS);
  assert.equal(links(sys)[2]!.xdp!.attached, XDP_ATTACHED_NONE);
});

test("VM XDP links take a device's slot: never replacing a program, never replaced by netlink", () => {
  const { sys, drop, pass } = setup();
  const link = sys.attach(drop, { kind: "xdp", ifindex: 3 });
  assert.equal(links(sys)[2]!.xdp!.attached, XDP_ATTACHED_DRV);
  assert.deepEqual(setXdp(sys, 3, pass, 0), [16, "Can't replace active BPF XDP link"]);
  assert.deepEqual(setXdp(sys, 3, -1, 0), [16, "Can't replace active BPF XDP link"]);
  assert.throws(() => sys.attach(pass, { kind: "xdp", ifindex: 3 }), /EBUSY/);
  link.close();
  assert.equal(links(sys)[2]!.xdp!.attached, XDP_ATTACHED_NONE);
  assert.deepEqual(setXdp(sys, 3, pass, 0), [0, undefined]);
  assert.throws(() => sys.attach(drop, { kind: "xdp", ifindex: 3 }), /Can't replace active XDP program with BPF link/);
  // links to an ifindex the VM has no device for still run as before (packet sources by number)
  sys.attach(drop, { kind: "xdp", ifindex: 7 });
  assert.equal(runXdp(sys, 7, [new Uint8Array(64)])[0]!.verdict, XDP_DROP);
});

test("VM rtnetlink: devmap and cpumap XDP programs are refused on a device (BPF_XDP_DEVMAP/CPUMAP as uapi numbers them)", () => {
  const { sys } = setup();
  for (const [attach, text] of [["xdp_devmap", "BPF_XDP_DEVMAP"], ["xdp_cpumap", "BPF_XDP_CPUMAP"]] as const) {
    const fd = sys.progLoad({ progType: 6, insns: assemble("mov r0, 2\nexit"), license: "GPL", expectedAttachType: attachTypeOf(attach) }).fd;
    assert.deepEqual(setXdp(sys, 3, fd, XDP_FLAGS_DRV_MODE), [22, `${text} programs can not be attached to a device`]);
  }
});
