// `bpftool perf [show|list]`: every (pid, fd) on the system that attaches a BPF program to a perf event or raw
// tracepoint, found by BPF_TASK_FD_QUERY over /proc/PID/fd as bpftool 7.1 does, in /proc's order (ascending pids,
// ascending fds), printed in its plain or JSON form.
import { readdirSync } from "node:fs";
import { taskFdQuery } from "./bpf.ts";
import { Printer, type OutputMode, type ToolOutput } from "./listing.ts";

const FD_TYPES = ["raw_tracepoint", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe"];

function numericEntries(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

export function perfShow(mode: OutputMode, args: readonly string[]): ToolOutput {
  const out = new Printer(mode);
  if (args.length) {
    out.error(`what is '${args[0]}'?`);
    return out.result();
  }
  const j = out.json;
  if (j) j.startArray();
  for (const pid of numericEntries("/proc")) {
    for (const fd of numericEntries(`/proc/${pid}/fd`)) {
      const q = taskFdQuery(pid, fd);
      if (q === undefined) continue;
      const kind = FD_TYPES[q.fdType];
      if (j) {
        j.startObject().field("pid", pid).field("fd", fd).field("prog_id", q.progId);
        if (kind === "raw_tracepoint" || kind === "tracepoint") j.field("fd_type", kind).field("tracepoint", q.name);
        else if (kind === "kprobe" || kind === "kretprobe") {
          j.field("fd_type", kind);
          if (q.name) j.field("func", q.name).field("offset", q.probeOffset);
          else j.field("addr", q.probeAddr);
        } else if (kind === "uprobe" || kind === "uretprobe") {
          j.field("fd_type", kind).field("filename", q.name).field("offset", q.probeOffset);
        }
        j.endObject();
        continue;
      }
      let s = `pid ${pid}  fd ${fd}: prog_id ${q.progId}  `;
      if (kind === "raw_tracepoint" || kind === "tracepoint") s += `${kind}  ${q.name}\n`;
      else if (kind === "kprobe" || kind === "kretprobe") {
        s += q.name ? `${kind}  func ${q.name}  offset ${q.probeOffset}\n` : `${kind}  addr ${q.probeAddr}\n`;
      } else if (kind === "uprobe" || kind === "uretprobe") s += `${kind}  filename ${q.name}  offset ${q.probeOffset}\n`;
      out.print(s);
    }
  }
  if (j) j.endArray();
  return out.result();
}
