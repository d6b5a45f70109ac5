// bpftrace's diagnostics: `FILE:LINE:COL-END: ERROR: message`, then the source line and a `~` marker under the span
// (tabs widened to four columns); a span over several lines prints `FILE:LINE-ENDLINE: ERROR: message` only.
import { BpfError } from "../errors.ts";
import type { Loc } from "./ast.ts";

export class TraceError extends BpfError {
  constructor(readonly msg: string, readonly loc: Loc | undefined, readonly kind: "ERROR" | "WARNING" | "FATAL" = "ERROR") {
    super("PARSE", loc ? `${loc.line}:${loc.col}-${loc.endCol}: ${msg}` : msg, loc ? { line: loc.line, column: loc.col } : {});
  }
}

/** Several diagnostics from one pass (bpftrace's semantic analyser reports every error it finds). */
export class TraceErrors extends BpfError {
  constructor(readonly errors: readonly TraceError[]) {
    super("PARSE", errors.map((e) => e.message).join("\n"), errors[0]?.location ?? {});
  }
}

/** One diagnostic as bpftrace prints it to stderr (ends with a newline). */
export function formatDiagnostic(source: string, filename: string, e: TraceError): string {
  const l = e.loc;
  if (!l) return `${e.kind}: ${e.msg}\n`;
  const head = filename ? `${filename}:` : "";
  if (l.line < l.endLine) return `${head}${l.line}-${l.endLine}: ${e.kind}: ${e.msg}\n`;
  let out = `${head}${l.line}:${l.col}-${l.endCol}: ${e.kind}: ${e.msg}\n`;
  const src = source.split("\n")[l.line - 1] ?? "";
  if (src === "") return out;
  out += src.replace(/\t/g, "    ") + "\n";
  let marker = "";
  for (let x = 0; x < src.length && x < l.endCol - 1; x++) {
    const m = x < l.col - 1 ? " " : "~";
    marker += src[x] === "\t" ? m.repeat(4) : m;
  }
  return out + marker + "\n";
}

/** Every diagnostic carried by an error thrown from the front end. */
export function formatErrors(source: string, filename: string, e: unknown): string | undefined {
  if (e instanceof TraceErrors) return e.errors.map((x) => formatDiagnostic(source, filename, x)).join("");
  if (e instanceof TraceError) return formatDiagnostic(source, filename, e);
  return undefined;
}
