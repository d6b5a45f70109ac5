// `bpfkit tools bitehist` (BCC's bitehist: block I/O sizes in kbytes, printed at Ctrl-C or after INTERVAL seconds) and
// `bpfkit tools lostupdates [PROCS [CALLS]]` (the seed's per-CPU count next to a shared hash's ++, and the difference).
import { listingUnavailable } from "../kernel/tool-args.ts";

const USAGE = "usage: bpfkit tools bitehist [SECONDS] | bpfkit tools lostupdates [--vm] [PROCS|CPUS [CALLS_EACH]]";

export default async function tools(args: string[]): Promise<number> {
  const [tool, ...rest0] = args;
  const vmMode = rest0.includes("--vm");
  const rest = rest0.filter((a) => a !== "--vm");
  if (tool !== "bitehist" && tool !== "lostupdates") {
    console.error(`bpfkit tools: ${tool === undefined ? "which tool?" : `unknown tool '${tool}'`}\n${USAGE}`);
    return 1;
  }
  if (rest.some((n) => !/^\d+$/.test(n) || n === "0")) { console.error(`bpfkit tools: bad arguments '${rest.join(" ")}'\n${USAGE}`); return 1; }
  if (tool === "lostupdates" && vmMode) {
    const { runLostUpdatesVm } = await import("../node/trace-cpus.ts");
    const { formatLostUpdates } = await import("../kernel/lostupdates.ts");
    const r = await runLostUpdatesVm(rest[0] ? Number(rest[0]) : 2, rest[1] ? Number(rest[1]) : 200000);
    process.stdout.write(formatLostUpdates(r).replace("busy processes", "VM worker CPUs").replace("getppid() calls", "events"));
    return 0;
  }
  const why = listingUnavailable();
  if (why !== undefined) { console.error(`bpfkit tools: ${why}`); return 1; }
  if (tool === "lostupdates") {
    const { runLostUpdates, formatLostUpdates } = await import("../kernel/lostupdates.ts");
    const { onlineCpuCount } = await import("../kernel/trace.ts");
    const procs = rest[0] ? Number(rest[0]) : onlineCpuCount();
    const r = await runLostUpdates(procs, rest[1] ? Number(rest[1]) : 200000);
    process.stdout.write(formatLostUpdates(r));
    return 0;
  }
  const { startBitesize } = await import("../kernel/bitesize.ts");
  const run = startBitesize("bcc");
  console.log("Tracing block I/O... Hit Ctrl-C to end.");
  await new Promise<void>((resolve) => {
    const finish = () => { process.off("SIGINT", finish); clearTimeout(timer); resolve(); };
    const timer = setTimeout(finish, rest[0] ? Number(rest[0]) * 1000 : 2 ** 31 - 1);
    process.on("SIGINT", finish);
  });
  process.stdout.write(`\n${run.format(run.takeCounts())}`);
  run.close();
  return 0;
}
