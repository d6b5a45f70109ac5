// Differential test: `bpfkit gen skeleton -L FILE` (the light skeleton: the object's load recorded as a loader
// program, src/object/loader-gen.ts) against bpftool 7.1's `gen skeleton -L`: identical stdout, stderr and exit status
// on the own C corpus and on the elf-samples (a CI slice of them; BPFKIT_LSKEL_ALL=1 runs every sample), and the
// `name` option. Reports how many objects are identical, refused by both, different.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { genCommand } from "../../src/cli/gen-tool.ts";
import { buildOwnCorpus, FIXTURE_DIR } from "../../test/fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;

/**
 * Objects where bpftool 7.1 itself crashes (SIGSEGV, exit 139) recording the load: struct_ops maps need vmlinux BTF,
 * which libbpf's gen mode never loads. bpfkit refuses them with an error instead; compared by both refusing.
 */
const BPFTOOL_CRASHES = new Set(["all_maps.bpf.o"]);

/** The CI slice of the elf-samples: every kind of object the generator handles (maps, global data, kconfig, CO-RE,
 * fentry attach targets, ksyms, sub-programs, pinned maps, refusals). */
const CI_SLICE = [
  "xdp-tests__xdp_pass", "libbpf-tools__tcpconnlat", "libbpf-tools__biolatency", "libbpf-tools__javagc",
  "libbpf-tools__runqslower", "libxdp1__xdp-dispatcher", "libxdp1__xdpfilt_alw_eth", "golang-github-cilium-ebpf-dev__relocs-el",
  "golang-github-cilium-ebpf-dev__freplace-el", "golang-github-cilium-ebpf-dev__loader-clang-14-el",
  "golang-github-cilium-ebpf-dev__strings-eb", "golang-github-cilium-ebpf-dev__fwd_decl-el", "pcp__biosnoop",
];

function compare(files: readonly string[], extra: readonly string[] = []): void {
  let same = 0, refused = 0;
  const failures: string[] = [];
  for (const f of files) {
    const r = spawnSync("bpftool", ["gen", "skeleton", "-L", f, ...extra], { maxBuffer: 1 << 28 });
    const ours = genCommand(["skeleton", f, ...extra], { json: false, pretty: false, useLoader: true });
    if (BPFTOOL_CRASHES.has(basename(f))) {
      if (r.status === 0 || ours.code === 0) failures.push(`${f}: expected both to refuse (bpftool exit ${r.status}, bpfkit ${ours.code})`);
      else refused++;
      continue;
    }
    const outSame = Buffer.from(ours.stdout, "latin1").equals(r.stdout);
    const errSame = Buffer.from(ours.stderr, "latin1").equals(r.stderr);
    if (outSame && errSame && ours.code === r.status) {
      if (r.status === 0) same++;
      else refused++;
      continue;
    }
    failures.push(`${f}: exit ${r.status}/${ours.code}, stdout ${outSame ? "same" : "differs"}, stderr ${errSame ? "same" : `differs: bpftool '${r.stderr.toString("latin1").trim()}' bpfkit '${ours.stderr.trim()}'`}`);
  }
  console.log(`gen skeleton -L${extra.length ? " " + extra.join(" ") : ""}: ${same} identical, ${refused} refused by both, ${failures.length} different`);
  assert.deepEqual(failures, []);
}

function skipUnless(t: { skip: (m: string) => void }, ok: boolean, why: string): boolean {
  if (ok) return false;
  console.log(`SKIP: ${why}`);
  t.skip(why);
  return true;
}

test("gen skeleton -L matches bpftool on the own C corpus", (t) => {
  if (skipUnless(t, haveBpftool, "bpftool not installed")) return;
  const built = buildOwnCorpus();
  const xlated = buildOwnCorpus(join(FIXTURE_DIR, "xlated"));
  // the light skeleton's own fixtures: map-in-map templates and slots, perf array sizing, kallsyms, a pinned map
  const lskel = buildOwnCorpus(join(FIXTURE_DIR, "..", "lskel"));
  for (const b of [built, xlated, lskel]) if (typeof b === "string") return void skipUnless(t, false, b);
  compare([built, xlated, lskel].flatMap((b) => (typeof b === "string" ? [] : b)).map((o) => o.path));
});

test("gen skeleton -L matches bpftool on the elf-samples", (t) => {
  if (skipUnless(t, haveBpftool, "bpftool not installed")) return;
  if (skipUnless(t, !!samples && existsSync(samples), "BPFKIT_ELF_SAMPLES not set")) return;
  const all = readdirSync(samples!).filter((n) => n.endsWith(".o")).sort();
  const files = process.env.BPFKIT_LSKEL_ALL ? all : all.filter((n) => CI_SLICE.includes(n.slice(0, -2)));
  if (!process.env.BPFKIT_LSKEL_ALL) console.log(`elf-samples: CI slice of ${files.length} (BPFKIT_LSKEL_ALL=1 for all ${all.length})`);
  compare(files.map((n) => join(samples!, n)));
});

test("gen -j: a successful command's output ends with the JSON writer's newline, as bpftool's", (t) => {
  if (skipUnless(t, haveBpftool, "bpftool not installed")) return;
  const built = buildOwnCorpus();
  if (typeof built === "string") return void skipUnless(t, false, built);
  const obj = built.find((o) => o.name === "globals")!.path;
  for (const args of [["skeleton", "-L"], ["skeleton"], ["subskeleton"]]) {
    const r = spawnSync("bpftool", ["-j", "gen", args[0]!, ...args.slice(1), obj], { maxBuffer: 1 << 28 });
    const ours = genCommand([args[0]!, obj, "--c"], { json: true, pretty: false, useLoader: args.includes("-L") });
    assert.ok(Buffer.from(ours.stdout, "latin1").equals(r.stdout), `-j gen ${args.join(" ")}`);
    assert.equal(ours.code, r.status);
  }
});

test("gen skeleton -L with `name` matches bpftool", (t) => {
  if (skipUnless(t, haveBpftool, "bpftool not installed")) return;
  const built = buildOwnCorpus();
  if (typeof built === "string") return void skipUnless(t, false, built);
  compare(built.filter((o) => o.name === "globals" || o.name === "core").map((o) => o.path), ["name", "my_skel"]);
});
