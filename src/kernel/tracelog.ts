// `prog tracelog`: the kernel's trace pipe (bpf_trace_printk output) streamed to stdout line by line, as bpftool's
// do_tracelog does — a JSON array of strings under -j, closed when SIGINT, SIGTERM or SIGHUP ends the stream.
import { closeSync, constants, openSync, readFileSync, readSync, statfsSync } from "node:fs";
import { strerror, watchReadable } from "./libc.ts";
import { JsonWriter } from "./json-writer.ts";
import type { ToolArgs } from "./tool-args.ts";

const TRACEFS_MAGIC = 0x74726163;
// bpftool's known mount points, in its order, each taken only when tracefs is mounted there
const KNOWN_MOUNTS = ["/sys/kernel/debug/tracing", "/sys/kernel/tracing", "/tracing", "/trace"];

const isTracefs = (dir: string): boolean => {
  try { return statfsSync(dir).type === TRACEFS_MAGIC; } catch { return false; }
};

/** The trace pipe as bpftool finds it: a known mount point holding tracefs, else the first tracefs in /proc/mounts. */
function tracePipe(): string | undefined {
  let dir = KNOWN_MOUNTS.find(isTracefs);
  if (dir === undefined) {
    try {
      const m = /^\S+ (\S+) tracefs /m.exec(readFileSync("/proc/mounts", "utf8"));
      if (m && isTracefs(m[1]!)) dir = m[1]!;
    } catch { /* no /proc/mounts */ }
  }
  return dir === undefined ? undefined : `${dir}/trace_pipe`;
}

export function tracelog(a: ToolArgs): Promise<number> {
  const pipe = tracePipe();
  const j = a.json ? new JsonWriter(a.pretty) : undefined;
  const fail = (msg: string): number => {
    if (j) process.stdout.write(j.startObject().name("error").raw(`"${msg}"`).endObject().finish());
    else process.stderr.write(`Error: ${msg}\n`);
    return 255;
  };
  if (a.vm) return Promise.resolve(fail("the VM backend has no trace pipe: bpf_trace_printk output goes to `bpfkit run`'s stderr"));
  if (pipe === undefined) return Promise.resolve(fail("could not find tracefs"));
  j?.startArray();
  if (j) process.stdout.write(j.take());
  let fd: number;
  try {
    // non-blocking, read when poll says so: a blocked read could not be cancelled and would keep the process alive
    fd = openSync(pipe, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return Promise.resolve(fail(`could not open trace pipe: ${strerror((e as { errno?: number }).errno ? -(e as { errno: number }).errno : 2)}`));
  }
  return new Promise((resolve) => {
    const buf = Buffer.alloc(4096);
    let partial = "";
    const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const finish = (code: number) => {
      for (const s of SIGNALS) process.removeListener(s, onSignal);
      watch.close();
      closeSync(fd);
      if (j) process.stdout.write(j.endArray().finish());
      resolve(code);
    };
    const onSignal = () => finish(0);
    for (const s of SIGNALS) process.on(s, onSignal);
    const watch = watchReadable(fd, () => {
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf);
        } catch (e) {
          if ((e as { code?: string }).code === "EAGAIN") return;
          process.stderr.write(`Error: failed to read content from trace pipe: ${(e as Error).message}\n`);
          return finish(255);
        }
        if (n === 0) return;
        partial += buf.toString("latin1", 0, n);
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          const line = partial.slice(0, nl + 1);
          partial = partial.slice(nl + 1);
          // bytes as the kernel wrote them (latin1 maps each byte to one char and back)
          if (j) { j.string(line); process.stdout.write(Buffer.from(j.take(), "latin1")); }
          else process.stdout.write(Buffer.from(line, "latin1"));
        }
      }
    });
  });
}
