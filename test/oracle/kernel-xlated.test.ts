// `prog dump xlated id N` (plain, opcodes, linum, visual) and `map dump` of BTF-described maps (global data sections,
// typed hash maps) against bpftool, for clang-built objects loaded by bpftool itself (libbpf), so bpfkit lists
// programs it did not load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelAvailable } from "./kernel.ts";
import { progDump } from "../../src/kernel/prog-dump.ts";
import { mapDump } from "../../src/kernel/map-dump.ts";
import { progShow } from "../../src/kernel/listing.ts";

const FIXTURES = new URL("../fixtures/c/", import.meta.url).pathname;
const OBJECTS = ["xlated_cmp", "subprogs", "globals", "xdp_maps"];

function why(): string | undefined {
  const k = kernelAvailable();
  if (k !== true) return k;
  if (spawnSync("bpftool", ["version"]).status !== 0) return "bpftool is not installed";
  if (spawnSync("clang", ["--version"]).status !== 0) return "clang is not installed";
  return undefined;
}

function bpftool(args: string[]): { stdout: string; stderr: string; code: number } {
  const r = spawnSync("bpftool", args, { encoding: "latin1" });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

test("prog dump xlated and BTF map dumps equal bpftool for libbpf-loaded objects", async (t) => {
  const reason = why();
  if (reason !== undefined) {
    console.log(`SKIP kernel xlated tests: ${reason}`);
    t.skip(reason);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), "bpfkit-xl-"));
  const pinRoot = `/sys/fs/bpf/bpfkit_xl_${process.pid}`;
  let compared = 0;
  try {
    for (const name of OBJECTS) {
      const obj = join(tmp, `${name}.o`);
      execFileSync("clang", ["-target", "bpf", "-g", "-O2", "-I", FIXTURES, "-c", join(FIXTURES, `${name}.bpf.c`), "-o", obj]);
      const dir = `${pinRoot}_${name}`;
      const load = bpftool(["prog", "loadall", obj, dir]);
      if (load.code !== 0) {
        console.log(`note: the kernel refused ${name}.o (${load.stderr.trim().split("\n").pop()}); not compared`);
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      try {
        for (const pin of readdirSync(dir)) {
          const info = JSON.parse(bpftool(["-j", "prog", "show", "pinned", `${dir}/${pin}`]).stdout) as { id: number; map_ids?: number[] };
          const id = String(info.id);
          // every option on the first object; plain and visual on the rest (the suite shares 2 cores)
          const opts = name === OBJECTS[0] ? [[], ["opcodes"], ["linum"], ["visual"]] : [[], ["visual"]];
          for (const opt of opts) {
            const ours = await progDump({ json: false, pretty: false }, ["xlated", "id", id, ...opt]);
            const theirs = bpftool(["prog", "dump", "xlated", "id", id, ...opt]);
            assert.equal(ours.stdout, theirs.stdout, `${name}/${pin}: prog dump xlated id ${id} ${opt.join(" ")}`);
            assert.equal(ours.code, theirs.code);
          }
          if (name === OBJECTS[0]) {
            for (const [flag, mode] of [["-j", { json: true, pretty: false }], ["-p", { json: true, pretty: true }]] as const) {
              for (const opt of [[], ["opcodes"], ["linum"], ["visual"]]) {
                const ours = await progDump(mode, ["xlated", "id", id, ...opt]);
                const theirs = bpftool([flag, "prog", "dump", "xlated", "id", id, ...opt]);
                assert.equal(ours.stdout, theirs.stdout, `${name}/${pin}: ${flag} prog dump xlated id ${id} ${opt.join(" ")}`);
              }
            }
          }
          const shown = progShow({ json: false, pretty: false }, ["id", id]);
          assert.equal(shown.stdout, bpftool(["prog", "show", "id", id]).stdout, `${name}/${pin}: prog show`);
          for (const mid of info.map_ids ?? []) {
            for (const [flag, mode] of [[[], { json: false, pretty: false }], [["-j"], { json: true, pretty: false }]] as const) {
              const ours = mapDump(mode, ["id", String(mid)]);
              const theirs = bpftool([...flag, "map", "dump", "id", String(mid)]);
              assert.equal(ours.stdout, theirs.stdout, `${name}: ${flag.join(" ")} map dump id ${mid}`);
              assert.equal(ours.code, theirs.code, `${name}: exit code of map dump id ${mid}`);
            }
          }
          compared++;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.ok(compared > 0, "at least one program was compared");
});

test("prog show prints bpf_metadata_* variables of .rodata like bpftool (plain, -j, -p)", (t) => {
  const reason = why();
  if (reason !== undefined) {
    console.log(`SKIP kernel metadata test: ${reason}`);
    t.skip(reason);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), "bpfkit-md-"));
  const pin = `/sys/fs/bpf/bpfkit_md_${process.pid}`;
  try {
    const obj = join(tmp, "metadata.o");
    execFileSync("clang", ["-target", "bpf", "-g", "-O2", "-c", new URL("../fixtures/kernel/metadata.bpf.c", import.meta.url).pathname, "-o", obj]);
    const load = bpftool(["prog", "load", obj, pin]);
    assert.equal(load.code, 0, load.stderr);
    const id = String((JSON.parse(bpftool(["-j", "prog", "show", "pinned", pin]).stdout) as { id: number }).id);
    for (const [flag, mode] of [["", { json: false, pretty: false }], ["-j", { json: true, pretty: false }], ["-p", { json: true, pretty: true }]] as const) {
      const theirs = bpftool([...(flag ? [flag] : []), "prog", "show", "id", id]);
      assert.equal(progShow(mode, ["id", id]).stdout, theirs.stdout, `${flag} prog show id ${id}`);
    }
    assert.match(progShow({ json: false, pretty: false }, ["id", id]).stdout, /\tmetadata:\n\t\tname = "bpfkit"\n\t\tversion = 7\n$/);
  } finally {
    rmSync(pin, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
