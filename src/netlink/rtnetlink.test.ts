import { test } from "node:test";
import assert from "node:assert/strict";
import {
  attrNest, attrStr, attrU32, encodeMessage, parseAttrs, parseError, parseFilter, parseLink, parseMessages, tcmsg,
  xdpSetLinkRequest, linkMessage, NLMSG_ERROR, XDP_ATTACHED_SKB, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST,
} from "./index.ts";

test("RTM_SETLINK for XDP is laid out as libbpf's bpf_xdp_attach sends it", () => {
  const req = xdpSetLinkRequest(0x11223344, 3, 7, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE);
  assert.equal(Buffer.from(req).toString("hex"),
    "34000000" + "1300" + "0500" + "44332211" + "00000000" + // nlmsghdr: len 52, RTM_SETLINK, REQUEST|ACK, seq, pid
    "00000000" + "03000000" + "00000000" + "00000000" + // ifinfomsg: AF_UNSPEC, ifindex 3
    "1400" + "2b80" + "0800" + "0100" + "07000000" + "0800" + "0300" + "03000000"); // IFLA_XDP|NESTED { FD 7, FLAGS 3 }
  const [m] = parseMessages(req);
  assert.equal(m!.type, 19);
  const xdp = parseAttrs(parseAttrs(m!.payload.subarray(16))!.get(43)!)!;
  assert.deepEqual([...xdp.keys()], [1, 3]);
});

test("NLMSG_ERROR: errno and the extended-ack message, with the request echoed whole or capped", () => {
  const req = xdpSetLinkRequest(1, 3, 7, 0);
  const body = new Uint8Array(4 + req.length);
  new DataView(body.buffer).setInt32(0, -16, true);
  body.set(req, 4);
  // not capped: the whole request follows the error code, then the TLVs
  const msg = encodeMessage(NLMSG_ERROR, 0x200, 1, 9, body, [attrStr(1, "XDP program already attached")]);
  assert.deepEqual(parseError(parseMessages(msg)[0]!), { errno: 16, extack: "XDP program already attached" });
  const ack = encodeMessage(NLMSG_ERROR, 0x100, 1, 9, body.subarray(0, 20));
  assert.deepEqual(parseError(parseMessages(ack)[0]!), { errno: 16 });
});

test("a link message round-trips; a bpf filter's name, id and bpf actions are read as bpftool reads them", () => {
  const dev = { ifindex: 4, name: "eth1", kind: "veth", xdp: { attached: XDP_ATTACHED_SKB, progId: 9, skbProgId: 9 } };
  assert.deepEqual(parseLink(parseMessages(linkMessage(1, 1, dev))[0]!), dev);
  const act = (kind: string, name: string, id: number) =>
    attrNest(1, [attrStr(1, kind), attrNest(2, [{ type: 2, data: new Uint8Array(20) }, attrStr(6, name), attrU32(9, id)])]);
  const options = attrNest(2, [attrStr(7, "f.o:[tc]"), attrU32(11, 42), attrNest(1, [act("bpf", "a1", 5), { ...act("gact", "x", 1), type: 2 | 0x8000 }])]);
  const filter = encodeMessage(44, 2, 1, 1, tcmsg(4, 1, 0xfffffff2), [attrStr(1, "bpf"), options]);
  assert.deepEqual(parseFilter(parseMessages(filter)[0]!, { ifindex: 4, name: "eth1" }, "clsact/ingress"), {
    ifindex: 4, devname: "eth1", kind: "clsact/ingress", name: "f.o:[tc]", id: 42, actions: [{ name: "a1", id: 5 }],
  });
  const u32 = encodeMessage(44, 2, 1, 1, tcmsg(4, 1, 0), [attrStr(1, "u32"), attrNest(2, [])]);
  assert.equal(parseFilter(parseMessages(u32)[0]!, { ifindex: 4, name: "eth1" }, "root"), undefined);
});

test("malformed replies and requests: parsed or refused, never a crash (VM answers every request)", async () => {
  const { System } = await import("../runtime/index.ts");
  const sys = new System({ devices: [{ name: "lo", ifindex: 1 }, { name: "va", ifindex: 3, kind: "veth", nativeXdp: true }] });
  const seeds = [xdpSetLinkRequest(1, 3, 3, 1), xdpSetLinkRequest(1, 1, -1, 2), linkMessage(1, 1, { ifindex: 3, name: "va", xdp: { attached: 2, progId: 1 } })];
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 3000; i++) {
    const b = seeds[i % seeds.length]!.slice(0, i % 7 === 0 ? rnd(60) : undefined);
    for (let k = rnd(4) + 1; k > 0 && b.length; k--) b[rnd(b.length)] = rnd(256);
    for (const m of parseMessages(b)) {
      parseError(m);
      parseLink(m);
      try { parseFilter(m, { ifindex: 1, name: "lo" }, "root"); } catch (e) { assert.equal((e as Error).message, "Error parsing netlink message"); }
    }
    for (const r of sys.rtnetlink(b)) assert.ok(parseMessages(r).length >= 1);
  }
});
