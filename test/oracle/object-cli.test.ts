// The ELF/BTF commands end to end through `bpfkit`: object show (plain and JSON), prog dump xlated file (errors and
// the DOT graph accepted by graphviz), gen skeleton, and btf dump file's error exits compared with bpftool's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));
const bpfkit = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

test("object show, prog dump xlated file and gen skeleton from the command line", (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const xdp = built.find((b) => b.name === "xdp_maps")!.path;
  const show = bpfkit("object", "show", xdp, "-j");
  assert.equal(show.status, 0, show.stderr);
  const j = JSON.parse(show.stdout) as { programs: { name: string; type: string }[]; maps: { name: string; type: string; key_size: number }[] };
  assert.deepEqual(j.programs.map((p) => [p.name, p.type]), [["count_packets", "xdp"]]);
  assert.deepEqual(j.maps.map((m) => m.type), ["array", "hash", "percpu_array", "ringbuf"]);
  const plain = bpfkit("object", "show", xdp);
  assert.match(plain.stdout, /^ {3}0: xdp {2}name count_packets {2}section xdp {2}insns \d+ {2}attach_type xdp$/m);

  const missing = bpfkit("prog", "dump", "xlated", "file", xdp, "name", "nope");
  assert.equal(missing.status, 255);
  assert.match(missing.stderr, /can't find prog with name 'nope'/);
  const dot = bpfkit("prog", "dump", "xlated", "file", xdp, "visual");
  assert.equal(dot.status, 0, dot.stderr);
  const svg = spawnSync("dot", ["-Tsvg"], { input: dot.stdout, encoding: "utf8" });
  if (svg.error) console.log("SKIP dot check: graphviz not installed");
  else assert.equal(svg.status, 0, svg.stderr);

  const skel = bpfkit("gen", "skeleton", xdp);
  assert.equal(skel.status, 0, skel.stderr);
  assert.match(skel.stdout, /readonly flows: SkeletonMap<flow_key, flow_stats>;/);
});

test("btf dump file fails like bpftool (message and exit code)", (t) => {
  if (spawnSync("bpftool", ["version"]).status !== 0) return void (console.log("SKIP: bpftool not installed"), t.skip("no bpftool"));
  for (const f of ["/nonexistent.o", "/sys/kernel/btf/", BIN]) {
    const want = spawnSync("bpftool", ["btf", "dump", "file", f], { encoding: "utf8" });
    const got = bpfkit("btf", "dump", "file", f);
    assert.equal(got.status, want.status, f);
    assert.equal(got.stderr.split("\n").filter((l) => l.startsWith("Error")).join("\n"), want.stderr.split("\n").filter((l) => l.startsWith("Error")).join("\n"), f);
  }
});
