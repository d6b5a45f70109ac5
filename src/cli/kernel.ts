// `bpfkit kernel bitesize [--bcc] [INTERVAL [COUNT]]`: block I/O request sizes from a bpfkit-built program running in
// the kernel, printed each INTERVAL seconds like bpftrace's hist() (or BCC bitehist's table with --bcc).
import { listingUnavailable } from "../kernel/tool-args.ts";

const USAGE = "usage: bpfkit kernel bitesize [--bcc] [INTERVAL [COUNT]]";

export default async function kernel(args: string[]): Promise<number> {
  const [demo, ...rest] = args;
  if (demo !== "bitesize") {
    console.error(`bpfkit kernel: ${demo === undefined ? "which demo?" : `unknown demo '${demo}'`}\n${USAGE}`);
    return 1;
  }
  const bcc = rest.includes("--bcc");
  const nums = rest.filter((a) => a !== "--bcc");
  if (nums.some((n) => !/^\d+$/.test(n)) || nums.length > 2 || nums[0] === "0") {
    console.error(`bpfkit kernel: bad arguments '${nums.join(" ")}'\n${USAGE}`);
    return 1;
  }
  const interval = nums[0] === undefined ? 1 : Number(nums[0]);
  const count = nums[1] === undefined ? Infinity : Number(nums[1]);
  const why = listingUnavailable();
  if (why !== undefined) {
    console.error(`bpfkit kernel: ${why}`);
    return 1;
  }
  const { startBitesize } = await import("../kernel/bitesize.ts");
  const demoRun = startBitesize(bcc ? "bcc" : "bpftrace");
  console.error("Tracing block I/O sizes... Hit Ctrl-C to end.");
  let printed = 0;
  const print = () => {
    const text = demoRun.format(demoRun.takeCounts());
    process.stdout.write(bcc ? `\n${text}` : text);
    printed++;
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      print();
      if (printed >= count) finish();
    }, interval * 1000);
    const finish = () => {
      clearInterval(timer);
      process.off("SIGINT", onInt);
      resolve();
    };
    const onInt = () => { print(); finish(); };
    process.on("SIGINT", onInt);
  });
  demoRun.close();
  return 0;
}
