// Start-up of the `bpfkit` command, whole process, as a user gets it: the packed tarball (`npm pack`) installed into an
// empty project in the temp dir (offline, from npm's cache), then `./node_modules/.bin/bpfkit filter -d ip` (the
// bundled CLI, dist/cli-bundle/) and `npx bpfkit filter -d ip` there, next to `tcpdump -d ip`, an empty `node -e 0`
// and `npx node -e 0` (npx's own start-up), plus this checkout's unbundled dist/cli/ and its TypeScript sources
// through tsx, all interleaved in the same run. Wall time is the median of ROUNDS; CPU is user+sys (from
// /usr/bin/time when installed). The target is < 0.25 s wall; the table also splits npx's overhead from bpfkit's.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/bpfkit.mjs", import.meta.url));
const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 11);
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

interface Sample { wall: number; cpu: number }

function once(cmd: string[], cwd: string, env: NodeJS.ProcessEnv): Sample {
  const argv = TIME ? [TIME, "-f", "@@ %U %S", ...cmd] : cmd;
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const m = /@@ ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** The tarball installed into a scratch project (offline); undefined, with the reason printed, when that fails. */
function installTarball(dir: string): string | undefined {
  const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" });
  const tgz = pack.stdout.trim().split("\n").pop();
  if (pack.status !== 0 || !tgz) { console.log(`npm pack failed, no installed-package rows: ${pack.stderr}`); return undefined; }
  const proj = join(dir, "project");
  mkdirSync(proj);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  const inst = spawnSync("npm", ["install", "--offline", "--ignore-scripts", "--omit=optional", "--no-audit", "--no-fund", join(dir, tgz)], { cwd: proj, encoding: "utf8" });
  if (inst.status !== 0) { console.log(`npm install of the tarball failed (offline), no installed-package rows: ${inst.stderr.split("\n")[0]}`); return undefined; }
  return proj;
}

export async function main(): Promise<void> {
  if (!existsSync(new URL("../dist/cli-bundle/main.js", import.meta.url))) {
    console.log("dist/ or its CLI bundle is missing: building it first (npm run build)");
    spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  }
  const env = { ...process.env, BPFKIT_FROM_SOURCE: "" };
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-startup-"));
  try {
    const proj = installTarball(dir);
    // this checkout's dist/cli/ without the bundle: main.js imported as bin/bpfkit.mjs would
    const unbundled = join(dir, "unbundled.mjs");
    writeFileSync(unbundled, `const { main } = await import(${JSON.stringify(new URL("../dist/cli/main.js", import.meta.url).href)});\n` +
      "process.exitCode = await main(process.argv.slice(2));\n");
    const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
    const cases: { name: string; cmd: string[]; cwd: string; env: NodeJS.ProcessEnv }[] = [];
    const add = (name: string, cmd: string[], cwd = ROOT, e = env): void => { cases.push({ name, cmd, cwd, env: e }); };
    if (proj) {
      add("installed: node_modules/.bin/bpfkit filter -d ip", [join(proj, "node_modules/.bin/bpfkit"), "filter", "-d", "ip"], proj);
      add("installed: npx bpfkit filter -d ip", ["npx", "--no-install", "bpfkit", "filter", "-d", "ip"], proj);
    }
    add("checkout: dist/cli/ unbundled", [process.execPath, unbundled, "filter", "-d", "ip"]);
    add("checkout: src/ through tsx", [process.execPath, BIN, "filter", "-d", "ip"], ROOT, { ...env, BPFKIT_FROM_SOURCE: "1" });
    add("node -e 0 (Node's own start-up)", [process.execPath, "-e", "0"]);
    if (proj) add("npx node -e 0 (npx's own start-up)", ["npx", "--no-install", "node", "-e", "0"], proj);
    if (haveTcpdump) add("tcpdump -d ip", ["tcpdump", "-d", "ip"]);
    else console.log("tcpdump not installed: no native peer in this run");
    const samples = cases.map(() => [] as Sample[]);
    for (const c of cases) once(c.cmd, c.cwd, c.env); // warm the file cache
    for (let r = 0; r < ROUNDS; r++) cases.forEach((c, i) => samples[i]!.push(once(c.cmd, c.cwd, c.env)));
    const wallOf = (name: string): number => {
      const i = cases.findIndex((c) => c.name.startsWith(name));
      return i < 0 ? NaN : median(samples[i]!.map((s) => s.wall));
    };
    const peer = wallOf("tcpdump");
    console.log(`${"command".padEnd(52)} ${"wall s".padStart(8)} ${"cpu s".padStart(8)} ${"× tcpdump".padStart(10)}`);
    cases.forEach((c, i) => {
      const wall = median(samples[i]!.map((s) => s.wall));
      const cpu = median(samples[i]!.map((s) => s.cpu));
      console.log(`${c.name.padEnd(52)} ${wall.toFixed(3).padStart(8)} ${cpu.toFixed(3).padStart(8)} ${(wall / peer).toFixed(1).padStart(10)}`);
    });
    const node = wallOf("node -e 0"), bin = wallOf("installed: node_modules"), npx = wallOf("installed: npx bpfkit");
    const npxAlone = wallOf("npx node") - node;
    console.log(`(median of ${ROUNDS} interleaved runs each; target < 0.25 s wall)`);
    console.log(`bpfkit's own share beyond Node's start-up: ${(bin - node).toFixed(3)} s installed (bundled), ` +
      `${(wallOf("checkout: dist/cli/") - node).toFixed(3)} s unbundled`);
    console.log(`npx's own overhead: ${(npx - bin).toFixed(3)} s (npx bpfkit − the bin), ${npxAlone.toFixed(3)} s (npx node −e 0 − node −e 0): ` +
      `${Math.min(npx - bin, npxAlone) > 0.25 ? "alone above" : "within"} the 0.25 s budget`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
