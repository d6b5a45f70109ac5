// `prog tracelog`: the kernel's trace pipe (bpf_trace_printk output) streamed to stdout line by line, as bpftool's
// do_tracelog does — a JSON array of strings under -j, closed when SIGINT, SIGTERM or SIGHUP ends the stream.
import { createReadStream, existsSync } from "node:fs";
import { JsonWriter } from "./json-writer.ts";
import type { ToolArgs } from "./tool-args.ts";

const PIPES = ["/sys/kernel/tracing/trace_pipe", "/sys/kernel/debug/tracing/trace_pipe"];

export function tracelog(a: ToolArgs): Promise<number> {
  const pipe = PIPES.find((p) => existsSync(p));
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
  return new Promise((resolve) => {
    const stream = createReadStream(pipe, { encoding: "utf8", highWaterMark: 4096 });
    let partial = "";
    const finish = (code: number) => {
      for (const s of SIGNALS) process.removeListener(s, onSignal);
      stream.destroy();
      if (j) process.stdout.write(j.endArray().finish());
      resolve(code);
    };
    const onSignal = () => finish(0);
    const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const s of SIGNALS) process.on(s, onSignal);
    stream.on("data", (chunk: string | Buffer) => {
      partial += String(chunk);
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, nl + 1);
        partial = partial.slice(nl + 1);
        if (j) { j.string(line); process.stdout.write(j.take()); }
        else process.stdout.write(line);
      }
    });
    stream.on("error", (e: NodeJS.ErrnoException) => {
      process.stderr.write(`Error: could not open trace pipe: ${e.message}\n`);
      finish(255);
    });
  });
}
