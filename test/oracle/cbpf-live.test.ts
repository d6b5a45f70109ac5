// The kernel as oracle for the classic interpreter on live packets: UDP datagrams sent over loopback are seen by two
// AF_PACKET sockets, one keeping the whole packet (the reference) and one running the program under test. The kernel
// truncates a packet to the program's result (0 drops it), so the second socket's length must be
// min(result, len) with the result bpfkit computes on the reference bytes. Covers ancillary loads (protocol, pkttype,
// ifindex, hatype, payload offset, vlan), negative offsets and out-of-bounds loads. Needs root; skips visibly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createSocket } from "node:dgram";
import { createServer, connect } from "node:net";
import { compileCbpf } from "../../src/cbpf/interp.ts";
import { encodeCbpf } from "../../src/isa/cbpf/insn.ts";
import { assembleCbpf } from "../../src/isa/cbpf/asm.ts";

type Fn = (...args: unknown[]) => number;
interface Native { socket: Fn; setsockopt: Fn; bind: Fn; recvfrom: Fn; close: Fn; addressOf: (b: Uint8Array) => bigint; errno: () => number }

function bind(): Native | string {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root for AF_PACKET sockets";
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(p: string): { func(d: string): (...a: unknown[]) => unknown }; address(p: unknown): bigint; errno(): number;
    };
    const libc = koffi.load("libc.so.6");
    const memchr = libc.func("void *memchr(void *, int, size_t)");
    return {
      socket: libc.func("int socket(int, int, int)") as Fn,
      setsockopt: libc.func("int setsockopt(int, int, int, void *, uint32_t)") as Fn,
      bind: libc.func("int bind(int, void *, uint32_t)") as Fn,
      recvfrom: libc.func("long recvfrom(int, void *, size_t, int, void *, void *)") as Fn,
      close: libc.func("int close(int)") as Fn,
      addressOf: (b) => koffi.address(memchr(b, b[0]!, 1)),
      errno: () => koffi.errno(),
    };
  } catch (e) {
    return `koffi/libc unavailable: ${(e as Error).message.split("\n")[0]}`;
  }
}

const AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL_BE = 0x0300, MSG_DONTWAIT = 0x40, LOOPBACK_IFINDEX = 1;

/** A packet socket on lo that runs `source` (bpf_asm); the filter is attached before binding so nothing slips in. */
function packetSocket(n: Native, source: string): number {
  const fd = n.socket(AF_PACKET, SOCK_RAW, 0);
  assert.ok(fd >= 0, "AF_PACKET socket");
  const filter = Buffer.from(encodeCbpf(assembleCbpf(source)));
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(filter.length / 8, 0);
  fprog.writeBigUInt64LE(n.addressOf(filter), 8);
  assert.equal(n.setsockopt(fd, 1, 26, fprog, 16), 0, "SO_ATTACH_FILTER");
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeUInt16LE(ETH_P_ALL_BE, 2);
  sll.writeInt32LE(LOOPBACK_IFINDEX, 4);
  assert.equal(n.bind(fd, sll, 20), 0, "bind to lo");
  return fd;
}

/** Every queued packet: its bytes (as delivered, possibly truncated) and sll_pkttype. */
function drain(n: Native, fd: number): { data: Buffer; pktType: number }[] {
  const out: { data: Buffer; pktType: number }[] = [];
  for (;;) {
    const buf = Buffer.alloc(4096);
    const sll = Buffer.alloc(20);
    const slen = Buffer.alloc(4);
    slen.writeUInt32LE(20, 0);
    const r = Number(n.recvfrom(fd, buf, buf.length, MSG_DONTWAIT, sll, slen));
    if (r < 0) return out;
    out.push({ data: buf.subarray(0, r), pktType: sll[10]! });
  }
}

const BODIES = [
  "ld poff\nret a",
  "ld proto\nrsh #3\nret a",
  "ld type\nadd #1\nret a",
  "ld ifidx\nadd #1\nret a",
  "ld hatype\nret a",
  "ld #len\nret a",
  "ld vlan_avail\nadd #1\nret a",
  "ld vlan_tci\nadd #1\nret a",
  "ld mark\nadd #1\nret a",
  "ldb [-1048567]\nret a", // SKF_NET_OFF + 9: the IP protocol
  "ldb [-2097140]\nret a", // SKF_LL_OFF + 12: the high byte of the ethertype
  "ldh [-1048574]\nret a", // SKF_NET_OFF + 2: the IP total length
  "ldx #5000\nldb [x + 0]\nret #77", // out of bounds: dropped
  "ldx 4*([14]&0xf)\nldh [x + 16]\nsub #3000\nret a", // UDP destination port via the IP header length
  "ld #-1\nret a",
];

test("live loopback packets: the kernel's classic filter results equal bpfkit's", async (t) => {
  const n = bind();
  if (typeof n === "string") {
    console.log(`SKIP cbpf live kernel oracle: ${n}`);
    t.skip(n);
    return;
  }
  const udp = createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const port = 30000 + (process.pid % 20000);
  const prologue = `ldh [12]\njneq #0x800, drop\nldb [23]\njneq #17, drop\nldh [36]\njneq #${port}, drop\n`;
  const reference = packetSocket(n, `${prologue}ret #65535\ndrop: ret #0`);
  const sockets = BODIES.map((body) => packetSocket(n, `${prologue}${body}\ndrop: ret #0`));
  try {
    for (const size of [1000, 3]) {
      await new Promise<void>((resolve, reject) => udp.send(Buffer.alloc(size, 0x5a), port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
    }
    // Each datagram is seen twice on lo (outgoing and incoming); wait for all four on the reference socket.
    const ref: { data: Buffer; pktType: number }[] = [];
    for (let waited = 0; ref.length < 4 && waited < 3000; waited += 10) {
      ref.push(...drain(n, reference));
      if (ref.length < 4) await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(ref.length, 4, `reference socket saw ${ref.length} packets`);
    BODIES.forEach((body, i) => {
      const got = drain(n, sockets[i]!);
      const filter = compileCbpf(assembleCbpf(`${prologue}${body}\ndrop: ret #0`));
      const expected = ref.map((p) => {
        const meta = { protocol: 0x0800, pktType: p.pktType, ifindex: LOOPBACK_IFINDEX, hatype: 772, macOffset: 0,
          networkOffset: 14, mark: 0, queueMapping: 0, vlanTci: 0, vlanProto: 0 };
        return Math.min(filter(p.data, p.data.length, meta), p.data.length);
      }).filter((len) => len > 0);
      assert.deepEqual(got.map((p) => p.data.length), expected, body);
    });
  } finally {
    n.close(reference);
    for (const fd of sockets) n.close(fd);
    udp.close();
  }
});

/** Reference packets after traffic stops: drained until nothing new arrives for 100 ms (at most 3 s). */
async function settle(n: Native, fd: number): Promise<{ data: Buffer; pktType: number }[]> {
  const out: { data: Buffer; pktType: number }[] = [];
  for (let quiet = 0, waited = 0; quiet < 100 && waited < 3000; waited += 10) {
    const got = drain(n, fd);
    out.push(...got);
    quiet = got.length ? 0 : quiet + 10;
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

test("live loopback TCP over IPv4 and UDP over IPv6: payload offset, protocol and header loads equal the kernel's", async (t) => {
  const n = bind();
  if (typeof n === "string") {
    console.log(`SKIP cbpf live kernel oracle: ${n}`);
    t.skip(n);
    return;
  }
  const port = 20000 + (process.pid % 10000);
  const flows = [
    { name: "tcp4", prologue: `ldh [12]\njneq #0x800, drop\nldb [23]\njneq #6, drop\nldh [36]\njneq #${port}, drop\n`, protocol: 0x0800 },
    { name: "udp6", prologue: `ldh [12]\njneq #0x86dd, drop\nldb [20]\njneq #17, drop\nldh [56]\njneq #${port}, drop\n`, protocol: 0x86dd },
  ];
  const bodies = ["ld poff\nret a", "ld proto\nrsh #3\nret a", "ldb [-1048570]\nret a", "ldb [-1048567]\nadd #1\nret a",
    "ld #len\nret a", "ldx 4*([14]&0xf)\ntxa\nret a"];
  const server = createServer((s) => s.on("data", () => {}).on("end", () => s.end()));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const udp6 = createSocket("udp6");
  const sockets = flows.map((f) => ({
    flow: f,
    reference: packetSocket(n, `${f.prologue}ret #65535\ndrop: ret #0`),
    tests: bodies.map((b) => packetSocket(n, `${f.prologue}${b}\ndrop: ret #0`)),
  }));
  try {
    await new Promise<void>((resolve, reject) => {
      const c = connect(port, "127.0.0.1", () => { c.end(Buffer.alloc(500, 1)); });
      c.on("close", () => resolve()).on("error", reject);
    });
    for (const size of [1200, 1]) {
      await new Promise<void>((resolve, reject) => udp6.send(Buffer.alloc(size, 7), port, "::1", (e) => (e ? reject(e) : resolve())));
    }
    for (const { flow, reference, tests } of sockets) {
      const ref = await settle(n, reference);
      assert.ok(ref.length >= 2, `${flow.name}: reference socket saw ${ref.length} packets`);
      bodies.forEach((body, i) => {
        const got = drain(n, tests[i]!);
        const filter = compileCbpf(assembleCbpf(`${flow.prologue}${body}\ndrop: ret #0`));
        const expected = ref.map((p) => Math.min(filter(p.data, p.data.length, {
          protocol: flow.protocol, pktType: p.pktType, ifindex: LOOPBACK_IFINDEX, hatype: 772, macOffset: 0, networkOffset: 14,
        }), p.data.length)).filter((len) => len > 0);
        assert.deepEqual(got.map((p) => p.data.length), expected, `${flow.name}: ${body}`);
      });
    }
  } finally {
    for (const { reference, tests } of sockets) { n.close(reference); for (const fd of tests) n.close(fd); }
    udp6.close();
    server.close();
  }
});
