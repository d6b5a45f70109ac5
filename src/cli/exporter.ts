// `bpfkit exporter --config.dir=DIR --config.names=a,b [--web.listen-address=:9435] [--web.telemetry-path=/metrics]
// [--vm [--vm.replay=FILE]]`: ebpf_exporter's flags and configs; loads DIR/NAME.bpf.o for each NAME.yaml into the kernel
// (or bpfkit's VM, fed with replayed tracepoint events), attaches its programs and serves the maps as metrics until
// SIGINT/SIGTERM. A NAME.bt is a bpftrace script whose count/sum/hist maps are served (NAME.yaml, if any, names them).
import { BpfError } from "../errors.ts";

const USAGE = "usage: bpfkit exporter --config.dir=DIR --config.names=NAME[,NAME...] [--web.listen-address=HOST:PORT] [--web.telemetry-path=/metrics] [--vm [--vm.replay=EVENTS.jsonl]] [--otlp=URL [--otlp.interval=SECONDS]]";

function parseFlags(args: string[]): Map<string, string> {
  const known = new Set(["config.dir", "config.names", "web.listen-address", "web.telemetry-path", "vm", "vm.replay", "otlp", "otlp.interval", "debug"]);
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z.-]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m || !known.has(m[1]!)) throw new BpfError("EINVAL", `unknown flag '${args[i]}'\n${USAGE}`);
    const flag = m[1]!;
    if (flag === "vm" || flag === "debug") { out.set(flag, m[2] ?? "true"); continue; }
    const v = m[2] ?? args[++i];
    if (v === undefined) throw new BpfError("EINVAL", `flag --${flag} needs a value\n${USAGE}`);
    out.set(flag, v);
  }
  return out;
}

export default async function exporter(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) { console.log(USAGE); return 0; }
  const flags = parseFlags(args);
  const dir = flags.get("config.dir") ?? ".";
  const names = (flags.get("config.names") ?? "").split(",").filter(Boolean);
  const { readConfigs, Exporter, machineEnv, startServer, parseListenAddress } = await import("../exporter/index.ts");
  const addr = parseListenAddress(flags.get("web.listen-address") ?? ":9435");
  if (names.length === 0) readConfigs(dir, names); // the "no configs named" error
  const { openConfigSource, parseReplay, replay, openBpftraceConfig } = await import("../exporter/index.ts");
  const { linux } = await import("../kernel/backend.ts");
  let backend;
  let sys;
  if (flags.has("vm")) {
    const { System } = await import("../runtime/index.ts");
    const { cpus } = await import("node:os");
    // CO-RE in the objects resolves against this machine's kernel BTF when there is one
    backend = sys = new System({ nCpus: Math.max(1, cpus().length), kernelBtf: linux.kernelBtf() });
  } else {
    const { listingUnavailable } = await import("../kernel/tool-args.ts");
    const why = listingUnavailable();
    if (why !== undefined) throw new BpfError("EPERM", why);
    backend = linux;
  }
  // NAME.bt: a bpftrace script whose count/sum/hist maps are the metrics (a NAME.yaml beside it names them)
  const { linuxProbeEnv } = await import("../kernel/trace.ts");
  const perfBuffer = await perfBufferOf(backend);
  const traces = new Map<string, Awaited<ReturnType<typeof openBpftraceConfig>>>();
  try {
    for (const n of names) {
      const t = openBpftraceConfig(dir, n, linuxProbeEnv(), backend, perfBuffer);
      if (t) traces.set(n, t);
    }
  } catch (e) {
    for (const t of traces.values()) t?.source.close();
    throw e;
  }
  const configs = names.map((n) => traces.get(n)?.config ?? readConfigs(dir, [n])[0]!);
  for (const c of configs) for (const w of c.warnings) console.error(`bpfkit exporter: ${w}`);
  const sources = [];
  try {
    for (const c of configs) sources.push(traces.get(c.name)?.source ?? openConfigSource(backend, c, dir));
  } catch (e) {
    for (const s of sources) s.close();
    throw e;
  }
  const replayFile = flags.get("vm.replay");
  if (replayFile !== undefined) {
    if (sys === undefined) throw new BpfError("EINVAL", "--vm.replay needs --vm");
    const { readFileSync } = await import("node:fs");
    const events = parseReplay(readFileSync(replayFile, "utf8"), replayFile);
    const runs = replay(sys, events);
    console.error(`bpfkit exporter: replayed ${replayFile} into the VM (${runs} program runs)`);
  }
  for (const s of sources) for (const w of s.attachErrors) console.error(`bpfkit exporter: ${w}`);
  const ex = new Exporter(configs, sources, machineEnv());
  ex.log = (line) => console.error(`bpfkit exporter: ${line}`);
  let server;
  try {
    server = await startServer(ex, addr, flags.get("web.telemetry-path") ?? "/metrics");
  } catch (e) {
    ex.close();
    throw e;
  }
  let push: { stop(): Promise<void> } | undefined;
  const otlpUrl = flags.get("otlp");
  if (otlpUrl !== undefined) {
    const seconds = Number(flags.get("otlp.interval") ?? "15");
    if (!(seconds > 0)) throw new BpfError("EINVAL", `--otlp.interval: '${flags.get("otlp.interval")}' is not a positive number of seconds`);
    const { startOtlpPush } = await import("../exporter/otlp.ts");
    push = startOtlpPush(ex, otlpUrl, seconds * 1000, ex.log);
  }
  const a = server.address();
  console.error(`bpfkit exporter: listening on ${typeof a === "object" && a ? `${a.address}:${a.port}` : String(a)} (configs: ${names.join(", ")})`);
  await new Promise<void>((resolve) => {
    const stop = () => { process.off("SIGINT", stop); process.off("SIGTERM", stop); resolve(); };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await push?.stop();
  server.close();
  server.closeAllConnections();
  ex.close();
  return 0;
}

/** The tracer's perf buffer reader for `backend`: mmap'd rings on Linux, the VM's own buffers otherwise. */
async function perfBufferOf(backend: import("../runtime/index.ts").Backend): Promise<import("../trace/session.ts").TraceSessionOptions["perfBuffer"]> {
  if (backend.kind === "vm") {
    const { openPerfBuffer } = await import("../runtime/index.ts");
    const sys = backend as import("../runtime/index.ts").System;
    return (fd, onRecord) => { const b = openPerfBuffer(sys, fd, 64); return { consume: () => { b.consume((d) => onRecord(d)); }, close() {} }; };
  }
  const { PerfBufferReader } = await import("../kernel/perfbuf.ts");
  return (fd, onRecord) => new PerfBufferReader(fd, (_cpu, s) => onRecord(s), 64);
}
