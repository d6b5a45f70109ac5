// Running many `bpfkit` command lines for CLI differentials: one process for all of them (cli-batch.ts).
import { spawnSync } from "node:child_process";

/** Runs every line through bpfkit's CLI in one process (test/oracle/cli-batch.ts). */
export function runBpfkitLines(lines: readonly string[][], env: Record<string, string> = {}, wrap: readonly string[] = []): { stdout: string; stderr: string; status: number }[] {
  const driver = new URL("./cli-batch.ts", import.meta.url).pathname;
  // `wrap`: a command to run the driver under (e.g. nsenter into a network namespace)
  const argv = [process.execPath, "--import", "tsx", driver];
  const r = spawnSync(wrap[0] ?? argv[0]!, [...wrap.slice(1), ...(wrap.length ? argv : argv.slice(1))], { input: JSON.stringify(lines), encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`cli-batch failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { stdout: string; stderr: string; status: number }[];
}

/** The id of the first map of a pinned program (the perf event array of the bpftool fixtures' tc_emit), via bpftool. */
export function eventsMapId(progPin: string): string {
  const r = spawnSync("bpftool", ["-j", "prog", "show", "pinned", progPin], { encoding: "utf8" });
  return String((JSON.parse(r.stdout) as { map_ids: number[] }).map_ids[0]);
}
