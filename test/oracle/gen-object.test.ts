// Differential test of the static linker: `bpfkit gen object OUT IN...` against `bpftool gen object` — the same
// output bytes on every single object (own corpus and elf-samples) and on multi-object links with externs (functions,
// variables, a map), weak/strong definitions and merged sections; the same verdict, `Error:` line and exit status where
// bpftool refuses. The linked objects load and run alike in bpfkit's VM and (as root) in the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { genCommand } from "../../src/cli/gen-tool.ts";
import { System, openObject } from "../../src/runtime/index.ts";
import type { Backend } from "../../src/runtime/index.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;
const LINK_DIR = fileURLToPath(new URL("../fixtures/c/link/", import.meta.url));
const errorLine = (s: string): string => s.split("\n").find((l) => l.startsWith("Error: ")) ?? "";

function linkBoth(dir: string, inputs: string[], tag: string): { ours: Buffer | undefined; theirs: Buffer | undefined; diff?: string } {
  const outB = join(dir, `${tag}.bpftool.o`), outK = join(dir, `${tag}.bpfkit.o`);
  const r = spawnSync("bpftool", ["gen", "object", outB, ...inputs], { encoding: "latin1" });
  const ours = genCommand(["object", outK, ...inputs], { json: false, pretty: false });
  if ((r.status === 0) !== (ours.code === 0)) return { ours: undefined, theirs: undefined, diff: `bpftool exit ${r.status}, bpfkit exit ${ours.code} ${errorLine(ours.stderr)}` };
  if (r.status !== 0) {
    if (r.status !== ours.code || errorLine(r.stderr) !== errorLine(ours.stderr)) {
      return { ours: undefined, theirs: undefined, diff: `bpftool '${errorLine(r.stderr)}' (${r.status}), bpfkit '${errorLine(ours.stderr)}' (${ours.code})` };
    }
    return { ours: undefined, theirs: undefined };
  }
  return { ours: readFileSync(outK), theirs: readFileSync(outB) };
}

function compareSingles(files: string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-link-"));
  const failures: string[] = [];
  let same = 0, refused = 0;
  try {
    files.forEach((f, i) => {
      const r = linkBoth(dir, [f], `o${i}`);
      if (r.diff) failures.push(`${f}: ${r.diff}`);
      else if (!r.ours) refused++;
      else if (r.ours.equals(r.theirs!)) same++;
      else failures.push(`${f}: linked objects differ`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`gen object: ${same} byte-identical, ${refused} refused by both (same error line and status), ${failures.length} different`);
  assert.deepEqual(failures, []);
}

const skipNoBpftool = (t: { skip(m: string): void }): boolean => {
  if (haveBpftool) return false;
  console.log("SKIP: bpftool not installed");
  t.skip("bpftool not installed");
  return true;
};

test("gen object of each own-corpus object is byte-identical to bpftool's", (t) => {
  if (skipNoBpftool(t)) return;
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  compareSingles(built.map((o) => o.path));
});

test("gen object of each elf-samples object is byte-identical to bpftool's (or refused alike)", (t) => {
  if (skipNoBpftool(t)) return;
  if (!samples || !existsSync(samples)) return void (console.log("SKIP: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
  compareSingles(readdirSync(samples).filter((n) => n.endsWith(".o")).sort().map((n) => join(samples, n)));
});

function linkFixtures(): { a: string; b: string; own: Map<string, string> } | string {
  const built = buildOwnCorpus(LINK_DIR);
  if (typeof built === "string") return built;
  const own = buildOwnCorpus();
  if (typeof own === "string") return own;
  return {
    a: built.find((o) => o.name === "link_a")!.path, b: built.find((o) => o.name === "link_b")!.path,
    own: new Map(own.map((o) => [o.name, o.path])),
  };
}

test("gen object links several objects (externs, weak symbols, merged sections) exactly as bpftool", (t) => {
  if (skipNoBpftool(t)) return;
  const fx = linkFixtures();
  if (typeof fx === "string") return void (console.log(`SKIP: ${fx}`), t.skip(fx));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-link-"));
  try {
    const cases: [string, string[]][] = [
      ["ab", [fx.a, fx.b]], ["ba", [fx.b, fx.a]],
      ["multi", [fx.own.get("globals")!, fx.own.get("subprogs")!, fx.own.get("all_maps")!]],
      // refusals: the same strong symbol twice; a second "seen" in another object
      ["dup", [fx.a, fx.a]], ["conflict", [fx.own.get("globals")!, fx.own.get("xlated_cmp")!]],
      ["missing", [fx.a, "/nonexistent.o"]], ["notelf", ["/etc/hostname"]],
    ];
    for (const [tag, inputs] of cases) {
      const r = linkBoth(dir, inputs, tag);
      assert.equal(r.diff, undefined, `${tag}: ${r.diff}`);
      if (r.ours) assert.ok(r.ours.equals(r.theirs!), `${tag}: linked objects differ`);
    }
    for (const args of [["object"], ["object", join(dir, "x.o")]]) {
      const r = spawnSync("bpftool", ["gen", ...args], { encoding: "latin1" });
      const ours = genCommand(args, { json: false, pretty: false });
      assert.equal(ours.code, r.status);
      assert.equal(errorLine(ours.stderr), errorLine(r.stderr));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs link_filter and link_count on packets of several lengths; returns retvals and the shared map's values. */
async function exercise(backend: Backend, bytes: Uint8Array): Promise<string> {
  const o = openObject(backend, bytes);
  try {
    assert.deepEqual([...o.skipped.keys()], [], `programs skipped: ${[...o.skipped.values()].join("; ")}`);
    const out: string[] = [];
    for (const len of [14, 40, 100, 200]) {
      const pkt = new Uint8Array(len).fill(0x11);
      for (const p of ["link_filter", "link_count"]) out.push(`${p}(${len})=${o.programs.get(p)!.testRun(pkt).retval}`);
    }
    const hist = o.maps.get("lib_hist")!;
    for (let k = 0; k < 4; k++) out.push(`hist[${k}]=${Buffer.from(hist.lookup(new Uint8Array([k, 0, 0, 0]))!).toString("hex")}`);
    return out.join(" ");
  } finally {
    o.close();
  }
}

test("the linked object loads and runs in bpfkit's VM and in the kernel with the same results", async (t) => {
  const fx = linkFixtures();
  if (typeof fx === "string") return void (console.log(`SKIP: ${fx}`), t.skip(fx));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-link-"));
  try {
    const out = join(dir, "ab.o");
    assert.equal(genCommand(["object", out, fx.a, fx.b], { json: false, pretty: false }).code, 0);
    const bytes = new Uint8Array(readFileSync(out));
    const vm = await exercise(new System(), bytes);
    assert.match(vm, /link_filter\(200\)=\d+/);
    if (process.getuid?.() !== 0) return void console.log("SKIP: kernel half needs root");
    const { linux } = await import("../../src/kernel/backend.ts");
    const kernel = await exercise(linux, bytes);
    assert.equal(vm, kernel);
    console.log(`gen object: linked link_a+link_b runs alike in the VM and the kernel: ${vm}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
