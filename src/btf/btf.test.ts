// BTF parsing and dumping on a small hand-built BTF holding every kind; the expected texts are what bpftool 7.1
// prints for the same bytes (captured once; the live comparison over real objects is test/oracle/btf-bpftool.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { isBpfError } from "../errors.ts";
import { dumpBtfC, dumpBtfRaw, parseBtf, validateBtf, resolveCoreRelo, essentialNameLength, typeOnlySignature } from "./index.ts";
import type { Btf } from "./index.ts";
import { BtfBuilder } from "./testkit.ts";
import { sample } from "./sample.testdata.ts";

const RAW = [
    "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
    "[2] INT 'unsigned char' size=1 bits_offset=0 nr_bits=8 encoding=(none)",
    "[3] INT 'long unsigned int' size=8 bits_offset=0 nr_bits=64 encoding=(none)",
    "[4] STRUCT 'node' size=16 vlen=3",
    "\t'next' type_id=5 bits_offset=0",
    "\t'val' type_id=1 bits_offset=64",
    "\t'tag' type_id=2 bits_offset=96",
    "[5] PTR '(anon)' type_id=4",
    "[6] STRUCT 'flags' size=8 vlen=4",
    "\t'a' type_id=1 bits_offset=0 bitfield_size=3",
    "\t'b' type_id=1 bits_offset=3 bitfield_size=5",
    "\t'c' type_id=2 bits_offset=16",
    "\t'd' type_id=1 bits_offset=32 bitfield_size=1",
    "[7] STRUCT 'packed' size=5 vlen=2",
    "\t'x' type_id=2 bits_offset=0",
    "\t'y' type_id=1 bits_offset=8",
    "[8] UNION '(anon)' size=8 vlen=2",
    "\t'i' type_id=1 bits_offset=0",
    "\t'l' type_id=3 bits_offset=0",
    "[9] STRUCT 'holder' size=16 vlen=2",
    "\t'(anon)' type_id=8 bits_offset=0",
    "\t'z' type_id=1 bits_offset=64",
    "[10] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2",
    "\t'ctx' type_id=5",
    "\t'(anon)' type_id=0",
    "[11] PTR '(anon)' type_id=10",
    "[12] TYPEDEF 'handler_t' type_id=11",
    "[13] ENUM 'color' encoding=UNSIGNED size=4 vlen=2",
    "\t'RED' val=0",
    "\t'BLUE' val=4294967295",
    "[14] ENUM64 'big' encoding=SIGNED size=8 vlen=1",
    "\t'HUGE' val=-9223372036854775808LL",
    "[15] ARRAY '(anon)' type_id=5 index_type_id=1 nr_elems=4",
    "[16] TYPEDEF 'table' type_id=15",
    "[17] FWD 'opaque' fwd_kind=union",
    "[18] CONST '(anon)' type_id=1",
    "[19] VAR 'cvar' type_id=18, linkage=global",
    "[20] DATASEC '.rodata' size=4 vlen=1",
    "\ttype_id=19 offset=0 size=4 (VAR 'cvar')",
    "[21] FLOAT 'double' size=8",
    "[22] FUNC 'main' type_id=10 linkage=global",
    "[23] TYPE_TAG 'user' type_id=1",
    "[24] DECL_TAG 'key' type_id=22 component_idx=-1",
    "[25] VOLATILE '(anon)' type_id=2",
    "[26] PTR '(anon)' type_id=25",
    "[27] RESTRICT '(anon)' type_id=26",
    "[28] TYPEDEF 'restricted' type_id=27",
    "",
  ].join("\n");

const C_TEXT = [
    "#ifndef __VMLINUX_H__",
    "#define __VMLINUX_H__",
    "",
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX",
    "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)",
    "#endif",
    "",
    "struct node {",
    "\tstruct node *next;",
    "\tint val;",
    "\tunsigned char tag;",
    "};",
    "",
    "struct flags {",
    "\tint a: 3;",
    "\tint b: 5;",
    "\tshort: 0;",
    "\tunsigned char c;",
    "\tint d: 1;",
    "};",
    "",
    "struct packed {",
    "\tunsigned char x;",
    "\tint y;",
    "} __attribute__((packed));",
    "",
    "struct holder {",
    "\tunion {",
    "\t\tint i;",
    "\t\tlong unsigned int l;",
    "\t};",
    "\tint z;",
    "};",
    "",
    "typedef int (*handler_t)(struct node *ctx, ...);",
    "",
    "enum color {",
    "\tRED = 0,",
    "\tBLUE = 4294967295,",
    "};",
    "",
    "enum big {",
    "\tHUGE = -9223372036854775808LL,",
    "};",
    "",
    "typedef struct node *table[4];",
    "",
    "union opaque;",
    "",
    "typedef volatile unsigned char * restrict restricted;",
    "",
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX",
    "#pragma clang attribute pop",
    "#endif",
    "",
    "#endif /* __VMLINUX_H__ */",
    "",
  ].join("\n");

const text = (f: (sink: (s: string) => void) => void): string => {
  let s = "";
  f((chunk) => (s += chunk));
  return s;
};

test("raw dump of every kind matches bpftool's format", () => {
  const btf = parseBtf(sample().build());
  assert.equal(text((o) => dumpBtfRaw(btf, o)), RAW);
});

test("C dump: bitfields, padding, packed, anonymous union, function pointers, enum64, forward declarations", () => {
  const btf = parseBtf(sample().build());
  btf.pointerSize = 8;
  assert.equal(text((o) => dumpBtfC(btf, o)), C_TEXT);
});

test("big-endian BTF parses to the same types", () => {
  const le = parseBtf(sample().build(true));
  const be = parseBtf(sample().build(false));
  assert.equal(be.littleEndian, false);
  assert.equal(text((o) => dumpBtfRaw(be, o)), text((o) => dumpBtfRaw(le, o)));
});

function rejects(bytes: Uint8Array, re: RegExp): void {
  assert.throws(() => parseBtf(bytes, { what: "section '.BTF'", fileOffset: 0x100 }), (e: unknown) => {
    assert.ok(isBpfError(e));
    assert.match(e.message, re);
    assert.equal(e.location.section, ".BTF");
    return true;
  });
}

test("malformed headers, strings and types are rejected with the offset", () => {
  const good = sample().build();
  rejects(good.subarray(0, 10), /header not found: 10 bytes, need 24 \(offset 0x100\)/);
  const badMagic = good.slice();
  badMagic[0] = 0;
  rejects(badMagic, /invalid BTF magic/);
  const noNul = good.slice();
  noNul[noNul.length - 1] = 0x41;
  rejects(noNul, /string section: empty or not NUL-terminated \(offset 0x/);
  const cut = good.slice();
  new DataView(cut.buffer).setUint32(12, 20, true); // type_len ends mid-record
  rejects(cut, /BTF type \[2\] is malformed|types data is malformed/);
  const kind = good.slice();
  kind[24 + 7] = 31; // kind 31
  rejects(kind, /BTF type \[1\] has unsupported kind 31 \(offset 0x11c\)/);
});

test("validation finds what the kernel refuses: bad names, dangling ids, loops", () => {
  assert.deepEqual(validateBtf(parseBtf(sample().build())), []);
  const b = new BtfBuilder();
  const I = BtfBuilder.info;
  b.type(b.str("int"), I(1), 4, (1 << 24) | 32);
  b.type(b.str("a"), I(8), 3); // typedef a -> b
  b.type(b.str("b"), I(8), 2); // typedef b -> a: loop
  b.type(b.str("bad name"), I(4, 1), 4, b.str("x"), 9, 0); // invalid name, dangling member type
  const problems = validateBtf(parseBtf(b.build())).map((p) => p.message);
  assert.ok(problems.includes("[4] STRUCT bad name Invalid name"), problems.join("; "));
  assert.ok(problems.some((p) => /\[4\] STRUCT bad name member #0: Invalid type_id/.test(p)), problems.join("; "));
  assert.ok(problems.some((p) => /TYPEDEF [ab] Loop detected/.test(p)), problems.join("; "));
});

test("function signatures print like bpftool's btf_dumper_type_only", () => {
  const btf = parseBtf(sample().build());
  assert.equal(typeOnlySignature(btf, 22), "int main(struct node * ctx, ...)");
});

/** local: struct task { int pid; long start; }   target: struct task { long pad; int flags; int pid; long start; } */
function coreBtfs(): [Btf, Btf, number] {
  const I = BtfBuilder.info;
  const l = new BtfBuilder();
  const li = l.type(l.str("int"), I(1), 4, (1 << 24) | 32);
  const ll = l.type(l.str("long"), I(1), 8, (1 << 24) | 64);
  const lt = l.type(l.str("task___v1"), I(4, 2), 16, l.str("pid"), li, 0, l.str("start"), ll, 64);
  l.str("0:1");
  const t = new BtfBuilder();
  const ti = t.type(t.str("int"), I(1), 4, (1 << 24) | 32);
  const tl = t.type(t.str("long"), I(1), 8, (1 << 24) | 64);
  t.type(t.str("task"), I(4, 4), 24, t.str("pad"), tl, 0, t.str("flags"), ti, 64, t.str("pid"), ti, 96, t.str("start"), tl, 128);
  return [parseBtf(l.build()), parseBtf(t.build()), lt];
}

test("CO-RE: a field moves, flavors are ignored, a missing field reads as absent", () => {
  const [local, target, root] = coreBtfs();
  const access = (s: string) => {
    for (let off = 1; ; off++) if (local.str(off) === s) return off;
  };
  const off = resolveCoreRelo(local, { insnOff: 0, typeId: root, accessStrOff: access("0:1"), kind: 0 }, target);
  assert.deepEqual([off.origVal, off.newVal, off.poison], [8n, 16n, false]);
  const pid = resolveCoreRelo(local, { insnOff: 0, typeId: root, accessStrOff: access("0:1"), kind: 1 }, target);
  assert.equal(pid.newVal, 8n); // byte size of start
  assert.equal(essentialNameLength("task___v1"), 4);
  assert.equal(essentialNameLength("a____b"), 6);
  const noTarget = parseBtf(new BtfBuilder().build());
  const exists = resolveCoreRelo(local, { insnOff: 0, typeId: root, accessStrOff: access("0:1"), kind: 2 }, noTarget);
  assert.deepEqual([exists.newVal, exists.poison], [0n, false]);
  const gone = resolveCoreRelo(local, { insnOff: 0, typeId: root, accessStrOff: access("0:1"), kind: 0 }, noTarget);
  assert.equal(gone.poison, true);
});

test("encodeBtf round-trips to the original bytes", async () => {
  const { encodeBtf } = await import("./encode.ts");
  const bytes = sample().build();
  assert.deepEqual(encodeBtf(parseBtf(bytes)), bytes);
  // big-endian input encodes to the little-endian form of the same types
  assert.deepEqual(encodeBtf(parseBtf(sample().build(false))), bytes);
});

test("split BTF: ids and string offsets continue the base's", () => {
  const base = parseBtf(sample().build());
  const b = sample().build();
  const strLen = new DataView(b.buffer).getUint32(20, true);
  const strs = new TextEncoder().encode("myint\0");
  const split = new Uint8Array(24 + 12 + strs.length);
  const dv = new DataView(split.buffer);
  dv.setUint16(0, 0xeb9f, true);
  split[2] = 1;
  [24, 0, 12, 12, strs.length].forEach((v, i) => dv.setUint32(4 + 4 * i, v, true));
  [strLen, (8 << 24) >>> 0, 1].forEach((v, i) => dv.setUint32(24 + 4 * i, v, true)); // typedef myint -> int (base id 1)
  split.set(strs, 36);
  const s = parseBtf(split, { base });
  assert.equal(s.startId, 29);
  assert.equal(text((o) => dumpBtfRaw(s, o)), "[29] TYPEDEF 'myint' type_id=1\n");
  assert.equal(s.name(1), "int");
});

test("CO-RE type_matches is stricter than type_exists", () => {
  const [, target] = coreBtfs();
  const I = BtfBuilder.info;
  const l = new BtfBuilder();
  const li = l.type(l.str("int"), I(1), 4, (1 << 24) | 32);
  const lt = l.type(l.str("task"), I(4, 1), 4, l.str("pid"), li, 0);
  const acc = l.str("0");
  const lb = parseBtf(l.build());
  const exists = resolveCoreRelo(lb, { insnOff: 0, typeId: lt, accessStrOff: acc, kind: 8 }, target);
  const matches = resolveCoreRelo(lb, { insnOff: 0, typeId: lt, accessStrOff: acc, kind: 12 }, target);
  assert.deepEqual([exists.newVal, matches.newVal], [1n, 1n]); // target task has pid (int)
  const l2 = new BtfBuilder();
  const l2i = l2.type(l2.str("int"), I(1), 4, (1 << 24) | 32);
  const l2t = l2.type(l2.str("task"), I(4, 1), 4, l2.str("comm"), l2i, 0);
  const a2 = l2.str("0");
  const lb2 = parseBtf(l2.build());
  assert.equal(resolveCoreRelo(lb2, { insnOff: 0, typeId: l2t, accessStrOff: a2, kind: 8 }, target).newVal, 1n);
  assert.equal(resolveCoreRelo(lb2, { insnOff: 0, typeId: l2t, accessStrOff: a2, kind: 12 }, target).newVal, 0n); // no 'comm'
});

test("struct padding wraps in C ints as bpftool's: a 512 MiB struct prints 4112 lines, not 67 million", () => {
  const I = BtfBuilder.info;
  const b = new BtfBuilder();
  const i = b.type(b.str("int"), I(1), 4, (1 << 24) | 32);
  // size * 8 bits wraps to 128 (below the last member: no tail padding); the member gap is 4096 longs
  b.type(b.str("big"), I(4, 2), 0x20000010, b.str("a"), i, 0, b.str("z"), i, 0x40000);
  let out = "";
  dumpBtfC(parseBtf(b.build()), (c) => { out += c; });
  assert.equal(out.split("\n").length - 1, 4112); // bpftool 7.1 btf dump file … format c: 4112 lines, same text
  assert.match(out, /\tint z;\n};/);
});

test("padding after a member whose offset wraps negative rounds as C ints do (found by the ELF/BTF fuzzer)", () => {
  const I = BtfBuilder.info;
  const b = new BtfBuilder();
  const i = b.type(b.str("int"), I(1), 4, (1 << 24) | 32);
  // bit offset 0xfffff000 is -4096 as libbpf's int: the tail padding runs from -4064 up to 64; C's roundup truncates
  // toward zero (-3968), so 63 longs follow, one fewer than rounding toward +infinity would print
  b.type(b.str("s"), I(4, 1), 8, b.str("a"), i, 0xfffff000);
  let out = "";
  dumpBtfC(parseBtf(b.build()), (c) => { out += c; });
  assert.equal(out.split("\tlong: 64;\n").length - 1, 63); // bpftool 7.1: 63
});
