// Control-flow graphs drawn by Graphviz compiled to WebAssembly (@viz-js/viz): the DOT text bpftool's `visual` mode
// prints for eBPF (src/object xlatedDot) or the playground's classic-BPF graph, rendered to SVG in the tab. Chosen over
// ELK after measuring: on a 1,000-insn program (399 blocks) viz lays out and draws in ~0.2-0.6 s, elkjs needs ~1.2-1.5 s
// for the layout alone and no drawing, and viz reads bpftool's DOT as is.
import type { Viz } from "@viz-js/viz";

let viz: Promise<Viz> | undefined;

/** Loads Graphviz on first use (it is the largest part of the bundle, so first paint does not wait for it). */
export function graphviz(): Promise<Viz> {
  viz ??= import("@viz-js/viz").then((m) => m.instance());
  return viz;
}

/** Draws `dot` into `host`; nodes named in `marked` get the class `failing` (and an aria label saying so). */
export async function drawGraph(host: HTMLElement, dot: string, marked: readonly string[] = []): Promise<SVGSVGElement | null> {
  host.replaceChildren();
  if (dot === "") return null;
  // Courier metrics for layout, so the boxes fit the monospace text the browser draws (see app.css)
  const svg = (await graphviz()).renderSVGElement(dot, { nodeAttributes: { fontname: "Courier", fontsize: 11 }, edgeAttributes: { fontname: "Courier", fontsize: 10 }, graphAttributes: { fontname: "Courier", fontsize: 11 } });
  const set = new Set(marked);
  for (const g of Array.from(svg.querySelectorAll("g.node"))) {
    const name = g.querySelector("title")?.textContent ?? "";
    g.setAttribute("data-node", name);
    if (set.has(name)) {
      g.classList.add("failing");
      g.setAttribute("aria-label", `${name}: on the failing path`);
    }
  }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `control-flow graph, ${svg.querySelectorAll("g.node").length} nodes${marked.length ? `, ${marked.length} on the failing path` : ""}`);
  host.append(svg);
  return svg;
}
