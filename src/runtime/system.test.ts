import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { accumulateInsns } from "./programs.test-util.ts";
import { System, SyscallError, allIds, errnoOf, progTag, BpfMap } from "./index.ts";

const counter = (mapFd: number) => accumulateInsns(mapFd);

test("progLoad verifies: rejection carries the verifier log and errno, acceptance an id and the kernel's tag", () => {
  const sys = new System();
  const bad = assemble("exit");
  assert.throws(() => sys.progLoad({ progType: 1, insns: bad, license: "GPL" }), (e: unknown) => {
    assert.ok(e instanceof SyscallError);
    assert.equal(e.errno, 13);
    assert.match(e.log, /R0 !read_ok/);
    return true;
  });
  const good = assemble("mov r0, 7\nexit");
  const { fd } = sys.progLoad({ progType: 1, insns: good, license: "GPL", name: "seven" });
  const info = sys.progInfo(fd);
  assert.equal(info.tag, "9efe8873120741b3"); // Linux 6.18's tag of these two instructions
  assert.equal(info.tag, progTag(good));
  assert.equal(info.name, "seven");
  assert.equal(info.xlatedProgLen, 16);
  assert.ok(info.gplCompatible);
  assert.equal(sys.progTestRun(fd, { dataIn: new Uint8Array(14) }).retval, 7);
});

test("maps get ids, programs hold their maps, pins keep objects alive after their fds close", () => {
  const sys = new System();
  const mfd = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1, name: "cnt" });
  const { fd } = sys.progLoad({ progType: 1, insns: counter(mfd), license: "GPL", name: "count" });
  for (let i = 0; i < 3; i++) sys.progTestRun(fd, { dataIn: new Uint8Array(20) });
  const map = BpfMap.fromFd(sys, mfd);
  assert.equal(new DataView(map.lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true), 3n);
  const pinfo = sys.progInfo(fd);
  assert.deepEqual(pinfo.mapIds, [sys.mapInfo(mfd).id]);
  sys.objPin(fd, "/sys/fs/bpf/count");
  assert.throws(() => sys.objPin(fd, "/sys/fs/bpf/count"), (e) => errnoOf(e) === 17);
  assert.throws(() => sys.objPin(fd, "/tmp/count"), (e) => errnoOf(e) === 1);
  sys.close(fd);
  sys.close(mfd);
  assert.deepEqual(allIds(sys, "prog"), [pinfo.id]);
  assert.deepEqual(allIds(sys, "map"), pinfo.mapIds, "the program holds its map");
  const again = sys.objGet("/sys/fs/bpf/count");
  assert.equal(sys.progInfo(again).id, pinfo.id);
  sys.close(again);
  sys.unpin("/sys/fs/bpf/count");
  assert.deepEqual(allIds(sys, "prog"), []);
  assert.deepEqual(allIds(sys, "map"), []);
});

test("links: attach creates a link id, detach and close drop it", () => {
  const sys = new System();
  const { fd } = sys.progLoad({ progType: 5, insns: assemble("mov r0, 0\nexit"), license: "GPL" });
  const a = sys.attach(fd, { kind: "tracepoint", category: "sched", name: "sched_switch" });
  assert.equal(sys.attached("tracepoint:sched:sched_switch").length, 1);
  const lfd = sys.getFdById("link", a.linkId!);
  assert.equal(sys.linkInfo(lfd).type, 7);
  sys.linkDetach(lfd);
  assert.equal(sys.attached("tracepoint:sched:sched_switch").length, 0);
  sys.close(lfd);
  a.close();
  assert.deepEqual(allIds(sys, "link"), []);
});

test("map commands: batch lookup/update, freeze", () => {
  const sys = new System();
  const fd = sys.mapCreate({ mapType: 1, keySize: 4, valueSize: 4, maxEntries: 16 });
  const keys = new Uint8Array(new Uint32Array([1, 2, 3]).buffer), values = new Uint8Array(new Uint32Array([10, 20, 30]).buffer);
  assert.equal(sys.mapUpdateBatch(fd, keys, values, 3).count, 3);
  const ks = new Uint8Array(64), vs = new Uint8Array(64), out = new Uint8Array(4);
  const r = sys.mapLookupBatch(fd, null, out, ks, vs, 16);
  assert.equal(r.count, 3);
  assert.ok(r.done);
  const got = new Map<number, number>();
  for (let i = 0; i < 3; i++) got.set(new DataView(ks.buffer).getUint32(i * 4, true), new DataView(vs.buffer).getUint32(i * 4, true));
  assert.deepEqual(got, new Map([[1, 10], [2, 20], [3, 30]]));
  sys.mapFreeze(fd);
  assert.equal(sys.fdinfo(fd, "frozen"), "1");
  assert.throws(() => sys.mapUpdateElem(fd, keys.subarray(0, 4), values.subarray(0, 4)), (e) => errnoOf(e) === 1);
});
