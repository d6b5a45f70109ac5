import { test } from "node:test";
import assert from "node:assert/strict";
import { compileLabels, dname, inetIp, majorMinor, parsePciIds, SKIP, type DecoderEnv } from "./decoders.ts";
import type { DecoderConfig, LabelConfig } from "./config.ts";

const env: DecoderEnv = {
  ksym: (a) => (a >= 0xffffffff81000000n && a < 0xffffffff81000100n ? "do_sys_open" : undefined),
  syscallName: (n) => (n === 39 ? "getpid" : undefined),
  cgroupPath: (id) => (id === 42n ? "/sys/fs/cgroup/system.slice" : undefined),
  blockDevice: (ma, mi) => (ma === 8 && mi === 1 ? "sda1" : undefined),
  ifName: (i) => (i === 1 ? "lo" : undefined),
  pci: parsePciIds("8086  Intel Corporation\n\t1000  82542 Gigabit Ethernet Controller (Fiber)\nC 02  Network controller\n\t00  Ethernet controller\n"),
  littleEndian: true,
};
const d = (name: string, extra: Partial<DecoderConfig> = {}): DecoderConfig => ({ name, allowUnknown: false, ...extra });
const label = (name: string, size: number, decoders: DecoderConfig[], padding = 0): LabelConfig => ({ name, size, padding, decoders });
const one = (size: number, decoders: DecoderConfig[], bytes: number[]) => compileLabels([label("l", size, decoders)], env).decode(new Uint8Array(bytes));
const u64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return [...b]; };

test("uint reads 1, 2, 4 and 8 bytes in host order; other sizes are errors", () => {
  assert.deepEqual(one(1, [d("uint")], [200]), ["200"]);
  assert.deepEqual(one(2, [d("uint")], [1, 2]), ["513"]);
  assert.deepEqual(one(4, [d("uint")], [0xe, 0, 0, 0]), ["14"]);
  assert.deepEqual(one(8, [d("uint")], u64(2n ** 64n - 1n)), ["18446744073709551615"]);
  assert.throws(() => one(3, [d("uint")], [1, 2, 3]), /unknown value length 3/);
});

test("string stops at the first NUL; hex spells bytes", () => {
  assert.deepEqual(one(8, [d("string")], [0x62, 0x61, 0x73, 0x68, 0, 0x78, 0, 0]), ["bash"]);
  assert.deepEqual(one(3, [d("hex")], [0xde, 0xad, 0x01]), ["dead01"]);
});

test("ksym, kstack and syscall name through the environment, with ebpf_exporter's unknown forms", () => {
  assert.deepEqual(one(8, [d("ksym")], u64(0xffffffff81000010n)), ["do_sys_open"]);
  assert.deepEqual(one(8, [d("ksym")], u64(0x1234n)), ["unknown_addr:0x1234"]);
  assert.deepEqual(one(24, [d("kstack")], [...u64(0xffffffff81000010n), ...u64(0x10n), ...u64(0n)]), ["do_sys_open\n??"]);
  assert.deepEqual(one(8, [d("uint"), d("syscall")], u64(39n)), ["getpid"]);
  assert.deepEqual(one(8, [d("uint"), d("syscall")], u64(999n)), ["unknown_syscall:999"]);
  assert.throws(() => one(8, [d("syscall")], u64(39n)), /not a number/);
});

test("static_map: unknown keys as unknown:KEY unless allow_unknown", () => {
  const m = new Map([["1", "read"], ["2", "write"]]);
  assert.deepEqual(one(1, [d("uint"), d("static_map", { staticMap: m })], [2]), ["write"]);
  assert.deepEqual(one(1, [d("uint"), d("static_map", { staticMap: m })], [3]), ["unknown:3"]);
  assert.deepEqual(one(1, [d("uint"), d("static_map", { staticMap: m, allowUnknown: true })], [3]), ["3"]);
});

test("regexp: first sub-match, else the whole match, no match drops the label set", () => {
  const re = d("regexp", { regexps: ["^(kworker)/.*$", "^sys(?P<rest>.*)$", "^bash$"] });
  const s = (x: string) => [...new TextEncoder().encode(x.padEnd(16, "\0"))];
  assert.deepEqual(one(16, [d("string"), re], s("kworker/0:1")), ["kworker"]);
  assert.deepEqual(one(16, [d("string"), re], s("systemd")), ["temd"]);
  assert.deepEqual(one(16, [d("string"), re], s("bash")), ["bash"]);
  assert.equal(one(16, [d("string"), re], s("zsh")), SKIP);
});

test("inet_ip prints addresses as Go's net.IP does", () => {
  assert.equal(inetIp(new Uint8Array([1, 1, 1, 1])), "1.1.1.1");
  assert.equal(inetIp(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1])), "10.0.0.1");
  assert.equal(inetIp(new Uint8Array([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])), "2001:db8::1");
  assert.equal(inetIp(new Uint8Array(16)), "::");
  assert.equal(inetIp(new Uint8Array([0x20, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])), "2001:0:1::1");
});

test("dname, majorminor, cgroup, ifname and pci decoders", () => {
  assert.equal(new TextDecoder().decode(dname(new TextEncoder().encode("\x07example\x03com"))), "example.com");
  assert.deepEqual(majorMinor((8 << 8) | 1), [8, 1]);
  assert.deepEqual(one(4, [d("majorminor")], [1, 8, 0, 0]), ["sda1"]);
  assert.deepEqual(one(4, [d("majorminor")], [2, 9, 0, 0]), ["unknown:9:2"]);
  assert.deepEqual(one(8, [d("uint"), d("cgroup")], u64(42n)), ["/sys/fs/cgroup/system.slice"]);
  assert.deepEqual(one(8, [d("uint"), d("cgroup")], u64(7n)), ["unknown_cgroup_id:7"]);
  assert.deepEqual(one(4, [d("ifname")], [1, 0, 0, 0]), ["lo"]);
  assert.deepEqual(one(2, [d("uint"), d("pci_vendor")], [0x86, 0x80]), ["Intel Corporation"]);
  assert.deepEqual(one(4, [d("uint"), d("pci_device")], [0x00, 0x10, 0x86, 0x80]), ["82542 Gigabit Ethernet Controller (Fiber)"]);
  assert.deepEqual(one(1, [d("uint"), d("pci_class")], [2]), ["Network controller"]);
  assert.deepEqual(one(2, [d("uint"), d("pci_subclass")], [0x00, 0x02]), ["Ethernet controller"]);
  assert.deepEqual(compileLabels([label("v", 2, [d("uint"), d("pci_vendor")])], { ...env, pci: undefined }).decode(new Uint8Array(2)), ["missing pci.ids db"]);
});

test("labels cut the key by size and padding; a key of another size is an error", () => {
  const k = compileLabels([label("op", 1, [d("uint")], 3), label("dev", 4, [d("uint")])], env);
  assert.equal(k.keySize, 8);
  assert.deepEqual(k.decode(new Uint8Array([2, 9, 9, 9, 5, 0, 0, 0])), ["2", "5"]);
  assert.throws(() => k.decode(new Uint8Array(4)), /total size of key is 4 bytes, but we have labels to decode 8/);
});
