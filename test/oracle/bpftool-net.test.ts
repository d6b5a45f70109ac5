// `bpftool net` against bpftool 7.1: show/list, attach/detach (xdp, xdpgeneric, xdpdrv, xdpoffload) with options in
// every position, abbreviations and every error path. Each tool runs in a network namespace of its own, created
// alike (lo, a veth pair va/vb with fixed addresses, so ifindexes and `ip link` match), on its own programs (its own
// `prog loadall`); stdout, stderr and exit status must match after the tools' paths and program ids are normalised,
// and the state each leaves is compared: `net show` and `ip -d link` with program ids replaced by program names.
// The XDP lines run again on bpfkit's VM (--vm, its devices mirrored from the namespace) against bpftool's output;
// the tc filters (set up by `tc`, plus a tcx link bpftool 7.1 does not list) and the flow dissector are Linux-only
// lines, run after them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBpfkitLines } from "./cli.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const haveTc = spawnSync("tc", ["-V"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const FIXTURES = new URL("../fixtures/bpftool/", import.meta.url).pathname;
const TCX_PIN = new URL("./tcx-pin.ts", import.meta.url).pathname;

/** XDP attach/detach and listings: compared on Linux, and on bpfkit's VM against bpftool's Linux output. */
const XDP_SCRIPT: readonly string[] = [
  "net show",
  "-j net show",
  "net show -j",
  "net -p show",
  "n s",
  "n l",
  "net list dev va",
  "net show dev va -j",
  "-j net show dev nosuch",
  "net show dev nosuch",
  "net show dev",
  "-j net show dev",
  "net show foo",
  "net show foo bar",
  "-j net show foo bar",
  "net show dev va extra",
  "net show d lo",
  "n s dev",
  "n l d lo x",
  "-j n s d",
  "net show dev va dev vb",
  "net show dev verylongdevicename0",
  // attach: xdp picks driver mode on veth (native XDP), generic on lo
  "net attach xdp pinned {P}/xdp_pass dev va",
  "net attach xdp pinned {P}/xdp_pass dev va",
  "-j net attach xdp pinned {P}/xdp_pass dev va",
  "net attach xdpgeneric pinned {P}/xdp_pass dev va",
  "net attach xdp pinned {P}/xdp_pass dev va overwrite",
  "n a x pinned {P}/xdp_pass d va o",
  "net attach xdp pinned {P}/xdp_pass dev va -j overwrite",
  "net attach xdpgeneric pinned {P}/xdp_pass dev vb",
  "net attach xdpdrv pinned {P}/xdp_pass dev vb",
  "net attach xdpgeneric pinned {P}/xdp_pass dev lo",
  "net attach xdpdrv pinned {P}/xdp_pass dev lo",
  "net attach xdpoffload pinned {P}/xdp_pass dev lo",
  "net attach xdpoffload pinned {P}/xdp_pass dev vb",
  "net attach xdp pinned {P}/tc_emit dev vb overwrite",
  "net attach xdp pinned {P}/nonexistent dev va",
  "net attach xdp pinned /etc/passwd dev va",
  "-j net attach xdp pinned /sys/fs/bpf dev va",
  "net attach xdp id 4000000000 dev va",
  "net attach xdp id x dev va",
  "net attach xdp tag zz dev va",
  "net attach xdp bogus 1 dev va",
  "net attach bogus pinned {P}/xdp_pass dev va",
  "-j net attach bogus pinned {P}/xdp_pass dev va",
  "net attach xdp pinned {P}/xdp_pass dev nosuch",
  "net attach xdp pinned {P}/xdp_pass dve va",
  "net attach xdp pinned {P}/xdp_pass dev va bogus",
  "net attach",
  "net attach xdp",
  "-j net attach xdp pinned {P}/xdp_pass dev",
  "net a xdp pinned {P}/xdp_pass",
  "net show",
  "-p net show",
  "net list -p dev va",
  // detach: the mode a flagless detach picks is the device's (driver on veth), so vb's generic program stays
  "net detach xdp dev vb",
  "net show dev vb",
  "net detach xdpgeneric dev vb",
  "net show dev vb",
  "net detach",
  "net detach xdp",
  "net detach xdp dev",
  "-j net detach xdp dev",
  "net detach xdp dev nosuch",
  "net detach bogus dev va",
  "net detach xdpdrv dev lo",
  "net detach xdpoffload dev vb",
  "-j net detach xdpgeneric dev lo",
  "net detach xdp dev va extra words",
  "n d xdpg d lo",
  "net attach xdpg pinned {P}/xdp_pass dev vb",
  "net attach {E} pinned {P}/xdp_pass dev lo",
  "net show {E} lo",
  "net detach xdpgeneric {E} lo",
  "net attach xdp pinned {P}/xdp_pass dev va {E}",
  "net show",
  "net help",
  "-j net help",
  "n h",
  "net bogus",
  "-j net bogus",
];

/** tc filters (set up by `tc` in each namespace) and the flow dissector (each tool's own `prog attach`): Linux only. */
const TC_SCRIPT: readonly string[] = [
  "prog attach pinned {P}/dissect flow_dissector",
  "net show",
  "-j net show",
  "-p net list",
  "net show dev va",
  "net show dev vb",
  "-j n s d va",
  "net attach xdp pinned {P}/xdp_pass dev va overwrite",
  "net show",
];

/**
 * Lines left out on the VM, with the reason: a pin path outside bpffs that exists on the host gets EACCES from the
 * kernel (bpftool then names the directory); the VM, which has no host file system, answers ENOENT for every path
 * it has no pin at.
 */
const VM_SKIP = new Set(["net attach xdp pinned /etc/passwd dev va", "-j net attach xdp pinned /sys/fs/bpf dev va"]);

interface Result { stdout: string; stderr: string; status: number | null }

/** {P}: the tool's bpffs folder; {E}: an empty word (bpftool 7.1 takes "" as a prefix of every keyword). */
const fill = (line: string, P: string): string[] => line.split(" ").map((w) => w === "{E}" ? "" : w.replaceAll("{P}", P));

function normalise(s: string, P: string): string {
  return s.replaceAll(P, "{P}").replaceAll("bpftool", "bpfkit").replace(/\bid \d+/g, "id N").replace(/"id": ?\d+/g, '"id":N')
    .replace(/get by id \(\d+\)/g, "get by id (N)");
}

function compare(lines: readonly string[], ref: readonly Result[], rp: string, ours: readonly Result[], op: string): string[] {
  const diffs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const a = ref[i]!, b = ours[i]!;
    const same = normalise(a.stdout, rp) === normalise(b.stdout, op) && normalise(a.stderr, rp) === normalise(b.stderr, op) && a.status === b.status;
    if (!same) {
      diffs.push(`${line}\n  bpftool: ${a.status} ${JSON.stringify(normalise(a.stdout, rp))} ${JSON.stringify(normalise(a.stderr, rp))}\n` +
        `  bpfkit:  ${b.status} ${JSON.stringify(normalise(b.stdout, op))} ${JSON.stringify(normalise(b.stderr, op))}`);
    }
  }
  return diffs;
}

/** A program id as its name, through bpftool (both tools' programs live in the one kernel). */
function progName(id: string): string {
  const r = spawnSync("bpftool", ["-j", "prog", "show", "id", id], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout) as { name: string }).name : `gone-${id}`;
}

/** What a namespace holds: `net show` and `ip -d link`, program ids named. */
function state(ns: string): string {
  const run = (cmd: string[]) => spawnSync("nsenter", [`--net=/run/netns/${ns}`, ...cmd], { encoding: "utf8" }).stdout;
  const text = run(["bpftool", "net", "show"]) + run(["ip", "-d", "link", "show"]);
  // each tool's own load times and BTF objects
  return text.replace(/\bid (\d+)/g, (_, id: string) => `prog ${progName(id)}`).replace(/load_time \d+/g, "load_time T").replace(/btf_id \d+/g, "btf_id N");
}

function makeNamespace(ns: string): boolean {
  const ip = (...a: string[]) => spawnSync("ip", a).status === 0;
  return ip("netns", "add", ns) &&
    ip("-n", ns, "link", "add", "va", "address", "02:00:00:00:00:0a", "type", "veth", "peer", "name", "vb", "address", "02:00:00:00:00:0b") &&
    ip("-n", ns, "link", "set", "va", "up") && ip("-n", ns, "link", "set", "vb", "up") && ip("-n", ns, "link", "set", "lo", "up");
}

/** tc filters like the ones people leave on devices: clsact ingress/egress, an htb qdisc and one of its classes. */
function addTcFilters(ns: string, P: string): boolean {
  // (not `tc -n`: it remounts /sys for the namespace, where the bpffs pins are not)
  const tc = (...a: string[]) => spawnSync("nsenter", [`--net=/run/netns/${ns}`, "tc", ...a]).status === 0;
  return tc("qdisc", "add", "dev", "va", "clsact") && tc("filter", "add", "dev", "va", "ingress", "bpf", "da", "pinned", `${P}/tc_emit`) &&
    tc("filter", "add", "dev", "va", "egress", "bpf", "da", "pinned", `${P}/tc_emit`) &&
    tc("qdisc", "add", "dev", "vb", "root", "handle", "1:", "htb") && tc("filter", "add", "dev", "vb", "parent", "1:", "bpf", "pinned", `${P}/tc_emit`) &&
    tc("class", "add", "dev", "vb", "parent", "1:", "classid", "1:10", "htb", "rate", "1mbit") &&
    tc("filter", "add", "dev", "vb", "parent", "1:10", "bpf", "pinned", `${P}/tc_emit`) &&
    // a tcx link on va's ingress too: bpftool 7.1 predates tcx and does not list it (bpfkit neither)
    spawnSync("nsenter", [`--net=/run/netns/${ns}`, process.execPath, "--import", "tsx", TCX_PIN, `${P}/tc_emit`, "3", "ingress", `${P}/tcx_link`]).status === 0;
}

test("bpftool net show/attach/detach match bpftool 7.1 (Linux, and the XDP lines on bpfkit's VM)", { timeout: 240_000 }, (t) => {
  const built = buildOwnCorpus(FIXTURES);
  const why = !haveBpftool ? "bpftool" : !isRoot ? "root" : !haveTc ? "tc (iproute2)" : typeof built === "string" ? built : undefined;
  if (why !== undefined || typeof built === "string") {
    console.log(`SKIP: bpftool net differential needs ${why}`);
    t.skip(`${why} absent`);
    return;
  }
  const O = built.find((b) => b.name.startsWith("objects"))!.path;
  const tag = `bknet${process.pid}`;
  const [refNs, ourNs] = [`${tag}r`, `${tag}o`];
  const RP = `/sys/fs/bpf/${tag}_ref`, OP = `/sys/fs/bpf/${tag}_our`;
  const T = mkdtempSync(join(tmpdir(), "bknet-"));
  try {
    if (!makeNamespace(refNs) || !makeNamespace(ourNs)) {
      console.log("SKIP: bpftool net differential needs `ip netns` and veth");
      t.skip("ip netns or veth unavailable");
      return;
    }
    mkdirSync(RP, { recursive: true });
    mkdirSync(OP, { recursive: true });
    const bpftool = (ns: string, lines: readonly string[], P: string): Result[] =>
      lines.map((l) => spawnSync("nsenter", [`--net=/run/netns/${ns}`, "bpftool", ...fill(l, P)], { encoding: "utf8", timeout: 20_000 }));
    const bpfkit = (lines: readonly string[], P: string, env: Record<string, string> = {}, vm = false): Result[] =>
      runBpfkitLines(lines.map((l) => [...(vm ? ["--vm"] : []), ...fill(l, P)]), env, ["nsenter", `--net=/run/netns/${ourNs}`]);

    const refLoad = bpftool(refNs, ["prog loadall {O} {P}".replace("{O}", O)], RP);
    const ourLoad = bpfkit(["prog loadall {O} {P}".replace("{O}", O)], OP);
    assert.equal(refLoad[0]!.status, 0, refLoad[0]!.stderr);
    assert.equal(ourLoad[0]!.status, 0, ourLoad[0]!.stderr);
    const refXdp = bpftool(refNs, XDP_SCRIPT, RP);
    const ourXdp = bpfkit(XDP_SCRIPT, OP);
    assert.ok(addTcFilters(refNs, RP) && addTcFilters(ourNs, OP), "tc filter setup failed");
    const refTc = bpftool(refNs, TC_SCRIPT, RP);
    const ourTc = bpfkit(TC_SCRIPT, OP);
    const diffs = [...compare(XDP_SCRIPT, refXdp, RP, ourXdp, OP), ...compare(TC_SCRIPT, refTc, RP, ourTc, OP)];
    const [refState, ourState] = [state(refNs), state(ourNs)];
    if (refState !== ourState) diffs.push(`state left:\n--- bpftool\n${refState}\n--- bpfkit\n${ourState}`);
    const total = XDP_SCRIPT.length + TC_SCRIPT.length;
    console.log(`bpftool net: ${total - diffs.length}/${total} command lines identical; state left ${refState === ourState ? "identical" : "different"}`);

    // the XDP lines on bpfkit's VM, whose devices mirror the namespace's: bpftool's Linux output, line for line
    const env = { BPFKIT_VM_STATE: join(T, "vm-session.json") };
    const vmLoad = bpfkit(["prog loadall {O} {P}".replace("{O}", O)], OP, env, true);
    assert.equal(vmLoad[0]!.status, 0, vmLoad[0]!.stderr);
    const vmLines = XDP_SCRIPT.filter((l) => !VM_SKIP.has(l));
    const vm = bpfkit(vmLines, OP, env, true);
    const vmDiffs = compare(vmLines, refXdp.filter((_, i) => !VM_SKIP.has(XDP_SCRIPT[i]!)), RP, vm, OP);
    console.log(`bpftool net on the VM: ${vmLines.length - vmDiffs.length}/${vmLines.length} command lines identical to bpftool's Linux output`);
    assert.deepEqual({ linux: diffs, vm: vmDiffs }, { linux: [], vm: [] });
  } finally {
    for (const ns of [refNs, ourNs]) spawnSync("ip", ["netns", "del", ns]);
    rmSync(RP, { recursive: true, force: true });
    rmSync(OP, { recursive: true, force: true });
    rmSync(T, { recursive: true, force: true });
  }
});

test("net where bpf() is unusable (not root) runs on bpfkit's VM, said once", (t) => {
  if (!isRoot || spawnSync("setpriv", ["--version"]).status !== 0) {
    console.log("SKIP: the unprivileged net run needs root and setpriv (util-linux) to drop to nobody");
    t.skip("root or setpriv absent");
    return;
  }
  const T = mkdtempSync(join(tmpdir(), "bknet-nobody-"));
  try {
    spawnSync("chmod", ["777", T]);
    const bin = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, bin, "-j", "net", "show"],
      { encoding: "utf8", env: { ...process.env, BPFKIT_VM_STATE: join(T, "vm.json") }, cwd: T });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/running on bpfkit's VM/g)?.length, 1, r.stderr);
    assert.equal(r.stdout, '[{"xdp":[],"tc":[],"flow_dissector":[]}]\n');
  } finally {
    rmSync(T, { recursive: true, force: true });
  }
});
