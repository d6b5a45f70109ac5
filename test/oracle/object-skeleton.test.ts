// `bpfkit gen skeleton`: skeletons of the own corpus type-check under `tsc --strict` and drive the object in the VM:
// typed map lookups after program runs (VM, and the kernel through BPF_PROG_TEST_RUN when root), global variables read
// and written through the skeleton.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { generateSkeleton } from "../../src/cli/gen.ts";
import { loadObject } from "../../src/object/index.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

interface Prog { run(data: Uint8Array): { retval: bigint } }
interface XdpSkel {
  close?(): void;
  progs: { count_packets: Prog };
  maps: { counters: { lookup(k: number): bigint | undefined }; flows: { keys(): unknown[]; lookup(k: unknown): unknown } };
}
interface GlobalsSkel {
  progs: { filter_small: Prog };
  data: { seen: bigint };
  rodata: { threshold: number; banner: Uint8Array };
  bss: { dropped: bigint; histogram: number[] };
}

const RUNTIME = fileURLToPath(new URL("../../src/cli/gen.ts", import.meta.url));
const CODECS = fileURLToPath(new URL("../../src/object/skeleton-codecs.ts", import.meta.url));
const TSC = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));

test("generated skeletons type-check under tsc --strict and run the object in the VM and the kernel", async (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-skel-"));
  try {
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    for (const name of ["xdp_maps", "globals"]) {
      const o = built.find((b) => b.name === name)!;
      const bytes = new Uint8Array(readFileSync(o.path));
      writeFileSync(join(dir, `${name}.skel.ts`), generateSkeleton(loadObject(bytes, { fileName: o.path }), bytes, `${name}.bpf.o`, RUNTIME, CODECS));
    }
    writeFileSync(join(dir, "use.ts"), [
      'import { open as openXdp } from "./xdp_maps.skel.ts";',
      'import { open as openGlobals } from "./globals.skel.ts";',
      "const x = await openXdp();",
      "const n: bigint | undefined = x.maps.counters.lookup(1);",
      "const keys = x.maps.flows.keys();",
      "const sport: number | undefined = keys[0]?.sport;",
      "const g = await openGlobals();",
      "g.rodata.threshold = 3;",
      "const dropped: bigint = g.bss.dropped;",
      "const hist: number[] = g.bss.histogram;",
      "export { n, sport, dropped, hist };",
      "",
    ].join("\n"));
    const tsc = spawnSync(process.execPath, [TSC, "--noEmit", "--strict", "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext",
      "--allowImportingTsExtensions", "--verbatimModuleSyntax", "--skipLibCheck", "--types", "node", join(dir, "use.ts")], { encoding: "utf8" });
    assert.equal(tsc.status, 0, `tsc --strict failed:\n${tsc.stdout}${tsc.stderr}`);

    const xdp = (await import(pathToFileURL(join(dir, "xdp_maps.skel.ts")).href)) as { open(backend?: "vm" | "kernel"): Promise<XdpSkel> };
    const skel = await xdp.open();
    const big = new Uint8Array(200), small = new Uint8Array(60);
    for (const p of [big, big, small]) assert.equal(skel.progs.count_packets.run(p).retval, 2n); // XDP_PASS
    assert.equal(skel.maps.counters.lookup(1), 2n); // both 200-byte packets (counted before the flow lookup)
    assert.equal(skel.maps.counters.lookup(0), 1n);
    const [key] = skel.maps.flows.keys();
    assert.deepEqual(skel.maps.flows.lookup(key!), { packets: 2n, bytes: 260n });

    // the same skeleton against the kernel: BPF_PROG_TEST_RUN and the kernel's maps
    if (process.getuid?.() !== 0) {
      console.log("SKIP kernel backend: needs root");
    } else {
      const k = await xdp.open("kernel");
      try {
        for (const p of [big, big, small]) assert.equal(k.progs.count_packets.run(p).retval, 2n);
        assert.equal(k.maps.counters.lookup(1), 2n);
        const [kk] = k.maps.flows.keys();
        assert.deepEqual(k.maps.flows.lookup(kk!), { packets: 2n, bytes: 260n });
      } finally {
        k.close?.();
      }
    }

    const globals = (await import(pathToFileURL(join(dir, "globals.skel.ts")).href)) as { open(b?: string, init?: unknown): Promise<GlobalsSkel> };
    const g = await globals.open("vm", { rodata: { threshold: 1000 } });
    assert.equal(g.data.seen, 1n);
    // .rodata set before load (libbpf's open-then-load: it is frozen once loaded); the rest keeps its initial value
    assert.equal(g.rodata.threshold, 1000);
    assert.deepEqual([...g.rodata.banner], [...new TextEncoder().encode("bpfkit"), 0, 0]);
    assert.throws(() => { g.rodata.threshold = 5; }, /EPERM/);
    // a packet shorter than the threshold is dropped and counted
    assert.equal(g.progs.filter_small.run(new Uint8Array(100)).retval, 0n);
    assert.equal(g.bss.dropped, 1n);
    assert.equal(g.bss.histogram[1], 1);
    assert.equal(g.data.seen, 2n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
