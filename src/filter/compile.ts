// pcap_compile: expression → classic BPF, through the three inspectable stages (parse → block graph → optimizer)
// and the final layout. Errors are BpfErrors carrying libpcap's message text.
import { BpfError } from "../errors.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import type { Node } from "./ast.ts";
import type { ICode } from "./blocks.ts";
import { parseFilter } from "./parser.ts";
import { generate, UNREDUCED } from "./generate.ts";
import { optimizeBlocks } from "./optimize.ts";
import { linearize } from "./linearize.ts";
import { newCompilerState } from "./state.ts";
import { linkTypeByName } from "./linktypes.ts";

export interface CompileOptions {
  /** Link type name as tcpdump -y takes it (default EN10MB), or a DLT number. */
  readonly linktype?: string | number;
  /** Run the optimizer (tcpdump does unless -O). Default true. */
  readonly optimize?: boolean;
  /** Snapshot length returned for accepted packets (tcpdump's default 262144). */
  readonly snaplen?: number;
  /** Compiling for a capture file (tcpdump -r): refuses the Linux-socket-only tests as libpcap does. */
  readonly readingFile?: boolean;
  /** The capture file's byte order differs from the host's (libpcap's `swapped`): DLT_NULL/ENC headers then hold
   * the address family in the file's order. Only meaningful with readingFile. */
  readonly swapped?: boolean;
  /** The netmask pcap_compile is given (for `ip broadcast`); tcpdump passes 0 when it has none. */
  readonly netmask?: number;
}

export interface CompiledFilter {
  readonly insns: CbpfInsn[];
  readonly dlt: number;
}

export function resolveLinkType(lt: string | number | undefined): number {
  if (lt === undefined) return 1;
  if (typeof lt === "number") return lt;
  const r = linkTypeByName(lt);
  if (r === undefined) throw new BpfError("EINVAL", `invalid data link type ${lt}`);
  return r[1];
}

/** Stage 1 + 2: the unoptimized block graph, for inspection. */
export function buildBlockGraph(expr: string, opts: CompileOptions = {}): { ic: ICode; root: Node | null; noOptimize: boolean } {
  const dlt = resolveLinkType(opts.linktype);
  const cs = newCompilerState(dlt, opts.snaplen ?? 262144, opts.readingFile ?? false);
  cs.swapped = (opts.readingFile ?? false) && (opts.swapped ?? false);
  cs.netmask = (opts.netmask ?? 0) >>> 0;
  const { root, error } = parseFilter(expr);
  if (error !== undefined) {
    // libpcap runs grammar actions while parsing: a semantic error in what was reduced before the bad token wins.
    if (root !== null) {
      try {
        generate(cs, root);
      } catch (e) {
        if (e !== UNREDUCED) throw e;
      }
    }
    throw error;
  }
  const ic = generate(cs, root);
  return { ic, root, noOptimize: cs.noOptimize };
}

/** Compiles a filter expression exactly as libpcap 1.10's pcap_compile. */
export function compileFilter(expr: string, opts: CompileOptions = {}): CompiledFilter {
  try {
    return compileUnguarded(expr, opts);
  } catch (e) {
    // Extremely deep nesting exhausts the JavaScript stack where bison's parser stack would also overflow.
    if (e instanceof RangeError) throw new BpfError("PARSE", "can't parse filter expression: memory exhausted");
    throw e;
  }
}

function compileUnguarded(expr: string, opts: CompileOptions): CompiledFilter {
  const dlt = resolveLinkType(opts.linktype);
  if ((opts.snaplen ?? 262144) === 0) throw new BpfError("EINVAL", "snaplen of 0 rejects all packets");
  const { ic, noOptimize } = buildBlockGraph(expr, opts);
  if ((opts.optimize ?? true) && !noOptimize) {
    optimizeBlocks(ic);
    if (ic.root.s.code === 0x06 && ic.root.s.k === 0) throw new BpfError("PARSE", "expression rejects all packets");
  }
  return { insns: linearize(ic), dlt };
}
