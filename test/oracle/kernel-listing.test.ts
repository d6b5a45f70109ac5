// bpfkit's prog/map/btf/link/perf listings against bpftool 7.1 for the same kernel objects: programs of several
// types with maps and BTF, tracepoint, raw tracepoint and uprobe attachments; then everything is closed and gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { insn } from "../../src/isa/ebpf/insn.ts";
import { skipWithoutKernel } from "./kernel.ts";
import { btfLoad, closeFd, mapCreate, progLoad, allIds, mapUpdateElem, mapFreeze, objPin, enableStats, progTestRun } from "../../src/kernel/bpf.ts";
import { progInfo, mapInfo, linkInfo } from "../../src/kernel/info.ts";
import { attachRawTracepoint, attachTracepoint, attachUprobe, type Attachment } from "../../src/kernel/loader.ts";
import { btfShow, linkShow, mapShow, progShow, type ToolOutput } from "../../src/kernel/listing.ts";
import { perfShow } from "../../src/kernel/perf-listing.ts";
import { mapDump } from "../../src/kernel/map-dump.ts";
import { tinyBtf } from "../fixtures/kernel/btf-blob.ts";

let bpftool = false;
try { execFileSync("bpftool", ["version"], { stdio: "ignore" }); bpftool = true; } catch { /* absent */ }
const skipUnless = (t: { skip(msg: string): void }): boolean =>
  skipWithoutKernel(t, "kernel listing tests", bpftool ? undefined : "bpftool is not installed");

function runBpftool(args: string[]): ToolOutput {
  try {
    const stdout = execFileSync("bpftool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { stdout, stderr: "", code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; status: number };
    return { stdout: x.stdout, stderr: x.stderr, code: x.status };
  }
}

const modes = [["", { json: false, pretty: false }], ["-j", { json: true, pretty: false }], ["-p", { json: true, pretty: true }]] as const;

/** Compares a listing (retrying: other processes may load or free objects between the two snapshots). */
function same(args: string[], ours: (m: { json: boolean; pretty: boolean }) => ToolOutput): void {
  for (const [flag, mode] of modes) {
    const argv = flag ? [flag, ...args] : args;
    let a = runBpftool(argv), b = ours(mode);
    for (let retry = 0; retry < 3 && a.stdout !== b.stdout; retry++) { a = runBpftool(argv); b = ours(mode); }
    assert.equal(b.stdout, a.stdout, `bpftool ${argv.join(" ")}`);
    assert.equal(b.stderr, a.stderr, `stderr of bpftool ${argv.join(" ")}`);
    assert.equal(b.code, a.code, `exit code of bpftool ${argv.join(" ")}`);
  }
}

/**
 * A whole-system listing: byte-identical when the system holds still between the two snapshots; when other test
 * files keep loading and freeing objects in parallel (retries exhausted), the records of `keep` (our own objects,
 * by id or, for perf, by pid) must still be identical.
 */
function sameSystemWide(args: string[], ours: (m: { json: boolean; pretty: boolean }) => ToolOutput, keep: (rec: { id?: number; pid?: number }) => boolean): void {
  for (const [flag, mode] of modes) {
    const argv = flag ? [flag, ...args] : args;
    let a = runBpftool(argv), b = ours(mode);
    for (let retry = 0; retry < 5 && a.stdout !== b.stdout; retry++) {
      execFileSync("sleep", ["0.1"]);
      a = runBpftool(argv);
      b = ours(mode);
    }
    if (a.stdout === b.stdout) continue;
    console.log(`note: bpftool ${argv.join(" ")} kept changing under parallel tests; comparing our own records`);
    const ownRecords = (text: string): string => {
      if (mode.json) return JSON.stringify((JSON.parse(text) as { id?: number; pid?: number }[]).filter(keep));
      const recs = text.split(/\n(?=\d+: |pid )/).filter((r) => {
        const m = /^(\d+): |^pid (\d+) /.exec(r);
        return m !== null && keep(m[1] !== undefined ? { id: Number(m[1]) } : { pid: Number(m[2]) });
      });
      return recs.map((r) => r.replace(/\n$/, "")).join("\n");
    };
    assert.equal(ownRecords(b.stdout), ownRecords(a.stdout), `own records of bpftool ${argv.join(" ")}`);
  }
}

test("listings equal bpftool for programs with maps and BTF, and attachments", (t) => {
  if (skipUnless(t)) return;
  const fds: number[] = [];
  const links: Attachment[] = [];
  try {
    const btfFd = btfLoad(tinyBtf("bk_a_very_long_program_name"));
    fds.push(btfFd);
    const hash = mapCreate({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 16, name: "bk_hash", btfFd, btfKeyTypeId: 1, btfValueTypeId: 2 });
    const frozen = mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 2, name: "bk_frozen" });
    const percpu = mapCreate({ mapType: 6, keySize: 4, valueSize: 8, maxEntries: 4, mapFlags: 0 });
    const progArray = mapCreate({ mapType: 3, keySize: 4, valueSize: 4, maxEntries: 4, name: "bk_jmp" });
    fds.push(hash, frozen, percpu, progArray);
    mapUpdateElem(hash, new Uint8Array(4), new Uint8Array(8));
    mapFreeze(frozen);
    const useMap = (fd: number) => [
      insn(0x62, 10, 0, -4, 0), insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
      insn(0x18, 1, 1, 0, fd), insn(0), insn(0x85, 0, 0, 0, 1), insn(0xb7, 0, 0, 0, 0), insn(0x95),
    ];
    const funcInfo = { recSize: 8, bytes: new Uint8Array(new Uint32Array([0, 4]).buffer), count: 1 };
    fds.push(progLoad({ progType: 1, insns: useMap(hash), name: "bk_a_very_long_program_name".slice(0, 15), progBtfFd: btfFd, funcInfo }).fd);
    fds.push(progLoad({ progType: 6, insns: [insn(0xb7, 0, 0, 0, 2), insn(0x95)], name: "bk_xdp", license: "Dual BSD/GPL" }).fd);
    // tail-call owner: a program using the prog array makes bpftool print owner_prog_type
    fds.push(progLoad({ progType: 3, insns: [insn(0x18, 2, 1, 0, progArray), insn(0), insn(0xb7, 3, 0, 0, 0), insn(0x85, 0, 0, 0, 12), insn(0xb7, 0, 0, 0, 0), insn(0x95)], name: "bk_tc" }).fd);
    const tp = progLoad({ progType: 5, insns: useMap(percpu), license: "GPL" }).fd;
    const raw = progLoad({ progType: 17, insns: [insn(0xb7, 0, 0, 0, 0), insn(0x95)], name: "bk_raw" }).fd;
    const kp = progLoad({ progType: 2, insns: [insn(0xb7, 0, 0, 0, 0), insn(0x95)], name: "bk_uprobe" }).fd;
    fds.push(tp, raw, kp);
    links.push(attachTracepoint(tp, "syscalls", "sys_enter_openat"));
    links.push(attachTracepoint(tp, "syscalls", "sys_exit_openat", { legacy: true }));
    links.push(attachRawTracepoint(raw, "sys_enter"));
    links.push(attachUprobe(kp, "/lib/x86_64-linux-gnu/libc.so.6", "getpid"));
    links.push(attachUprobe(kp, "/lib/x86_64-linux-gnu/libc.so.6", "getppid", { retprobe: true, legacy: true }));

    const progIds = fds.slice(5).map((fd) => progInfo(fd).id);
    const mapIds = [hash, frozen, percpu, progArray].map((fd) => mapInfo(fd).id);
    for (const id of progIds) same(["prog", "show", "id", String(id)], (m) => progShow(m, ["id", String(id)]));
    for (const id of mapIds) same(["map", "show", "id", String(id)], (m) => mapShow(m, ["id", String(id)]));
    same(["prog", "show", "name", "bk_a_very_long_program_name"], (m) => progShow(m, ["name", "bk_a_very_long_program_name"]));
    const btfIds = new Set([progInfo(fds[5]!).btfId]);
    const linkIds = new Set(links.flatMap((l) => { try { return [linkInfo(l.fd).id]; } catch { return []; } }));
    const ownProg = (r: { id?: number }) => progIds.includes(r.id!), ownMap = (r: { id?: number }) => mapIds.includes(r.id!);
    sameSystemWide(["prog", "show"], (m) => progShow(m, []), ownProg);
    sameSystemWide(["map", "show"], (m) => mapShow(m, []), ownMap);
    sameSystemWide(["btf", "show"], (m) => btfShow(m, []), (r) => btfIds.has(r.id!));
    sameSystemWide(["link", "show"], (m) => linkShow(m, []), (r) => linkIds.has(r.id!));
    sameSystemWide(["perf"], (m) => perfShow(m, []), (r) => r.pid === process.pid);
    assert.match(perfShow({ json: false, pretty: false }, []).stdout, new RegExp(`pid ${process.pid}  fd \\d+: prog_id ${progIds[5]}  uprobe  filename /lib/x86_64-linux-gnu/libc.so.6  offset \\d+`));
    same(["prog", "show", "id", "4294967295"], (m) => progShow(m, ["id", "4294967295"]));
    same(["map", "show", "id", "x1"], (m) => mapShow(m, ["id", "x1"]));
    same(["link", "show", "id", "999999"], (m) => linkShow(m, ["id", "999999"]));

    const ours = new Set(progIds);
    for (const l of links) l.close();
    links.length = 0;
    for (const fd of fds) closeFd(fd);
    fds.length = 0;
    assert.doesNotMatch(perfShow({ json: false, pretty: false }, []).stdout, new RegExp(`pid ${process.pid} `));
    // program ids are freed once the last reference goes (RCU: allow a moment)
    const deadline = Date.now() + 2000;
    while (allIds("prog").some((id) => ours.has(id)) && Date.now() < deadline) execFileSync("sleep", ["0.05"]);
    assert.deepEqual(allIds("prog").filter((id) => ours.has(id)), []);
  } finally {
    for (const l of links) l.close();
    for (const fd of fds) closeFd(fd);
  }
});

test("map dump equals bpftool: hex layouts, per-CPU values, BTF-formatted entries, errors", (t) => {
  if (skipUnless(t)) return;
  const fds: number[] = [];
  try {
    const btfFd = btfLoad(tinyBtf("bk_func"));
    fds.push(btfFd);
    const withBtf = mapCreate({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 8, name: "bk_dump_btf", btfFd, btfKeyTypeId: 1, btfValueTypeId: 2 });
    const small = mapCreate({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 8, name: "bk_dump_small" });
    const wide = mapCreate({ mapType: 2, keySize: 4, valueSize: 40, maxEntries: 3, name: "bk_dump_wide" });
    const percpu = mapCreate({ mapType: 6, keySize: 4, valueSize: 12, maxEntries: 2, name: "bk_dump_pcpu" });
    const empty = mapCreate({ mapType: 1, keySize: 20, valueSize: 4, maxEntries: 2, name: "bk_dump_empty" });
    const progs = mapCreate({ mapType: 3, keySize: 4, valueSize: 4, maxEntries: 2, name: "bk_dump_progs" });
    fds.push(withBtf, small, wide, percpu, empty, progs);
    const k = (n: number) => new Uint8Array(new Int32Array([n]).buffer);
    const v64 = (n: bigint) => new Uint8Array(new BigInt64Array([n]).buffer);
    for (const n of [1, -7, 300]) { mapUpdateElem(withBtf, k(n), v64(BigInt(n) * 1000n)); mapUpdateElem(small, k(n), v64(-BigInt(n))); }
    mapUpdateElem(wide, k(1), Uint8Array.from({ length: 40 }, (_, i) => i * 7));
    mapUpdateElem(percpu, k(1), Uint8Array.from({ length: 16 * 2 }, (_, i) => i));
    for (const fd of [withBtf, small, wide, percpu, empty, progs]) {
      const id = String(mapInfo(fd).id);
      same(["map", "dump", "id", id], (m) => mapDump(m, ["id", id]));
    }
    same(["map", "dump", "name", "bk_dump_small"], (m) => mapDump(m, ["name", "bk_dump_small"]));
    same(["map", "dump", "id", "999999"], (m) => mapDump(m, ["id", "999999"]));
  } finally {
    for (const fd of fds) closeFd(fd);
  }
});

test("-f lists bpffs pins like bpftool (several pins per object, nested directories), then unpinned", (t) => {
  if (skipUnless(t)) return;
  const root = "/sys/fs/bpf";
  if (!existsSync(root) || !readFileSync("/proc/mounts", "utf8").includes(" /sys/fs/bpf bpf ")) {
    console.log("SKIP -f pins: no bpffs at /sys/fs/bpf");
    t.skip("no bpffs at /sys/fs/bpf");
    return;
  }
  const dir = `${root}/bpfkit_pins_${process.pid}`;
  const fds: number[] = [];
  const links: Attachment[] = [];
  mkdirSync(`${dir}/sub`, { recursive: true });
  try {
    const map = mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1, name: "bk_pinned" });
    fds.push(map);
    const prog = progLoad({ progType: 17, insns: [insn(0xb7, 0, 0, 0, 0), insn(0x95)], name: "bk_pinned" }).fd;
    fds.push(prog);
    links.push(attachRawTracepoint(prog, "sys_exit"));
    objPin(map, `${dir}/map_a`);
    objPin(map, `${dir}/sub/map_b`);
    objPin(prog, `${dir}/prog`);
    objPin(links[0]!.fd, `${dir}/sub/link`);
    // per object (the whole-system listing races with other test files pinning and loading in parallel)
    const ids = { prog: progInfo(prog).id, map: mapInfo(map).id, link: linkInfo(links[0]!.fd).id };
    for (const [kind, show] of [["prog", progShow], ["map", mapShow], ["link", linkShow]] as const) {
      for (const [flag, mode] of modes) {
        const sel = ["id", String(ids[kind])];
        const argv = [...(flag ? [flag] : []), "-f", kind, "show", ...sel];
        let a = runBpftool(argv), b = show({ ...mode, bpffs: true }, sel);
        for (let retry = 0; retry < 3 && a.stdout !== b.stdout; retry++) { a = runBpftool(argv); b = show({ ...mode, bpffs: true }, sel); }
        assert.equal(b.stdout, a.stdout, `bpftool ${argv.join(" ")}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const l of links) l.close();
    for (const fd of fds) closeFd(fd);
  }
  assert.equal(existsSync(dir), false, "no pins left");
});

test("with BPF_ENABLE_STATS on, run_time_ns and run_cnt show as in bpftool", (t) => {
  if (skipUnless(t)) return;
  const stats = enableStats();
  const prog = progLoad({ progType: 6, insns: [insn(0xb7, 0, 0, 0, 2), insn(0x95)], name: "bk_stats" }).fd;
  try {
    progTestRun(prog, { dataIn: new Uint8Array(64), repeat: 5 });
    const id = String(progInfo(prog).id);
    assert.ok(progInfo(prog).runCnt >= 5n);
    same(["prog", "show", "id", id], (m) => progShow(m, ["id", id]));
    assert.match(progShow({ json: false, pretty: false }, ["id", id]).stdout, / run_time_ns \d+ run_cnt \d+\n/);
  } finally {
    closeFd(prog);
    closeFd(stats);
  }
});
