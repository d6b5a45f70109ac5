// bpftool's commands beyond listings and map elements — prog pin/attach/detach/run/profile, map-in-map and prog-array
// values, map event_pipe, link pin/detach, iter pin, struct_ops, cgroup show/tree/attach/detach and batch files —
// against bpftool 7.1: each tool runs the same command lines on its own objects (loaded by its own `prog loadall`,
// its own maps, pins, cgroup and batch files), and stdout, stderr and exit status must match line for line after the
// tools' own paths, object ids, load times and run durations are normalised. State-changing commands are then
// compared by what they leave: map dumps, cgroup listings and the pins in each tool's bpffs folder.
// Everything runs inside a network namespace of its own (flow dissector attachments are per namespace).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventsMapId, runBpfkitLines } from "./cli.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const BPFFS = "/sys/fs/bpf";
const FIXTURES = new URL("../fixtures/bpftool/", import.meta.url).pathname;

/** The first cgroup v2 mount, where `cgroup attach` works. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const f = line.split(" ");
    if (f[2] === "cgroup2") return f[1];
  }
  return undefined;
}

// {P}: the tool's bpffs folder, {C}: its cgroup, {T}: its temp folder, {O}/{I}: the objects, {D}: a packet,
// {EV}: the id of its perf event array (known after `prog loadall`)
const SETUP: readonly string[] = [
  "prog loadall {O} {P}",
  "map create {P}/sm type sockmap key 4 value 4 entries 4 name bksm",
  "map create {P}/sh type sockhash key 4 value 4 entries 4 name bksh",
  "map create {P}/pa type prog_array key 4 value 4 entries 4 name bkpa",
  "map create {P}/in type array key 4 value 4 entries 1 name bkin",
  "map create {P}/om type array_of_maps key 4 value 4 entries 2 name bkom inner_map pinned {P}/in",
  "map create {P}/hm type hash_of_maps key 4 value 4 entries 2 name bkhm inner_map pinned {P}/in",
];

const SCRIPT: readonly string[] = [
  "map pin id {EV} {P}/ev",
  "prog show pinned {P}/xdp_pass",
  "-j prog show pinned {P}/tc_emit",
  // prog pin
  "prog pin pinned {P}/xdp_pass {P}/xp2",
  "prog pin pinned {P}/xdp_pass {P}/xp2",
  "-j prog pin pinned {P}/xdp_pass {P}/xp3",
  "p pi pinned {P}/xdp_pass",
  "prog pin pinned {P}/nonexistent {P}/x",
  "prog pin pinned {P}/sm {P}/x",
  "prog pin id 4000000000 {P}/x",
  "prog pin tag zz {P}/x",
  "prog show pinned {P}/xp2",
  // prog attach/detach: sockmap and sockhash programs, the namespace's flow dissector
  "prog attach pinned {P}/parser stream_parser pinned {P}/sm",
  "prog attach pinned {P}/verdict sk_skb_stream_verdict pinned {P}/sm",
  "prog attach pinned {P}/msg_verdict msg_verdict pinned {P}/sh",
  "-j prog attach pinned {P}/verdict stream_v pinned {P}/sh",
  "prog attach pinned {P}/verdict skb_verdict pinned {P}/sh",
  "prog attach pinned {P}/msg_verdict bogus pinned {P}/sm",
  "prog attach pinned {P}/parser stream_parser",
  "prog attach pinned {P}/parser stream_parser pinned {P}/xdp_pass",
  "prog attach pinned {P}/xdp_pass stream_parser pinned {P}/sm",
  "prog attach pinned {P}/parser sk_skb_stream_parser id 4000000000",
  "prog attach",
  "prog attach id 4000000000 flow_dissector",
  "p at pinned {P}/dissect flow_dissector",
  "prog attach pinned {P}/dissect flow_dissector",
  "-j prog detach pinned {P}/dissect flow_dissector",
  "prog detach pinned {P}/dissect flow_dissector",
  "prog detach pinned {P}/dissect",
  "prog detach pinned {P}/parser stream_parser pinned {P}/sm",
  "prog detach pinned {P}/parser stream_parser pinned {P}/sm",
  "p det pinned {P}/msg_verdict msg pinned {P}/sh",
  "prog attach pinned {P}/parser stream_parser pinned {P}/sm",
  // prog run
  "prog run pinned {P}/tc_emit data_in {D} data_out -",
  "prog run pinned {P}/tc_emit data_in {D} data_out - repeat 3",
  "-j prog run pinned {P}/tc_emit data_in {D} data_out -",
  "-p prog run pinned {P}/xdp_pass data_in {D} data_out - data_size_out 100",
  "prog run pinned {P}/xdp_pass data_in {D}",
  "prog run pinned {P}/xdp_pass data_in {D} data_size_out 10",
  "prog run pinned {P}/xdp_pass data_in {D} data_out {T}/out.bin",
  "prog run pinned {P}/xdp_pass data_in /nonexistent",
  "prog run pinned {P}/xdp_pass data_in {D} d {D}",
  "prog run pinned {P}/xdp_pass data_in {D} ctx_ {D}",
  "prog run pinned {P}/xdp_pass data_in {D} repeat x",
  "prog run pinned {P}/xdp_pass data_in {D} data_size_out 0x",
  "prog run pinned {P}/xdp_pass data_in {D} ctx_size_out -",
  "prog run pinned {P}/xdp_pass data_in {D} bogus 1",
  "prog run pinned {P}/xdp_pass data_in",
  "prog run pinned {P}/xdp_pass data_in {D} repeat",
  "prog run pinned {P}/xdp_pass data_in - ctx_in -",
  "prog run pinned {P}/xdp_pass data_in {D} ctx_in /nonexistent",
  "prog run pinned {P}/parser data_in {D}",
  "-j prog run pinned {P}/cg_ingress data_in {D}",
  "prog run id 4000000000 data_in {D}",
  "p r pinned {P}/tc_emit data_in {D} data_out -",
  "prog profile pinned {P}/xdp_pass cycles",
  "-j prog profile id 1 cycles",
  // prog arrays and maps of maps take their values by PROG / MAP
  "map update pinned {P}/pa key 0 0 0 0 value pinned {P}/xdp_pass",
  "map update pinned {P}/pa key 1 0 0 0 value pinned {P}/tc_emit",
  "map update pinned {P}/pa key 2 0 0 0 value id 4000000000",
  "-j map update pinned {P}/pa key 2 0 0 0 value id 4000000000",
  "map update pinned {P}/pa key 3 0 0 0 value pinned",
  "map update pinned {P}/pa key 3 0 0 0 value pinned {P}/sm",
  "map update pinned {P}/pa key 3 0 0 0 value pinned {P}/xp2 noexist",
  "map update pinned {P}/pa key 3 0 0 0 value pinned {P}/xp2 noexist",
  "map dump pinned {P}/pa",
  "-j map dump pinned {P}/pa",
  "map lookup pinned {P}/pa key 0 0 0 0",
  "map update pinned {P}/om key 0 0 0 0 value pinned {P}/in",
  "map update pinned {P}/om key 1 0 0 0 value pinned {P}/xdp_pass",
  "map update pinned {P}/om key 1 0 0 0 value id 4000000000",
  "map update pinned {P}/hm key 5 0 0 0 value pinned {P}/in",
  "-j map update pinned {P}/hm key 6 0 0 0 value pinned {P}/in any",
  "map update pinned {P}/hm key 6 0 0 0 value",
  "map dump pinned {P}/om",
  // (a hash map's dump order follows its random hash seed: single lookups instead)
  "map lookup pinned {P}/hm key 5 0 0 0",
  "-j map lookup pinned {P}/hm key 6 0 0 0",
  "map lookup pinned {P}/om key 0 0 0 0",
  "map delete pinned {P}/pa key 1 0 0 0",
  "map delete pinned {P}/om key 0 0 0 0",
  // map event_pipe: the errors (streaming is compared in its own test below)
  "map event_pipe pinned {P}/sm",
  "map event_pipe pinned {P}/ev cpu 0",
  "map event_pipe pinned {P}/ev cpu x index 0",
  "map event_pipe pinned {P}/ev index 0x",
  "map event_pipe pinned {P}/ev cpu 0 foo 1",
  "-j map event_pipe pinned {P}/ev index 0",
  "map event_pipe",
  "m e pinned {P}/nonexistent",
  // iter pin and links
  "iter pin {I} {P}/it",
  "iter pin {I} {P}/it",
  "i pi {I} {P}/it4",
  "-j iter pin {I} {P}/it5",
  "iter pin {O} {P}/x",
  "iter pin /etc/passwd {P}/x",
  "iter pin /nonexistent {P}/x",
  "iter pin {I}",
  "-j iter pin {I}",
  "iter pin {I} {P}/x map id",
  "-j i pin {I} {P}/x map id",
  "link show pinned {P}/it",
  "-j link show pinned {P}/it4",
  "link pin pinned {P}/it {P}/it2",
  "l pi pinned {P}/it {P}/it2",
  "-j link pin pinned {P}/it {P}/it3",
  "link pin pinned {P}/xdp_pass {P}/x",
  "link pin id 4000000000 {P}/x",
  "link pin pinned {P}/it",
  "link detach pinned {P}/it",
  "-j link detach pinned {P}/it",
  "link detach",
  "link detach id",
  "link detach id x",
  "link detach id 4000000000",
  "link detach foo 1",
  "l d pinned {P}/sm",
  "link show pinned {P}/it2",
  // struct_ops (none loaded on this machine: the empty listings and every error path)
  "struct_ops show",
  "struct_ops dump",
  "-j struct_ops show",
  "-p struct_ops list",
  "s d",
  "struct_ops show name bogus",
  "-j struct_ops show name bogus",
  "struct_ops dump name bogus",
  "struct_ops show id 0",
  "struct_ops show id 0x100000000",
  "-j struct_ops show id x",
  "struct_ops dump id 4000000000",
  "struct_ops show foo 1",
  "-j struct_ops show foo 1",
  "struct_ops show id",
  // cgroup attach, show, tree, detach
  "cgroup show {C}",
  "cgroup attach {C} ingress pinned {P}/cg_ingress multi",
  "cgroup attach {C} cgroup_inet_egress pinned {P}/cg_egress",
  "c a {C}/child sock_create pinned {P}/cg_sock override",
  "cgroup attach {C} ingress pinned {P}/cg_ingress bogus",
  "cgroup attach {C} nosuch pinned {P}/cg_ingress",
  "cgroup attach {C} ingress",
  "cgroup attach /nonexistent ingress pinned {P}/cg_ingress",
  "cgroup attach {C} egress pinned {P}/xdp_pass",
  "-j cgroup attach {C} egress pinned {P}/cg_egress multi",
  "cgroup show {C}",
  "cgroup show {C} effective",
  "-j cgroup show {C}",
  "-p cgroup show {C}/child effective",
  "cgroup list {C} e",
  "c s {C} eff eff",
  "c s {C} x",
  "c s",
  "c s /nonexistent",
  "-j c s /etc/passwd",
  "cgroup tree {C}",
  "cgroup tree {C} effective",
  "-j c t {C}",
  "-p cgroup tree {C}/child",
  "c t /nonexistent",
  "cgroup detach {C} ingress pinned {P}/cg_ingress",
  "cgroup detach {C} ingress pinned {P}/cg_ingress",
  "cgroup detach {C} ingress",
  "-j c d {C}/child sock_create pinned {P}/cg_sock",
  "cgroup show {C}",
  // batch files
  "batch file {T}/ok",
  "-j batch file {T}/ok",
  "-p batch file {T}/ok",
  "b f {T}/ok",
  "batch file {T}/fails",
  "-j batch file {T}/fails",
  "batch file {T}/quote",
  "batch file {T}/cont",
  "batch file /nonexistent",
  "batch",
  "batch fi {T}/ok",
  "batch x y",
  "batch file a b",
  // the state left behind
  "map dump pinned {P}/pa",
  "map lookup pinned {P}/hm key 6 0 0 0",
  "map show pinned {P}/sm",
];

/**
 * The lines that make sense on bpfkit's VM: not the kernel's attach points (sockmaps, the flow dissector, cgroups,
 * iterators, perf rings), and not `prog show`, whose jited fields the VM (an interpreter) does not have.
 */
const VM_LINE = (l: string): boolean =>
  !/\{P\}\/(sm|sh|parser|verdict|msg_verdict|dissect|cg_|ev\b|it)|\{C\}|\{I\}|\{EV\}|event_pipe|^(-j )?(iter|i) |^(-j )?(prog|p) (show|s) |cgroup|^(-[jp] )?c |link|^(-[jp] )?l |flow_dissector|stream_parser|^(prog|p) (attach|detach|at|det)/.test(l);

const BATCH_FILES: Readonly<Record<string, string>> = {
  ok: "map show pinned {P}/in\n# a comment\nmap show pinned {P}/om  # trailing comment\n  map \\\n  show pinned \"{P}/in\"\n\n'map' 'help'\nprog pin pinned {P}/xdp_pass '{P}/xb'\n",
  fails: "map help\nmap show id 4000000000\nprog help\n",
  quote: "map help\nprog show \"id 1\n",
  cont: "map help\nprog show \\",
};

interface Result { stdout: string; stderr: string; status: number | null }

/** The tool's own names, ids, times and durations made comparable. */
function normalise(s: string, v: Vars): string {
  return s.replaceAll(v.P, "{P}").replaceAll(v.C, "{C}").replaceAll(v.T, "{T}").replaceAll("bpftool", "bpfkit")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}/g, "TIME")
    .replace(/duration( \(average\))?: \d+ns/g, "duration$1: Nns").replace(/"duration": ?\d+/g, '"duration":N')
    .replace(/^\d+: /gm, "N: ").replace(/"id": ?\d+/g, '"id":N').replace(/\b\d{3,}\b/g, "N");
}

interface Vars { P: string; C: string; T: string; O: string; I: string; D: string; EV: string }

const fill = (line: string, v: Vars): string[] =>
  line.split(" ").map((w) => w.replaceAll("{P}", v.P).replaceAll("{C}", v.C).replaceAll("{T}", v.T)
    .replaceAll("{O}", v.O).replaceAll("{I}", v.I).replaceAll("{D}", v.D).replaceAll("{EV}", v.EV));

/** Prog-array and map-in-map values are object ids (little-endian): each tool's own, compared by what they name below. */
const idValues = (s: string): string => s.replace(/value: [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}/g, "value: ID")
  .replace(/"value":\["0x[0-9a-f]{2}","0x[0-9a-f]{2}","0x[0-9a-f]{2}","0x[0-9a-f]{2}"\]/g, '"value":ID');

function compare(lines: readonly string[], ref: readonly Result[], rv: Vars, ours: readonly Result[], ov: Vars): string[] {
  const diffs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const a = ref[i]!, b = ours[i]!;
    const n = /\{P\}\/(pa|om|hm)\b/.test(line) ? (s: string, v: Vars) => idValues(normalise(s, v)) : normalise;
    const same = n(a.stdout, rv) === n(b.stdout, ov) && n(a.stderr, rv) === n(b.stderr, ov) && a.status === b.status;
    if (!same) {
      diffs.push(`${line}\n  bpftool: ${a.status} ${JSON.stringify(normalise(a.stdout, rv))} ${JSON.stringify(normalise(a.stderr, rv).slice(0, 300))}\n` +
        `  bpfkit:  ${b.status} ${JSON.stringify(normalise(b.stdout, ov))} ${JSON.stringify(normalise(b.stderr, ov).slice(0, 300))}`);
    }
  }
  return diffs;
}

function prepare(tag: string, objects: { O: string; I: string }, cgroupRoot: string): Vars {
  const T = mkdtempSync(join(tmpdir(), `bkcmd-${tag}-`));
  const P = `${BPFFS}/bkcmd_${tag}_${process.pid}`;
  const C = `${cgroupRoot}/bkcmd_${tag}_${process.pid}`;
  mkdirSync(P, { recursive: true });
  mkdirSync(`${C}/child`, { recursive: true });
  const D = join(T, "packet");
  // an Ethernet/IPv4/UDP frame's worth of bytes
  writeFileSync(D, Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
  const v: Vars = { P, C, T, D, ...objects, EV: "" };
  for (const [name, text] of Object.entries(BATCH_FILES)) writeFileSync(join(T, name), text.replaceAll("{P}", P));
  return v;
}

function cleanup(v: Vars | undefined): void {
  if (!v) return;
  rmSync(v.P, { recursive: true, force: true });
  rmSync(v.T, { recursive: true, force: true });
  for (const d of [`${v.C}/child`, v.C]) try { rmSync(d, { recursive: false, force: true }); } catch { spawnSync("rmdir", [d]); }
  if (existsSync(v.C)) { spawnSync("rmdir", [`${v.C}/child`]); spawnSync("rmdir", [v.C]); }
}

test("bpftool prog/map/link/iter/struct_ops/cgroup/batch commands match bpftool 7.1", { timeout: 240_000 }, (t) => {
  const cg = cgroup2Root();
  const built = buildOwnCorpus(FIXTURES);
  const why = !haveBpftool ? "bpftool" : !isRoot ? "root" : typeof built === "string" ? built : cg === undefined ? "a cgroup2 mount" : undefined;
  if (why !== undefined || typeof built === "string" || cg === undefined) {
    console.log(`SKIP: bpftool command differential needs ${why}`);
    t.skip(`${why} absent`);
    return;
  }
  const objects = { O: built.find((b) => b.name.startsWith("objects"))!.path, I: built.find((b) => b.name.startsWith("iter"))!.path };
  const ns = `bkcmd${process.pid}`;
  let rv: Vars | undefined, ov: Vars | undefined;
  if (spawnSync("ip", ["netns", "add", ns]).status !== 0 || spawnSync("nsenter", ["--version"]).status !== 0) {
    spawnSync("ip", ["netns", "del", ns]);
    console.log("SKIP: bpftool command differential needs `ip netns` (iproute2) and nsenter (util-linux)");
    t.skip("ip netns or nsenter absent");
    return;
  }
  const inNs = ["nsenter", `--net=/run/netns/${ns}`];
  const bpftool = (args: string[]): Result => spawnSync(inNs[0]!, [...inNs.slice(1), "bpftool", ...args], { encoding: "utf8", timeout: 20_000 });
  try {
    rv = prepare("ref", objects, cg);
    ov = prepare("our", objects, cg);
    const refSetup = SETUP.map((l) => bpftool(fill(l, rv!)));
    const ourSetup = runBpfkitLines(SETUP.map((l) => fill(l, ov!)), {}, inNs);
    rv.EV = eventsMapId(`${rv.P}/tc_emit`);
    ov.EV = eventsMapId(`${ov.P}/tc_emit`);
    const ref = SCRIPT.map((l) => bpftool(fill(l, rv!)));
    const ours = runBpfkitLines(SCRIPT.map((l) => fill(l, ov!)), {}, inNs);
    const diffs = [...compare(SETUP, refSetup, rv, ourSetup, ov), ...compare(SCRIPT, ref, rv, ours, ov)];
    // what the commands left: the same pins, and the same bytes written by `data_out FILE`
    const pinsOf = (v: Vars) => readdirSync(v.P).sort().join(" ");
    if (pinsOf(rv) !== pinsOf(ov)) diffs.push(`pins: bpftool ${pinsOf(rv)}\n      bpfkit  ${pinsOf(ov)}`);
    const outOf = (v: Vars) => existsSync(join(v.T, "out.bin")) ? readFileSync(join(v.T, "out.bin")).toString("hex") : "none";
    if (outOf(rv) !== outOf(ov)) diffs.push(`data_out file: bpftool ${outOf(rv)} bpfkit ${outOf(ov)}`);
    // the ids in prog-array and map-in-map values name the tool's own objects
    const idOf = (kind: string, pin: string) => String((JSON.parse(spawnSync("bpftool", ["-j", kind, "show", "pinned", pin], { encoding: "utf8" }).stdout) as { id: number }).id);
    const valueIds = (pin: string) => (JSON.parse(spawnSync("bpftool", ["-j", "map", "dump", "pinned", pin], { encoding: "utf8" }).stdout) as { value: string[] }[])
      .map((e) => String(e.value.reduceRight((acc, b) => acc * 256 + parseInt(b, 16), 0)));
    for (const v of [rv, ov]) {
      const want = { pa: [idOf("prog", `${v.P}/xp2`)], hm: [idOf("map", `${v.P}/in`), idOf("map", `${v.P}/in`)] };
      for (const [m, ids] of Object.entries(want)) {
        const got = valueIds(`${v.P}/${m}`);
        if (got.join() !== ids.join()) diffs.push(`${v === rv ? "bpftool" : "bpfkit"}'s ${m} holds ids ${got} (expected ${ids})`);
      }
    }
    const total = SETUP.length + SCRIPT.length;
    console.log(`bpftool commands: ${total - (diffs.length)}/${total} command lines identical`);
    // the same lines on bpfkit's VM (--vm, one journaled session): the ones that need no kernel must print what bpftool
    // printed on Linux
    const state = join(ov.T, "vm-session.json");
    const all = [...SETUP, ...SCRIPT], allRef = [...refSetup, ...ref];
    const keep = all.map((l) => VM_LINE(l));
    const vmLines = all.filter((_, i) => keep[i]);
    const vm = runBpfkitLines(vmLines.map((l) => ["--vm", ...fill(l, ov!)]), { BPFKIT_VM_STATE: state });
    const vmDiffs = compare(vmLines, allRef.filter((_, i) => keep[i]), rv, vm, ov);
    console.log(`bpftool commands on the VM: ${vmLines.length - vmDiffs.length}/${vmLines.length} command lines identical to bpftool's Linux output`);
    assert.deepEqual(vmDiffs, []);
    assert.deepEqual(diffs, []);
  } finally {
    cleanup(rv);
    cleanup(ov);
    spawnSync("ip", ["netns", "del", ns]);
  }
});
