// The playground page: four tabs wired to the pure core through playground.ts. Every tab keeps its inputs in the URL
// fragment (#tab=…&…), so a link reproduces what is on screen. Captures are filtered by worker CPUs sharing the file
// when the page is cross-origin isolated, else on this thread, and the header says which.
import { createEditor, type Editor } from "./editor.ts";
import { drawGraph } from "./graph.ts";
import * as P from "./playground.ts";
import type { FilterJob, FilterJobResult } from "./worker.ts";
import { LINK_TYPES, pcapLeHeader } from "../../src/filter/index.ts";
import { PROGRAM_TYPES } from "../../src/runtime/index.ts";
import { startTrace, type TraceRun } from "./trace.ts";
import { WebCpuPool } from "./cpu-pool.ts";
import { AddressSpace, Vm } from "../../src/vm/index.ts";
import { assemble } from "../../src/isa/ebpf/index.ts";
import { defaultHelpers, hostEnv } from "../../src/helpers/index.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const nrCpus = Math.max(1, navigator.hardwareConcurrency || 1);
const isolated = globalThis.crossOriginIsolated === true;
const workerCpus = isolated ? Math.min(nrCpus, 8) : 1;
$("cpus").textContent = isolated
  ? `Cross-origin isolated: ${workerCpus} worker CPUs share memory.`
  : "Not cross-origin isolated (no COOP/COEP headers): running on one CPU, this tab's main thread.";

// ---------------------------------------------------------------- URL fragment state

const TABS = ["filter", "program", "maps", "trace"] as const;
type Tab = (typeof TABS)[number];
const state = new URLSearchParams(location.hash.slice(1));
const DEFAULTS: Record<string, string> = {
  tab: "filter", expr: "tcp port 80 and host 10.0.0.1", lt: "EN10MB", O: "1", d: "1",
  asm: "r6 = r1\nr2 = *(u32 *)(r6 + 0)\nif r2 > 1500 goto +2\nr0 = *(u64 *)(r2 + 0)\nexit\nr0 = 0\nexit\n",
  type: "socket_filter", log: "1", data: "", engine: "jit",
  script: "tracepoint:block:block_rq_issue\n{\n  @bytes = hist(args->bytes);\n  @ios[args->comm] = count();\n}\n",
};
const get = (k: string) => state.get(k) ?? DEFAULTS[k] ?? "";
function set(k: string, v: string): void {
  if (v === DEFAULTS[k]) state.delete(k); else state.set(k, v);
  history.replaceState(null, "", "#" + state.toString());
}

// ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern: arrows move, Enter/Space select)

function selectTab(t: Tab, focus = false): void {
  for (const name of TABS) {
    const tab = $(`tab-${name}`), panel = $(`panel-${name}`);
    const on = name === t;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    panel.hidden = !on;
    if (on && focus) tab.focus();
  }
  set("tab", t);
  if (t === "maps") renderMaps();
  if (t === "program") void track(refreshProgram());
}
TABS.forEach((name, i) => {
  const tab = $(`tab-${name}`);
  tab.addEventListener("click", () => selectTab(name));
  tab.addEventListener("keydown", (e) => {
    const k = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (k) { e.preventDefault(); selectTab(TABS[(i + k + TABS.length) % TABS.length]!, true); }
    if (e.key === "Home") { e.preventDefault(); selectTab(TABS[0], true); }
    if (e.key === "End") { e.preventDefault(); selectTab(TABS[TABS.length - 1]!, true); }
  });
});

/** Work scheduled or running; body[data-busy] is "0" when the page shows the result of its current inputs. */
let busy = 0;
function track<T>(p: Promise<T>): Promise<T> {
  document.body.dataset.busy = String(++busy);
  return p.finally(() => { document.body.dataset.busy = String(--busy); });
}

/** Runs `f` once input pauses for `ms`; the wait counts as busy. */
function debounce(f: () => Promise<unknown>, ms: number): () => void {
  let t: ReturnType<typeof setTimeout> | undefined;
  let done: (() => void) | undefined;
  return () => {
    clearTimeout(t);
    if (!done) void track(new Promise<void>((r) => { done = r; }));
    t = setTimeout(() => { const d = done!; done = undefined; void track(f()).finally(d); }, ms);
  };
}

// ---------------------------------------------------------------- Filter tab

const ltSelect = $<HTMLSelectElement>("filter-lt");
for (const [name, , , desc] of LINK_TYPES) ltSelect.add(new Option(`${name} (${desc})`, name));
ltSelect.value = get("lt");
$<HTMLInputElement>("filter-opt").checked = get("O") === "1";
for (const r of Array.from(document.querySelectorAll<HTMLInputElement>("input[name=filter-level]"))) r.checked = r.value === get("d");
let filterEditor: Editor;
let lastFilter: P.FilterResult | undefined;

async function refreshFilter(): Promise<P.FilterResult> {
  const req: P.FilterRequest = {
    expr: filterEditor.text(), linktype: ltSelect.value, optimize: $<HTMLInputElement>("filter-opt").checked,
    level: Number(document.querySelector<HTMLInputElement>("input[name=filter-level]:checked")?.value ?? 1) as 1 | 2 | 3,
  };
  set("expr", req.expr); set("lt", req.linktype); set("O", req.optimize ? "1" : "0"); set("d", String(req.level));
  const r = P.runFilter(req);
  lastFilter = r;
  $("filter-cmd").textContent = "$ " + r.command;
  $("filter-out").textContent = r.text;
  filterEditor.showError(r.error);
  $("filter-blocks").textContent = r.error ? "" : `(${r.blocks} basic blocks)`;
  await drawGraph($("filter-cfg"), r.dot);
  if (captureBytes) void track(refreshCapture());
  return r;
}
const refreshFilterSoon = debounce(refreshFilter, 150);
filterEditor = createEditor($("filter-editor"), "filter", get("expr"), "filter expression", refreshFilterSoon, true);
for (const el of Array.from(document.querySelectorAll("#filter-lt, #filter-opt, input[name=filter-level]"))) el.addEventListener("change", () => void track(refreshFilter()));

let captureBytes: Uint8Array | undefined;
let captureName = "";

/** The worker CPUs, started on first use and kept; and each capture's shared copy, made once per file. */
let pool: Worker[] | undefined;
const sharedCopies = new WeakMap<Uint8Array, SharedArrayBuffer>();

function runJob(w: Worker, job: FilterJob): Promise<FilterJobResult> {
  return new Promise((resolve) => {
    w.onmessage = (e: MessageEvent<FilterJobResult>) => resolve(e.data);
    w.onerror = (e) => resolve({ matched: 0, seen: 0, rows: [], error: e.message });
    w.postMessage(job);
  });
}

/** Filters the loaded capture: split across worker CPUs when isolated (plain little-endian pcap), else here. */
async function filterBytes(bytes: Uint8Array, expr: string, optimize: boolean): Promise<P.CaptureResult & { cpus: number }> {
  if (workerCpus > 1 && pcapLeHeader(bytes) !== null) {
    let shared = sharedCopies.get(bytes);
    if (!shared) {
      shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      sharedCopies.set(bytes, shared);
    }
    pool ??= Array.from({ length: workerCpus }, () => new Worker(new URL("./worker.js", import.meta.url), { type: "module" }));
    const parts = P.splitPcap(bytes, pool.length);
    const buffer = shared;
    const results = await Promise.all(parts.map((p, i) => runJob(pool![i]!, { buffer, expr, optimize, from: p.from, to: p.to, firstN: p.firstN, maxRows: 200 })));
    const error = results.find((r) => r.error)?.error;
    if (error === undefined) {
      return { matched: results.reduce((n, r) => n + r.matched, 0), seen: results.reduce((n, r) => n + r.seen, 0),
        rows: results.flatMap((r) => r.rows).slice(0, 200), linktype: pcapLeHeader(bytes)!.linktype, cpus: parts.length };
    }
  }
  return { ...P.filterCapture(bytes, expr, optimize), cpus: 1 };
}

let captureGeneration = 0;

async function refreshCapture(): Promise<void> {
  if (!captureBytes) return;
  const generation = ++captureGeneration;
  const r = await filterBytes(captureBytes, filterEditor.text(), $<HTMLInputElement>("filter-opt").checked);
  if (generation !== captureGeneration) return; // a newer file or expression is being filtered
  $("filter-count").textContent = r.error
    ? `${captureName}: ${r.error}`
    : `${captureName}: ${r.matched} packets matched of ${r.seen} (${r.cpus} CPU${r.cpus > 1 ? "s" : ""})`;
  $("filter-count").dataset.matched = String(r.matched);
  const body = $("filter-packets").querySelector("tbody")!;
  body.replaceChildren(...r.rows.map((p) => {
    const tr = document.createElement("tr");
    for (const v of [p.n, p.time, p.len, p.summary]) { const td = document.createElement("td"); td.textContent = String(v); tr.append(td); }
    return tr;
  }));
}

async function loadCapture(file: File): Promise<void> {
  captureBytes = new Uint8Array(await file.arrayBuffer());
  captureName = file.name;
  await track(refreshCapture());
}
$<HTMLInputElement>("filter-file").addEventListener("change", (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void track(loadCapture(f));
});
const drop = $("filter-drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer?.files[0];
  if (f) void track(loadCapture(f));
});
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("filter-file").click(); } });

// ---------------------------------------------------------------- Program tab

const typeSelect = $<HTMLSelectElement>("prog-type");
for (const t of Object.keys(PROGRAM_TYPES)) typeSelect.add(new Option(t, t));
typeSelect.value = get("type");
$<HTMLSelectElement>("prog-log").value = get("log");
$<HTMLInputElement>("run-data").value = get("data");
$<HTMLSelectElement>("run-engine").value = get("engine") === "interp" ? "interp" : "jit";
const engine = () => $<HTMLSelectElement>("run-engine").value as "interp" | "jit";
let elf: { bytes: Uint8Array; name: string } | undefined;
let live: P.LiveObject = { maps: [], types: [] };

function programSource(): P.ProgramSource {
  const type = typeSelect.value;
  if (elf) {
    const prog = $<HTMLSelectElement>("prog-name").value;
    return { elf: elf.bytes, fileName: elf.name, ...(prog ? { prog } : {}), ...(type !== "socket_filter" ? { type } : {}) };
  }
  return { asm: progEditor.text(), fileName: "prog.s", ...(type !== "socket_filter" ? { type } : {}) };
}

async function refreshProgram(): Promise<P.VerifyOutput> {
  if (!elf) set("asm", progEditor.text());
  set("type", typeSelect.value);
  const level = Number($<HTMLSelectElement>("prog-log").value);
  set("log", String(level));
  const src = programSource();
  const v = P.verifySource(src, level, nrCpus);
  $("verify-cmd").textContent = "$ " + v.command;
  const out = $("verify-out");
  out.textContent = v.text;
  out.className = v.error || v.units.some((u) => !u.accepted) ? "verdict-bad" : "verdict-ok";
  if (!elf) progEditor.showError(v.error ?? stepError(v));
  const u = v.units[0];
  $("prog-disasm").textContent = u ? u.disasm.join("\n") + "\n" : "";
  const body = $("verify-steps").querySelector("tbody")!;
  body.replaceChildren(...(u?.steps ?? []).map((s) => {
    const tr = document.createElement("tr");
    for (const x of [s.pc, s.insn, s.state, s.source ?? ""]) { const td = document.createElement("td"); td.textContent = String(x); tr.append(td); }
    // focusing a step (click or Tab) points at its block on the CFG
    tr.tabIndex = 0;
    tr.addEventListener("focus", () => showStep(u!.pcNodes[s.pc]));
    tr.addEventListener("click", () => tr.focus());
    return tr;
  }));
  $("prog-blocks").textContent = u ? `(${u.blockNodes.length} basic blocks${u.failingNodes.length ? `, ${u.failingNodes.length} on the failing path` : ""})` : "";
  await drawGraph($("prog-cfg"), u?.dot ?? "", u?.failingNodes ?? []);
  $("run-cmd").textContent = "$ " + P.runCommand(src, $<HTMLInputElement>("run-data").value, engine());
  return v;
}

function showStep(node: string | undefined): void {
  for (const g of Array.from(document.querySelectorAll("#prog-cfg g.node.current"))) g.classList.remove("current");
  const g = node ? document.querySelector(`#prog-cfg g.node[data-node="${node}"]`) : null;
  g?.classList.add("current");
  g?.scrollIntoView({ block: "nearest", inline: "nearest" });
}

/** A rejection underlines the failing instruction's line in the assembly (assembly lines map to pcs 1:1 except
 * labels, comments, blank lines and lddw's second slot). */
function stepError(v: P.VerifyOutput): P.SourceError | undefined {
  const u = v.units[0];
  if (!u || u.accepted) return undefined;
  const pc = u.result.error!.pc;
  const lines = progEditor.text().split("\n");
  let slot = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.replace(/(;|#|\/\/).*$/, "").trim();
    if (t === "" || /^[A-Za-z_.][\w.]*:$/.test(t)) continue;
    if (slot === pc) return { message: u.result.error!.message, line: i };
    slot += /\blddw\b|\bll$/.test(t) ? 2 : 1;
  }
  return undefined;
}

function runProgram(): P.RunOutput {
  set("data", $<HTMLInputElement>("run-data").value);
  set("engine", engine());
  const r = P.runSource(programSource(), $<HTMLInputElement>("run-data").value, engine());
  $("run-cmd").textContent = "$ " + r.command;
  $("run-out").textContent = r.text + (r.r0 !== undefined ? `r0 = ${r.r0} (0x${r.r0.toString(16)})\n` : "");
  $("run-events").textContent = [...r.ringbuf, ...r.printk].join("\n");
  live = r.live ?? { maps: [], types: [] };
  renderMaps();
  return r;
}

/** Programs fired on every worker CPU at once over one shared address space (isolated pages only): an assembly
 * program, or the chosen program of an object (opened into a System over shared memory, so every CPU updates the
 * object's maps, shown on the Maps tab). Each CPU reports its runs, instructions and last r0
 * (bpf_get_smp_processor_id() gives the CPU's index). */
let cpuPool: Promise<WebCpuPool> | undefined;
let objectPool: { pool: WebCpuPool; obj: P.SharedObject } | undefined;
async function runOnCpus(repeat = 1000): Promise<string> {
  const out = $("run-cpus");
  out.hidden = false;
  const report = (rs: readonly { cpu: number; runs: number; insns: number; lastR0: number | bigint; faults: number; error?: string }[], label = "") =>
    rs.map((r) => `${label}cpu ${r.cpu}: ${r.runs} runs, ${r.insns} insns, last r0 ${r.lastR0}${r.faults ? `, ${r.faults} faults: ${r.error}` : ""}`).join("\n") + "\n";
  try {
    if (elf) {
      objectPool?.pool.close();
      objectPool?.obj.close();
      objectPool = undefined;
      const obj = P.openSharedObject(elf.bytes, elf.name, workerCpus);
      const pool = await WebCpuPool.start(obj.sys.space, workerCpus);
      objectPool = { pool, obj };
      const want = $<HTMLSelectElement>("prog-name").value;
      let text = "";
      for (const [name, prog] of obj.programs) {
        if (want && name !== want) continue;
        text += report(await pool.fire(prog, repeat), `${elf.name}:${name}: `);
      }
      for (const [name, why] of obj.skipped) if (!want || name === want) text += `${elf.name}:${name}: ${why}\n`;
      const sent = P.outputLines(obj.sys, obj.live.maps, 20);
      out.textContent = text + (sent.length ? sent.join("\n") + "\n" : "");
      live = obj.live;
      renderMaps();
    } else {
      const space = await (cpuPool ??= WebCpuPool.start(new AddressSpace({ shared: true }), workerCpus)).then((p) => p.space);
      const pool = await cpuPool;
      const vm = new Vm(space, { helpers: defaultHelpers, env: hostEnv() });
      const prog = vm.load(assemble(progEditor.text()), { type: "raw", name: "prog.s" });
      try {
        out.textContent = report(await pool.fire(prog, repeat));
      } finally { vm.unload(prog); }
    }
  } catch (e) { out.textContent = e instanceof Error ? e.message : String(e); }
  return out.textContent ?? "";
}
if (workerCpus > 1) {
  $("run-cpus-go").hidden = false;
  $("run-cpus-go").textContent = `Run 1000 times on each of ${workerCpus} worker CPUs`;
  $("run-cpus-go").addEventListener("click", () => void track(runOnCpus()));
}

const refreshProgramSoon = debounce(refreshProgram, 250);
const progEditor = createEditor($("prog-editor"), "asm", get("asm"), "eBPF assembly", refreshProgramSoon);
for (const id of ["prog-type", "prog-log", "prog-name"]) $(id).addEventListener("change", () => void track(refreshProgram()));
$("run-go").addEventListener("click", () => runProgram());
$("run-data").addEventListener("keydown", (e) => { if (e.key === "Enter") runProgram(); });
$<HTMLInputElement>("prog-file").addEventListener("change", (e) => void track(openObject(e)));
async function openObject(e: Event): Promise<void> {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (!f) return;
  elf = { bytes: new Uint8Array(await f.arrayBuffer()), name: f.name };
  const names = $<HTMLSelectElement>("prog-name");
  names.replaceChildren(new Option("(all programs)", ""));
  try {
    for (const u of P.programUnits({ elf: elf.bytes, fileName: f.name })) names.add(new Option(u.spec.name, u.spec.name));
  } catch { /* the verifier output reports the load error */ }
  names.hidden = $("prog-name-label").hidden = $("prog-asm-back").hidden = false;
  $("prog-editor").hidden = true;
  await refreshProgram();
}
$("prog-asm-back").addEventListener("click", () => {
  elf = undefined;
  $("prog-name").hidden = $("prog-name-label").hidden = $("prog-asm-back").hidden = true;
  $("prog-editor").hidden = false;
  void track(refreshProgram());
});

// ---------------------------------------------------------------- Maps tab

function renderMaps(): void {
  const list = $("maps-list");
  const maps = live.maps;
  $("maps-note").textContent = maps.length
    ? `${maps.length} map${maps.length > 1 ? "s" : ""} of the program last run on the Program tab; keys and values decoded through the object's BTF (hex where it has none). Edit with hex bytes.`
    : "No maps yet: open a clang .o with maps on the Program tab and run it.";
  list.replaceChildren(...maps.map((m, idx) => {
    const v = P.viewMap(m, live.btf, live.types[idx]);
    const div = document.createElement("div");
    div.className = "map";
    const h = document.createElement("h2");
    h.textContent = `${v.name || `map ${idx}`}: ${v.type}, key ${v.keySize} B, value ${v.valueSize} B, max_entries ${v.maxEntries}`;
    if (!v.keyed) {
      const p = document.createElement("p");
      p.textContent = v.type === "ringbuf" ? "Records appear under Run on the Program tab." : "No keys to list for this map type.";
      div.append(h, p);
      return div;
    }
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th>key</th><th>value</th><th>key bytes</th></tr></thead>";
    const tb = document.createElement("tbody");
    for (const e of v.entries) {
      const tr = document.createElement("tr");
      for (const x of [e.key, e.value, e.raw]) { const td = document.createElement("td"); td.textContent = x; tr.append(td); }
      tb.append(tr);
    }
    table.append(tb);
    const form = document.createElement("form");
    form.className = "row";
    const key = Object.assign(document.createElement("input"), { placeholder: "key (hex)", size: 24, spellcheck: false });
    const val = Object.assign(document.createElement("input"), { placeholder: "value (hex)", size: 36, spellcheck: false });
    key.setAttribute("aria-label", `${v.name} key`);
    val.setAttribute("aria-label", `${v.name} value`);
    const upd = Object.assign(document.createElement("button"), { type: "submit", textContent: "Update" });
    const del = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
    const msg = document.createElement("span");
    msg.setAttribute("role", "status");
    const act = (f: () => void) => { try { f(); renderMaps(); } catch (e) { msg.textContent = e instanceof Error ? e.message : String(e); } };
    form.addEventListener("submit", (e) => { e.preventDefault(); act(() => P.updateMap(m, key.value, val.value)); });
    del.addEventListener("click", () => act(() => P.deleteMapKey(m, key.value)));
    form.append(key, val, upd, del, msg);
    div.append(h, table, form);
    return div;
  }));
}

// ---------------------------------------------------------------- Trace tab

let traceRun: TraceRun | undefined;
const traceEditor = createEditor($("trace-editor"), "bpftrace", get("script"), "bpftrace script", () => set("script", traceEditor.text()));
$("trace-note").textContent = "Run compiles the script with bpfkit's bpftrace front end and runs it on the VM over a synthetic " +
  "block-I/O stream (tracepoint:block:block_rq_issue: args->bytes, args->rwbs, args->comm, args->sector), or over an event " +
  "file you choose: JSON lines as bpfkit exporter --vm.replay reads them ({\"tracepoint\":\"CAT/NAME\",\"comm\":…,\"pid\":…," +
  "\"record\":\"HEX\",\"repeat\":N}), any tracepoint with a bundled format. Stop (or the file's end) runs END and prints the " +
  "maps as bpfkit trace prints them.";
function runTrace(batches = Infinity, stream?: { text: string; name: string }): TraceRun | undefined {
  traceRun?.stop();
  traceRun = undefined;
  const s = P.TraceSession.open(traceEditor.text());
  if (!(s instanceof P.TraceSession)) {
    traceEditor.showError(s);
    $("trace-out").textContent = s.text;
    $("trace-maps").replaceChildren();
    return undefined;
  }
  traceEditor.showError(undefined);
  if (stream) {
    try {
      const events = P.parseEventStream(stream.text, stream.name);
      s.useStream(events);
      $("trace-stream").textContent = `${stream.name}: ${events.length} events`;
    } catch (e) {
      $("trace-out").textContent = `ERROR: ${(e as Error).message}\n`;
      $("trace-stream").textContent = "";
      return undefined;
    }
  } else $("trace-stream").textContent = "";
  traceRun = startTrace(s, $("trace-maps"), $("trace-out"), batches);
  return traceRun;
}
$("trace-go").addEventListener("click", () => { runTrace(); });
$<HTMLInputElement>("trace-file").addEventListener("change", (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void f.text().then((text) => { runTrace(Infinity, { text, name: f.name }); });
});
$("trace-stop").addEventListener("click", () => traceRun?.stop());

// ---------------------------------------------------------------- start

const initial = (TABS as readonly string[]).includes(get("tab")) ? (get("tab") as Tab) : "filter";
selectTab(initial);
const ready = track(Promise.all([refreshFilter(), refreshProgram()]));
document.body.dataset.ready = "0";
void ready.then(() => { document.body.dataset.ready = "1"; });

/** Hooks for the browser tests and the bench (the same functions the controls call). */
(globalThis as Record<string, unknown>).bpfkitPage = {
  ready, refreshFilter, refreshProgram, runProgram, filterBytes, runOnCpus,
  async verifyAndDraw(asm: string): Promise<number> {
    const v = P.verifySource({ asm, fileName: "bench.s" }, 0, nrCpus);
    const svg = await drawGraph($("prog-cfg"), v.units[0]?.dot ?? "", v.units[0]?.failingNodes ?? []);
    return svg?.querySelectorAll("g.node").length ?? 0;
  },
  verifyOnly: (asm: string) => Promise.resolve(P.verifySource({ asm, fileName: "bench.s" }, 0, nrCpus).units[0]?.accepted),
  syntheticProgram: P.syntheticProgram,
  /** compiles a bpftrace script and fires `events` synthetic block-I/O events through it (the bench) */
  traceEvents: (src: string, events: number) => Promise.resolve(P.traceScript(src, events).length),
  filterOneCpu: (bytes: Uint8Array, expr: string) => Promise.resolve(P.filterCapture(bytes, expr)),
  workerCpus,
  /** runs the Trace tab's script for `batches` ticks of 200 events and resolves once the exit dump is printed */
  async runTrace(batches: number): Promise<void> { await runTrace(batches)?.done; },
  /** runs the Trace tab's script over an uploaded event stream's text to its end */
  async runTraceStream(text: string, name: string): Promise<void> { await runTrace(Infinity, { text, name })?.done; },
};
