// The Trace tab's live view: a bpftrace script compiled by src/trace runs on bpfkit's VM (TraceSession in
// playground.ts, no DOM) over the synthetic block-I/O stream fed as tracepoint:block:block_rq_issue records (or an uploaded event stream), 200 events
// 20 times a second. printf output streams into the output pane; hist()/lhist() maps are drawn as bars and the other
// maps as tables, both read from src/trace's own map printer; Stop runs END and prints the exit dump as bpfkit trace does.
import type { LiveMap, TraceSession } from "./playground.ts";

export interface TraceRun { stop(): void; readonly done: Promise<void> }

/** Draws labelled counts as a bar chart into `host`. */
export function drawBars(host: HTMLElement, bars: readonly { label: string; count: bigint }[]): void {
  let top = 0n, total = 0n;
  for (const b of bars) { if (b.count > top) top = b.count; total += b.count; }
  host.replaceChildren();
  for (const b of bars) {
    const label = document.createElement("span");
    label.textContent = b.label;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${top > 0n ? (Number(b.count) / Number(top)) * 100 : 0}%`;
    const n = document.createElement("span");
    n.textContent = String(b.count);
    host.append(label, bar, n);
  }
  host.setAttribute("aria-label", `histogram of ${total} events`);
}

/** Draws every map of the script into `host`: one chart per hist key group, one table per other map. */
export function drawMaps(host: HTMLElement, maps: readonly LiveMap[]): void {
  host.replaceChildren();
  for (const m of maps) {
    if (m.kind === "hist") {
      for (const g of m.groups) {
        const h = document.createElement("h3");
        h.textContent = g.key;
        const chart = document.createElement("div");
        chart.className = "chart";
        chart.setAttribute("role", "img");
        drawBars(chart, g.bars);
        host.append(h, chart);
      }
    } else {
      const h = document.createElement("h3");
      h.textContent = m.name;
      const table = document.createElement("table");
      table.className = "trace-map";
      for (const [k, v] of m.rows) {
        const tr = document.createElement("tr");
        const a = document.createElement("td"), b = document.createElement("td");
        a.textContent = k;
        b.textContent = v;
        tr.append(a, b);
        table.append(tr);
      }
      host.append(h, table);
    }
  }
}

/** Runs `session` live until Stop, `batches` ticks, or the script's exit(); then prints the exit dump. */
export function startTrace(session: TraceSession, maps: HTMLElement, out: HTMLElement, batches = Infinity): TraceRun {
  let n = 0, finished = false, resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  out.textContent = "";
  const show = () => {
    out.textContent += session.takeOutput();
    drawMaps(maps, session.maps());
  };
  const stop = () => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    out.textContent += session.takeOutput() + session.finish();
    drawMaps(maps, session.maps());
    resolve();
  };
  const tick = () => {
    session.feed(200);
    show();
    if (++n >= batches || session.vm.exited || session.exhausted) stop();
  };
  const timer = setInterval(tick, 50);
  show();
  return { stop, done };
}
