// Start-up of the `bpfkit` command, whole process: `bpfkit filter -d ip` run from the compiled dist/ (as installed
// from npm), from the TypeScript sources through tsx (a checkout without a build), and through `npx`, next to
// `tcpdump -d ip` and an empty `node -e 0`, interleaved in the same run. Wall time is the median of ROUNDS; CPU is
// user+sys (from /usr/bin/time when installed). The target is < 0.25 s wall for the compiled command.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/bpfkit.mjs", import.meta.url));
const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 11);
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

interface Sample { wall: number; cpu: number }

function once(cmd: string[], env: NodeJS.ProcessEnv): Sample {
  const argv = TIME ? [TIME, "-f", "@@ %U %S", ...cmd] : cmd;
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, env, encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const m = /@@ ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(): Promise<void> {
  if (!existsSync(new URL("../dist/cli/main.js", import.meta.url))) {
    console.log("dist/ is missing: building it first (npm run build)");
    spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  }
  const env = { ...process.env, BPFKIT_FROM_SOURCE: "" };
  const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
  const cases: [string, string[], NodeJS.ProcessEnv][] = [
    ["bpfkit filter -d ip (dist/, compiled)", [process.execPath, BIN, "filter", "-d", "ip"], env],
    ["bpfkit filter -d ip (src/ through tsx)", [process.execPath, BIN, "filter", "-d", "ip"], { ...env, BPFKIT_FROM_SOURCE: "1" }],
    ["npx bpfkit filter -d ip (dist/)", ["npx", "--no-install", "bpfkit", "filter", "-d", "ip"], env],
    ["node -e 0 (Node's own start-up)", [process.execPath, "-e", "0"], env],
  ];
  if (haveTcpdump) cases.push(["tcpdump -d ip", ["tcpdump", "-d", "ip"], env]);
  else console.log("tcpdump not installed: no native peer in this run");
  const samples = cases.map(() => [] as Sample[]);
  for (const [, cmd, e] of cases) once(cmd, e); // warm the file cache
  for (let r = 0; r < ROUNDS; r++) cases.forEach(([, cmd, e], i) => samples[i]!.push(once(cmd, e)));
  const peer = haveTcpdump ? median(samples[cases.length - 1]!.map((s) => s.wall)) : NaN;
  console.log(`${"command".padEnd(42)} ${"wall s".padStart(8)} ${"cpu s".padStart(8)} ${"× tcpdump".padStart(10)}`);
  cases.forEach(([name], i) => {
    const wall = median(samples[i]!.map((s) => s.wall));
    const cpu = median(samples[i]!.map((s) => s.cpu));
    console.log(`${name.padEnd(42)} ${wall.toFixed(3).padStart(8)} ${cpu.toFixed(3).padStart(8)} ${(wall / peer).toFixed(1).padStart(10)}`);
  });
  const bare = median(samples[3]!.map((s) => s.wall));
  const compiled = median(samples[0]!.map((s) => s.wall));
  console.log(`(median of ${ROUNDS} interleaved runs each; target: compiled bpfkit < 0.25 s wall; ` +
    `bpfkit's own share beyond Node's start-up: ${(compiled - bare).toFixed(3)} s)`);
}
