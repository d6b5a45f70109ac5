// The Trace tab's live histogram: events arrive in batches, land in bpftrace hist() slots, and are drawn as bars and as
// the text bpftrace prints (both from the one formatter in src/trace/hist-format.ts, which has no imports and is
// browser-safe). Until the bpftrace front end (branch `trace`) is merged, the events are a synthetic stream.
import { bpftraceHistSlot, bpftraceLabel, formatBpftraceHistMap } from "../../src/trace/hist-format.ts";

export interface TraceRun { stop(): void; readonly counts: bigint[] }

/** Draws `counts` (bpftrace hist slots) as a bar chart into `host`. */
export function drawHistogram(host: HTMLElement, counts: readonly bigint[]): void {
  let lo = -1, hi = -1, top = 0n;
  counts.forEach((c, i) => { if (c > 0n) { if (lo < 0) lo = i; hi = i; } if (c > top) top = c; });
  host.replaceChildren();
  if (hi < 0) return;
  for (let i = lo; i <= hi; i++) {
    const c = counts[i] ?? 0n;
    const label = document.createElement("span");
    label.textContent = bpftraceLabel(i);
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${top > 0n ? (Number(c) / Number(top)) * 100 : 0}%`;
    const n = document.createElement("span");
    n.textContent = String(c);
    host.append(label, bar, n);
  }
  host.setAttribute("aria-label", `histogram of ${counts.reduce((a, b) => a + b, 0n)} events`);
}

/** Feeds a synthetic block-I/O-size stream (a mix of 4K pages, 64K-1M reads, a few small writes) 20 times a second. */
export function startTrace(chart: HTMLElement, out: HTMLElement, batches = Infinity): TraceRun {
  const counts: bigint[] = new Array(64).fill(0n);
  let seed = 1, n = 0;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const tick = () => {
    for (let i = 0; i < 200; i++) {
      const r = rnd();
      const v = r < 0.5 ? 4096 : r < 0.85 ? 65536 * (1 + Math.floor(rnd() * 15)) : Math.floor(rnd() * 4096);
      counts[bpftraceHistSlot(BigInt(v))]! += 1n;
    }
    drawHistogram(chart, counts);
    out.textContent = formatBpftraceHistMap("bytes", counts);
    if (++n >= batches) stop();
  };
  const timer = setInterval(tick, 50);
  const stop = () => clearInterval(timer);
  tick();
  return { stop, counts };
}
