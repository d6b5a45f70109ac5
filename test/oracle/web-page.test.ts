// The playground page in a real browser (Debian's chromium driven by playwright-core): per tab, input typed into the
// page gives the text the `bpfkit` command prints for the same input (filter -d/-dd/-ddd, verify --explain, run),
// the CFG's SVG has one node per basic block with the failing path marked, a bpftrace script on the Trace tab prints
// what src/trace's VM run prints in Node, a corpus capture's match count equals
// `filter -r F --count`, the page is keyboard-usable and fits a 200% zoom, and no request leaves localhost.
// Screenshots of every tab go to tmp/web-artifacts/ (ignored by git). Skips visibly without chromium or the web build's
// dev dependencies (esbuild, playwright-core).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import type { BrowserContext, Page } from "playwright-core";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "tmp", "web-artifacts");
const PCAPS = join(ROOT, "..", "shared", "corpora", "pcaps");
const PCAP_DIR = existsSync(PCAPS) ? PCAPS : "/work/shared/corpora/pcaps";

let skip: string | undefined = existsSync(CHROMIUM) ? undefined : `chromium not found at ${CHROMIUM} (.ci/run installs it)`;
let ctx: BrowserContext | undefined;
let page: Page;
let server: { url: string; close(): Promise<void> } | undefined;
let dist = "";
const requests: string[] = [];
const work = mkdtempSync(join(tmpdir(), "bpfkit-web-"));

let lastStderr = "";

/** Runs a bpfkit command in this process with `work` as the current directory; returns what it printed on stdout
 * (stderr is kept in lastStderr). */
async function cli(args: string[]): Promise<string> {
  const { main } = await import("../../src/cli/main.ts");
  let out = "";
  const write = process.stdout.write.bind(process.stdout), ewrite = process.stderr.write.bind(process.stderr);
  const cwd = process.cwd();
  process.stdout.write = ((c: string | Uint8Array) => { out += String(c); return true; }) as typeof process.stdout.write;
  lastStderr = "";
  process.stderr.write = ((c: string | Uint8Array) => { lastStderr += String(c); return true; }) as typeof process.stderr.write;
  process.chdir(work);
  try { await main(args); } finally {
    process.stdout.write = write;
    process.stderr.write = ewrite;
    process.chdir(cwd);
  }
  return out;
}

before(async () => {
  if (skip) return;
  let chromium: typeof import("playwright-core").chromium, buildWeb: typeof import("../../web/build.ts").buildWeb;
  try {
    ({ chromium } = await import("playwright-core"));
    ({ buildWeb } = await import("../../web/build.ts"));
  } catch (e) {
    skip = `web dev dependencies missing (${(e as Error).message.split("\n")[0]}): npm ci installs them`;
    return;
  }
  dist = join(work, "dist");
  await buildWeb(dist, { quiet: true, minify: false });
  const { serveStatic } = await import("../../src/cli/web.ts");
  server = await serveStatic(dist);
  ctx = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  ctx.on("request", (r) => { requests.push(r.url()); });
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => { console.log(`page error: ${e.message}`); });
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready='1']");
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await ctx?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function skipped(t: { skip(msg: string): void }): boolean {
  if (!skip) return false;
  console.log(`SKIP web page tests: ${skip}`);
  t.skip(skip);
  return true;
}

/** Waits until the page shows the results of its current inputs (body[data-busy] counts scheduled and running work). */
async function settled(): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForSelector("body[data-busy='0']", { timeout: 15_000 });
}

/** Replaces an editor's whole text by typing, as a user would, and waits for the page to settle. */
async function typeInto(editor: string, text: string): Promise<void> {
  await page.click(`${editor} .cm-content`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
  await page.waitForFunction(([sel, want]) => document.querySelector(sel!)?.textContent === want, [`${editor} .cm-content`, text.replace(/\n/g, "")]);
  await settled();
}

/** Waits until the element's text equals `want` (the page recomputes after a short debounce), then returns it. */
async function textBecomes(sel: string, want: string, timeout = 10_000): Promise<string> {
  try {
    await page.waitForFunction(([s, w]) => document.querySelector(s!)?.textContent === w, [sel, want], { timeout });
  } catch { /* fall through: the assertion shows the difference */ }
  return (await page.textContent(sel)) ?? "";
}

/** Basic blocks of a tcpdump -d listing: leaders at 0, jump targets and after every jump or return. */
function cbpfLeaders(dump: string): number {
  const lines = dump.trim().split("\n");
  const leaders = new Set([0]);
  for (const l of lines) {
    const m = /^\((\d+)\) (\w+)\s.*?(?:jt (\d+)\s+jf (\d+))?$/.exec(l);
    if (!m) continue;
    const pc = Number(m[1]);
    if (m[3] !== undefined) { leaders.add(Number(m[3])); leaders.add(Number(m[4])); leaders.add(pc + 1); }
    else if (m[2] === "ja") { leaders.add(Number(/(\d+)\s*$/.exec(l)![1])); leaders.add(pc + 1); }
    else if (m[2] === "ret") leaders.add(pc + 1);
  }
  return [...leaders].filter((x) => x < lines.length).length;
}

/** Basic blocks of a kernel-format disassembly (`pc: (op) insn` lines, bpftool's cfg.c rules: a block starts at a
 * jump target and after a conditional jump; calls and exits do not end blocks). */
function ebpfLeaders(disasm: string): number {
  const pcs: number[] = [];
  const leaders = new Set([0]);
  for (const l of disasm.split("\n")) {
    const m = /^\s*(\d+): \(([0-9a-f]{2})\) (.*)$/.exec(l);
    if (!m) continue;
    const pc = Number(m[1]);
    pcs.push(pc);
    const g = /goto pc([+-]\d+)/.exec(m[3]!);
    if (g) { leaders.add(pc + 1 + Number(g[1])); if (m[3]!.startsWith("if ")) leaders.add(pc + 1); }
  }
  return [...leaders].filter((x) => pcs.includes(x)).length;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

test("Filter tab: tcpdump -d/-dd/-ddd text as the CLI prints it, one CFG node per basic block", async (t) => {
  if (skipped(t)) return;
  await page.click("#tab-filter");
  const cases: [string, string, boolean, 1 | 2 | 3][] = [
    ["tcp port 80 and host 10.0.0.1", "EN10MB", true, 1],
    ["ip6 and udp portrange 53-60 or arp", "EN10MB", false, 1],
    ["vlan and tcp[tcpflags] & tcp-syn != 0", "EN10MB", true, 2],
    ["icmp or ip proto 47", "LINUX_SLL", true, 3],
  ];
  for (const [expr, lt, opt, level] of cases) {
    await page.selectOption("#filter-lt", lt);
    await page.setChecked("#filter-opt", opt);
    await page.check(`input[name=filter-level][value="${level}"]`);
    await typeInto("#filter-editor", expr);
    const want = await cli(["filter", "-y", lt, ...(opt ? [] : ["-O"]), "-" + "d".repeat(level), expr]);
    assert.equal(await textBecomes("#filter-out", want), want, `${lt} ${expr}`);
    if (level === 1) {
      assert.equal(await page.locator("#filter-cfg g.node").count(), cbpfLeaders(want), `CFG nodes for ${expr}`);
    }
  }
  // a syntax error is underlined in the editor and reported as the CLI reports it
  await typeInto("#filter-editor", "tcp port 80 and and");
  assert.equal(await cli(["filter", "-y", "LINUX_SLL", "-ddd", "tcp port 80 and and"]), "");
  assert.equal(await textBecomes("#filter-out", lastStderr), lastStderr, "the CLI's error line");
  await page.waitForSelector("#filter-editor .cm-lintRange-error", { timeout: 10_000 });
  await page.selectOption("#filter-lt", "EN10MB");
  await page.check(`input[name=filter-level][value="1"]`);
  await typeInto("#filter-editor", "tcp port 80 and host 10.0.0.1");
  await textBecomes("#filter-out", await cli(["filter", "-y", "EN10MB", "-d", "tcp port 80 and host 10.0.0.1"]));
  await shot("filter");
});

test("Filter tab: a corpus capture's match count equals filter -r F --count", async (t) => {
  if (skipped(t)) return;
  const dir = join(PCAP_DIR, "tcpdump");
  if (!existsSync(dir)) { console.log(`SKIP capture comparison: ${dir} absent`); t.skip("corpus absent"); return; }
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
  const picks = [files.find((f) => f.startsWith("IGMP")), files.find((f) => f.endsWith(".pcapng")), files[Math.floor(files.length / 2)]]
    .filter((f): f is string => f !== undefined);
  await page.click("#tab-filter");
  for (const [i, f] of picks.entries()) {
    const expr = ["igmp or udp", "ip or ip6", "not tcp"][i]!;
    await typeInto("#filter-editor", expr);
    await page.setInputFiles("#filter-file", join(dir, f));
    const want = (await cli(["filter", "-r", join(dir, f), "--count", expr])).trim();
    await page.waitForFunction(([name]) => (document.querySelector("#filter-count")?.textContent ?? "").startsWith(name!), [f], { timeout: 10_000 });
    await settled();
    assert.equal(await page.getAttribute("#filter-count", "data-matched"), want, `${f}: ${expr}`);
    assert.equal(await page.locator("#filter-packets tbody tr").count(), Math.min(200, Number(want)), `${f}: rows`);
  }
  // dropping a file on the drop zone does what choosing it does
  const f = picks[0]!;
  const bytes = Array.from((await import("node:fs")).readFileSync(join(dir, f)));
  await page.evaluate(([name, data]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data as number[])], name as string));
    document.querySelector("#filter-drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [f, bytes] as const);
  await settled();
  assert.equal(await page.getAttribute("#filter-count", "data-matched"), (await cli(["filter", "-r", join(dir, f), "--count", "not tcp"])).trim());
  await shot("filter-capture");
});

const REJECTED = "r6 = r1\nr2 = *(u32 *)(r6 + 0)\nif r2 > 1500 goto +2\nr0 = *(u64 *)(r2 + 0)\nexit\nr0 = 0\nexit\n";
const ACCEPTED = "r0 = *(u32 *)(r1 + 0)\nif r0 > 7 goto +1\nr0 += 100\nexit\n";

test("Program tab: verify and run print what the CLI prints; the failing path is marked on the CFG", async (t) => {
  if (skipped(t)) return;
  await page.click("#tab-program");
  for (const [src, level] of [[REJECTED, "1"], [ACCEPTED, "2"], [REJECTED, "0"]] as const) {
    await page.selectOption("#prog-log", level);
    await typeInto("#prog-editor", src);
    writeFileSync(join(work, "prog.s"), src);
    const want = await cli(["verify", "--log-level", level, "--explain", "prog.s"]);
    assert.equal(await textBecomes("#verify-out", want), want, `verify --log-level ${level}`);
    const blocks = ebpfLeaders((await page.textContent("#prog-disasm")) ?? "");
    // ENTRY (bb_0) and EXIT (bb_1) are drawn too, as bpftool draws them
    const nodes = await page.locator("#prog-cfg g.node").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-node") ?? ""));
    assert.equal(nodes.filter((n) => /_bb_([2-9]|\d\d+)$/.test(n)).length, blocks, "one node per basic block");
    const failing = await page.locator("#prog-cfg g.node.failing").evaluateAll((gs) => gs.map((g) => g.textContent ?? ""));
    if (src === REJECTED) {
      const pc = Number(/rejected at insn (\d+)/.exec(want)![1]);
      assert.ok(failing.length >= 1, "failing path marked");
      assert.ok(failing.some((txt) => new RegExp(`(^|\\s)${pc}: `).test(txt)), `the block holding insn ${pc} is marked`);
      assert.ok(await page.locator("#verify-steps tbody tr").count() >= 2, "steps listed");
      // a step, focused, points at its block
      await page.locator("#verify-steps tbody tr").last().click();
      assert.match((await page.locator("#prog-cfg g.node.current").textContent()) ?? "", new RegExp(`(^|\\s)${pc}: `));
      assert.ok((await page.locator("#prog-editor .cm-lintRange-error").count()) >= 1, "failing line underlined");
    } else assert.equal(failing.length, 0);
  }
  await shot("program-rejected");
  await typeInto("#prog-editor", ACCEPTED);
  await page.fill("#run-data", "0500000000000000aaaaaaaaaaaaaaaaaaaaaa");
  writeFileSync(join(work, "prog.s"), ACCEPTED);
  const mask = (s: string) => s.replace(/duration \(average\): \d+ns/g, "duration (average): Nns");
  for (const engine of ["jit", "interp"]) {
    await page.selectOption("#run-engine", engine);
    await page.click("#run-go");
    const want = await cli(["run", "--data", "0500000000000000aaaaaaaaaaaaaaaaaaaaaa", "--engine", engine, "prog.s"]);
    const got = (await page.textContent("#run-out")) ?? "";
    assert.equal(mask(got.split("\n")[0]! + "\n"), mask(want), engine);
    assert.match(got, /^r0 = \d+ \(0x[0-9a-f]+\)$/m);
    assert.match((await page.textContent("#run-cmd")) ?? "", engine === "interp" ? /--engine interp/ : /^\$ bpfkit run --data \w+ prog\.s$/);
  }
  await shot("program-run");
  // the VM's CPUs as Web Workers over one shared memory: each CPU runs the program and sees its own index
  await typeInto("#prog-editor", "call 8\nexit\n");
  await page.click("#run-cpus-go");
  await settled();
  const lines = ((await page.textContent("#run-cpus")) ?? "").trim().split("\n");
  const n = await page.evaluate(() => (globalThis as unknown as { bpfkitPage: { workerCpus: number } }).bpfkitPage.workerCpus);
  assert.deepEqual(lines, Array.from({ length: n }, (_, i) => `cpu ${i}: 1000 runs, 2000 insns, last r0 ${i}`));
});

test("worker CPUs: a clang object's program runs on every worker CPU, sharing its maps (per-CPU exact, plain racy)", async (t) => {
  if (skipped(t)) return;
  const built = buildOwnCorpus(join(import.meta.dirname, "../fixtures/web"));
  if (typeof built === "string") { console.log(`SKIP object on worker CPUs: ${built}`); t.skip(built); return; }
  const n = await page.evaluate(() => (globalThis as unknown as { bpfkitPage: { workerCpus: number } }).bpfkitPage.workerCpus);
  if (n < 2) { console.log("SKIP object on worker CPUs: the page is not cross-origin isolated (one CPU)"); t.skip("one CPU"); return; }
  const obj = built.find((b) => b.name === "cpus")!;
  await page.click("#tab-program");
  await page.setInputFiles("#prog-file", obj.path);
  await settled();
  const label = obj.path.split("/").pop()!;
  await page.click("#run-cpus-go");
  // the pane still shows the assembly run of the test before until the object's run replaces it
  await page.waitForFunction((l) => (document.querySelector("#run-cpus")?.textContent ?? "").startsWith(`${l}:`), label, { timeout: 30_000 });
  const lines = ((await page.textContent("#run-cpus")) ?? "").trim().split("\n");
  assert.deepEqual(lines.slice(0, n).map((l) => l.replace(/, \d+ insns/, "")),
    Array.from({ length: n }, (_, i) => `${label}:count_runs: cpu ${i}: 1000 runs, last r0 ${i}`), "bpf_get_smp_processor_id() is each worker's index");
  // the ring buffer every CPU wrote into: 20 records shown (u64 cpu, u64 count), then how many more
  const records = lines.slice(n, -1);
  assert.equal(records.length, 20);
  for (const r of records) assert.match(r, /^runs: 0[0-9] 00 00 00 00 00 00 00 [0-9a-f]{2} [0-9a-f]{2} 00 00 00 00 00 00$/);
  assert.equal(lines.at(-1), `runs: ${n * 1000 - 20} more records`, "every run's record arrived");
  await page.click("#tab-maps");
  const perCpu = page.locator("#maps-list .map").filter({ hasText: "per_cpu: percpu_array" });
  assert.equal((await perCpu.locator("tbody td").allTextContents())[1], Array.from({ length: n }, (_, cpu) => `cpu${cpu}: 1000`).join(", "),
    "each CPU counted exactly its own runs in its own slot");
  const plain = page.locator("#maps-list .map").filter({ hasText: "shared: array" });
  const cells = await plain.locator("tbody td").allTextContents();
  const value = Number(cells[1]);
  assert.ok(value > 0 && value <= n * 1000, `plain array: ${cells.join(" | ")}`);
  console.log(`web worker CPUs: ${n} x 1000 runs of a clang object: per-CPU slots exact, plain array ${value} (${n * 1000 - value} lost updates)`);
  await page.click("#tab-program");
  await page.click("#prog-asm-back");
  await shot("object-cpus");
});

test("Program and Maps tabs: a clang object's verdict, run and maps", async (t) => {
  if (skipped(t)) return;
  const built = buildOwnCorpus();
  if (typeof built === "string") { console.log(`SKIP object upload: ${built}`); t.skip(built); return; }
  const obj = built.find((b) => b.name === "xdp_maps")!;
  await page.click("#tab-program");
  await page.selectOption("#prog-log", "0");
  await page.setInputFiles("#prog-file", obj.path);
  const label = obj.path.split("/").pop()!;
  await settled();
  const cp = (await import("node:fs")).copyFileSync;
  cp(obj.path, join(work, label));
  const want = await cli(["verify", "--log-level", "0", "--explain", label]);
  assert.equal(await page.textContent("#verify-out"), want);
  assert.match((await page.textContent("#prog-disasm")) ?? "", /^; /m, "BTF source lines in the disassembly");
  const data = "00".repeat(64);
  await page.fill("#run-data", data);
  await page.selectOption("#run-engine", "jit");
  await page.click("#run-go");
  const ran = await cli(["run", "--data", data, "--engine", "jit", label]);
  const mask = (s: string) => s.replace(/duration \(average\): \d+ns/g, "duration (average): Nns");
  const got = ((await page.textContent("#run-out")) ?? "").split("\n").filter((l) => l.startsWith(label)).join("\n") + "\n";
  assert.equal(mask(got), mask(ran));
  await page.click("#tab-maps");
  const headings = await page.locator("#maps-list h2").allTextContents();
  assert.ok(headings.some((h) => h.startsWith("counters: array")), headings.join("; "));
  // edit the array's slot 3 through the form, as a user would, and see it listed
  const counters = page.locator("#maps-list .map").filter({ hasText: "counters: array" });
  await counters.locator("input").nth(0).fill("03000000");
  await counters.locator("input").nth(1).fill("2a00000000000000");
  await counters.locator("button", { hasText: "Update" }).click();
  // values are decoded through the object's BTF: the __u64 slot reads 42
  const row = counters.locator("tbody tr").filter({ hasText: "03 00 00 00" });
  assert.deepEqual(await row.locator("td").allTextContents(), ["3", "42", "03 00 00 00"]);
  const flows = page.locator("#maps-list .map").filter({ hasText: "flows: hash" });
  assert.match((await flows.locator("tbody td").first().textContent()) ?? "", /^\{"saddr":\d+,"daddr":\d+,"sport":1,"dport":0\}$/);
  await shot("maps");
});

// The Trace tab against src/trace run in Node: `bpfkit trace` needs root and real kernel events, so the reference here
// is the pure VM run (compileScript + VmTrace, the same printers bpfkit trace uses) over the same synthetic events,
// as the other tabs compare with the CLI; src/trace/vm-backend.test.ts ties that VM run to bpftrace's own output.
const TRACE_SCRIPT = `tracepoint:block:block_rq_issue
{
  @bytes = hist(args->bytes);
  @ios[args->comm] = count();
  @sum[args->rwbs] = sum(args->bytes);
  if (args->bytes < 64) { printf("small %s %d\\n", args->comm, args->bytes); }
}`;

test("Trace tab: a typed script runs on the VM, draws its maps live and prints them as src/trace does in Node", async (t) => {
  if (skipped(t)) return;
  const { traceScript } = await import("../../web/src/playground.ts");
  await page.click("#tab-trace");
  // a script with an error: bpftrace's diagnostic, underlined in the editor
  await typeInto("#trace-editor", "tracepoint:block:block_rq_issue { @x = cont(); }");
  await page.click("#trace-go");
  assert.equal(await textBecomes("#trace-out", traceScript("tracepoint:block:block_rq_issue { @x = cont(); }", 0)),
    "stdin:1:40-44: ERROR: Unknown function: cont\ntracepoint:block:block_rq_issue { @x = cont(); }\n" + " ".repeat(39) + "~~~~\n");
  await page.waitForSelector("#trace-editor .cm-lintRange-error");
  assert.equal(await page.textContent("#trace-editor .cm-lintRange-error"), "cont();");
  // live: bars and tables while it runs
  await typeInto("#trace-editor", TRACE_SCRIPT);
  await page.click("#trace-go");
  await page.waitForFunction(() => document.querySelectorAll("#trace-maps .bar").length > 2 && document.querySelectorAll("#trace-maps table tr").length >= 4, undefined, { timeout: 5000 });
  await page.click("#trace-stop");
  // deterministic: 5 ticks of 200 events, then END and the exit dump
  await page.evaluate(() => (globalThis as unknown as { bpfkitPage: { runTrace(n: number): Promise<void> } }).bpfkitPage.runTrace(5));
  const want = traceScript(TRACE_SCRIPT, 1000);
  assert.match(want, /^Attaching 1 probe\.\.\.\nsmall \S+ \d+\n[^]*\n\n\n@bytes: \n[^]*\[4K, 8K\)\s+\d+ \|@+\s*\|\n[^]*@ios\[rsync\]: \d+\n[^]*@sum\[R\]: \d+\n$/);
  assert.equal(await page.textContent("#trace-out"), want);
  const rows = await page.locator("#trace-maps table tr").count();
  assert.equal(rows, 6, "@ios: 4 commands, @sum: 2 directions");
  await shot("trace");
});

// An uploaded event stream (the replay format bpfkit exporter --vm.replay reads): 12 write() calls of 100..1200 bytes by
// w2 and 3 opens by sh, as JSON lines; the page must print exactly what the same VM run prints in Node, and stop at the
// stream's end on its own.
function writeStream(): string {
  const lines: string[] = ["# 12 writes by w2, 3 opens by sh"];
  for (let i = 1; i <= 12; i++) {
    const rec = new Uint8Array(40);
    new DataView(rec.buffer).setBigUint64(32, BigInt(i * 100), true);
    lines.push(JSON.stringify({ tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 4243, record: Buffer.from(rec).toString("hex") }));
  }
  lines.push(JSON.stringify({ tracepoint: "syscalls/sys_enter_openat", comm: "sh", pid: 77, record: "00".repeat(48), repeat: 3 }));
  return lines.join("\n") + "\n";
}

test("Trace tab: an uploaded event stream runs to its end and prints what the same stream prints in Node and under bpfkit trace --vm --replay", async (t) => {
  if (skipped(t)) return;
  const { TraceSession, parseEventStream } = await import("../../web/src/playground.ts");
  const script = "tracepoint:syscalls:sys_enter_write { @bytes = hist(args->count); @w[comm, pid] = count(); }\n" +
    "tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }";
  const text = writeStream();
  const s = TraceSession.open(script);
  assert.ok(s instanceof TraceSession);
  s.useStream(parseEventStream(text, "events.jsonl"));
  s.feed(1_000);
  assert.ok(s.exhausted);
  const want = s.takeOutput() + s.finish();
  assert.match(want, /@opens\[sh\]: 3\n/);
  assert.match(want, /@w\[w2, 4243\]: 12\n/);
  // and what `bpfkit trace --vm --replay` prints for the same file
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-web-trace-"));
  try {
    writeFileSync(join(dir, "events.jsonl"), text);
    const cli = spawnSync(process.execPath, [fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url)), "trace", "--vm", "--replay", join(dir, "events.jsonl"), "-e", script], { encoding: "utf8", timeout: 120_000 });
    assert.equal(cli.stdout, want, cli.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  await page.click("#tab-trace");
  await typeInto("#trace-editor", script);
  await page.setInputFiles("#trace-file", { name: "events.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(text) });
  assert.equal(await textBecomes("#trace-out", want), want);
  assert.equal(await page.textContent("#trace-stream"), "events.jsonl: 13 events");
  // a malformed stream names the file and line
  await page.setInputFiles("#trace-file", { name: "bad.jsonl", mimeType: "application/jsonl", buffer: Buffer.from('{"tracepoint":"syscalls/sys_enter_write","record":"0g"}\n') });
  assert.equal(await textBecomes("#trace-out", "ERROR: bad.jsonl:1: record: expected the record's bytes in hex\n"), "ERROR: bad.jsonl:1: record: expected the record's bytes in hex\n");
  await shot("trace-stream");
});

test("keyboard: arrows move between tabs; at 200% zoom nothing needs horizontal scrolling", async (t) => {
  if (skipped(t)) return;
  await page.focus("#tab-filter");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.getAttribute("#tab-program", "aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-program");
  await page.keyboard.press("End");
  assert.equal(await page.getAttribute("#tab-trace", "aria-selected"), "true");
  assert.match(page.url(), /#.*tab=trace/);
  // 200% zoom of a 1280-pixel window is a 640-pixel CSS viewport
  await page.setViewportSize({ width: 640, height: 450 });
  for (const tab of ["filter", "program", "maps", "trace"]) {
    await page.click(`#tab-${tab}`);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${tab}: ${over}px of horizontal overflow at 200%`);
  }
  await shot("zoom-200");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("a link reproduces the page: the state is in the URL fragment", async (t) => {
  if (skipped(t)) return;
  await page.click("#tab-filter");
  await typeInto("#filter-editor", "udp port 53");
  await page.click("#tab-program");
  if (await page.isVisible("#prog-asm-back")) await page.click("#prog-asm-back");
  await typeInto("#prog-editor", ACCEPTED);
  const url = page.url();
  assert.match(url, /#.*tab=program/);
  const verdict = await page.textContent("#verify-out");
  const other = await ctx!.newPage();
  await other.goto(url);
  await other.waitForSelector("body[data-ready='1']");
  await other.waitForSelector("body[data-busy='0']");
  assert.equal(await other.getAttribute("#tab-program", "aria-selected"), "true");
  assert.equal(await other.textContent("#verify-out"), verdict);
  assert.equal(await other.textContent("#filter-cmd"), "$ bpfkit filter -y EN10MB -d 'udp port 53'");
  await other.close();
});

test("without COOP/COEP the page runs on one CPU and says so; with them it has worker CPUs", async (t) => {
  if (skipped(t)) return;
  assert.match((await page.textContent("#cpus")) ?? "", /^Cross-origin isolated: \d+ worker CPUs/);
  const { serveStatic } = await import("../../src/cli/web.ts");
  const plain = await serveStatic(dist, { isolate: false });
  const other = await ctx!.newPage();
  try {
    await other.goto(plain.url);
    await other.waitForSelector("body[data-ready='1']");
    assert.equal(await other.evaluate(() => globalThis.crossOriginIsolated), false);
    assert.match((await other.textContent("#cpus")) ?? "", /Not cross-origin isolated.*one CPU/);
  } finally {
    await other.close();
    await plain.close();
  }
});

test("the built page makes no request that leaves localhost", async (t) => {
  if (skipped(t)) return;
  assert.ok(requests.length > 3, "requests were recorded");
  const away = requests.filter((u) => !/^(http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/|data:|blob:)/.test(u));
  assert.deepEqual(away, []);
});
