// Runs many `bpfkit` command lines in one process (start-up once, not per line) and prints, as JSON, what each wrote
// to stdout and stderr and the exit status it returned. Input: a JSON array of argv arrays on stdin. For CLI
// differentials with hundreds of lines, where a process per line would cost seconds each under load.
import { readFileSync } from "node:fs";
import { main } from "../../src/cli/main.ts";

const lines = JSON.parse(readFileSync(0, "utf8")) as string[][];
const results: { stdout: string; stderr: string; status: number }[] = [];
const out = process.stdout.write.bind(process.stdout);
for (const argv of lines) {
  let stdout = "", stderr = "";
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(argv);
  } catch (e) {
    stderr += `uncaught: ${String(e)}\n`;
    status = 70;
  }
  results.push({ stdout, stderr, status });
}
process.stdout.write = out;
out(JSON.stringify(results));
