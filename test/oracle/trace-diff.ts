// Shared by the bpftrace differential tests: what they need installed, the C compiler, running one script under
// Debian's bpftrace and under `bpfkit trace` (in process), and a small concurrency pool.
import { execFileSync, execFile } from "node:child_process";
import { nativeUnavailable } from "../../src/kernel/libc.ts";

export function compiler(): string | undefined {
  for (const c of ["cc", "gcc", "clang"]) {
    try { execFileSync("which", [c], { stdio: "ignore" }); return c; } catch { /* next */ }
  }
  return undefined;
}

/** why the differential cannot run here, or undefined */
export function missing(tools: readonly string[] = ["bpftrace", "taskset"]): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const n = nativeUnavailable();
  if (n) return n;
  for (const tool of tools) {
    try { execFileSync("which", [tool], { stdio: "ignore" }); } catch { return `${tool} not installed`; }
  }
  if (compiler() === undefined) return "no C compiler (cc, gcc or clang)";
  return undefined;
}

const RLIMIT = /^ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK.*\n/m;

/** bpftrace's stdout, and with `withStderr` its stderr after "[stderr]" (the RLIMIT_MEMLOCK notice removed) */
export function runBpftrace(script: string, cmd: string | undefined, json: boolean, withStderr = false, extra: readonly string[] = []): Promise<string> {
  return new Promise((res) => {
    execFile("bpftrace", [...extra, ...(json ? ["-f", "json"] : []), "-e", script, ...(cmd ? ["-c", cmd] : [])], { timeout: 30000 }, (_e, stdout, stderr) => {
      const err = stderr.replace(RLIMIT, "");
      res(withStderr ? stdout + (err ? `\n[stderr]\n${err}` : "") : stdout);
    });
  });
}

export async function runBpfkit(script: string, cmd: string | undefined, json: boolean, unsafe = false): Promise<string> {
  const { runTrace } = await import("../../src/kernel/trace.ts");
  let out = "", err = "";
  try {
    await runTrace({ source: script, filename: "stdin", cmd, unsafe, mode: json ? "json" : "text", out: (s) => { out += s; }, err: (s) => { err += s; } });
  } catch (e) {
    err += `thrown: ${(e as Error).message}\n${((e as { log?: string }).log ?? "").split("\n").slice(-6).join("\n")}`;
  }
  return out + (err ? `\n[stderr]\n${err}` : "");
}

export async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await f(items[i++]!); }));
}
