// BPF_MAP_TYPE_CGROUP_ARRAY on the VM: slots hold cgroup v2 directories (System.cgroupOpen), anything else is EBADF,
// user space cannot read a slot (ENOTSUPP), and bpf_current_task_under_cgroup answers 1 / -EAGAIN / -E2BIG as Linux
// does (test/fixtures/c/cgroup_array.bpf.c, run on both backends when root). The kernel takes only cgroup v2 fds: the
// filled-slot case runs on Linux when a cgroup2 hierarchy is mounted, otherwise both run with the slot empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync } from "node:fs";
import { System, openObject, type Backend } from "../../src/runtime/index.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { skipWithoutKernel } from "./kernel.ts";

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

test("cgroup_array on the VM: cgroup fds only (EBADF), no user-space reads (ENOTSUPP), paths under /sys/fs/cgroup", () => {
  const sys = new System();
  const fd = sys.mapCreate({ mapType: 8, keySize: 4, valueSize: 4, maxEntries: 2, mapFlags: 0, name: "cg" });
  const other = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: 0 });
  assert.throws(() => sys.mapUpdateElem(fd, u32(0), u32(other)), /EBADF/);
  assert.throws(() => sys.mapUpdateElem(fd, u32(0), u32(99)), /EBADF/);
  const cg = sys.cgroupOpen("/sys/fs/cgroup/work");
  sys.mapUpdateElem(fd, u32(0), u32(cg));
  assert.throws(() => sys.mapLookupElem(fd, u32(0), new Uint8Array(4)), /ENOTSUPP/);
  assert.throws(() => sys.mapUpdateElem(fd, u32(2), u32(cg)), /E2BIG/);
  sys.mapDeleteElem(fd, u32(0));
  assert.throws(() => sys.mapDeleteElem(fd, u32(0)), /ENOENT/);
  assert.throws(() => sys.cgroupOpen("/tmp/x"), /ENOENT/);
  assert.throws(() => sys.objPin(cg, "/sys/fs/bpf/cg"), /EINVAL/);
  assert.throws(() => sys.mapCreate({ mapType: 8, keySize: 4, valueSize: 8, maxEntries: 2, mapFlags: 0 }), /EINVAL/);
});

/** A mounted cgroup2 hierarchy, or undefined (cgroup v1 hosts). */
function cgroup2Mount(): string | undefined {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2");
  return line?.split(" ")[1];
}

function run(b: Backend, bytes: Uint8Array, cgroupFd: number | undefined): string {
  const o = openObject(b, bytes, { fileName: "cgroup_array" });
  try {
    if (cgroupFd !== undefined) o.maps.get("cgroups")!.update(u32(0), u32(cgroupFd));
    const r = o.programs.get("cg_under")!.testRun(new Uint8Array(64));
    const bss = [...o.maps.get(".bss")!.entries()].map(([, v]) => Buffer.from(v).toString("hex")).join("");
    return `retval ${r.retval} under ${bss}`;
  } finally { o.close(); }
}

test("bpf_current_task_under_cgroup on the VM gives Linux's answers (under: 1, empty slot: -EAGAIN, past the end: -E2BIG)", async (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") { console.log(`SKIP runtime-cgroup-array: ${built}`); t.skip(built); return; }
  const bytes = new Uint8Array(readFileSync(built.find((b) => b.name === "cgroup_array")!.path));
  const sys = new System();
  const filled = run(sys, bytes, sys.cgroupOpen("/sys/fs/cgroup"));
  assert.equal(filled, "retval 0 under 0100000000000000f5fffffffffffffff9ffffffffffffff");
  const empty = run(new System(), bytes, undefined);
  assert.equal(empty, "retval 0 under f5fffffffffffffff5fffffffffffffff9ffffffffffffff");
  if (skipWithoutKernel(t, "runtime-cgroup-array (kernel side)")) return;
  const { linux } = await import("../../src/kernel/backend.ts");
  assert.equal(run(linux, bytes, undefined), empty);
  const mount = cgroup2Mount();
  if (!mount) { console.log("NOTE runtime-cgroup-array: no cgroup2 hierarchy mounted (cgroup v1 host): the filled slot is compared on the VM only"); return; }
  const fd = openSync(mount, "r");
  try { assert.equal(run(linux, bytes, fd), filled); } finally { closeSync(fd); }
});

test("every map type the VM does not implement is refused at create, naming the type", async () => {
  const { MAP_TYPES } = await import("../../src/maps/types.ts");
  const sys = new System();
  const missing = MAP_TYPES.filter((t) => t.id !== 0 && !t.implemented);
  for (const t of missing) {
    assert.throws(() => sys.mapCreate({ mapType: t.id, keySize: 4, valueSize: 4, maxEntries: 4, mapFlags: 0, name: "x" }),
      (e: Error) => e.message.includes(`map type ${t.name} is not implemented by bpfkit`), t.name);
  }
  console.log(`runtime-cgroup-array: ${missing.length} map types refused by name at create: ${missing.map((t) => t.name).join(", ")}`);
});
