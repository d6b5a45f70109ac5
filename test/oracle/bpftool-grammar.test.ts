// bpftool's command-line grammar against bpftool 7.1 itself: global options before or after the object and command,
// prefixes of objects and commands, help texts, option errors and JSON error rendering, exit statuses.
// Compared byte for byte after one normalisation: bpftool's usage lines name the program (`bpftool`), bpfkit's name
// `bpfkit`. Only command lines whose output does not depend on what the kernel holds right now are compared here
// (other test files load programs concurrently); listings are compared in kernel-listing.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { notSupported, parseBpftoolArgs, routeBpftool } from "../../src/cli/bpftool.ts";
import { runBpfkitLines } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

const LINES: readonly string[] = [
  // help, by every object's prefix and in JSON mode
  "h", "--he", "-j help", "-p help", "-j perf help", "-p pe h",
  "prog help", "p help", "p h", "-j p h", "p h -p", "map help", "m h", "ma he", "link help", "l h", "btf help", "bt h",
  "perf help", "pe h", "net help", "n h", "cgroup help", "c h", "feature help", "f h", "gen help", "g h",
  "struct_ops help", "s h", "iter help", "i h", "i",
  // unknown objects and commands
  "-j x", "-p nothing", "prog bogus", "-j prog bogus", "map frob", "-j map frob", "link zzz", "btf qq",
  "perf nope", "-j perf nope",
  // option errors (short, bundled, long, ambiguous, missing values, values on flags)
  "-x", "-jx", "-p -x", "--frob", "--b x", "-B", "--base-btf", "--pretty=3 prog", "-j --pretty=3 version",
  "-- -j prog",
  // selectors bpftool refuses before touching the kernel
  "prog show id", "prog show xid 1", "-j prog show xid 1", "prog show -- -j", "map show id", "map show zz 1",
  "-j map show zz 1", "link show id", "prog dump", "p d", "prog dump bogus id 1",
  // ids that do not exist
  "prog show id 4000000000", "-j prog show id 4000000000", "-p prog show id 4000000000", "p s i 4000000000",
  "map show id 4000000000", "-j m s id 4000000000", "link show id 4000000000", "prog show id 4000000000 -j",
  "map dump id 4000000000", "prog dump xlated id 4000000000",
  // feature list_builtins: libbpf 1.1's names
  "feature list_builtins prog_types", "feature list_builtins map_types", "f l a", "-j feature list_builtins link_types",
  "-p f l h", "feature list_builtins helpers", "feature list_builtins x", "-j feature list_builtins x",
  "feature list_builtins", "-j feature list_builtins", "f list_builtins attach_types", "-j i h",
  // REQ_ARGS echoes the command word as typed
  "map pin pinned /x", "m pi id 1", "-j prog pi id 1", "link pin id 1",
  // map usage() after a missing argument names the object as typed
  "m update", "ma lookup", "m getnext", "m dump", "-j m update",
  "prog load", "-j prog load", "prog lo x", "-p prog loadall a", "p loada",
  // map commands without a MAP: usage() (help, or null under -j), or REQ_ARGS for freeze
  "map update", "-j map lookup", "map lookup id", "-p map delete", "map pu", "-j map getnext", "-j map freeze",
  "map freeze id", "-j map deq", "map dump", "-j map dump", "map dump id", "-p map dump id 1 x", "prog dump xlated",
  "-j prog dump xlated", "prog d x id",
];

const norm = (s: string) => s.replaceAll("bpftool", "bpfkit");

/** Command lines where bpfkit differs on purpose, with the reason (not compared). */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  "help": "bpfkit's top level is a multi-tool: `bpfkit help` lists its own commands (run, verify, filter, …) too",
  "-h": "as `help`",
  "--help": "as `help`",
  "version": "names bpfkit and its version; bpftool names itself and the libbpf it links",
};


test("global options, prefixes, help and errors match bpftool 7.1", (t) => {
  if (!haveBpftool || !isRoot) {
    console.log(`SKIP: bpftool grammar differential needs ${haveBpftool ? "root" : "bpftool"}`);
    t.skip("bpftool or root absent");
    return;
  }
  const diffs: string[] = [];
  const all = runBpfkitLines(LINES.map((l) => l.split(" ")));
  for (const [i, line] of LINES.entries()) {
    const args = line.split(" ");
    const ref = spawnSync("bpftool", args, { encoding: "utf8", timeout: 10_000 });
    const ours = all[i]!;
    const same = norm(ref.stdout) === ours.stdout && norm(ref.stderr) === ours.stderr && ref.status === ours.status;
    if (!same) {
      diffs.push(`${line}\n  bpftool: ${ref.status} ${JSON.stringify(ref.stdout)} ${JSON.stringify(ref.stderr.slice(0, 200))}\n` +
        `  bpfkit:  ${ours.status} ${JSON.stringify(ours.stdout)} ${JSON.stringify(ours.stderr.slice(0, 200))}`);
    }
  }
  console.log(`bpftool grammar: ${LINES.length - diffs.length}/${LINES.length} command lines identical`);
  assert.deepEqual(diffs, []);
});

test("options are read wherever they stand, long options by unambiguous prefix", () => {
  const a = parseBpftoolArgs(["prog", "-j", "show", "--pre", "id", "3"]);
  assert.ok(a.ok);
  assert.deepEqual(a.words, ["prog", "show", "id", "3"]);
  assert.equal(a.options.json, true);
  assert.equal(a.options.pretty, true);
  const b = parseBpftoolArgs(["-jB", "base.btf", "btf", "dump", "file", "x"]);
  assert.ok(b.ok);
  assert.equal(b.options.baseBtf, "base.btf");
  const c = parseBpftoolArgs(["--b"]);
  assert.equal(c.ok, false);
  const d = routeBpftool(["--vm", "p", "s"]);
  assert.equal(d.kind, "module");
  if (d.kind === "module") assert.deepEqual(d.args, ["--vm", "--bpfkit-typed", "s", "show"]);
});

test("commands bpfkit does not run yet say so, the bpftool way; net runs as a module", () => {
  const r = notSupported({ json: true, pretty: false }, "struct_ops", "register");
  assert.equal(r.code, 255);
  assert.equal(r.stdout, '{"error":"\'struct_ops register\' is not supported by bpfkit yet"}\n');
  const n = routeBpftool(["-j", "n", "s"]);
  assert.equal(n.kind, "module");
  if (n.kind === "module") assert.deepEqual([n.object, n.args], ["net", ["-j", "--bpfkit-typed", "s", "--bpfkit-typed-object", "n", "show"]]);
});

test("batch file - reads commands from standard input as bpftool does", (t) => {
  if (!haveBpftool || !isRoot) {
    console.log(`SKIP: bpftool batch stdin differential needs ${haveBpftool ? "root" : "bpftool"}`);
    t.skip("bpftool or root absent");
    return;
  }
  const bin = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
  const input = "map help  # comment\n\n'prog' \"help\"\n  link \\\n  help\nb\n";
  for (const args of [["batch", "file", "-"], ["-j", "batch", "file", "-"]]) {
    const ref = spawnSync("bpftool", args, { input, encoding: "utf8" });
    const ours = spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8" });
    assert.equal(ours.stdout, norm(ref.stdout), args.join(" "));
    assert.equal(ours.stderr, norm(ref.stderr), args.join(" "));
    assert.equal(ours.status, ref.status, args.join(" "));
  }
});
