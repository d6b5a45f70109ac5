// bpftool's map commands that change state or read one element — create, update, lookup, getnext, delete, peek,
// push/enqueue, pop/dequeue, freeze, pin — against bpftool 7.1: each tool runs the same command lines on its own
// maps (created by its own `map create`), and stdout, stderr and exit status must match line for line, after the
// maps' paths and the program's name are normalised. The maps' final contents are compared with `map dump`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBpfkitLines } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const BPFFS = "/sys/fs/bpf";

// {P} is the tool's own pin prefix
const SCRIPT: readonly string[] = [
  "map create {P}h type hash key 4 value 8 entries 16 name bkh",
  "map create {P}a type array key 4 value 20 entries 2 name bka",
  "map create {P}q type queue key 0 value 4 entries 4 name bkq",
  "map create {P}s type stack key 0 value 4 entries 2 name bks",
  "map create {P}p type percpu_array key 4 value 4 entries 2 name bkp",
  "map create {P}l type lru_hash key 8 value 4 entries 8 name bkl flags 0",
  "map create {P}x type hash key 4 value 8 entries 0 name bad",
  "map create {P}x type nosuch key 4 value 8 entries 4 name bad",
  "map create {P}x type hash key 4 value 8 entries 4",
  "map create {P}h type hash key 4 value 8 entries 4 name again",
  "-j map create {P}x type hash key 4 value 8 entries 0 name bad",
  "map update pinned {P}h key 1 0 0 0 value 1 2 3 4 5 6 7 8",
  "m u pinned {P}h key hex 02 00 00 00 value hex ff fe fd fc fb fa f9 f8 noexist",
  "-j map update pinned {P}h key 0x3 0 0 0 value 010 0 0 0 0 0 0 1 any",
  "map update pinned {P}h key 1 0 0 0 value 1 2 3 4 5 6 7 8 noexist",
  "map update pinned {P}h key 9 0 0 0 value 1 2 3 4 5 6 7 8 exist",
  "map update pinned {P}h key 1 0 0 0 value 1 2 3 4 5 6 7 8 any exist",
  "map update pinned {P}h key 1 0 0 0",
  "map update pinned {P}h value 1 2 3 4 5 6 7 8",
  "map update pinned {P}h key 1 0 0 value 1 2 3 4 5 6 7 8",
  "map update pinned {P}h key zz 0 0 0 value 1 2 3 4 5 6 7 8",
  "map update pinned {P}h key 1 0 0 0 value 1 2 3 4 5 6 7 8 9",
  "map update pinned {P}h key 1 0 0 0 key 1 0 0 0 value 1 2 3 4 5 6 7 8",
  "map lookup pinned {P}h key 1 0 0 0",
  "-j map lookup pinned {P}h key 2 0 0 0",
  "-p map lookup pinned {P}h key 3 0 0 0",
  "map lookup pinned {P}h key 7 0 0 0",
  "-j map lookup pinned {P}h key 7 0 0 0",
  "map lookup pinned {P}h",
  "map lookup pinned {P}h key 1 0 0 0 extra",
  "map lookup pinned {P}nonexistent key 1 0 0 0",
  // (the first key of a kernel hash map depends on the map's random hash seed: getnext from no key runs on an array)
  "map getnext pinned {P}a",
  "-j map getnext pinned {P}a",
  "map delete pinned {P}h key 2 0 0 0",
  "map delete pinned {P}h key 2 0 0 0",
  "map delete pinned {P}h",
  "map update pinned {P}a key 1 0 0 0 value 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
  "map lookup pinned {P}a key 1 0 0 0",
  "-j map lookup pinned {P}a key 0 0 0 0",
  "map getnext pinned {P}a key 0 0 0 0",
  "map getnext pinned {P}a key 1 0 0 0",
  "map update pinned {P}a key 5 0 0 0 value 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
  "map delete pinned {P}a key 0 0 0 0",
  // cgroup_array: an fd array of cgroup directories (fd 99 is no cgroup: EBADF), unreadable from user space (ENOTSUPP)
  "map create {P}c type cgroup_array key 4 value 4 entries 4 name bkc",
  "map create {P}x type cgroup_array key 4 value 8 entries 4 name bad",
  "map update pinned {P}c key 0 0 0 0 value 99 0 0 0",
  "map update pinned {P}c key 9 0 0 0 value 99 0 0 0",
  "map lookup pinned {P}c key 0 0 0 0",
  "map delete pinned {P}c key 0 0 0 0",
  "map dump pinned {P}c",
  "-j map dump pinned {P}c",
  "map getnext pinned {P}c key 3 0 0 0",
  "map push pinned {P}q value 1 2 3 4",
  "map enqueue pinned {P}q value 5 6 7 8",
  "map peek pinned {P}q",
  "-j map peek pinned {P}q",
  "map pop pinned {P}q",
  "map dequeue pinned {P}q",
  "map pop pinned {P}q",
  "-j map pop pinned {P}q",
  "map push pinned {P}q value 1 2 3",
  "map push pinned {P}s value 1 0 0 0",
  "map push pinned {P}s value 2 0 0 0",
  "map push pinned {P}s value 3 0 0 0",
  "map pop pinned {P}s",
  "map update pinned {P}p key 0 0 0 0 value 1 0 0 0",
  "map update pinned {P}p key 0 0 0 0 value 1 0 0 0 2 0 0 0",
  "map lookup pinned {P}p key 0 0 0 0",
  "-j map lookup pinned {P}p key 0 0 0 0",
  "map update pinned {P}l key 1 2 3 4 5 6 7 8 value 1 0 0 0",
  "map lookup pinned {P}l key 1 2 3 4 5 6 7 8",
  "map pin pinned {P}l {P}l2",
  "map lookup pinned {P}l2 key 1 2 3 4 5 6 7 8",
  "map pin pinned {P}l {P}l2",
  "map delete pinned {P}h key 3 0 0 0",
  "map freeze pinned {P}h",
  "map freeze pinned {P}h",
  "map update pinned {P}h key 1 0 0 0 value 1 2 3 4 5 6 7 8",
  "map update id 4000000000 key 1 0 0 0 value 1 2 3 4",
  "map dump pinned {P}h",
  "map dump pinned {P}a",
  "-j map dump pinned {P}p",
];

function cleanup(prefix: string): void {
  for (const n of readdirSync(BPFFS)) if (`${BPFFS}/${n}`.startsWith(prefix)) rmSync(`${BPFFS}/${n}`, { force: true });
}

function compare(ref: readonly { stdout: string; stderr: string; status: number | null }[], refP: string,
  ours: readonly { stdout: string; stderr: string; status: number }[], ourP: string): string[] {
  const norm = (s: string, p: string) => s.replaceAll(p, "{P}").replaceAll("bpftool", "bpfkit").replace(/^\d+: /gm, "N: ");
  const diffs: string[] = [];
  for (const [i, line] of SCRIPT.entries()) {
    const a = ref[i]!, b = ours[i]!;
    const same = norm(a.stdout, refP) === norm(b.stdout, ourP) && norm(a.stderr, refP) === norm(b.stderr, ourP) && a.status === b.status;
    if (!same) diffs.push(`${line}\n  bpftool: ${a.status} ${JSON.stringify(a.stdout)} ${JSON.stringify(a.stderr)}\n  bpfkit:  ${b.status} ${JSON.stringify(b.stdout)} ${JSON.stringify(b.stderr)}`);
  }
  return diffs;
}

test("map create/update/lookup/getnext/delete/queue ops/freeze/pin match bpftool 7.1", (t) => {
  if (!haveBpftool || !isRoot) {
    console.log(`SKIP: bpftool map command differential needs ${haveBpftool ? "root" : "bpftool"}`);
    t.skip("bpftool or root absent");
    return;
  }
  const refP = `${BPFFS}/bkmc_ref_${process.pid}_`, ourP = `${BPFFS}/bkmc_our_${process.pid}_`;
  try {
    const ref = SCRIPT.map((l) => spawnSync("bpftool", l.replaceAll("{P}", refP).split(" "), { encoding: "utf8", timeout: 10_000 }));
    const ours = runBpfkitLines(SCRIPT.map((l) => l.replaceAll("{P}", ourP).split(" ")));
    const diffs = compare(ref, refP, ours, ourP);
    console.log(`bpftool map commands: ${SCRIPT.length - diffs.length}/${SCRIPT.length} command lines identical`);
    assert.deepEqual(diffs, []);
    // the same command lines on bpfkit's VM (--vm, one session kept between the commands) print what bpftool printed
    const state = join(mkdtempSync(join(tmpdir(), "bpfkit-vm-")), "session.json");
    const vm = runBpfkitLines(SCRIPT.map((l) => ["--vm", ...l.replaceAll("{P}", ourP).split(" ")]), { BPFKIT_VM_STATE: state });
    const vmDiffs = compare(ref, refP, vm, ourP);
    console.log(`bpftool map commands on the VM: ${SCRIPT.length - vmDiffs.length}/${SCRIPT.length} command lines identical`);
    assert.deepEqual(vmDiffs, []);
  } finally {
    cleanup(refP);
    cleanup(ourP);
  }
});
