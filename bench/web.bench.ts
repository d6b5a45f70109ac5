// The playground's speed in a real browser tab next to the same work in Node, same run: verify a 1,000-instruction
// program and draw its CFG (verifier + Graphviz-wasm layout to SVG), and filter a 100k-packet capture (the page's
// worker CPUs when cross-origin isolated and its main thread; Node's `bpfkit filter -r F --count` in process and the
// page's own function run under Node). Median of 5 after a warm-up. Skips with a message without chromium or the web
// dev dependencies.
import { performance } from "node:perf_hooks";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "./filter.bench.ts";

const PACKETS = 100_000;
const EXPR = "tcp[tcpflags] & tcp-syn != 0 and port 80";
const TRACE_EVENTS = 20_000;
const TRACE_BENCH = "tracepoint:block:block_rq_issue { @bytes = hist(args->bytes); @ios[args->comm] = count(); }";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeIt(n: number, f: () => Promise<unknown> | unknown): Promise<number> {
  await f();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(); xs.push(performance.now() - t); }
  return median(xs);
}

export async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) { console.log(`web: SKIP, chromium not found at ${CHROMIUM}`); return; }
  let chromium: typeof import("playwright-core").chromium, buildWeb: typeof import("../web/build.ts").buildWeb;
  try {
    ({ chromium } = await import("playwright-core"));
    ({ buildWeb } = await import("../web/build.ts"));
  } catch (e) { console.log(`web: SKIP, web dev dependencies missing (${(e as Error).message.split("\n")[0]})`); return; }
  const P = await import("../web/src/playground.ts");
  const { serveStatic } = await import("../src/cli/web.ts");
  const { default: filter } = await import("../src/cli/filter.ts");
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-web-bench-"));
  const pcap = join(dir, "bench.pcap");
  writeFileSync(pcap, generate(PACKETS));
  console.log(`web: build`);
  await buildWeb(join(dir, "dist"));
  const server = await serveStatic(join(dir, "dist"), { extra: { "/bench.pcap": pcap } });
  const ctx = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = ctx.pages()[0] ?? await ctx.newPage();
    const t0 = performance.now();
    await page.goto(server.url);
    const paintOf = () => page.evaluate(`new Promise((r) => new PerformanceObserver((l) => r(l.getEntries().find((e) => e.name === "first-contentful-paint")?.startTime ?? -1)).observe({ type: "paint", buffered: true }))`) as Promise<number>;
    const paint = await paintOf();
    await page.waitForSelector("body[data-ready='1']");
    const ready = performance.now() - t0;
    await page.reload();
    const warm = await paintOf();
    await page.waitForSelector("body[data-ready='1']");
    console.log(`  first contentful paint ${paint.toFixed(0)} ms (fresh profile), ${warm.toFixed(0)} ms (reload); page ready with both CFGs drawn ${ready.toFixed(0)} ms`);

    const asm = P.syntheticProgram(1000);
    // a string, not a function: tsx's name-keeping helpers do not exist in the page
    const inPage = (await page.evaluate(`(async () => {
      const hook = globalThis.bpfkitPage, src = ${JSON.stringify(asm)}, expr = ${JSON.stringify(EXPR)};
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const time = async (f) => { await f(); const xs = []; for (let i = 0; i < 5; i++) { const t = performance.now(); await f(); xs.push(performance.now() - t); } return med(xs); };
      let nodes = 0, matched = 0, cpus = 0;
      const verify = await time(async () => { nodes = await hook.verifyAndDraw(src); });
      const verifyOnly = await time(() => hook.verifyOnly(src));
      const bytes = new Uint8Array(await (await fetch("/bench.pcap")).arrayBuffer());
      const workers = await time(async () => { const r = await hook.filterBytes(bytes, expr, true); matched = r.matched; cpus = r.cpus; });
      const one = await time(() => hook.filterOneCpu(bytes, expr));
      const traceSrc = ${JSON.stringify(TRACE_BENCH)};
      const trace = await time(() => hook.traceEvents(traceSrc, ${TRACE_EVENTS}));
      return { verify, verifyOnly, nodes, workers, one, matched, cpus, trace, isolated: globalThis.crossOriginIsolated };
    })()`)) as { verify: number; verifyOnly: number; nodes: number; workers: number; one: number; matched: number; cpus: number; trace: number; isolated: boolean };

    const { instance } = await import("@viz-js/viz");
    const viz = await instance();
    const nodeVerify = await timeIt(5, () => {
      const v = P.verifySource({ asm, fileName: "bench.s" }, 0, 1);
      return viz.renderString(v.units[0]!.dot, { format: "svg", nodeAttributes: { fontname: "Courier", fontsize: 11 } });
    });
    const nodeVerifyOnly = await timeIt(5, () => P.verifySource({ asm, fileName: "bench.s" }, 0, 1));
    const bytes = new Uint8Array(readFileSync(pcap));
    const nodeFn = await timeIt(5, () => P.filterCapture(bytes, EXPR));
    const quiet = async () => {
      const w = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try { await filter(["-r", pcap, "--count", EXPR]); } finally { process.stdout.write = w; process.stderr.write = e; }
    };
    const nodeCli = await timeIt(5, quiet);
    const nodeTrace = await timeIt(5, () => P.traceScript(TRACE_BENCH, TRACE_EVENTS));
    const row = (what: string, page: number, node: number, note = "") =>
      console.log(`  ${what.padEnd(58)} page ${page.toFixed(1).padStart(8)} ms   node ${node.toFixed(1).padStart(8)} ms   page/node ${(page / node).toFixed(2)}x${note}`);
    row(`verify + draw CFG, 1,000 insns (${inPage.nodes} SVG nodes)`, inPage.verify, nodeVerify);
    row(`  of which verify (+ disassembly, DOT text)`, inPage.verifyOnly, nodeVerifyOnly);
    row(`filter ${PACKETS / 1000}k packets, page main thread vs same fn in node`, inPage.one, nodeFn, ` (${inPage.matched} matched)`);
    row(`filter ${PACKETS / 1000}k packets, page ${inPage.cpus} worker CPUs vs bpfkit filter -r --count`, inPage.workers, nodeCli,
      inPage.isolated ? "" : " (not isolated: one CPU)");
    row(`trace: hist()+count() script over ${TRACE_EVENTS / 1000}k block_rq_issue events`, inPage.trace, nodeTrace,
      `  (${(TRACE_EVENTS / inPage.trace / 1000).toFixed(2)}M vs ${(TRACE_EVENTS / nodeTrace / 1000).toFixed(2)}M events/s)`);
  } finally {
    await ctx.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
