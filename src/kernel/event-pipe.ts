// `map event_pipe MAP [cpu N index M]`: a perf event array's samples streamed as bpftool's do_event_pipe prints them —
// `== @SEC.NSEC CPU: C index: I =====` and the bytes in fprint_hex's layout, or one JSON object per sample under -j —
// until SIGINT, SIGTERM or SIGHUP ("Stopping..." on stderr, exit 0). Linux only: the VM keeps no perf rings across
// commands.
import { strerror } from "./libc.ts";
import { Printer, type OutputMode, isPrefix, parseId } from "./listing.ts";
import { Stop, errnoOf, fail, oneFd } from "./map-commands.ts";
import { fprintHex } from "./map-dump.ts";
import { PerfBufferReader } from "./perfbuf.ts";
import { JsonWriter } from "./json-writer.ts";

const PERF_EVENT_ARRAY = 4;
const PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;

export async function eventPipe(mode: OutputMode, words: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const out = new Printer(mode);
  let fd: number | undefined;
  let cpu = -1, index = -1, all = true;
  try {
    if (words.length < 2) fail(out, words.length === 0 ? "expected 'id', 'name' or 'pinned', got: '(null)'?" : `'${words[0]}' needs at least 2 arguments`);
    fd = oneFd(out, "map", words);
    if (out.b.mapInfo(fd).type !== PERF_EVENT_ARRAY) fail(out, "map is not a perf event array");
    const w = words.slice(2);
    while (w.length) {
      if (w.length < 2) fail(out, `what is '${w[0]}'?`);
      const v = parseId(w[1]!);
      if (isPrefix(w[0], "cpu")) {
        if (v === undefined) fail(out, `can't parse ${w[1]} as CPU ID`);
        cpu = v | 0;
      } else if (isPrefix(w[0], "index")) {
        if (v === undefined) fail(out, `can't parse ${w[1]} as index`);
        index = v | 0;
      } else fail(out, `what is '${w[0]}'?`);
      w.splice(0, 2);
      all = false;
    }
    if (!all && (cpu === -1 || index === -1)) fail(out, "cpu and index must be specified together");
    if (out.b.kind !== "linux") fail(out, "failed to create perf buffer: bpfkit's VM keeps no perf rings between commands (95)");
  } catch (e) {
    if (fd !== undefined) out.b.close(fd);
    if (e instanceof Stop) return out.result(e.code);
    throw e;
  }
  const mapFd = fd;
  // streamed: each sample is written as it arrives
  const j = mode.json ? new JsonWriter(mode.pretty) : undefined;
  const flushJson = () => { if (j) { const s = j.take(); if (s) process.stdout.write(s); } };
  const record = (type: number, cpu: number, idx: number, body: () => void) => {
    if (j) {
      j.startObject().name("type").raw(String(type)).name("cpu").raw(String(cpu)).name("index").raw(String(idx));
      body();
      j.endObject();
      flushJson();
    } else body();
  };
  let reader: PerfBufferReader;
  try {
    reader = new PerfBufferReader(mapFd, (c, sample, time) => {
      const idx = all ? c : index;
      record(PERF_RECORD_SAMPLE, c, idx, () => {
        const t = time ?? 0n;
        if (j) {
          j.name("timestamp").raw(String(t)).name("data").startArray();
          for (const b of sample) j.raw(String(b));
          j.endArray();
        } else {
          process.stdout.write(`== @${t / 1000000000n}.${String(t % 1000000000n).padStart(9, "0")} CPU: ${c} index: ${idx} =====\n${fprintHex(sample)}\n`);
        }
      });
    }, 16, {
      time: true,
      ...(all ? {} : { only: { cpu, index } }),
      onLost: (c, lost) => record(PERF_RECORD_LOST, c, all ? c : index, () => {
        if (j) j.name("lost").startObject().name("id").raw("0").name("count").raw(String(lost)).endObject();
        else process.stdout.write(`lost ${lost} events\n`);
      }),
    });
  } catch (e) {
    out.b.close(mapFd);
    const n = errnoOf(e);
    const ring = (e as { perfRing?: { cpu: number; index: number; fd: number } }).perfRing;
    if (ring) out.err += `libbpf: failed to set cpu #${ring.cpu}, key ${ring.index} -> perf FD ${ring.fd}: ${strerror(n)}\n`;
    out.error(`failed to create perf buffer: ${strerror(n)} (${n})`);
    return out.result(255);
  }
  j?.startArray();
  flushJson();
  reader.start();
  await new Promise<void>((resolve) => {
    const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const stop = () => {
      process.stderr.write("Stopping...\n");
      for (const s of SIGNALS) process.removeListener(s, stop);
      resolve();
    };
    for (const s of SIGNALS) process.on(s, stop);
  });
  reader.consume();
  reader.close();
  out.b.close(mapFd);
  if (j) process.stdout.write(j.endArray().finish());
  return { stdout: "", stderr: "", code: 0 };
}
